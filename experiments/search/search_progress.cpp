#include "experiments/search/search_progress.hpp"

#include <algorithm>
#include <chrono>

namespace wgopt::experiments {

SearchProgress::SearchProgress(const Budget& budget, bool quiet)
    : budget_(budget), printer_(ProgressPrinter::for_stderr(quiet)), ticking_(!quiet) {
  state_.budget = budget.limits().wall;
  set_live_line(this);
  if (!ticking_.load()) return;  // --quiet: nothing to redraw
  ticker_ = std::thread([this] {
    while (ticking_.load()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      if (!ticking_.load()) break;
      std::lock_guard lk(mu_);
      redraw_locked();
    }
  });
}

SearchProgress::~SearchProgress() {
  ticking_ = false;
  if (ticker_.joinable()) ticker_.join();
  set_live_line(nullptr);
}

void SearchProgress::clear() {
  std::lock_guard lk(mu_);
  printer_.clear_line();
}

void SearchProgress::redraw() {
  std::lock_guard lk(mu_);
  printer_.redraw();
}

void SearchProgress::redraw_locked() {
  state_.elapsed = budget_.elapsed();
  state_.eta = eta_locked();
  printer_.update(state_);
}

std::optional<std::chrono::milliseconds> SearchProgress::eta_locked() const {
  using std::chrono::milliseconds;
  const auto& limits = budget_.limits();
  const std::optional<milliseconds> to_wall =
      limits.wall ? std::optional(std::max(milliseconds(0), *limits.wall - budget_.elapsed())) : std::nullopt;
  if (state_.phase == "baseline" || state_.phase == "trial" || state_.phase == "re-measure") {
    const auto trials = budget_.eta();  // the trials' end; the reserve follows them
    // No trial left (a resume of a study whose cap was reached) and no budget: what follows is not
    // bounded by anything known (it read "ETA 0.0s" over the baseline and confirmation to come).
    if (!trials || (*trials == milliseconds(0) && !to_wall)) return to_wall;
    const milliseconds end = *trials + limits.reserve;
    return to_wall ? std::min(end, *to_wall) : end;
  }
  // Confirmation and checks spend what is left of a wall budget, unless the trial cap ended the
  // search early: then their rounds are not tied to the budget's end, and no ETA is shown.
  const bool capped = limits.max_trials && budget_.trials() >= *limits.max_trials;
  return capped ? std::nullopt : to_wall;
}

void SearchProgress::show(const std::string& phase, int step, std::optional<int> of) {
  std::lock_guard lk(mu_);
  state_.phase = phase;
  state_.step = step;
  state_.steps = of;
  redraw_locked();
}

std::string SearchProgress::line() {
  std::lock_guard lk(mu_);
  state_.elapsed = budget_.elapsed();
  state_.eta = eta_locked();
  return render_progress(state_);
}

void SearchProgress::say(const std::string& line) {
  std::lock_guard lk(mu_);
  printer_.message(line);
}

std::vector<std::pair<std::string, std::string>> changed_knobs(const std::map<std::string, std::string>& values,
                                                               const std::map<std::string, std::string>& baseline) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [id, val] : values) {
    auto it = baseline.find(id);
    if (it == baseline.end() || it->second != val) out.emplace_back(id, val);
  }
  return out;
}

void SearchProgress::set_candidate(const std::map<std::string, std::string>& values, const std::map<std::string, std::string>& baseline) {
  set_knobs(changed_knobs(values, baseline));
}

void SearchProgress::set_knobs(std::vector<std::pair<std::string, std::string>> knobs) {
  std::lock_guard lk(mu_);
  state_.knobs = std::move(knobs);
}

void SearchProgress::set_best(double score) {
  std::lock_guard lk(mu_);
  state_.best_score = score;
}

void SearchProgress::set_baseline(double score) {
  std::lock_guard lk(mu_);
  state_.baseline_score = score;
}

void SearchProgress::finish() {
  std::lock_guard lk(mu_);
  printer_.finish();
}

}  // namespace wgopt::experiments

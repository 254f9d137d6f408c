#include "experiments/search/search_progress.hpp"

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
  state_.eta = budget_.eta();
  printer_.update(state_);
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
  state_.eta = budget_.eta();
  return render_progress(state_);
}

void SearchProgress::say(const std::string& line) {
  std::lock_guard lk(mu_);
  printer_.message(line);
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

#include "experiments/study/budget.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::experiments {

using std::chrono::milliseconds;

BudgetLimits parse_budget(const std::string& budget_text, std::optional<int> trials) {
  BudgetLimits l;
  if (!trim(budget_text).empty()) {
    l.wall = parse_duration(budget_text, "--budget");
    // Refused here, before a study file exists: an absurd budget used to overflow into a negative
    // time and fail after the study was created, leaving it "running".
    if (*l.wall > kMaxBudget) {
      throw UsageError(
          fmt::format("--budget '{}' is too long: use at most 7d (a search converges in hours)", budget_text));
    }
    if (*l.wall < kMinBudget) {
      throw UsageError(fmt::format("--budget '{}' is too short: use at least 1s (a trial takes seconds)", budget_text));
    }
  }
  if (trials) {
    if (*trials < 1) throw UsageError(fmt::format("--trials {} is too small: use 1 or more", *trials));
    l.max_trials = *trials;
  }
  if (!l.wall && !l.max_trials) {
    throw UsageError("no budget given: pass --budget (e.g. --budget 5m) and/or --trials N");
  }
  return l;
}

Budget::Budget(BudgetLimits limits, SteadyClock clock)
    : limits_(limits), clock_(clock ? std::move(clock) : SteadyClock([] { return std::chrono::steady_clock::now(); })) {
  if (limits_.reserve < milliseconds(0)) throw UsageError("budget reserve is negative: use 0 or more");
  if (limits_.wall && limits_.reserve >= *limits_.wall) {
    throw UsageError(fmt::format("--budget {} leaves no time for trials after the {} needed to confirm and restore: "
                                 "use a larger budget",
                                 format_duration(*limits_.wall), format_duration(limits_.reserve)));
  }
  start_ = clock_();
}

void Budget::add_previous_trials(int count) {
  if (count < 0) throw Error(fmt::format("previous trial count {} is negative", count));
  previous_ += count;
}

void Budget::trial_started() {
  if (running_since_) throw Error("budget: a trial was started while another one is still running");
  running_since_ = clock_();
  ++started_;
}

void Budget::trial_finished() {
  if (!running_since_) throw Error("budget: a trial was finished that was never started");
  finished_total_ += clock_() - *running_since_;
  ++finished_;
  running_since_.reset();
}

void Budget::trial_voided() {
  if (!running_since_) throw Error("budget: a trial was voided that was never started");
  running_since_.reset();
  --started_;
}

milliseconds Budget::elapsed() const { return std::chrono::duration_cast<milliseconds>(clock_() - start_); }

std::optional<milliseconds> Budget::remaining() const {
  if (!limits_.wall) return std::nullopt;
  milliseconds left = *limits_.wall - limits().reserve - elapsed();
  return left > milliseconds(0) ? left : milliseconds(0);
}

std::optional<milliseconds> Budget::mean_trial() const {
  if (finished_ == 0) return std::nullopt;
  return std::chrono::duration_cast<milliseconds>(finished_total_ / finished_);
}

std::optional<milliseconds> Budget::eta() const {
  std::optional<milliseconds> by_cap;
  if (limits_.max_trials) {
    auto mean = mean_trial();
    int left = std::max(0, *limits_.max_trials - trials());
    if (left == 0) by_cap = milliseconds(0);
    else if (mean) by_cap = *mean * left;
  }
  auto by_time = remaining();
  if (by_cap && by_time) return std::min(*by_cap, *by_time);
  return by_cap ? by_cap : by_time;
}

std::string Budget::stop_reason() const {
  if (limits_.max_trials && trials() >= *limits_.max_trials) {
    return fmt::format("trial cap of {} reached", *limits_.max_trials);
  }
  if (auto left = remaining()) {
    // With a reserve the trials end before the budget does: say whose share is spent.
    const milliseconds reserve = limits().reserve;
    const std::string budget = reserve > milliseconds(0)
                                   ? fmt::format("the trials' share of the budget {} ({} held back to confirm the winner "
                                                 "and restore the host)",
                                                 format_duration(*limits_.wall), format_duration(reserve))
                                   : fmt::format("budget {}", format_duration(*limits_.wall));
    if (*left <= milliseconds(0)) return budget + " spent";
    if (auto mean = mean_trial(); mean && *left < *mean) {
      return fmt::format("{} nearly spent: {} left, a trial takes about {}", budget, format_duration(*left), format_duration(*mean));
    }
  }
  return {};
}

BudgetLimits Budget::limits() const {
  BudgetLimits l = limits_;
  l.reserve -= released();
  return l;
}

void Budget::release_reserve(milliseconds amount) {
  if (amount < milliseconds(0)) throw Error(fmt::format("budget: a negative release of the reserve ({} ms)", amount.count()));
  released_ms_ = std::min(limits_.reserve, released() + amount).count();
}

void Budget::restore_reserve() {
  if (released() > milliseconds(0)) restored_ = true;
  released_ms_ = 0;
}

bool Budget::may_start_trial() const { return stop_reason().empty(); }

}  // namespace wgopt::experiments

#pragma once
// The search budget: wall-clock (`--budget 90s | 5m | 2h`) and/or a trial cap (`--trials N`).
// The rule that keeps the promise "never overruns by more than one trial": a trial may start only
// while time is left and, once a trial time has been measured, only if the mean trial time still
// fits in what is left. Only the last trial can then run past the end, and only by its own length.
// Time comes from an injected clock so tests can drive it.
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace wgopt::experiments {

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

struct BudgetLimits {
  std::optional<std::chrono::milliseconds> wall;  // nullopt: no time limit
  std::optional<int> max_trials;                  // nullopt: no cap
  // Held back at the end of the wall budget for what follows the search (confirmation rounds,
  // persisting, restoring), so the whole command fits in `wall`.
  std::chrono::milliseconds reserve{0};
};

// The wall budgets parse_budget accepts.
inline constexpr std::chrono::milliseconds kMinBudget{1000};
inline constexpr std::chrono::milliseconds kMaxBudget{7LL * 24 * 3600 * 1000};

// From the user's `--budget TEXT` (empty: none; parsed with common/util.hpp parse_duration) and
// `--trials N`. Throws UsageError naming the option when the text is not a duration or outside
// 1s..7d, N < 1, or neither is given (an unbounded search is never what a user wants).
BudgetLimits parse_budget(const std::string& budget_text, std::optional<int> trials);

class Budget {
 public:
  // Starts counting now (clock()). Default clock: std::chrono::steady_clock::now. Throws
  // UsageError if reserve is negative or not smaller than wall.
  explicit Budget(BudgetLimits limits, SteadyClock clock = {});

  // Trials already run in an earlier session of a resumed study: they count toward max_trials
  // (not toward elapsed time, which is this session's).
  void add_previous_trials(int count);
  // Mark the start and end of a trial; the measured durations give the mean trial time.
  // Throws wgopt::Error on start while a trial runs or finish without start.
  void trial_started();
  void trial_finished();
  // Ends the running trial as if it had not been started: an outage outside wgopt voided it, so it
  // neither counts toward max_trials nor enters the mean trial time.
  void trial_voided();

  int trials() const { return previous_ + started_; }  // started so far, including previous ones
  std::chrono::milliseconds elapsed() const;
  // Time left for trials (wall - reserve - elapsed, never negative); nullopt without a wall limit.
  std::optional<std::chrono::milliseconds> remaining() const;
  // Mean duration of the trials finished in this session; nullopt before the first one finishes.
  std::optional<std::chrono::milliseconds> mean_trial() const;
  // Estimated time until the search phase ends: the smaller of `remaining` and the trials left
  // under the cap times the mean trial time. nullopt when neither can be estimated yet.
  std::optional<std::chrono::milliseconds> eta() const;

  // True if the loop may start another trial now (see the rule at the top).
  bool may_start_trial() const;
  // Why not, in one line ("trial cap of 20 reached", "budget 5m nearly spent: 40s left, a trial
  // takes about 55s"; with a reserve "the trials' share of the budget 5m (1m 40s held back to
  // confirm the winner and restore the host) spent"); empty while may_start_trial() is true.
  std::string stop_reason() const;

  // Gives `amount` of the reserve back to the trials (never below none): the search does so with the
  // time held for the winner simplification's checks when the model has nothing to check, so the
  // trials run until the smaller reserve. restore_reserve() takes it back (a later trial made a winner
  // with changes to check; restored() says so from then on); released() is what is given back now.
  // The progress line's thread reads the reserve while the trials' thread changes it: it is atomic.
  // Throws wgopt::Error on a negative amount.
  void release_reserve(std::chrono::milliseconds amount);
  void restore_reserve();
  std::chrono::milliseconds released() const { return std::chrono::milliseconds(released_ms_.load()); }
  bool restored() const { return restored_; }

  // As given, but for the reserve: what is held back now (less what was released).
  BudgetLimits limits() const;

 private:
  BudgetLimits limits_;
  SteadyClock clock_;
  std::chrono::steady_clock::time_point start_;
  std::optional<std::chrono::steady_clock::time_point> running_since_;
  int previous_ = 0;
  int started_ = 0;
  int finished_ = 0;
  std::chrono::steady_clock::duration finished_total_{};
  std::atomic<long long> released_ms_{0};
  bool restored_ = false;
};

}  // namespace wgopt::experiments

#pragma once
// A fleet's nightly retunes share iperf3 servers: when the server a host measures against is busy
// with another host's test, `wgopt retune` waits and tries again (exponential backoff with jitter,
// within its budget) instead of failing the night. The timer's RandomizedDelaySec spreads the starts;
// this handles the collisions that remain.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "common/exec.hpp"
#include "common/place.hpp"
#include "experiments/search/search.hpp"

namespace wgopt::experiments {

struct BusyBackoff {
  double first_s = 15;    // the first wait
  double factor = 2;      // each next wait is this much longer ...
  double max_s = 240;     // ... up to this
  double jitter = 0.5;    // each wait is scaled by a factor in [1 - jitter, 1 + jitter)
  double min_run_s = 60;  // a run needs at least this much of the budget left to start
};

// The wait before retry `attempt` (1, 2, ...): min(max_s, first_s * factor^(attempt-1)) scaled by
// 1 + jitter * (2u - 1), with u in [0, 1) (the caller's random draw). Pure.
double backoff_delay(const BusyBackoff& b, int attempt, double u);

// Whether the iperf3 server the search would measure against answers "busy" to a 1 s test from
// the search's client place (a free server runs it: one second of load). Any other failure is
// left to the search to report (false).
bool iperf3_server_busy(const SearchOptions& o, CommandRunner& runner);

// The seams of run_retune_with_backoff (tests give a clock and a sleep that do not wait).
struct RetuneWaitEnv {
  std::function<bool(const SearchOptions&)> server_busy;
  std::function<SearchReport(const SearchOptions&)> run;
  std::function<double()> now_s;                 // a monotonic clock, seconds
  std::function<void(double seconds)> sleep;     // returns early when interrupted
  std::function<double()> uniform;               // a draw in [0, 1)
  std::function<void(const std::string&)> say;   // progress lines (stderr)
};
RetuneWaitEnv default_retune_wait_env(const std::atomic<bool>& interrupted);

// Runs the retune's search: while the server is busy (before the search, or when the search failed
// and the server is busy now) it waits backoff_delay() and tries again, each run getting the budget
// that is left (options.budget: the whole run's). Throws Error naming the server when it stays busy
// until less than min_run_s of the budget is left, and whatever the search throws otherwise.
SearchReport run_retune_with_backoff(SearchOptions options, const BusyBackoff& backoff, const RetuneWaitEnv& env,
                                     const std::atomic<bool>& interrupted);

}  // namespace wgopt::experiments

#pragma once
// Runs one iperf3 client scenario in a Place (the host, or the testbed's client namespace) through
// a CommandRunner, with a hard timeout that kills a hung client and an early-stop hook.
//
// Early stop: when RunControl::should_stop returns true, the client gets SIGINT (through the pid
// file it writes with -I), which makes iperf3 print its JSON with the intervals measured so far;
// the result is stopped_early with those intervals and no summary. If iperf3 has not written its
// pid yet (still connecting) or ignores SIGINT for stop_grace, it is killed and the result is
// stopped_early with whatever it printed (usually nothing). iperf3 3.12 prints -J output only at
// the end, so a live per-second rate during the run must come from elsewhere (interface byte
// counters, probes/); the intervals here are for recording what a stopped run did measure.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/exec.hpp"
#include "common/place.hpp"
#include "workload/iperf3_result.hpp"
#include "workload/scenario.hpp"

namespace wgopt::workload {

struct RunControl {
  // Polled about every 50 ms from the thread that called run_scenario; true = stop this run now.
  std::function<bool()> should_stop;
  // After SIGINT, how long iperf3 gets to print its partial report before it is killed.
  std::chrono::milliseconds stop_grace{3000};
  // Hard timeout = duration + connect timeout + this margin (+ stop_grace when should_stop is set).
  // Covers start-up, the results exchange at the end, and a loaded machine.
  std::chrono::milliseconds timeout_margin{15000};
  // "Server is busy" is retried this many times, busy_wait apart: an iperf3 server takes a moment
  // to accept a new test after its previous client was interrupted (seen on loopback here).
  int busy_retries = 5;
  std::chrono::milliseconds busy_wait{1000};
  // "Connection refused" is retried this many times, refused_wait apart: iperf3 closes its listening
  // socket between tests (cleanup_server), so a client that starts just after an interrupted one
  // can find no listener (seen in CI on loopback). A server that is down is reported ~1 s later.
  int refused_retries = 4;
  std::chrono::milliseconds refused_wait{250};
  // Called before each retry of a busy server (busy true) or of one that refused the connection
  // (busy false: not listening, yet or any more): what the caller measured alongside the failed
  // attempt (the probes, a per-second series) belongs to no measurement. This is the only retry of a
  // busy server in wgopt; callers hook it rather than retrying again around run_scenario.
  std::function<void(bool busy)> on_retry;
  // Where the client's pid file goes (only when should_stop is set); shared by every namespace.
  std::string pidfile_dir = "/tmp";
};

// The timeout after which the client is killed.
std::chrono::milliseconds hard_timeout(const ClientOptions& opts, const RunControl& control = {});

// "100.64.0.1:5201 from netns wgopt-cli", for messages.
std::string describe_target(const ClientOptions& opts, const Place& place);

// Runs `scenario` against opts.server:opts.port from `place` (retrying a busy server, see
// RunControl). Throws UsageError for invalid options (before anything runs); every other outcome,
// including failures, is in the returned RunResult's status and one-line message (see RunStatus).
// Never returns invented numbers: only an ok result has a summary.
RunResult run_scenario(const Scenario& scenario, const ClientOptions& opts, const Place& place,
                       CommandRunner& runner, const RunControl& control = {});

// Throws wgopt::Error(result.message) unless the result is ok or stopped_early.
void throw_if_failed(const RunResult& result);

// The server's host answered with a reset: nothing listens on the port (the server is down).
bool connection_refused(const RunResult& r);

}  // namespace wgopt::workload

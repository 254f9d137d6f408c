#pragma once
// What one iperf3 client run measured, and the pure parser that reads it from iperf3's -J output.
// Numbers come only from iperf3's own JSON: a run that did not finish has no Summary (never zeros
// standing in for "unknown"), only the per-second intervals it did print.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wgopt::workload {

// How a run ended. Everything but ok and stopped_early is a failure with its own fix.
enum class RunStatus {
  ok,              // finished; summary present
  stopped_early,   // the caller's should_stop ended it; intervals up to then, no summary
  server_busy,     // "the server is busy running a test"
  connect_failed,  // refused, unreachable, no route, connect timeout
  timed_out,       // the hard timeout killed a hung client
  empty_output,    // iperf3 printed nothing on stdout
  invalid_json,    // stdout is not one complete JSON document (truncated, garbled)
  missing_binary,  // iperf3 is not installed where the run happens
  iperf3_error,    // any other error iperf3 reported (its text is in RunResult::iperf3_error)
};

// "ok", "stopped-early", "server-busy", "connect-failed", "timed-out", "empty-output",
// "invalid-json", "missing-binary", "iperf3-error"; stable, for JSON files and tests.
const char* status_name(RunStatus status);

// True for a failure that is not the scenario's but the path's or the tool's (no connection, no
// iperf3, a server held by someone else): every later scenario against that server would fail the
// same way, so a sequence of scenarios stops at the first.
bool fails_every_scenario(RunStatus status);

// One entry of intervals[].sum: the client's own view of one reporting interval (1 s by default;
// the last one of a stopped run is shorter). The client is the sender in tcp/udp/single and the
// receiver in tcp-rev, so these are send rates there and receive rates in tcp-rev.
struct Interval {
  double start = 0;             // seconds since the test started
  double seconds = 0;           // length of the interval
  std::uint64_t bytes = 0;
  double bits_per_second = 0;
  bool omitted = false;         // inside iperf3's --omit warm-up
  std::optional<std::int64_t> retransmits;  // TCP sender side only
  std::optional<std::int64_t> packets;      // UDP
  std::optional<std::int64_t> lost_packets; // UDP receiver side only (UDP with -R)
  std::optional<double> jitter_ms;          // UDP receiver side only
};

// The end-of-test summary; only a finished run has one.
struct Summary {
  double seconds = 0;
  double received_bps = 0;           // end.sum_received.bits_per_second: what arrived
  double sent_bps = 0;               // end.sum_sent.bits_per_second: what was offered
  std::uint64_t received_bytes = 0;
  std::uint64_t sent_bytes = 0;
  std::optional<std::int64_t> retransmits;  // TCP: end.sum_sent.retransmits
  std::optional<double> loss_percent;       // UDP
  std::optional<std::int64_t> lost_packets; // UDP
  std::optional<std::int64_t> packets;      // UDP: datagrams the receiver expected
  std::optional<double> jitter_ms;          // UDP
  // UDP figures came from the legacy end.sum (iperf3 < 3.11 has no UDP sum_received); received_bps
  // is then end.sum's sender rate scaled by (1 - loss), the receiver rate that loss implies.
  bool udp_from_legacy_sum = false;
  double cpu_host_total = 0;         // end.cpu_utilization_percent.host_total (client, %)
  double cpu_remote_total = 0;       // .remote_total (server, %)
  std::string sender_congestion;     // "cubic", "bbr"; empty for UDP
};

struct RunResult {
  std::string scenario;          // scenario name ("tcp", ...); empty when parsed without one
  RunStatus status = RunStatus::ok;
  std::string message;           // one line naming what happened and the fix; empty when ok
  std::string iperf3_error;      // the JSON's top-level "error" text, verbatim, if any
  bool udp = false;              // from start.test_start when present
  bool reverse = false;
  int parallel = 0;
  std::optional<Summary> summary;
  std::vector<Interval> intervals;
  double wall_seconds = 0;       // how long the client process ran
  std::string raw_json;          // iperf3's stdout, for --json dumps

  bool ok() const { return status == RunStatus::ok; }
  // Finished or stopped on request: not a failure of the path or the tools.
  bool usable() const { return status == RunStatus::ok || status == RunStatus::stopped_early; }
  // bits_per_second of each non-omitted interval, in order: the series early stopping looks at.
  std::vector<double> series_bps() const;
};

// Parses iperf3 -J stdout. Never throws: the outcome is in status/message. Checks the top-level
// "error" key first (iperf3 3.12 exits 0 when it cannot connect). `target` names the server for
// messages ("100.64.0.1:5201 from netns wgopt-cli").
//   - no "error" and a full end section            -> ok with summary
//   - "error": "interrupt - the client has terminated" -> stopped_early, intervals only
//   - "error": busy / unable to connect / other    -> server_busy / connect_failed / iperf3_error
//   - blank text -> empty_output; unparsable or incomplete -> invalid_json
RunResult parse_iperf3_json(std::string_view json, const std::string& target = "the iperf3 server");

}  // namespace wgopt::workload

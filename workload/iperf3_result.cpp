#include "workload/iperf3_result.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/util.hpp"

namespace wgopt::workload {

using nlohmann::json;

const char* status_name(RunStatus status) {
  switch (status) {
    case RunStatus::ok: return "ok";
    case RunStatus::stopped_early: return "stopped-early";
    case RunStatus::server_busy: return "server-busy";
    case RunStatus::connect_failed: return "connect-failed";
    case RunStatus::timed_out: return "timed-out";
    case RunStatus::empty_output: return "empty-output";
    case RunStatus::invalid_json: return "invalid-json";
    case RunStatus::missing_binary: return "missing-binary";
    case RunStatus::iperf3_error: return "iperf3-error";
  }
  return "unknown";
}

bool fails_every_scenario(RunStatus status) {
  return status == RunStatus::connect_failed || status == RunStatus::missing_binary || status == RunStatus::server_busy;
}

std::vector<double> RunResult::series_bps() const {
  std::vector<double> out;
  for (const auto& i : intervals) {
    if (!i.omitted) out.push_back(i.bits_per_second);
  }
  return out;
}

namespace {

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::optional<double> number(const json& obj, const char* key) {
  const json* v = member(obj, key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

std::optional<std::int64_t> integer(const json& obj, const char* key) {
  const json* v = member(obj, key);
  if (!v || !v->is_number()) return std::nullopt;
  if (!v->is_number_float()) return v->get<std::int64_t>();
  // A double outside int64's range (1e300) has no integer value: converting it is undefined.
  const double d = v->get<double>();
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return std::nullopt;
  return static_cast<std::int64_t>(d);
}

std::uint64_t bytes_of(const json& obj) {
  auto b = integer(obj, "bytes");
  return b && *b > 0 ? static_cast<std::uint64_t>(*b) : 0;
}

Interval parse_interval(const json& sum) {
  Interval i;
  i.start = number(sum, "start").value_or(0);
  i.seconds = number(sum, "seconds").value_or(0);
  i.bytes = bytes_of(sum);
  i.bits_per_second = number(sum, "bits_per_second").value_or(0);
  if (const json* o = member(sum, "omitted"); o && o->is_boolean()) i.omitted = o->get<bool>();
  i.retransmits = integer(sum, "retransmits");
  i.packets = integer(sum, "packets");
  i.lost_packets = integer(sum, "lost_packets");
  i.jitter_ms = number(sum, "jitter_ms");
  return i;
}

// The end summary, or nullopt when `end` lacks what a finished run always has.
std::optional<Summary> parse_summary(const json& end, bool udp) {
  const json* received = member(end, "sum_received");
  const json* sent = member(end, "sum_sent");
  Summary s;
  if (udp && !received) {
    // iperf3 before 3.11 (esnet/iperf PR #1174) emits only end.sum for UDP. Its bytes and
    // bits_per_second are the sender's, its loss and jitter the receiver's; the received rate is
    // the sent rate less the loss. 3.12 still emits end.sum, but we read sum_received whenever
    // it exists because end.sum overstates throughput under loss.
    const json* legacy = member(end, "sum");
    if (!legacy) return std::nullopt;
    auto bps = number(*legacy, "bits_per_second");
    auto loss = number(*legacy, "lost_percent");
    // A loss outside 0..100 % is no report iperf3 writes (and would scale the bytes out of range).
    if (!bps || !loss || !(*loss >= 0 && *loss <= 100)) return std::nullopt;
    s.seconds = number(*legacy, "seconds").value_or(0);
    s.sent_bps = *bps;
    s.sent_bytes = bytes_of(*legacy);
    s.received_bps = *bps * (1.0 - *loss / 100.0);
    s.received_bytes = static_cast<std::uint64_t>(static_cast<double>(s.sent_bytes) * (1.0 - *loss / 100.0));
    s.loss_percent = loss;
    s.lost_packets = integer(*legacy, "lost_packets");
    s.packets = integer(*legacy, "packets");
    s.jitter_ms = number(*legacy, "jitter_ms");
    s.udp_from_legacy_sum = true;
  } else {
    if (!received || !sent) return std::nullopt;
    auto rbps = number(*received, "bits_per_second");
    auto sbps = number(*sent, "bits_per_second");
    if (!rbps || !sbps) return std::nullopt;
    s.seconds = number(*received, "seconds").value_or(0);
    s.received_bps = *rbps;
    s.sent_bps = *sbps;
    s.received_bytes = bytes_of(*received);
    s.sent_bytes = bytes_of(*sent);
    if (udp) {
      // The receiver's view: sum_sent carries lost_packets 0 and jitter 0 by construction.
      s.loss_percent = number(*received, "lost_percent");
      s.lost_packets = integer(*received, "lost_packets");
      s.packets = integer(*received, "packets");
      s.jitter_ms = number(*received, "jitter_ms");
    } else {
      // Retransmits are counted by the sending socket, so they live in sum_sent (for -R the
      // server reports them back to us).
      s.retransmits = integer(*sent, "retransmits");
    }
  }
  if (const json* cpu = member(end, "cpu_utilization_percent")) {
    s.cpu_host_total = number(*cpu, "host_total").value_or(0);
    s.cpu_remote_total = number(*cpu, "remote_total").value_or(0);
  }
  if (const json* cc = member(end, "sender_tcp_congestion"); cc && cc->is_string()) s.sender_congestion = cc->get<std::string>();
  return s;
}

RunStatus classify_error(const std::string& error) {
  if (error.find("interrupt - the client has terminated") != std::string::npos) return RunStatus::stopped_early;
  if (error.find("server is busy") != std::string::npos) return RunStatus::server_busy;
  if (error.find("unable to connect") != std::string::npos) return RunStatus::connect_failed;
  return RunStatus::iperf3_error;
}

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return trim(s);
}

}  // namespace

RunResult parse_iperf3_json(std::string_view text, const std::string& target) {
  RunResult r;
  r.raw_json = std::string(text);
  if (trim(r.raw_json).empty()) {
    r.status = RunStatus::empty_output;
    r.message = fmt::format("iperf3 against {} printed no output: run the same iperf3 -c command by hand to see why",
                            target);
    return r;
  }
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    r.status = RunStatus::invalid_json;
    r.message = fmt::format(
        "iperf3 output against {} is not complete JSON (byte {} of {}): it was cut off or garbled; re-run, "
        "and check that nothing killed the client",
        target, e.byte, text.size());
    return r;
  } catch (const json::exception& e) {
    // Well-formed text the parser still cannot hold, e.g. a number past a double's range (1e400
    // throws out_of_range 406): as unusable as garbled output, and never an exception.
    r.status = RunStatus::invalid_json;
    r.message = fmt::format("iperf3 output against {} is JSON that cannot be read ({}): it was garbled; re-run, and "
                            "check the iperf3 version",
                            target, one_line(e.what()));
    return r;
  }
  if (!doc.is_object()) {
    r.status = RunStatus::invalid_json;
    r.message = fmt::format("iperf3 output against {} is JSON but not an iperf3 report: check the iperf3 version",
                            target);
    return r;
  }
  if (const json* start = member(doc, "start")) {
    if (const json* ts = member(*start, "test_start")) {
      if (const json* proto = member(*ts, "protocol"); proto && proto->is_string()) r.udp = proto->get<std::string>() == "UDP";
      r.reverse = integer(*ts, "reverse").value_or(0) != 0;
      r.parallel = static_cast<int>(integer(*ts, "num_streams").value_or(0));
    }
  }
  if (const json* intervals = member(doc, "intervals"); intervals && intervals->is_array()) {
    for (const auto& item : *intervals) {
      if (const json* sum = member(item, "sum")) r.intervals.push_back(parse_interval(*sum));
    }
  }

  // iperf3 3.12 exits 0 on "connection refused" and says so only here: check it first, always.
  if (const json* err = member(doc, "error")) {
    r.iperf3_error = one_line(err->is_string() ? err->get<std::string>() : err->dump());
    r.status = classify_error(r.iperf3_error);
    switch (r.status) {
      case RunStatus::stopped_early: {
        double measured = 0;
        for (const auto& i : r.intervals) measured += i.seconds;
        // Its end section holds only the client's half (sum_received is 0 for a sender), so it is
        // not a summary: keep the intervals, report no totals.
        r.message = fmt::format("iperf3 against {} was stopped early after {:.1f} s measured: no end summary, {} "
                                "interval(s) kept",
                                target, measured, r.intervals.size());
        break;
      }
      case RunStatus::server_busy:
        r.message = fmt::format("iperf3 server {} is busy running another test: wait for it to finish (or use "
                                "another server port), then retry",
                                target);
        break;
      case RunStatus::connect_failed:
        r.message = fmt::format("cannot reach iperf3 server {} ({}): check that `iperf3 -s` runs there (`wgopt "
                                "testbed up` starts one), and the address, port and route",
                                target, r.iperf3_error);
        break;
      default:
        r.message = fmt::format("iperf3 against {} failed: {}: fix what iperf3 names, then retry", target,
                                r.iperf3_error);
        break;
    }
    return r;
  }

  const json* end = member(doc, "end");
  std::optional<Summary> summary = end ? parse_summary(*end, r.udp) : std::nullopt;
  if (!summary) {
    r.status = RunStatus::invalid_json;
    r.message = fmt::format("iperf3 output against {} has no end summary and no error: the report is incomplete; "
                            "re-run, and check the iperf3 version (3.x with -J expected)",
                            target);
    return r;
  }
  r.summary = std::move(summary);
  r.status = RunStatus::ok;
  return r;
}

}  // namespace wgopt::workload

// The numbers baseline and the search loop score come from here, so each is checked against the
// value in a real iperf3 3.12 capture (tests/fixtures/iperf3/README.md says how each was taken).
#include <catch2/catch.hpp>

#include "common/files.hpp"
#include "workload/iperf3_result.hpp"

using namespace wgopt;
using namespace wgopt::workload;

namespace {
std::string fixture(const std::string& name) {
  auto text = read_file(std::string(WGOPT_FIXTURES_DIR) + "/iperf3/" + name);
  REQUIRE(text);
  return *text;
}
}  // namespace

TEST_CASE("TCP forward: throughput from sum_received, retransmits from sum_sent, CPU, intervals") {
  const RunResult r = parse_iperf3_json(fixture("tcp.json"));
  REQUIRE(r.status == RunStatus::ok);
  CHECK(r.message.empty());
  REQUIRE(r.summary);
  CHECK(r.summary->received_bps == Approx(22780432676.32083));
  CHECK(r.summary->sent_bps == Approx(22814298858.43585));
  CHECK(r.summary->received_bytes == 5701500928ULL);
  CHECK(r.summary->retransmits == 22);
  CHECK_FALSE(r.summary->loss_percent);
  CHECK(r.summary->cpu_host_total == Approx(39.355895657740845));
  CHECK(r.summary->cpu_remote_total == Approx(42.364105652929155));
  CHECK(r.summary->sender_congestion == "bbr");
  CHECK_FALSE(r.udp);
  CHECK_FALSE(r.reverse);
  CHECK(r.parallel == 8);
  REQUIRE(r.intervals.size() == 2);
  CHECK(r.intervals[0].start == 0);
  CHECK(r.intervals[0].seconds == Approx(1.0).epsilon(0.01));
  CHECK(r.intervals[1].start == Approx(1.0).epsilon(0.01));
  CHECK(r.series_bps().size() == 2);
  CHECK(r.series_bps()[0] == r.intervals[0].bits_per_second);
  CHECK(r.intervals[0].retransmits.has_value());
}

TEST_CASE("TCP reverse: the client's received rate, and the server's retransmits") {
  const RunResult r = parse_iperf3_json(fixture("tcp-rev.json"));
  REQUIRE(r.status == RunStatus::ok);
  CHECK(r.reverse);
  CHECK(r.summary->received_bps == Approx(23338154391.0524));
  CHECK(r.summary->retransmits == 3);
  // The client receives in -R: its intervals are receive rates and carry no retransmits.
  CHECK_FALSE(r.intervals[0].retransmits.has_value());
  CHECK(r.intervals[0].bits_per_second == Approx(22479013207.235973));
}

TEST_CASE("UDP: loss, jitter and received rate from sum_received, not the legacy end.sum") {
  const RunResult r = parse_iperf3_json(fixture("udp.json"));
  REQUIRE(r.status == RunStatus::ok);
  CHECK(r.udp);
  const Summary& s = *r.summary;
  // end.sum says 4.60 Gbit/s (the sender's rate); 70 % of it was lost on the way.
  CHECK(s.received_bps == Approx(1330661564.696419));
  CHECK(s.sent_bps == Approx(4596491684.173582));
  CHECK(s.loss_percent == Approx(70.6793500960655));
  CHECK(s.lost_packets == 676882);
  CHECK(s.packets == 954141);
  CHECK(s.jitter_ms == Approx(0.0011814675483264793));
  CHECK_FALSE(s.retransmits);
  CHECK_FALSE(s.udp_from_legacy_sum);
  CHECK(r.intervals[0].packets == 454430);
}

TEST_CASE("UDP 64-byte datagrams") {
  const RunResult r = parse_iperf3_json(fixture("udp-64.json"));
  REQUIRE(r.status == RunStatus::ok);
  CHECK(r.summary->received_bps == Approx(155946185.48876214));
  CHECK(r.summary->lost_packets == 327741);
}

TEST_CASE("UDP reverse: per-interval loss and jitter are the client's own receive view") {
  const RunResult r = parse_iperf3_json(fixture("udp-rev.json"));
  REQUIRE(r.status == RunStatus::ok);
  CHECK(r.reverse);
  CHECK(r.summary->received_bps == Approx(5058545907.270464));
  CHECK(r.summary->loss_percent == Approx(0.2591257109868166));
  CHECK(r.intervals[0].lost_packets == 1989);
  CHECK(r.intervals[0].jitter_ms == Approx(0.0005845089225076358));
}

TEST_CASE("UDP from an iperf3 without sum_received falls back to end.sum, less the loss") {
  const RunResult r = parse_iperf3_json(fixture("udp-legacy.json"));
  REQUIRE(r.status == RunStatus::ok);
  const Summary& s = *r.summary;
  CHECK(s.udp_from_legacy_sum);
  CHECK(s.sent_bps == Approx(4596491684.173582));
  CHECK(s.received_bps == Approx(4596491684.173582 * (1 - 0.706793500960655)));
  CHECK(s.loss_percent == Approx(70.6793500960655));
  CHECK(s.lost_packets == 676882);
}

TEST_CASE("single flow") {
  const RunResult r = parse_iperf3_json(fixture("single.json"));
  REQUIRE(r.status == RunStatus::ok);
  CHECK(r.parallel == 1);
  CHECK(r.summary->received_bps == Approx(41175449389.473816));
  CHECK(r.summary->retransmits == 10);
}

TEST_CASE("a refused connection is an error even though iperf3 exits 0") {
  const RunResult r = parse_iperf3_json(fixture("refused.json"), "127.0.0.1:45677 from host");
  CHECK(r.status == RunStatus::connect_failed);
  CHECK_FALSE(r.summary);
  CHECK(r.iperf3_error == "unable to connect to server: Connection refused");
  CHECK(r.message ==
        "cannot reach iperf3 server 127.0.0.1:45677 from host (unable to connect to server: Connection refused): "
        "check that `iperf3 -s` runs there (`wgopt testbed up` starts one), and the address, port and route");
  CHECK_FALSE(r.usable());
}

TEST_CASE("an unreachable network is a connection failure") {
  const RunResult r = parse_iperf3_json(fixture("unreachable.json"));
  CHECK(r.status == RunStatus::connect_failed);
  CHECK(r.message.find("Network is unreachable") != std::string::npos);
}

TEST_CASE("a busy server has its own status") {
  const RunResult r = parse_iperf3_json(fixture("busy.json"), "127.0.0.1:45677 from host");
  CHECK(r.status == RunStatus::server_busy);
  CHECK(r.message.find("is busy running another test") != std::string::npos);
  CHECK(std::string(status_name(r.status)) == "server-busy");
}

TEST_CASE("any other iperf3 error keeps its text") {
  const RunResult r = parse_iperf3_json(fixture("other.json"));
  CHECK(r.status == RunStatus::iperf3_error);
  CHECK(r.iperf3_error ==
        "unable to set TCP_CONGESTION: Supplied congestion control algorithm not supported on this host");
  CHECK(r.message.find("TCP_CONGESTION") != std::string::npos);
}

TEST_CASE("an interrupted run keeps its intervals and reports no summary") {
  const RunResult r = parse_iperf3_json(fixture("interrupted.json"));
  CHECK(r.status == RunStatus::stopped_early);
  CHECK(r.usable());
  // Its end section has sum_received 0 bits/s: the client never got the server's half.
  CHECK_FALSE(r.summary);
  REQUIRE(r.intervals.size() == 3);
  CHECK(r.intervals[2].seconds < 1.0);
  for (double bps : r.series_bps()) CHECK(bps > 0);
  CHECK(r.message.find("stopped early") != std::string::npos);
}

TEST_CASE("truncated, empty and summary-less output are told apart") {
  const RunResult cut = parse_iperf3_json(fixture("truncated.json"));
  CHECK(cut.status == RunStatus::invalid_json);
  CHECK(cut.message.find("not complete JSON") != std::string::npos);
  CHECK_FALSE(cut.summary);

  CHECK(parse_iperf3_json("").status == RunStatus::empty_output);
  CHECK(parse_iperf3_json(" \n\t").status == RunStatus::empty_output);
  CHECK(parse_iperf3_json("[1,2]").status == RunStatus::invalid_json);
  const RunResult no_end = parse_iperf3_json(R"({"start": {}, "intervals": [], "end": {}})");
  CHECK(no_end.status == RunStatus::invalid_json);
  CHECK(no_end.message.find("no end summary") != std::string::npos);
}

TEST_CASE("a number past a double's range is unreadable output, not an exception (found by fuzz/fuzz_iperf3)") {
  // nlohmann throws out_of_range 406, not parse_error, for 1e400: the parser promises never to throw.
  RunResult r;
  REQUIRE_NOTHROW(r = parse_iperf3_json(R"({"end": {"sum_received": {"bits_per_second": 1e400}}})"));
  CHECK(r.status == RunStatus::invalid_json);
  CHECK(r.message.find("cannot be read") != std::string::npos);
  CHECK(r.message.find('\n') == std::string::npos);
  CHECK_FALSE(r.summary);
}

TEST_CASE("numbers no iperf3 writes are missing, never converted out of range (UBSan in fuzz/fuzz_iperf3)") {
  // retransmits 1e300: converting that double to int64 was undefined behaviour.
  const RunResult tcp = parse_iperf3_json(
      R"({"end": {"sum_received": {"bits_per_second": 8}, "sum_sent": {"bits_per_second": 9, "retransmits": 1e300}}})");
  REQUIRE(tcp.status == RunStatus::ok);
  REQUIRE(tcp.summary);
  CHECK_FALSE(tcp.summary->retransmits);
  CHECK(parse_iperf3_json(R"({"end": {"sum_received": {"bits_per_second": 8}, "sum_sent": {"bits_per_second": 9,
        "retransmits": 12.0}}})").summary->retransmits == 12);
  // A legacy UDP sum with a loss outside 0..100 % scaled the bytes out of uint64's range.
  for (const char* loss : {"-1e300", "101", "-0.5"}) {
    const RunResult udp = parse_iperf3_json(std::string(R"({"start": {"test_start": {"protocol": "UDP"}}, "end": {"sum":
        {"bits_per_second": 1000, "bytes": 100, "lost_percent": )") + loss + "}}}");
    CHECK(udp.status == RunStatus::invalid_json);
    CHECK_FALSE(udp.summary);
  }
}

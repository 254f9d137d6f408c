// The baseline's table and JSON from hand-made results (no processes): what a user reads in the
// §7.1 table, including a scenario that failed, and the target choice's usage errors.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/measure/baseline.hpp"

using namespace wgopt;
using namespace wgopt::experiments;

namespace {
ScenarioRun make_run(const std::string& name, workload::RunStatus status) {
  ScenarioRun r{.scenario = workload::find_scenario(name)};
  r.run.scenario = name;
  r.run.status = status;
  auto& s = r.probes.summary;
  s.top_soft_cpu = 1;
  s.top_soft_pct = 96.2;
  s.softnet.dropped = 5;
  probes::IfaceSummary iface{.iface = {Place::netns("wgopt-cli"), "wgopt-uc"}};
  iface.delta.rx_dropped = 7;
  iface.delta.tx_dropped = 3;
  s.ifaces.push_back(iface);
  return r;
}
}  // namespace

TEST_CASE("baseline table: one row per scenario with throughput, retransmits or loss, %soft and drops") {
  BaselineReport report;
  report.duration = std::chrono::seconds(30);
  auto tcp = make_run("tcp", workload::RunStatus::ok);
  tcp.run.summary = workload::Summary{.received_bps = 812.44e6, .retransmits = 123};
  auto udp = make_run("udp", workload::RunStatus::ok);
  udp.run.summary = workload::Summary{.received_bps = 1.5e9, .loss_percent = 1.25};
  auto rev = make_run("tcp-rev", workload::RunStatus::server_busy);
  rev.run.message = "the iperf3 server is busy";
  report.runs = {tcp, udp, rev};

  auto lines = split_lines(baseline_table(report).render_text());
  REQUIRE(lines.size() == 5);
  CHECK(lines[0].find("softnet drops/30s") != std::string::npos);
  CHECK(lines[0].find("iface drops/30s") != std::string::npos);
  CHECK(split_ws(lines[2]) == std::vector<std::string>{"tcp", "812.4", "Mbit/s", "123", "retr", "96%", "(cpu1)", "5", "10"});
  CHECK(split_ws(lines[3]) ==
        std::vector<std::string>{"udp", "1500.0", "Mbit/s", "1.25%", "loss", "96%", "(cpu1)", "5", "10"});
  // A failed scenario is not a zero: it says how it failed, and the probes still show what they saw.
  CHECK(split_ws(lines[4]) == std::vector<std::string>{"tcp-rev", "failed:", "server-busy", "-", "96%", "(cpu1)", "5", "10"});
  CHECK_FALSE(report.all_ok());

  auto j = to_json(report);
  REQUIRE(j["scenarios"].size() == 3);
  CHECK(j["duration_s"] == 30);
  CHECK(j["scenarios"][0]["iperf3"]["summary"]["retransmits"] == 123);
  CHECK(j["scenarios"][1]["iperf3"]["summary"]["loss_percent"] == 1.25);
  CHECK(j["scenarios"][2]["iperf3"]["status"] == "server-busy");
  CHECK(j["scenarios"][2]["iperf3"]["summary"].is_null());
  CHECK(j["scenarios"][2]["probes"]["summary"]["softnet"]["dropped"] == 5);
}

TEST_CASE("an empty baseline is not ok") { CHECK_FALSE(BaselineReport{}.all_ok()); }

TEST_CASE("the plant is chosen exactly once, and checked before anything runs") {
  auto say = [](const std::string&) {};
  CHECK_THROWS_AS(resolve_plant({}, default_runner(), say), UsageError);
  CHECK_THROWS_AS(resolve_plant({.testbed = true, .peer = "100.64.0.1"}, default_runner(), say), UsageError);
  CHECK_THROWS_AS(resolve_plant({.testbed = true, .netns = "x"}, default_runner(), say), UsageError);
  CHECK_THROWS_AS(resolve_plant({.peer = "100.64.0.1", .port = 70000}, default_runner(), say), UsageError);
  try {
    resolve_plant({.peer = "peer.example; reboot"}, default_runner(), say);
    FAIL("a non-IP peer was accepted");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("is not an IP address") != std::string::npos);
  }
}

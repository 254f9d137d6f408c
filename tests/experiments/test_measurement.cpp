// One scenario's measurement from iperf3's result and the probes' summary (experiments/measure):
// what the objective scores.
#include <catch2/catch.hpp>

#include "experiments/measure/measure.hpp"

using namespace wgopt;
using namespace wgopt::experiments;

TEST_CASE("UDP errors count InErrors once: it already includes RcvbufErrors (issue 13 item 4)", "[measure]") {
  probes::Summary s;
  s.seconds = 10;
  probes::NetDelta client, server;
  // A full WireGuard socket buffer: every RcvbufError is also an InError (the kernel bumps both).
  server.udp.in_errors = 500;
  server.udp.rcvbuf_errors = 400;
  client.udp.in_errors = 100;  // e.g. checksum errors: InErrors without RcvbufErrors
  s.net = {client, server};
  workload::RunResult run;
  const auto m = to_measurement(run, s);
  CHECK(m.drops_per_s.udp_errors == Approx(60.0));  // (500 + 100) / 10 s, not (500 + 400 + 100) / 10
}

TEST_CASE("a two-host measurement stores the far end's probes beside this end's", "[measure]") {
  Evaluation ev;
  ScenarioOutcome out;
  out.scenario = "tcp";
  out.probes.seconds = 10;
  probes::NetDelta near_net, far_net;
  near_net.udp.in_errors = 44;
  far_net.udp.in_errors = 31000;
  out.probes.net = {near_net};
  out.probes.softnet.dropped = 3;
  out.far_probes = probes::Summary{};
  out.far_probes->seconds = 10;
  out.far_probes->net = {far_net};
  out.far_probes->top_soft_cpu = 5;
  ev.scenarios.push_back(out);
  const nlohmann::json j = ev.probes_json();
  CHECK(j["tcp"]["udp_errors"] == 44);
  CHECK(j["tcp"]["softnet_dropped"] == 3);
  REQUIRE(j["tcp"].contains("far"));
  CHECK(j["tcp"]["far"]["udp_errors"] == 31000);
  CHECK(j["tcp"]["far"]["top_soft_cpu"] == 5);
  CHECK_FALSE(j["tcp"]["far"].contains("far"));

  ev.scenarios[0].far_probes.reset();  // one host: no "far" key
  CHECK_FALSE(ev.probes_json()["tcp"].contains("far"));
}

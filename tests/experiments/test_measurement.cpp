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

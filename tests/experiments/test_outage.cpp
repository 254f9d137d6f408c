// What looks like a broken path (OutageWatch's trigger): a failure, a rate under a tenth of the
// host's own, or a stall inside a scenario's per-second series.
#include <catch2/catch.hpp>

#include "experiments/search/outage.hpp"

using namespace wgopt;
using namespace wgopt::experiments;

namespace {
Evaluation complete(std::vector<double> series, double throughput) {
  Evaluation ev;
  ScenarioOutcome s;
  s.scenario = "tcp";
  s.series_mbps = std::move(series);
  ev.scenarios.push_back(s);
  ev.score = Score{};
  ev.score->throughput_mbps = throughput;
  return ev;
}
}  // namespace

TEST_CASE("a measurement looks broken when it failed, crawled, or stalled for 3 s") {
  Evaluation failed;
  failed.state = Evaluation::State::Failed;
  failed.note = "tcp: iperf3 could not connect";
  CHECK(looks_broken(failed, 500) == "tcp: iperf3 could not connect");
  CHECK_FALSE(looks_broken(complete({480, 500, 510, 490}, 495), 500));
  CHECK(looks_broken(complete({40, 45, 50, 45}, 45), 500) == "a rate of 45 Mbit/s, under a tenth of the host's own");
  // Found by an exploratory test: a 5 s outage in a baseline round scored it -24 while its rate over
  // the run was well above a tenth of the host's own.
  CHECK(looks_broken(complete({500, 510, 0, 0, 0.5, 0, 490, 505}, 250), 500) == "tcp: a stall of 3 s or more at no rate");
  CHECK_FALSE(looks_broken(complete({500, 510, 0, 0, 490, 505}, 330), 500));  // 2 s: not a stall
  CHECK_FALSE(looks_broken(complete({5, 100, 400, 500}, 250), 0));  // a slow ramp is not a stall; no reference: no rate rule
  CHECK(has_stall(complete({500, 510, 0, 0, 0.5, 0, 490, 505}, 250)));
  CHECK_FALSE(has_stall(complete({40, 45, 50, 45}, 45)));  // crawling, not stalled
  CHECK_FALSE(has_stall(failed));
}

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "experiments/study/objective.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using Catch::Contains;

namespace {

// The refusal of an objective file, or "accepted".
std::string msg(const std::string& yaml) {
  try {
    parse_objective(yaml, "objective file 'x.yaml'");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

namespace {

ScenarioMeasurement clean(double mbps) {
  ScenarioMeasurement m;
  m.throughput_mbps = mbps;
  m.core_busy_pct = {50, 50};
  return m;
}

}  // namespace

TEST_CASE("the sample objective file documents exactly the built-in defaults") {
  std::ifstream in(WGOPT_SOURCE_DIR "/experiments/study/objective.default.yaml");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  Objective defaults;
  CHECK(parse_objective(ss.str()) == defaults);
  CHECK(load_objective(WGOPT_SOURCE_DIR "/experiments/study/objective.default.yaml") == defaults);
  CHECK(parse_objective("") == defaults);
  CHECK(defaults.duration == std::chrono::seconds(10));
  REQUIRE(defaults.scenarios.size() == 1);
  CHECK(defaults.scenarios[0].name == "tcp");
}

TEST_CASE("a full objective parses, with per-scenario penalty defaults, and round-trips") {
  Objective o = parse_objective(R"(
duration: 30s
scenarios:
  - {name: tcp, weight: 2}
  - {name: udp-64, weight: 0.5}
  - {name: single}
penalties:
  imbalance: 0
  softnet_drops: 0.5
)");
  CHECK(o.duration == std::chrono::seconds(30));
  REQUIRE(o.scenarios.size() == 3);
  CHECK(o.scenarios[0].weight == 2);
  CHECK(o.scenarios[1].penalize_drops == false);  // a UDP flood drops by design
  CHECK(o.scenarios[1].penalize_imbalance == true);
  CHECK(o.scenarios[2].penalize_imbalance == false);  // one flow is one core
  CHECK(o.penalties.imbalance == 0);
  CHECK(o.penalties.softnet_drops == 0.5);
  CHECK(o.penalties.nic_drops == 0.01);
  CHECK(parse_objective(objective_to_yaml(o)) == o);
  o.penalties.imbalance = 1.0 / 3;  // no short decimal: must still read back bit-exact
  CHECK(parse_objective(objective_to_yaml(o)) == o);
  CHECK_THAT(objective_to_yaml(Objective{}), Contains("softnet_drops: 0.01\n"));
}

TEST_CASE("invalid objectives are refused with the entry named") {
  CHECK_THAT(msg("scenarios:\n  - {name: tcpp}\n"),
             Contains("objective file 'x.yaml'") && Contains("scenarios[0].name") && Contains("'tcpp'") &&
                 Contains("tcp-rev"));
  CHECK_THAT(msg("scenarios:\n  - {name: tcp}\n  - {name: tcp}\n"), Contains("scenarios[1].name") && Contains("twice"));
  CHECK_THAT(msg("scenarios:\n  - {name: tcp, weight: 0}\n"), Contains("scenarios[0].weight") && Contains("from 0.001 to 1000"));
  CHECK_THAT(msg("scenarios:\n  - {name: tcp, weight: lots}\n"), Contains("scenarios[0].weight") && Contains("'lots'"));
  CHECK_THAT(msg("scenarios:\n  - {name: tcp, wieght: 1}\n"), Contains("scenarios[0].wieght") && Contains("known key"));
  CHECK_THAT(msg("scenarios:\n  - tcp\n"), Contains("scenarios[0]") && Contains("{name: tcp}"));
  CHECK_THAT(msg("scenarios: []\n"), Contains("scenarios") && Contains("non-empty"));
  CHECK_THAT(msg("penalties:\n  imbalance: -1\n"), Contains("penalties.imbalance") && Contains("from 0 to 100"));
  CHECK_THAT(msg("penalties:\n  drops: 1\n"), Contains("penalties.drops") && Contains("softnet_drops"));
  CHECK_THAT(msg("duration: 1s\n"), Contains("duration") && Contains("2s to 1h"));
  CHECK_THAT(msg("duration: 2.5s\n"), Contains("duration") && Contains("whole seconds"));
  CHECK_THAT(msg("duration: soon\n"), Contains("duration") && Contains("'soon'"));
  CHECK_THAT(msg("scenario:\n  - {name: tcp}\n"), Contains("'scenario'") && Contains("scenarios"));
  CHECK_THAT(msg("scenarios: [\n"), Contains("not valid YAML"));
  CHECK_THROWS_WITH(load_objective("/nonexistent/o.yaml"), Contains("/nonexistent/o.yaml"));
}

TEST_CASE("a list or map used as a key is a one-line error, not yaml-cpp's bad conversion") {
  // Same defect fuzz/fuzz_space found in SPACE.yaml: as<std::string>() on a non-scalar key.
  CHECK_THROWS_MATCHES(parse_objective("[duration]: 10s\n", "o.yaml"), UsageError,
                       Catch::Message("o.yaml: '(a list or map as a key)' is not a known key: use one of duration, "
                                      "scenarios, penalties"));
  CHECK_THROWS_AS(parse_objective("penalties: {{a: 1}: 2}\n", "o.yaml"), UsageError);
  CHECK_THROWS_WITH(parse_objective("penalties: {{a: 1}: 2}\n", "o.yaml"),
                    Contains("penalties.(a list or map as a key) is not a known key"));
}

TEST_CASE("score is throughput when nothing drops and the cores are even") {
  Objective o;
  CHECK(score(o, {{"tcp", clean(1000)}}).value == Approx(1000));
}

TEST_CASE("drops above the allowance cost score, per source and per second") {
  Objective o;  // 0.01 Mbit/s per drop/s above 3/s
  Measurement m{{"tcp", clean(1000)}};
  m["tcp"].drops_per_s = {.softnet = 1003, .nic = 2, .interface = 103, .udp_errors = 0};
  Score s = score(o, m);
  CHECK(s.drop_penalty == Approx(10 + 0 + 1));
  CHECK(s.value == Approx(989));
  CHECK(s.throughput_mbps == Approx(1000));
}

TEST_CASE("a core hotter than the mean costs score (guide: spread the work)") {
  Objective o;
  Measurement m{{"tcp", clean(1000)}};
  m["tcp"].core_busy_pct = {96, 8, 8, 8};  // mean 30, hottest 66 above it
  Score s = score(o, m);
  CHECK(s.scenarios[0].imbalance_pct == Approx(66));
  CHECK(s.imbalance_penalty == Approx(66));
  CHECK(s.value == Approx(934));
  // The same throughput spread evenly scores higher: the optimizer prefers it.
  m["tcp"].core_busy_pct = {35, 35, 35, 35};
  CHECK(score(o, m).value == Approx(1000));
}

TEST_CASE("scenario weights mix per-scenario scores and flood drops are not penalised by default") {
  Objective o = parse_objective("scenarios:\n  - {name: tcp, weight: 3}\n  - {name: udp, weight: 1}\n");
  Measurement m{{"tcp", clean(1000)}, {"udp", clean(600)}};
  m["udp"].drops_per_s.udp_errors = 50000;
  Score s = score(o, m);
  CHECK(s.scenarios[1].drop_penalty == 0);
  CHECK(s.value == Approx(0.75 * 1000 + 0.25 * 600));
  auto j = score_to_json(s);
  CHECK(j["value"].get<double>() == Approx(900));
  CHECK(j["scenarios"][1]["name"] == "udp");
  CHECK(j["scenarios"][0]["weight"].get<double>() == Approx(0.75));
}

TEST_CASE("a measurement that lacks a scenario or holds nonsense is an error naming the scenario") {
  Objective o = parse_objective("scenarios:\n  - {name: tcp}\n  - {name: single}\n");
  CHECK_THROWS_WITH(score(o, {{"tcp", clean(1)}}), Contains("'single'"));
  Measurement m{{"tcp", clean(1)}, {"single", clean(1)}};
  m["single"].throughput_mbps = -5;
  CHECK_THROWS_WITH(score(o, m), Contains("'single'") && Contains("throughput"));
  m["single"].throughput_mbps = 5;
  m["single"].core_busy_pct = {180};
  CHECK_THROWS_WITH(score(o, m), Contains("busy"));
}

TEST_CASE("weights and penalties must be finite and in sane ranges, named with the range", "[faults]") {
  // 1e308 passed before and made every score 0 (the weights' sum overflows): a wasted budget.
  CHECK_THAT(msg("scenarios:\n  - {name: tcp, weight: 1e308}\n  - {name: udp, weight: 1e308}\n"),
             Contains("scenarios[0].weight") && Contains("1000"));
  CHECK_THAT(msg("scenarios:\n  - {name: tcp, weight: 1e-300}\n"), Contains("scenarios[0].weight") && Contains("0.001"));
  CHECK_THAT(msg("scenarios:\n  - {name: tcp, weight: .inf}\n"), Contains("scenarios[0].weight"));
  CHECK_THAT(msg("scenarios:\n  - {name: tcp, weight: .nan}\n"), Contains("scenarios[0].weight"));
  CHECK_THAT(msg("penalties:\n  softnet_drops: 1e308\n"), Contains("penalties.softnet_drops") && Contains("100"));
  CHECK_THAT(msg("penalties:\n  imbalance: 1e308\n"), Contains("penalties.imbalance") && Contains("100"));
  CHECK_THAT(msg("penalties:\n  drop_allowance_per_s: 1e308\n"), Contains("penalties.drop_allowance_per_s"));
  CHECK_THAT(msg("penalties:\n  udp_errors: .nan\n"), Contains("penalties.udp_errors"));
  // The ends of the ranges are fine, and a score stays a number.
  Objective o = parse_objective("scenarios:\n  - {name: tcp, weight: 1000}\n  - {name: single, weight: 0.001}\n"
                                "penalties: {softnet_drops: 100, imbalance: 100, drop_allowance_per_s: 1000000}\n");
  ScenarioMeasurement m;
  m.throughput_mbps = 900;
  m.core_busy_pct = {90, 10};
  Score s = score(o, {{"tcp", m}, {"single", m}});
  CHECK(std::isfinite(s.value));
  CHECK(s.value != 0);
}

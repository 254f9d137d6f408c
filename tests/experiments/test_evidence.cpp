// The profile's evidence as a typed struct: to/from YAML and JSON, the flow-style block a profile
// shows, and the errors a hand-edited or damaged evidence gives (issue 10; issue 14 item 6).
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "experiments/study/evidence.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using Catch::Contains;
using Catch::EndsWith;

namespace {

Evidence promoted() {
  Evidence e;
  e.study = "/var/lib/wgopt/studies/s.sqlite";
  e.outcome = "promoted";
  e.objective = "duration: 10s\n";
  e.confirmation = "better by +400.0";
  e.created = "2027-01-15T08:19:34Z";
  e.trials = 8;
  e.plant = PlantEvidence{.testbed = "trace"};
  e.baseline = ArmEvidence{.score = 277.5, .ci95 = Interval{274.5, 280.25}, .throughput_mbps = 277.5,
                           .params = {{"wg0/mtu", "1280"}, {"net.ipv4.tcp_rmem", "4096 16384 16384"}}};
  e.winner = ArmEvidence{.score = 677.25, .ci95 = Interval{673.5, 681.0}, .trial = 6, .throughput_mbps = 677.0};
  e.gain = GainEvidence{.score = 400.0, .ci95 = Interval{394.0, 406.0}, .relative = 1.44, .p_value = 1.18e-05, .method = "paired t"};
  return e;
}

Evidence parsed(const std::string& yaml, Evidence::Mode mode = Evidence::Mode::Strict) {
  return Evidence::from_yaml(YAML::Load(yaml), "p.yaml", mode);
}

std::string error_of(const std::string& yaml) {
  try {
    parsed(yaml);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("evidence: to_yaml is one flow block with the keys in order and round-trips", "[evidence]") {
  const Evidence e = promoted();
  YAML::Emitter out;
  out << e.to_yaml();
  const std::string text = out.c_str();
  CHECK(text.starts_with("{baseline: {ci95: [274.5, 280.25], params: {net.ipv4.tcp_rmem: 4096 16384 16384, wg0/mtu: 1280}, "
                         "score: 277.5, throughput_mbps: 277.5}, confirmation: better by +400.0, "));
  CHECK_THAT(text, Contains("gain: {ci95: [394.0, 406.0], method: paired t, p_value: 1.18e-05, relative: 1.44, score: 400.0}"));
  CHECK_THAT(text, Contains("winner: {ci95: [673.5, 681.0], score: 677.25, throughput_mbps: 677.0, trial: 6}}"));

  const Evidence back = Evidence::from_yaml(YAML::Load(text), "p.yaml");
  CHECK(back.to_json() == e.to_json());
  CHECK(back.winner->trial == 6);
  CHECK(back.baseline->params.at("wg0/mtu") == "1280");
  CHECK(back.recorded_score() == 677.25);
  CHECK(back.plant->testbed == "trace");
}

TEST_CASE("evidence: JSON round-trips, the study's encoding", "[evidence]") {
  const Evidence e = promoted();
  const auto j = e.to_json();
  CHECK(j["gain"]["p_value"].get<double>() == 1.18e-05);
  CHECK(j["trials"].is_number_integer());
  CHECK(j["baseline"]["params"]["wg0/mtu"].is_string());
  CHECK(Evidence::from_json(j, "study").to_json() == j);
  CHECK(Evidence::from_json(nlohmann::json(), "study").to_json() == nlohmann::json::object());

  Evidence holds;
  holds.recorded = 280.0;
  holds.score = 280.75;
  holds.drifted = std::vector<std::string>{};
  CHECK(holds.to_json().dump() == R"({"drifted":[],"recorded_score":280.0,"score":280.75})");
  CHECK(Evidence::from_json(holds.to_json(), "s").drifted->empty());
}

TEST_CASE("evidence: the recorded score is the winner's, else the baseline's", "[evidence]") {
  CHECK(parsed("{winner: {score: 2}, baseline: {score: 1}}").recorded_score() == 2.0);
  CHECK(parsed("{baseline: {score: 1}}").recorded_score() == 1.0);
  CHECK_FALSE(parsed("{winner: {throughput_mbps: 5}}").recorded_score());
  CHECK_FALSE(parsed("").recorded_score());
}

TEST_CASE("evidence: non-finite numbers and wrong types are errors naming the field", "[evidence][faults]") {
  CHECK_THAT(error_of("{winner: {score: .nan}}"), Contains("p.yaml: evidence.winner.score '.nan' is not a finite number"));
  CHECK_THAT(error_of("{baseline: {score: -inf}}"), Contains("evidence.baseline.score '-inf' is not a finite number"));
  CHECK_THAT(error_of("{gain: {relative: nan}}"), Contains("evidence.gain.relative 'nan'"));
  CHECK_THAT(error_of("{gain: {ci95: [1, .inf]}}"), Contains("evidence.gain.ci95.high '.inf'"));
  CHECK_THAT(error_of("{recorded_score: NaN}"), Contains("evidence.recorded_score 'NaN'"));
  CHECK_THAT(error_of("{winner: {score: '12x'}}"), Contains("evidence.winner.score '12x'"));
  CHECK_THAT(error_of("{winner: 5}"), Contains("evidence.winner is not a map"));
  CHECK_THAT(error_of("{trials: 2.5}"), Contains("evidence.trials '2.5' is not a whole number"));
  CHECK_THAT(error_of("{winner: {ci95: [1, 2, 3]}}"), Contains("evidence.winner.ci95 is not an interval"));
  CHECK_THAT(error_of("{plant: {peer: a, port: 70000}}"), Contains("p.yaml: evidence.plant.port '70000' is not a port"));
  CHECK_THAT(error_of("[1, 2]"), Contains("p.yaml: evidence is not a map"));
  CHECK_THAT(error_of("{winner: {score: \"a\\nb\"}}"), Contains("'a\\nb'"));  // one line, whatever the value
  CHECK(error_of("{winner: {score: 612.5}, future_key: {x: 1}}") == "no error");  // unknown keys are ignored
}

TEST_CASE("evidence: Lenient mode leaves out what does not read and keeps the rest", "[evidence]") {
  const auto e = parsed("{study: s, winner: {score: .nan, throughput_mbps: 700}, baseline: x, plant: {testbed: t, port: abc}}",
                        Evidence::Mode::Lenient);
  CHECK(e.study == "s");
  CHECK_FALSE(e.winner->score);
  CHECK(e.winner->throughput_mbps == 700.0);
  CHECK_FALSE(e.baseline);
  CHECK(e.plant->testbed == "t");
  CHECK_FALSE(e.plant->port);
  CHECK(Evidence::from_yaml(YAML::Load("[1]"), "p", Evidence::Mode::Lenient).to_json() == nlohmann::json::object());
}

TEST_CASE("evidence: the simplified winner's changes, kept and returned, round-trip with their contributions", "[evidence]") {
  Evidence e = promoted();
  e.changes = {{.id = "wg0/mtu", .from = "1280", .to = "1370", .contribution = 120.5, .ci95 = Interval{80.25, 160.75}},
               {.id = "net.ipv4.tcp_rmem", .from = "4096 16384 16384", .to = "4096 16384 262144", .return_unchecked = true}};
  e.returned = {{.id = "wg0/txqueuelen", .from = "100", .to = "100000", .contribution = 0.5, .ci95 = Interval{-3.0, 4.0},
                 .check = PlantCheck{.gain = 1.5, .ci95 = Interval{-4.5, 7.5}, .together = 2}}};
  e.simplification = "1 change(s) returned to the host's value";
  YAML::Emitter out;
  out << e.to_yaml();
  const std::string text = out.c_str();
  CHECK_THAT(text, Contains("changes: [{ci95: [80.25, 160.75], contribution: 120.5, from: 1280, id: wg0/mtu, to: 1370}, "
                            "{from: 4096 16384 16384, id: net.ipv4.tcp_rmem, return_unchecked: true, to: 4096 16384 262144}]"));
  const Evidence back = Evidence::from_yaml(YAML::Load(text), "p.yaml");
  CHECK(back.to_json() == e.to_json());
  REQUIRE(back.returned.size() == 1);
  CHECK(back.returned[0].id == "wg0/txqueuelen");
  REQUIRE(back.returned[0].check);
  CHECK(back.returned[0].check->together == 2);
  CHECK(back.returned[0].check->ci95.low == -4.5);
  CHECK(plant_check_text(back.returned[0].check) == "+1.5 (95% -4.5 .. +7.5), 2 together");
  CHECK(plant_check_text(PlantCheck{.gain = -40.06, .ci95 = Interval{-59.9, -20.2}}) == "-40.1 (95% -59.9 .. -20.2), alone");
  CHECK(plant_check_text(std::nullopt) == "-");
  CHECK_THAT(error_of("{changes: [{id: a, check: {gain: 1, ci95: [0, 2]}}]}"), Contains("evidence.changes[0].check needs gain, ci95 and together"));
  CHECK_THAT(error_of("{changes: [{id: a, check: {gain: 1, ci95: [0, 2], together: 0}}]}"), Contains("evidence.changes[0].check needs"));
  CHECK_THAT(error_of("{changes: [{id: a, check: 3}]}"), Contains("evidence.changes[0].check is not a map"));
  CHECK(back.changes[1].contribution == std::nullopt);
  CHECK(back.changes[1].return_unchecked);
  CHECK_FALSE(back.changes[0].return_unchecked);
  CHECK_THAT(error_of("{changes: [{id: a, return_unchecked: maybe}]}"), Contains("evidence.changes[0].return_unchecked 'maybe' is not true or false"));
  CHECK(Evidence::from_yaml(YAML::Load("{changes: [{id: a, return_unchecked: True}]}"), "p.yaml").changes.at(0).return_unchecked);  // hand-edited
  CHECK_THAT(error_of("{changes: [{id: a, contribution: .nan}]}"), Contains("evidence.changes[0].contribution '.nan'"));
  CHECK_THAT(error_of("{returned: [{from: 1}]}"), Contains("evidence.returned[0].id is missing"));
  CHECK_THAT(error_of("{changes: 3}"), Contains("evidence.changes is not a list"));
}

TEST_CASE("evidence: what each kept change rests on, and the one line over them", "[evidence]") {
  const ChangeEvidence by_model{.id = "a", .contribution = 80.0, .ci95 = Interval{12.0, 148.0}};
  // Refused in a check of two returned together: the plant measured the winner 30 worse without them.
  const ChangeEvidence by_check{.id = "b", .contribution = 20.0, .ci95 = Interval{-40.0, 80.0},
                                .check = PlantCheck{.gain = -30.0, .ci95 = Interval{-50.0, -10.0}, .together = 2}};
  // The plant's word first: measured and credited, it counts as the check's.
  const ChangeEvidence both{.id = "e", .contribution = 90.0, .ci95 = Interval{30.0, 150.0},
                            .check = PlantCheck{.gain = -40.0, .ci95 = Interval{-60.0, -20.0}}};
  // A check whose interval reaches zero measured no loss beyond noise: it supports nothing.
  const ChangeEvidence unsupported{.id = "c", .contribution = 9.0, .ci95 = Interval{-50.0, 68.0},
                                   .check = PlantCheck{.gain = -5.0, .ci95 = Interval{-20.0, 10.0}}};
  const ChangeEvidence no_estimate{.id = "d"};
  // Intervals that touch zero are not beyond it.
  const ChangeEvidence touching{.id = "f", .contribution = 40.0, .ci95 = Interval{0.0, 80.0},
                                .check = PlantCheck{.gain = -20.0, .ci95 = Interval{-40.0, 0.0}}};
  const ChangeEvidence unchecked{.id = "g", .contribution = 3.0, .ci95 = Interval{-30.0, 36.0}, .return_unchecked = true};
  CHECK(support_of(by_model) == Support::Model);
  CHECK(support_of(by_check) == Support::Check);
  CHECK(support_of(both) == Support::Check);
  CHECK(support_of(unsupported) == Support::Confirmation);
  CHECK(support_of(no_estimate) == Support::Confirmation);
  CHECK(support_of(touching) == Support::Confirmation);
  CHECK(std::string(to_string(Support::Check)) == "check");
  CHECK(std::string(to_string(Support::Confirmation)) == "confirmation");
  CHECK(support_line({}) == "");
  // One change: the confirmation against the baseline measured it alone, whatever its interval.
  CHECK(support_line({unsupported}) == "support: the winner's one change is measured on its own by the confirmation against the baseline");
  CHECK(support_line({by_model, by_check, both}) ==
        "support: every kept change is shown to help (2 by a plant check that measured the winner worse without them (alone or with "
        "others), 1 by the model's 95% interval above zero)");
  CHECK(support_line({by_model, unsupported, no_estimate}) ==
        "support: 1 of 3 kept changes is shown to help (1 by the model's 95% interval above zero); 2 rest only on the winner's "
        "confirmation as a whole (no 95% interval above zero, no check that measured a loss without them)");
  CHECK(support_line({by_check, touching}) ==
        "support: 1 of 2 kept changes is shown to help (1 by a plant check that measured the winner worse without it (alone or with "
        "others)); 1 rests only on the winner's confirmation as a whole (no 95% interval above zero, no check that measured a loss "
        "without it)");
  CHECK(support_line({unsupported, no_estimate}) ==
        "support: none of the 2 kept changes is shown to help: they rest only on the winner's confirmation as a whole (no 95% "
        "interval above zero, no check that measured a loss without them)");
  // The model's proposals no check had time for: a longer budget would measure them.
  CHECK_THAT(support_line({unsupported, unchecked}),
             EndsWith("; the model proposed returning 1 of them and no check finished measuring that (no time, too few rounds or Ctrl-C): "
                      "a longer search measures it"));
  CHECK_THAT(support_line({by_model, unchecked}), EndsWith("; the model proposed returning it and no check finished measuring that (no time, "
                                                           "too few rounds or Ctrl-C): a longer search measures it"));
  CHECK_THAT(support_line({unchecked, unchecked}), Contains("the model proposed returning all 2 and"));
  CHECK_THAT(support_line({by_model, unsupported}), !Contains("a longer search"));
}

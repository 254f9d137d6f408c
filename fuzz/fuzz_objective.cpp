// Objective YAML (experiments/study/objective.cpp), `wgopt search --objective FILE` and every study file.
// Invariants beyond "no crash, no sanitizer report, only wgopt::Error":
//   - what parses is valid: 1..5 distinct scenarios with weights in kWeightMin..kWeightMax,
//     penalties in 0..kPenaltyMax (the drop allowance in 0..kDropAllowanceMax), a duration of 2 s..1 h;
//   - objective_to_yaml(o) parses back to an equal Objective (the study stores that text).
#include <cmath>
#include <set>

#include "experiments/study/objective.hpp"
#include "fuzz/check.hpp"

using namespace wgopt;

namespace {
constexpr const char* kTarget = "objective";

void check_valid(const experiments::Objective& o) {
  if (o.duration.count() < 2 || o.duration.count() > 3600)
    fuzz::broken(kTarget, "duration out of 2s..1h: " + std::to_string(o.duration.count()));
  if (o.scenarios.empty() || o.scenarios.size() > experiments::kScenarioNames.size())
    fuzz::broken(kTarget, "scenario count " + std::to_string(o.scenarios.size()));
  std::set<std::string> names;
  for (const auto& s : o.scenarios) {
    if (!names.insert(s.name).second) fuzz::broken(kTarget, "scenario twice: " + s.name);
    if (!(s.weight >= experiments::kWeightMin && s.weight <= experiments::kWeightMax))
      fuzz::broken(kTarget, "weight " + std::to_string(s.weight));
  }
  const auto& p = o.penalties;
  if (!(p.drop_allowance_per_s >= 0 && p.drop_allowance_per_s <= experiments::kDropAllowanceMax))
    fuzz::broken(kTarget, "drop allowance " + std::to_string(p.drop_allowance_per_s));
  for (double v : {p.softnet_drops, p.nic_drops, p.interface_drops, p.udp_errors, p.imbalance}) {
    if (!(v >= 0 && v <= experiments::kPenaltyMax)) fuzz::broken(kTarget, "penalty " + std::to_string(v));
  }
}

void check(const std::string& text) {
  const experiments::Objective o = experiments::parse_objective(text, "fuzz objective");
  check_valid(o);
  const std::string yaml = experiments::objective_to_yaml(o);
  experiments::Objective again;
  try {
    again = experiments::parse_objective(yaml, "objective_to_yaml");
  } catch (const Error& e) {
    fuzz::broken(kTarget, std::string("objective_to_yaml wrote text parse_objective refuses: ") + e.what() + "\n" + yaml);
  }
  if (!(again == o)) fuzz::broken(kTarget, "objective changed across objective_to_yaml:\n" + yaml);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::guarded(kTarget, [&] { check(fuzz::text_of(data, size)); });
}

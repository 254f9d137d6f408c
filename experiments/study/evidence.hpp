#pragma once
// The evidence a profile and a study's result carry: what a search measured and where (scores with
// their 95% intervals, the gain, the objective, the plant), as one typed struct with its two
// encodings. The profile holds it as YAML (`evidence:` block, flow style, keys in the order below);
// the study file holds it as JSON (result.evidence_json). Every reader (retune, export, report)
// goes through from_yaml/from_json, never through string keys.
//
//   Evidence ev = Evidence::from_yaml(profile.evidence, "p.yaml");   // throws UsageError
//   double recorded = ev.recorded_score().value_or(now);
//
// Errors: from_yaml/from_json in Strict mode throw UsageError naming the source and the field
// ("p.yaml: evidence.winner.score 'nan' is not a finite number: ..."): a field of the wrong type, a
// number that is not finite (NaN, inf), a port outside 1..65535. In Lenient mode (export, report:
// they render what they can of a hand-edited or older file) a field that does not read is left out.
// Keys this struct does not know are ignored.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "experiments/study/stats.hpp"

namespace wgopt::experiments {

// Where the study measured: a built-in testbed (its prefix) or a peer (address, iperf3 port, the
// namespace the client ran in).
struct PlantEvidence {
  std::string testbed;
  std::string peer;
  std::optional<int> port;  // 1..65535
  std::string netns;
  std::string ssh;  // --ssh target when both ends were tuned (the profile's `peer:` holds the far end)
};

// One arm of the comparison: the baseline (the host's values), the winner, or a candidate not promoted.
struct ArmEvidence {
  std::optional<double> score;
  std::optional<Interval> ci95;
  std::optional<int> n;      // rounds (baseline kept: the baseline rounds)
  std::optional<int> trial;  // winner: the trial it came from
  std::optional<double> throughput_mbps;
  std::map<std::string, std::string> params;  // baseline: the host's values the winner moved away from
};

// The winner's gain over the baseline in the confirmation (paired rounds), or, for a simplified
// winner, chained through the simplification's checks (method "chained: ...": chain_confirmations).
struct GainEvidence {
  std::optional<double> score;
  std::optional<Interval> ci95;
  std::optional<double> relative;  // score / baseline score
  std::optional<double> p_value;
  std::string method;              // "paired t", ...
};

// What a plant check of the winner's simplification measured of returning a change to the host's
// value, with the others proposed with it: simplified - whole (score units), its 95% interval, and
// how many changes returned together (1: this one alone).
struct PlantCheck {
  double gain = 0;
  Interval ci95;
  int together = 1;
};

// "-40.1 (95% -59.9 .. -20.2), 3 together" / "+1.5 (95% -45.9 .. +48.8), alone": the check's
// simplified - whole when the change returned; "-" when no check proposed it.
std::string plant_check_text(const std::optional<PlantCheck>& c);

// A kept change's "in the profile": "kept", or "kept (return proposed, not checked)" when the model
// proposed returning it and no check finished measuring that (no time, too few rounds or Ctrl-C).
std::string kept_text(bool return_unchecked);

// {ci95, gain, together}: the evidence's `check` and the report's --json.
nlohmann::json to_json(const PlantCheck& c);

// One knob the winner changed: from the host's value to the winner's, with the model's estimate of
// its contribution (score units) and that estimate's 95% interval (absent: no estimate), and what a
// plant check measured of returning it (absent: no check proposed it): a kept change whose return
// measured below zero is supported by a measurement beside the winner, not by the model alone.
struct ChangeEvidence {
  std::string id;
  std::string from, to;
  std::optional<double> contribution;
  std::optional<Interval> ci95;
  std::optional<PlantCheck> check;
  bool return_unchecked = false;  // `return_unchecked: true`: kept, its return proposed and never checked
};

// What a kept change rests on: a plant check (the winner measured worse beyond noise without it, alone
// or with the changes proposed with it: the check's 95% interval of simplified - whole lies below
// zero), the model (its 95% interval lies above zero), or only the whole winner's confirmation.
enum class Support { Check, Model, Confirmation };
Support support_of(const ChangeEvidence& c);
const char* to_string(Support s);   // "check", "model", "confirmation"

// One line over the kept changes: "support: 2 of 15 kept changes are shown to help (1 by a plant
// check that measured the winner worse without it (alone or with others), 1 by the model's 95%
// interval above zero); 13 rest only on the winner's confirmation as a whole (...)", plus what a
// longer --budget would measure when the model proposed returns no check had time for; "support:
// every kept change is shown to help (...)"; for one kept change, that the confirmation measured it
// on its own; "" without kept changes. The end-of-search summary and `wgopt report` print it.
std::string support_line(const std::vector<ChangeEvidence>& kept);

// {ci95, method, p_value, relative, score}, the parts that are there (the report's --json shows it).
nlohmann::json to_json(const GainEvidence& gain);

struct Evidence {
  std::string study;         // the study file's path
  std::string outcome;       // promoted, kept-baseline, retuned, ...
  std::string objective;     // the objective as YAML text (retune measures with it again)
  std::string confirmation;  // the confirmation's one line
  std::string created;       // UTC, 2026-11-26T14:00:00Z
  std::optional<int> trials;
  std::optional<PlantEvidence> plant;
  std::optional<ArmEvidence> baseline;
  std::optional<ArmEvidence> winner;
  // The baseline kept: the candidate the confirmation measured against it and did not promote (its
  // score and throughput over the same rounds as the baseline's); `gain` is then its gain, not the
  // profile's. Absent in profiles written before 2026-12-06 (they put its throughput under winner).
  std::optional<ArmEvidence> candidate;
  std::optional<GainEvidence> gain;
  // The winner simplified (experiments/search/winner_simplification.hpp): the changes the profile
  // carries, those returned to the host's value, and the one line that says how it was decided.
  std::vector<ChangeEvidence> changes;
  std::vector<ChangeEvidence> returned;
  std::string simplification;
  // A retune that found the profile holding (the study's result only, no profile is written).
  std::optional<double> recorded;  // key recorded_score
  std::optional<double> score;     // the score measured now
  std::optional<std::vector<std::string>> drifted;

  // The score the profile should reach: the winner's, else the baseline's.
  std::optional<double> recorded_score() const;

  enum class Mode { Strict, Lenient };
  YAML::Node to_yaml() const;
  nlohmann::json to_json() const;
  // `where` names the source in messages ("p.yaml", "study s.sqlite"). A null node gives an empty
  // Evidence; a node that is not a map is an error (Strict) or empty (Lenient).
  static Evidence from_yaml(const YAML::Node& node, const std::string& where, Mode mode = Mode::Strict);
  static Evidence from_json(const nlohmann::json& j, const std::string& where, Mode mode = Mode::Strict);
};

}  // namespace wgopt::experiments

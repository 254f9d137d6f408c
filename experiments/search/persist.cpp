#include "experiments/search/persist.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "actuators/profile.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"

namespace wgopt::experiments {

Evidence build_evidence(const EvidenceInputs& in) {
  const auto& o = in.options;
  const auto& c = in.confirm;
  Evidence e;
  e.study = in.report.study_path;
  e.outcome = to_string(in.report.outcome);
  e.objective = objective_to_yaml(in.objective);
  e.trials = in.report.trials + in.report.resumed_trials;  // a resumed study's earlier trials too (it said 0 after a resume)
  e.confirmation = in.report.confirmation;
  e.created = utc_stamp("%Y-%m-%dT%H:%M:%SZ", in.now_unix);
  // Where it was measured, so `wgopt retune` can measure the same path again.
  if (o.testbed) {
    e.plant = PlantEvidence{.testbed = o.testbed_prefix};
  } else {
    e.plant = PlantEvidence{.peer = o.peer, .port = o.port, .netns = o.netns};
    if (o.ssh) e.plant->ssh = o.ssh->target;  // both ends tuned: the profile's `peer:` holds the far end
  }
  ArmEvidence base;
  // The confirmation's interleaved rounds, once it decided, are the reference for both arms: the
  // baseline's score, its throughput and the candidate's all come from the same rounds. A kept
  // baseline's candidate is recorded as such, never as a winner (recorded_score reads a winner's).
  std::optional<ArmEvidence> other;
  if (c.promote || c.confirmed) {
    const auto& conf = c.confirmation;
    base.score = conf.baseline_mean;
    base.ci95 = conf.baseline_ci;
    other = ArmEvidence{.score = conf.candidate_mean, .ci95 = conf.candidate_ci, .trial = c.winner_trial.value_or(0)};
    e.gain = GainEvidence{.score = conf.gain, .ci95 = conf.gain_ci, .relative = conf.relative_gain, .p_value = conf.p_value,
                          .method = conf.method};
  } else {
    const auto& bstats = in.baseline.stats;
    base.score = bstats.mean;
    base.ci95 = mean_interval(bstats, 0.95);
    base.n = static_cast<int>(bstats.n);
  }
  base.params = in.baseline_values;  // what the winner moved away from
  // Too few confirmation rounds to decide: the score is the search's baseline rounds', so is the
  // throughput.
  const auto& base_row = c.promote || c.confirmed ? c.baseline_row : in.baseline.averages;
  if (base_row.n > 0) base.throughput_mbps = base_row.mean_throughput();
  e.baseline = base;
  if (c.winner_row.n > 0) {
    if (!other) other = ArmEvidence{.trial = c.winner_trial};
    other->throughput_mbps = c.winner_row.mean_throughput();
  }
  (c.promote ? e.winner : e.candidate) = other;
  return e;
}

void write_profile(const std::string& path, const Values& knobs, const nlohmann::json& facts, const Evidence& evidence,
                   const SearchReport& report, bool retune, bool promote, const std::optional<act::PeerProfile>& peer) {
  act::Profile profile;
  for (const auto& [id, v] : knobs) {
    if (!id.starts_with("peer:")) profile.knobs.emplace_back(id, v);
  }
  profile.peer = peer;
  profile.host = YAML::Load(facts.dump());
  profile.evidence = evidence.to_yaml();
  if (retune && promote) {
    std::error_code ec;
    std::filesystem::copy_file(path, path + ".prev", std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) throw Error(fmt::format("cannot keep the old profile as {}.prev: {}", path, ec.message()));
  }
  if (retune && !promote) return;
  // Atomic: retune replaces the profile a boot unit and the nightly timer read, in place.
  const std::string text =
      "# wgopt profile from study " + one_line(report.study_path) + " (" + to_string(report.outcome) + ")\n" + act::dump_profile(profile);
  try {
    write_file_atomic(path, text);
  } catch (const Error& e) {
    throw Error(fmt::format("cannot write the profile to {}: {}", one_line(path), e.what()));
  }
}

void record_result(StudyStore& store, const SearchReport& report, const std::optional<int>& winner_trial, const Values& winner,
                   const Evidence& evidence, double now_unix) {
  StudyResult result;
  result.outcome = report.outcome;
  result.winner_trial = winner_trial;
  for (const auto& [id, v] : winner) result.params[id] = v;
  result.evidence = evidence.to_json();
  result.profile_path = report.profile_path;
  result.finished_at = now_unix;
  store.set_result(result);
}

}  // namespace wgopt::experiments

#include "experiments/search/persist.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "actuators/profile.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"

namespace wgopt::experiments {

nlohmann::json build_evidence(const EvidenceInputs& in) {
  const auto& o = in.options;
  const auto& c = in.confirm;
  nlohmann::json evidence = {{"study", in.report.study_path},
                             {"outcome", to_string(in.report.outcome)},
                             {"objective", objective_to_yaml(in.objective)},
                             {"trials", in.report.trials},
                             {"confirmation", in.report.confirmation},
                             {"created", utc_stamp("%Y-%m-%dT%H:%M:%SZ", in.now_unix)}};
  // Where it was measured, so `wgopt retune` can measure the same path again.
  if (o.testbed) {
    evidence["plant"] = {{"testbed", o.testbed_prefix}};
  } else {
    evidence["plant"] = {{"peer", o.peer}, {"port", o.port}};
    if (!o.netns.empty()) evidence["plant"]["netns"] = o.netns;
    if (o.ssh) evidence["plant"]["ssh"] = o.ssh->target;  // both ends tuned: the profile's `peer:` holds the far end
  }
  if (c.promote) {
    const auto& conf = c.confirmation;
    evidence["baseline"] = {{"score", conf.baseline_mean}, {"ci95", {conf.baseline_ci.low, conf.baseline_ci.high}}};
    evidence["winner"] = {{"score", conf.candidate_mean}, {"ci95", {conf.candidate_ci.low, conf.candidate_ci.high}},
                          {"trial", c.winner_trial.value_or(0)}};
    evidence["gain"] = {{"score", conf.gain}, {"ci95", {conf.gain_ci.low, conf.gain_ci.high}},
                        {"relative", conf.relative_gain}, {"p_value", conf.p_value}, {"method", conf.method}};
  } else {
    const auto& bstats = in.baseline.stats;
    auto ci = mean_interval(bstats, 0.95);
    evidence["baseline"] = {{"score", bstats.mean}, {"ci95", {ci.low, ci.high}}, {"n", bstats.n}};
  }
  for (const auto& [id, v] : in.baseline_values) evidence["baseline"]["params"][id] = v;  // what the winner moved away from
  if (c.baseline_row.n > 0) evidence["baseline"]["throughput_mbps"] = c.baseline_row.mean_throughput();
  if (c.winner_row.n > 0) evidence["winner"]["throughput_mbps"] = c.winner_row.mean_throughput();
  return evidence;
}

void write_profile(const std::string& path, const Values& knobs, const nlohmann::json& facts, const nlohmann::json& evidence,
                   const SearchReport& report, bool retune, bool promote, const std::optional<act::PeerProfile>& peer) {
  act::Profile profile;
  for (const auto& [id, v] : knobs) {
    if (!id.starts_with("peer:")) profile.knobs.emplace_back(id, v);
  }
  profile.peer = peer;
  profile.host = YAML::Load(facts.dump());
  profile.evidence = YAML::Load(evidence.dump());
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
                   const nlohmann::json& evidence, double now_unix) {
  StudyResult result;
  result.outcome = report.outcome;
  result.winner_trial = winner_trial;
  for (const auto& [id, v] : winner) result.params[id] = v;
  result.evidence = evidence;
  result.profile_path = report.profile_path;
  result.finished_at = now_unix;
  store.set_result(result);
}

}  // namespace wgopt::experiments

#pragma once
// Stage 10 of the search: the profile (the winner's knobs, the host facts, the evidence: scores with
// intervals, the objective, where it was measured) and the study's result. Retune writes the profile
// only when a confirmed winner replaces it, keeping the old one as PROFILE.prev.
#include <string>

#include <nlohmann/json.hpp>

#include "actuators/profile.hpp"
#include "experiments/search/confirmation_rounds.hpp"
#include "experiments/study/evidence.hpp"

namespace wgopt::experiments {

struct EvidenceInputs {
  const SearchOptions& options;
  const SearchReport& report;  // study path, outcome, trials, confirmation line
  const Objective& objective;
  const BaselineResult& baseline;
  const ConfirmResult& confirm;
  const Values& baseline_values;
  double now_unix = 0;
};

// What the profile and the study's result say about how the winner was found.
Evidence build_evidence(const EvidenceInputs& in);

// Writes the profile (retune: only when promoted, after copying the old one to .prev). Throws Error
// naming the path when it cannot be written.
// `peer`: the far end's part (--ssh), written as the profile's `peer:` section; parameters of the
// far end alone ("peer:ID") stay out of `knobs`.
void write_profile(const std::string& path, const Values& knobs, const nlohmann::json& facts, const Evidence& evidence,
                   const SearchReport& report, bool retune, bool promote, const std::optional<act::PeerProfile>& peer = std::nullopt);

// The study's result: the outcome, the winner's trial and knobs, the evidence, the profile's path.
void record_result(StudyStore& store, const SearchReport& report, const std::optional<int>& winner_trial, const Values& winner,
                   const Evidence& evidence, double now_unix);

}  // namespace wgopt::experiments

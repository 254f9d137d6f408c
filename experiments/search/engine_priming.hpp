#pragma once
// Stage 5 of the search: the engine, created from the plan and the space, and primed before its
// first ask: with the trials of a warm-start study (another search on this host: retune's
// profile study) and with the trials of the study being resumed. Neither costs budget time;
// resumed trials count toward the trial cap.
#include <memory>
#include <string>

#include "experiments/search/search_plan.hpp"
#include "experiments/search/space_binding.hpp"
#include "optimizer/strategy.hpp"

namespace wgopt::experiments {

class SearchProgress;

// The strategy the plan names, started at the space's current configuration.
std::unique_ptr<opt::Strategy> make_engine(const SearchPlan& plan, const SearchSpace& space);

struct Priming {
  int warm_trials = 0;  // trials of the warm-start study told to the engine
  int replayed = 0;     // trials of the resumed study told to the engine and counted against the trial cap (ones
                        // interrupted before their measurement, or voided by an outage, are neither)
};

// Tells the engine the warm-start study's finished trials (those whose values fit today's space;
// an unreadable study is skipped with a warning, never changed) and every trial of `store`, except
// trials interrupted before they were measured (TrialRecord::interrupted) or voided by an outage
// outside wgopt (TrialRecord::outage): they are no evidence.
Priming prime_engine(opt::Strategy& engine, const SearchSpace& space, const std::string& warm_start, const StudyStore& store,
                     SearchProgress& progress);

// The optimizer's view of a trial state.
opt::TrialState to_opt_state(TrialState s);

}  // namespace wgopt::experiments

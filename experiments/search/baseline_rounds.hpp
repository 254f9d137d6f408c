#pragma once
// Stage 6 of the search: the host as found, measured several rounds to learn the noise, and what
// the rest of the loop takes from it: the score's mean and spread, the §7.1 row, how long one full
// measurement takes on this plant, and the early-stopping references per scenario.
#include <vector>

#include "experiments/search/comparison_rows.hpp"
#include "experiments/search/plant_access.hpp"
#include "experiments/study/stats.hpp"
#include "experiments/study/study_store.hpp"

namespace wgopt::experiments {

class OutageWatch;
class SearchProgress;

struct BaselineResult {
  std::vector<Evaluation> evaluations;
  SampleStats stats;       // of the scores
  Averages averages;       // the §7.1 row of the host as found
  // What one full measurement takes on this plant, iperf3's start and stop included: the
  // reference for what early stopping saved and for how many confirmation rounds fit.
  double full_measure_s = 0;
};

// Measures `rounds` rounds and records each in the study. A round an outage outside wgopt broke (the
// tunnel down, or the peer's session lost and back) is measured again once the path is back
// (round_measurement.hpp). Throws Interrupted on Ctrl-C, Error when a round fails with the path up
// (no iperf3 server: nothing to search) or the path does not come back.
BaselineResult measure_baseline(PlantAccess& plant, OutageWatch& outages, const Objective& objective, const MeasureOptions& mo,
                                int rounds, StudyStore& store, SearchProgress& progress);

// The pruner's warm-up measured on the baseline rounds: the largest of measured_warmup_seconds over
// the objective's scenarios, at most `max_warmup` (the configured warm-up), which it is while there
// are fewer than two rounds long enough to measure it on.
int measured_warmup(const Objective& objective, const BaselineResult& baseline, int max_warmup);

// Per scenario of the objective: the baseline's mean per-second rate after the pruner's warm-up, its
// spread between rounds, the pooled per-second noise after the warm-up and the rounds' slowest ramp
// over the pruner's ramp_prior seconds (scenarios measured fewer than twice are left out).
PruneReferences prune_references(const Objective& objective, const BaselineResult& baseline, const PrunerOptions& pruner);

}  // namespace wgopt::experiments

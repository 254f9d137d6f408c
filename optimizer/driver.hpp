#pragma once
// The pure optimisation loop shared by `wgopt optimize` and the benchmark: ask -> evaluate -> tell,
// n_trials times, then the recommendation. The last `remeasure` trials re-evaluate the most
// promising already-measured configurations (Strategy::remeasure_candidate) so that the final choice
// rests on repeated measurements rather than on one lucky draw.
#include <functional>
#include <vector>

#include "optimizer/strategy.hpp"

namespace wgopt::opt {

struct EvalResult {
  TrialState state = TrialState::complete;
  double value = 0;   // ignored unless complete (or pruned with a finite estimate)
};

// Evaluates one configuration; `trial` counts from 0. Should not throw: report a broken evaluation
// as TrialState::failed. (An exception propagates out of run() unchanged.)
using Evaluate = std::function<EvalResult(const Config& config, int trial)>;

struct Trial {
  int number = 0;
  Config config;
  TrialState state = TrialState::complete;
  double value = 0;
  bool remeasure = false;   // a re-measurement of an earlier configuration
};

struct RunOptions {
  // Trials reserved at the end for re-measurement; -1 picks round(n_trials / 20) when n_trials >= 20
  // and 0 otherwise; 0 disables. (bo's recommendation is already a posterior mean; on Hartmann6
  // with 5% noise n/20 re-measurements kept false promotion at 3% while n/10 cost search budget.)
  int remeasure = -1;
  // Called after each trial is told (progress lines, persistence). May be empty.
  std::function<void(const Trial&)> on_trial;
};

struct RunResult {
  std::vector<Trial> trials;
  Recommendation best;   // strategy.recommend() after the last trial
};

// Runs n_trials evaluations through `strategy` (fresh or already told some trials).
RunResult run(Strategy& strategy, int n_trials, const Evaluate& evaluate, const RunOptions& options = {});

// The number of re-measurement trials run() reserves for `n_trials` under `options`.
int remeasure_trials(int n_trials, const RunOptions& options);

}  // namespace wgopt::opt

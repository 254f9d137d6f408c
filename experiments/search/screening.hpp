#pragma once
// Stage 7b of the search, between the baseline rounds and the trials: the fidelity levels of a
// trial's measurement (multi-fidelity). Low fidelity: the first seconds of each measurement are a
// screening measurement, decided once at its end (decide_screen: could the candidate beat the
// incumbent, given the noise the baseline rounds measured?). High fidelity: only a candidate that
// passes goes on to the full length. The sequential pruner (decide_prune: clearly worse?) watches
// every other second after the warm-up, before and after the screen. A screened-out trial is told to the engine as pruned with a
// low-fidelity value (the incumbent's score scaled by the screen's rate over the incumbent's), and
// the study records it with its fidelity (metrics "fidelity").
//
// Both decisions start after the warm-up the baseline rounds measured (measured_warmup_seconds,
// 1..3 s) instead of a fixed 3 s, so they act as early as this plant allows.
//
//   Fidelity f = plan_fidelity(o, plan.objective, baseline, mo.pruner);
//   mo.pruner = f.pruner; mo.screen = f.screen; refs = prune_references(objective, baseline, f.pruner.warmup_seconds);
//
// Inputs: the search's options (prune, screen), the objective and the baseline rounds. Outputs: the
// pruner's options with the measured warm-up, the screen (seconds 0: off) and a line for the
// progress. No errors (too little baseline data keeps the pruner's default warm-up).
#include <string>

#include "experiments/search/baseline_rounds.hpp"
#include "experiments/search/search.hpp"

namespace wgopt::experiments {

struct Fidelity {
  PrunerOptions pruner;  // warmup_seconds: measured on the baseline rounds
  ScreenOptions screen;  // seconds 0: no screen (--no-screen, --no-prune, or a measurement too short)
  std::string line;      // what the progress says about it
};

// Samples after the warm-up the screen decides on: two seconds are enough for the known-noise test
// (bench_study_decisions) and keep the screen a small share of a 10 s measurement.
inline constexpr int kScreenSamples = 2;

Fidelity plan_fidelity(const SearchOptions& o, const Objective& objective, const BaselineResult& baseline, PrunerOptions pruner);

// The incumbent's references after a better complete trial: per scenario its mean rate after the
// warm-up (the screen and the pruner compare the candidate's rate after the warm-up with it).
void raise_incumbent(PruneReferences& refs, const Evaluation& ev, int warmup_seconds);

// The value a pruned or screened-out trial is told with: estimate_pruned on the rate its decision
// saw after the warm-up (a low-fidelity value, never above the incumbent).
double low_fidelity_value(double incumbent_score, const Evaluation& ev, const PruneReferences& refs);

// The study's record of the fidelity a trial was measured at: {"level": "screen" | "pruned" | "full",
// "seconds": measured, "full_seconds": a full measurement here}.
nlohmann::json fidelity_json(const Evaluation& ev, double full_measure_s);

}  // namespace wgopt::experiments

#include "experiments/search/baseline_rounds.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.hpp"
#include "experiments/search/outage.hpp"
#include "experiments/search/round_measurement.hpp"
#include "experiments/search/search_progress.hpp"
#include "experiments/study/pruner.hpp"

namespace wgopt::experiments {

BaselineResult measure_baseline(PlantAccess& plant, OutageWatch& outages, const Objective& objective, const MeasureOptions& mo,
                                int rounds, StudyStore& store, SearchProgress& progress) {
  BaselineResult b;
  std::vector<double> scores;
  // Nothing applied: the host as it is. After the first round (the path works) an outside outage's
  // measurement is measured again.
  ArmSetup setup{.objective = objective, .mo = mo, .lease = {}, .settle = {}, .own_mbps = 0, .void_outages = false};
  double own_sum = 0;
  for (int r = 1; r <= rounds; ++r) {
    progress.show("baseline", r, rounds);
    setup.void_outages = r > 1;
    setup.own_mbps = r > 1 ? own_sum / (r - 1) : 0;  // the rounds before: a rate under a tenth of theirs looks broken
    auto ev = measure_arm(plant, outages, progress, setup, nullptr, "baseline", fmt::format("baseline round {}", r));
    if (!ev.score) {
      throw Error(fmt::format("the baseline measurement failed: {} (is the tunnel up? try `wgopt testbed status`); nothing was "
                              "changed; once the path works, {}",
                              ev.note, outages.way_on()));
    }
    own_sum += ev.score->throughput_mbps;
    store.add_baseline({.round = r, .score = ev.score->value, .metrics = ev.metrics_json(true), .measured_at = plant.env().unix_time()});
    scores.push_back(ev.score->value);
    b.evaluations.push_back(std::move(ev));
  }
  b.stats = sample_stats(scores);
  progress.set_baseline(b.stats.mean);
  progress.say(fmt::format("baseline: score {:.1f} ± {:.1f} (sd over {} rounds)", b.stats.mean, b.stats.stddev, b.stats.n));
  for (const auto& ev : b.evaluations) {
    accumulate(b.averages, ev);
    b.full_measure_s += ev.seconds / static_cast<double>(b.evaluations.size());
  }
  return b;
}

namespace {

// The baseline rounds' per-second series of one scenario (rounds that measured it).
std::vector<std::vector<double>> scenario_series(const BaselineResult& baseline, const std::string& scenario) {
  std::vector<std::vector<double>> series;
  for (const auto& ev : baseline.evaluations) {
    for (const auto& s : ev.scenarios) {
      if (s.scenario == scenario && s.series_mean_mbps > 0) series.push_back(s.series_mbps);
    }
  }
  return series;
}

}  // namespace

int measured_warmup(const Objective& objective, const BaselineResult& baseline, int max_warmup) {
  int warmup = 0;
  for (const auto& spec : objective.scenarios) {
    warmup = std::max(warmup, measured_warmup_seconds(scenario_series(baseline, spec.name), max_warmup));
  }
  return objective.scenarios.empty() ? max_warmup : warmup;
}

PruneReferences prune_references(const Objective& objective, const BaselineResult& baseline, const PrunerOptions& pruner) {
  const int warmup_seconds = pruner.warmup_seconds;
  PruneReferences refs;
  for (const auto& spec : objective.scenarios) {
    const auto series = scenario_series(baseline, spec.name);
    std::vector<double> means;
    for (const auto& one : series) means.push_back(steady_mean(one, warmup_seconds));
    if (means.size() >= 2) {
      auto st = sample_stats(means);
      PruneReference& ref = refs[spec.name];
      ref = {st.mean, st.stddev, pooled_per_second_sd(series, warmup_seconds), pooled_per_second_r(series, warmup_seconds)};
      for (const auto& one : series) learn_ramp(ref, one, pruner);
    }
  }
  return refs;
}

}  // namespace wgopt::experiments

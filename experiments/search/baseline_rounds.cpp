#include "experiments/search/baseline_rounds.hpp"

#include <fmt/format.h>

#include "common/error.hpp"
#include "experiments/search/search_progress.hpp"
#include "experiments/study/pruner.hpp"

namespace wgopt::experiments {

BaselineResult measure_baseline(PlantAccess& plant, const Objective& objective, const MeasureOptions& mo, int rounds,
                                StudyStore& store, SearchProgress& progress) {
  BaselineResult b;
  std::vector<double> scores;
  for (int r = 1; r <= rounds; ++r) {
    progress.show("baseline", r, rounds);
    auto ev = plant.measure(objective, mo);
    if (ev.state == Evaluation::State::Interrupted) throw Interrupted{};
    if (!ev.score) throw Error(fmt::format("the baseline measurement failed: {} (is the tunnel up? try `wgopt testbed status`)", ev.note));
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

PruneReferences prune_references(const Objective& objective, const BaselineResult& baseline, int warmup_seconds) {
  PruneReferences refs;
  for (const auto& spec : objective.scenarios) {
    std::vector<double> means;
    std::vector<std::vector<double>> series;
    for (const auto& ev : baseline.evaluations) {
      for (const auto& s : ev.scenarios) {
        if (s.scenario == spec.name && s.series_mean_mbps > 0) {
          means.push_back(s.series_mean_mbps);
          series.push_back(s.series_mbps);
        }
      }
    }
    if (means.size() >= 2) {
      auto st = sample_stats(means);
      refs[spec.name] = {st.mean, st.stddev, pooled_per_second_sd(series, warmup_seconds), pooled_per_second_r(series, warmup_seconds)};
    }
  }
  return refs;
}

}  // namespace wgopt::experiments

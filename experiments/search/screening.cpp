#include "experiments/search/screening.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace wgopt::experiments {

namespace {

// The longest warm-up any scenario of the objective shows over the baseline rounds.
int baseline_warmup(const Objective& objective, const BaselineResult& baseline, int max_seconds) {
  int warm = 0;
  for (const auto& spec : objective.scenarios) {
    std::vector<std::vector<double>> series;
    for (const auto& ev : baseline.evaluations) {
      for (const auto& s : ev.scenarios) {
        if (s.scenario == spec.name) series.push_back(s.series_mbps);
      }
    }
    warm = std::max(warm, measured_warmup_seconds(series, max_seconds));
  }
  return warm > 0 ? warm : max_seconds;
}

}  // namespace

Fidelity plan_fidelity(const SearchOptions& o, const Objective& objective, const BaselineResult& baseline, PrunerOptions pruner) {
  Fidelity f;
  const int measured = baseline_warmup(objective, baseline, pruner.warmup_seconds);
  const int fixed = pruner.warmup_seconds;
  pruner.warmup_seconds = measured;
  f.pruner = pruner;
  const int duration = static_cast<int>(objective.duration.count());
  const int screen_s = measured + kScreenSamples;
  if (!o.prune) {
    f.line = "";
    return f;
  }
  // A screen is worth it only when at least two seconds of the measurement lie after it.
  if (o.screen && duration >= screen_s + 2) f.screen.seconds = screen_s;
  const std::string warm = fmt::format("warm-up {} s measured on the baseline rounds (at most {} s)", measured, fixed);
  if (f.screen.seconds > 0) {
    f.line = fmt::format("screening: the first {} s of each {} s measurement screen the candidate ({}); only one that could "
                         "beat the incumbent goes on to the full length; early stopping looks every second from {} s",
                         f.screen.seconds, duration, warm, measured + 1);
  } else {
    f.line = fmt::format("early stopping from {} s ({}){}", measured + 1, warm, o.screen ? "; no screen: the measurement is too short" : "");
  }
  return f;
}

void raise_incumbent(PruneReferences& refs, const Evaluation& ev, int warmup_seconds) {
  for (const auto& s : ev.scenarios) {
    auto it = refs.find(s.scenario);
    const double rate = post_warmup_mean(s.series_mbps, warmup_seconds);
    if (it != refs.end() && rate > 0) it->second.mean_mbps = rate;
  }
}

double low_fidelity_value(double incumbent_score, const Evaluation& ev, const PruneReferences& refs) {
  const auto& s = ev.scenarios.back();
  auto it = refs.find(s.scenario);
  const double rate = s.pruned_mean_mbps > 0 ? s.pruned_mean_mbps : s.series_mean_mbps;
  return estimate_pruned(incumbent_score, rate, it == refs.end() ? 0 : it->second.mean_mbps);
}

nlohmann::json fidelity_json(const Evaluation& ev, double full_measure_s) {
  const bool screened = ev.state == Evaluation::State::Pruned && !ev.scenarios.empty() && ev.scenarios.back().screened;
  const char* level = ev.state != Evaluation::State::Pruned ? "full" : screened ? "screen" : "pruned";
  return {{"level", level}, {"seconds", ev.seconds}, {"full_seconds", full_measure_s}};
}

}  // namespace wgopt::experiments

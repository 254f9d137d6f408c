#include "experiments/search/engine_priming.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "common/error.hpp"
#include "experiments/search/search_progress.hpp"

namespace wgopt::experiments {

namespace {

Values params_of(const TrialRecord& t) {
  Values v;
  for (auto it = t.params.begin(); it != t.params.end(); ++it) v[it.key()] = it.value().get<std::string>();
  return v;
}

int tell_warm_start(opt::Strategy& engine, const SearchSpace& space, const std::string& path, SearchProgress& progress) {
  int told = 0;
  try {
    auto warm = StudyStore::open_read_only(path);  // never changes the old study
    for (const auto& t : warm.trials()) {
      if (t.state == TrialState::Running || t.not_evidence()) continue;
      try {
        engine.tell(space.from_values(params_of(t)), to_opt_state(t.state), t.score.value_or(std::nan("")));
        ++told;
      } catch (const std::exception& e) {
        spdlog::debug("warm start: trial {} skipped: {}", t.number, e.what());
      }
    }
    progress.say(fmt::format("warm start: {} trials of {} primed the engine", told, path));
  } catch (const UsageError& e) {
    spdlog::warn("warm start skipped: {}", e.what());
  }
  return told;
}

}  // namespace

opt::TrialState to_opt_state(TrialState s) {
  switch (s) {
    case TrialState::Complete: return opt::TrialState::complete;
    case TrialState::Pruned: return opt::TrialState::pruned;
    case TrialState::Infeasible: return opt::TrialState::infeasible;
    default: return opt::TrialState::failed;
  }
}

std::unique_ptr<opt::Strategy> make_engine(const SearchPlan& plan, const SearchSpace& space) {
  opt::StrategyOptions so;
  so.direction = opt::Direction::maximize;
  so.seed = plan.seed;
  so.start = space.current_config();
  so.budget = plan.trials_cap.value_or(0);
  return opt::make_strategy(plan.strategy, space.space(), so);
}

Priming prime_engine(opt::Strategy& engine, const SearchSpace& space, const std::string& warm_start, const StudyStore& store,
                     SearchProgress& progress) {
  Priming p;
  if (!warm_start.empty()) p.warm_trials = tell_warm_start(engine, space, warm_start, progress);
  const auto trials = store.trials();
  if (trials.empty()) return p;
  int interrupted = 0, outages = 0, stalls = 0;
  for (const auto& t : trials) {
    if (t.outage()) {  // voided by an outage outside wgopt (or a stall, measured again): not a trial of the cap either
      ++(t.stall_void() ? stalls : outages);
      continue;
    }
    if (t.interrupted()) {  // never measured: not a trial of the cap (found by an exploratory test: resumes used it up)
      ++interrupted;
      continue;
    }
    ++p.replayed;
    engine.tell(space.from_values(params_of(t)), to_opt_state(t.state), t.score.value_or(std::nan("")));
  }
  // The replayed trials' best, on the progress line from the start (it read "best est. -" until
  // the resumed search's first trial ended).
  if (const auto best = engine.recommend(); best.valid) progress.set_best(best.mean);
  progress.say(fmt::format("resumed {}: {} earlier trials replayed into the engine{}{}{}", store.path(),
                           p.replayed,
                           interrupted ? fmt::format(" ({} interrupted before measurement left out)", interrupted) : "",
                           outages ? fmt::format(" ({} voided by an outside outage left out)", outages) : "",
                           stalls ? fmt::format(" ({} stalled and measured again left out)", stalls) : ""));
  return p;
}

}  // namespace wgopt::experiments

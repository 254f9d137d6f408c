#include "optimizer/driver.hpp"

#include <algorithm>
#include <cmath>

namespace wgopt::opt {

int remeasure_trials(int n_trials, const RunOptions& options) {
  if (options.remeasure >= 0) return std::min(options.remeasure, std::max(0, n_trials - 1));
  return n_trials >= 20 ? int(std::lround(n_trials / 20.0)) : 0;
}

RunResult run(Strategy& strategy, int n_trials, const Evaluate& evaluate, const RunOptions& options) {
  RunResult out;
  const int reserved = remeasure_trials(n_trials, options);
  for (int t = 0; t < n_trials; ++t) {
    Trial trial;
    trial.number = t;
    if (t >= n_trials - reserved) {
      if (auto c = strategy.remeasure_candidate()) {
        trial.config = std::move(*c);
        trial.remeasure = true;
      }
    }
    if (!trial.remeasure) trial.config = strategy.ask();
    EvalResult r = evaluate(trial.config, t);
    trial.state = r.state;
    trial.value = r.value;
    strategy.tell(trial.config, trial.state, trial.value);
    out.trials.push_back(trial);
    if (options.on_trial) options.on_trial(out.trials.back());
  }
  out.best = strategy.recommend();
  return out;
}

}  // namespace wgopt::opt

#pragma once
// Ask/tell search strategies over a Space. Pure and deterministic: the same options (seed included)
// and the same sequence of tell()s give the same sequence of ask()s, bit for bit.
//
//   auto s = make_strategy("bo", space, {.direction = Direction::maximize, .seed = 7, .budget = 60});
//   Config c = s->ask();  ...measure...  s->tell(c, TrialState::complete, gbps);
//   Recommendation r = s->recommend();
//
// Strategies:
//   bo          Gaussian process (Matern 5/2 ARD, standardised outputs, learned noise; MAP
//               hyperparameters by NLopt, lengthscale priors widened with the dimension; masks also
//               by popcount, each mask bit a main effect of the kernel's additive part) + log
//               expected improvement over the posterior-mean incumbent, times
//               the probability of success of a feasibility GP once a trial failed; a space-filling
//               initial design that starts with `start` when given.
//   random      independent uniform configurations (conditions respected).
//   coordinate  the field guide's one knob at a time: from `start` (or the space's defaults) try a
//               few values of one parameter, keep the best, move to the next; step sizes halve
//               after each full sweep.
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "optimizer/space.hpp"

namespace wgopt::opt {

enum class Direction { minimize, maximize };

// What happened to a trial.
//   complete    value is the measurement.
//   failed      the evaluation broke (crash, timeout, lost connectivity); value is ignored. The
//               strategy learns where failures happen (bo: a feasibility model whose probability of
//               success weights the acquisition; the objective model sees measured values only), so
//               the region is not proposed again and never retried blindly, while the measured
//               neighbours right at its edge keep their values.
//   infeasible  the configuration cannot be applied (rejected by the host); treated like failed.
//   pruned      stopped early because it was clearly worse; value, if finite, is the estimate at
//               the time of pruning and is used as an observation; a NaN value is treated as failed.
enum class TrialState { complete, failed, pruned, infeasible };
const char* to_string(TrialState s);

struct StrategyOptions {
  Direction direction = Direction::minimize;
  std::uint64_t seed = 0;
  // The host's current configuration: the first trial of `bo`'s design and `coordinate`'s start.
  std::optional<Config> start;
  // Planned number of trials (including re-measurements); sizes the initial design. 0: unknown.
  int budget = 0;
  // Initial design size for `bo`; 0 picks one from the dimension and the budget.
  int n_initial = 0;
};

// The configuration a strategy stands behind, with what it expects of it (in the user's units and
// direction). For `bo` the choice is the evaluated configuration with the best posterior mean, not
// the luckiest single measurement; for model-free strategies it is the evaluated configuration with
// the best average of its measurements (sd: the standard error of that average, NaN if measured once).
struct Recommendation {
  Config config;
  double mean = 0;
  double sd = 0;
  int evaluations = 0;   // how many complete measurements of exactly this config were told
  bool valid = false;    // false until at least one complete trial was told
};

// One changed parameter's part in a winner (Strategy::contributions): the model's estimate of how much
// better, in the user's units and direction, `winner` is than `winner` with only this parameter put
// back to the baseline's value (conditions re-applied: reverting rps to 0 also drops rfs). Positive:
// the change helps. `sd` is the posterior sd of that difference (the two points' covariance
// included), so gain +- 2 sd is an interval; NaN when the strategy has no model or the parameter
// has no baseline value to go back to (inactive in the baseline).
struct Contribution {
  std::string param;
  Value winner;
  std::optional<Value> baseline;   // nullopt: inactive in the baseline
  double gain = std::nan("");
  double sd = std::nan("");
};

// The model's estimate of how much better, in the user's units and direction, `a` is than `b`
// (Strategy::difference), and the posterior sd of that difference (their covariance included).
struct Difference {
  double mean = std::nan("");
  double sd = std::nan("");
};

class Strategy {
 public:
  virtual ~Strategy() = default;

  // The next configuration to evaluate: valid for the space (Space::validate(c) is empty).
  virtual Config ask() = 0;
  // The outcome of evaluating `config` (normally one returned by ask(), but any valid config may be
  // told, e.g. from a resumed study). Throws wgopt::UsageError on a config the space rejects.
  virtual void tell(const Config& config, TrialState state, double value) = 0;
  // See Recommendation.
  virtual Recommendation recommend() = 0;
  // An already evaluated configuration worth measuring again to make the final choice reliable: the
  // most uncertain of the few best by posterior mean (bo), or the best-looking measured the fewest
  // times (others). nullopt before any complete trial.
  virtual std::optional<Config> remeasure_candidate() = 0;
  // Each parameter whose value differs between `winner` and `baseline` (both valid configurations),
  // in the space's order, with its estimated contribution (see Contribution). Pure: asks and tells
  // are unaffected. Model-free strategies (and bo before any complete trial) give NaN estimates.
  // Throws wgopt::UsageError when either configuration is invalid for the space.
  virtual std::vector<Contribution> contributions(const Config& winner, const Config& baseline) = 0;
  // The model's joint estimate of f(a) - f(b) (see Difference): what several changes undone at once
  // cost, which the sum of their contributions misses when they interact or share evidence. Pure.
  // NaNs without a model (model-free strategies; bo before any complete trial). bo throws
  // wgopt::UsageError when either configuration is invalid for the space.
  virtual Difference difference(const Config& /*a*/, const Config& /*b*/) { return {}; }

  virtual std::string name() const = 0;
};

// "bo", "random" or "coordinate". Throws wgopt::UsageError naming the strategy on any other
// name, or naming the entry when space.validate() or options.start is bad.
std::unique_ptr<Strategy> make_strategy(const std::string& name, const Space& space,
                                        const StrategyOptions& options);

// The names make_strategy accepts, for --help texts.
std::vector<std::string> strategy_names();

}  // namespace wgopt::opt

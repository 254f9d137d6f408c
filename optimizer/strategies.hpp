#pragma once
// Constructors behind make_strategy (strategy.cpp validates the space and options first).
#include <memory>

#include "optimizer/strategy.hpp"

namespace wgopt::opt {
std::unique_ptr<Strategy> make_random_strategy(const Space& space, const StrategyOptions& o);
std::unique_ptr<Strategy> make_coordinate_strategy(const Space& space, const StrategyOptions& o);

// What `bo` does beyond a plain GP + EI (the defaults are what make_strategy("bo") uses; warp was
// measured and left off). Switching one gives the ablations bench_optimizer measures (strategy
// names bo/-feas, bo/-popcount, bo/-lscale, bo/-neigh, bo/+warp).
struct BoSettings {
  // Failed/infeasible trials train a feasibility model (a GP on +-1 labels) whose probability of
  // success multiplies EI; the objective GP sees only measured values. Off: failures enter the
  // objective GP at the worst value seen (the old behaviour).
  bool feasibility = true;
  // Each CPU mask also enters the model as its popcount / bits (how many cores), beside its bits.
  bool popcount = true;
  // The GP models the values' normal scores (rank-Gaussian warping) instead of the values.
  bool warp = false;
  // The lengthscale priors grow with sqrt(model dims / lengthscale_ref_dims) beyond that many dims
  // (Gp::set_lengthscale_scale).
  bool scale_lengthscales = true;
  double lengthscale_ref_dims = 9;
  // The acquisition's candidates include every one-step discrete neighbour of the best measured
  // configurations (besides random configurations and random perturbations of them).
  bool neighbours = true;
};
std::unique_ptr<Strategy> make_bo_strategy(const Space& space, const StrategyOptions& o, const BoSettings& b = {});

// The parameters that differ between winner and baseline, estimates left NaN (for contributions()).
// Throws wgopt::UsageError naming the configuration that is invalid.
std::vector<Contribution> changed_params(const Space& space, const Config& winner, const Config& baseline);
}  // namespace wgopt::opt

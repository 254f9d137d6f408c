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
  // The acquisition is log EI + feasibility_weight * log P(success): above 1 a failure (a lost
  // tunnel, a rollback) costs more than the information it brings.
  double feasibility_weight = 2;
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
  // One lengthscale per parameter (a mask's bits and a categorical's one-hot coordinates share
  // theirs; Gp::set_lengthscale_groups) instead of one per model dimension.
  bool tie_lengthscales = true;
  // The objective GP's likelihood is Student-t with robust_nu degrees of freedom (Gp::student_t_em)
  // instead of Gaussian: heavy-tailed measurement noise (lost seconds, a neighbour's burst) neither
  // drags the model towards one bad draw nor inflates the noise estimate everywhere.
  bool robust = true;
  double robust_nu = 4;
  // Only measurements worse than the model are down-weighted (Gp::student_t_em's one_sided): a
  // lucky-looking measurement at an isolated optimum is believed, a lost second is not. Off: on
  // seeds 100-123 (n=50, 5% / 10%) it helped wg_host8 at 5% (0.707 -> 0.532) and wg_host16 at 10%
  // (0.629 -> 0.519) but cost wg_host8 at 10% (0.728 -> 0.838) and wg_host2, whose Student-t noise
  // is symmetric (0.0305 / 0.138 -> 0.0657 / 0.193).
  bool robust_one_sided = false;
  // EI counts improvement beyond the incumbent's posterior mean minus xi (standardised units) minus
  // m times the fitted noise sd. With a known budget m moves linearly from xi_noise (after the
  // initial design) to xi_noise_end (at the last trial): a positive margin explores (only points
  // that may beat the incumbent by a noise sd count), a negative one exploits (EI then ranks by
  // the posterior mean near the incumbent, so the last trials refine and re-confirm the region the
  // recommendation comes from). Without a budget m stays xi_noise. Constant by default: shrinking it
  // to 0 or -1 over the budget was worse on Hartmann6 (12 seeds, n=50, 5% / 10% noise: 0.116 / 0.789
  // constant, 0.401 / 0.738 to 0, 0.681 / 0.624 to -1; n=100 false promotion 0.17 / 0.33 against
  // 0.25 / 0.50 and 0.17 / 0.42) and no better on wg_host8 (8 seeds: 0.691 / 0.818 against 0.716 /
  // 0.998 and 0.724 / 0.936).
  double xi = 0;
  double xi_noise = 1;
  double xi_noise_end = 1;
  // remeasure_candidate(): the measured configuration whose one more measurement is expected to
  // improve the final choice most (knowledge gradient over the best few by posterior mean) instead
  // of the most uncertain of the best three.
  bool kg_remeasure = true;
  // From kg_ask_from x the budget on (when StrategyOptions::budget is known), ask() re-measures a
  // measured configuration instead of proposing the acquisition's new one when that is expected to
  // improve the final choice more (both by the knowledge gradient of the choice among measured
  // configurations). Off: on the hosts at 10% noise (8 seeds) it neither lowered false promotion
  // (wg_host4 0.75 -> 1.0) nor regret (wg_host4 0.24 -> 0.49; Hartmann6s within noise): a new point
  // near the incumbent seldom has a one-step gain, so it re-measures instead of searching.
  bool kg_ask = false;
  double kg_ask_from = 0.5;
  double kg_ask_min = 0.01;   // a re-measurement's gain must exceed this many fitted noise sds
  // Adaptive re-measurement (off): in the last remeasure_max x the budget (when StrategyOptions::budget
  // is known), ask() re-measures the knowledge-gradient choice among the measured configurations
  // (kg_remeasure's) instead of proposing a new point while the trials left are at most
  // remeasure_max x budget x min(1, s / (remeasure_ratio x gap)): s is the fitted noise sd and gap
  // the mean distance of the 2nd..5th best posterior means from the best (more of the end goes to
  // the choice when the noise is large against the differences between the best candidates). Off:
  // on wg_host8 (seeds 100-111, 5% / 10%) 0.643 / 0.801 against 0.640 / 0.732 (ratio 4: 0.644 /
  // 0.854), like fixed shares (driver's rm=10/16/24: 0.686-0.617 / 0.668-0.793). There the fitted
  // noise is mostly the interference (s ~0.37 standardised at both levels), so the rule cannot tell
  // 5% from 10% and re-measures in most of the window; the best configurations a run measured sit
  // at rank 7-28 of the posterior means, out of reach of re-measuring the top few.
  bool remeasure_adaptive = false;
  double remeasure_max = 0.2;
  double remeasure_ratio = 2;
  // EI sees the posterior variance capped at variance_cap x the prior variance (0: no cap), or only
  // while polishing candidates (L-BFGS and the discrete hill climb: polish_variance_cap). Against
  // boundary over-exploration: on Hartmann6 at 10% noise 42% of the post-design coordinates were
  // exactly 0 or 1 (L-BFGS follows the variance, largest on the cube's faces, especially in the
  // additive part), and a run that has not found the basin stays there. Capped at 0.3 (48 seeds,
  // 100-147, n=50, 10%): Hartmann6 0.556 -> 0.330 (polish only 0.313), mixed Hartmann6 0.153 ->
  // 0.167 (0.143). On the hosts 12 seeds (100-111, 5% / 10%) said it costs: wg_host8 0.640 / 0.732 ->
  // 0.668 / 0.986 (polish only 0.723 / 0.839), wg_host16 0.283 / 0.629 -> 0.280 / 0.675 (0.274 / 0.675);
  // the 30-seed table (seeds 0-29, bench/README.md) of polish_variance_cap = 0.3 says otherwise:
  // Hartmann6 10% 0.539 -> 0.285, every host within +-0.1 (wg_host8 10% 0.964 -> 0.863, wg_host4 10%
  // 0.421 -> 0.514), and it meets issue 4's false promotion bound (Hartmann6 5%, n=100: 0.133 ->
  // 0.10). On (polish only, 0.3) since 2026-12-02; bo/vcapp=0 is the engine before.
  double variance_cap = 0;
  double polish_variance_cap = 0.3;
  // The GPs' kernels get a first-order additive part (Gp::set_additive).
  bool additive = true;
  // In that additive part each bit of a CPU mask is a main effect of its own (whether the IRQ core,
  // the crypto core, ... is in the mask), its lengthscale shared with the mask's other bits
  // (Gp::set_additive_components); off: the mask is one component (a function of Hamming distance).
  bool mask_bit_effects = true;
  // The bits then share one parameter's part of the additive variance instead of one each (off:
  // on wg_host8 (12 seeds) 0.785 / 1.24 at 5% / 10% against 0.64 / 0.73 with one each).
  bool mask_bit_share = false;
  // A candidate changes only what the model expects to help: after the acquisition's choice is
  // polished, each parameter is returned to the start's value (StrategyOptions::start; none: off)
  // while the acquisition (log EI + log P(feasible)) loses at most sparse_tolerance in all, the
  // return costing least first. A design point moves every knob at random, and a polished
  // candidate inherits the moves the model is indifferent to; without this a winner changes knobs
  // because a random point moved them, not because they help. Off (0): with 4 on every second
  // candidate (sparse_every 2) wg_host8's regret at n=50 fell on two seed sets of three (seeds 0-29,
  // 5% / 10%: 0.795 / 0.863 -> 0.392 / 0.664) and its needless changes halved, but wg_host4 and
  // wg_host16, whose optima move nearly every knob, were worse on every seed set at 10% (wg_host16:
  // 0.44 -> 0.72); bench/README.md, "The winner's needless changes on 30 seeds".
  double sparse_tolerance = 0;
  // With a known budget the tolerance grows linearly from 0 (after the initial design) to
  // sparse_tolerance (at the last trial): early candidates explore every knob, late ones, near the
  // recommendation, keep only the changes that earn their place.
  bool sparse_ramp = false;
  // Only every sparse_every-th candidate is returned so (1: each): the others explore every knob.
  int sparse_every = 1;
  // In the last loo_share of a known budget (0: off) ask() measures the incumbent (best posterior
  // mean) with one of its changes returned to the start's value: the return whose loss the model
  // bounds lowest (mean + 1 sd) among those not measured yet. A backward elimination on the plant:
  // a return that measures as well becomes the incumbent, and the model learns each change's part
  // from measurements beside the winner instead of from design points far from it. Off: 15 such
  // trials of 50 removed at most 0.7 of wg_host8's 5 needless changes (one measurement at 5-10%
  // noise cannot tell a change worth 0.5% from none) and cost regret on wg_host2 and wg_host4.
  double loo_share = 0;
  // With a start, each parameter of the initial design takes the start's value in this share of
  // the design's other points (anchor_to_start): every knob's move is then measured against the
  // start apart from the others', so the model can tell which changes matter. Off (0): at 0.5 the
  // simulation was mixed (wg_host8 / wg_host16 at 10%: 0.863 -> 1.04, 0.44 -> 0.55), and on the
  // testbed the winner's contribution intervals stayed as wide and its gain fell (1.86x against
  // 1.92-2.02x); bench/README.md, "A design anchored at the host's values".
  double design_start_share = 0;
  // contributions() and difference() read the additive part's posterior (Gp::predict_cov_additive):
  // each change's main effect, without the interaction part's uncertainty at points nothing
  // measured, which is what keeps the winner's per-change intervals wide (+-60 .. +-90 Mbit/s on
  // the testbed). Off: in the simulation (30 seeds, n=50) the simplification then proposed and
  // returned more (wg_host2 5%: 0.8 -> 2.7 proposed, profile 5.4 -> 4.5 changes) but the returns were
  // small real effects, not needless ones (needless 0.7 -> 0.5), and profile regret rose on six of
  // eight cells (wg_host2 5% 0.055 -> 0.193, wg_host4 10% 0.563 -> 0.772); bench/README.md, "Main
  // effects as the changes' credits".
  bool additive_contributions = false;
  // With additive_contributions, only contributions() (the credits the proposal ranks by): the joint
  // loss, difference(), stays the whole model's, so the proposal's allowance and the check's decision
  // are as before. Off: profile regret within the seeds' noise but for wg_host2 5% (0.055 -> 0.127),
  // needless changes 0.0-0.2 fewer, and the reported intervals would understate the model's doubt.
  bool additive_credits_only = false;
};
std::unique_ptr<Strategy> make_bo_strategy(const Space& space, const StrategyOptions& o, const BoSettings& b = {});

// The parameters that differ between winner and baseline, estimates left NaN (for contributions()).
// Throws wgopt::UsageError naming the configuration that is invalid.
std::vector<Contribution> changed_params(const Space& space, const Config& winner, const Config& baseline);
}  // namespace wgopt::opt

#pragma once
// One benchmark run and its metrics, and the suggestion-time measurement. Pure apart from the clocks
// (RunMetrics::seconds, time_per_suggestion); every run's metrics is reproducible from (problem, noise, strategy, seed, trials).
#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "bench/problems.hpp"
#include "optimizer/strategy.hpp"

namespace wgopt::bench {

struct RunSpec {
  std::string problem;
  int noise = 0;            // percent of |f*| (Branin: absolute sd noise / 100)
  std::string strategy;     // a name make_strategy accepts
  std::uint64_t seed = 0;   // seeds the strategy and the noise stream
  int trials = 0;           // the budget the strategy is told and runs (re-measurements included)
};

struct RunMetrics {
  double regret = 0;        // f(recommended, noise-free) - f*; a failed recommendation counts failed_value
  double gap = 0;           // f(recommended) - min over evaluated configs of f (noise-free); >= 0 ideally
  int failed = 0;           // failed trials (wg_sim: MTU black holes)
  int remeasured = 0;       // trials spent re-measuring earlier configs
  double seconds = 0;       // CPU time of the run (its thread's), so shared cores do not inflate it
  // Problems with a start (the host's defaults): the recommended configuration's parameters that
  // differ from the start, and how many of those are needless: returning that one alone to the
  // start's value costs at most 0.5% of |f*| (noise-free). A deployable winner has none.
  int changes = 0;
  int needless = 0;
  // The search's simplification of that winner (simplification_sim.hpp; problems with a start and
  // noise): how many changes the model proposed to return, whether the simulated plant check kept
  // the simplified winner, and the profile's changes, needless changes and regret after it.
  int proposed = 0;         // over every check
  bool simplified = false;  // a check kept a simplified winner
  int checks = 0;           // plant checks made (at most the strategy's checks=N, else 4: a 40-minute search's)
  int anchors = 0;          // checks refused for their chain alone that measured the baseline (CheckPlan::anchor)
  int profile_changes = 0;
  int profile_needless = 0;
  double profile_regret = 0;
  // The configurations themselves (opt::to_string), for looking into where a choice loses: the
  // recommendation and the best configuration evaluated (noise-free); empty when there is none.
  std::string recommended;
  std::string best_evaluated;
};

// Standard normal draws: Box-Muller over mt19937_64 (whose output the C++ standard fixes), not
// std::normal_distribution (whose algorithm is the library's choice), so runs repeat everywhere.
class NoiseStream {
 public:
  explicit NoiseStream(std::uint64_t seed);
  double normal();
  double uniform();   // in (0, 1)
 private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// The noisy measurement of noise-free value f under `kind` with scale sd, drawing a fixed number of
// values from `noise` per call (so trial i always gets the i-th draws):
//   gaussian      f + sd z                                   (1 normal)
//   student_t     f + sd t / sqrt(3), t = z0 / sqrt((z1^2 + z2^2 + z3^2) / 3)   (4 normals; the
//                 t(3) has variance 3, so sd stays the standard deviation; its tails are heavy)
//   interference  f + sd z, and if u1 < 0.1 also + |f| (0.1 + 0.4 u2): a tenth of the
//                 measurements lose 10..50% (1 normal, 2 uniforms)
double noisy(NoiseKind kind, double f, double sd, NoiseStream& noise);

// The noise sd of `problem` at `noise` (see RunSpec::noise).
double noise_sd(const Problem& problem, int noise);

// A strategy by name: any name make_strategy accepts, or an ablation of `bo` written
// "bo/-feas", "bo/-feas/-popcount", ... (each "-x" switches one opt::BoSettings field off, "+x" on:
// -feas = feasibility, -popcount, -lscale = scale_lengthscales, -neigh = neighbours, +warp,
// -tie = tie_lengthscales, -robust, +onesided = robust_one_sided, -kg = kg_remeasure, +kgask = kg_ask, -add = additive, -bits =
// mask_bit_effects, +bitshare = mask_bit_share, +rmadapt = remeasure_adaptive; ls=D sets
// lengthscale_ref_dims, init=N the initial design size, nu=V robust_nu, xi=V xi, xin=V xi_noise (and
// xi_noise_end), xie=V xi_noise_end, fw=V feasibility_weight, kgfrom=V kg_ask_from, kgmin=V
// kg_ask_min, rmmax=V remeasure_max, rmratio=V remeasure_ratio, vcap=V variance_cap, vcapp=V
// polish_variance_cap, sp=V sparse_tolerance (spr=V: ramped, sparse_ramp), spe=N sparse_every, loo=V loo_share; +addc additive_contributions, +addcc the same for contributions() only (additive_credits_only); rm=P is run_one's: the driver re-measures in the last P% of the trials; checks=N the simulated simplification's most plant checks, ckr=N its rounds per check (default 5, the search's at its default half length), ckn=V its measurements' noise as a multiple of the problem's (default 1.05), cks=V the sds within_allowance adds to the model's joint loss, chm=0 the simplified winner's gain over the baseline chained through the check's rounds alone, cfr=N the confirmation's rounds, anc=0 no rounds against the baseline for a check refused for its chain alone). Throws wgopt::UsageError naming a bad name or flag.
std::unique_ptr<opt::Strategy> make_bench_strategy(const std::string& name, const opt::Space& space,
                                                   const opt::StrategyOptions& options);

// Runs spec through opt::run (with its default re-measurement share) on a problem built by
// make_problem(spec.problem). One noisy() measurement per trial (the problem's noise kind), failed or not, so trial i always gets the
// i-th draw. Throws wgopt::UsageError for an unknown problem or strategy.
RunMetrics run_one(const RunSpec& spec);

// Milliseconds per suggestion (one ask() and its tell()) of `strategy` (a make_bench_strategy name,
// so ablations too) on quadratic20 (d = 20),
// averaged over `asks` rounds after the strategy has itself asked and been told `observations`
// trials. cpu_ms is this thread's CPU time (stable on a shared machine); wall_ms is elapsed time.
struct SuggestionTime {
  double cpu_ms = 0;
  double wall_ms = 0;
};
SuggestionTime time_per_suggestion(const std::string& strategy, int observations, int asks = 5);

}  // namespace wgopt::bench

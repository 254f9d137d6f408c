#include "bench/harness.hpp"
#include "bench/simplification_sim.hpp"
#include "experiments/search/policies.hpp"
#include "optimizer/sampling.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numbers>

#include <time.h>

#include <fmt/format.h>

#include "common/error.hpp"
#include "optimizer/driver.hpp"
#include "optimizer/strategies.hpp"
#include "optimizer/strategy.hpp"

namespace wgopt::bench {

NoiseStream::NoiseStream(std::uint64_t seed) : engine_(seed) {}

double NoiseStream::uniform() {
  // 53 random bits, shifted off zero so log() below is finite.
  return (static_cast<double>(engine_() >> 11) + 0.5) / 9007199254740992.0;
}

double NoiseStream::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  const double r = std::sqrt(-2.0 * std::log(uniform()));
  const double theta = 2.0 * std::numbers::pi * uniform();
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

double noisy(NoiseKind kind, double f, double sd, NoiseStream& noise) {
  switch (kind) {
    case NoiseKind::gaussian: return f + sd * noise.normal();
    case NoiseKind::student_t: {
      const double z0 = noise.normal(), z1 = noise.normal(), z2 = noise.normal(), z3 = noise.normal();
      const double t = z0 / std::sqrt((z1 * z1 + z2 * z2 + z3 * z3) / 3.0);
      return f + sd * t / std::sqrt(3.0);
    }
    case NoiseKind::interference: {
      const double z = noise.normal(), u1 = noise.uniform(), u2 = noise.uniform();
      return f + sd * z + (u1 < 0.1 ? std::abs(f) * (0.1 + 0.4 * u2) : 0.0);
    }
  }
  return f;
}

namespace {
// CPU time of the calling thread: unlike wall time it does not grow when other builds share the cores.
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
}  // namespace

double noise_sd(const Problem& problem, int noise) {
  return problem.absolute_noise ? noise / 100.0 : noise / 100.0 * std::abs(problem.fstar);
}

namespace {
// The value of an ablation flag "key=V" (V from `at`), or UsageError naming the strategy and flag.
double flag_number(const std::string& name, const std::string& flag, size_t at) {
  const std::string v = flag.substr(at);
  size_t used = 0;
  double x = 0;
  try {
    x = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (v.empty() || used != v.size() || !std::isfinite(x))
    throw UsageError(fmt::format("strategy '{}': ablation '{}' needs a number after '=': e.g. bo/{}1", name, flag, flag.substr(0, at)));
  return x;
}

int flag_integer(const std::string& name, const std::string& flag, size_t at) {
  const double x = flag_number(name, flag, at);
  if (x != std::floor(x) || std::abs(x) > 1e9)
    throw UsageError(fmt::format("strategy '{}': ablation '{}' needs a whole number after '='", name, flag));
  return int(x);
}

// A flag's value held to its range: at least `low`, or above `low`.
void at_least(const std::string& name, const std::string& flag, double x, double low) {
  if (x < low) throw UsageError(fmt::format("strategy '{}': ablation '{}' needs a value of at least {}", name, flag, low));
}
void above(const std::string& name, const std::string& flag, double x, double low) {
  if (!(x > low)) throw UsageError(fmt::format("strategy '{}': ablation '{}' needs a value above {}", name, flag, low));
}
}  // namespace

std::unique_ptr<opt::Strategy> make_bench_strategy(const std::string& name, const opt::Space& space,
                                                   const opt::StrategyOptions& options) {
  if (name.rfind("bo/", 0) != 0) return opt::make_strategy(name, space, options);
  opt::BoSettings b;
  opt::StrategyOptions o = options;
  std::string flags = name.substr(3);
  for (size_t at = 0; at <= flags.size();) {
    const size_t end = std::min(flags.find('/', at), flags.size());
    const std::string f = flags.substr(at, end - at);
    if (f == "-feas") b.feasibility = false;
    else if (f == "-popcount") b.popcount = false;
    else if (f == "-warp") b.warp = false;
    else if (f == "+warp") b.warp = true;
    else if (f == "-lscale") b.scale_lengthscales = false;
    else if (f == "-neigh") b.neighbours = false;
    else if (f == "-tie") b.tie_lengthscales = false;
    else if (f == "-robust") b.robust = false;
    else if (f == "+onesided") b.robust_one_sided = true;
    else if (f.rfind("nu=", 0) == 0) b.robust_nu = flag_number(name, f, 3);
    else if (f.rfind("xi=", 0) == 0) b.xi = flag_number(name, f, 3);
    else if (f.rfind("xin=", 0) == 0) b.xi_noise = b.xi_noise_end = flag_number(name, f, 4);
    else if (f.rfind("xie=", 0) == 0) b.xi_noise_end = flag_number(name, f, 4);
    else if (f == "-kg") b.kg_remeasure = false;
    else if (f == "+kgask") b.kg_ask = true;
    else if (f.rfind("kgmin=", 0) == 0) b.kg_ask_min = flag_number(name, f, 6);
    else if (f.rfind("kgfrom=", 0) == 0) b.kg_ask_from = flag_number(name, f, 7);
    else if (f.rfind("vcap=", 0) == 0) b.variance_cap = flag_number(name, f, 5);
    else if (f.rfind("vcapp=", 0) == 0) b.polish_variance_cap = flag_number(name, f, 6);
    else if (f.rfind("sp=", 0) == 0) b.sparse_tolerance = flag_number(name, f, 3), b.sparse_ramp = false;
    else if (f.rfind("loo=", 0) == 0) b.loo_share = flag_number(name, f, 4);
    else if (f == "+addc") b.additive_contributions = true;
    else if (f == "+addcc") b.additive_contributions = b.additive_credits_only = true;
    else if (f.rfind("spe=", 0) == 0) b.sparse_every = flag_integer(name, f, 4);
    else if (f.rfind("spr=", 0) == 0) b.sparse_tolerance = flag_number(name, f, 4), b.sparse_ramp = true;
    else if (f == "+rmadapt") b.remeasure_adaptive = true;
    else if (f.rfind("rmmax=", 0) == 0) b.remeasure_max = flag_number(name, f, 6);
    else if (f.rfind("rmratio=", 0) == 0) b.remeasure_ratio = flag_number(name, f, 8);
    else if (f == "-add") b.additive = false;
    else if (f == "-bits") b.mask_bit_effects = false;
    else if (f == "+bitshare") b.mask_bit_share = true;
    else if (f.rfind("fw=", 0) == 0) b.feasibility_weight = flag_number(name, f, 3);
    else if (f.rfind("ls=", 0) == 0) b.lengthscale_ref_dims = flag_number(name, f, 3);
    else if (f.rfind("dss=", 0) == 0) {
      b.design_start_share = flag_number(name, f, 4);
      at_least(name, f, b.design_start_share, 0);
      if (b.design_start_share > 1) throw UsageError(fmt::format("strategy '{}': ablation '{}' needs a share of at most 1", name, f));
    }
    else if (f.rfind("init=", 0) == 0) o.n_initial = flag_integer(name, f, 5);
    else if (f.rfind("rm=", 0) == 0) (void)flag_number(name, f, 3);   // run_one's (remeasure_percent)
    else if (f.rfind("checks=", 0) == 0) (void)flag_number(name, f, 7);   // measure_profile's (check_plan)
    else if (f.rfind("ckr=", 0) == 0) at_least(name, f, flag_integer(name, f, 4), 2);       // measure_profile's (check_plan)
    else if (f.rfind("ckn=", 0) == 0) above(name, f, flag_number(name, f, 4), 0);          // measure_profile's (check_plan)
    else if (f.rfind("dsg=", 0) == 0) at_least(name, f, flag_integer(name, f, 4), 0);       // measure_profile's (check_plan)
    else if (f.rfind("cks=", 0) == 0) at_least(name, f, flag_number(name, f, 4), 0);       // measure_profile's (check_plan)
    else if (f.rfind("exm=", 0) == 0) at_least(name, f, flag_number(name, f, 4), 0);       // measure_profile's (check_plan)
    else if (f.rfind("exa=", 0) == 0) at_least(name, f, flag_number(name, f, 4), 0);       // measure_profile's (check_plan)
    else if (f.rfind("cfr=", 0) == 0) at_least(name, f, flag_integer(name, f, 4), 2);       // measure_profile's (check_plan)
    else if (f.rfind("chm=", 0) == 0) {   // measure_profile's (check_plan)
      if (const double v = flag_number(name, f, 4); v != 0 && v != 1)
        throw UsageError(fmt::format("strategy '{}': ablation '{}' needs 0 (the rounds alone) or 1 (with the model)", name, f));
    }
    else if (f.rfind("anc=", 0) == 0) {   // measure_profile's (check_plan)
      if (const double v = flag_number(name, f, 4); v != 0 && v != 1)
        throw UsageError(fmt::format("strategy '{}': ablation '{}' needs 0 (no rounds against the baseline) or 1 (the search's)", name, f));
    }
    else throw UsageError(fmt::format("strategy '{}': unknown ablation '{}': use -feas, -popcount, +warp, -lscale, -neigh, -tie, -robust, +onesided, -kg, +kgask, +rmadapt, -add, -bits, +bitshare, ls=D, init=N, nu=V, xi=V, xin=V, xie=V, fw=V, kgfrom=V, kgmin=V, rmmax=V, rmratio=V, vcap=V, vcapp=V, sp=V, spr=V, spe=N, loo=V, dss=V, +addc, +addcc, rm=P, checks=N, ckr=N, ckn=V, cks=V, exm=V, exa=V, dsg=N, chm=0, cfr=N, anc=0", name, f));
    at = end + 1;
  }
  if (auto e = space.validate(); !e.empty()) throw UsageError("search space: " + e);
  return opt::make_bo_strategy(space, o, b);
}

namespace {
// A "/key=V" flag's value in a bo ablation name (checked by make_bench_strategy), or `otherwise`.
double name_flag(const std::string& name, const std::string& key, double otherwise) {
  const auto at = name.find("/" + key + "=");
  return at == std::string::npos ? otherwise : std::stod(name.substr(at + key.size() + 2));
}

// "rm=P" in a bo ablation name: the driver re-measures in the last P% of the trials instead of its
// default share; -1 (the default share) without it.
int remeasure_percent(const std::string& name) { return int(std::lround(name_flag(name, "rm", -1))); }

// The simulated checks' plan: "checks=N" most checks (default the 4 a 40-minute search plans; the
// search's most, kMaxSimplificationChecks, was 4 until 2026-12-06, and the tables used it), "ckr=N" rounds per check, "ckn=V" the
// check measurement's noise as a multiple of the problem's, "cks=V" the proposal's sds, "exm=V" the
// examination's credit sds (0: none; default the search's kExamineSds), "exa=V" the rule tried
// first: the share of the allowance left an examined return may cost, "dsg=N" measurements beside
// the winner first, "chm=0" the gain over the baseline chained through the check's rounds alone,
// "cfr=N" the confirmation's rounds (default the search's for a budget that plans that many checks:
// 8 for the default 4, a 40-minute search's), "anc=0" no rounds against the baseline for a check
// refused for its chain alone (CheckPlan::anchor).
CheckPlan check_plan(const std::string& name) {
  CheckPlan p;
  p.checks = int(std::lround(name_flag(name, "checks", experiments::simplification_checks_planned(std::chrono::minutes(40)))));
  // The search's rounds for a budget that plans p.checks checks (one per 10 minutes), at the default objective's measurements.
  const int planned = experiments::default_confirm_rounds(std::chrono::minutes(10 * p.checks),
                                                          experiments::nominal_measure_seconds(experiments::Objective{}), true);
  p.confirm_rounds = int(std::lround(name_flag(name, "cfr", planned)));
  p.rounds = int(std::lround(name_flag(name, "ckr", p.rounds)));
  p.noise_factor = name_flag(name, "ckn", p.noise_factor);
  p.proposal_sds = name_flag(name, "cks", p.proposal_sds);
  p.design = int(std::lround(name_flag(name, "dsg", p.design)));
  p.examine_sds = name_flag(name, "exm", p.examine_sds);
  p.examine_allowance = name_flag(name, "exa", p.examine_allowance);
  p.chain_with_model = name_flag(name, "chm", 1) != 0;
  p.anchor = name_flag(name, "anc", 1) != 0;
  return p;
}
}  // namespace

// A configuration's changes from the problem's start, and how many of them are needless
// (RunMetrics::changes, needless).
std::pair<int, int> count_changes(const Problem& problem, const opt::Config& c) {
  const opt::Config start = problem.space.complete(*problem.start);
  const double f_c = problem.f(c).value_or(problem.failed_value);
  const auto returned = opt::one_change_returned(problem.space, c, start);
  int needless = 0;
  for (const auto& back : returned)
    needless += problem.f(back).value_or(problem.failed_value) <= f_c + 0.005 * std::abs(problem.fstar);
  return {int(returned.size()), needless};
}

// The recommendation's changes, and the search's simplification of it (RunMetrics).
void measure_profile(const Problem& problem, opt::Strategy& engine, const opt::Recommendation& best, double sd,
                     const RunSpec& spec, RunMetrics& m) {
  std::tie(m.changes, m.needless) = count_changes(problem, best.config);
  m.profile_changes = m.changes, m.profile_needless = m.needless, m.profile_regret = m.regret;
  if (!(sd > 0)) return;
  const auto s = simulate_simplification(problem, engine, best.config, best.mean, sd, spec.seed, check_plan(spec.strategy));
  m.proposed = s.proposed;
  m.simplified = s.kept;
  m.checks = s.checks;
  m.anchors = s.anchors;
  std::tie(m.profile_changes, m.profile_needless) = count_changes(problem, s.profile);
  m.profile_regret = problem.f(s.profile).value_or(problem.failed_value) - problem.fstar;
}

RunMetrics run_one(const RunSpec& spec) {
  const Problem problem = make_problem(spec.problem);
  const double sd = noise_sd(problem, spec.noise);
  auto strategy = make_bench_strategy(spec.strategy, problem.space,
                                     {.direction = opt::Direction::minimize,
                                      .seed = spec.seed,
                                      .start = problem.start,
                                      .budget = spec.trials});
  NoiseStream noise(spec.seed);
  auto evaluate = [&](const opt::Config& c, int) -> opt::EvalResult {
    const auto f = problem.f(c);
    const double y = noisy(problem.noise_kind, f.value_or(0.0), sd, noise);
    if (!f) return {.state = opt::TrialState::failed};
    return {.state = opt::TrialState::complete, .value = y};
  };
  const double cpu0 = thread_cpu_ms();
  opt::RunOptions run_options;
  if (const int p = remeasure_percent(spec.strategy); p >= 0) run_options.remeasure = int(std::lround(spec.trials * p / 100.0));
  const opt::RunResult result = opt::run(*strategy, spec.trials, evaluate, run_options);
  RunMetrics m;
  m.seconds = (thread_cpu_ms() - cpu0) / 1000.0;

  auto truth = [&](const opt::Config& c) { return problem.f(c).value_or(problem.failed_value); };
  double best_seen = std::numeric_limits<double>::infinity();
  for (const auto& t : result.trials) {
    if (t.state == opt::TrialState::failed || t.state == opt::TrialState::infeasible) ++m.failed;
    if (t.remeasure) ++m.remeasured;
    if (t.state != opt::TrialState::complete) continue;
    if (const double f = truth(t.config); f < best_seen) best_seen = f, m.best_evaluated = opt::to_string(t.config);
  }
  const double f_rec = result.best.valid ? truth(result.best.config) : problem.failed_value;
  if (!std::isfinite(best_seen)) best_seen = problem.failed_value;
  m.regret = f_rec - problem.fstar;
  m.gap = f_rec - best_seen;
  if (result.best.valid) m.recommended = opt::to_string(result.best.config);
  if (problem.start && result.best.valid) measure_profile(problem, *strategy, result.best, sd, spec, m);
  return m;
}

SuggestionTime time_per_suggestion(const std::string& strategy_name, int observations, int asks) {
  const Problem problem = make_problem("quadratic20");
  auto strategy = make_bench_strategy(strategy_name, problem.space,
                                      {.direction = opt::Direction::minimize,
                                       .seed = 1,
                                       .budget = observations + asks});
  auto round = [&] {
    const opt::Config c = strategy->ask();
    strategy->tell(c, opt::TrialState::complete, *problem.f(c));
  };
  // The history is the strategy's own, so `bo` is past its initial design and fits as it would.
  for (int i = 0; i < observations; ++i) round();
  const double cpu0 = thread_cpu_ms();
  const auto wall0 = std::chrono::steady_clock::now();
  for (int i = 0; i < asks; ++i) round();
  const auto wall = std::chrono::steady_clock::now() - wall0;
  return {.cpu_ms = (thread_cpu_ms() - cpu0) / asks,
          .wall_ms = std::chrono::duration<double, std::milli>(wall).count() / asks};
}

}  // namespace wgopt::bench

#include "bench/simplification_sim.hpp"

#include <cmath>

#include "experiments/search/winner_simplification.hpp"
#include "experiments/study/confirm.hpp"

namespace wgopt::bench {

namespace {

constexpr int kCheckRounds = 3;   // the search's minimum (kMinUsefulConfirmRounds)

std::vector<experiments::KnobChange> estimated(opt::Strategy& engine, const opt::Config& winner, const opt::Config& start) {
  std::vector<experiments::KnobChange> out;
  for (const auto& c : engine.contributions(winner, start)) {
    experiments::KnobChange k{.id = c.param};
    if (c.baseline) experiments::take_estimate(k, c);
    out.push_back(std::move(k));
  }
  return out;
}

opt::Config with_returned(const opt::Space& space, opt::Config c, const opt::Config& start, const std::vector<std::string>& ids) {
  for (const auto& id : ids) c[id] = start.at(id);
  return space.complete(std::move(c));
}

}  // namespace

SimplificationOutcome simulate_simplification(const Problem& problem, opt::Strategy& engine, const opt::Config& winner,
                                              double winner_mean, double noise_sd, std::uint64_t seed) {
  const opt::Config start = problem.space.complete(*problem.start);
  const auto changes = estimated(engine, winner, start);
  // Score units are the user's, higher is better: the problems minimise, so a score is -f.
  const double negligible = 0.005 * std::abs(problem.f(start).value_or(problem.failed_value));
  const double allowance = experiments::kSimplificationAllowance * std::abs(winner_mean);
  const experiments::JointLoss loss = [&](const std::vector<std::string>& returned) {
    return engine.difference(winner, with_returned(problem.space, winner, start, returned));
  };
  const auto ids = experiments::within_allowance(changes, experiments::changes_to_return(changes, negligible), allowance, loss);
  SimplificationOutcome out{.proposed = int(ids.size()), .profile = winner};
  if (ids.empty()) return out;
  const opt::Config simplified = with_returned(problem.space, winner, start, ids);

  NoiseStream noise(seed ^ 0x9e3779b97f4a7c15ULL);
  auto measure = [&](const opt::Config& c) {
    return -noisy(problem.noise_kind, problem.f(c).value_or(problem.failed_value), noise_sd, noise);
  };
  std::vector<double> base, whole, simple;
  for (int r = 0; r < kCheckRounds; ++r) {
    base.push_back(measure(start));
    whole.push_back(measure(winner));
    simple.push_back(measure(simplified));
  }
  const auto vs_whole = experiments::decide_confirmation(whole, simple);
  const auto vs_base = experiments::decide_confirmation(base, simple);
  out.kept = experiments::simplified_refused(vs_whole, vs_base, loss(ids)).empty();
  if (out.kept) out.profile = simplified;
  return out;
}

}  // namespace wgopt::bench

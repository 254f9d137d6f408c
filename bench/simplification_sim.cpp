#include "bench/simplification_sim.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "experiments/search/winner_simplification.hpp"
#include "experiments/study/confirm.hpp"

namespace wgopt::bench {

namespace {

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
                                              double winner_mean, double noise_sd, std::uint64_t seed, const CheckPlan& plan) {
  const opt::Config start = problem.space.complete(*problem.start);
  // Score units are the user's, higher is better: the problems minimise, so a score is -f.
  const double negligible = 0.005 * std::abs(problem.f(start).value_or(problem.failed_value));
  NoiseStream noise(seed ^ 0x9e3779b97f4a7c15ULL);
  auto measure = [&](const opt::Config& c) {
    const double score = -noisy(problem.noise_kind, problem.f(c).value_or(problem.failed_value), noise_sd * plan.noise_factor, noise);
    engine.tell(c, opt::TrialState::complete, -score);   // the search tells the model every check measurement
    return score;
  };
  // A check's rounds on the plant: `first` then `second`, plan.rounds times, decided (second - first).
  auto plant_rounds = [&](const opt::Config& first, const opt::Config& second) {
    std::vector<double> a, b;
    for (int r = 0; r < plan.rounds; ++r) {
      a.push_back(measure(first));
      b.push_back(measure(second));
    }
    return experiments::decide_confirmation(a, b);
  };
  // The search's confirmation before it (plan.confirm_rounds, not told to the model), from a stream of its own.
  NoiseStream confirmation_noise(seed ^ 0x5851f42d4c957f2dULL);
  auto confirm_measure = [&](const opt::Config& c) {
    return -noisy(problem.noise_kind, problem.f(c).value_or(problem.failed_value), noise_sd, confirmation_noise);
  };
  std::vector<double> conf_base, conf_winner;
  for (int r = 0; r < plan.confirm_rounds; ++r) {
    conf_base.push_back(confirm_measure(start));
    conf_winner.push_back(confirm_measure(winner));
  }
  experiments::Confirmation confirmed = experiments::decide_confirmation(conf_base, conf_winner);
  SimplificationOutcome out{.profile = winner};
  if (!confirmed.promote) return out;   // the search simplifies a promoted winner only
  // Exploration (dsg=K): K measurements beside the winner before the first proposal, each with a
  // random half of the changes the model does not clearly credit returned, told to the engine.
  if (plan.design > 0) {
    NoiseStream pick(seed ^ 0x2545f4914f6cdd1dULL);
    const auto uncertain = experiments::changes_to_return(estimated(engine, winner, start), 0.005 * std::abs(problem.f(start).value_or(problem.failed_value)));
    for (int k = 0; k < plan.design && uncertain.size() >= 2; ++k) {
      std::vector<std::string> half;
      for (const auto& id : uncertain)
        if (pick.uniform() < 0.5) half.push_back(id);
      if (half.empty()) half.push_back(uncertain[size_t(k) % uncertain.size()]);
      (void)measure(with_returned(problem.space, winner, start, half));
    }
  }
  const double allowance = experiments::kSimplificationAllowance * std::abs(winner_mean);
  double spent = 0;   // what kept checks' returns cost, of the allowance (as the search)
  std::vector<std::string> refused;
  for (; out.checks < plan.checks; ++out.checks) {
    const opt::Config current = out.profile;
    const auto changes = estimated(engine, current, start);
    const experiments::JointLoss loss = [&](const std::vector<std::string>& returned) {
      return engine.difference(current, with_returned(problem.space, current, start, returned));
    };
    auto ids = experiments::propose_returns(changes, refused, negligible, allowance - spent, loss, plan.proposal_sds);
    const bool examining = ids.empty() && plan.examine_sds > 0;
    if (examining) ids = experiments::propose_returns(changes, refused, negligible, allowance - spent, loss, plan.proposal_sds, plan.examine_sds);
    if (ids.empty() || ids.size() == changes.size() || allowance - spent <= 0) break;
    out.proposed += int(ids.size());
    const opt::Config simplified = with_returned(problem.space, current, start, ids);
    const opt::Difference model_loss = loss(ids);   // before the model hears the check
    const auto vs_whole = plant_rounds(current, simplified);
    auto vs_base = plan.chain_with_model ? experiments::gain_through_check(confirmed, vs_whole, model_loss)
                                               : experiments::chain_confirmations(confirmed, vs_whole);
    std::optional<double> left = spent > 0 ? std::optional(allowance - spent) : std::nullopt;
    if (examining && plan.examine_allowance >= 0) left = plan.examine_allowance * (allowance - spent);
    const bool examined = examining && plan.examine_allowance < 0;
    if (plan.anchor && experiments::refused_by_chain_alone(vs_whole, vs_base, model_loss, left, examined)) {
      // The simplified winner against the baseline itself, told to the model.
      vs_base = experiments::pool_confirmations(vs_base, plant_rounds(start, simplified));
      ++out.anchors;
    }
    const bool refuse = examined ? !experiments::examined_refused(vs_whole, vs_base, model_loss).empty()
                                 : !experiments::simplified_refused(vs_whole, vs_base, model_loss, left).empty();
    if (refuse) {
      refused.insert(refused.end(), ids.begin(), ids.end());
      continue;
    }
    out.kept = true;
    out.profile = simplified;
    confirmed = vs_base;
    spent += std::max(0.0, experiments::combined_loss(model_loss, vs_whole).mean);
  }
  return out;
}

}  // namespace wgopt::bench

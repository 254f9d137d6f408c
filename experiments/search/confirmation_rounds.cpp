#include "experiments/search/confirmation_rounds.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.hpp"
#include "experiments/search/policies.hpp"
#include "experiments/search/search_progress.hpp"

namespace wgopt::experiments {

namespace {

// Applying `winner` changes some end (a split parameter changes one whatever its value).
bool differs_from_baseline(const Values& winner, const BoundSpace& bound) {
  for (const auto& [id, v] : winner) {
    if (!bound.unchanged(id, v)) return true;
  }
  return false;
}

std::optional<int> last_trial_of(const Values& winner, const StudyStore& store) {
  std::optional<int> found;
  for (const auto& t : store.trials()) {
    bool same = true;
    for (const auto& [id, v] : winner) {
      if (!t.params.contains(id) || t.params[id].get<std::string>() != v) same = false;
    }
    if (same) found = t.number;
  }
  return found;
}

int rounds_for(const SearchOptions& o, const SearchPlan& plan, const BaselineResult& baseline, const Budget& budget,
               SearchProgress& progress) {
  const auto& limits = budget.limits();
  if (!limits.wall || baseline.full_measure_s <= 0) return plan.confirm_rounds;
  const double left_s = std::chrono::duration<double>(*limits.wall - budget.elapsed()).count();
  // The winner's simplification follows: room for its first check, the time of 3 full-length rounds
  // (its most rounds at the check's shorter length, check_rounds_most; room for 3 short rounds let a
  // 4th confirmation round leave the check 3, with t(0.975, 2)) when it fits beside the fewest
  // confirmation rounds (check_time_kept). Not when the trials took the checks' time because the
  // model had nothing to check (Budget::released).
  const bool check_follows = o.simplify && budget.released() <= std::chrono::milliseconds(0);
  const double full_s = baseline.full_measure_s;
  const double held_s = check_follows ? check_time_kept(left_s, full_s, plan.check_measure_s(full_s), plan.confirm_rounds) : 0;
  const int rounds = confirmation_rounds_that_fit(left_s - held_s, baseline.full_measure_s, plan.confirm_rounds);
  if (rounds < plan.confirm_rounds) {
    progress.say(fmt::format("confirmation: {} of {} {} rounds, each ~{:.0f} s, in the {:.0f} s left of the budget{}", rounds,
                             o.confirm_rounds ? "--confirm-rounds" : "the planned", plan.confirm_rounds,
                             round_seconds(baseline.full_measure_s), std::max(0.0, left_s),
                             held_s > 0 ? fmt::format(" ({:.0f} s of it kept for the winner's simplification)", held_s) : ""));
  }
  return rounds;
}

}  // namespace

ConfirmResult confirm_winner(const SearchOptions& o, const BaselineResult& baseline, const MeasureOptions& mo, PlantAccess& plant,
                             opt::Strategy& engine, StudyStore& store, const Budget& budget, const SearchPlan& plan,
                             SearchProgress& progress) {
  ConfirmResult r;
  const BoundSpace& bound = plant.bound();
  auto best = engine.recommend();
  r.winner = best.valid ? bound.space->to_values(best.config) : bound.baseline;
  if (!best.valid || !differs_from_baseline(r.winner, bound)) {
    r.baseline_row = baseline.averages;
    r.outcome = best.valid ? SearchOutcome::KeptBaseline : SearchOutcome::NoTrials;
    r.reason = best.valid ? "the best configuration found is the host's own" : "no trial completed";
    r.baseline_score = r.winner_score = baseline.stats.mean;
    return r;
  }
  r.winner_trial = last_trial_of(r.winner, store);
  const int rounds = rounds_for(o, plan, baseline, budget, progress);
  std::vector<ConfirmationRound> scores(static_cast<size_t>(rounds));
  int measurement = 0, baselines = 0, candidates = 0;
  MeasureOptions cmo = mo;
  cmo.prune = nullptr;  // confirmation measures fully
  const std::vector<Arm> arms = plan_confirmation(rounds);
  progress.set_candidate(r.winner, bound.baseline);  // the line named the last trial's knobs
  for (Arm arm : arms) {
    const int round = ++measurement;
    // The pair this measurement belongs to: the i-th baseline goes with the i-th candidate.
    auto& pair = scores[static_cast<size_t>(arm == Arm::Baseline ? baselines++ : candidates++)];
    plant.check_interrupted();
    progress.show("confirm", round, static_cast<int>(arms.size()));
    std::optional<AppliedCandidate> candidate;
    if (arm == Arm::Candidate) {
      try {
        candidate.emplace(plant, r.winner, measurement_lease(plan.nominal_measure_s));
      } catch (const Error& e) {
        progress.say(std::string("confirmation: the winner no longer applies: ") + e.what());
        continue;
      }
      if (!candidate->alive()) {
        candidate->rollback();
        progress.say("confirmation: the tunnel died under the winner: " + candidate->why_dead());
        continue;
      }
      plant.settle(o.settle);
    }
    auto ev = plant.measure(plan.objective, cmo);
    if (candidate) candidate->rollback();
    if (ev.state == Evaluation::State::Interrupted) throw Interrupted{};
    if (!ev.score) {
      progress.say("confirmation round failed: " + ev.note);
      continue;
    }
    store.add_confirmation({.round = round, .arm = arm == Arm::Baseline ? "baseline" : "candidate", .trial = r.winner_trial.value_or(0),
                            .score = ev.score->value, .metrics = ev.metrics_json(true), .measured_at = plant.env().unix_time()});
    (arm == Arm::Baseline ? pair.baseline : pair.candidate) = ev.score->value;
    accumulate(arm == Arm::Baseline ? r.baseline_row : r.winner_row, ev);
  }
  auto measured = [&](auto arm) { return std::count_if(scores.begin(), scores.end(), [&](const auto& p) { return (p.*arm).has_value(); }); };
  if (measured(&ConfirmationRound::baseline) >= 2 && measured(&ConfirmationRound::candidate) >= 2) {
    r.confirmation = decide_confirmation(scores);
    r.confirmed = true;
    r.promote = r.confirmation.promote;
    r.reason = r.confirmation.reason;
    r.baseline_score = r.confirmation.baseline_mean;
    r.winner_score = r.confirmation.candidate_mean;
  } else {
    r.reason = "too few confirmation rounds completed: the baseline stays";
    r.baseline_score = baseline.stats.mean;
  }
  r.outcome = r.promote ? SearchOutcome::Promoted : SearchOutcome::KeptBaseline;
  if (!r.promote) r.winner = bound.baseline;
  return r;
}

}  // namespace wgopt::experiments

#include "experiments/search/confirmation_rounds.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.hpp"
#include "experiments/search/outage.hpp"
#include "experiments/search/policies.hpp"
#include "experiments/search/round_measurement.hpp"
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

// The trial that measured `winner`: the last complete one with its values, else the last that is
// evidence (a trial an outage voided or one interrupted before its measurement is never the
// winner's: found in review, a voided re-measurement was reported as the winner).
std::optional<int> last_trial_of(const Values& winner, const StudyStore& store) {
  std::optional<int> complete, any;
  for (const auto& t : store.trials()) {
    if (t.not_evidence()) continue;
    bool same = true;
    for (const auto& [id, v] : winner) {
      if (!t.params.contains(id) || t.params[id].get<std::string>() != v) same = false;
    }
    if (!same) continue;
    any = t.number;
    if (t.state == TrialState::Complete) complete = t.number;
  }
  return complete ? complete : any;
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

// Seconds left of a wall budget (none: no wall).
std::optional<double> seconds_left(const Budget& budget) {
  const auto& limits = budget.limits();
  if (!limits.wall) return std::nullopt;
  return std::chrono::duration<double>(*limits.wall - budget.elapsed()).count();
}

// The interleaved measurements of a confirmation's rounds, appended to `scores` (the i-th baseline
// pairs with the i-th candidate), each persisted and accumulated in r's rows. A lost measurement
// leaves its slot empty.
class ConfirmationMeasurements {
 public:
  ConfirmationMeasurements(const SearchOptions& o, const MeasureOptions& mo, PlantAccess& plant, OutageWatch& outages,
                           StudyStore& store, const SearchPlan& plan, SearchProgress& progress, double own_mbps, ConfirmResult& r)
      : o_(o), mo_(mo), plant_(plant), outages_(outages), store_(store), plan_(plan), progress_(progress), own_mbps_(own_mbps), r_(r) {}

  std::vector<ConfirmationRound> scores;

  // `rounds` more rounds, of `total` measurements in all (the progress line's), in the order one
  // plan of all the rounds so far would have them.
  void measure(int rounds, int total) {
    const size_t first = scores.size();
    scores.resize(first + static_cast<size_t>(rounds));
    size_t baselines = first, candidates = first;
    const std::vector<Arm> arms = plan_confirmation(static_cast<int>(scores.size()));
    for (auto it = arms.begin() + static_cast<std::ptrdiff_t>(2 * first); it != arms.end(); ++it) {
      const Arm arm = *it;
      auto& pair = scores[arm == Arm::Baseline ? baselines++ : candidates++];
      const int round = ++measurement_;
      plant_.check_interrupted();
      progress_.show("confirm", round, total);
      if (auto score = measure_arm(arm, round)) (arm == Arm::Baseline ? pair.baseline : pair.candidate) = *score;
    }
  }

  size_t measured(std::optional<double> ConfirmationRound::*arm) const {
    return static_cast<size_t>(std::count_if(scores.begin(), scores.end(), [&](const auto& p) { return (p.*arm).has_value(); }));
  }

 private:
  std::optional<double> measure_arm(Arm arm, int round) {
    const bool base = arm == Arm::Baseline;
    const ArmSetup setup{.objective = plan_.objective, .mo = mo_, .lease = measurement_lease(plan_.nominal_measure_s),
                         .settle = o_.settle, .own_mbps = own_mbps_};
    auto ev = experiments::measure_arm(plant_, outages_, progress_, setup, base ? nullptr : &r_.winner, base ? "baseline" : "winner",
                                       fmt::format("confirmation measurement {} ({})", round, base ? "baseline" : "winner"));
    if (!ev.score) {
      progress_.say(fmt::format("confirmation round failed ({}): {}", base ? "baseline" : "winner", ev.note));
      return std::nullopt;
    }
    store_.add_confirmation({.round = round, .arm = base ? "baseline" : "candidate", .trial = r_.winner_trial.value_or(0),
                             .score = ev.score->value, .metrics = ev.metrics_json(true), .measured_at = plant_.env().unix_time()});
    accumulate(base ? r_.baseline_row : r_.winner_row, ev);
    return ev.score->value;
  }

  const SearchOptions& o_;
  const MeasureOptions& mo_;
  PlantAccess& plant_;
  OutageWatch& outages_;
  StudyStore& store_;
  const SearchPlan& plan_;
  SearchProgress& progress_;
  double own_mbps_;  // the baseline rounds' mean throughput
  ConfirmResult& r_;
  int measurement_ = 0;
};

}  // namespace

ConfirmResult confirm_winner(const SearchOptions& o, const BaselineResult& baseline, const MeasureOptions& mo, PlantAccess& plant,
                             OutageWatch& outages, opt::Strategy& engine, StudyStore& store, const Budget& budget, const SearchPlan& plan,
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
  progress.set_candidate(r.winner, bound.baseline);  // the line named the last trial's knobs
  ConfirmationMeasurements m(o, mo, plant, outages, store, plan, progress, baseline.averages.mean_throughput(), r);
  const auto look_began = budget.elapsed();
  m.measure(rounds, 2 * rounds);
  const double first_look_s = std::chrono::duration<double>(budget.elapsed() - look_began).count();
  auto enough = [&] { return m.measured(&ConfirmationRound::baseline) >= 2 && m.measured(&ConfirmationRound::candidate) >= 2; };
  if (enough()) {
    // A second look when the time left holds its rounds: that depends on the time the first look's
    // rounds took, never on their scores, so a first look with no time for a second is the only
    // one, at the full confidence; with one, each look decides at half the error rate.
    const auto left = seconds_left(budget);
    const int more = o.second_look && left ? second_look_rounds(*left, baseline.full_measure_s, rounds, first_look_s) : 0;
    r.confirmation = decide_confirmation_in_looks(m.scores, 1, more > 0 ? 2 : 1);
    if (more > 0 && looks_again(r.confirmation)) {
      progress.say(fmt::format("confirmation: {}; looking again after {} more rounds, in the time left of the budget",
                               r.confirmation.reason, more));
      m.measure(more, 2 * (rounds + more));
      r.confirmation = decide_confirmation_in_looks(m.scores, 2, 2);
      r.second_look = true;
    } else if (more > 0 && !r.confirmation.promote) {
      r.confirmation.reason += "; no second look: the gain is not above 0";
    }
  }
  if (enough()) {
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

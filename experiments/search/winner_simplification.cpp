#include "experiments/search/winner_simplification.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string_view>
#include <utility>

#include "common/error.hpp"
#include "experiments/report/table.hpp"
#include "experiments/search/outage.hpp"
#include "experiments/search/policies.hpp"
#include "experiments/search/round_measurement.hpp"
#include "experiments/search/search_progress.hpp"

namespace wgopt::experiments {

namespace {

// A check's rounds: the whole winner (the baseline slot) against the simplified one (the candidate
// slot), and the simplified winner's averages. No baseline arm: the simplified winner is held to
// the baseline through the confirmation (chain_confirmations), a third of the check's time saved;
// only a check refused for that chain alone then measures the baseline in rounds of its own, in the
// baseline slot (refused_by_chain_alone).
struct CheckRounds {
  std::vector<ConfirmationRound> pairs;
  Averages whole_row, simplified_row;
  std::chrono::seconds length{0};  // each measurement's, per scenario
  double to_full = 1;              // a full measurement's length over the check's: drop counts read per full measurement
};

// One measurement of `values` (applied, settled, measured, rolled back), or with `values` null of
// the host as it is, the baseline (nothing applied, as the confirmation measures it); the `n`-th of
// its check. nullopt when it was lost; an outside outage's is measured again (round_measurement.hpp).
std::optional<double> measure_check_arm(const SimplifyInputs& in, PlantAccess& plant, const Values* values, const char* arm, int n,
                                  Averages* row, SearchProgress& progress) {
  const ArmSetup setup{.objective = in.plan.check, .mo = in.mo, .lease = measurement_lease(in.plan.nominal_measure_s),
                       .settle = in.options.settle, .own_mbps = in.baseline.averages.mean_throughput()};
  // at the check's length (policies.hpp, check_seconds)
  auto ev = experiments::measure_arm(plant, in.outages, progress, setup, values, values ? fmt::format("{} winner", arm) : "baseline",
                                     fmt::format("simplification measurement {} ({})", n, arm));
  if (!ev.score) {
    progress.say(fmt::format("simplification round failed ({}): {}", arm, ev.note));
    return std::nullopt;
  }
  // Not in the study's confirmation table (its schema holds the arms baseline and candidate only):
  // the check's outcome is in the result's evidence (simplification).
  if (row) accumulate(*row, ev);
  return ev.score->value;
}

// `more(done)`: asked after the planned rounds, with the rounds done, whether to measure another
// (the check no other can follow: another_round). Never after a round that did not complete (the
// winner no longer applied, the tunnel died, a measurement failed): more would likely fail too.
using MoreRounds = std::function<bool(const std::vector<ConfirmationRound>& done)>;

// The rounds of `simplified` against `whole`, or with `whole` null against the baseline (the
// re-anchoring: refused_by_chain_alone); the first arm is in the rounds' baseline slot either way.
CheckRounds run_check(const SimplifyInputs& in, PlantAccess& plant, const Values* whole, const Values& simplified, int rounds,
                      const MoreRounds& more, SearchProgress& progress) {
  CheckRounds c;
  progress.set_candidate(simplified, plant.bound().baseline);  // the profile the check may keep
  c.length = in.plan.check.duration;
  c.to_full = std::chrono::duration<double>(in.plan.objective.duration) / std::chrono::duration<double>(in.plan.check.duration);
  // The confirmation's balanced order with the whole winner in the baseline's slot (W S, S W, W S,
  // ...): neither arm always first.
  for (int r = 0;; ++r) {
    if (r >= rounds) {
      const auto& last = c.pairs.back();
      if (!more || !last.baseline || !last.candidate || !more(c.pairs)) break;
      progress.say(fmt::format("simplification: time for another round, {} of at most {}", r + 1, 2 * rounds));
    }
    ConfirmationRound& round = c.pairs.emplace_back();
    for (int k = 0; k < 2; ++k) {
      const bool whole_now = (k == 0) == (r % 2 == 0);
      plant.check_interrupted();
      progress.show("simplify", 2 * r + k + 1, 2 * std::max(rounds, r + 1));
      if (whole_now) {
        round.baseline = measure_check_arm(in, plant, whole, whole ? "whole" : "baseline", 2 * r + k + 1, &c.whole_row, progress);
      } else {
        round.candidate = measure_check_arm(in, plant, &simplified, "simplified", 2 * r + k + 1, &c.simplified_row, progress);
      }
    }
  }
  return c;
}

size_t complete(const std::vector<ConfirmationRound>& rounds) {
  return static_cast<size_t>(std::count_if(rounds.begin(), rounds.end(), [](const auto& r) { return r.baseline && r.candidate; }));
}

// Splits `changes` into kept and returned by `ids` (the ids returned).
void split(const std::vector<KnobChange>& changes, const std::vector<std::string>& ids, Simplification& s) {
  for (const auto& c : changes) {
    (std::find(ids.begin(), ids.end(), c.id) != ids.end() ? s.returned : s.kept).push_back(c);
  }
}

// An estimate with a finite mean and a positive, finite sd: one that can be weighted by its precision.
bool weighable(const opt::Difference& d) { return std::isfinite(d.mean) && std::isfinite(d.sd) && d.sd > 0; }

// "simplified - whole -3.4, 95% -10.2 .. +3.4 in 5 s measurements; the model's estimate -6.1 +- 19.3; together -3.5 +- 3.4"
std::string check_line(const Confirmation& vs_whole, const opt::Difference& model_loss, std::chrono::seconds length) {
  std::string s = fmt::format("simplified - whole {:+.1f}, 95% {:+.1f} .. {:+.1f} in {} s measurements", vs_whole.gain, vs_whole.gain_ci.low,
                              vs_whole.gain_ci.high, length.count());
  if (!weighable(model_loss)) return s;
  const opt::Difference both = combined_loss(model_loss, vs_whole);
  return s + fmt::format("; the model's estimate {:+.1f} +- {:.1f}; together {:+.1f} +- {:.1f}", -model_loss.mean, model_loss.sd, -both.mean, both.sd);
}

// What to give for the check next time: a budget that holds it, or, when this one should have, why not.
std::string budget_hint(const SimplifyInputs& in, const Budget& budget, const ConfirmResult& conf) {
  if (conf.second_look) return " (the confirmation's second look took the check's time; --one-look keeps it for the check)";
  const int minutes = simplification_budget_minutes(in.plan.nominal_measure_s, in.plan.rounds_asked);
  if (in.plan.limits.wall && *in.plan.limits.wall < std::chrono::minutes(minutes)) {
    return fmt::format(" (a --budget of {} min or more holds back time for the check)", minutes);
  }
  if (budget.restored()) return " (more trials took the check's time until the best configuration had changes to check)";
  return " (the search and the confirmation took longer than their plan)";
}

}  // namespace

Values with_returned(const Values& winner, const std::vector<std::string>& ids, const BoundSpace& bound) {
  Values out = winner;
  for (const auto& id : ids) out[id] = bound.baseline.at(id);
  for (const auto& [id, value] : bound.space->from_values(out)) {
    if (auto b = bound.baseline.find(id); !out.count(id) && b != bound.baseline.end()) out[id] = b->second;
  }
  return out;
}

JointLoss joint_loss(opt::Strategy& engine, const BoundSpace& bound, const Values& winner) {
  return [&engine, &bound, winner](const std::vector<std::string>& returned) {
    const SearchSpace& space = *bound.space;
    try {
      return engine.difference(space.from_values(winner), space.from_values(with_returned(winner, returned, bound)));
    } catch (const UsageError&) {
      return opt::Difference{};  // a configuration the model cannot place: no joint estimate
    }
  };
}

std::vector<KnobChange> estimated_changes(const Values& winner, const BoundSpace& bound, opt::Strategy& engine,
                                          const JointLoss& loss) {
  const SearchSpace& space = *bound.space;
  std::vector<opt::Contribution> contributions;
  try {
    contributions = engine.contributions(space.from_values(winner), space.from_values(bound.baseline));
  } catch (const UsageError&) {
    contributions.clear();  // a configuration the model cannot place: no estimate, every change stays
  }
  std::vector<KnobChange> out;
  for (const auto& [id, to] : winner) {
    if (bound.unchanged(id, to)) continue;
    auto b = bound.baseline.find(id);
    KnobChange c{.id = id, .from = bound.start_text(id), .to = to};
    // A split parameter has no host's value to return to (either value changes an end): it stays.
    auto it = std::find_if(contributions.begin(), contributions.end(), [&](const auto& x) { return x.param == id; });
    if (it != contributions.end() && b != bound.baseline.end() && !bound.split.count(id)) {
      if (!it->baseline) {
        const opt::Difference d = loss({id});
        take_estimate(c, {.param = id, .gain = d.mean, .sd = d.sd});
      } else {
        take_estimate(c, *it);
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> with_switched_off(std::vector<std::string> ids, const std::vector<KnobChange>& changes,
                                           const Values& winner, const BoundSpace& bound) {
  if (ids.empty()) return ids;
  const opt::Config returned = bound.space->from_values(with_returned(winner, ids, bound));
  for (const auto& c : changes) {
    const bool off = bound.space->space().index_of(c.id) >= 0 && !returned.count(c.id) && !bound.split.count(c.id);
    if (off && bound.baseline.count(c.id) && std::find(ids.begin(), ids.end(), c.id) == ids.end()) ids.push_back(c.id);
  }
  return ids;
}

std::vector<std::string> changes_to_return(const std::vector<KnobChange>& changes, double negligible, double credit_sds) {
  std::vector<std::string> out;
  const KnobChange* best = nullptr;
  for (const auto& c : changes) {
    if (!c.gain || !c.ci95) continue;  // no estimate: nothing says it does not help
    const double sd = (c.ci95->high - c.ci95->low) / 4;
    if (*c.gain <= credit_sds * sd || *c.gain < negligible) out.push_back(c.id);
    if (!best || *c.gain > *best->gain) best = &c;
  }
  if (out.size() == changes.size() && best) std::erase(out, best->id);
  return out;
}

bool take_estimate(KnobChange& c, const opt::Contribution& x) {
  if (!std::isfinite(x.gain) || !std::isfinite(x.sd)) return false;
  c.gain = x.gain;
  c.ci95 = Interval{x.gain - 2 * x.sd, x.gain + 2 * x.sd};
  return true;
}

namespace {
// The check's own estimate of the cost (whole - simplified): its rounds' mean, the sd read off their
// 95% interval (half-width / 1.96).
opt::Difference rounds_loss(const Confirmation& vs_whole) {
  return {.mean = -vs_whole.gain, .sd = (vs_whole.gain_ci.high - vs_whole.gain_ci.low) / (2 * 1.96)};
}

// What a chain link's method gains when the model's estimate is in it (gain_through_check).
constexpr std::string_view kWithModel = " with the model";
}  // namespace

opt::Difference combined_loss(const opt::Difference& model, const Confirmation& vs_whole) {
  const opt::Difference check = rounds_loss(vs_whole);
  if (!weighable(model) || !weighable(check)) return check;
  const double wm = 1 / (model.sd * model.sd), wc = 1 / (check.sd * check.sd);
  return {.mean = (wm * model.mean + wc * check.mean) / (wm + wc), .sd = 1 / std::sqrt(wm + wc)};
}

Confirmation gain_through_check(const Confirmation& confirmed, const Confirmation& vs_whole, const opt::Difference& model_loss) {
  const opt::Difference rounds = rounds_loss(vs_whole);
  const bool agree = weighable(model_loss) && weighable(rounds) &&
                     std::abs(model_loss.mean - rounds.mean) <= kChainAgreementSds * std::hypot(model_loss.sd, rounds.sd);
  if (!agree) return chain_confirmations(confirmed, vs_whole);
  const opt::Difference both = combined_loss(model_loss, vs_whole);
  if (!weighable(both)) return chain_confirmations(confirmed, vs_whole);
  Confirmation link = vs_whole;
  link.gain = -both.mean;
  link.gain_se = both.sd;
  link.gain_ci = {link.gain - 1.96 * both.sd, link.gain + 1.96 * both.sd};
  link.method = vs_whole.method + std::string(kWithModel);
  return chain_confirmations(confirmed, link);
}

// Why a simplified winner does not replace the whole one when its gain over the baseline (the
// confirmation's chained with the check's: gain_through_check) is not confirmed: the numbers, so
// that a check too short to tell is not read as one that measured the simpler profile worse than
// the host.
std::string not_shown_above(const Confirmation& vs_base) {
  // Re-anchored by this check: the method's last link is the rounds against the baseline (a later
  // check chains " + ..." after it).
  const size_t at = vs_base.method.rfind(kReanchoredMethod);
  const bool anchored = at != std::string::npos && vs_base.method.find(" + ", at) == std::string::npos;
  const std::string numbers =
      anchored ? fmt::format("the chain and the rounds against the baseline together {:+.1f}, 95% {:+.1f} .. {:+.1f}", vs_base.gain,
                             vs_base.gain_ci.low, vs_base.gain_ci.high)
               : fmt::format("the confirmation's gain and the check's{} together {:+.1f}, 95% {:+.1f} .. {:+.1f}",
                             vs_base.method.find(kWithModel) != std::string::npos ? " with the model's estimate" : "", vs_base.gain,
                             vs_base.gain_ci.low, vs_base.gain_ci.high);
  if (vs_base.gain_ci.low > 0)  // above the baseline beyond noise, by less than a promotion needs
    return fmt::format("better than the baseline by less than the {:.0f}% a promotion needs ({})", 100 * ConfirmOptions{}.min_relative_gain,
                       numbers);
  return "not shown better than the baseline (" + numbers + ")";
}

std::string simplified_refused(const Confirmation& vs_whole, const Confirmation& vs_base, const opt::Difference& model_loss,
                               std::optional<double> allowance_left) {
  const double margin = ConfirmOptions{}.min_relative_gain * std::abs(vs_whole.baseline_mean);
  const double allowed = allowance_left.value_or(kSimplificationAllowance * std::abs(vs_whole.baseline_mean));
  if (vs_whole.gain_ci.high <= -margin) return "worse than the whole one beyond noise";
  if (combined_loss(model_loss, vs_whole).mean > allowed) {
    const std::string who = weighable(model_loss) ? " (model and check together)" : "";
    if (allowance_left) return fmt::format("more below the whole one than the {:.1f} left of the {:.0f}% a simpler profile may cost{}", allowed,
                                           100 * kSimplificationAllowance, who);
    return fmt::format("more than {:.0f}% below the whole one{}", 100 * kSimplificationAllowance, who);
  }
  if (!vs_base.promote) return not_shown_above(vs_base);
  return {};
}

std::string examined_refused(const Confirmation& vs_whole, const Confirmation& vs_base, const opt::Difference& model_loss) {
  if (!(vs_whole.gain_ci.low > 0)) return "not better without them beyond noise";
  if (!(combined_loss(model_loss, vs_whole).mean < 0)) return "not better without them by the model and the check together";
  if (!vs_base.promote) return not_shown_above(vs_base);
  return {};
}

bool refused_by_chain_alone(const Confirmation& vs_whole, const Confirmation& vs_base, const opt::Difference& model_loss,
                            std::optional<double> allowance_left, bool examined) {
  if (vs_base.promote) return false;
  Confirmation shown = vs_base;
  shown.promote = true;
  return (examined ? examined_refused(vs_whole, shown, model_loss) : simplified_refused(vs_whole, shown, model_loss, allowance_left)).empty();
}

namespace {
// `link` as if it had measured `by` more (its interval moved with it).
Confirmation shifted(Confirmation link, double by) {
  link.gain += by;
  link.candidate_mean += by;
  link.gain_ci = {link.gain_ci.low + by, link.gain_ci.high + by};
  return link;
}
}  // namespace

bool chain_may_bind(const Confirmation& confirmed, const Confirmation& link, const opt::Difference& model_loss) {
  if (!std::isfinite(link.gain) || !std::isfinite(link.gain_se) || link.gain_se <= 0) return false;
  return !gain_through_check(confirmed, shifted(link, -link.gain_se), model_loss).promote;
}

std::vector<std::string> within_allowance(const std::vector<KnobChange>& changes, const std::vector<std::string>& proposed,
                                          double allowance, const JointLoss& loss, double sds) {
  auto upper = [&](const std::string& id) {
    auto c = std::find_if(changes.begin(), changes.end(), [&](const auto& x) { return x.id == id; });
    return c != changes.end() && c->ci95 ? c->ci95->high : HUGE_VAL;
  };
  std::vector<std::string> order = proposed;
  std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) { return upper(a) < upper(b); });
  std::vector<std::string> out;
  for (const auto& id : order) {
    auto trial = out;
    trial.push_back(id);
    const opt::Difference d = loss(trial);
    if (!std::isfinite(d.mean) || !std::isfinite(d.sd)) return proposed;  // no joint estimate
    if (out.empty() || d.mean + sds * d.sd <= allowance) out = std::move(trial);
  }
  return out;
}

std::vector<std::string> propose_returns(const std::vector<KnobChange>& changes, const std::vector<std::string>& refused, double negligible,
                                         double allowance, const JointLoss& loss, double sds, double credit_sds) {
  auto candidates = changes_to_return(changes, negligible, credit_sds);
  std::erase_if(candidates, [&](const auto& id) { return std::find(refused.begin(), refused.end(), id) != refused.end(); });
  return within_allowance(changes, candidates, allowance, loss, sds);
}

namespace {

// The model's proposal for the winner's `changes` (propose_returns), with the children the returns switch off.
std::vector<std::string> proposal(const BoundSpace& bound, const ConfirmResult& conf, const std::vector<KnobChange>& changes,
                                  const std::vector<std::string>& refused, const JointLoss& loss, double allowance, double credit_sds = 1.0) {
  const double negligible = 0.005 * std::abs(conf.confirmation.baseline_mean);
  // within_allowance keeps at least one of a non-empty proposal: empty means nothing was proposed.
  return with_switched_off(propose_returns(changes, refused, negligible, allowance, loss, 1.0, credit_sds), changes, conf.winner, bound);
}

// What the next check measures: the model's proposal, or when it proposes nothing, the examination
// (`examining` set) of the changes it credits by fewer than kExamineSds sds (their 95% interval
// reaches zero) and no check has measured yet.
std::vector<std::string> next_proposal(const BoundSpace& bound, const ConfirmResult& conf, const std::vector<KnobChange>& changes,
                                       const std::vector<std::string>& refused, const JointLoss& loss, double allowance, bool& examining) {
  examining = false;
  auto ids = proposal(bound, conf, changes, refused, loss, allowance);
  if (!ids.empty()) return ids;
  ids = proposal(bound, conf, changes, refused, loss, allowance, kExamineSds);
  examining = !ids.empty();
  return ids;
}

// The rounds a check gets in the time left of a wall budget, or nullopt (with `why`) when it does not
// fit. `held_s` (anchor_time) is kept from them when the check's fewest rounds fit beside it, else
// the check has the time left as it is.
std::optional<int> check_rounds(const SimplifyInputs& in, const Budget& budget, std::string& why, double held_s = 0) {
  const auto& limits = budget.limits();
  const double full_s = in.baseline.full_measure_s, check_s = in.plan.check_measure_s(full_s);
  const int most = check_rounds_most(full_s, check_s, in.plan.rounds_asked);
  if (!limits.wall || full_s <= 0) return most;
  const double left_s = std::chrono::duration<double>(*limits.wall - budget.elapsed()).count();
  const double needed_s = simplification_minimum_s(check_s);
  if (left_s < needed_s) {
    why = fmt::format("{:.0f} s left of the budget, its 3 rounds need {:.0f} s", std::max(0.0, left_s), needed_s);
    return std::nullopt;
  }
  return simplification_rounds_that_fit(left_s - held_s >= needed_s ? left_s - held_s : left_s, check_s, most);
}

// What a check holds back for the re-anchoring's fewest rounds when its chain may bind
// (chain_may_bind), else 0: their time and one round's more, for the check's own rounds running
// over the planner's estimate of them (~1 s a measurement on the testbed) and the model's refit.
double anchor_time(const SimplifyInputs& in, bool may_bind) {
  const double check_s = in.plan.check_measure_s(in.baseline.full_measure_s);
  return may_bind ? simplification_minimum_s(check_s) + round_seconds(check_s) : 0.0;
}

// Whether a check that began at `start` (the budget's clock) and has measured `done` rounds
// measures another: when no other check can follow it (`last`: the last a search makes, or the
// model would propose nothing after it, nothing_would_follow; or the wall budget's time left
// holds no other's fewest rounds) and one more round fits (another_check_round), as long as its
// rounds took or the planner's estimate of one, whichever is longer (a failed measurement returns
// early). What follows the check (telling the model, its next proposal, persisting) runs in the
// 10 s kept; `held_s` (anchor_time) is the re-anchoring's, not the check's. Never with
// --confirm-rounds below kMinUsefulConfirmRounds (the user's choice), nor without a wall budget.
bool another_round(const SimplifyInputs& in, const Budget& budget, std::chrono::milliseconds start, bool last, int done, double held_s) {
  const auto& limits = budget.limits();
  const double full_s = in.baseline.full_measure_s;
  if (!limits.wall || full_s <= 0 || in.plan.rounds_asked < kMinUsefulConfirmRounds) return false;
  const double check_s = in.plan.check_measure_s(full_s);
  const double timed_s = std::chrono::duration<double>(budget.elapsed() - start).count() / std::max(1, done);
  const double round_s = std::max(timed_s, round_seconds(check_s));
  const double left_s = std::chrono::duration<double>(*limits.wall - budget.elapsed()).count();
  // The held time is the next check's when the anchor does not need it.
  const bool followed = !last && left_s >= simplification_minimum_s(check_s);
  return !followed && another_check_round(left_s - held_s, round_s, done, check_rounds_most(full_s, check_s, in.plan.rounds_asked));
}

// Every measurement of the check, told to the engine: the model learns what the returns cost beside
// the winner, where the search's trials seldom measured, and the next proposal knows it (on the
// testbed the model put a 20-byte MTU return at +1.9 +- 7.1 and the check measured -48).
void tell_check(opt::Strategy& engine, const BoundSpace& bound, const Values& whole, const Values& simplified, const CheckRounds& c) {
  auto tell = [&](const Values& v, const std::optional<double>& score) {
    if (!score) return;
    try {
      engine.tell(bound.space->from_values(v), opt::TrialState::complete, *score);
    } catch (const UsageError&) {  // a configuration the model cannot place: it learns nothing from it
    }
  };
  for (const auto& r : c.pairs) {
    tell(whole, r.baseline);
    tell(simplified, r.candidate);
  }
}

// The simplified winner's row: its probes as the check measured them (drop counts scaled to a full
// measurement's length, the table's "drops/10s"), its throughput and score chained like the gain (the
// whole winner's before the check plus the check's simplified - whole), so that the row beside the
// baseline's (the confirmation's) is read in the same rounds' terms as the gain.
Averages chained_row(const Averages& whole_before, const CheckRounds& c) {
  Averages row = c.simplified_row;
  scale_drops(row, c.to_full);
  if (row.n > 0 && whole_before.n > 0 && c.whole_row.n > 0) {
    row.throughput += row.n * (whole_before.mean_throughput() - c.whole_row.mean_throughput());
    row.score += row.n * (whole_before.mean_score() - c.whole_row.mean_score());
  }
  return row;
}

// The winner is now the simplified one, held to the baseline through the confirmation (vs_base:
// gain_through_check, or that pooled with the rounds against the baseline when the check
// re-anchored it). Its row's score is vs_base's, the model's estimate of the check's cost
// included, so that the table's score and the "winner confirmed" line say the same; its throughput
// and probes are the check's rounds'.
void take_simplified(ConfirmResult& conf, const Values& simplified, const Confirmation& vs_base, const CheckRounds& c) {
  // A re-anchored gain's baseline level pools the rounds against the baseline with the
  // confirmation's (pool_confirmations): the baseline row's score follows it, as the winner's does.
  if (vs_base.baseline_mean != conf.confirmation.baseline_mean && conf.baseline_row.n > 0)
    conf.baseline_row.score = conf.baseline_row.n * vs_base.baseline_mean;
  conf.winner = simplified;
  conf.winner_trial.reset();
  conf.confirmation = vs_base;
  conf.reason = vs_base.reason;
  conf.baseline_score = vs_base.baseline_mean;
  conf.winner_score = vs_base.candidate_mean;
  conf.winner_row = chained_row(conf.winner_row, c);
  if (conf.winner_row.n > 0) conf.winner_row.score = conf.winner_row.n * conf.winner_score;
}

// One line for everything the simplification did: a single check's own words, or each check's in turn.
std::string summary(const std::vector<std::string>& notes, const std::string& stop) {
  if (notes.empty()) return stop;
  const std::string s = notes.size() == 1 ? notes.front() : fmt::format("{} checks: {}", notes.size(), fmt::join(notes, "; then "));
  return stop.empty() ? s : s + "; " + stop;
}

// The most checks a search makes, and the stop line that says so.
struct CheckCap {
  int most = kMaxSimplificationChecks;
  std::string why = "12 checks are the most a search makes";
};

// Why no check follows a proposal of `ids` for the winner's `changes` (after `checks` checks), or
// empty when one may.
std::string why_no_check(const std::vector<std::string>& ids, const std::vector<KnobChange>& changes, int checks, const CheckCap& cap,
                         double allowance_left) {
  if (ids.empty()) {  // after a check nothing to add: the checks' own lines say what happened
    if (checks > 0) return "";
    return changes.size() == 1 ? "one change, confirmed on its own" : "the model gives every change a part: every change stays";
  }
  if (ids.size() == changes.size()) {  // a returned parent switches off the change that stays
    return checks > 0 ? "the next proposal would switch off every other change"
                      : "returning what the model credits least would switch off every other change: every change stays";
  }
  if (checks >= cap.most) return cap.why;
  if (allowance_left <= 0) return fmt::format("the {:.0f}% a simpler profile may cost is spent", 100 * kSimplificationAllowance);
  return "";
}

// What the next check would measure of the winner in `conf`, as the model stands: its changes with
// their estimates, the proposal (or examination: next_proposal) and why no check follows it (empty:
// one does). simplify_winner's checks and check_would_follow ask it alike.
struct NextCheck {
  JointLoss loss;
  std::vector<KnobChange> changes;
  std::vector<std::string> ids;
  bool examining = false;
  std::string stop;
  bool follows() const { return !ids.empty() && stop.empty(); }
  // "the model's proposal to return 1 of 3 changes (wg0/mtu[; note])": what a check of it measures.
  std::string proposal(const std::string& note = "") const {
    return fmt::format("the model's proposal to return {} of {} changes ({}{})", ids.size(), changes.size(), fmt::join(ids, ", "),
                       note.empty() ? "" : "; " + note);
  }
};

NextCheck next_check(opt::Strategy& engine, const BoundSpace& bound, const ConfirmResult& conf, const std::vector<std::string>& refused,
                     double allowance_left, int check, const CheckCap& cap) {
  NextCheck n;
  n.loss = joint_loss(engine, bound, conf.winner);
  n.changes = estimated_changes(conf.winner, bound, engine, n.loss);
  n.ids = next_proposal(bound, conf, n.changes, refused, n.loss, allowance_left, n.examining);
  n.stop = why_no_check(n.ids, n.changes, check, cap, allowance_left);
  return n;
}

// The simplification so far, check by check.
struct Checks {
  Simplification s;
  std::vector<std::string> refused;  // proposed changes the plant refused: never proposed again
  std::vector<std::string> notes;    // one line per check
  double allowance = 0;              // what the simpler profile may cost: kSimplificationAllowance of the confirmed winner
  double spent = 0;                  // what the kept checks' returns cost (combined_loss), of the allowance
  std::map<std::string, PlantCheck> checked;  // each proposed change: what its check measured
  Confirmation link;                 // the last check's simplified - whole (before the first: the confirmation, for its noise)
  CheckCap cap;                      // the checks this search may make (SearchPlan::max_checks)
};

// Whether the model, as it stands before a check of `ids`, would propose no check after it, whichever
// way the check goes: with the returns refused (the winner as it is, those changes never proposed
// again) and with them kept (the simplified winner; the allowance taken as if the check spent none
// of it, since a kept check's combined loss is mostly near zero, so that a wrong guess leans to "a
// check follows"). Such a check is the last the search makes, so it may take the time a next one
// would have had (another_round): a 30-minute search's one check returned five changes, the model
// proposed nothing after it, and 209 s of the budget went unused (2026-12-05). The model has not
// heard the check yet; after it, it may still propose another, which then runs if its rounds fit.
// An examination (next_proposal) is not counted: it only uses time no proposal of the model needs.
bool nothing_would_follow(const BoundSpace& bound, opt::Strategy& engine, const ConfirmResult& conf, const std::vector<KnobChange>& changes,
                          const std::vector<std::string>& ids, const Values& simplified, const Checks& k, int check) {
  const double left = k.allowance - k.spent;
  // The loop's own test after a proposal: a check follows when something is proposed and nothing stops it.
  auto check_follows = [&](const std::vector<std::string>& next, const std::vector<KnobChange>& of) {
    return !next.empty() && why_no_check(next, of, check + 1, k.cap, left).empty();
  };
  auto refused = k.refused;
  refused.insert(refused.end(), ids.begin(), ids.end());
  if (check_follows(proposal(bound, conf, changes, refused, joint_loss(engine, bound, conf.winner), left), changes)) return false;
  ConfirmResult kept = conf;
  kept.winner = simplified;
  const JointLoss loss = joint_loss(engine, bound, simplified);
  const auto kept_changes = estimated_changes(simplified, bound, engine, loss);
  return !check_follows(proposal(bound, kept, kept_changes, k.refused, loss, left), kept_changes);
}

// Every change in `changes` that a check proposed gets what that check measured.
void attach_checks(std::vector<KnobChange>& changes, const std::map<std::string, PlantCheck>& checked) {
  for (auto& c : changes) {
    if (auto it = checked.find(c.id); it != checked.end()) c.check = it->second;
  }
}

// The re-anchoring's rounds (refused_by_chain_alone): as many as a check gets in the time left, the
// baseline (nothing applied) in the first slot, each measurement told to the model. Their decision
// (simplified - baseline), or nullopt with `note` saying why not (no time, too few rounds completed).
std::optional<Confirmation> measure_against_baseline(const SimplifyInputs& in, PlantAccess& plant, opt::Strategy& engine, const Budget& budget,
                                                     SearchProgress& progress, const Values& simplified, std::string& note) {
  std::string why;
  const auto rounds = check_rounds(in, budget, why);
  if (!rounds) {
    note = "no time left to measure it against the baseline itself (" + why + ")";
    return std::nullopt;
  }
  progress.say(fmt::format("simplification: the chain through the confirmation does not confirm the simplified winner's gain over the "
                           "baseline; measuring it against the baseline itself, {} rounds of {} s measurements",
                           *rounds, in.plan.check.duration.count()));
  const CheckRounds b = run_check(in, plant, nullptr, simplified, *rounds, nullptr, progress);
  tell_check(engine, plant.bound(), plant.bound().baseline, simplified, b);
  if (complete(b.pairs) < 2) {
    note = "too few rounds against the baseline itself completed";
    return std::nullopt;
  }
  return decide_confirmation(b.pairs);
}

// A check's rounds judged: simplified - whole (vs_whole), the simplified winner's gain over the
// baseline (vs_base: the confirmation's chained through the check, gain_through_check; re-anchored
// when the chain alone refused it), what is left of the allowance, and the check's words so far.
struct CheckVerdict {
  Confirmation vs_whole, vs_base;
  std::optional<double> left;  // what is left of the allowance after earlier kept checks (nullopt: none kept yet)
  std::string line;
};

CheckVerdict chained_verdict(const std::vector<ConfirmationRound>& pairs, std::chrono::seconds length, const opt::Difference& model_loss,
                             const Checks& k, const ConfirmResult& conf) {
  CheckVerdict v;
  v.vs_whole = decide_confirmation(pairs);
  v.vs_base = gain_through_check(conf.confirmation, v.vs_whole, model_loss);
  // The first check holds the simplified winner to 5% of the whole as it measured it; later ones to
  // what is left of the allowance; an examination returns only what the plant shows to hurt.
  v.left = k.spent > 0 ? std::optional(k.allowance - k.spent) : std::nullopt;
  v.line = check_line(v.vs_whole, model_loss, length);
  return v;
}

// The verdict's gain over the baseline pooled with the rounds against the baseline itself
// (`direct`), and the words for both; without them (nullopt), `note` says why.
void reanchor(CheckVerdict& v, const std::optional<Confirmation>& direct, const std::string& note) {
  if (!direct) {
    v.line += "; " + note;
    return;
  }
  const Confirmation pooled = pool_confirmations(v.vs_base, *direct);
  v.line += fmt::format("; the chain through the confirmation {:+.1f} (95% {:+.1f} .. {:+.1f}), measured against the baseline itself "
                        "{:+.1f} (95% {:+.1f} .. {:+.1f}), together {:+.1f} (95% {:+.1f} .. {:+.1f})",
                        v.vs_base.gain, v.vs_base.gain_ci.low, v.vs_base.gain_ci.high, direct->gain, direct->gain_ci.low, direct->gain_ci.high,
                        pooled.gain, pooled.gain_ci.low, pooled.gain_ci.high);
  v.vs_base = pooled;
}

// Decides one check (its rounds `c`, judged in `v`): the changes `step.returned` go back (the
// simplified winner becomes conf's) or stay (refused), and the check's line is noted. An
// examination (the model proposed nothing; `examined`) returns them only when the plant shows the
// winner better without them (examined_refused); else they stay, their part measured.
void decide_check(const CheckRounds& c, const CheckVerdict& v, const opt::Difference& model_loss, const Simplification& step,
                  const Values& simplified, bool examined, Checks& k, ConfirmResult& conf) {
  k.s.measured = true;
  const auto& [vs_whole, vs_base, left, line] = v;
  const PlantCheck measured{.gain = vs_whole.gain, .ci95 = vs_whole.gain_ci, .together = static_cast<int>(step.returned.size())};
  for (const auto& r : step.returned) k.checked[r.id] = measured;
  const std::string how =
      examined ? examined_refused(vs_whole, vs_base, model_loss) : simplified_refused(vs_whole, vs_base, model_loss, left);
  const size_t n = step.returned.size();
  if (!how.empty()) {
    k.notes.push_back(examined ? fmt::format("{} change(s) examined ({}): {}, they stay, their part measured", n, line, how)
                               : fmt::format("the simplified winner measured {} ({}): the proposed change(s) stay", how, line));
    for (const auto& r : step.returned) k.refused.push_back(r.id);
    return;
  }
  const double pct = 100 * kSimplificationAllowance;
  const std::string why =
      examined ? "better without them, by the plant and by the model and the check together"
      : left   ? fmt::format("not worse beyond noise and within the {:.1f} left of the {:.0f}% a simpler profile may cost", *left, pct)
               : fmt::format("not worse beyond noise and within the {:.1f} ({:.0f}%) a simpler profile may cost",
                             kSimplificationAllowance * std::abs(vs_whole.baseline_mean), pct);
  k.notes.push_back(fmt::format("{} change(s) {}returned to the host's value ({}): {}", n, examined ? "examined and " : "", line, why));
  k.spent += std::max(0.0, combined_loss(model_loss, vs_whole).mean);
  k.s.returned.insert(k.s.returned.end(), step.returned.begin(), step.returned.end());
  take_simplified(conf, simplified, vs_base, c);
}

// The checks in turn, until one says why no other follows: that line. Throws Interrupted on Ctrl-C.
std::string run_checks(const SimplifyInputs& in, PlantAccess& plant, opt::Strategy& engine, const Budget& budget,
                       SearchProgress& progress, ConfirmResult& conf, Checks& k) {
  const BoundSpace& bound = plant.bound();
  std::string stop;
  for (int check = 0;; ++check) {
    const NextCheck next = next_check(engine, bound, conf, k.refused, k.allowance - k.spent, check, k.cap);
    const auto& [loss, changes, ids, examining, why_not] = next;
    k.s.kept = changes;  // what the profile carries unless a check returns some
    Simplification step;
    split(changes, ids, step);
    stop = why_not;
    if (!next.follows()) break;
    const opt::Difference model_loss = loss(ids);  // before the model hears the check: two independent estimates
    // This check foreseen as noisy as the last, at the model's estimate of what the returns cost.
    const Confirmation foreseen = shifted(k.link, (std::isfinite(model_loss.mean) ? -model_loss.mean : 0.0) - k.link.gain);
    const double held_s = anchor_time(in, chain_may_bind(conf.confirmation, foreseen, model_loss));
    std::string why;
    const auto rounds = check_rounds(in, budget, why, held_s);
    const std::string held = rounds && rounds != check_rounds(in, budget, why)
                                 ? fmt::format(" ({:.0f} s held back to measure it against the baseline itself, should its chain through the "
                                               "confirmation not show it above the baseline)", held_s)
                                 : "";
    if (!rounds && examining) {  // the model's own verdict stands, unexamined
      const std::string unexamined = fmt::format("no time left to examine on the plant the {} change(s) it credits by fewer than {:.0f} sds ({}; {})",
                                                 ids.size(), kExamineSds, fmt::join(ids, ", "), why);
      stop = check == 0 ? "the model gives every change a part: every change stays; " + unexamined : unexamined;
      break;
    }
    if (!rounds) {
      stop = check == 0 ? fmt::format("no time left to check on the plant {}: the whole winner stays, every change as confirmed together{}",
                                      next.proposal(why), budget_hint(in, budget, conf))
                        : "no time for another check, of " + next.proposal(why);
      progress.say("simplification: " + stop);
      k.s.proposed.insert(k.s.proposed.end(), step.returned.begin(), step.returned.end());
      break;
    }
    if (examining) {
      progress.say(fmt::format("simplification: the model credits every change, but {} of {} by less than {:.0f} sds ({}); "
                               "examining on the plant whether returning them costs anything, {} rounds of {} s measurements{}",
                               ids.size(), changes.size(), kExamineSds, fmt::join(ids, ", "), *rounds, in.plan.check.duration.count(), held));
    } else {
      progress.say(fmt::format("simplification: the model proposes returning {} of {} changes to the host's value ({}); "
                               "checking on the plant, {} rounds of {} s measurements{}",
                               ids.size(), changes.size(), fmt::join(ids, ", "), *rounds, in.plan.check.duration.count(), held));
    }
    if (!examining) k.s.proposed.insert(k.s.proposed.end(), step.returned.begin(), step.returned.end());
    const Values simplified = with_returned(conf.winner, ids, bound);
    const bool last = check + 1 >= k.cap.most ||
                      nothing_would_follow(bound, engine, conf, changes, ids, simplified, k, check);
    const auto start = budget.elapsed();
    // A check whose rounds so far leave it refused for its chain alone keeps the time left for the
    // rounds against the baseline instead of measuring more of its own; one whose chain may yet
    // bind keeps their time (anchor_time).
    const MoreRounds more = [&](const std::vector<ConfirmationRound>& done) {
      double held_now = held_s;
      if (complete(done) >= 2) {
        const CheckVerdict so_far = chained_verdict(done, in.plan.check.duration, model_loss, k, conf);
        if (refused_by_chain_alone(so_far.vs_whole, so_far.vs_base, model_loss, so_far.left, next.examining)) return false;
        held_now = anchor_time(in, chain_may_bind(conf.confirmation, so_far.vs_whole, model_loss));
      }
      return another_round(in, budget, start, last, static_cast<int>(done.size()), held_now);
    };
    CheckRounds c;
    try {
      c = run_check(in, plant, &conf.winner, simplified, *rounds, more, progress);
    } catch (const OutageEnded& e) {  // the confirmed winner stands: an outage ends the checks, not the search (found in review)
      stop = fmt::format("the checks ended on an outage outside wgopt ({}): {}", e.what(),
                         check == 0 ? "the whole winner stays, every change as confirmed together" : "the changes not returned yet stay");
      progress.say("simplification: " + stop);
      break;
    }
    tell_check(engine, bound, conf.winner, simplified, c);
    if (complete(c.pairs) < 2) {
      const std::string what = examining ? fmt::format("the examination of {} change(s) ({})", ids.size(), fmt::join(ids, ", "))
                                         : "the check of " + next.proposal();
      stop = fmt::format("too few rounds of {} completed: {}", what,
                         check == 0 ? "the whole winner stays, every change as confirmed together" : "they stay");
      break;
    }
    CheckVerdict v = chained_verdict(c.pairs, c.length, model_loss, k, conf);
    k.link = v.vs_whole;
    if (refused_by_chain_alone(v.vs_whole, v.vs_base, model_loss, v.left, examining)) {
      std::string note;
      std::optional<Confirmation> direct;
      try {
        direct = measure_against_baseline(in, plant, engine, budget, progress, simplified, note);
      } catch (const OutageEnded& e) {
        note = fmt::format("its rounds against the baseline ended on an outage outside wgopt ({})", e.what());
      }
      reanchor(v, direct, note);
    }
    decide_check(c, v, model_loss, step, simplified, examining, k, conf);
  }
  return stop;
}

}  // namespace

Simplification simplify_winner(const SimplifyInputs& in, PlantAccess& plant, opt::Strategy& engine,
                                const Budget& budget, SearchProgress& progress, ConfirmResult& conf) {
  Checks k;
  if (!conf.promote || !in.options.simplify) return k.s;  // --keep-whole-winner: the winner as confirmed
  k.allowance = kSimplificationAllowance * std::abs(conf.confirmation.candidate_mean);
  k.link = conf.confirmation;
  k.cap = {in.plan.max_checks, in.plan.max_checks_why};
  std::string stop;
  try {
    stop = run_checks(in, plant, engine, budget, progress, conf, k);
  } catch (const Interrupted&) {
    // The confirmation promoted the winner: Ctrl-C during a check stops the checks, not the search,
    // whose profile carries what the checks left (found by an exploratory test: Ctrl-C in a check
    // threw away a +27% winner, and --resume measured the baseline and the confirmation again). A
    // retune rethrows: its profile is rewritten only with the winner applied (rewrite_boot_files).
    if (in.plan.retune()) throw;
    k.s.interrupted = true;
    stop = fmt::format("Ctrl-C stopped check {}: {}", k.notes.size() + 1,
                       k.notes.empty() ? "the whole winner stays, every change as confirmed together" : "the changes not returned yet stay");
    progress.say("simplification: " + stop);
  }
  k.s.reason = summary(k.notes, stop);
  attach_checks(k.s.kept, k.checked);
  attach_checks(k.s.returned, k.checked);
  for (auto& c : k.s.kept)  // proposed, then no check finished measuring it (no time, too few rounds, Ctrl-C)
    c.return_unchecked = !c.check && std::any_of(k.s.proposed.begin(), k.s.proposed.end(), [&](const KnobChange& p) { return p.id == c.id; });
  return k.s;
}

// The confirmation's baseline mean is not known yet: `baseline_mean` (the baseline rounds') stands in
// for it in what counts as negligible (0.5% of it), so a change credited within a hair of that edge
// may be judged otherwise after the confirmation.
bool check_would_follow(opt::Strategy& engine, const BoundSpace& bound, double baseline_mean) {
  const opt::Recommendation best = engine.recommend();
  if (!best.valid) return false;
  ConfirmResult conf;
  conf.winner = bound.space->to_values(best.config);
  conf.confirmation.baseline_mean = baseline_mean;
  return next_check(engine, bound, conf, {}, kSimplificationAllowance * std::abs(best.mean), 0, CheckCap{}).follows();
}

std::vector<ChangeEvidence> change_evidence(const std::vector<KnobChange>& changes) {
  std::vector<ChangeEvidence> out;
  for (const auto& c : changes)
    out.push_back({.id = c.id, .from = c.from, .to = c.to, .contribution = c.gain, .ci95 = c.ci95, .check = c.check,
                   .return_unchecked = c.return_unchecked});
  return out;
}

std::string change_line(const KnobChange& c) {
  std::string s = fmt::format("{}: {} -> {}", c.id, c.from, c.to);
  if (c.gain && c.ci95) return s + fmt::format(", contributes {:+.1f} (95% {:+.1f} .. {:+.1f})", *c.gain, c.ci95->low, c.ci95->high);
  return s + ", contribution unknown (no model estimate)";
}

}  // namespace wgopt::experiments

namespace wgopt::experiments {

std::string changes_table(const Simplification& s) {
  if (s.kept.empty() && s.returned.empty()) return "";
  Table t({"change", "host's value", "winner's", "contribution (model)", "95% interval", "returning it, measured", "in the profile"});
  auto row = [&](const KnobChange& c, const std::string& where) {
    t.add_row({c.id, c.from, c.to, c.gain ? fmt::format("{:+.1f}", *c.gain) : "unknown",
               c.ci95 ? fmt::format("{:+.1f} .. {:+.1f}", c.ci95->low, c.ci95->high) : "-", plant_check_text(c.check), where});
  };
  for (const auto& c : s.kept) row(c, kept_text(c.return_unchecked));
  for (const auto& c : s.returned) row(c, "returned to the host's value");
  return "\n" + t.render_text();
}

}  // namespace wgopt::experiments

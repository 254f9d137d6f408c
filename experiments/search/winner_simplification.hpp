#pragma once
// Stage 9b of the search, after a promoting confirmation: every changed knob must earn its place.
// The engine's model (opt::Strategy::contributions) estimates each change's part in the winner; the
// changes that do not clearly contribute are proposed for return to the host's own value, as many
// as the model's joint estimate says cost at most kSimplificationAllowance of the winner's score
// together (within_allowance). The simplified winner is then measured on the plant against the
// whole winner, interleaved in rounds (W S, S W, ...), at the screening length (5 s of the default
// 10, policies.hpp check_seconds: 5 rounds in the time 3 full-length rounds took until 2026-12-04,
// whose t(0.975, 2) made a check's interval +-17 .. +-117 Mbit/s on the testbed, median +-48; a
// check that no other can follow (the fourth, no time for another, or the model would propose
// nothing after it either way: nothing_would_follow) measures more while the time left holds
// another round, up to twice as many: another_check_round), and it replaces the whole winner only
// when it beats the baseline (the confirmation's rule, on the confirmation's gain chained with the
// cost the model and the check put together: gain_through_check; until 2026-12-04 every check
// measured the baseline as a third arm,
// a third of its time, when the confirmation had just measured it), is not worse than the whole
// winner beyond noise (the 95% interval of simplified - whole reaches above minus the
// confirmation's minimum gain) and its cost, as the model's joint estimate and the check's rounds
// put it together (combined_loss), is within the allowance. A check refused only because its chain
// through the confirmation has grown too wide (refused_by_chain_alone) measures the simplified
// winner against the baseline itself, as many rounds as a check, and decides again on the two
// pooled (pool_confirmations): when that check is kept, its re-anchored gain is what later checks
// chain from. A check that no other can follow stops measuring more of its own rounds once the
// chain alone would refuse it, so that the time left goes to the rounds against the baseline, and
// a check whose chain may bind (chain_may_bind) keeps their fewest rounds' time, and a round more,
// from its own.
//
// That is one check. Its measurements are told to the engine, and the model proposes again, for the
// winner the check left: a refused change is never proposed again, a returned one is gone, and what
// the kept returns cost is spent from the one allowance of the confirmed winner. Checks go
// on while the model proposes, the wall budget holds one more (a budget plans one per 10 minutes:
// simplification_checks_planned) and at most kMaxSimplificationChecks. Before 2026-12-04 there was
// one check: on the testbed's 21 knobs the model's joint allowance lets one to three changes into a
// proposal, so 12-17 changes stayed unexamined even in a long search. When the model proposes
// nothing, a check the time left holds examines the changes it credits by fewer than kExamineSds
// sds instead (next_proposal; examined_refused decides).
//
//   Simplification s = simplify_winner({o, baseline, mo, plan}, plant, engine, budget, progress, conf);
//   // conf.winner is now what the profile carries; s.kept / s.returned explain it.
//
// Inputs: a ConfirmResult that promoted (anything else is returned untouched, with no change listed).
// Outputs: the changes kept with their estimated contribution (score units, interval gain +- 2 sd of
// the model after every check), the changes returned to the host's value (with their estimate when
// proposed), and a one-line reason (each check's outcome in turn); when a simplified winner is kept,
// `conf` is rewritten from that check's rounds (its winner, the winner's row and the confirmation
// against the baseline chained through the check, or re-anchored by it: pool_confirmations; the
// baseline's row stays the confirmation's).
// Errors: Ctrl-C during a check ends the checks (interrupted; a retune's rethrows Interrupted); a round whose apply fails or whose measurement fails is left
// out of the decision (paired by round).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "experiments/search/confirmation_rounds.hpp"
#include "experiments/search/space_binding.hpp"
#include "experiments/study/evidence.hpp"
#include "optimizer/strategy.hpp"

namespace wgopt::experiments {

class SearchProgress;

struct KnobChange {
  std::string id;
  std::string from, to;            // the host's value, the winner's
  std::optional<double> gain;      // the model's estimate of this change's contribution (score units)
  std::optional<Interval> ci95;    // gain +- 2 sd
  std::optional<PlantCheck> check; // what the plant check that proposed returning it measured
  bool return_unchecked = false;   // kept: the model proposed returning it, and no check measured that
};

// Gives c the model's estimate from x when it has one (finite gain and sd): gain, interval gain +- 2
// sd. Returns whether it did.
bool take_estimate(KnobChange& c, const opt::Contribution& x);

struct Simplification {
  std::vector<KnobChange> kept;      // the changes the profile carries
  std::vector<KnobChange> returned;  // changes returned to the host's value (measured: not worse without them)
  std::vector<KnobChange> proposed;  // what the model proposed to return, every check's (== returned when the plant agreed)
  bool measured = false;             // the plant check ran (enough rounds of each arm)
  bool interrupted = false;          // Ctrl-C stopped a check: the winner is what the checks before it left
  std::string reason;                // one line
};

// Which changes the model proposes to return: a change returns unless its estimated gain is above
// `credit_sds` posterior sds (the search: 1; bench_optimizer's examination ablation, exm=V: more)
// and at least `negligible` (score units). Changes with no estimate (no model, no host value to
// return to) stay. At least one change always stays (the one with the largest gain). Pure.
std::vector<std::string> changes_to_return(const std::vector<KnobChange>& changes, double negligible, double credit_sds = 1.0);

// A simpler profile may cost at most this share of the whole winner's score: the model's proposal
// is held to it (within_allowance) and so is the plant's check.
inline constexpr double kSimplificationAllowance = 0.05;

// When the model proposes nothing (it credits every change by more than its sd), a check the time
// left holds examines the changes it credits by fewer than this many sds (their 95% interval
// reaches zero), which no check has measured, so that the profile's weakest changes carry the
// plant's measurement of their part (examined_refused says when they go back). A 10-minute search
// on the testbed's four knobs ended with MTU 1420 -> 1440 credited +23.4 (95% -7.8 .. +54.5),
// nothing examined, and 119 s of the budget, the check's reserve, unused.
inline constexpr double kExamineSds = 2.0;

// The model's joint loss of returning a set of changes: whole winner minus simplified, score units.
using JointLoss = std::function<opt::Difference(const std::vector<std::string>& returned)>;

// The winner with the changes `ids` returned to the host's values (bound.baseline). A child the returns
// switch back on (RFS's flow count when RPS goes back to the host's mask) is at the host's value too,
// which is what the plant keeps when the Values do not name it, so the model's configuration
// (from_values) says the same instead of the space's default.
Values with_returned(const Values& winner, const std::vector<std::string>& ids, const BoundSpace& bound);

// The model's joint loss of returning changes of `winner` to `bound`'s baseline (Strategy::difference
// of the two configurations); NaNs when the model cannot place either. Pure.
JointLoss joint_loss(opt::Strategy& engine, const BoundSpace& bound, const Values& winner);

// The winner's changes against the host's values (bound.baseline), each with the model's estimate of
// its contribution (Strategy::contributions) unless its parameter is split between mirrored ends. A
// change whose parameter the host has switched off (RFS's flow count on a host without RPS) has no
// baseline value in the model's terms: its estimate is the joint loss of returning it alone (RPS
// kept, RFS at the host's 0). Before 2026-12-04 it had none and stayed in every profile unexplained.
std::vector<KnobChange> estimated_changes(const Values& winner, const BoundSpace& bound, opt::Strategy& engine,
                                          const JointLoss& loss);

// `ids` and the other changes that returning them switches off (RFS's flow count when RPS goes back
// to 0): such a change returns with its parent, or the profile would write it with nothing to support
// it (the model's joint loss of `ids` already counts it gone).
std::vector<std::string> with_switched_off(std::vector<std::string> ids, const std::vector<KnobChange>& changes,
                                           const Values& winner, const BoundSpace& bound);

// Of `proposed`, the changes whose return together the model expects to cost at most `allowance`
// (score units), taken in order of their own upper bound (gain + 2 sd, smallest first): the first
// always (the plant's check decides on it), each next one when the joint loss's mean + 1 sd stays
// within the allowance. With 28 trials in 21 dimensions every change's interval spans +-40 Mbit/s,
// so "not above its own sd" proposed returning 13 of 14 changes at once, and the plant measured
// that 165 below the whole winner: every change stayed. No joint estimate (NaN): `proposed` as it
// is. Pure but for `loss`.
std::vector<std::string> within_allowance(const std::vector<KnobChange>& changes, const std::vector<std::string>& proposed,
                                          double allowance, const JointLoss& loss, double sds = 1.0);

// One check's proposal before switched-off children join it (with_switched_off): changes_to_return
// minus the changes an earlier check refused, cut to `allowance` by within_allowance. The search
// and bench/simplification_sim propose with it. Pure but for `loss`.
std::vector<std::string> propose_returns(const std::vector<KnobChange>& changes, const std::vector<std::string>& refused, double negligible,
                                         double allowance, const JointLoss& loss, double sds = 1.0, double credit_sds = 1.0);

// The cost of the simplification (whole - simplified, score units) from the two estimates of it:
// the model's joint one (from the search's trials) and the plant check's paired rounds (vs_whole:
// baseline slot the whole, candidate slot the simplified; its sd read off its 95% interval as
// half-width / 1.96), each weighted by its precision. They come from different measurements, so
// together they know more than either: three check rounds on the testbed spread +-116 Mbit/s
// around a cost the model put at 5 +- 9 after 41 trials. Without a finite model estimate (or with
// a degenerate sd on either side): the check's alone. Pure.
opt::Difference combined_loss(const opt::Difference& model, const Confirmation& vs_whole);

// The simplified winner's gain over the baseline: the confirmation's (`confirmed`) chained
// (chain_confirmations) with the estimate of simplified - whole. When the model has an estimate of
// the cost (finite mean, positive sd) that agrees with the check's rounds (their means within
// kChainAgreementSds of their sds together), the link is the two together (combined_loss, the
// estimate the cost is judged by; the rounds' sd read off their t interval, so conservative), with
// the check's degrees of freedom and its method named "<check's> with the model"; otherwise the
// check's rounds alone: the model proposes the changes it credits least, so where the plant
// disagrees the plant's word stands (a check measured -48 where the model said +1.9 +- 7.1,
// 2026-12-03). Until 2026-12-06 the link was always the rounds alone: on the testbed two kept
// checks' 5 half-length rounds (+-60 and +-79 Mbit/s) widened a one-hour search's chain to
// -18.6 .. +303.1 over a confirmation whose own 4 rounds had measured the whole winner +81.9 (t =
// 12.4), and the fourth check's return of tcp_rmem (-3.0, 95% -22.8 .. +16.9; with the model -4.5
// +- 8.9) was refused as "not shown better than the baseline". Pure.
inline constexpr double kChainAgreementSds = 2.0;
Confirmation gain_through_check(const Confirmation& confirmed, const Confirmation& vs_whole, const opt::Difference& model_loss);

// The plant check's verdict on a simplified winner, from its rounds against the whole winner
// (vs_whole) and against the baseline (vs_base: gain_through_check), and the model's
// joint estimate of its cost (model_loss; none: the check alone): empty when it is kept, else why not, in a few words. It is kept when
// the check does not measure it worse than the whole beyond noise (its interval of simplified -
// whole reaches above minus the confirmation's minimum gain), the combined estimate of its cost
// (combined_loss) is at most kSimplificationAllowance of the whole, and it beats the baseline (the
// confirmation's rule). The check's own mean decided the cost before 2026-12-03: on the testbed it
// refused a return the model put at 5 +- 9 on a mean of -38 whose interval was -154 .. +79, so a
// change nothing supported stayed in the profile. `allowance_left`: after an earlier check kept
// returns, what is left of the one allowance of the confirmed winner (score units) replaces
// kSimplificationAllowance of this check's whole (a 5% allowance per check let 4 checks return
// changes worth 2.5% of the optimum on bench_optimizer's wg_host16). Pure.
std::string simplified_refused(const Confirmation& vs_whole, const Confirmation& vs_base, const opt::Difference& model_loss = {},
                               std::optional<double> allowance_left = std::nullopt);

// An examination's verdict (kExamineSds): empty when the examined changes go back, which is only
// when the plant measured the winner without them better than with them beyond noise (simplified -
// whole's 95% interval above zero), the model and the check together put their part below zero, and
// the simplified winner beats the baseline; else why they stay, in a few words. The model credits
// an examined change, if weakly: returning it whenever the combined estimate fell to zero or below
// returned small real effects on the checks' noise (simulation, 30 seeds: wg_host4's profile regret
// 0.429 -> 0.492 at 5% noise, 0.563 -> 0.648 at 10%, needless changes unchanged), so an examination
// measures and explains, and returns only a change the plant shows to hurt. Pure.
std::string examined_refused(const Confirmation& vs_whole, const Confirmation& vs_base, const opt::Difference& model_loss);

// Whether a check's verdict refuses its simplified winner only because the chain (vs_base:
// gain_through_check) no longer shows it above the baseline: with vs_base promoting, the verdict
// (examined_refused when `examined`, else simplified_refused) would keep it. Such a check measures
// the simplified winner against the baseline itself when the time left holds a check's rounds, and
// decides again on the chain pooled with those rounds (pool_confirmations): the re-anchoring. Every
// kept check's chain adds its own variance, and the confirmation's degrees of freedom cap them all:
// bench_study_decisions' chain table showed that after 5-6 checks, or at 8% noise, even 8
// confirmation rounds leave needless returns shown above the baseline only about half the time,
// and on the testbed a one-hour search refused two returns its rounds and the model put at +20.7
// and -3.0 as "not shown better than the baseline" (2026-12-06). Pure.
bool refused_by_chain_alone(const Confirmation& vs_whole, const Confirmation& vs_base, const opt::Difference& model_loss,
                            std::optional<double> allowance_left, bool examined);

// Whether a check may be refused for its chain alone (refused_by_chain_alone), before it is decided:
// the gain over the baseline so far (`confirmed`: the confirmation's, or the chain of the checks kept
// since) through a check that measures simplified - whole one standard error below `link`, with the
// model's estimate `model_loss` as the decision takes it (gain_through_check), does not promote.
// Before a check `link` is the last check's rounds (the confirmation's before the first) moved to
// minus the model's estimate of the returns' cost; during one, its rounds so far. Such a check holds
// back the time of the re-anchoring's fewest rounds, and one round more, from its own (check_rounds,
// another_round), so that measure_against_baseline has them: on the testbed a 20-minute search's
// third check took the 3 rounds the time left held, was refused for its chain alone (+62.7, 95%
// -16.4 .. +141.8), and its anchor had "0 s left of the budget, its 3 rounds need 39 s"
// (2026-12-06). False without a finite gain and a positive standard error in `link`. Pure.
bool chain_may_bind(const Confirmation& confirmed, const Confirmation& link, const opt::Difference& model_loss);

struct SimplifyInputs {
  const SearchOptions& options;
  const BaselineResult& baseline;
  const MeasureOptions& mo;
  const SearchPlan& plan;
  OutageWatch& outages;  // a check's measurement an outside outage broke is measured again
};

Simplification simplify_winner(const SimplifyInputs& in, PlantAccess& plant, opt::Strategy& engine,
                                const Budget& budget, SearchProgress& progress, ConfirmResult& conf);

// Whether the simplification would check anything on the plant if the engine's recommendation were
// confirmed now, over a baseline scoring `baseline_mean`: the model proposes returns, or an
// examination (as simplify_winner's first check). False without a recommendation or with no change
// in it. The trial loop gives the checks' reserve to more trials while this is false: a 10-minute
// search on the testbed's four knobs ended at 479-481 s of 600, the check's 84 s unused, when the
// model credited every change beyond 2 sds (2026-12-05). Pure but for the engine's model.
bool check_would_follow(opt::Strategy& engine, const BoundSpace& bound, double baseline_mean);

// The kept and returned changes as the profile's evidence records them.
std::vector<ChangeEvidence> change_evidence(const std::vector<KnobChange>& changes);

// The end-of-search table of the changes: knob, host's value, winner's, estimated contribution with
// its 95% interval, what a plant check measured of returning it (plant_check_text), and whether the
// profile keeps it or it went back to the host's value.
std::string changes_table(const Simplification& s);

// "wg0/mtu: 1280 -> 1370, contributes +120.5 (95% +80.1 .. +160.9)" (no estimate: "contribution unknown").
std::string change_line(const KnobChange& c);

}  // namespace wgopt::experiments

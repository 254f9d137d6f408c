#pragma once
// The search's arithmetic policies, pure and unit-tested (tests/experiments/test_search_policies.cpp):
// how long a measurement and a guardian's lease last, what the confirmation holds back of a wall
// budget, how many confirmation rounds fit in the time left, and when a trial re-measures a top
// candidate instead of asking for a new one.
#include <chrono>
#include <optional>

#include "experiments/study/budget.hpp"
#include "experiments/study/objective.hpp"

namespace wgopt::experiments {

// How long an applied candidate may go unconfirmed before the guardian restores (apply + the
// liveness check; the "connectivity back within 15 s").
inline constexpr std::chrono::milliseconds kApplyLease{12000};

// One measurement's nominal length: every scenario's duration plus 4 s of iperf3 start and stop.
double nominal_measure_seconds(const Objective& objective);

// The guardian's lease over one settle + measurement: twice the nominal length plus 30 s, so a
// slow run is never cut short while a hung wgopt is still caught.
std::chrono::milliseconds measurement_lease(double nominal_measure_s);

// The fewest confirmation rounds worth running: a paired t over 2 rounds has 1 degree of freedom
// (t = 12.7 at 95 %), so it promotes only a gain above ~6 times the difference of its two paired
// gains: on a noisy host never (bench_search, --budget 3m: +85 % kept as the baseline). Over 3
// rounds t = 4.3 and a gain of ~2.5 paired sds is promoted.
inline constexpr int kMinUsefulConfirmRounds = 3;

// The most plant checks the winner's simplification makes (winner_simplification.hpp): each returns
// the changes the model credits least, or finds them needed and teaches the model so. 12 is what
// the user's `--budget 2h` plans (one per 10 minutes): until 2026-12-06 it was 4, and a 30-minute
// search on the testbed's 23 knobs ended on "4 checks are the most a search makes" with every one
// of its four checks kept and 11 changes, none shown to help, left in the profile; a 2-hour search
// would have ended there too, its last ~100 trials adding little to a converged search.
inline constexpr int kMaxSimplificationChecks = 12;

// The confirmation's rounds when --confirm-rounds is not given: kConfirmRounds (at 2% run-to-run
// noise a +10% winner is confirmed ~99% of the time: bench_study_decisions), or more when the
// winner's simplification plans several checks (simplification_checks_planned; with no wall
// budget, the most a search makes): 6 for 2 or 3 checks, 8 for 4 or more, while the reserve holds
// them and the checks under half the budget (measurements of `nominal_measure_s`; else
// kConfirmRounds, and confirmation_reserve's short-budget rule). A kept check's gain over
// the baseline is the confirmation's chained with the check's cost (gain_through_check), so the
// confirmation's variance is in every later chain and its degrees of freedom cap the chain's: over
// 4 rounds (3 dof, t = 3.18) a 20-minute search's second check on the testbed was refused as "not
// shown better than the baseline" at -2.4 .. +159.3 after a confirmation of +83.2 (2026-12-06).
// With 4% noise a measurement and a +20% gain, the chain after a third check of needless returns
// still shows the simpler winner above the baseline 94% of the time over 6 rounds against 79% over
// 4, after a fourth 93% over 8 against 66%, and a simpler winner no better than the baseline no
// more often (bench_study_decisions' chain table, which also shows that at 8% noise, or after many
// more checks, the checks' own rounds dominate the chain whatever the confirmation's). Two more
// rounds cost about 60 s of a 20-minute budget (5%); four, ~5% of 40 minutes and ~3% of an hour.
inline constexpr int kConfirmRounds = 4;
// The checks planned are at most `most_checks` (SearchPlan::max_checks: --max-checks, or with no wall
// simplification_checks_unbounded, which then stands for the planned ones).
int default_confirm_rounds(std::optional<std::chrono::milliseconds> wall, double nominal_measure_s, bool simplify,
                           int most_checks = kMaxSimplificationChecks);

// The simplification checks a wall budget plans for: one per 10 minutes, 1 .. kMaxSimplificationChecks
// (each check takes ~72 s at the default 10 s: 5 rounds of 5 s measurements, check_rounds_most), so
// a long budget holds back about a sixth for them and the confirmation (16% at 2 hours).
// Returning what the model credits least takes one to six changes per check on the testbed's 23
// knobs, so a long search's winner gets more of its unsupported changes examined.
int simplification_checks_planned(std::chrono::milliseconds wall);
// With no wall budget, the same rule on the time `max_trials` trials of `nominal_measure_s` take:
// a trial cap plans one check per 10 minutes of its trials (found by an exploratory test: `--trials
// 3 --duration 3` made 16 checks, over 12 minutes, after 23 s of trials).
int simplification_checks_unbounded(int max_trials, double nominal_measure_s);

// With no wall budget, the most the confirmation's `confirm_rounds` and the winner simplification's
// `checks` (each with its rounds against the baseline itself, measure_against_baseline) take after
// the trials: what the search says up front (found by an exploratory test: `--trials 3 --duration
// 3` ran 15 minutes, the trials' 0.4 of them).
std::chrono::milliseconds unbounded_rounds_most(double nominal_measure_s, int confirm_rounds, int checks);

// What a wall budget holds back for confirmation (2 measurements per round), with `simplify` the
// simplification's checks (simplification_checks_planned, each the time of kMinUsefulConfirmRounds
// full-length rounds of 2 measurements, which the check spends on more, shorter ones), persisting
// and restoring (10 s): that much when it is under half the budget, else a third of the budget, or
// kMinUsefulConfirmRounds rounds (of at most confirm_rounds) when those need more and fit in half
// of it.
std::chrono::milliseconds confirmation_reserve(std::chrono::milliseconds wall, double nominal_measure_s, int confirm_rounds,
                                               bool simplify, int most_checks = kMaxSimplificationChecks);

// The wall budget left for the search once set-up took `setup`: never less than the reserve plus
// 1 ms (so the Budget stays valid and simply allows no trial).
BudgetLimits after_setup(BudgetLimits limits, std::chrono::milliseconds setup);

// The planner's estimate of one round of a confirmation or a check: two measurements of
// `measure_s`, plus 1.5 s each for apply, settle and liveness (~1 s short of the testbed's).
double round_seconds(double measure_s);

// Confirmation rounds that fit in `left_s` seconds when a full measurement takes `full_measure_s`
// (each round: one baseline and one candidate measurement, plus 1.5 s each for apply, settle and
// liveness), at least kMinUsefulConfirmRounds (or max_rounds when that is fewer: the user's
// choice) and at most `max_rounds`.
int confirmation_rounds_that_fit(double left_s, double full_measure_s, int max_rounds);

// The rounds a confirmation's second look adds when its first look, of `first_rounds`, did not
// promote (decide_confirmation_in_looks), or 0 when it has none: as many full-length rounds as fit
// in `left_s` seconds with the 10 s for persisting and restoring kept, at most `first_rounds` (twice
// the rounds in all), and none when fewer than kMinUsefulConfirmRounds fit or the first look has
// fewer (the user's --confirm-rounds). Asked after the first look: with rounds for a second, each
// look decides at half the error rate. A 20-minute search on the testbed kept the baseline on a +20.9% gain whose
// 4 rounds' interval reached -0.8 while 211 s held for the winner's simplification went unused
// (2026-12-06). `first_look_s`, the time the first look's rounds took (0: not known), sets a round's
// time when it is longer than the nominal one (apply, settle and the tunnel check are slower over
// ssh or on a busy host): a retune's second look overran its --budget by 12-20 s (found by an
// exploratory test).
int second_look_rounds(double left_s, double full_measure_s, int first_rounds, double first_look_s = 0);

// The time the confirmation leaves for the simplification of the winner: kMinUsefulConfirmRounds
// rounds of 2 measurements (whole, simplified), plus 1.5 s each for apply, settle and liveness.
// Over 2 rounds a paired comparison has 1 degree of freedom (a check that still measured the
// baseline failed even a 70% gain over it: bench_search, whole default space, "no better than the
// baseline"); the comparison with the baseline is now chained through the confirmation.
double simplification_minimum_s(double full_measure_s);

// What the confirmation keeps, of the `left_s` seconds left of a wall budget, for the
// simplification's first check: simplification_minimum_s(full_measure_s) (the time its most rounds
// at `check_measure_s` plan for) when the check's fewest rounds (simplification_minimum_s of
// check_measure_s) fit beside the confirmation's fewest (kMinUsefulConfirmRounds, or confirm_rounds
// when fewer), else 0: a check that cannot fit would only cost the confirmation its rounds (a
// 5-minute search confirmed in 3 of its 4 rounds to keep 69 s for a check whose rounds then did not
// fit, 2026-12-05).
double check_time_kept(double left_s, double full_measure_s, double check_measure_s, int confirm_rounds);

// The length of the simplification's checks (seconds per scenario) for a full `duration` and the
// search's screening length `screen` (== duration: screening off): the screening length, but never
// shorter than screen_seconds_for(duration). A check compares two configurations measured in turns,
// and on the testbed a measurement's run-to-run sd is only 1.05x as large at 5 s as at 10 s (pooled
// over nine studies, bench/README "screening"; 15-26 Mbit/s at both lengths in the checks of
// 2026-12-04's 10- and 30-minute studies), so 5 rounds in the time of 3 narrow its interval about
// 2x (t(0.975, 4) / sqrt(5) against t(0.975, 2) / sqrt(3)). A shorter screen (--screen 2) is mostly
// warm-up: the checks keep the default half.
int check_seconds(int duration, int screen);

// How long one of the check's measurements takes: a full one's (`full_measure_s`, as the
// baseline's rounds took) less the seconds every one of `scenarios` is shorter (the iperf3 start
// and stop around them stay). At least 1 s.
double check_measure_seconds(double full_measure_s, int duration, int check_seconds, int scenarios);

// The most rounds a check makes at `check_measure_s` a measurement: `confirm_rounds` (the user's
// --confirm-rounds, as at full length), or more when they are shorter: as many as fit in the time
// of kMinUsefulConfirmRounds full-length rounds, the time the reserve plans a check for
// (confirmation_reserve): 5 at the default 10 s. Fewer than kMinUsefulConfirmRounds given: those.
int check_rounds_most(double full_measure_s, double check_measure_s, int confirm_rounds);

// The shortest --budget, in whole minutes, whose reserve holds the confirmation's rounds and the
// simplification's in full (confirmation_reserve under half of it), plus a minute of slack (the
// reserve counts measurements, not the 1.5 s of apply and settle around each): what a user is told
// to give when a short budget had no time for the check: 8 for the default 10 s measurements
// (nominal 14 s each) and 4 rounds (10 while a check measured the baseline too: a search of 8
// minutes then had 95 s left for the check's 104 s).
int simplification_budget_minutes(double nominal_measure_s, int confirm_rounds);

// Simplification rounds that fit in `left_s` (2 measurements each, plus 1.5 s each), at least
// kMinUsefulConfirmRounds (or max_rounds when fewer), at most `max_rounds` (at least 2).
int simplification_rounds_that_fit(double left_s, double full_measure_s, int max_rounds);

// Whether a check that no other can follow (the last a search makes, the time left holds no
// other's fewest rounds, or the model would propose nothing after it) and has measured `done`
// rounds, `round_s` seconds each as timed, measures one more: while one more round leaves the 10 s
// the reserve holds for persisting and restoring, up to twice its `most`. A 10-minute search's one
// check left 29-40 s of the budget unused (2026-12-04): a 6th round narrows its interval by 15%
// (t(0.975, 5) / sqrt(6) = 1.05 against t(0.975, 4) / sqrt(5) = 1.24). Timed, not estimated: the
// estimate (round_seconds) is ~1 s a measurement short of the testbed's.
bool another_check_round(double left_s, double round_s, int done, int most);

// How far the search is, 0..1 and beyond: the larger of the time spent of the wall budget (minus
// its reserve) and the trials started of the cap.
double search_progress(const BudgetLimits& limits, std::chrono::milliseconds elapsed, int trials_started);

// The screening measurement's length for a full `duration` (seconds per scenario): half of it,
// rounded up, when the duration is 6 s or more (5 of 10 s: with the first second omitted, 4 s of
// steady rate against 9, whose run-to-run sd is only 1.05x as large on the testbed: bench/README),
// else the full duration (a shorter run is mostly warm-up).
int screen_seconds_for(int duration);

// The screening length a search uses: `given` (0: off, the full duration) checked against the
// duration (UsageError outside 2..duration), or screen_seconds_for(duration) when not given.
int screen_seconds(std::optional<int> given, int duration);

// In the last fifth of the budget, every other trial re-measures a top candidate (once at least 3
// trials completed), so the recommendation rests on repeated measurements. `trials` and `complete`
// count this session's trials before the one about to start.
bool remeasure_due(double progress, int complete, int remeasured, int trials);

}  // namespace wgopt::experiments

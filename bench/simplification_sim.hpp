#pragma once
// The search's winner simplification (experiments/search/winner_simplification.hpp, stage 9b) on a
// benchmark problem whose truth is known: the engine's model proposes which of the recommended
// winner's changes go back to the start's values (changes_to_return, within_allowance, with the
// same allowances as the search), and a simulated plant check (CheckPlan: 5 interleaved rounds of
// the whole and the simplified winner at 1.05x the problem's noise, as the search's half-length
// ones) keeps the simplified winner or not (simplified_refused, with the model's joint estimate of its cost, as the search does, and the
// gain over the baseline chained through a simulated confirmation: CheckPlan::confirm_rounds rounds of the baseline and the
// winner, not told to the engine, as the search does not tell its confirmation). As in the
// search, the check's measurements are then told to the engine and the model proposes again for
// the winner the check left (never what a check refused), up to `checks` checks. The truth then
// says which changes were needless before and after, and what the simplification cost.
#include "bench/harness.hpp"
#include "bench/problems.hpp"
#include "experiments/search/winner_simplification.hpp"
#include "optimizer/strategy.hpp"

namespace wgopt::bench {

struct SimplificationOutcome {
  int proposed = 0;          // changes the model proposed to return, over every check
  bool kept = false;         // a simulated check kept a simplified winner
  int checks = 0;            // simulated plant checks made
  int anchors = 0;           // checks refused for their chain alone that measured the baseline (CheckPlan::anchor)
  opt::Config profile;       // what the profile carries: the simplified winner when kept, else the winner
};

// The simulated plant checks: at most `checks`, `rounds` each, each measurement's noise
// `noise_factor` times the problem's. The defaults are the search's: 5 rounds of half-length
// measurements (policies.hpp check_rounds_most), whose run-to-run sd on the testbed is 1.05x a full
// one's (until 2026-12-04 late: 3 rounds at full length, ckr=3/ckn=1).
struct CheckPlan {
  int checks = 4;
  int rounds = 5;
  double noise_factor = 1.05;
  double proposal_sds = 1.0;  // within_allowance's sds
  int design = 0;             // measurements beside the winner before the first proposal (exploration)
  // Examination: once the model proposes nothing, a check examines the changes credited by fewer
  // than `examine_sds` sds (0: none; the search's kExamineSds), and they go back by the search's rule
  // (examined_refused: only when the plant shows they hurt); with `examine_allowance` >= 0 (the
  // first rule tried, 2026-12-05, not the search's) when they cost at most that share of the
  // allowance left (of the confirmed winner's, even at the first check).
  double examine_sds = experiments::kExamineSds;
  double examine_allowance = -1;
  // The simplified winner's gain over the baseline chained through the model's and the check's cost
  // together, as the search since 2026-12-06 (gain_through_check); false: through the check's rounds
  // alone, as before ("chm=0").
  bool chain_with_model = true;
  // The confirmation's rounds before the checks: the search's default for the budget the checks
  // stand for (policies.hpp default_confirm_rounds; 8 for 4 checks, a 40-minute search's); until
  // 2026-12-06 always 4 ("cfr=4").
  int confirm_rounds = 4;
  // A check refused for its chain through the confirmation alone measures the simplified winner
  // against the baseline in `rounds` more rounds (told to the model) and decides on the two pooled,
  // as the search since 2026-12-06 (refused_by_chain_alone, pool_confirmations); false: it stays
  // refused, as before ("anc=0").
  bool anchor = true;
};

// problem must have a start; winner is the engine's recommendation, winner_mean its posterior mean
// (user units). The check's measurements come from their own stream (seeded by `seed`), so the
// trials' noise is unchanged. Throws wgopt::UsageError when the winner is not in the space.
SimplificationOutcome simulate_simplification(const Problem& problem, opt::Strategy& engine, const opt::Config& winner,
                                              double winner_mean, double noise_sd, std::uint64_t seed, const CheckPlan& plan);

}  // namespace wgopt::bench

#pragma once
// Confirmation of a winner before promotion ("rollback on regression"): the best candidate and the
// baseline are measured interleaved, and the candidate is promoted only if it is better with
// statistical confidence and by at least a minimum relative gain. Otherwise the baseline stays.
// Interleaving spreads slow drift (thermal, a noisy neighbour) over both arms; pairing round i's
// baseline with round i's candidate then cancels most of it.
//
// How many rounds (bench/bench_study_decisions, 2 % run-to-run noise): with the defaults a +10 %
// winner is promoted 84 % of the time after 3 rounds, 99 % after 4; a +5 % winner 64 % after 4,
// 93 % after 6; an equal candidate about 1.5 % of the time, a -5 % one never.
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/study/stats.hpp"

namespace wgopt::experiments {

enum class Arm { Baseline, Candidate };

enum class ConfirmOrder {
  Alternating,  // B C B C B C ...
  Balanced,     // B C C B B C C B ... (cancels a linear drift exactly within each block of four)
};

// The measurement order for `rounds` rounds (each arm measured `rounds` times), baseline first.
// Throws UsageError if rounds < 2 (one round gives no estimate of the noise).
std::vector<Arm> plan_confirmation(int rounds, ConfirmOrder order = ConfirmOrder::Alternating);

struct ConfirmOptions {
  double confidence = 0.95;         // two-sided confidence of the intervals, in (0.5, 1)
  double min_relative_gain = 0.02;  // the estimated gain must be at least 2 % of |baseline|; >= 0

  // Throws UsageError naming the invalid option, its value and the allowed range.
  void validate() const;
};

struct Confirmation {
  bool promote = false;        // true: keep the candidate; false: the baseline stays (in looks: by the look's stricter interval)
  double baseline_mean = 0;    // score
  double candidate_mean = 0;
  double gain = 0;             // candidate - baseline (mean of paired differences when paired)
  double relative_gain = 0;    // gain / |baseline_mean| (inf/-inf when the baseline mean is 0)
  Interval baseline_ci;        // `confidence` intervals of each arm's mean
  Interval candidate_ci;
  Interval gain_ci;            // `confidence` interval of the gain
  double p_value = 1;          // two-sided, for "no difference"
  std::string method;          // "paired t" (equal counts), "Welch t" (a round was lost), or "chained: ..." (chain_confirmations)
  std::string reason;          // one line: why promoted or kept
  double gain_se = 0;          // standard error of the gain, and its degrees of freedom (what chain_confirmations needs)
  double gain_dof = 0;
};

// Scores of each arm in measurement order (higher is better). Equal counts are paired round by
// round; unequal counts (a failed round) fall back to Welch's t. Promotes iff the whole gain
// interval is above 0 and the estimated relative gain is at least min_relative_gain.
// Throws wgopt::Error when an arm has fewer than 2 scores or a score is not finite; UsageError for
// invalid options.
Confirmation decide_confirmation(std::span<const double> baseline, std::span<const double> candidate,
                                 const ConfirmOptions& options = {});

// One round of an interleaved confirmation: the baseline's and the candidate's score, nullopt when
// that measurement was lost (it failed, or the candidate no longer applied).
struct ConfirmationRound {
  std::optional<double> baseline, candidate;
};

// The decision over rounds, pairing by round: rounds with both scores are paired (paired t) when at
// least 2 are complete, and a round with one score lost is left out of both arms (a lost round must
// never pair one round's baseline with another round's candidate); with fewer complete rounds, every
// score is compared unpaired (Welch t). The reason says how many rounds were left out. Throws
// wgopt::Error when an arm has fewer than 2 scores; UsageError for invalid options.
Confirmation decide_confirmation(const std::vector<ConfirmationRound>& rounds, const ConfirmOptions& options = {});

// The decision at the `look`-th of `looks` looks at the same growing rounds (the search looks again,
// after more rounds, at a winner its first look did not promote while the budget's time left holds
// them: confirmation_rounds.cpp). Each look promotes only at 1 - (1 - confidence) / looks
// (Bonferroni), so that over all its looks a winner no better than the baseline is promoted no more
// often than by one look at `confidence` (bench_study_decisions' confirmation table); the
// intervals, the p-value and the rest are decide_confirmation's at `confidence` (so `promote` no
// longer follows from gain_ci alone), and the reason and the method say the look ("...; look 2 of
// 2, each at 97.5%", "paired t, look 2 of 2, each at 97.5%"). One look: decide_confirmation. Throws
// UsageError unless 1 <= look <= looks, and as decide_confirmation.
Confirmation decide_confirmation_in_looks(const std::vector<ConfirmationRound>& rounds, int look, int looks,
                                          const ConfirmOptions& options = {});

// Whether a first look (decide_confirmation_in_looks) is followed by more rounds and a second when
// the time holds them: it did not promote and its gain is above 0 (a gain at or below 0 would
// need the next rounds to reverse it). The search's confirmation and bench_study_decisions ask it.
bool looks_again(const Confirmation& first);

// The second confirmation's candidate against the first one's baseline, where the second measured
// its candidate against the first one's candidate (a simplified winner against the confirmed whole
// one): the gains add, their variances add (the two come from different rounds, each paired within
// itself), on Welch-Satterthwaite's degrees of freedom capped at the first's (the chain claims no
// more than the part that measured the baseline), and the rule is the confirmation's. The baseline's mean and interval are the first's; the candidate's mean is the
// first's candidate's plus the second's gain, its interval the first's candidate's widened by the
// second's gain's (in quadrature). The method says it is chained. This spares the simplification's checks a baseline
// arm: a third of their time. It is no independent replication of the first: the first is reused,
// and it is chained only after it promoted (a marginal first gain is read a little high). Throws
// UsageError for invalid options.
Confirmation chain_confirmations(const Confirmation& first, const Confirmation& second, const ConfirmOptions& options = {});

// One gain from two independent measurements of the same candidate against the same baseline (a
// chain through the simplification's checks, `chained`, and rounds that measured the candidate
// against the baseline itself, `direct`): their gains weighted by their precision (w = 1 / se^2),
// the variance 1 / sum w widened by Meier's correction for weights that are themselves estimated
// (x (1 + 4 sum c(1 - c) / dof), c = w / sum w), the fewer of the two parts' degrees of freedom,
// and the confirmation's rule. A part with no noise (se 0) is exact and decides alone. The
// baseline's level and interval are the two parts' by the same weights (the direct rounds measured
// the baseline too; the confirmation's alone made a winner whose confirmation had read the
// baseline low score below all its own measurements); the candidate's mean is that level plus the
// pooled gain, its interval the baseline's and the gain's half-widths in quadrature. The method
// names both parts ("...; re-anchored: paired t"). The simplification re-anchors a chain that has
// grown too wide to show a simpler winner above the baseline (winner_simplification.hpp).
// Conservative on purpose: with the plain 1 / sum w and Satterthwaite's degrees of freedom, a
// simplified winner no better than the baseline was shown above it in 3.3-3.8% of the pooled
// decisions where its chain had not been (bench_study_decisions' chain table, 5-round anchors),
// above the one-sided 2.5% the rule means. The re-anchoring is a second look after the chain's,
// so the two together still show such a winner above the baseline more often than the chain
// alone did (the chain table's "costly" rows). Throws UsageError for invalid options.
inline constexpr std::string_view kReanchoredMethod = "; re-anchored: ";
Confirmation pool_confirmations(const Confirmation& chained, const Confirmation& direct, const ConfirmOptions& options = {});

// {"promote": .., "baseline": {"mean": .., "ci": [lo, hi]}, "candidate": {...}, "gain": ..,
// "relative_gain": .., "gain_ci": [lo, hi], "p_value": .., "method": .., "reason": ..}: the evidence
// stored in the study and beside the profile. A non-finite relative gain is written as null.
nlohmann::json confirmation_to_json(const Confirmation& c);

}  // namespace wgopt::experiments

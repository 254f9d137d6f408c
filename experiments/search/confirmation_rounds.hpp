#pragma once
// Stage 9 of the search: the engine's recommendation (the best posterior mean, not the luckiest
// run) measured interleaved with the baseline, B C B C ..., as many rounds as the plan's
// (--confirm-rounds, or policies.hpp default_confirm_rounds: more when several simplification
// checks will chain through the confirmation) or as fit in the budget's time left (at least 2),
// and promoted only when the paired gain's interval is above zero and the gain is at least 2%
// (experiments/study/confirm.hpp).
#include <optional>
#include <string>

#include "experiments/search/baseline_rounds.hpp"
#include "experiments/search/search_plan.hpp"
#include "experiments/study/confirm.hpp"
#include "experiments/study/search_outcome.hpp"
#include "optimizer/strategy.hpp"

namespace wgopt::experiments {

class OutageWatch;
class SearchProgress;

struct ConfirmResult {
  Values winner;                  // the configuration the host ends on: the baseline unless promoted
  std::optional<int> winner_trial;  // the last trial that measured the recommendation
  bool promote = false;
  bool confirmed = false;         // the confirmation decided (enough rounds of each arm)
  bool second_look = false;       // it decided in a second look, after more rounds (decide_confirmation_in_looks)
  Confirmation confirmation;      // the decision, when confirmed
  SearchOutcome outcome = SearchOutcome::NoTrials;  // Promoted, KeptBaseline or NoTrials
  std::string reason;             // one line: why
  double baseline_score = 0, winner_score = 0;
  Averages baseline_row, winner_row;  // §7.1 rows over the rounds (baseline's own rounds without confirmation)
};

// The recommendation measured interleaved with the baseline over the rounds that fit
// (rounds_for), and decided by decide_confirmation; when the time left after those rounds holds
// 3 more (second_look_rounds), in two looks (decide_confirmation_in_looks): a first that does not
// promote a positive gain is followed by more rounds and a second on all of them. A measurement an
// outage outside wgopt broke is voided and measured again (round_measurement.hpp). Throws
// Interrupted on Ctrl-C.
ConfirmResult confirm_winner(const SearchOptions& options, const BaselineResult& baseline, const MeasureOptions& mo,
                             PlantAccess& plant, OutageWatch& outages, opt::Strategy& engine, StudyStore& store, const Budget& budget,
                             const SearchPlan& plan, SearchProgress& progress);

}  // namespace wgopt::experiments

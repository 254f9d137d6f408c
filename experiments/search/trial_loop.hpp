#pragma once
// Stage 8 of the search: trials until the budget is spent. Each trial asks the engine for a
// candidate (or, late in the budget, re-measures a top one), records it in the study as running,
// applies it on every end under the guardian's lease, checks the tunnel (a dead one makes the trial
// infeasible, reverted at once), settles, measures with early stopping against the incumbent,
// restores the baseline, records the outcome and tells the engine. With screening (SearchPlan::screen)
// a new candidate is measured at the screening length; a re-measurement of a top candidate at full
// length. A trial during which the path went down whatever was applied (an outside outage: the
// tunnel dead with the host's own values back too, or the peer's session lost and back) is
// recorded failed with kOutageTrialNote, never told to the engine nor counted against --trials,
// and its configuration measured again once the path is back (waited for up to two minutes, which
// may run past the budget; then the search ends with an Error, the host restored, the study
// resumable).
#include <functional>

#include "experiments/search/baseline_rounds.hpp"
#include "experiments/search/search_plan.hpp"
#include "optimizer/strategy.hpp"

namespace wgopt::experiments {

class OutageWatch;
class SearchProgress;

struct TrialCounts {
  int trials = 0, complete = 0, pruned = 0, failed = 0, infeasible = 0;  // this session's
  int outages = 0;  // besides those: voided by an outage outside wgopt (the path down with the host's own values)
  int stalls = 0;   // of the outages: voided for a stall with the path up, and measured again (TrialRecord::stall_void)
  double pruning_saved_s = 0;  // measurement time early stopping saved, against a full measurement here
  double screening_saved_s = 0;  // ... and screening saved (a new candidate measured at the screening length)
  std::vector<std::string> peer_events;  // --ssh: each lost session and what came of it
  double measured_s = 0;       // measurement time the trials took (with early stopping)
};

struct TrialLoopInputs {
  const SearchOptions& options;
  const SearchPlan& plan;
  const BaselineResult& baseline;
  PruneReferences& refs;  // the incumbent's rates move up as better candidates complete
  MeasureOptions mo;      // prune points at refs when early stopping is on
  // Whether the winner simplification would check anything if the engine's recommendation were
  // confirmed now (check_would_follow); empty: the plan's check_reserve stays held. When the trials'
  // share is spent and it says no, the check_reserve goes to more trials (Budget::release_reserve),
  // which go on while it still says no; once a trial makes a winner with changes to check, the
  // trials end and the reserve is held again for the check (whatever of it is left).
  std::function<bool()> check_wanted;
  OutageWatch& outages;  // asked when a trial looks broken; waits out the path, ends a search it keeps breaking
};

// Counts into `counts` as trials end (so an interrupted search still reports them). Throws
// Interrupted on Ctrl-C (the live candidate is left for the caller to restore).
void run_trials(const TrialLoopInputs& in, PlantAccess& plant, opt::Strategy& engine, StudyStore& store, Budget& budget,
                SearchProgress& progress, TrialCounts& counts);

}  // namespace wgopt::experiments

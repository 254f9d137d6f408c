#pragma once
// Outages outside wgopt: the path down whatever is applied (a peer rebooting, a link flapping, the
// peer's session lost). Scoring a measurement taken through one would blame it on what was measured:
// a trial's candidate (the engine would learn a cliff that is not there), the winner in its
// confirmation (the search would end "kept baseline"), or the baseline rounds (the search would
// fail). Every stage that measures asks the one OutageWatch of its search when a measurement looks
// broken, with the host's own values back; a measurement the path's outage broke is voided, the
// path waited for, and the same thing measured again. A path that keeps breaking or does not come
// back ends the search with an Error that names the resume command (the host restored).
#include <chrono>
#include <optional>
#include <string>

#include "experiments/measure/measure.hpp"
#include "experiments/study/budget.hpp"

namespace wgopt::experiments {

class PlantAccess;
class SearchProgress;

// A measurement under this share of the host's own rate looks like a broken path.
inline constexpr double kBrokenRateShare = 0.1;

// Whether `ev` looks like the path broke under it: it failed, or moved under kBrokenRateShare of
// `own_mbps` (the baseline rounds' mean throughput; 0: unknown, only a failure looks broken).
bool looks_broken(const Evaluation& ev, double own_mbps);

class OutageWatch {
 public:
  OutageWatch(PlantAccess& plant, SearchProgress& progress, const Budget& budget, std::string study_path);

  // With the host's own values applied: the tunnel checked, and again after a short grace (undoing
  // a candidate may reset a link for a few seconds). The reason when it is down both times.
  std::optional<std::string> path_down();

  // `what` ("trial 4", "confirmation round 3 (baseline)") was voided because `why`: counted (three
  // in a row end the search, an Error naming the resume command), then the path is waited for:
  // checked every few seconds for up to two minutes within what is left of the budget (at least
  // 30 s), and an Error when it does not come back.
  // A trial's void is counted by the trial loop (TrialCounts::outages); a round's here.
  void voided(const std::string& what, const std::string& why, bool trial);
  // A measurement that was not voided: the count of voids in a row starts again.
  void held() { in_a_row_ = 0; }

  // Measurements other than trials (baseline, confirmation and simplification rounds) voided and
  // measured again.
  int voided_rounds() const { return rounds_; }

 private:
  void wait_for_path(const std::string& what);

  PlantAccess& plant_;
  SearchProgress& progress_;
  const Budget& budget_;
  std::string study_path_;
  int in_a_row_ = 0;
  int rounds_ = 0;
};

}  // namespace wgopt::experiments

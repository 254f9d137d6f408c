#pragma once
// The retune-only stages of the search (`wgopt retune`, experiments/search/retune.hpp): before the
// baseline, knobs that drifted from the profile are put back for good; after it, the profile holds
// when the kernel is the one it was made on and the score is within the tolerance of its evidence,
// and then the run ends without a trial. Over --ssh (a both-ends profile) the peer's part is gated
// against the peer's facts first; its drift (space_binding.hpp) and kernel (study_open.hpp) count
// like this end's, and the put-back goes through the peer's agent with the rest.
#include <optional>
#include <string>
#include <vector>

#include "actuators/profile.hpp"
#include "experiments/search/baseline_rounds.hpp"
#include "experiments/study/evidence.hpp"

namespace wgopt::experiments {

class SearchProgress;
class RemoteEnd;

// Retune --ssh, before anything changes on either end: the profile's peer: part against the peer's
// facts (its agent's hello, host_gate.hpp compare_peer_with). Throws UsageError naming each
// differing fact unless `force` (then a warning).
void gate_peer_facts(const act::Profile& profile, const std::string& label, const RemoteEnd& remote, bool force);

// Applies the profile's values to every bound place and keeps them (like `wgopt apply`), under
// the guardian's apply lease. Throws Error, with the host as it was, when that cuts the tunnel.
void put_back_drift(PlantAccess& plant, const std::vector<std::string>& drifted, SearchProgress& progress);

struct RetuneCheck {
  double recorded_score = 0;  // the profile's evidence (winner, else baseline), or the baseline's when it has none
  bool regressed = false;     // the baseline is below the recorded score by more than the tolerance
  bool kernel_changed = false;
  bool holds() const { return !regressed && !kernel_changed; }
};

// True when `now` is below the recorded score by more than `tolerance` (a fraction of it).
bool below_tolerance(double recorded, double now, double tolerance);

// Compares the baseline rounds with the profile's evidence and says the result.
RetuneCheck check_profile(const Evidence& evidence, double tolerance, const BaselineResult& baseline, const std::string& kernel_was,
                          const std::string& kernel_now, SearchProgress& progress);

}  // namespace wgopt::experiments

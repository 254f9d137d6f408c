#pragma once
// One arm of the paired rounds that decide what the host keeps: the confirmation's (baseline and
// winner) and the winner simplification's checks (whole and simplified winner). The arm's values
// are applied under the guardian (none: the host as it is, the baseline arm), the tunnel checked,
// settled, measured fully (never stopped early) and rolled back.
//
// A measurement that looks broken (the tunnel dead under the values, the workload failed, a rate
// under a tenth of the host's own, the peer's session lost) is checked with the host's own values
// back (OutageWatch): when the path is down whatever is applied, or the session was lost and is
// back, or the iperf3 server stopped listening, it is voided and the arm measured again once the
// path is back (OutageWatch::judge), so an outage outside wgopt is never charged to the winner
// (before, the confirmation then ended "kept baseline" and the simplification kept changes nothing
// measured). Only the same thing again under the same values is charged to them.
#include <chrono>
#include <string>

#include "experiments/measure/measure.hpp"
#include "experiments/search/space_binding.hpp"

namespace wgopt::experiments {

class OutageWatch;
class PlantAccess;
class SearchProgress;

struct ArmSetup {
  const Objective& objective;
  const MeasureOptions& mo;           // its pruning is turned off
  std::chrono::milliseconds lease;    // the guardian's for one applied measurement
  std::chrono::milliseconds settle;   // after the apply
  double own_mbps = 0;                // the baseline rounds' mean throughput (outage check's reference)
  // False before the path has carried a measurement in this search (the first baseline round): a
  // broken one then says the path does not work, at once, rather than waiting for it.
  bool void_outages = true;
};

// `values` (null: nothing applied) measured as one arm; `arm` names them in messages ("winner",
// "simplified winner"), `what` names the measurement ("confirmation measurement 3"). The evaluation,
// with a score, or without one when it was lost to the values (they no longer apply, the tunnel
// died under them and lives without them, the workload failed with the path up): its note says
// why. Throws Interrupted on Ctrl-C, peer::PeerLost when the peer cannot be reached again, and
// OutageWatch's Error when the path keeps breaking or does not come back.
Evaluation measure_arm(PlantAccess& plant, OutageWatch& outages, SearchProgress& progress, const ArmSetup& setup, const Values* values,
                       const std::string& arm, const std::string& what);

}  // namespace wgopt::experiments

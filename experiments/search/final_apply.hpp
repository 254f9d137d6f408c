#pragma once
// Stage 11 of the search: the confirmed winner applied for good, after its profile and the study's
// result were written (a kill -9 while it is applied leaves both, and the journal rolls the host
// back). When the winner does not stay, what was written is taken back where it would now lie:
//   - it cut the tunnel: the profile's path holds what it held before the search (removed when it
//     held nothing) and the study's result is withdrawn (status failed): no profile and no study
//     name a winner the host could not keep;
//   - a retune, whatever stopped it (the tunnel cut, an outage, Ctrl-C): the profile is back as it
//     was, so the profile, the host and the boot files (rewritten only after a retune that ends
//     "retuned") agree on the old winner; the next retune measures again;
//   - a search stopped by an outage or Ctrl-C: the profile and the result stand, a confirmed winner
//     the printed command applies once the path is back.
#include <optional>
#include <string>

#include "experiments/search/outage.hpp"
#include "experiments/search/plant_access.hpp"
#include "experiments/search/search.hpp"
#include "experiments/study/study_store.hpp"

namespace wgopt::experiments {

struct FinalApply {
  PlantAccess& plant;
  OutageWatch& outages;
  StudyStore& store;
  const Values& winner;
  bool retune = false;
  std::optional<std::string> profile_before;  // the profile path's content before this run wrote it (nullopt: none)
  std::string apply_hint;                     // the command(s) that apply the profile by hand ("" on the testbed)
};

// Applies the winner for good (report.applied). Ctrl-C in a search: rolled back, the profile stands
// (report.apply_interrupted, apply_hint). Otherwise a failure rolls the winner back and throws, after
// taking back the profile and the result as above: Interrupted (retune), OutageEnded, or Error
// naming the cut and what became of the profile. After a throw the study's status is set already
// (withdrawn: interrupted or failed; a search's outage: finished, its result standing).
void apply_for_good(const FinalApply& f, SearchReport& report);

}  // namespace wgopt::experiments

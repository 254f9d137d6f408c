#pragma once
// Stage 11 of the search: the confirmed winner applied for good, after its profile and the study's
// result were written (a kill -9 while it is applied leaves both, and the journal rolls the host
// back). When the winner does not stay, what was written is taken back where it would now lie:
//   - it cut the tunnel, or anything else stopped it (an unexpected error): the files the run wrote (the profile; a retune's PROFILE.prev too) hold
//     what they held before it (removed when they held nothing) and the study's result is
//     withdrawn (status failed, or interrupted): no profile and no study name a winner the host
//     could not keep;
//   - a retune, whatever stopped it (also an outage, Ctrl-C, the peer lost): the same, so the
//     profile, the host and the boot files (rewritten only after a retune that ends "retuned")
//     agree on the old winner; the next retune measures again;
//   - a search stopped by an outage, Ctrl-C (or a signal while waiting for the peer) or the peer
//     lost: the profile and the result stand, a confirmed winner to apply once the path is back.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "experiments/search/outage.hpp"
#include "experiments/search/plant_access.hpp"
#include "experiments/search/search.hpp"
#include "experiments/study/study_store.hpp"

namespace wgopt::experiments {

// Files as they were before the run wrote them: path and content (nullopt: there was none).
using FilesBefore = std::vector<std::pair<std::string, std::optional<std::string>>>;
// The files write_profile may write for this run, read now (before it does).
FilesBefore files_before_profile(const std::string& profile, bool retune);

struct FinalApply {
  PlantAccess& plant;
  OutageWatch& outages;
  StudyStore& store;
  const Values& winner;
  bool retune = false;
  FilesBefore before;      // files_before_profile(), read before the profile was written
  std::string apply_hint;  // the command(s) that apply the profile by hand ("" on the testbed)
};

// Applies the winner for good (report.applied). Ctrl-C in a search: rolled back, the profile stands
// (report.apply_interrupted, apply_hint). Otherwise a failure rolls the winner back and rethrows
// (the same type: Interrupted, OutageEnded, PeerLost (a search's: report.unapplied_winner), Cancelled), after taking back the files and
// the result as above; a winner that cut the tunnel throws Error naming the cut and what became
// of the profile. When the winner is withdrawn the report says so (confirmation, no changes).
// After a throw the study's status is set already (withdrawn: interrupted or failed; a search
// whose result stands: finished).
void apply_for_good(const FinalApply& f, SearchReport& report);

}  // namespace wgopt::experiments

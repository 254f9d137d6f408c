#pragma once
// Stage of the search after the space is bound and before anything changes: other tuners on the
// host (actuators/host_tuners.hpp). irqbalance rewrites IRQ masks under the search, an active
// TuneD profile re-applies itself over a profile's values, bpftune turns its own tuners off for
// every sysctl the search writes. Each one found gets one warning line saying what it does to the
// search and to the profile; IRQ affinity is not searched while irqbalance runs unless the user
// lets wgopt stop it (--stop-irqbalance), and then irqbalance is held stopped for the search and
// started again at its end (HeldTuners).
#include <string>
#include <vector>

#include "actuators/host_tuners.hpp"
#include "actuators/restore.hpp"
#include "actuators/transaction.hpp"
#include "experiments/search/search_plan.hpp"
#include "experiments/search/space_binding.hpp"

namespace wgopt::experiments {

// Detects the tuners (env.detect_tuners), decides (act::decide_tuners) from what `bound` searches,
// and logs each line as a warning. Throws UsageError on a refusal (nothing has changed yet). When
// irqbalance is to be held and the space searches it (--allow-global), `bound` is bound again
// without it. Returns what to hold for the search (decision.hold; empty: nothing).
act::TunerDecision check_other_tuners(const SearchOptions& options, const SearchPlant& plant, const SearchPlan& plan,
                                      BoundSpace& bound, const SearchEnv& env);

// What the search holds while it runs: `hold` (host-wide knobs, irqbalance=inactive) applied on the
// host as one transaction closed with Transaction::hold(), so the journal marks it Held: release()
// puts it back (the end of the search), the destructor too (Ctrl-C, an error), and, when wgopt dies
// first, the guardian's session or the next one does (ChangeSession's crash recovery). Throws what
// the transaction throws (the host is as it was then); Error when a held knob is not found.
class HeldTuners {
 public:
  HeldTuners(act::ChangeSession& session, const SearchEnv& env, const std::vector<act::Change>& hold);
  ~HeldTuners();
  HeldTuners(const HeldTuners&) = delete;
  HeldTuners& operator=(const HeldTuners&) = delete;
  // Puts the held knobs back (once; later calls do nothing) and logs what it did.
  void release();

 private:
  act::ChangeSession& session_;
  bool held_ = false;
};

}  // namespace wgopt::experiments

#pragma once
// Holding the stop signals while a change to the host runs: `wgopt set`, `apply` and `rollback`
// write many knobs, all or none, and have no guardian. SIGTERM, Ctrl-C or a dropped ssh session in
// the middle of one left some knobs written and the rest not, until the next wgopt command
// restored them (found by an exploratory test: SIGTERM 0.3 s into an apply of 8 knobs left 2 of
// them applied). While a DeferStopSignals lives, SIGINT, SIGTERM, SIGHUP and SIGQUIT wait; one that
// came acts as it would have when the object is destroyed, after the change is complete and
// journaled. Commands started meanwhile do not inherit the held mask (common/exec.cpp).
#include <signal.h>

namespace wgopt {

class DeferStopSignals {
 public:
  DeferStopSignals();
  ~DeferStopSignals();
  DeferStopSignals(const DeferStopSignals&) = delete;
  DeferStopSignals& operator=(const DeferStopSignals&) = delete;

 private:
  sigset_t old_{};
};

}  // namespace wgopt

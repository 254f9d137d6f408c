#pragma once
// Holding the stop signals while a change to the host runs: `wgopt set`, `apply` and `rollback`
// write many knobs, all or none, and have no guardian. SIGTERM, Ctrl-C or a dropped ssh session in
// the middle of one left some knobs written and the rest not, until the next wgopt command
// restored them (found by an exploratory test: SIGTERM 0.3 s into an apply of 8 knobs left 2 of
// them applied). While a DeferStopSignals lives, SIGINT, SIGTERM, SIGHUP and SIGQUIT wait; one that
// came acts as it would have when the object is destroyed, after the change is complete, journaled
// and printed. Destroyed by an exception (the change refused or undone), it keeps them held, so the
// error is printed and wgopt exits with its code. Commands started meanwhile do not inherit the
// held mask, and ignore the terminal's SIGINT, SIGQUIT and SIGHUP (common/exec.cpp): a Ctrl-C
// reaches the whole foreground process group and would kill the `tc` or `ip` writing a knob.
// Per thread: set/apply/rollback run on one.
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
  int unwinding_ = 0;  // std::uncaught_exceptions() when made
};

}  // namespace wgopt

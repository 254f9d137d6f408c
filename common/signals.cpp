#include "common/signals.hpp"

#include <pthread.h>

#include <cstdio>
#include <exception>
#include <initializer_list>

namespace wgopt {

DeferStopSignals::DeferStopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&stop, sig);
  pthread_sigmask(SIG_BLOCK, &stop, &old_);
  unwinding_ = std::uncaught_exceptions();
}

DeferStopSignals::~DeferStopSignals() {
  // What the change printed is out before a held signal ends wgopt (stdout to a file is buffered).
  std::fflush(stdout);
  std::fflush(stderr);
  if (std::uncaught_exceptions() > unwinding_) return;  // the error is not printed yet: main prints it, exit says it
  pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

}  // namespace wgopt

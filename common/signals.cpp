#include "common/signals.hpp"

#include <pthread.h>

#include <cstdio>
#include <initializer_list>

namespace wgopt {

DeferStopSignals::DeferStopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&stop, sig);
  pthread_sigmask(SIG_BLOCK, &stop, &old_);
}

DeferStopSignals::~DeferStopSignals() {
  // What the change printed is out before a held signal ends wgopt (stdout to a file is buffered).
  std::fflush(stdout);
  std::fflush(stderr);
  pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

}  // namespace wgopt

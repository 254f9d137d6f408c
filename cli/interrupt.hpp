#pragma once
// SIGINT / SIGTERM / SIGHUP for the long-running commands (search, retune, optimize): the handler
// only sets a flag; the loop notices it, restores the original values and returns. SIGHUP too: an
// ssh session to the host that drops would otherwise kill the search outright (the guardian
// restores the host, but the study stays "running" and cannot be resumed as interrupted). No SA_RESTART, so a blocking wait
// returns early and the loop notices at once.
#include <atomic>

namespace wgopt::cli {

// Installs the handlers (idempotent) and returns the flag they set.
const std::atomic<bool>& install_interrupt_handlers();

}  // namespace wgopt::cli

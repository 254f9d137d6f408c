#pragma once
// SIGINT / SIGTERM for the long-running commands (search, retune): the handler only sets a flag;
// the loop notices it, restores the original values and returns. No SA_RESTART, so a blocking wait
// returns early and the loop notices at once.
#include <atomic>

namespace wgopt::cli {

// Installs the handlers (idempotent) and returns the flag they set.
const std::atomic<bool>& install_interrupt_handlers();

}  // namespace wgopt::cli

// `wgopt __agent`: the peer side of `--ssh` (experiments/peer/agent.hpp). The controller starts it
// over ssh; it reads JSON requests on stdin and answers on stdout. Hidden from --help: users never
// run it themselves.
#include <unistd.h>

#include "actuators/lock.hpp"
#include "cli/registry.hpp"
#include "experiments/peer/agent.hpp"

namespace {

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/proc/self/exe";
  buf[n] = 0;
  return buf;
}

void setup(CLI::App& root, wgopt::cli::Context& ctx) {
  auto* cmd = root.add_subcommand("__agent", "");
  cmd->group("");  // hidden
  cmd->callback([&ctx] {
    ctx.exit_code = wgopt::peer::run_agent({.state_dir = wgopt::act::state_dir(),
                                            .run_dir = wgopt::peer::run_dir(),
                                            .wgopt_exe = self_exe(),
                                            .wgopt_version = WGOPT_VERSION});
  });
}

}  // namespace

WGOPT_COMMAND(901, setup);

// `wgopt __agent`: the peer side of `--ssh` (experiments/peer/agent.hpp). The controller starts it
// over ssh; it reads JSON requests on stdin and answers on stdout. Hidden from --help: users never
// run it themselves.
#include "actuators/lock.hpp"
#include "cli/registry.hpp"
#include "actuators/watchdog.hpp"
#include "experiments/peer/agent.hpp"

namespace {

void setup_agent(CLI::App& root, wgopt::cli::Context& ctx) {
  auto* cmd = root.add_subcommand("__agent", "");
  cmd->group("");  // hidden
  cmd->callback([&ctx] {
    ctx.exit_code = wgopt::peer::run_agent({.state_dir = wgopt::act::state_dir(),
                                            .run_dir = wgopt::act::run_dir(),
                                            .wgopt_exe = wgopt::act::self_exe_path(),
                                            .wgopt_version = WGOPT_VERSION});
  });
}

}  // namespace

WGOPT_COMMAND(901, setup_agent);

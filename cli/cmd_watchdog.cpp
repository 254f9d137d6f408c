// `wgopt __watchdog`: the guardian process the search starts (experiments/watchdog.hpp). Hidden
// from --help: users never run it themselves.
#include "cli/registry.hpp"
#include "actuators/watchdog.hpp"

namespace {

void setup_watchdog(CLI::App& root, wgopt::cli::Context& ctx) {
  auto o = std::make_shared<wgopt::act::GuardianOptions>();
  auto* cmd = root.add_subcommand("__watchdog", "");
  cmd->group("");  // hidden
  cmd->add_option("--pid", o->parent_pid)->required();
  cmd->add_option("--start-time", o->parent_start_time)->required();
  cmd->add_option("--lease", o->lease_path)->required();
  cmd->add_option("--state-dir", o->state_dir)->required();
  cmd->add_option("--run-dir", o->run_dir)->required();
  cmd->add_option("--children", o->children_path);
  cmd->callback([o, &ctx] { ctx.exit_code = wgopt::act::run_guardian(*o); });
}

}  // namespace

WGOPT_COMMAND(900, setup_watchdog);

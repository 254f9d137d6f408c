// `wgopt __watchdog`: the guardian process the search starts (experiments/watchdog.hpp). Hidden
// from --help: users never run it themselves.
#include "cli/registry.hpp"
#include "actuators/watchdog.hpp"

namespace {

void setup(CLI::App& root, wgopt::cli::Context& ctx) {
  struct Opts {
    int pid = 0;
    long long start_time = 0;
    std::string lease, state_dir;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand("__watchdog", "");
  cmd->group("");  // hidden
  cmd->add_option("--pid", o->pid)->required();
  cmd->add_option("--start-time", o->start_time)->required();
  cmd->add_option("--lease", o->lease)->required();
  cmd->add_option("--state-dir", o->state_dir)->required();
  cmd->callback([o, &ctx] { ctx.exit_code = wgopt::act::run_guardian(o->pid, o->start_time, o->lease, o->state_dir); });
}

}  // namespace

WGOPT_COMMAND(900, setup);

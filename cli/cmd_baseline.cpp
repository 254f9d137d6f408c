// `wgopt baseline (--testbed | --peer ADDR [--netns NS]) [--duration S] [--scenarios LIST] [--json FILE]`:
// the field guide's §2 baseline with the probes on, printed as its §7.1 table.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/cmd_baseline_options.hpp"
#include "workload/scenario.hpp"

namespace wgopt::cli {
namespace {

struct BaselineCli {
  LoadOptions load;
  std::string scenarios = "all";
  int parallel = 0;
  std::string json_file;
};

// Fails before a long run rather than after it.
void check_writable(const std::string& file) {
  if (std::filesystem::is_directory(file)) {
    throw UsageError(fmt::format("--json {} is a directory: give a file name in it, e.g. {}/baseline.json", file, file));
  }
  auto slash = file.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : file.substr(0, slash));
  if (::access(dir.c_str(), W_OK) != 0) {
    throw UsageError(fmt::format("--json {}: directory {} does not exist or is not writable: choose another path",
                                 file, dir));
  }
}

void write_file(const std::string& file, const std::string& text) {
  std::ofstream out(file, std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw Error(fmt::format("cannot write {}: check the disk and permissions", file));
}

void setup_baseline(CLI::App& root, Context& ctx) {
  auto o = std::make_shared<BaselineCli>();
  auto* sub = root.add_subcommand(
      "baseline", "measure the path: iperf3 scenarios with the probes on, printed as the field guide's §7.1 table");
  add_load_options(sub, o->load);
  sub->add_option("--scenarios", o->scenarios, "comma-separated: " + workload::scenario_names() + ", or all")
      ->capture_default_str();
  sub->add_option("--parallel", o->parallel, "iperf3 -P for every scenario (0: each scenario's own)");
  sub->add_option("--json", o->json_file, "write everything (results, per-second series, probes, host) to FILE");
  sub->callback([o, &ctx] {
    const auto duration = load_duration(o->load);
    const auto scenarios = workload::parse_scenario_list(o->scenarios);
    if (!o->json_file.empty()) check_writable(o->json_file);
    workload::check_parallel(o->parallel, "--parallel");  // before the testbed comes up
    auto runner = default_runner();
    const auto target = experiments::resolve_plant(o->load.target, runner, say_stderr);
    say_stderr(fmt::format("baseline: {} scenario(s) x {} s against {}", scenarios.size(), duration.count(),
                           target.description));
    auto report = experiments::run_baseline(
        target, {.scenarios = scenarios, .duration = duration, .parallel = o->parallel, .on_progress = print_progress},
        runner);
    std::printf("%s", experiments::baseline_table(report).render_text().c_str());
    std::fflush(stdout);
    for (const auto& line : experiments::baseline_problems(report)) say_stderr("wgopt: " + line);
    if (!o->json_file.empty()) {
      write_file(o->json_file, experiments::to_json(report).dump(2) + "\n");
      say_stderr("wrote " + o->json_file);
    }
    if (!report.all_ok()) ctx.exit_code = 1;
  });
}

}  // namespace

WGOPT_COMMAND(20, setup_baseline);

}  // namespace wgopt::cli

// `wgopt diagnose [--testbed | --peer ADDR] [--duration S] [--scenario NAME] [--json]`: puts load on
// the path with the probes on and names the bottleneck (field guide §3, §5.2) with its evidence and
// the knob that would fix it.
#include <cstdio>

#include "cli/cmd_baseline_options.hpp"
#include "probes/diagnosis.hpp"
#include "probes/json.hpp"
#include "workload/scenario.hpp"

namespace wgopt::cli {
namespace {

struct DiagnoseCli {
  LoadOptions load;
  std::string scenario = "tcp";
  bool json = false;
};

// The numbers a reader needs to believe "no bottleneck" (or to weigh the findings).
std::string numbers_line(const experiments::ScenarioRun& r) {
  const auto& s = r.probes.summary;
  uint64_t udp_errors = 0;
  for (const auto& n : s.net) udp_errors += n.udp.in_errors;  // RcvbufErrors are counted in InErrors too
  std::string top = s.top_soft_cpu >= 0 ? fmt::format("{:.0f}% (cpu{})", s.top_soft_pct, s.top_soft_cpu) : "-";
  std::string sys = s.top_sys_cpu >= 0 ? fmt::format("{:.0f}% (cpu{})", s.top_sys_pct, s.top_sys_cpu) : "-";
  return fmt::format("{:.1f} Mbit/s; top core %soft {}, %sys {}; softnet drops {}, squeezes {}; iface drops {}; "
                     "UDP InErrors {}",
                     r.run.summary ? r.run.summary->received_bps / 1e6 : 0.0, top, sys, s.softnet.dropped,
                     s.softnet.time_squeeze, probes::interface_drops(s), udp_errors);
}

void setup_diagnose(CLI::App& root, Context&) {
  auto o = std::make_shared<DiagnoseCli>();
  auto* sub = root.add_subcommand("diagnose", "run a load with the probes on and name the bottleneck, its evidence "
                                              "and the knob that would fix it");
  add_load_options(sub, o->load);
  sub->add_option("--scenario", o->scenario, "the load: " + workload::scenario_names())->capture_default_str();
  sub->add_flag("--json", o->json, "print JSON on stdout (findings, facts, the run and its probes)");
  sub->callback([o] {
    const auto duration = load_duration(o->load);
    const auto& scenario = workload::find_scenario(o->scenario);
    auto runner = default_runner();
    const auto target = experiments::resolve_plant(o->load.target, runner, say_stderr);
    const auto facts = probes::gather_host_facts(*runner, target.watch);
    say_stderr(fmt::format("diagnose: {} for {} s against {}", scenario.name, duration.count(), target.description));
    auto run = experiments::run_scenario_sampled(target, scenario, duration, 0, *runner, print_progress);
    if (!run.run.ok()) {
      throw Error(fmt::format("the {} load did not run, so there is nothing to diagnose: {}", scenario.name,
                              run.run.message));
    }
    const auto findings = probes::diagnose(run.probes.summary, facts);
    if (o->json) {
      nlohmann::json j{{"tool", "wgopt diagnose"},
                       {"target", target.description},
                       {"host", experiments::host_info()},
                       {"facts", nlohmann::json(facts)},
                       {"findings", nlohmann::json::array()},
                       {"run", experiments::to_json(run)}};
      for (const auto& f : findings) j["findings"].push_back(nlohmann::json(f));
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    std::printf("measured: %s\n", numbers_line(run).c_str());
    if (findings.empty()) {
      std::printf("no bottleneck found: no core's %%soft pinned, no softnet, ring, socket-buffer or qdisc drops\n");
      return;
    }
    int i = 0;
    for (const auto& f : findings) {
      std::printf("%d. [%s] %s\n", ++i, probes::to_string(f.severity), f.title.c_str());
      std::printf("   evidence: %s\n", f.evidence.c_str());
      std::string knobs;
      for (const auto& k : f.knobs) knobs += (knobs.empty() ? "" : ", ") + k;
      std::printf("   fix: %s%s\n", f.fix.c_str(), knobs.empty() ? "" : (" (knobs: " + knobs + ")").c_str());
    }
    for (const auto& w : run.probes.summary.warnings) std::printf("probes: %s\n", w.c_str());
  });
}

}  // namespace

WGOPT_COMMAND(21, setup_diagnose);

}  // namespace wgopt::cli

#pragma once
// The baseline of the field guide's §2 and §7.1: run iperf3 scenarios against a target while the
// probes sampler watches the path, and put each run's throughput, retransmits or loss, hottest
// core %soft, softnet drops and interface drops side by side. `wgopt diagnose` runs one such
// scenario and hands the sampler summary to the probes' diagnosis rules.
//
//   auto plant = experiments::testbed_plant(Testbed("wgopt"));   // or resolve_plant (plant.hpp)
//   auto report = experiments::run_baseline(plant, {.scenarios = workload::all_scenarios()}, runner);
//   std::cout << experiments::baseline_table(report).render_text();
//   save(experiments::to_json(report));
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/exec.hpp"
#include "common/place.hpp"
#include "experiments/measure/plant.hpp"
#include "experiments/report/table.hpp"
#include "probes/diagnosis.hpp"
#include "probes/sampler.hpp"
#include "workload/iperf3_result.hpp"
#include "workload/scenario.hpp"

namespace wgopt::experiments {

// Progress of a run, reported once when a scenario starts (elapsed_s 0) and every second after.
struct Progress {
  size_t index = 0;        // 1-based scenario number
  size_t count = 0;
  std::string scenario;
  double elapsed_s = 0;
  double duration_s = 0;
  std::optional<double> mbps;  // the tunnel's rate in the last second, at its receiving end when seen (Plant::rate_iface)
};

struct BaselineOptions {
  std::vector<workload::Scenario> scenarios;
  std::chrono::seconds duration{10};  // per scenario
  int parallel = 0;                   // 0 = each scenario's own -P
  std::function<void(const Progress&)> on_progress;  // called from the sampler thread too
};

// One scenario: what iperf3 said and what the probes saw meanwhile.
struct ScenarioRun {
  workload::Scenario scenario;
  workload::RunResult run;        // run.ok() or a failure with its one-line message
  probes::SamplerResult probes;   // per-second deltas and the summary over the run
};

struct BaselineReport {
  Plant target;  // where the load ran
  std::chrono::seconds duration{10};
  long long started_at = 0;       // unix seconds
  double wall_seconds = 0;
  probes::HostFacts facts;
  nlohmann::json host;            // kernel release, nproc, boot id, hostname
  std::vector<ScenarioRun> runs;  // in the order run
  // The scenarios left out because a run failed in a way every later one would repeat
  // (workload::fails_every_scenario): the run's message says why.
  std::vector<workload::Scenario> not_run;

  bool all_ok() const;  // every scenario ran and every run is ok
};

// What a caller of run_sampled hears while the scenario runs.
struct SampledRunHooks {
  // Each sampler second (on the sampler's thread). Before a retry, on_retry() tells the caller to
  // forget the samples of the failed attempt.
  std::function<void(const probes::SecondSample&)> on_sample;
  std::function<void()> on_retry;
  // Polled while iperf3 runs; true stops it early (early stopping, Ctrl-C).
  std::function<bool()> should_stop;
  std::shared_ptr<CommandRunner> sampler_runner;  // `ethtool -S` / `wg show` (null: the default)
};

// THE one way a scenario runs with the probes on (baseline, diagnose, every search measurement):
// iperf3 from `client` with `opts`, the sampler over `watched`. Throws UsageError for invalid
// options and Error when the sampler cannot start (an interface vanished); an iperf3 failure is in
// the result, not thrown. A "server is busy" answer (the server still finishing the previous test)
// is retried by the client (workload::RunControl: 5 times, 1 s apart, unless should_stop() says to
// stop), and the sampler starts over with each attempt.
ScenarioRun run_sampled(const Place& client, const workload::ClientOptions& opts,
                        const std::vector<probes::WatchedInterface>& watched, const workload::Scenario& scenario,
                        CommandRunner& runner, const SampledRunHooks& hooks = {});

// run_sampled for a Plant, with a Progress per second (the baseline command's progress line).
ScenarioRun run_scenario_sampled(const Plant& target, const workload::Scenario& scenario,
                                 std::chrono::seconds duration, int parallel, CommandRunner& runner,
                                 const std::function<void(const Progress&)>& on_progress = {},
                                 size_t index = 1, size_t count = 1);

// Every scenario in order. A failed scenario is recorded and the next one still runs, unless the
// failure is the path's (no connection, no iperf3, a busy server): then the rest are listed in not_run.
BaselineReport run_baseline(const Plant& target, const BaselineOptions& options,
                            std::shared_ptr<CommandRunner> runner = default_runner());

// What went wrong, for stderr: one line per distinct failure naming the scenarios it hit
// ("tcp, tcp-rev: iperf3 could not connect to ..."), one for the scenarios not run, one per probe
// warning. Empty when everything ran and every run is ok.
std::vector<std::string> baseline_problems(const BaselineReport& report);

// The §7.1 table: Scenario | Throughput | Retransmits / loss | Top core %soft | softnet drops |
// iface drops (probes::interface_drops). A failed scenario shows its status in the throughput column.
Table baseline_table(const BaselineReport& report);

// Everything: target, host facts, per scenario the iperf3 summary and intervals, the probes'
// per-second series and summary (in probes/json.hpp's layout). The integration test pins the keys.
nlohmann::json to_json(const BaselineReport& report);
nlohmann::json to_json(const ScenarioRun& run);

// Kernel release, nproc, boot id, hostname, unix time: what a reader of a JSON file needs to know
// which machine it came from.
nlohmann::json host_info();

}  // namespace wgopt::experiments

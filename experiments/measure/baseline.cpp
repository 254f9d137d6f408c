#include "experiments/measure/baseline.hpp"

#include <algorithm>
#include <ctime>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "common/error.hpp"
#include "common/util.hpp"
#include "workload/iperf3_client.hpp"

namespace wgopt::experiments {

namespace {

// The rate the search's early stopping reads (Plant::rate_iface: the tunnel, at its receiving end
// where it can be seen), so the progress line agrees with the table. The busiest interface it showed
// before counted the underlay's overhead and what was sent and dropped (udp: 596 shown, 214 measured).
// With --peer (no view of the receiver) a forward test shows the sender's rate, as early stopping reads it.
std::optional<double> progress_mbps(const Plant& plant, const workload::Scenario& scenario, const probes::SecondSample& s) {
  const bool rx = plant.rate_iface_is_receiver_for_forward != scenario.reverse;
  for (const auto& i : s.ifaces) {
    if (i.iface == plant.rate_iface) return rx ? i.rx_mbps : i.tx_mbps;
  }
  return std::nullopt;  // not sampled this second: no number rather than 0
}

}  // namespace

bool BaselineReport::all_ok() const {
  for (const auto& r : runs) {
    if (!r.run.ok()) return false;
  }
  return !runs.empty() && not_run.empty();
}

ScenarioRun run_sampled(const Place& client, const workload::ClientOptions& opts,
                        const std::vector<probes::WatchedInterface>& watched, const workload::Scenario& scenario,
                        CommandRunner& runner, const SampledRunHooks& hooks) {
  workload::validate(opts);
  ScenarioRun out{.scenario = scenario};
  probes::SamplerOptions so{.interfaces = watched};
  so.on_sample = hooks.on_sample;
  if (hooks.sampler_runner) so.runner = hooks.sampler_runner;
  std::optional<probes::Sampler> sampler;
  sampler.emplace(so);
  sampler->start();
  workload::RunControl control;
  control.should_stop = hooks.should_stop;
  // The client retries a busy server (the server may still be closing the previous test after a
  // flood); the probes start over with each attempt, so they cover the measurement only.
  control.on_retry = [&](bool busy) {
    sampler->stop();
    // Found by an exploratory test: a killed server was called "still busy" four times a trial.
    spdlog::info("{}: the iperf3 server {}, retrying", scenario.name,
                 busy ? "is still busy" : "refused the connection (not listening)");
    if (hooks.on_retry) hooks.on_retry();
    sampler.emplace(so);
    sampler->start();
  };
  out.run = workload::run_scenario(scenario, opts, client, runner, control);
  out.probes = sampler->stop();
  return out;
}

ScenarioRun run_scenario_sampled(const Plant& target, const workload::Scenario& scenario,
                                 std::chrono::seconds duration, int parallel, CommandRunner& runner,
                                 const std::function<void(const Progress&)>& on_progress, size_t index,
                                 size_t count) {
  workload::ClientOptions opts{.server = target.server_address, .port = target.port, .duration = duration, .parallel = parallel};
  workload::validate(opts);
  Progress base{.index = index, .count = count, .scenario = scenario.name,
                .duration_s = static_cast<double>(duration.count())};
  SampledRunHooks hooks;
  if (on_progress) {
    hooks.on_sample = [&on_progress, base, &target, &scenario](const probes::SecondSample& s) {
      Progress p = base;
      p.elapsed_s = s.t;
      p.mbps = progress_mbps(target, scenario, s);
      on_progress(p);
    };
    on_progress(base);
  }
  return run_sampled(target.client, opts, target.watch, scenario, runner, hooks);
}

BaselineReport run_baseline(const Plant& target, const BaselineOptions& options,
                            std::shared_ptr<CommandRunner> runner) {
  if (options.scenarios.empty()) throw UsageError("no scenarios to run: pass --scenarios, e.g. tcp,udp");
  BaselineReport report;
  report.target = target;
  report.duration = options.duration;
  report.started_at = static_cast<long long>(std::time(nullptr));
  report.host = host_info();
  report.facts = probes::gather_host_facts(*runner, target.watch);
  const auto t0 = std::chrono::steady_clock::now();
  size_t i = 0;
  for (const auto& sc : options.scenarios) {
    if (!report.runs.empty() && workload::fails_every_scenario(report.runs.back().run.status)) {
      report.not_run.push_back(sc);
      continue;
    }
    report.runs.push_back(run_scenario_sampled(target, sc, options.duration, options.parallel, *runner,
                                               options.on_progress, ++i, options.scenarios.size()));
  }
  report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

std::vector<std::string> baseline_problems(const BaselineReport& report) {
  std::vector<std::pair<std::string, std::vector<std::string>>> failures;  // message -> scenarios, first-seen order
  std::vector<std::string> lines;
  for (const auto& r : report.runs) {
    for (const auto& w : r.probes.summary.warnings) lines.push_back(r.scenario.name + ": probes: " + w);
    if (r.run.ok()) continue;
    auto it = std::find_if(failures.begin(), failures.end(), [&](const auto& f) { return f.first == r.run.message; });
    if (it == failures.end()) failures.push_back({r.run.message, {r.scenario.name}});
    else it->second.push_back(r.scenario.name);
  }
  std::vector<std::string> out;
  for (const auto& [message, scenarios] : failures) out.push_back(fmt::format("{}: {}", fmt::join(scenarios, ", "), message));
  if (!report.not_run.empty()) {
    std::vector<std::string> names;
    for (const auto& s : report.not_run) names.push_back(s.name);
    out.push_back(fmt::format("not run: {} (they would fail the same way)", fmt::join(names, ", ")));
  }
  out.insert(out.end(), lines.begin(), lines.end());
  return out;
}

Table baseline_table(const BaselineReport& report) {
  const std::string window = fmt::format("{}s", report.duration.count());
  Table t({"Scenario", "Throughput", "Retransmits / loss", "Top core %soft", "softnet drops/" + window,
           "iface drops/" + window});
  for (const auto& r : report.runs) {
    const auto& s = r.probes.summary;
    std::string top = s.top_soft_cpu >= 0 ? fmt::format("{:.0f}% (cpu{})", s.top_soft_pct, s.top_soft_cpu) : "-";
    std::string softnet = fmt::format("{}", s.softnet.dropped);
    std::string drops = fmt::format("{}", probes::interface_drops(s));
    if (!r.run.ok() || !r.run.summary) {
      t.add_row({r.scenario.name, std::string("failed: ") + workload::status_name(r.run.status), "-", top, softnet, drops});
      continue;
    }
    const auto& w = *r.run.summary;
    std::string rl = "-";
    if (w.retransmits) rl = fmt::format("{} retr", *w.retransmits);
    if (w.loss_percent) rl = fmt::format("{:.2f}% loss", *w.loss_percent);
    t.add_row({r.scenario.name, fmt::format("{:.1f} Mbit/s", w.received_bps / 1e6), rl, top, softnet, drops});
  }
  t.align(1, Align::Right).align(2, Align::Right).align(3, Align::Right);
  return t;
}

}  // namespace wgopt::experiments

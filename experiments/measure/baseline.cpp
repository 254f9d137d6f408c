#include "experiments/measure/baseline.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <ctime>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "common/error.hpp"
#include "common/util.hpp"
#include "probes/wireguard.hpp"
#include "workload/iperf3_client.hpp"

namespace wgopt::experiments {

namespace {

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// The device `ip route get ADDR` picks in `place`.
std::string route_device(CommandRunner& runner, const Place& place, const std::string& address) {
  auto r = runner.run({.argv = place.wrap({"ip", "-j", "route", "get", address}), .timeout = std::chrono::seconds(10)});
  if (!r.ok()) {
    throw Error(fmt::format("no route to {} in {} ({}): check the address, or pass --netns for a peer inside a "
                            "namespace",
                            address, place.describe(), r.brief()));
  }
  try {
    auto j = nlohmann::json::parse(r.out);
    if (j.is_array() && !j.empty() && j[0].contains("dev")) return j[0]["dev"].get<std::string>();
  } catch (const std::exception&) {
  }
  throw Error(fmt::format("`ip -j route get {}` in {} named no device", address, place.describe()));
}

// "198.18.0.1:51820" -> "198.18.0.1", "[fd00::1]:51820" -> "fd00::1"; empty if none.
std::string endpoint_host(const std::string& endpoint) {
  if (endpoint.empty()) return {};
  if (endpoint.front() == '[') {
    auto close = endpoint.find(']');
    return close == std::string::npos ? std::string{} : endpoint.substr(1, close - 1);
  }
  auto colon = endpoint.rfind(':');
  return colon == std::string::npos ? endpoint : endpoint.substr(0, colon);
}

double busiest_mbps(const probes::SecondSample& s) {
  double best = 0;
  for (const auto& i : s.ifaces) best = std::max({best, i.rx_mbps, i.tx_mbps});
  return best;
}

}  // namespace

bool BaselineReport::all_ok() const {
  for (const auto& r : runs) {
    if (!r.run.ok()) return false;
  }
  return !runs.empty() && not_run.empty();
}

Target testbed_target(const Testbed& testbed) {
  const auto& n = testbed.names();
  Target t;
  t.description = fmt::format("testbed {} (netns {} -> {}:{})", n.prefix, n.cli_netns, testbed.server_address(),
                              testbed.iperf3_port());
  t.client = testbed.client_place();
  t.server = testbed.server_address();
  t.port = testbed.iperf3_port();
  t.watched = {{testbed.client_place(), n.cli_wg},
               {testbed.server_place(), n.srv_wg},
               {testbed.client_place(), n.cli_underlay},
               {testbed.server_place(), n.srv_underlay}};
  return t;
}

void check_peer_address(const std::string& address, int port) {
  if (!is_ip_literal(address)) {
    throw UsageError(fmt::format("peer address '{}' is not an IP address: give the peer's mesh address, e.g. "
                                 "--peer 100.64.0.1",
                                 one_line(address, 80)));
  }
  if (port < 1 || port > 65535) throw UsageError(fmt::format("--port {} is not a port: use 1..65535", port));
}

Target peer_target(CommandRunner& runner, const std::string& address, const Place& client, int port) {
  check_peer_address(address, port);
  Target t;
  t.description = fmt::format("peer {}:{} from {}", address, port, client.describe());
  t.client = client;
  t.server = address;
  t.port = port;
  const std::string dev = route_device(runner, client, address);
  t.watched.push_back({client, dev});
  const auto facts = probes::detect_wg_facts(runner, client, dev);
  if (probes::classify_wg_mode(facts) != probes::WgMode::NotWireGuard) {
    // The tunnel's packets leave through whatever carries the peers' endpoints: that is the underlay.
    for (const auto& wg : probes::read_wg_dump(runner, client)) {
      if (wg.name != dev) continue;
      for (const auto& peer : wg.peers) {
        const std::string host = endpoint_host(peer.endpoint);
        if (host.empty()) continue;
        probes::WatchedInterface w{client, route_device(runner, client, host)};
        if (std::find(t.watched.begin(), t.watched.end(), w) == t.watched.end()) t.watched.push_back(w);
      }
    }
  }
  return t;
}

Target resolve_target(const TargetChoice& choice, std::shared_ptr<CommandRunner> runner,
                      const std::function<void(const std::string&)>& say) {
  if (choice.testbed == !choice.peer.empty()) {
    throw UsageError("say where the load goes: --testbed (the built-in testbed) or --peer ADDR (a host running "
                     "`iperf3 -s`), not both");
  }
  if (choice.port < 1 || choice.port > 65535) {
    throw UsageError(fmt::format("--port {} is out of range: use 1-65535", choice.port));
  }
  if (choice.testbed) {
    if (!choice.netns.empty()) throw UsageError("--netns goes with --peer; the testbed has its own namespaces");
    Testbed tb(choice.prefix, runner);
    UpResult up = tb.up();
    if (up.outcome == UpResult::Outcome::created) {
      say(fmt::format("testbed {} was not up: brought it up", choice.prefix));
    } else if (up.outcome == UpResult::Outcome::rebuilt) {
      say(fmt::format("testbed {} was half-broken ({}): rebuilt it", choice.prefix, up.rebuilt_because));
    }
    return testbed_target(tb);
  }
  const Place place = choice.netns.empty() ? Place::host() : Place::netns(choice.netns);
  if (!place.is_host()) require_root("running the load inside network namespace " + choice.netns);
  return peer_target(*runner, choice.peer, place, choice.port);
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
  control.on_retry = [&] {
    sampler->stop();
    spdlog::info("{}: the iperf3 server is still busy, retrying", scenario.name);
    if (hooks.on_retry) hooks.on_retry();
    sampler.emplace(so);
    sampler->start();
  };
  out.run = workload::run_scenario(scenario, opts, client, runner, control);
  out.probes = sampler->stop();
  return out;
}

ScenarioRun run_scenario_sampled(const Target& target, const workload::Scenario& scenario,
                                 std::chrono::seconds duration, int parallel, CommandRunner& runner,
                                 const std::function<void(const Progress&)>& on_progress, size_t index,
                                 size_t count) {
  workload::ClientOptions opts{.server = target.server, .port = target.port, .duration = duration, .parallel = parallel};
  workload::validate(opts);
  Progress base{.index = index, .count = count, .scenario = scenario.name,
                .duration_s = static_cast<double>(duration.count())};
  SampledRunHooks hooks;
  if (on_progress) {
    hooks.on_sample = [&on_progress, base](const probes::SecondSample& s) {
      Progress p = base;
      p.elapsed_s = s.t;
      p.mbps = busiest_mbps(s);
      on_progress(p);
    };
    on_progress(base);
  }
  return run_sampled(target.client, opts, target.watched, scenario, runner, hooks);
}

BaselineReport run_baseline(const Target& target, const BaselineOptions& options,
                            std::shared_ptr<CommandRunner> runner) {
  if (options.scenarios.empty()) throw UsageError("no scenarios to run: pass --scenarios, e.g. tcp,udp");
  BaselineReport report;
  report.target = target;
  report.duration = options.duration;
  report.started_at = static_cast<long long>(std::time(nullptr));
  report.host = host_info();
  report.facts = probes::gather_host_facts(*runner, target.watched);
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

#include "experiments/measure/measure.hpp"
#include "common/files.hpp"
#include "experiments/measure/baseline.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "common/error.hpp"
#include "common/files.hpp"
#include "probes/sampler.hpp"
#include "workload/iperf3_client.hpp"
#include "workload/scenario.hpp"

namespace wgopt::experiments {

namespace {

double per_second(double count, double seconds) { return seconds > 0 ? count / seconds : 0; }

double nic_drop_count(const probes::Summary& s) {
  double total = 0;
  for (const auto& i : s.ifaces) {
    if (!i.ethtool_delta) continue;
    for (const auto& [name, v] : probes::drop_counters(*i.ethtool_delta)) total += static_cast<double>(v);
  }
  return total;
}

double iface_drop_count(const probes::Summary& s) {
  double total = 0;
  for (const auto& i : s.ifaces) total += static_cast<double>(i.delta.rx_dropped + i.delta.tx_dropped);
  return total;
}

}  // namespace

namespace {

void add_drops(DropRates& d, const probes::Summary& s) {
  const double secs = s.seconds > 0 ? s.seconds : 1;
  d.softnet += s.softnet_dropped_per_s;
  d.nic += per_second(nic_drop_count(s), secs);
  d.interface += per_second(iface_drop_count(s), secs);
  double udp = 0;
  for (const auto& n : s.net) udp += static_cast<double>(n.udp.in_errors);  // InErrors already counts RcvbufErrors: once
  d.udp_errors += per_second(udp, secs);
}

std::vector<double> core_busy(const probes::Summary& s) {
  std::vector<double> out;
  for (const auto& c : s.cores) {
    if (c.ticks == 0) continue;
    out.push_back(std::clamp(100.0 - c.idle - c.iowait, 0.0, 100.0));
  }
  return out;
}

}  // namespace

ScenarioMeasurement to_measurement(const workload::RunResult& run, const probes::Summary& s, const probes::Summary* far) {
  ScenarioMeasurement m;
  if (run.summary) m.throughput_mbps = run.summary->received_bps / 1e6;
  add_drops(m.drops_per_s, s);
  m.core_busy_pct = core_busy(s);
  if (far) {
    add_drops(m.drops_per_s, *far);
    m.far_core_busy_pct = core_busy(*far);
  }
  return m;
}

double estimate_pruned(double incumbent_score, double candidate_rate, double incumbent_rate) {
  if (incumbent_rate <= 0) return incumbent_score;
  return incumbent_score * std::clamp(candidate_rate / incumbent_rate, 0.0, 1.0);
}

void recycle_server_listener(const Plant& plant) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(plant.port));
  if (::inet_pton(AF_INET, plant.server_address.c_str(), &addr.sin_addr) != 1) return;  // IPv6 peers: not needed (peer mode)
  int fd = socket_in_netns(plant.client.netns_name(), AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, 2000);
  }
  ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

Evaluation measure_objective(const Plant& plant, const Objective& objective, const MeasureOptions& options) {
  if (plant.recycle_server_listener) recycle_server_listener(plant);
  Evaluation ev;
  auto runner = options.runner ? options.runner : default_runner();
  const auto t0 = std::chrono::steady_clock::now();
  Measurement measurement;

  for (size_t index = 0; index < objective.scenarios.size(); ++index) {
    const auto& spec = objective.scenarios[index];
    const int scenario_s = static_cast<int>(objective.duration.count());
    const int later_s = scenario_s * static_cast<int>(objective.scenarios.size() - index - 1);
    if (options.interrupted && options.interrupted->load()) {
      ev.state = Evaluation::State::Interrupted;
      ev.note = "interrupted";
      break;
    }
    const auto& scenario = workload::find_scenario(spec.name);
    ScenarioOutcome out;
    out.scenario = spec.name;

    std::mutex mu;
    std::vector<double> series;
    const bool rx = plant.rate_iface_is_receiver_for_forward != scenario.reverse;
    const PruneReference* ref = nullptr;
    if (options.prune) {
      auto it = options.prune->find(spec.name);
      if (it != options.prune->end() && it->second.mean_mbps > 0) ref = &it->second;
    }
    size_t last_checked = 0;
    SampledRunHooks hooks;
    hooks.sampler_runner = runner;
    hooks.on_sample = [&](const probes::SecondSample& s) {
      for (const auto& d : s.ifaces) {
        if (d.iface == plant.rate_iface) {
          std::lock_guard lk(mu);
          series.push_back(rx ? d.rx_mbps : d.tx_mbps);
        }
      }
    };
    hooks.on_retry = [&] {
      std::lock_guard lk(mu);
      series.clear();
      last_checked = 0;
    };
    hooks.should_stop = [&]() -> bool {
      if (options.interrupted && options.interrupted->load()) return true;
      if (options.abandoned && options.abandoned()) return true;
      if (!ref || out.pruned) return out.pruned;
      std::vector<double> copy;
      {
        std::lock_guard lk(mu);
        if (series.size() == last_checked) return false;
        last_checked = series.size();
        copy = series;
      }
      if (!stop_saves_time(copy.size(), scenario_s, later_s, options.pruner)) return false;
      auto d = decide_prune(copy, *ref, options.pruner);
      if (d.prune) {
        out.pruned = true;
        out.prune_reason = d.reason;
      }
      return d.prune;
    };

    workload::ClientOptions co;
    co.server = plant.server_address;
    co.port = plant.port;
    co.omit = std::chrono::seconds(std::clamp<long long>(options.omit_seconds, 0, objective.duration.count() - 1));
    co.duration = objective.duration - co.omit;
    if (options.far_end) options.far_end->start();
    auto ran = run_sampled(plant.client, co, plant.watch, scenario, *runner, hooks);
    if (options.far_end) out.far_probes = options.far_end->stop();
    out.run = std::move(ran.run);
    out.probes = ran.probes.summary;
    {
      std::lock_guard lk(mu);
      out.series_mbps = series;
    }
    if (!out.series_mbps.empty()) {
      double sum = 0;
      for (double v : out.series_mbps) sum += v;
      out.series_mean_mbps = sum / static_cast<double>(out.series_mbps.size());
    }

    if (options.interrupted && options.interrupted->load()) {
      ev.state = Evaluation::State::Interrupted;
      ev.note = "interrupted";
      ev.scenarios.push_back(std::move(out));
      break;
    }
    if (options.abandoned && options.abandoned()) {
      ev.state = Evaluation::State::Failed;
      ev.note = kAbandonedNote;
      ev.scenarios.push_back(std::move(out));
      break;
    }
    if (out.pruned) {
      ev.state = Evaluation::State::Pruned;
      ev.note = fmt::format("{}: {}", spec.name, out.prune_reason);
      const double planned = static_cast<double>(objective.duration.count()) * static_cast<double>(objective.scenarios.size());
      ev.scenarios.push_back(std::move(out));
      ev.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ev.saved_seconds = std::max(0.0, planned - ev.seconds);
      return ev;
    }
    if (!out.run.ok()) {
      ev.state = Evaluation::State::Failed;
      ev.note = fmt::format("{}: {}", spec.name, out.run.message);
      ev.scenarios.push_back(std::move(out));
      break;
    }
    out.measurement = to_measurement(out.run, out.probes, out.far_probes ? &*out.far_probes : nullptr);
    measurement[spec.name] = out.measurement;
    ev.scenarios.push_back(std::move(out));
  }
  ev.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (ev.state == Evaluation::State::Complete) ev.score = score(objective, measurement);
  return ev;
}

nlohmann::json Evaluation::metrics_json(bool with_probes) const {
  nlohmann::json j = nlohmann::json::object();
  if (score) {
    j["score"] = score->value;
    j["throughput_mbps"] = score->throughput_mbps;
    j["drop_penalty"] = score->drop_penalty;
    j["imbalance_penalty"] = score->imbalance_penalty;
  }
  for (const auto& s : scenarios) {
    nlohmann::json o;
    o["status"] = workload::status_name(s.run.status);
    o["series_mean_mbps"] = s.series_mean_mbps;
    // The per-second rates themselves (ten numbers at the default duration): what the pruner saw,
    // so a study can be replayed against another pruner and a stop checked against the ramp.
    o["series_mbps"] = s.series_mbps;
    if (s.run.summary) {
      const auto& r = *s.run.summary;
      o["throughput_mbps"] = r.received_bps / 1e6;
      if (r.retransmits) o["retransmits"] = *r.retransmits;
      if (r.loss_percent) o["loss_percent"] = *r.loss_percent;
      o["cpu_host_pct"] = r.cpu_host_total;
      o["cpu_remote_pct"] = r.cpu_remote_total;
    }
    o["drops_per_s"] = {{"softnet", s.measurement.drops_per_s.softnet},
                        {"nic", s.measurement.drops_per_s.nic},
                        {"interface", s.measurement.drops_per_s.interface},
                        {"udp_errors", s.measurement.drops_per_s.udp_errors}};
    if (s.pruned) o["pruned"] = s.prune_reason;
    j["scenarios"][s.scenario] = o;
  }
  if (with_probes) j["probes"] = probes_json();
  return j;
}

namespace {

// One end's probe summary of one scenario, as the study stores it.
nlohmann::json end_probes_json(const probes::Summary& p) {
  nlohmann::json o;
  o["seconds"] = p.seconds;
  o["top_soft_cpu"] = p.top_soft_cpu;
  o["top_soft_pct"] = p.top_soft_pct;
  o["top_sys_cpu"] = p.top_sys_cpu;
  o["top_sys_pct"] = p.top_sys_pct;
  o["softnet_dropped"] = p.softnet.dropped;
  o["softnet_time_squeeze"] = p.softnet.time_squeeze;
  o["nic_drops"] = nic_drop_count(p);
  o["iface_drops"] = iface_drop_count(p);
  std::uint64_t udp_errors = 0;
  for (const auto& n : p.net) udp_errors += n.udp.in_errors;  // InErrors counts RcvbufErrors too
  o["udp_errors"] = udp_errors;
  nlohmann::json cores = nlohmann::json::array();
  for (const auto& c : p.cores) {
    cores.push_back({{"cpu", c.cpu}, {"usr", c.usr}, {"sys", c.sys}, {"soft", c.soft}, {"idle", c.idle}});
  }
  o["cores"] = cores;
  return o;
}

}  // namespace

nlohmann::json Evaluation::probes_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& s : scenarios) {
    nlohmann::json o = end_probes_json(s.probes);
    o["series_mbps"] = s.series_mbps;
    // The far end's own probes (--ssh): the score charged its drops too, so the report shows them.
    if (s.far_probes) o["far"] = end_probes_json(*s.far_probes);
    j[s.scenario] = o;
  }
  return j;
}

}  // namespace wgopt::experiments

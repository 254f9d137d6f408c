// Probe cost and a live look: how long one sampler snapshot's reads take (the sampler reads every
// second while a workload runs, so this is its overhead), then optionally a sampled window with
// its summary and diagnosis. Prints tables; asserts nothing.
//
//   bench_probes [--reads N] [--watch NETNS/IFACE ...] [--seconds S]
//   e.g. bench_probes --watch wgopt-srv/wgopt-us --watch wgopt-srv/wgopt-ws --seconds 10
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <thread>

#include "common/error.hpp"
#include "probes/diagnosis.hpp"
#include "probes/sampler.hpp"

using namespace wgopt;
using namespace wgopt::probes;
using Clock = std::chrono::steady_clock;

namespace {

void time_reads(const std::string& name, int n, const std::function<void()>& read) {
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    read();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  double mean = 0;
  for (double v : us) mean += v;
  mean /= us.size();
  fmt::print("{:<28} {:>10.1f} {:>10.1f} {:>10.1f}\n", name, mean, us[us.size() / 2], us[us.size() * 95 / 100]);
}

WatchedInterface parse_watch(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return {Place::host(), s};
  return {Place::netns(s.substr(0, slash)), s.substr(slash + 1)};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"probe read cost and a sampled window"};
  int reads = 300;
  double seconds = 0;
  std::vector<std::string> watch_args;
  app.add_option("--reads", reads, "reads per source for the cost table")->check(CLI::Range(10, 100000));
  app.add_option("--watch", watch_args, "NETNS/IFACE or IFACE (host) to sample");
  app.add_option("--seconds", seconds, "sample for this long and print summary + diagnosis (0: skip)");
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<WatchedInterface> watched;
    for (const auto& w : watch_args) watched.push_back(parse_watch(w));
    ProcReader proc;
    fmt::print("{:<28} {:>10} {:>10} {:>10}\n", "source (read + parse)", "mean us", "p50 us", "p95 us");
    time_reads("/proc/stat", reads, [&] { proc.stat(); });
    time_reads("/proc/interrupts", reads, [&] { proc.interrupts(); });
    time_reads("/proc/softirqs", reads, [&] { proc.softirqs(); });
    time_reads("/proc/net/softnet_stat", reads, [&] { proc.softnet(); });
    std::vector<std::unique_ptr<NetReader>> nets;
    for (const auto& w : watched)
      if (std::none_of(nets.begin(), nets.end(), [&](auto& n) { return n->place() == w.place; }))
        nets.push_back(std::make_unique<NetReader>(w.place));
    if (nets.empty()) nets.push_back(std::make_unique<NetReader>(Place::host()));
    for (const auto& n : nets) {
      time_reads("net/snmp " + n->place().describe(), reads, [&] { n->snmp(); });
      time_reads("net/dev " + n->place().describe(), reads, [&] { n->dev(); });
    }
    if (seconds <= 0) return 0;

    Sampler sampler({.interfaces = watched});
    sampler.start();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    auto r = sampler.stop();
    const auto& s = r.summary;
    fmt::print("\n{:>6} {:>8} {:>8} {:>8} {:>8}", "t s", "cpu", "%usr", "%sys", "%soft");
    for (const auto& i : watched) fmt::print(" {:>22}", label(i) + " rx Mb/s");
    fmt::print("\n");
    for (const auto& sec : r.seconds) {
      for (const auto& c : sec.cpu) {
        fmt::print("{:>6.1f} {:>8} {:>8.1f} {:>8.1f} {:>8.1f}", sec.t, c.cpu, c.usr, c.sys, c.soft);
        for (const auto& i : sec.ifaces) fmt::print(" {:>22.1f}", i.rx_mbps);
        fmt::print("\n");
      }
    }
    fmt::print("\nsummary over {:.1f} s ({} samples): top %soft {:.1f} (cpu{}), top %sys {:.1f} (cpu{}), "
               "softnet dropped {} squeezed {}\n",
               s.seconds, s.samples, s.top_soft_pct, s.top_soft_cpu, s.top_sys_pct, s.top_sys_cpu, s.softnet.dropped,
               s.softnet.time_squeeze);
    for (const auto& i : s.ifaces)
      fmt::print("  {:<24} rx {:>9.1f} Mb/s (peak {:.1f})  tx {:>9.1f} Mb/s  rx_drop {} tx_drop {}\n", label(i.iface),
                 i.rx_mbps, i.rx_mbps_peak, i.tx_mbps, i.delta.rx_dropped, i.delta.tx_dropped);
    for (const auto& n : s.net)
      fmt::print("  {:<24} Udp InDatagrams +{} InErrors +{} RcvbufErrors +{}  Tcp RetransSegs +{}\n",
                 n.place.describe(), n.udp.in_datagrams, n.udp.in_errors, n.udp.rcvbuf_errors, n.tcp.retrans_segs);
    for (const auto& p : s.wg_peers)
      fmt::print("  wg {} peer {}… handshake {}, rx +{} tx +{}\n", p.interface, p.public_key.substr(0, 8),
                 p.handshake_age_s ? fmt::format("{} s ago", *p.handshake_age_s) : "never", p.rx_bytes, p.tx_bytes);
    for (const auto& w : s.warnings) fmt::print("  warning: {}\n", w);
    auto findings = diagnose(s, gather_host_facts(*default_runner(), watched));
    if (findings.empty()) fmt::print("\nno bottleneck found\n");
    for (const auto& f : findings) {
      fmt::print("\n[{}] {}: {}\n  evidence: {}\n  fix: {}\n", to_string(f.severity), f.id, f.title, f.evidence, f.fix);
      if (!f.knobs.empty()) fmt::print("  knobs: {}\n", fmt::join(f.knobs, ", "));
    }
  } catch (const Error& e) {
    std::cerr << "bench_probes: error: " << e.what() << "\n";
    return 1;
  }
}

#include "probes/diagnosis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <type_traits>

#include "common/files.hpp"
#include "common/processes.hpp"
#include "common/util.hpp"
#include "probes/proc_stat.hpp"

namespace wgopt::probes {

const char* to_string(Severity s) {
  switch (s) {
    case Severity::Info: return "info";
    case Severity::Warning: return "warning";
    case Severity::Critical: return "critical";
  }
  return "info";
}

namespace {

std::optional<double> others_idle(const Summary& s, int cpu) {
  double sum = 0;
  int n = 0;
  for (const auto& c : s.cores)
    if (c.cpu != cpu) sum += c.idle, ++n;
  if (n == 0) return std::nullopt;
  return sum / n;
}

double per_30s(double count, double seconds) { return seconds > 0 ? count / seconds * 30.0 : 0; }
double per_s(double count, double seconds) { return seconds > 0 ? count / seconds : 0; }

Severity drop_severity(double count, double seconds) {
  return per_s(count, seconds) >= limits::kCriticalDropsPerS ? Severity::Critical : Severity::Warning;
}

void add(std::vector<std::string>& knobs, const std::string& k) {
  if (std::find(knobs.begin(), knobs.end(), k) == knobs.end()) knobs.push_back(k);
}

std::string hot_irq_text(const Summary& s) {
  if (!s.hot_irq) return "";
  const auto& h = *s.hot_irq;
  return fmt::format("; hot IRQ {} {} on cpu{} ({:.0f}/s)", h.id, h.action, h.top_cpu, per_s(h.total, s.seconds));
}

std::string net_rx_share(const Summary& s, int cpu) {
  uint64_t all = 0, mine = 0;
  for (size_t i = 0; i < s.net_rx.size() && i < s.softirq_cpus.size(); ++i) {
    all += s.net_rx[i];
    if (s.softirq_cpus[i] == cpu) mine = s.net_rx[i];
  }
  if (all == 0) return "";
  return fmt::format("; NET_RX {:.0f}% on cpu{}", 100.0 * mine / all, cpu);
}

bool any_userspace(const HostFacts& h) {
  for (const auto& [_, m] : h.wireguard)
    if (m == WgMode::Userspace) return true;
  return false;
}

// Ring-overflow counters as drivers name them: rx_missed_errors, rx_no_buffer_count,
// rx_out_of_buffer (mlx5), rx_discards_phy, rx0_drops (virtio), rx_fifo_errors.
bool is_ring_counter(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n.find("miss") != std::string::npos || n.find("no_buf") != std::string::npos ||
      n.find("nobuf") != std::string::npos || n.find("out_of_buffer") != std::string::npos)
    return true;
  return n.starts_with("rx") && (n.find("drop") != std::string::npos || n.find("discard") != std::string::npos ||
                                 n.find("fifo") != std::string::npos);
}

}  // namespace

std::optional<Finding> rule_softirq_pinned(const Summary& s, const HostFacts& h) {
  if (h.nproc < 2 || s.cores.size() < 2 || s.top_soft_cpu < 0) return std::nullopt;
  if (s.top_soft_pct < limits::kPinnedPct) return std::nullopt;
  auto idle = others_idle(s, s.top_soft_cpu);
  if (!idle || *idle < limits::kOthersIdlePct) return std::nullopt;
  Finding f;
  f.id = "softirq_pinned";
  f.severity = Severity::Critical;
  f.title = fmt::format("cpu{} is pinned in softirq while the other cores idle: receive work is not spread",
                        s.top_soft_cpu);
  f.evidence = fmt::format("cpu{} %soft {:.1f} (mean over {:.1f} s, peak second {:.1f}); other cores {:.1f}% idle{}{}",
                           s.top_soft_cpu, s.top_soft_pct, s.seconds, s.peak_soft_pct_1s, *idle,
                           net_rx_share(s, s.top_soft_cpu), hot_irq_text(s));
  for (const auto& u : h.underlay) add(f.knobs, u + "/rps_cpus");
  for (const auto& u : h.underlay) add(f.knobs, u + "/irq_affinity");
  for (const auto& u : h.underlay) add(f.knobs, u + "/channels/combined");
  for (const auto& [w, _] : h.wireguard) add(f.knobs, w + "/rps_cpus");
  f.fix = "spread receive processing: RPS on the underlay and the WireGuard interface, NIC IRQ affinity, more queues";
  return f;
}

std::optional<Finding> rule_crypto_wall(const Summary& s, const HostFacts& h) {
  if (h.nproc < 2 || s.cores.size() < 2) return std::nullopt;
  // Kernel WireGuard encrypts in kernel threads (%sys); wireguard-go encrypts in user space (%usr).
  const bool userspace = any_userspace(h);
  const CpuUsage* top = nullptr;
  auto busy = [&](const CpuUsage& c) { return c.sys + (userspace ? c.usr : 0.0); };
  for (const auto& c : s.cores)
    if (!top || busy(c) > busy(*top)) top = &c;
  if (busy(*top) < limits::kPinnedPct || top->soft >= limits::kPinnedPct) return std::nullopt;
  auto idle = others_idle(s, top->cpu);
  if (!idle || *idle < limits::kOthersIdlePct) return std::nullopt;
  Finding f;
  f.id = "crypto_wall";
  f.severity = Severity::Warning;
  f.title = fmt::format("cpu{} is saturated in {} while the other cores idle: the per-peer crypto wall", top->cpu,
                        userspace ? "%usr+%sys (wireguard-go)" : "%sys");
  f.evidence = fmt::format("cpu{} %sys {:.1f} %usr {:.1f} %soft {:.1f} over {:.1f} s; other cores {:.1f}% idle",
                           top->cpu, top->sys, top->usr, top->soft, s.seconds, *idle);
  for (const auto& [w, _] : h.wireguard) add(f.knobs, w + "/mtu");
  f.fix = "one peer's crypto runs on one core: a larger WireGuard MTU (fewer packets per byte) or more peers; "
          "RPS does not help here";
  return f;
}

std::optional<Finding> rule_softnet_drops(const Summary& s, const HostFacts&) {
  if (per_30s(s.softnet.dropped, s.seconds) <= limits::kTrivialDropsPer30s) return std::nullopt;
  Finding f;
  f.id = "softnet_drops";
  f.severity = drop_severity(s.softnet.dropped, s.seconds);
  f.title = "the per-CPU backlog overflows (softnet_stat column 2 climbing)";
  std::string per_cpu;
  for (const auto& r : s.softnet_per_cpu)
    if (r.dropped > 0) per_cpu += fmt::format(", cpu{} {}", r.cpu, r.dropped);
  f.evidence = fmt::format("{} dropped in {:.1f} s ({:.0f}/s){}; time_squeeze {}", s.softnet.dropped, s.seconds,
                           s.softnet_dropped_per_s, per_cpu, s.softnet.time_squeeze);
  f.knobs = {"net.core.netdev_max_backlog", "net.core.netdev_budget"};
  f.fix = "raise net.core.netdev_max_backlog (and the softirq budget) so bursts steered by RPS fit the backlog";
  return f;
}

std::optional<Finding> rule_softnet_squeeze(const Summary& s, const HostFacts&) {
  if (s.softnet_squeeze_per_s < limits::kSqueezePerS) return std::nullopt;
  Finding f;
  f.id = "softnet_squeeze";
  f.severity = Severity::Warning;
  f.title = "the receive softirq keeps running out of budget (softnet_stat time_squeeze climbing)";
  f.evidence = fmt::format("time_squeeze {} in {:.1f} s ({:.0f}/s); {} packets processed", s.softnet.time_squeeze,
                           s.seconds, s.softnet_squeeze_per_s, s.softnet.processed);
  f.knobs = {"net.core.netdev_budget", "net.core.netdev_budget_usecs"};
  f.fix = "raise net.core.netdev_budget / netdev_budget_usecs so one softirq run drains more packets";
  return f;
}

std::vector<Finding> rule_nic_ring_drops(const Summary& s, const HostFacts&) {
  std::vector<Finding> out;
  for (const auto& i : s.ifaces) {
    // Drivers report a total and per-queue copies (rx_drops, rx0_drops): the largest one counts.
    uint64_t worst = i.delta.rx_fifo + i.delta.rx_missed;
    std::string list;
    if (worst > 0) list = fmt::format("rx_fifo+rx_missed +{}", worst);
    if (i.ethtool_delta) {
      for (const auto& [k, v] : *i.ethtool_delta) {
        if (!is_ring_counter(k) || v == 0) continue;
        worst = std::max(worst, v);
        list += fmt::format("{}{} +{}", list.empty() ? "" : ", ", k, v);
      }
    }
    if (per_30s(worst, s.seconds) <= limits::kTrivialDropsPer30s) continue;
    Finding f;
    f.id = "nic_ring_drops";
    f.severity = drop_severity(worst, s.seconds);
    f.title = fmt::format("{}'s receive ring overflows before the kernel reads it", i.iface.name);
    f.evidence = fmt::format("{} in {:.1f} s ({:.0f}/s)", list, s.seconds, per_s(worst, s.seconds));
    f.knobs = {i.iface.name + "/rings/rx"};
    f.fix = fmt::format("enlarge {}'s RX ring toward the pre-set maximum (ethtool -g shows it)", i.iface.name);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> rule_udp_socket_buffers(const Summary& s, const HostFacts& h) {
  std::vector<Finding> out;
  // The tunnel's socket only where a userspace WireGuard (wireguard-go, boringtun, NetBird's) was
  // watched: kernel WireGuard takes its datagrams in the socket's encap_rcv hook, before any
  // receive buffer, so there RcvbufErrors are some other UDP socket's (iperf3's in the udp scenario).
  const bool wireguard = std::any_of(h.wireguard.begin(), h.wireguard.end(),
                                     [](const auto& w) { return w.second == WgMode::Userspace; });
  for (const auto& n : s.net) {
    // RcvbufErrors is a subset of InErrors; either alone can move (checksum errors count in InErrors).
    const uint64_t rx = std::max(n.udp.in_errors, n.udp.rcvbuf_errors);
    const uint64_t tx = n.udp.sndbuf_errors;
    const bool rx_bad = per_30s(rx, s.seconds) > limits::kTrivialDropsPer30s;
    const bool tx_bad = per_30s(tx, s.seconds) > limits::kTrivialDropsPer30s;
    if (!rx_bad && !tx_bad) continue;
    Finding f;
    f.id = "udp_socket_buffers";
    f.severity = drop_severity(std::max(rx, tx), s.seconds);
    f.title = fmt::format("UDP socket buffers overflow in {} ({} drops datagrams)", n.place.describe(),
                          wireguard ? "the WireGuard socket" : "a UDP socket");
    const double share = n.udp.in_datagrams + rx > 0 ? 100.0 * rx / (n.udp.in_datagrams + rx) : 0;
    f.evidence = fmt::format("Udp InErrors +{} RcvbufErrors +{} SndbufErrors +{} in {:.1f} s ({:.1f}% of received)",
                             n.udp.in_errors, n.udp.rcvbuf_errors, n.udp.sndbuf_errors, s.seconds, share);
    // A socket that does not set its own buffer gets the default, whatever the cap: Debian 12's
    // wireguard-go (ss -uamn on the testbed: rb212992 = rmem_default with rmem_max 4 MiB). The cap
    // (the guide's §5.2 fix) binds one that asks, without the privilege to force it.
    if (rx_bad) f.knobs.insert(f.knobs.end(), {"net.core.rmem_default", "net.core.rmem_max"});
    if (tx_bad) f.knobs.insert(f.knobs.end(), {"net.core.wmem_default", "net.core.wmem_max"});
    f.fix = fmt::format("raise {} buffers so it can queue bursts: net.core.rmem_default / wmem_default for a socket "
                        "that does not set its own ({}`ss -uamn` shows its rb/tb), net.core.rmem_max / wmem_max, the cap, "
                        "for one that asks",
                        wireguard ? "the tunnel socket's" : "the UDP socket's", wireguard ? "Debian 12's wireguard-go; " : "");
    // In a namespace they are the host's, read-only there (found by an exploratory test: diagnose on
    // the testbed named knobs `wgopt knobs --netns` lists as read-only).
    if (!n.place.is_host()) f.fix += fmt::format("; in {} these are the host's (read-only there): set them on the host", n.place.describe());
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> rule_tx_dropped(const Summary& s, const HostFacts&) {
  std::vector<Finding> out;
  for (const auto& i : s.ifaces) {
    if (per_30s(i.delta.tx_dropped, s.seconds) <= limits::kTrivialDropsPer30s) continue;
    Finding f;
    f.id = "tx_dropped";
    f.severity = drop_severity(i.delta.tx_dropped, s.seconds);
    f.title = fmt::format("{} drops on transmit (its qdisc queue overflows)", i.iface.name);
    f.evidence = fmt::format("tx_dropped +{} in {:.1f} s ({:.0f}/s) for {} packets sent", i.delta.tx_dropped,
                             s.seconds, per_s(i.delta.tx_dropped, s.seconds), i.delta.tx_packets);
    f.knobs = {i.iface.name + "/qdisc", i.iface.name + "/txqueuelen"};
    f.fix = fmt::format("give {} a longer transmit queue or a different qdisc", i.iface.name);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> rule_userspace_wireguard(const Summary& s, const HostFacts& h) {
  std::vector<Finding> out;
  for (const auto& [w, mode] : h.wireguard) {
    if (mode != WgMode::Userspace) continue;
    std::string moved;
    for (const auto& i : s.ifaces)
      if (i.iface.name == w)
        moved = fmt::format("; it carried {:.1f} Mbit/s rx, {:.1f} Mbit/s tx", i.rx_mbps, i.tx_mbps);
    Finding f;
    f.id = "userspace_wireguard";
    f.severity = Severity::Critical;
    f.title = fmt::format("{} runs userspace WireGuard (wireguard-go): expect 3-5x less than the kernel module", w);
    f.evidence = fmt::format("{} is a tun device served by a userspace implementation, not link kind wireguard{}", w, moved);
    f.fix = "load the kernel module (modprobe wireguard) and recreate the interface; no knob recovers this gap";
    out.push_back(std::move(f));
  }
  return out;
}

std::optional<Finding> rule_irqs_collapsed(const Summary& s, const HostFacts& h) {
  if (h.nproc < 2) return std::nullopt;
  std::map<int, uint64_t> per_cpu;
  uint64_t all = 0;
  std::string names;
  int active = 0;
  for (const auto& d : s.irqs) {
    // Receive-capable queues only: a queue pair's rx and tx IRQs are one queue, not two to spread.
    if (d.cls != IrqClass::DataRx && d.cls != IrqClass::DataRxTx) continue;
    if (per_s(d.total, s.seconds) < limits::kActiveIrqPerS) continue;
    ++active;
    names += fmt::format("{}{} {}", names.empty() ? "" : ", ", d.id, d.action);
    for (size_t j = 0; j < d.per_cpu.size(); ++j) per_cpu[d.cpus[j]] += d.per_cpu[j], all += d.per_cpu[j];
  }
  if (active < 2 || all == 0) return std::nullopt;
  auto top = std::max_element(per_cpu.begin(), per_cpu.end(),
                              [](const auto& a, const auto& b) { return a.second < b.second; });
  const double share = static_cast<double>(top->second) / all;
  if (share < limits::kCollapsedShare) return std::nullopt;
  Finding f;
  f.severity = Severity::Warning;
  f.evidence = fmt::format("{} active receive IRQs ({}) fired {} times in {:.1f} s, {:.0f}% of them on cpu{}", active,
                           names, all, s.seconds, share * 100, top->first);
  if (h.irqbalance_running) {
    f.id = "irqbalance_collapse";
    f.title = fmt::format("irqbalance has collapsed {} NIC queue IRQs onto cpu{}", active, top->first);
    f.knobs.push_back("irqbalance");
  } else {
    f.id = "irqs_collapsed";
    f.title = fmt::format("{} NIC queue IRQs all land on cpu{}", active, top->first);
  }
  for (const auto& u : h.underlay) f.knobs.push_back(u + "/irq_affinity");
  f.fix = h.irqbalance_running ? "stop irqbalance and pin each queue's IRQ to its own core"
                               : "pin each queue's IRQ to its own core";
  return f;
}

std::optional<Finding> rule_cpu_saturated(const Summary& s, const HostFacts& h) {
  if (s.cores.empty()) return std::nullopt;
  double idle = 0, usr = 0, sys = 0, soft = 0;
  for (const auto& c : s.cores) {
    if (c.idle >= limits::kSaturatedIdlePct) return std::nullopt;
    idle += c.idle, usr += c.usr, sys += c.sys, soft += c.soft;
  }
  const double n = static_cast<double>(s.cores.size());
  Finding f;
  f.id = "cpu_saturated";
  f.severity = Severity::Warning;
  f.title = fmt::format("all {} cores are busy: the host is CPU-bound, not waiting on one core", s.cores.size());
  f.evidence = fmt::format("mean over cores and {:.1f} s: %usr {:.1f} %sys {:.1f} %soft {:.1f} %idle {:.1f}", s.seconds,
                           usr / n, sys / n, soft / n, idle / n);
  for (const auto& [w, _] : h.wireguard) add(f.knobs, w + "/mtu");
  f.fix = any_userspace(h) ? "userspace WireGuard burns the CPU: the kernel module, or a larger MTU (less work per byte)"
                           : "less work per byte (a larger WireGuard MTU, offloads) or more cores";
  return f;
}

std::vector<Finding> diagnose(const Summary& s, const HostFacts& h) {
  std::vector<Finding> out;
  auto take = [&](auto&& r) {
    if constexpr (std::is_same_v<std::decay_t<decltype(r)>, std::optional<Finding>>) {
      if (r) out.push_back(std::move(*r));
    } else {
      for (auto& f : r) out.push_back(std::move(f));
    }
  };
  take(rule_userspace_wireguard(s, h));
  take(rule_softirq_pinned(s, h));
  take(rule_crypto_wall(s, h));
  take(rule_irqs_collapsed(s, h));
  take(rule_cpu_saturated(s, h));
  take(rule_softnet_drops(s, h));
  take(rule_softnet_squeeze(s, h));
  take(rule_nic_ring_drops(s, h));
  take(rule_udp_socket_buffers(s, h));
  take(rule_tx_dropped(s, h));
  std::stable_sort(out.begin(), out.end(),
                   [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
  return out;
}

bool irqbalance_running(const std::string& root) {
  RootedFiles files(root);
  return !pids_named(files, "/proc", "irqbalance").empty();
}

HostFacts gather_host_facts(CommandRunner& runner, const std::vector<WatchedInterface>& watched,
                            const std::string& root) {
  HostFacts h;
  RootedFiles files(root);
  if (auto stat = files.read("/proc/stat")) h.nproc = static_cast<int>(parse_proc_stat(*stat).cores.size());
  h.irqbalance_running = irqbalance_running(root);
  for (const auto& w : watched) {
    const WgMode mode = classify_wg_mode(detect_wg_facts(runner, w.place, w.name, root));
    if (mode == WgMode::NotWireGuard) {
      if (std::find(h.underlay.begin(), h.underlay.end(), w.name) == h.underlay.end()) h.underlay.push_back(w.name);
    } else {
      h.wireguard[w.name] = mode;
    }
  }
  return h;
}

}  // namespace wgopt::probes

#include "probes/samples.hpp"

#include <algorithm>

#include "probes/parse_util.hpp"

namespace wgopt::probes {

using detail::counter_delta;

std::string label(const WatchedInterface& w) {
  return w.place.is_host() ? w.name : w.place.netns_name() + "/" + w.name;
}

namespace {

double seconds_between(const Snapshot& a, const Snapshot& b) {
  return std::chrono::duration<double>(b.at - a.at).count();
}

// Per-CPU deltas of two count rows whose columns are CPU ids `ca` and `cb` (CPUs can go offline).
void per_cpu_delta(const std::vector<int>& ca, const std::vector<uint64_t>& va, const std::vector<int>& cb,
                   const std::vector<uint64_t>& vb, std::vector<int>& cpus_out, std::vector<uint64_t>& out) {
  cpus_out.clear();
  out.clear();
  for (size_t j = 0; j < cb.size() && j < vb.size(); ++j) {
    auto it = std::find(ca.begin(), ca.end(), cb[j]);
    if (it == ca.end()) continue;
    size_t i = static_cast<size_t>(it - ca.begin());
    if (i >= va.size()) continue;
    cpus_out.push_back(cb[j]);
    out.push_back(counter_delta(va[i], vb[j]));
  }
}

std::vector<IrqDelta> irq_deltas(const Interrupts& a, const Interrupts& b) {
  std::vector<IrqDelta> out;
  for (const auto& lb : b.irqs) {
    if (!lb.numbered) continue;
    const IrqLine* la = a.find(lb.id);
    if (!la) continue;
    IrqDelta d;
    d.id = lb.id;
    d.action = lb.action;
    d.cls = lb.cls;
    per_cpu_delta(a.cpus, la->per_cpu, b.cpus, lb.per_cpu, d.cpus, d.per_cpu);
    uint64_t best = 0;
    for (size_t j = 0; j < d.per_cpu.size(); ++j) {
      d.total += d.per_cpu[j];
      if (d.per_cpu[j] > best) best = d.per_cpu[j], d.top_cpu = d.cpus[j];
    }
    if (d.total > 0) out.push_back(std::move(d));
  }
  std::stable_sort(out.begin(), out.end(), [](const IrqDelta& x, const IrqDelta& y) { return x.total > y.total; });
  return out;
}

std::vector<SoftnetRow> softnet_deltas(const std::vector<SoftnetRow>& a, const std::vector<SoftnetRow>& b,
                                       SoftnetTotals& total) {
  std::vector<SoftnetRow> out;
  total = {};
  for (const auto& rb : b) {
    auto it = std::find_if(a.begin(), a.end(), [&](const SoftnetRow& r) { return r.cpu == rb.cpu; });
    if (it == a.end()) continue;
    // The kernel prints these as 32-bit: they wrap under sustained load.
    SoftnetRow d;
    d.cpu = rb.cpu;
    d.processed = detail::counter_delta32(it->processed, rb.processed);
    d.dropped = detail::counter_delta32(it->dropped, rb.dropped);
    d.time_squeeze = detail::counter_delta32(it->time_squeeze, rb.time_squeeze);
    d.received_rps = detail::counter_delta32(it->received_rps, rb.received_rps);
    d.flow_limit = detail::counter_delta32(it->flow_limit, rb.flow_limit);
    total.processed += d.processed;
    total.dropped += d.dropped;
    total.time_squeeze += d.time_squeeze;
    total.received_rps += d.received_rps;
    total.flow_limit += d.flow_limit;
    out.push_back(d);
  }
  return out;
}

const PlaceNet* net_of(const Snapshot& s, const Place& p) {
  for (const auto& n : s.net)
    if (n.place == p) return &n;
  return nullptr;
}

const IfaceCounters* dev_of(const Snapshot& s, const WatchedInterface& w) {
  const PlaceNet* n = net_of(s, w.place);
  if (!n) return nullptr;
  auto it = n->dev.find(w.name);
  return it == n->dev.end() ? nullptr : &it->second;
}

UdpCounters udp_delta(const UdpCounters& a, const UdpCounters& b) {
  return {counter_delta(a.in_datagrams, b.in_datagrams), counter_delta(a.no_ports, b.no_ports),
          counter_delta(a.in_errors, b.in_errors),       counter_delta(a.out_datagrams, b.out_datagrams),
          counter_delta(a.rcvbuf_errors, b.rcvbuf_errors), counter_delta(a.sndbuf_errors, b.sndbuf_errors),
          counter_delta(a.in_csum_errors, b.in_csum_errors), counter_delta(a.mem_errors, b.mem_errors)};
}

TcpCounters tcp_delta(const TcpCounters& a, const TcpCounters& b) {
  return {counter_delta(a.in_segs, b.in_segs), counter_delta(a.out_segs, b.out_segs),
          counter_delta(a.retrans_segs, b.retrans_segs), counter_delta(a.in_errs, b.in_errs)};
}

double mbps(uint64_t bytes, double seconds) { return seconds > 0 ? bytes * 8.0 / 1e6 / seconds : 0; }

}  // namespace

SecondSample diff_snapshots(const Snapshot& a, const Snapshot& b, const std::vector<WatchedInterface>& watched,
                            double t_end) {
  SecondSample s;
  s.t = t_end;
  s.seconds = seconds_between(a, b);
  s.cpu = cpu_usage_between(a.cpu, b.cpu);
  std::vector<int> tx_cpus;
  per_cpu_delta(a.softirqs.cpus, a.softirqs.net_rx, b.softirqs.cpus, b.softirqs.net_rx, s.softirq_cpus, s.net_rx);
  per_cpu_delta(a.softirqs.cpus, a.softirqs.net_tx, b.softirqs.cpus, b.softirqs.net_tx, tx_cpus, s.net_tx);
  s.softnet = softnet_deltas(a.softnet, b.softnet, s.softnet_total);
  s.irqs = irq_deltas(a.irqs, b.irqs);
  for (const auto& w : watched) {
    IfaceDelta d;
    d.iface = w;
    const IfaceCounters* ca = dev_of(a, w);
    const IfaceCounters* cb = dev_of(b, w);
    d.present = ca && cb;
    if (d.present) {
      d.delta = counters_delta(*ca, *cb);
      d.rx_mbps = mbps(d.delta.rx_bytes, s.seconds);
      d.tx_mbps = mbps(d.delta.tx_bytes, s.seconds);
    }
    s.ifaces.push_back(d);
  }
  for (const auto& nb : b.net) {
    const PlaceNet* na = net_of(a, nb.place);
    if (!na) continue;
    s.net.push_back({nb.place, udp_delta(na->snmp.udp, nb.snmp.udp), tcp_delta(na->snmp.tcp, nb.snmp.tcp)});
  }
  return s;
}

uint64_t interface_drops(const Summary& s) {
  uint64_t total = 0;
  for (const auto& i : s.ifaces) {
    total += i.delta.rx_dropped + i.delta.rx_missed + i.delta.rx_fifo + i.delta.tx_dropped;
    uint64_t worst = 0;
    if (i.ethtool_delta)
      for (const auto& [k, v] : *i.ethtool_delta)
        if (is_drop_counter(k)) worst = std::max(worst, v);
    total += worst;
  }
  return total;
}

Summary summarize(const Snapshot& first, const Snapshot& last, const std::vector<SecondSample>& seconds,
                  const std::vector<WatchedInterface>& watched, const BeforeAfter& extra) {
  Summary out;
  // The whole window is one big diff; peaks come from the seconds.
  SecondSample whole = diff_snapshots(first, last, watched, seconds_between(first, last));
  out.seconds = whole.seconds;
  out.samples = seconds.size();
  out.cores = whole.cpu;
  for (const auto& c : out.cores) {
    if (out.top_soft_cpu < 0 || c.soft > out.top_soft_pct) out.top_soft_cpu = c.cpu, out.top_soft_pct = c.soft;
    if (out.top_sys_cpu < 0 || c.sys > out.top_sys_pct) out.top_sys_cpu = c.cpu, out.top_sys_pct = c.sys;
  }
  for (const auto& s : seconds)
    for (const auto& c : s.cpu) out.peak_soft_pct_1s = std::max(out.peak_soft_pct_1s, c.soft);
  out.softnet = whole.softnet_total;
  out.softnet_per_cpu = whole.softnet;
  if (out.seconds > 0) {
    out.softnet_dropped_per_s = out.softnet.dropped / out.seconds;
    out.softnet_squeeze_per_s = out.softnet.time_squeeze / out.seconds;
  }
  out.softirq_cpus = whole.softirq_cpus;
  out.net_rx = whole.net_rx;
  out.net_tx = whole.net_tx;
  out.irqs = whole.irqs;
  for (const auto& d : out.irqs) {  // sorted by total: the first data-path one is the hottest
    if (is_data_path(d.cls)) {
      out.hot_irq = d;
      break;
    }
  }
  for (size_t i = 0; i < whole.ifaces.size(); ++i) {
    const auto& d = whole.ifaces[i];
    IfaceSummary is;
    is.iface = d.iface;
    is.present = d.present;
    is.delta = d.delta;
    is.rx_mbps = d.rx_mbps;
    is.tx_mbps = d.tx_mbps;
    for (const auto& s : seconds) {
      if (i < s.ifaces.size() && s.ifaces[i].iface == d.iface) {
        is.rx_mbps_peak = std::max(is.rx_mbps_peak, s.ifaces[i].rx_mbps);
        is.tx_mbps_peak = std::max(is.tx_mbps_peak, s.ifaces[i].tx_mbps);
      }
    }
    const std::string key = label(d.iface);
    auto eb = extra.ethtool_before.find(key);
    auto ea = extra.ethtool_after.find(key);
    if (eb != extra.ethtool_before.end() && ea != extra.ethtool_after.end()) {
      EthtoolStats moved;
      for (const auto& [k, v] : stats_delta(eb->second, ea->second))
        if (v > 0) moved[k] = v;
      is.ethtool_delta = moved;
    }
    out.ifaces.push_back(std::move(is));
  }
  out.net = whole.net;
  for (const auto& wa : extra.wg_after) {
    const WgInterface* wb = nullptr;
    for (const auto& w : extra.wg_before)
      if (w.name == wa.name) wb = &w;
    for (const auto& pa : wa.peers) {
      WgPeerSummary ps{wa.name, pa.public_key, pa.endpoint, pa.handshake_age(extra.wall_end), pa.rx_bytes, pa.tx_bytes};
      if (wb) {
        for (const auto& pb : wb->peers) {
          if (pb.public_key != pa.public_key) continue;
          ps.rx_bytes = counter_delta(pb.rx_bytes, pa.rx_bytes);
          ps.tx_bytes = counter_delta(pb.tx_bytes, pa.tx_bytes);
        }
      }
      out.wg_peers.push_back(std::move(ps));
    }
  }
  return out;
}

}  // namespace wgopt::probes

// JSON for baseline and diagnose files. Keys are snake_case copies of the struct fields so a
// reader can find each number's meaning in probes/samples.hpp and workload/iperf3_result.hpp.
#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>

#include "common/util.hpp"
#include "experiments/baseline.hpp"

namespace wgopt::experiments {

using nlohmann::json;

namespace {

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json place_json(const Place& p) { return p.is_host() ? json("host") : json(p.netns_name()); }

json counters(const probes::IfaceCounters& c) {
  return {{"rx_bytes", c.rx_bytes},     {"rx_packets", c.rx_packets}, {"rx_errors", c.rx_errors},
          {"rx_dropped", c.rx_dropped}, {"rx_fifo", c.rx_fifo},       {"rx_missed", c.rx_missed},
          {"tx_bytes", c.tx_bytes},     {"tx_packets", c.tx_packets}, {"tx_errors", c.tx_errors},
          {"tx_dropped", c.tx_dropped}, {"tx_fifo", c.tx_fifo}};
}

json cpu(const probes::CpuUsage& c) {
  return {{"cpu", c.cpu},   {"usr", c.usr},       {"sys", c.sys},     {"soft", c.soft},
          {"irq", c.irq},   {"iowait", c.iowait}, {"steal", c.steal}, {"idle", c.idle}};
}

json softnet_row(const probes::SoftnetRow& r) {
  return {{"cpu", r.cpu},
          {"processed", r.processed},
          {"dropped", r.dropped},
          {"time_squeeze", r.time_squeeze},
          {"received_rps", r.received_rps},
          {"flow_limit", r.flow_limit}};
}

json softnet_totals(const probes::SoftnetTotals& t) {
  return {{"processed", t.processed},       {"dropped", t.dropped},       {"time_squeeze", t.time_squeeze},
          {"received_rps", t.received_rps}, {"flow_limit", t.flow_limit}};
}

json irq(const probes::IrqDelta& d) {
  return {{"id", d.id},           {"action", d.action}, {"class", probes::to_string(d.cls)}, {"cpus", d.cpus},
          {"per_cpu", d.per_cpu}, {"total", d.total},   {"top_cpu", d.top_cpu}};
}

json net(const probes::NetDelta& n) {
  const auto& u = n.udp;
  const auto& t = n.tcp;
  return {{"place", place_json(n.place)},
          {"udp", {{"in_datagrams", u.in_datagrams}, {"no_ports", u.no_ports}, {"in_errors", u.in_errors},
                   {"out_datagrams", u.out_datagrams}, {"rcvbuf_errors", u.rcvbuf_errors},
                   {"sndbuf_errors", u.sndbuf_errors}, {"in_csum_errors", u.in_csum_errors},
                   {"mem_errors", u.mem_errors}}},
          {"tcp", {{"in_segs", t.in_segs}, {"out_segs", t.out_segs}, {"retrans_segs", t.retrans_segs},
                   {"in_errs", t.in_errs}}}};
}

template <class T, class F>
json array_of(const std::vector<T>& v, F f) {
  json a = json::array();
  for (const auto& x : v) a.push_back(f(x));
  return a;
}

json iperf_summary(const workload::Summary& s) {
  return {{"seconds", s.seconds},
          {"received_bps", s.received_bps},
          {"sent_bps", s.sent_bps},
          {"received_bytes", s.received_bytes},
          {"sent_bytes", s.sent_bytes},
          {"retransmits", opt(s.retransmits)},
          {"loss_percent", opt(s.loss_percent)},
          {"lost_packets", opt(s.lost_packets)},
          {"packets", opt(s.packets)},
          {"jitter_ms", opt(s.jitter_ms)},
          {"udp_from_legacy_sum", s.udp_from_legacy_sum},
          {"cpu_host_total", s.cpu_host_total},
          {"cpu_remote_total", s.cpu_remote_total},
          {"sender_congestion", s.sender_congestion}};
}

json interval(const workload::Interval& i) {
  return {{"start", i.start},           {"seconds", i.seconds},           {"bytes", i.bytes},
          {"bits_per_second", i.bits_per_second}, {"omitted", i.omitted}, {"retransmits", opt(i.retransmits)},
          {"packets", opt(i.packets)},  {"lost_packets", opt(i.lost_packets)}, {"jitter_ms", opt(i.jitter_ms)}};
}

}  // namespace

json to_json(const probes::SecondSample& s) {
  return {{"t", s.t},
          {"seconds", s.seconds},
          {"cpu", array_of(s.cpu, cpu)},
          {"softirq_cpus", s.softirq_cpus},
          {"net_rx", s.net_rx},
          {"net_tx", s.net_tx},
          {"softnet", array_of(s.softnet, softnet_row)},
          {"softnet_total", softnet_totals(s.softnet_total)},
          {"irqs", array_of(s.irqs, irq)},
          {"ifaces", array_of(s.ifaces,
                              [](const probes::IfaceDelta& d) {
                                return json{{"iface", probes::label(d.iface)}, {"present", d.present},
                                            {"delta", counters(d.delta)},      {"rx_mbps", d.rx_mbps},
                                            {"tx_mbps", d.tx_mbps}};
                              })},
          {"net", array_of(s.net, net)}};
}

json to_json(const probes::Summary& s) {
  return {{"seconds", s.seconds},
          {"samples", s.samples},
          {"cores", array_of(s.cores, cpu)},
          {"top_soft_cpu", s.top_soft_cpu},
          {"top_soft_pct", s.top_soft_pct},
          {"top_sys_cpu", s.top_sys_cpu},
          {"top_sys_pct", s.top_sys_pct},
          {"peak_soft_pct_1s", s.peak_soft_pct_1s},
          {"softnet", softnet_totals(s.softnet)},
          {"softnet_per_cpu", array_of(s.softnet_per_cpu, softnet_row)},
          {"softnet_dropped_per_s", s.softnet_dropped_per_s},
          {"softnet_squeeze_per_s", s.softnet_squeeze_per_s},
          {"softirq_cpus", s.softirq_cpus},
          {"net_rx", s.net_rx},
          {"net_tx", s.net_tx},
          {"irqs", array_of(s.irqs, irq)},
          {"hot_irq", s.hot_irq ? irq(*s.hot_irq) : json(nullptr)},
          {"ifaces", array_of(s.ifaces,
                              [](const probes::IfaceSummary& i) {
                                return json{{"iface", probes::label(i.iface)},
                                            {"present", i.present},
                                            {"delta", counters(i.delta)},
                                            {"rx_mbps", i.rx_mbps},
                                            {"tx_mbps", i.tx_mbps},
                                            {"rx_mbps_peak", i.rx_mbps_peak},
                                            {"tx_mbps_peak", i.tx_mbps_peak},
                                            {"ethtool_delta", i.ethtool_delta ? json(*i.ethtool_delta) : json(nullptr)}};
                              })},
          {"net", array_of(s.net, net)},
          {"wg_peers", array_of(s.wg_peers,
                                [](const probes::WgPeerSummary& p) {
                                  return json{{"interface", p.interface}, {"public_key", p.public_key},
                                              {"endpoint", p.endpoint},   {"handshake_age_s", opt(p.handshake_age_s)},
                                              {"rx_bytes", p.rx_bytes},   {"tx_bytes", p.tx_bytes}};
                                })},
          {"interface_drops", probes::interface_drops(s)},
          {"warnings", s.warnings}};
}

json to_json(const ScenarioRun& r) {
  const auto& w = r.run;
  return {{"scenario", r.scenario.name},
          {"description", r.scenario.description},
          {"iperf3",
           {{"status", workload::status_name(w.status)},
            {"message", w.message},
            {"iperf3_error", w.iperf3_error},
            {"udp", w.udp},
            {"reverse", w.reverse},
            {"parallel", w.parallel},
            {"wall_seconds", w.wall_seconds},
            {"summary", w.summary ? iperf_summary(*w.summary) : json(nullptr)},
            {"intervals", array_of(w.intervals, interval)}}},
          {"probes",
           {{"summary", to_json(r.probes.summary)},
            {"seconds", array_of(r.probes.seconds, [](const probes::SecondSample& s) { return to_json(s); })}}}};
}

json to_json(const probes::Finding& f) {
  return {{"id", f.id},       {"severity", probes::to_string(f.severity)}, {"title", f.title},
          {"evidence", f.evidence}, {"knobs", f.knobs},                     {"fix", f.fix}};
}

json to_json(const probes::HostFacts& h) {
  json wg = json::object();
  for (const auto& [name, mode] : h.wireguard) wg[name] = probes::to_string(mode);
  return {{"nproc", h.nproc}, {"underlay", h.underlay}, {"wireguard", wg}, {"irqbalance_running", h.irqbalance_running}};
}

json host_info() {
  struct utsname u{};
  ::uname(&u);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return {{"hostname", host},
          {"kernel", u.release},
          {"machine", u.machine},
          {"nproc", ::sysconf(_SC_NPROCESSORS_ONLN)},
          {"boot_id", boot_id()},
          {"time", static_cast<long long>(std::time(nullptr))}};
}

json to_json(const BaselineReport& r) {
  return {{"tool", "wgopt baseline"},
          {"target",
           {{"description", r.target.description},
            {"client", place_json(r.target.client)},
            {"server", r.target.server},
            {"port", r.target.port},
            {"watched", array_of(r.target.watched, [](const probes::WatchedInterface& w) { return probes::label(w); })}}},
          {"duration_s", r.duration.count()},
          {"started_at", r.started_at},
          {"wall_seconds", r.wall_seconds},
          {"host", r.host},
          {"facts", to_json(r.facts)},
          {"scenarios", array_of(r.runs, [](const ScenarioRun& s) { return to_json(s); })}};
}

}  // namespace wgopt::experiments

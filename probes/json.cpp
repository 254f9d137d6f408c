#include "probes/json.hpp"

namespace wgopt::probes {

using nlohmann::json;

void to_json(json& j, const CpuUsage& c) {
  j = {{"cpu", c.cpu},   {"usr", c.usr},     {"sys", c.sys},     {"soft", c.soft}, {"irq", c.irq},
       {"iowait", c.iowait}, {"steal", c.steal}, {"idle", c.idle}};
}

void to_json(json& j, const IrqDelta& d) {
  j = {{"irq", d.id},   {"action", d.action}, {"class", to_string(d.cls)}, {"total", d.total},
       {"top_cpu", d.top_cpu}, {"cpus", d.cpus},  {"per_cpu", d.per_cpu}};
}

void to_json(json& j, const IfaceCounters& c) {
  j = {{"rx_bytes", c.rx_bytes},     {"rx_packets", c.rx_packets}, {"rx_errors", c.rx_errors},
       {"rx_dropped", c.rx_dropped}, {"rx_fifo", c.rx_fifo},       {"rx_missed", c.rx_missed},
       {"tx_bytes", c.tx_bytes},     {"tx_packets", c.tx_packets}, {"tx_errors", c.tx_errors},
       {"tx_dropped", c.tx_dropped}, {"tx_fifo", c.tx_fifo}};
}

namespace {
json softnet_json(const SoftnetRow& r) {
  return {{"cpu", r.cpu},
          {"processed", r.processed},
          {"dropped", r.dropped},
          {"time_squeeze", r.time_squeeze},
          {"received_rps", r.received_rps},
          {"flow_limit", r.flow_limit}};
}

json net_json(const NetDelta& n) {
  return {{"place", n.place.describe()},
          {"udp",
           {{"in_datagrams", n.udp.in_datagrams},
            {"no_ports", n.udp.no_ports},
            {"in_errors", n.udp.in_errors},
            {"out_datagrams", n.udp.out_datagrams},
            {"rcvbuf_errors", n.udp.rcvbuf_errors},
            {"sndbuf_errors", n.udp.sndbuf_errors}}},
          {"tcp", {{"in_segs", n.tcp.in_segs}, {"out_segs", n.tcp.out_segs}, {"retrans_segs", n.tcp.retrans_segs}}}};
}

json per_cpu_json(const std::vector<int>& cpus, const std::vector<uint64_t>& v) {
  json o = json::object();
  for (size_t i = 0; i < cpus.size() && i < v.size(); ++i) o["cpu" + std::to_string(cpus[i])] = v[i];
  return o;
}
}  // namespace

void to_json(json& j, const SecondSample& s) {
  j = {{"t", s.t}, {"seconds", s.seconds}, {"cpu", s.cpu}, {"net_rx", per_cpu_json(s.softirq_cpus, s.net_rx)},
       {"softnet_dropped", s.softnet_total.dropped}, {"softnet_time_squeeze", s.softnet_total.time_squeeze}};
  json ifs = json::array();
  for (const auto& i : s.ifaces)
    ifs.push_back({{"interface", label(i.iface)}, {"present", i.present}, {"rx_mbps", i.rx_mbps},
                   {"tx_mbps", i.tx_mbps}, {"rx_dropped", i.delta.rx_dropped}, {"tx_dropped", i.delta.tx_dropped}});
  j["interfaces"] = ifs;
  json irqs = json::array();
  for (const auto& d : s.irqs)
    if (is_data_path(d.cls)) irqs.push_back(d);
  j["data_path_irqs"] = irqs;
}

void to_json(json& j, const Summary& s) {
  j = {{"seconds", s.seconds},
       {"samples", s.samples},
       {"cores", s.cores},
       {"top_soft", {{"cpu", s.top_soft_cpu}, {"pct", s.top_soft_pct}, {"peak_1s_pct", s.peak_soft_pct_1s}}},
       {"top_sys", {{"cpu", s.top_sys_cpu}, {"pct", s.top_sys_pct}}},
       {"softnet",
        {{"processed", s.softnet.processed},
         {"dropped", s.softnet.dropped},
         {"time_squeeze", s.softnet.time_squeeze},
         {"dropped_per_s", s.softnet_dropped_per_s},
         {"time_squeeze_per_s", s.softnet_squeeze_per_s}}},
       {"net_rx", per_cpu_json(s.softirq_cpus, s.net_rx)},
       {"net_tx", per_cpu_json(s.softirq_cpus, s.net_tx)},
       {"irqs", s.irqs},
       {"hot_irq", s.hot_irq ? json(*s.hot_irq) : json(nullptr)},
       {"interface_drops", interface_drops(s)},
       {"warnings", s.warnings}};
  j["softnet"]["per_cpu"] = json::array();
  for (const auto& r : s.softnet_per_cpu) j["softnet"]["per_cpu"].push_back(softnet_json(r));
  json ifs = json::array();
  for (const auto& i : s.ifaces) {
    json e = {{"interface", label(i.iface)}, {"present", i.present},          {"delta", i.delta},
              {"rx_mbps", i.rx_mbps},        {"tx_mbps", i.tx_mbps},          {"rx_mbps_peak", i.rx_mbps_peak},
              {"tx_mbps_peak", i.tx_mbps_peak}};
    e["ethtool_delta"] = i.ethtool_delta ? json(*i.ethtool_delta) : json(nullptr);
    ifs.push_back(e);
  }
  j["interfaces"] = ifs;
  j["net"] = json::array();
  for (const auto& n : s.net) j["net"].push_back(net_json(n));
  j["wireguard_peers"] = json::array();
  for (const auto& p : s.wg_peers)
    j["wireguard_peers"].push_back({{"interface", p.interface},
                                    {"public_key", p.public_key},
                                    {"endpoint", p.endpoint},
                                    {"handshake_age_s", p.handshake_age_s ? json(*p.handshake_age_s) : json(nullptr)},
                                    {"rx_bytes", p.rx_bytes},
                                    {"tx_bytes", p.tx_bytes}});
}

void to_json(json& j, const Finding& f) {
  j = {{"id", f.id},         {"severity", to_string(f.severity)}, {"title", f.title},
       {"evidence", f.evidence}, {"knobs", f.knobs},                  {"fix", f.fix}};
}

void to_json(json& j, const HostFacts& h) {
  json wg = json::object();
  for (const auto& [name, mode] : h.wireguard) wg[name] = to_string(mode);
  j = {{"nproc", h.nproc}, {"underlay", h.underlay}, {"wireguard", wg}, {"irqbalance_running", h.irqbalance_running}};
}

}  // namespace wgopt::probes

#include "probes/json.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "common/error.hpp"

namespace wgopt::probes {

using nlohmann::json;

void to_json(json& j, const CpuUsage& c) {
  j = {{"cpu", c.cpu},   {"usr", c.usr},     {"sys", c.sys},     {"soft", c.soft}, {"irq", c.irq},
       {"iowait", c.iowait}, {"steal", c.steal}, {"idle", c.idle}, {"ticks", c.ticks}};
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

// Added to net_json's counters and kept apart so the older keys stay where readers find them.
void add_net_extras(json& j, const NetDelta& n) {
  j["udp"]["in_csum_errors"] = n.udp.in_csum_errors;
  j["udp"]["mem_errors"] = n.udp.mem_errors;
  j["tcp"]["in_errs"] = n.tcp.in_errs;
}

json softnet_totals_json(const SoftnetTotals& t) {
  return {{"processed", t.processed},
          {"dropped", t.dropped},
          {"time_squeeze", t.time_squeeze},
          {"received_rps", t.received_rps},
          {"flow_limit", t.flow_limit}};
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
  j["net_tx"] = per_cpu_json(s.softirq_cpus, s.net_tx);
  j["softnet_total"] = softnet_totals_json(s.softnet_total);
  json ifs = json::array();
  for (const auto& i : s.ifaces)
    ifs.push_back({{"interface", label(i.iface)}, {"present", i.present}, {"rx_mbps", i.rx_mbps},
                   {"tx_mbps", i.tx_mbps}, {"rx_dropped", i.delta.rx_dropped}, {"tx_dropped", i.delta.tx_dropped},
                   {"delta", i.delta}});
  j["interfaces"] = ifs;
  j["net"] = json::array();
  for (const auto& n : s.net) {
    json e = net_json(n);
    add_net_extras(e, n);
    j["net"].push_back(e);
  }
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
         {"received_rps", s.softnet.received_rps},
         {"flow_limit", s.softnet.flow_limit},
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
  for (const auto& n : s.net) {
    json e = net_json(n);
    add_net_extras(e, n);
    j["net"].push_back(e);
  }
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

// ---- Reading it back.

Place place_from_description(const std::string& text) {
  if (text == "host") return Place::host();
  if (text.starts_with("netns ")) return Place::netns(text.substr(6));
  throw Error(fmt::format("place '{}' is neither 'host' nor 'netns NAME'", text));
}

WatchedInterface watched_from_label(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return {Place::host(), text};
  return {Place::netns(text.substr(0, slash)), text.substr(slash + 1)};
}

namespace {

IrqClass irq_class_from_string(const std::string& s) {
  for (IrqClass c : {IrqClass::DataRx, IrqClass::DataTx, IrqClass::DataRxTx, IrqClass::Control, IrqClass::Other}) {
    if (s == to_string(c)) return c;
  }
  throw Error(fmt::format("unknown IRQ class '{}'", s));
}

// {"cpu0": n, "cpu2": m} -> ids {0, 2} and values; keys in CPU order (json objects sort by key,
// so "cpu10" would come before "cpu2": sort numerically).
void per_cpu_from_json(const json& j, std::vector<int>& cpus, std::vector<uint64_t>& values) {
  std::vector<std::pair<int, uint64_t>> rows;
  for (const auto& [key, v] : j.items()) {
    if (!key.starts_with("cpu")) throw Error(fmt::format("per-CPU key '{}' is not cpuN", key));
    rows.emplace_back(std::stoi(key.substr(3)), v.get<uint64_t>());
  }
  std::sort(rows.begin(), rows.end());
  cpus.clear();
  values.clear();
  for (const auto& [cpu, v] : rows) {
    cpus.push_back(cpu);
    values.push_back(v);
  }
}

SoftnetTotals softnet_totals_from_json(const json& j) {
  SoftnetTotals t;
  j.at("processed").get_to(t.processed);
  j.at("dropped").get_to(t.dropped);
  j.at("time_squeeze").get_to(t.time_squeeze);
  t.received_rps = j.value("received_rps", uint64_t{0});
  t.flow_limit = j.value("flow_limit", uint64_t{0});
  return t;
}

SoftnetRow softnet_row_from_json(const json& j) {
  SoftnetRow r;
  j.at("cpu").get_to(r.cpu);
  j.at("processed").get_to(r.processed);
  j.at("dropped").get_to(r.dropped);
  j.at("time_squeeze").get_to(r.time_squeeze);
  j.at("received_rps").get_to(r.received_rps);
  j.at("flow_limit").get_to(r.flow_limit);
  return r;
}

NetDelta net_from_json(const json& j) {
  NetDelta n;
  n.place = place_from_description(j.at("place").get<std::string>());
  const json& u = j.at("udp");
  u.at("in_datagrams").get_to(n.udp.in_datagrams);
  u.at("no_ports").get_to(n.udp.no_ports);
  u.at("in_errors").get_to(n.udp.in_errors);
  u.at("out_datagrams").get_to(n.udp.out_datagrams);
  u.at("rcvbuf_errors").get_to(n.udp.rcvbuf_errors);
  u.at("sndbuf_errors").get_to(n.udp.sndbuf_errors);
  n.udp.in_csum_errors = u.value("in_csum_errors", uint64_t{0});
  n.udp.mem_errors = u.value("mem_errors", uint64_t{0});
  const json& t = j.at("tcp");
  t.at("in_segs").get_to(n.tcp.in_segs);
  t.at("out_segs").get_to(n.tcp.out_segs);
  t.at("retrans_segs").get_to(n.tcp.retrans_segs);
  n.tcp.in_errs = t.value("in_errs", uint64_t{0});
  return n;
}

}  // namespace

void from_json(const json& j, CpuUsage& c) {
  j.at("cpu").get_to(c.cpu);
  j.at("usr").get_to(c.usr);
  j.at("sys").get_to(c.sys);
  j.at("soft").get_to(c.soft);
  j.at("irq").get_to(c.irq);
  j.at("iowait").get_to(c.iowait);
  j.at("steal").get_to(c.steal);
  j.at("idle").get_to(c.idle);
  // Stored runs from before "ticks" was written: a usage with any share carries information.
  c.ticks = j.contains("ticks") ? j.at("ticks").get<uint64_t>()
                                : ((c.usr + c.sys + c.soft + c.irq + c.iowait + c.steal + c.idle) > 0 ? 1 : 0);
}

void from_json(const json& j, IrqDelta& d) {
  j.at("irq").get_to(d.id);
  j.at("action").get_to(d.action);
  d.cls = irq_class_from_string(j.at("class").get<std::string>());
  j.at("total").get_to(d.total);
  j.at("top_cpu").get_to(d.top_cpu);
  j.at("cpus").get_to(d.cpus);
  j.at("per_cpu").get_to(d.per_cpu);
}

void from_json(const json& j, IfaceCounters& c) {
  j.at("rx_bytes").get_to(c.rx_bytes);
  j.at("rx_packets").get_to(c.rx_packets);
  j.at("rx_errors").get_to(c.rx_errors);
  j.at("rx_dropped").get_to(c.rx_dropped);
  j.at("rx_fifo").get_to(c.rx_fifo);
  j.at("rx_missed").get_to(c.rx_missed);
  j.at("tx_bytes").get_to(c.tx_bytes);
  j.at("tx_packets").get_to(c.tx_packets);
  j.at("tx_errors").get_to(c.tx_errors);
  j.at("tx_dropped").get_to(c.tx_dropped);
  j.at("tx_fifo").get_to(c.tx_fifo);
}

void from_json(const json& j, SecondSample& s) {
  j.at("t").get_to(s.t);
  j.at("seconds").get_to(s.seconds);
  j.at("cpu").get_to(s.cpu);
  per_cpu_from_json(j.at("net_rx"), s.softirq_cpus, s.net_rx);
  std::vector<int> tx_cpus;
  if (j.contains("net_tx")) per_cpu_from_json(j.at("net_tx"), tx_cpus, s.net_tx);
  if (j.contains("softnet_total")) {
    s.softnet_total = softnet_totals_from_json(j.at("softnet_total"));
  } else {
    j.at("softnet_dropped").get_to(s.softnet_total.dropped);
    j.at("softnet_time_squeeze").get_to(s.softnet_total.time_squeeze);
  }
  s.ifaces.clear();
  for (const auto& e : j.at("interfaces")) {
    IfaceDelta d;
    d.iface = watched_from_label(e.at("interface").get<std::string>());
    e.at("present").get_to(d.present);
    e.at("rx_mbps").get_to(d.rx_mbps);
    e.at("tx_mbps").get_to(d.tx_mbps);
    if (e.contains("delta")) {
      e.at("delta").get_to(d.delta);
    } else {
      e.at("rx_dropped").get_to(d.delta.rx_dropped);
      e.at("tx_dropped").get_to(d.delta.tx_dropped);
    }
    s.ifaces.push_back(d);
  }
  j.at("data_path_irqs").get_to(s.irqs);
  s.net.clear();
  if (j.contains("net")) {
    for (const auto& n : j.at("net")) s.net.push_back(net_from_json(n));
  }
}

void from_json(const json& j, Summary& s) {
  j.at("seconds").get_to(s.seconds);
  j.at("samples").get_to(s.samples);
  j.at("cores").get_to(s.cores);
  const json& soft = j.at("top_soft");
  soft.at("cpu").get_to(s.top_soft_cpu);
  soft.at("pct").get_to(s.top_soft_pct);
  soft.at("peak_1s_pct").get_to(s.peak_soft_pct_1s);
  j.at("top_sys").at("cpu").get_to(s.top_sys_cpu);
  j.at("top_sys").at("pct").get_to(s.top_sys_pct);
  const json& sn = j.at("softnet");
  s.softnet = softnet_totals_from_json(sn);
  sn.at("dropped_per_s").get_to(s.softnet_dropped_per_s);
  sn.at("time_squeeze_per_s").get_to(s.softnet_squeeze_per_s);
  s.softnet_per_cpu.clear();
  for (const auto& r : sn.at("per_cpu")) s.softnet_per_cpu.push_back(softnet_row_from_json(r));
  per_cpu_from_json(j.at("net_rx"), s.softirq_cpus, s.net_rx);
  std::vector<int> tx_cpus;
  per_cpu_from_json(j.at("net_tx"), tx_cpus, s.net_tx);
  j.at("irqs").get_to(s.irqs);
  s.hot_irq.reset();
  if (!j.at("hot_irq").is_null()) s.hot_irq = j.at("hot_irq").get<IrqDelta>();
  j.at("warnings").get_to(s.warnings);
  s.ifaces.clear();
  for (const auto& e : j.at("interfaces")) {
    IfaceSummary i;
    i.iface = watched_from_label(e.at("interface").get<std::string>());
    e.at("present").get_to(i.present);
    e.at("delta").get_to(i.delta);
    e.at("rx_mbps").get_to(i.rx_mbps);
    e.at("tx_mbps").get_to(i.tx_mbps);
    e.at("rx_mbps_peak").get_to(i.rx_mbps_peak);
    e.at("tx_mbps_peak").get_to(i.tx_mbps_peak);
    if (!e.at("ethtool_delta").is_null()) i.ethtool_delta = e.at("ethtool_delta").get<EthtoolStats>();
    s.ifaces.push_back(i);
  }
  s.net.clear();
  for (const auto& n : j.at("net")) s.net.push_back(net_from_json(n));
  s.wg_peers.clear();
  for (const auto& p : j.at("wireguard_peers")) {
    WgPeerSummary w;
    p.at("interface").get_to(w.interface);
    p.at("public_key").get_to(w.public_key);
    p.at("endpoint").get_to(w.endpoint);
    if (!p.at("handshake_age_s").is_null()) w.handshake_age_s = p.at("handshake_age_s").get<int64_t>();
    p.at("rx_bytes").get_to(w.rx_bytes);
    p.at("tx_bytes").get_to(w.tx_bytes);
    s.wg_peers.push_back(w);
  }
}

}  // namespace wgopt::probes

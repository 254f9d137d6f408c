#include "experiments/search/comparison_rows.hpp"

namespace wgopt::experiments {

void accumulate(Averages& a, const Evaluation& ev) {
  if (!ev.score) return;
  double tp = 0, soft = 0, sn = 0, nic = 0;
  int core = -1;
  for (const auto& s : ev.scenarios) {
    tp += s.measurement.throughput_mbps;
    if (s.probes.top_soft_pct >= soft) {
      soft = s.probes.top_soft_pct;
      core = s.probes.top_soft_cpu;
    }
    sn += static_cast<double>(s.probes.softnet.dropped);
    for (const auto& i : s.probes.ifaces) {
      nic += static_cast<double>(i.delta.rx_dropped + i.delta.tx_dropped);
      if (i.ethtool_delta) {
        for (const auto& [n, v] : probes::drop_counters(*i.ethtool_delta)) nic += static_cast<double>(v);
      }
    }
  }
  const double k = ev.scenarios.empty() ? 1 : static_cast<double>(ev.scenarios.size());
  a.throughput += tp / k;
  a.top_soft += soft;
  a.top_core = core;
  a.softnet += sn / k;
  a.nic += nic / k;
  a.n += 1;
}

ComparisonRow to_row(const std::string& label, const Averages& a) {
  ComparisonRow r;
  r.config = label;
  if (a.n == 0) return r;
  r.throughput_mbps = a.throughput / a.n;
  r.top_core_soft_pct = a.top_soft / a.n;
  if (a.top_core >= 0) r.top_core = a.top_core;
  r.softnet_drops = a.softnet / a.n;
  r.nic_drops = a.nic / a.n;
  return r;
}

}  // namespace wgopt::experiments

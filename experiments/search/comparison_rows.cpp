#include "experiments/search/comparison_rows.hpp"

namespace wgopt::experiments {

namespace {

// One end's probes of one measurement, averaged over its scenarios, added to `e`.
void add_end(EndAverages& e, const Evaluation& ev, bool far) {
  double soft = 0, sn = 0, nic = 0, udp = 0;
  int core = -1;
  int seen = 0;
  for (const auto& s : ev.scenarios) {
    if (far && !s.far_probes) continue;
    const probes::Summary& p = far ? *s.far_probes : s.probes;
    ++seen;
    if (p.top_soft_pct >= soft) {
      soft = p.top_soft_pct;
      core = p.top_soft_cpu;
    }
    sn += static_cast<double>(p.softnet.dropped);
    for (const auto& d : p.net) udp += static_cast<double>(d.udp.in_errors);  // counts RcvbufErrors too
    for (const auto& i : p.ifaces) {
      nic += static_cast<double>(i.delta.rx_dropped + i.delta.tx_dropped);
      if (i.ethtool_delta) {
        for (const auto& [n, v] : probes::drop_counters(*i.ethtool_delta)) nic += static_cast<double>(v);
      }
    }
  }
  if (far && seen == 0) return;
  const double k = ev.scenarios.empty() ? 1 : static_cast<double>(ev.scenarios.size());
  e.top_soft += soft;
  e.top_core = core;
  e.softnet += sn / k;
  e.nic += nic / k;
  e.udp_errors += udp / k;
  e.n += 1;
}

ComparisonRow end_row(const std::string& label, const Averages& a, const EndAverages& e) {
  ComparisonRow r;
  r.config = label;
  if (a.n == 0 || e.n == 0) return r;
  r.throughput_mbps = a.mean_throughput();
  r.score = a.mean_score();
  r.udp_errors = e.udp_errors / e.n;
  r.top_core_soft_pct = e.top_soft / e.n;
  if (e.top_core >= 0) r.top_core = e.top_core;
  r.softnet_drops = e.softnet / e.n;
  r.nic_drops = e.nic / e.n;
  return r;
}

}  // namespace

void accumulate(Averages& a, const Evaluation& ev) {
  if (!ev.score) return;
  double tp = 0;
  for (const auto& s : ev.scenarios) tp += s.measurement.throughput_mbps;
  const double k = ev.scenarios.empty() ? 1 : static_cast<double>(ev.scenarios.size());
  a.throughput += tp / k;
  a.score += ev.score->value;
  a.n += 1;
  add_end(a.local, ev, false);
  add_end(a.far, ev, true);
}

void scale_drops(Averages& a, double factor) {
  for (EndAverages* e : {&a.local, &a.far}) {
    e->softnet *= factor;
    e->nic *= factor;
    e->udp_errors *= factor;
  }
}

ComparisonRow to_row(const std::string& label, const Averages& a) {
  return end_row(label, a, a.local);
}

std::vector<ComparisonRow> end_rows(const std::string& label, const Averages& a) {
  if (a.far.n == 0) return {to_row(label, a)};
  return {to_row(label + ": local", a), end_row(label + ": peer", a, a.far)};
}

}  // namespace wgopt::experiments

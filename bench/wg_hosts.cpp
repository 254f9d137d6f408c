#include "bench/wg_hosts.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace wgopt::bench {
namespace {

using opt::Config;
using opt::Param;

const std::vector<std::string> kCcs = {"cubic", "reno", "bbr"};
const std::vector<std::string> kQdiscs = {"pfifo_fast", "fq", "fq_codel"};
// (loss sensitivity, efficiency) per congestion control x qdisc: bbr paces in the stack without fq
// (costly, bursty); fq's pacing softens cubic's and reno's bursts; fq_codel sits between.
constexpr double kCcQdisc[3][3][2] = {
    {{1.0, 1.0}, {0.7, 0.995}, {0.85, 0.99}},      // cubic
    {{1.6, 0.99}, {1.2, 0.985}, {1.4, 0.98}},      // reno
    {{0.15, 0.93}, {0.1, 0.97}, {0.15, 0.945}}};   // bbr

int index_in(const std::vector<std::string>& v, const std::string& x) {
  return int(std::find(v.begin(), v.end(), x) - v.begin());
}

double softmin4(double a, double b) { return std::pow(std::pow(a, -4.0) + std::pow(b, -4.0), -0.25); }

double num(const Config& c, const std::string& name) {
  const auto& v = c.at(name);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return static_cast<double>(std::get<std::int64_t>(v));
}

std::vector<HostSpec> make_specs() {
  std::vector<HostSpec> v;
  // A 2-vCPU cloud VM behind PPPoE (underlay 1492: the tunnel carries 1412) on a lossy 40 ms WAN
  // path; small memory; the iperf3 reader shares the crypto core.
  v.push_back({.name = "wg_host2", .cpus = 2, .irq_cpu = 0, .crypto_cpu = 1, .app_cpu = 1,
               .mtu_min = 1280, .mtu_max = 1500, .mtu_step = 4, .path_mtu = 1412, .ring_max = 4096,
               .has_budget = false, .has_coalesce = false, .rtt = 0.040, .path_loss = 1e-3,
               .link_gbps = 10, .mem_knee = 8388608, .burst_scale = 1, .streams = 4,
               .noise = NoiseKind::student_t, .fstar = -2.9537855111148947});
  // The field guide's 4-vCPU VM (IPv4 underlay 1500: the tunnel carries 1440), 20 ms.
  v.push_back({.name = "wg_host4", .cpus = 4, .irq_cpu = 2, .crypto_cpu = 0, .app_cpu = 3,
               .mtu_min = 1280, .mtu_max = 1500, .mtu_step = 10, .path_mtu = 1440, .ring_max = 8192,
               .has_budget = true, .has_coalesce = false, .rtt = 0.020, .path_loss = 2e-4,
               .link_gbps = 10, .mem_knee = 33554432, .burst_scale = 1, .streams = 8,
               .noise = NoiseKind::gaussian, .fstar = -5.3612498653593121});
  // An 8-CPU host in a data centre with jumbo frames (9000: the tunnel carries 8920), 2 ms, 25 G.
  v.push_back({.name = "wg_host8", .cpus = 8, .irq_cpu = 3, .crypto_cpu = 6, .app_cpu = 1,
               .mtu_min = 1280, .mtu_max = 9200, .mtu_step = 40, .path_mtu = 8920, .ring_max = 8192,
               .has_budget = true, .has_coalesce = true, .rtt = 0.002, .path_loss = 5e-5,
               .link_gbps = 25, .mem_knee = 67108864, .burst_scale = 1, .streams = 8,
               .noise = NoiseKind::interference, .fstar = -10.823151252716336});
  // A 16-CPU two-socket host (CPUs 8..15 remote from the NIC; the peer's crypto lands on CPU 9),
  // IPv6 underlay (1420), 10 ms, a 16-bit RPS mask.
  v.push_back({.name = "wg_host16", .cpus = 16, .irq_cpu = 0, .crypto_cpu = 9, .app_cpu = 4,
               .numa_split = 8, .mtu_min = 1280, .mtu_max = 1500, .mtu_step = 2, .path_mtu = 1420,
               .ring_max = 8192, .has_budget = true, .has_coalesce = true, .rtt = 0.010,
               .path_loss = 3e-4, .link_gbps = 25, .mem_knee = 33554432, .burst_scale = 1.5,
               .streams = 8, .noise = NoiseKind::student_t, .fstar = -5.616866860302256});
  return v;
}

}  // namespace

const char* to_string(NoiseKind k) {
  switch (k) {
    case NoiseKind::gaussian: return "gaussian";
    case NoiseKind::student_t: return "student_t";
    case NoiseKind::interference: return "interference";
  }
  return "?";
}

const std::vector<HostSpec>& host_specs() {
  static const std::vector<HostSpec> specs = make_specs();
  return specs;
}

const HostSpec* find_host_spec(const std::string& name) {
  for (const auto& s : host_specs())
    if (s.name == name) return &s;
  return nullptr;
}

double host_cpu_bound(const HostSpec& s, const HostConfig& c) {
  const int k = std::popcount(c.rps);
  const bool rfs = c.rfs && k > 0;
  const double w_rx = ((c.gro ? 1.5 : 3.6) + 0.0002 * c.mtu) * (rfs ? 0.85 : 1.0);
  const double steered = rfs ? 0.5 : 0.0;   // share of the rx stack RFS moves to the app core
  double load[64] = {};
  load[s.irq_cpu] += 0.2 + 1.2 / std::sqrt(1.0 + c.rx_usecs / 2.0) + 0.03 * std::log2(c.ring / 256.0) +
                     (k == 0 ? w_rx : 0.1 + 0.015 * k);
  load[s.crypto_cpu] += 1.0 + 0.0006 * c.mtu;
  load[s.app_cpu] += 0.0004 * c.mtu;
  auto speed = [&](int i) { return s.numa_split > 0 && i >= s.numa_split ? 1.3 : 1.0; };
  if (k > 0) {
    load[s.app_cpu] += steered * w_rx * speed(s.app_cpu);
    for (int i = 0; i < s.cpus; ++i)
      if ((c.rps >> i) & 1u) load[i] += (1.0 - steered) * w_rx / k * speed(i);
  }
  double norm8 = 0;
  for (int i = 0; i < s.cpus; ++i) norm8 += std::pow(load[i], 8.0);
  const double t_cpu = (c.mtu - 52.0) * 8.0 / std::pow(norm8, 1.0 / 8.0) / 1000.0;
  const double t_line = s.link_gbps * (c.mtu - 52.0) / (c.mtu + 118.0);
  return softmin4(t_cpu, t_line);
}

double host_window(const HostSpec& s, double t, double rmem) {
  const double t_win = s.streams * (rmem / 2.0) * 8.0 / s.rtt / 1e9;
  const double r = rmem / s.mem_knee;
  return softmin4(t, t_win) / (1.0 + 0.05 * r * r);
}

double host_loss_factor(const HostSpec& s, const HostConfig& c) {
  const int k = std::popcount(c.rps);
  const double squeeze = std::sqrt(300.0 / c.budget);
  double p_backlog = 0, m_backlog = 1;
  if (k > 0) {   // without RPS, NAPI delivers directly and the backlog is never used
    const double q = (c.gro ? 6000.0 : 16000.0) * s.burst_scale / k * squeeze;
    p_backlog = 0.005 * std::max(0.0, 1.0 - c.backlog / q);
    m_backlog = 1.0 - 0.004 * std::log2(std::max(1.0, c.backlog / q));
  }
  const double r_need = 1200.0 * squeeze * (1.0 + c.rx_usecs / 32.0) * (k > 0 ? 0.6 : 1.0);
  const double p_miss = 0.002 * std::max(0.0, 1.0 - c.ring / r_need);
  const double loss = s.path_loss + p_backlog + p_miss;
  const auto& cq = kCcQdisc[index_in(kCcs, c.cc)][index_in(kQdiscs, c.qdisc)];
  const double m_loss = cq[1] / (1.0 + cq[0] * 400.0 * loss);
  const double m_budget = 1.0 - 0.00003 * std::max(0.0, c.budget - 300.0);
  const double m_coal = 1.0 - 0.0003 * c.rx_usecs;
  return m_loss * m_backlog * m_budget * m_coal;
}

std::optional<double> host_goodput(const HostSpec& s, const HostConfig& c) {
  if (c.mtu > s.path_mtu) return std::nullopt;   // larger packets are dropped silently on the path
  return host_window(s, host_cpu_bound(s, c), c.rmem) * host_loss_factor(s, c);
}

opt::Space host_space(const HostSpec& s) {
  opt::Space sp;
  sp.add(Param::mask("rps", s.cpus))
      .add(Param::boolean("rfs").when("rps", {opt::Value{std::int64_t{0}}}, true))
      .add(Param::pow2("backlog", 1024, 65536));
  if (s.has_budget) sp.add(Param::integer("budget", 100, 1000, 100));
  sp.add(Param::pow2("ring", 256, s.ring_max))
      .add(Param::pow2("rmem", 65536, 134217728))
      .add(Param::integer("mtu", s.mtu_min, s.mtu_max, s.mtu_step))
      .add(Param::boolean("gro"))
      .add(Param::categorical("cc", kCcs))
      .add(Param::categorical("qdisc", kQdiscs));
  if (s.has_coalesce) sp.add(Param::integer("rx_usecs", 1, 256, 1, true));
  return sp;
}

HostConfig host_config(const HostSpec& s, const Config& c) {
  HostConfig h;
  h.rps = static_cast<std::uint32_t>(std::get<std::int64_t>(c.at("rps")));
  const auto rfs = c.find("rfs");
  h.rfs = rfs != c.end() && std::get<bool>(rfs->second);
  h.backlog = num(c, "backlog");
  if (s.has_budget) h.budget = num(c, "budget");
  h.ring = num(c, "ring");
  h.rmem = num(c, "rmem");
  h.mtu = num(c, "mtu");
  h.gro = std::get<bool>(c.at("gro"));
  h.cc = std::get<std::string>(c.at("cc"));
  h.qdisc = std::get<std::string>(c.at("qdisc"));
  if (s.has_coalesce) h.rx_usecs = num(c, "rx_usecs");
  return h;
}

Config host_start(const HostSpec& s) {
  const HostConfig d;
  Config c{{"rps", std::int64_t{0}},          {"backlog", std::int64_t(d.backlog)},
           {"ring", std::int64_t(d.ring)},    {"rmem", std::int64_t(d.rmem)},
           {"mtu", std::int64_t(d.mtu)},      {"gro", d.gro},
           {"cc", d.cc},                      {"qdisc", d.qdisc}};
  if (s.has_budget) c["budget"] = std::int64_t(d.budget);
  if (s.has_coalesce) c["rx_usecs"] = std::int64_t(d.rx_usecs);
  return c;
}

namespace {

// One representative mask per class of masks with the same multiset of per-core loads: which of the
// IRQ, crypto and app cores are in, and how many other cores of each NUMA node.
std::vector<std::uint32_t> mask_classes(const HostSpec& s) {
  std::vector<int> local, remote;
  for (int i = 0; i < s.cpus; ++i) {
    if (i == s.irq_cpu || i == s.crypto_cpu || i == s.app_cpu) continue;
    (s.numa_split > 0 && i >= s.numa_split ? remote : local).push_back(i);
  }
  std::vector<int> special = {s.irq_cpu, s.crypto_cpu};
  if (s.app_cpu != s.crypto_cpu) special.push_back(s.app_cpu);
  std::vector<std::uint32_t> out;
  for (std::uint32_t sub = 0; sub < (1u << special.size()); ++sub)
    for (size_t nl = 0; nl <= local.size(); ++nl)
      for (size_t nr = 0; nr <= remote.size(); ++nr) {
        std::uint32_t m = 0;
        for (size_t j = 0; j < special.size(); ++j)
          if ((sub >> j) & 1u) m |= 1u << special[j];
        for (size_t j = 0; j < nl; ++j) m |= 1u << local[j];
        for (size_t j = 0; j < nr; ++j) m |= 1u << remote[j];
        out.push_back(m);
      }
  return out;
}

template <class F>
void for_pow2(double lo, double hi, F f) {
  for (double v = lo; v <= hi; v *= 2) f(v);
}

}  // namespace

HostOptimum enumerate_host(const HostSpec& s) {
  HostOptimum out;
  const auto masks = mask_classes(s);
  std::vector<double> rxs = {8};
  if (s.has_coalesce) {
    rxs.clear();
    for (int r = 1; r <= 256; ++r) rxs.push_back(r);
  }
  std::vector<double> budgets = {300};
  if (s.has_budget) {
    budgets.clear();
    for (int b = 100; b <= 1000; b += 100) budgets.push_back(b);
  }
  HostConfig c;
  c.mtu = s.path_mtu;   // (1): the largest MTU the path carries
  for (int k = 0; k <= s.cpus; ++k)
    for (int gro = 0; gro < 2; ++gro)
      for_pow2(256, double(s.ring_max), [&](double ring) {
        for (double rx : rxs) {
          c.gro = gro == 1, c.ring = ring, c.rx_usecs = rx;
          // (2), (3): the best CPU bound over the masks with k CPUs and rfs ...
          double t_best = -1;
          HostConfig t_arg = c;
          for (std::uint32_t m : masks) {
            if (std::popcount(m) != k) continue;
            for (int rfs = 0; rfs < (k > 0 ? 2 : 1); ++rfs) {
              c.rps = m, c.rfs = rfs == 1;
              const double t = host_cpu_bound(s, c);
              ++out.evaluated;
              if (t > t_best) t_best = t, t_arg = c;
            }
          }
          if (t_best < 0) continue;
          // ... the best window for it, and the best loss factor for (k, gro, ring, rx).
          double w_best = -1, rmem_arg = 0;
          for_pow2(65536, 134217728, [&](double rmem) {
            const double w = host_window(s, t_best, rmem);
            ++out.evaluated;
            if (w > w_best) w_best = w, rmem_arg = rmem;
          });
          double l_best = -1;
          HostConfig l_arg = t_arg;
          for_pow2(1024, 65536, [&](double backlog) {
            for (double budget : budgets)
              for (const auto& cc : kCcs)
                for (const auto& q : kQdiscs) {
                  HostConfig h = t_arg;
                  h.backlog = backlog, h.budget = budget, h.cc = cc, h.qdisc = q;
                  const double l = host_loss_factor(s, h);
                  ++out.evaluated;
                  if (l > l_best) l_best = l, l_arg = h;
                }
          });
          if (w_best * l_best > out.goodput) {
            out.goodput = w_best * l_best;
            out.best = l_arg;
            out.best.rmem = rmem_arg;
          }
        }
      });
  return out;
}

}  // namespace wgopt::bench

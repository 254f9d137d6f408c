#pragma once
// WireGuard-shaped benchmark problems of several sizes (issue 13): wg_host2, wg_host4, wg_host8 and
// wg_host16, one simulated receiving host each, f = -goodput (Gbit/s) of `iperf3 -P streams`
// through one WireGuard peer. The Python twin is `wg_host` in bench/optuna/problems.py (kept equal
// by `bench_optimizer --reference-points` / `run_optuna.py --check`).
//
// What these spaces have that the textbook functions lack, each taken from the field guide:
//   - a feasibility cliff with the optimum on its edge: goodput rises with the tunnel MTU (fewer
//     packets per byte), and one grid step above the largest MTU the path carries black-holes the
//     tunnel: a FAILED trial (nullopt);
//   - a CPU mask (`rps`, one bit per CPU, 16 bits on the 16-CPU host) whose value is in its
//     structure: how many cores share the rx stack, whether the NIC's IRQ core, the peer's crypto
//     core (the single-flow ceiling) or the iperf3 core are in it, and on the 16-CPU host whether
//     the cores are on the NIC's NUMA node (remote cores do the same work 1.3x slower);
//   - pow2 ranges (backlog, ring, rmem) and a log range (rx interrupt coalescing, 1..256 us);
//   - a categorical interaction: congestion control x qdisc (bbr paces badly without fq; fq also
//     softens cubic's and reno's bursts) and its dependence on the path's loss rate;
//   - noise that is not Gaussian on two of them (Student-t with 3 degrees of freedom; interference:
//     one measurement in ten loses 10..50% of its goodput to a neighbour's burst).
//
// The model, per received packet (microseconds):
//   IRQ core     0.2 + 1.2/sqrt(1 + rx_usecs/2)   (interrupt cost, amortised by coalescing)
//                + 0.03 log2(ring/256)            (cache misses of a larger ring)
//                + without RPS the whole rx stack; with RPS 0.1 + 0.015 per mask CPU (steering IPIs)
//   crypto core  1.0 + 0.0006 mtu                 (the peer's decryption, serialised per peer)
//   app core     0.0004 mtu                       (copy to iperf3)
//   rx stack     w = (gro ? 1.5 : 3.6) + 0.0002 mtu, x0.85 with RFS; with RPS spread evenly over the
//                mask's CPUs, except that RFS steers half of it to the app core (where iperf3 reads);
//                a CPU on the remote NUMA node takes 1.3x as long for its share.
//   CPU bound    (mtu - 52) * 8 / ||loads||_8 / 1000 Gbit/s (a smooth busiest-core bound), soft-min
//                (p = 4) with the line rate link * (mtu - 52) / (mtu + 118) (WireGuard + Ethernet
//                framing); then soft-min with the window bound streams * rmem/2 * 8 / rtt, times the
//                memory pressure 1 / (1 + 0.05 (rmem / mem_knee)^2).
//   Loss         path_loss + backlog drops + ring misses:
//                backlog (RPS only): burst q = (gro ? 6000 : 16000) * burst_scale / popcount *
//                sqrt(300/budget); drops 0.005 * max(0, 1 - backlog/q); a backlog above q costs
//                0.4% per doubling (latency);
//                ring: need = 1200 * sqrt(300/budget) * (1 + rx_usecs/32) * (RPS ? 0.6 : 1);
//                misses 0.002 * max(0, 1 - ring/need);
//                factor eff / (1 + sens * 400 * loss) with (sens, eff) per cc x qdisc (kCcQdisc);
//                netdev_budget above 300 costs 0.003% per unit, coalescing 0.03% per us.
//   Without RPS, rfs is inactive (a conditional parameter). Knobs a host does not expose take their
//   defaults: budget 300, rx_usecs 8.
//
// Optimum, by an exact argument plus enumeration (enumerate_host): (1) for fixed other knobs the
// goodput rises strictly with the MTU (the CPU bound's derivative has the sign of
// sum_i l_i^7 (a_i + 52 b_i) > 0 for per-core loads l_i = a_i + b_i mtu with a_i, b_i >= 0; the line
// rate bound rises; the loss factor does not depend on the MTU), so the best MTU is the largest the
// path carries; (2) the CPU bound depends on the mask only through the multiset of per-core loads,
// so one representative mask per class (which of IRQ/crypto/app cores, how many other local and
// remote cores) stands for all; (3) goodput = W(T) x L where T (CPU bound) depends on
// mask/rfs/gro/ring/rx_usecs, W (window) is increasing in T and alone depends on rmem, and L (loss)
// depends on popcount/gro/ring/rx_usecs/backlog/budget/cc/qdisc: for each (popcount, gro, ring,
// rx_usecs) the best is W(max T) x max L. The self-test checks (1) and (2) on random configurations.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "optimizer/space.hpp"

namespace wgopt::bench {

enum class NoiseKind { gaussian, student_t, interference };
const char* to_string(NoiseKind k);

struct HostSpec {
  std::string name;
  int cpus = 4;
  int irq_cpu = 0, crypto_cpu = 1, app_cpu = 3;   // app_cpu may equal crypto_cpu (2-CPU host)
  int numa_split = 0;                             // CPUs >= this are on the remote node; 0: one node
  int mtu_min = 1280, mtu_max = 1500, mtu_step = 10, path_mtu = 1420;
  std::int64_t ring_max = 8192;
  bool has_budget = true, has_coalesce = false;
  double rtt = 0.020, path_loss = 1e-4, link_gbps = 10, mem_knee = 33554432, burst_scale = 1;
  int streams = 8;
  NoiseKind noise = NoiseKind::gaussian;
  double fstar = 0;   // -goodput at the optimum (enumerate_host), recorded in the spec
};

// The specs by problem name (wg_host2, wg_host4, wg_host8, wg_host16), in that order.
const std::vector<HostSpec>& host_specs();
const HostSpec* find_host_spec(const std::string& name);   // nullptr if unknown

struct HostConfig {
  std::uint32_t rps = 0;
  bool rfs = false;
  double backlog = 1024, budget = 300, ring = 256, rmem = 4194304, mtu = 1280;
  bool gro = true;
  std::string cc = "cubic", qdisc = "pfifo_fast";
  double rx_usecs = 8;
};

// Goodput in Gbit/s; nullopt when the MTU black-holes the tunnel.
std::optional<double> host_goodput(const HostSpec& s, const HostConfig& c);
HostConfig host_config(const HostSpec& s, const opt::Config& c);   // from a Config of host_space(s)
opt::Space host_space(const HostSpec& s);
opt::Config host_start(const HostSpec& s);   // kernel defaults, NetBird's MTU 1280, no RPS

// The parts of the model the enumeration factorises (see above); host_goodput = window * loss.
double host_cpu_bound(const HostSpec& s, const HostConfig& c);   // T, Gbit/s
double host_window(const HostSpec& s, double t, double rmem);    // W(T, rmem), Gbit/s
double host_loss_factor(const HostSpec& s, const HostConfig& c); // L, in (0, 1]

struct HostOptimum {
  HostConfig best;
  double goodput = 0;
  long evaluated = 0;   // model evaluations the enumeration made
};
HostOptimum enumerate_host(const HostSpec& s);

}  // namespace wgopt::bench

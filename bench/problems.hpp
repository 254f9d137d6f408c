#pragma once
// Benchmark problems for the optimizer: pure functions with a known minimum, each with its search
// space in the optimizer's own types. Definitions follow ../shared/design/BENCHMARKS.md; the Python
// twin for the Optuna side-by-side is bench/optuna/problems.py (kept equal: `bench_optimizer
// --reference-points` prints values that `run_optuna.py`'s problems must reproduce).
//
// Everything is minimised. f(config) returns nullopt when the configuration FAILS (wg_sim: an MTU
// above the path MTU black-holes the tunnel); a failed configuration's noise-free value for regret
// is Problem::failed_value (zero throughput).
//
// The simulated WireGuard host (wg_sim), f = -goodput in Gbit/s of `iperf3 -P 8` through one
// wireguard peer on a 4-vCPU receiver, 20 ms RTT, following the field guide's physics:
//   - per-packet costs in microseconds: NIC IRQ/NAPI on CPU 0 (0.5, plus cache misses that grow with
//     log2 of the rx ring), decryption of the single peer on CPU 1 (1.0 + 0.0006*mtu: the single-flow
//     ceiling), the iperf3 receiver on CPU 3 (0.0004*mtu), the rx stack (1.5 with GRO, 3.6 without;
//     -15% with RFS) on CPU 0 without RPS or spread over the `rps` mask (plus 0.1 on CPU 0 to steer);
//     packet rate = 1 / (8-norm of the per-CPU loads), a smooth "busiest core" bound;
//   - bytes per packet: MSS = mtu - 52, so a larger MTU means fewer packets per byte; mtu > 1420
//     (underlay 1500 minus 80 bytes of framing) black-holes: a failed trial;
//   - TCP window: 8 streams x rmem/2 per RTT, soft-min with the CPU bound; rmem near 128 MB regresses
//     (memory pressure factor 1 / (1 + 0.05 (rmem / 32 MB)^2));
//   - RPS backlog: per-CPU burst (6000 skbs with GRO, 16000 without) / popcount(rps) *
//     sqrt(300 / budget); a backlog below it drops packets, one far above it costs latency;
//     netdev_budget above 300 steals time from user space (-0.003% per unit);
//   - rx ring vs rx_missed: the ring needed grows with CPU 0's share of the busiest load;
//   - loss = 1e-4 (path) + backlog drops + ring misses, throughput factor eff / (1 + s * 400 * loss)
//     with (s, eff) = cubic (1, 1), reno (1.6, 0.99), bbr (0.15, 0.965: pacing without fq).
// Its optimum, by enumeration of all 17,811,360 configurations (14,061,600 feasible; 21% fail):
// rps=13 (CPUs 0,2,3: everything but the crypto core), rfs, backlog 2048, budget 300, ring 1024,
// rmem 8 MB, mtu 1420, gro on, cubic: 5.5977 Gbit/s. The host's start (kernel defaults, NetBird's
// MTU 1280): 2.675 Gbit/s.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench/wg_hosts.hpp"
#include "optimizer/space.hpp"

namespace wgopt::bench {

struct Problem {
  std::string name;
  opt::Space space;
  double fstar = 0;                     // the known minimum
  // Noise-free objective; nullopt means the configuration fails.
  std::function<std::optional<double>(const opt::Config&)> f;
  double failed_value = 0;              // noise-free value of a failed configuration, for regret
  bool absolute_noise = false;          // true: noise sd = level / 100; false: level% of |fstar|
  // The noise's shape (its scale is the sd above): gaussian; student_t (t with 3 degrees of freedom,
  // scaled to that sd); interference (gaussian, and one measurement in ten also loses 10..50% of
  // its value's magnitude, as when a neighbour's burst shares the link). See harness.hpp.
  NoiseKind noise_kind = NoiseKind::gaussian;
  std::optional<opt::Config> start;     // the "host's current configuration", if the problem has one
};

// The benchmark problems by name: branin, hartmann6, mixed_hartmann6, wg_sim, quadratic20, and the
// WireGuard-shaped hosts of wg_hosts.hpp: wg_host2, wg_host4, wg_host8, wg_host16.
// Throws wgopt::UsageError naming the problem and listing the valid names on any other name.
Problem make_problem(const std::string& name);
std::vector<std::string> problem_names();   // the names make_problem accepts

// Standard Hartmann6 on [0,1]^6 (minimum -3.32237).
double hartmann6(const double x[6]);

// wg_sim's inputs in the host's units; rfs is ignored when rps == 0 (it is conditional on RPS).
struct WgConfig {
  int rps = 0;                 // RPS mask over 4 CPUs, 0..15
  bool rfs = false;
  double backlog = 1024;       // net.core.netdev_max_backlog
  double budget = 300;         // net.core.netdev_budget
  double ring = 256;           // rx ring entries
  double rmem = 4194304;       // tcp_rmem max, bytes
  double mtu = 1280;           // WireGuard interface MTU
  bool gro = true;
  std::string cc = "cubic";    // cubic | reno | bbr
};
// Goodput in Gbit/s, or nullopt when the MTU black-holes the tunnel.
std::optional<double> wg_goodput(const WgConfig& c);
WgConfig wg_config(const opt::Config& c);   // from a Config of wg_sim's space

// The enumerated optimum of wg_sim (about a second: 17.8 M configurations).
struct WgOptimum {
  WgConfig best;
  double goodput = 0;
  long configs = 0, feasible = 0;
};
WgOptimum enumerate_wg();

}  // namespace wgopt::bench

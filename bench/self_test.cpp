#include "bench/self_test.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/harness.hpp"
#include "bench/problems.hpp"
#include "common/error.hpp"
#include "optimizer/strategy.hpp"

namespace wgopt::bench {
namespace {

struct Checker {
  std::ostream& out;
  int failures = 0;
  void check(bool ok, const std::string& what) {
    out << (ok ? "ok   " : "FAIL ") << what << "\n";
    if (!ok) ++failures;
  }
  void near(double got, double want, double tol, const std::string& what) {
    check(std::abs(got - want) <= tol, fmt::format("{}: {:.9g} (want {:.9g} +- {:g})", what, got, want, tol));
  }
};

double mixed_at(int k3, int k4, int cat, bool b, double c1, double c2) {
  static constexpr double pos[4] = {0.62, 0.12, 0.87, 0.37};
  const double x[6] = {c1, c2, (k3 + 0.5) / 16.0, (k4 + 0.5) / 16.0, pos[cat], b ? 0.75 : 0.25};
  return hartmann6(x);
}

// Minimum over (c1, c2) in [0,1]^2 for one discrete combination: grid, then compass search.
double mixed_min_over_reals(int k3, int k4, int cat, bool b) {
  double best = 1e300, c1 = 0, c2 = 0;
  for (int i = 0; i <= 40; ++i)
    for (int j = 0; j <= 40; ++j) {
      const double v = mixed_at(k3, k4, cat, b, i / 40.0, j / 40.0);
      if (v < best) best = v, c1 = i / 40.0, c2 = j / 40.0;
    }
  for (double step = 0.025; step > 1e-9;) {
    bool moved = false;
    for (auto [d1, d2] : {std::pair{1, 0}, {-1, 0}, {0, 1}, {0, -1}}) {
      const double a = std::clamp(c1 + d1 * step, 0.0, 1.0), b2 = std::clamp(c2 + d2 * step, 0.0, 1.0);
      const double v = mixed_at(k3, k4, cat, b, a, b2);
      if (v < best) best = v, c1 = a, c2 = b2, moved = true;
    }
    if (!moved) step /= 2;
  }
  return best;
}

std::string describe(const HostConfig& h) {
  return fmt::format("rps={:#x} rfs={} backlog={} budget={} ring={} rmem={} mtu={} gro={} cc={} qdisc={} rx_usecs={}",
                     h.rps, h.rfs, h.backlog, h.budget, h.ring, h.rmem, h.mtu, h.gro, h.cc, h.qdisc, h.rx_usecs);
}

// A WireGuard-shaped host: its recorded f* is the enumerated optimum, the optimum sits on the MTU
// cliff (one step more fails), and the two claims the enumeration rests on hold on random
// configurations: goodput rises with the MTU up to the path's limit, and swapping two ordinary
// CPUs of the same NUMA node in the mask changes nothing.
void check_host(Checker& c, const HostSpec& spec) {
  const HostOptimum o = enumerate_host(spec);
  c.near(-o.goodput, spec.fstar, 1e-12, fmt::format("{} minimum {:.17g} by enumeration ({} evaluations), argmin {}",
                                                    spec.name, -o.goodput, o.evaluated, describe(o.best)));
  c.check(o.best.mtu == spec.path_mtu, fmt::format("{}: the optimum's MTU is the path's largest ({})", spec.name,
                                                   spec.path_mtu));
  HostConfig over = o.best;
  over.mtu = spec.path_mtu + spec.mtu_step;
  c.check(!host_goodput(spec, over).has_value(), fmt::format("{}: MTU {} black-holes the tunnel", spec.name, over.mtu));
  const auto problem = make_problem(spec.name);
  const double start = *problem.f(*problem.start);
  c.check(start > 0.9 * spec.fstar && start < 0.15 * spec.fstar,
          fmt::format("{}: the host's start is poor but works: {:.4f} Gbit/s of {:.4f}", spec.name, -start, -spec.fstar));

  auto random = opt::make_strategy("random", problem.space, {.seed = 99});
  int monotone_bad = 0, symmetry_bad = 0, failed = 0;
  const int n = 3000;
  for (int i = 0; i < n; ++i) {
    const opt::Config cfg = random->ask();
    random->tell(cfg, opt::TrialState::complete, 0);
    HostConfig h = host_config(spec, cfg);
    const auto g = host_goodput(spec, h);
    if (!g) {
      ++failed;
      h.mtu = spec.path_mtu;
    } else {
      HostConfig top = h;
      top.mtu = spec.path_mtu;
      if (h.mtu < spec.path_mtu && !(*host_goodput(spec, top) > *g)) ++monotone_bad;
    }
    // Swap two ordinary CPUs of one node where one is in the mask and the other is not.
    std::vector<int> in, out;
    for (int k = 0; k < spec.cpus; ++k) {
      if (k == spec.irq_cpu || k == spec.crypto_cpu || k == spec.app_cpu) continue;
      if (spec.numa_split > 0 && k >= spec.numa_split) continue;
      ((h.rps >> k) & 1u ? in : out).push_back(k);
    }
    if (!in.empty() && !out.empty()) {
      HostConfig sw = h;
      sw.rps ^= (1u << in.front()) | (1u << out.back());
      if (std::abs(*host_goodput(spec, sw) - *host_goodput(spec, h)) > 1e-12) ++symmetry_bad;
    }
  }
  c.check(monotone_bad == 0 && symmetry_bad == 0,
          fmt::format("{}: goodput rises with the MTU ({} exceptions) and ignores which ordinary CPU ({} exceptions), "
                      "{} random configurations, {:.0f}% failed",
                      spec.name, monotone_bad, symmetry_bad, n, 100.0 * failed / n));
}

}  // namespace

int self_test(std::ostream& out) {
  Checker c{out};
  const double pi = std::numbers::pi;
  const auto branin = make_problem("branin");
  for (auto [x1, x2] : {std::pair{-pi, 12.275}, {pi, 2.275}, {9.42478, 2.475}})
    c.near(*branin.f({{"x1", x1}, {"x2", x2}}), branin.fstar, 1e-5, fmt::format("branin({:.5f}, {})", x1, x2));

  const double xh[6] = {0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573};
  c.near(hartmann6(xh), make_problem("hartmann6").fstar, 1e-5, "hartmann6 at its minimiser");

  double mixed_best = 1e300;
  int arg[4] = {0, 0, 0, 0};
  for (int k3 = 0; k3 < 16; ++k3)
    for (int k4 = 0; k4 < 16; ++k4)
      for (int cat = 0; cat < 4; ++cat)
        for (int b = 0; b < 2; ++b) {
          const double v = mixed_min_over_reals(k3, k4, cat, b == 1);
          if (v < mixed_best) mixed_best = v, arg[0] = k3, arg[1] = k4, arg[2] = cat, arg[3] = b;
        }
  c.near(mixed_best, make_problem("mixed_hartmann6").fstar, 1e-6, "mixed_hartmann6 minimum by enumeration");
  c.check(arg[0] == 7 && arg[1] == 4 && arg[2] == 3 && arg[3] == 1,
          fmt::format("mixed_hartmann6 argmin k3={} k4={} cat={} b={} (want 7 4 3 1)", arg[0], arg[1], arg[2], arg[3]));

  const auto wg = make_problem("wg_sim");
  const WgOptimum opt = enumerate_wg();
  c.near(-opt.goodput, wg.fstar, 1e-12, "wg_sim minimum by enumeration");
  c.check(opt.configs == 17811360 && opt.feasible == 14061600,
          fmt::format("wg_sim configurations {} feasible {} (want 17811360, 14061600)", opt.configs, opt.feasible));
  const WgConfig& b = opt.best;
  c.check(b.rps == 13 && b.rfs && b.backlog == 2048 && b.budget == 300 && b.ring == 1024 &&
              b.rmem == 8388608 && b.mtu == 1420 && b.gro && b.cc == "cubic",
          fmt::format("wg_sim argmin rps={} rfs={} backlog={} budget={} ring={} rmem={} mtu={} gro={} cc={}",
                      b.rps, b.rfs, b.backlog, b.budget, b.ring, b.rmem, b.mtu, b.gro, b.cc));
  WgConfig black_hole = b;
  black_hole.mtu = 1430;
  c.check(!wg_goodput(black_hole).has_value(), "wg_sim: MTU 1430 black-holes the tunnel (a failed trial)");
  c.near(*wg_goodput(wg_config(*wg.start)), 2.6753534648608013, 1e-9, "wg_sim goodput at the host's start");

  for (const auto& spec : host_specs()) check_host(c, spec);

  for (const auto& name : problem_names()) {
    const auto p = make_problem(name);
    const std::string err = p.space.validate();
    c.check(err.empty(), fmt::format("{}: space validates {}", name, err));
    if (p.start) {
      const std::string serr = p.space.validate(*p.start);
      c.check(serr.empty(), fmt::format("{}: start configuration is valid {}", name, serr));
    }
  }
  // Ablation names: a number parsed whole, a bad one refused naming the flag.
  const auto host = make_problem("wg_host2");
  auto refusal = [&](const std::string& strategy) -> std::string {
    try {
      make_bench_strategy(strategy, host.space, {});
    } catch (const UsageError& e) {
      return e.what();
    }
    return {};
  };
  c.check(refusal("bo/sp=4/spe=2/vcapp=0.3").empty(), "bo/sp=4/spe=2/vcapp=0.3 is a valid strategy");
  c.check(refusal("bo/sp=x").find("ablation 'sp=x' needs a number") != std::string::npos, "bo/sp=x is refused naming sp=x");
  c.check(refusal("bo/vcap=0.3x").find("ablation 'vcap=0.3x' needs a number") != std::string::npos, "bo/vcap=0.3x is refused");
  c.check(refusal("bo/spe=1.5").find("needs a whole number") != std::string::npos, "bo/spe=1.5 is refused");
  out << (c.failures == 0 ? "self-test passed\n" : fmt::format("self-test: {} check(s) failed\n", c.failures));
  return c.failures;
}

void print_reference_points(std::ostream& out) {
  std::vector<std::string> names = {"branin", "hartmann6", "mixed_hartmann6", "wg_sim"};
  for (const auto& s : host_specs()) names.push_back(s.name);
  for (const auto& name : names) {
    const auto p = make_problem(name);
    auto random = opt::make_strategy("random", p.space, {.seed = 2026});
    for (int i = 0; i < 25; ++i) {
      const opt::Config cfg = random->ask();
      nlohmann::json params = nlohmann::json::object();
      for (const auto& [k, v] : cfg) std::visit([&](const auto& x) { params[k] = x; }, v);
      const auto f = p.f(cfg);
      nlohmann::json line = {{"problem", name}, {"params", params}};
      line["value"] = f ? nlohmann::json(*f) : nlohmann::json(nullptr);
      out << line.dump() << "\n";
      random->tell(cfg, opt::TrialState::complete, f.value_or(0));
    }
  }
}

}  // namespace wgopt::bench

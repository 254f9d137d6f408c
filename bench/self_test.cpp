#include "bench/self_test.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/problems.hpp"
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

  for (const auto& name : problem_names()) {
    const auto p = make_problem(name);
    const std::string err = p.space.validate();
    c.check(err.empty(), fmt::format("{}: space validates {}", name, err));
    if (p.start) {
      const std::string serr = p.space.validate(*p.start);
      c.check(serr.empty(), fmt::format("{}: start configuration is valid {}", name, serr));
    }
  }
  out << (c.failures == 0 ? "self-test passed\n" : fmt::format("self-test: {} check(s) failed\n", c.failures));
  return c.failures;
}

void print_reference_points(std::ostream& out) {
  for (const auto& name : {"branin", "hartmann6", "mixed_hartmann6", "wg_sim"}) {
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

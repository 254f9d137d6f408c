#include "bench/problems.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "common/error.hpp"

namespace wgopt::bench {
namespace {

using opt::Config;
using opt::Param;

double real_of(const Config& c, const std::string& name) {
  const auto& v = c.at(name);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return static_cast<double>(std::get<std::int64_t>(v));
}
std::int64_t int_of(const Config& c, const std::string& name) { return std::get<std::int64_t>(c.at(name)); }

double branin(double x1, double x2) {
  const double pi = std::numbers::pi;
  const double b = 5.1 / (4.0 * pi * pi), cc = 5.0 / pi, t = 1.0 / (8.0 * pi);
  const double q = x2 - b * x1 * x1 + cc * x1 - 6.0;
  return q * q + 10.0 * (1.0 - t) * std::cos(x1) + 10.0;
}

// Positions of the categorical level along Hartmann6's 5th axis (BENCHMARKS.md).
constexpr double kMixedPos[4] = {0.62, 0.12, 0.87, 0.37};

Problem make_branin() {
  Problem p{.name = "branin", .fstar = 0.397887};
  p.space.add(Param::real("x1", -5, 10)).add(Param::real("x2", 0, 15));
  p.f = [](const Config& c) -> std::optional<double> { return branin(real_of(c, "x1"), real_of(c, "x2")); };
  p.absolute_noise = true;
  return p;
}

Problem make_hartmann6() {
  Problem p{.name = "hartmann6", .fstar = -3.32237};
  for (int j = 1; j <= 6; ++j) p.space.add(Param::real(fmt::format("x{}", j), 0, 1));
  p.f = [](const Config& c) -> std::optional<double> {
    double x[6];
    for (int j = 0; j < 6; ++j) x[j] = real_of(c, fmt::format("x{}", j + 1));
    return hartmann6(x);
  };
  return p;
}

Problem make_mixed_hartmann6() {
  Problem p{.name = "mixed_hartmann6", .fstar = -2.946019};
  p.space.add(Param::real("c1", 0, 1)).add(Param::real("c2", 0, 1));
  p.space.add(Param::integer("k3", 0, 15)).add(Param::integer("k4", 0, 15));
  p.space.add(Param::categorical("cat", {"0", "1", "2", "3"})).add(Param::boolean("b"));
  p.f = [](const Config& c) -> std::optional<double> {
    const int cat = std::stoi(std::get<std::string>(c.at("cat")));
    const double x[6] = {real_of(c, "c1"), real_of(c, "c2"), (int_of(c, "k3") + 0.5) / 16.0,
                         (int_of(c, "k4") + 0.5) / 16.0, kMixedPos[cat],
                         std::get<bool>(c.at("b")) ? 0.75 : 0.25};
    return hartmann6(x);
  };
  return p;
}

Problem make_wg_sim() {
  Problem p{.name = "wg_sim", .fstar = -5.597696884637998};
  p.space.add(Param::mask("rps", 4))
      .add(Param::boolean("rfs").when("rps", {opt::Value{std::int64_t{0}}}, true))
      .add(Param::pow2("backlog", 1024, 65536))
      .add(Param::integer("budget", 100, 1000, 100))
      .add(Param::pow2("ring", 256, 8192))
      .add(Param::pow2("rmem", 65536, 134217728))
      .add(Param::integer("mtu", 1280, 1460, 10))
      .add(Param::boolean("gro"))
      .add(Param::categorical("cc", {"cubic", "reno", "bbr"}));
  p.f = [](const Config& c) -> std::optional<double> {
    const auto g = wg_goodput(wg_config(c));
    if (!g) return std::nullopt;
    return -*g;
  };
  p.failed_value = 0;   // a black-holed tunnel carries nothing
  const WgConfig d;
  p.start = Config{{"rps", std::int64_t{0}},
                   {"backlog", std::int64_t(d.backlog)},
                   {"budget", std::int64_t(d.budget)},
                   {"ring", std::int64_t(d.ring)},
                   {"rmem", std::int64_t(d.rmem)},
                   {"mtu", std::int64_t(d.mtu)},
                   {"gro", d.gro},
                   {"cc", d.cc}};
  return p;
}

// A 20-dimensional sum of shifted quadratics with a different weight per axis: only used to time
// suggestions at d = 20 (its minimum 0 is at x_j = shift_j).
Problem make_quadratic20() {
  Problem p{.name = "quadratic20", .fstar = 0};
  for (int j = 0; j < 20; ++j) p.space.add(Param::real(fmt::format("x{:02}", j), 0, 1));
  p.f = [](const Config& c) -> std::optional<double> {
    double s = 0;
    for (int j = 0; j < 20; ++j) {
      const double d = real_of(c, fmt::format("x{:02}", j)) - (0.2 + 0.03 * j);
      s += (1.0 + 0.25 * j) * d * d;
    }
    return s;
  };
  return p;
}

}  // namespace

double hartmann6(const double x[6]) {
  static constexpr double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static constexpr double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                     {0.05, 10, 17, 0.1, 8, 14},
                                     {3, 3.5, 1.7, 10, 17, 8},
                                     {17, 8, 0.05, 10, 0.1, 14}};
  static constexpr double P[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                     {2329, 4135, 8307, 3736, 1004, 9991},
                                     {2348, 1451, 3522, 2883, 3047, 6650},
                                     {4047, 8828, 8732, 5743, 1091, 381}};
  double total = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) {
      const double d = x[j] - P[i][j] * 1e-4;
      inner += A[i][j] * d * d;
    }
    total += alpha[i] * std::exp(-inner);
  }
  return -total;
}

std::optional<double> wg_goodput(const WgConfig& c) {
  if (c.mtu > 1420) return std::nullopt;   // path MTU 1500 - 80: larger packets are dropped silently
  const int k = std::popcount(static_cast<unsigned>(c.rps));
  auto bit = [&](int i) { return static_cast<double>((c.rps >> i) & 1); };
  const double w_rx = (c.gro ? 1.5 : 3.6) * ((c.rfs && k > 0) ? 0.85 : 1.0);
  const double share = w_rx / std::max(k, 1);
  const double w_irq = 0.5 + 0.03 * std::log2(c.ring / 256.0);
  const double cpu[4] = {w_irq + (k == 0 ? w_rx : 0.1 + bit(0) * share),
                         1.0 + 0.0006 * c.mtu + bit(1) * share,
                         bit(2) * share,
                         0.0004 * c.mtu + bit(3) * share};
  double norm8 = 0;
  for (double l : cpu) norm8 += std::pow(l, 8.0);
  const double load = std::pow(norm8, 1.0 / 8.0);
  const double mss = c.mtu - 52.0;
  const double t_cpu = mss * 8.0 / load / 1000.0;
  const double t_win = 8.0 * (c.rmem / 2.0) * 8.0 / 0.020 / 1e9;
  const double t = std::pow(std::pow(t_cpu, -4.0) + std::pow(t_win, -4.0), -0.25);

  const double squeeze = std::sqrt(300.0 / c.budget);
  double p_backlog = 0, m_backlog = 1;
  if (k > 0) {   // without RPS, NAPI delivers directly and the backlog is never used
    const double q = (c.gro ? 6000.0 : 16000.0) / k * squeeze;
    p_backlog = 0.005 * std::max(0.0, 1.0 - c.backlog / q);
    m_backlog = 1.0 - 0.004 * std::log2(std::max(1.0, c.backlog / q));
  }
  const double busiest = *std::max_element(cpu, cpu + 4);
  const double r_need = 1200.0 * squeeze * (cpu[0] / busiest);
  const double p_miss = 0.002 * std::max(0.0, 1.0 - c.ring / r_need);
  const double loss = 1e-4 + p_backlog + p_miss;
  double sens = 1.0, eff = 1.0;
  if (c.cc == "reno") {
    sens = 1.6, eff = 0.99;
  } else if (c.cc == "bbr") {
    sens = 0.15, eff = 0.965;
  }
  const double m_loss = eff / (1.0 + sens * 400.0 * loss);
  const double r32 = c.rmem / 33554432.0;
  const double m_mem = 1.0 / (1.0 + 0.05 * r32 * r32);
  const double m_budget = 1.0 - 0.00003 * std::max(0.0, c.budget - 300.0);
  return t * m_loss * m_mem * m_backlog * m_budget;
}

WgConfig wg_config(const Config& c) {
  WgConfig w;
  w.rps = static_cast<int>(int_of(c, "rps"));
  const auto rfs = c.find("rfs");
  w.rfs = rfs != c.end() && std::get<bool>(rfs->second);
  w.backlog = real_of(c, "backlog");
  w.budget = real_of(c, "budget");
  w.ring = real_of(c, "ring");
  w.rmem = real_of(c, "rmem");
  w.mtu = real_of(c, "mtu");
  w.gro = std::get<bool>(c.at("gro"));
  w.cc = std::get<std::string>(c.at("cc"));
  return w;
}

WgOptimum enumerate_wg() {
  WgOptimum out;
  WgConfig c;
  for (c.rps = 0; c.rps < 16; ++c.rps)
    for (int rfs = 0; rfs < (c.rps == 0 ? 1 : 2); ++rfs)
      for (c.backlog = 1024; c.backlog <= 65536; c.backlog *= 2)
        for (c.budget = 100; c.budget <= 1000; c.budget += 100)
          for (c.ring = 256; c.ring <= 8192; c.ring *= 2)
            for (c.rmem = 65536; c.rmem <= 134217728; c.rmem *= 2)
              for (c.mtu = 1280; c.mtu <= 1460; c.mtu += 10)
                for (int gro = 0; gro < 2; ++gro)
                  for (const char* cc : {"cubic", "reno", "bbr"}) {
                    c.rfs = rfs == 1;
                    c.gro = gro == 1;
                    c.cc = cc;
                    ++out.configs;
                    const auto g = wg_goodput(c);
                    if (!g) continue;
                    ++out.feasible;
                    if (*g > out.goodput) out.goodput = *g, out.best = c;
                  }
  return out;
}

static Problem make_wg_host(const HostSpec& s) {
  Problem p{.name = s.name, .space = host_space(s), .fstar = s.fstar};
  p.f = [s](const Config& c) -> std::optional<double> {
    const auto g = host_goodput(s, host_config(s, c));
    if (!g) return std::nullopt;
    return -*g;
  };
  p.failed_value = 0;   // a black-holed tunnel carries nothing
  p.noise_kind = s.noise;
  p.start = host_start(s);
  return p;
}

std::vector<std::string> problem_names() {
  std::vector<std::string> names = {"branin", "hartmann6", "mixed_hartmann6", "wg_sim", "quadratic20"};
  for (const auto& s : host_specs()) names.push_back(s.name);
  return names;
}

Problem make_problem(const std::string& name) {
  if (name == "branin") return make_branin();
  if (name == "hartmann6") return make_hartmann6();
  if (name == "mixed_hartmann6") return make_mixed_hartmann6();
  if (name == "wg_sim") return make_wg_sim();
  if (name == "quadratic20") return make_quadratic20();
  if (const HostSpec* s = find_host_spec(name)) return make_wg_host(*s);
  throw UsageError(fmt::format("problem '{}' is unknown: use one of {}", name,
                               fmt::join(problem_names(), ", ")));
}

}  // namespace wgopt::bench

#include "optimizer/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace wgopt::opt {

double Rng::uniform() { return double(eng_() >> 11) * 0x1.0p-53; }
double Rng::uniform(double a, double b) { return a + (b - a) * uniform(); }
double Rng::normal() {
  double u1 = uniform(), u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}
std::uint64_t Rng::below(std::uint64_t n) { return n <= 1 ? 0 : eng_() % n; }

Config random_config(const Space& space, Rng& rng) {
  Config c;
  const auto& ps = space.params();
  for (int i = 0; i < int(ps.size()); ++i) {
    double u = rng.uniform();  // drawn for every param so inactive ones do not shift the stream
    if (space.is_active(i, c)) c[ps[i].name] = space.value_at(i, u);
  }
  return c;
}

namespace {

// 0 .. n-1 in a random order (Fisher-Yates from the top: rng.below(n), below(n - 1), ..., below(2)).
std::vector<size_t> random_permutation(size_t n, Rng& rng) {
  std::vector<size_t> perm(n);
  for (size_t k = 0; k < n; ++k) perm[k] = k;
  for (size_t k = n; k > 1; --k) std::swap(perm[k - 1], perm[rng.below(k)]);
  return perm;
}

}  // namespace

std::vector<Config> latin_hypercube(const Space& space, int n, Rng& rng) {
  const int np = int(space.params().size());
  std::vector<Config> best;
  double best_score = -1;
  for (int attempt = 0; attempt < 20 && n > 0; ++attempt) {
    std::vector<std::vector<double>> u(static_cast<size_t>(np), std::vector<double>(static_cast<size_t>(n)));
    for (int i = 0; i < np; ++i) {
      const auto perm = random_permutation(size_t(n), rng);
      for (int k = 0; k < n; ++k) u[size_t(i)][size_t(k)] = (double(perm[size_t(k)]) + rng.uniform()) / n;
    }
    std::vector<Config> cs;
    std::vector<std::vector<double>> xs;
    for (int k = 0; k < n; ++k) {
      Config c;
      for (int i = 0; i < np; ++i)
        if (space.is_active(i, c)) c[space.params()[i].name] = space.value_at(i, u[size_t(i)][size_t(k)]);
      xs.push_back(space.encode(c));
      cs.push_back(std::move(c));
    }
    double score = std::numeric_limits<double>::infinity();
    for (int a = 0; a < n; ++a)
      for (int b = a + 1; b < n; ++b) {
        double d2 = 0;
        for (size_t j = 0; j < xs[size_t(a)].size(); ++j) {
          double t = xs[size_t(a)][j] - xs[size_t(b)][j];
          d2 += t * t;
        }
        score = std::min(score, d2);
      }
    if (score > best_score) {
      best_score = score;
      best = std::move(cs);
    }
  }
  return best;
}

std::vector<Config> anchor_to_start(const Space& space, std::vector<Config> design, const Config& start, double share, Rng& rng) {
  const size_t n = design.size();
  const size_t k = std::min(n, static_cast<size_t>(std::lround(share * double(n))));
  for (const auto& [name, value] : start) {
    const auto perm = random_permutation(n, rng);
    for (size_t i = 0; i < k; ++i) design[perm[i]][name] = value;
  }
  for (auto& c : design) c = space.complete(std::move(c));
  return design;
}

std::vector<Config> discrete_neighbours(const Space& space, const Config& c) {
  std::vector<Config> out;
  const auto& ps = space.params();
  for (int i = 0; i < int(ps.size()); ++i) {
    const auto& p = ps[i];
    auto it = c.find(p.name);
    if (it == c.end()) continue;
    auto with = [&](Value v) {
      Config n = c;
      n[p.name] = std::move(v);
      out.push_back(space.complete(std::move(n)));
    };
    switch (p.type) {
      case ParamType::real: break;
      case ParamType::integer: {
        auto v = std::get<std::int64_t>(it->second);
        if (double(v - p.step) >= p.min) with(v - p.step);
        if (double(v + p.step) <= p.max) with(v + p.step);
        break;
      }
      case ParamType::pow2: {
        const auto v = std::get<std::int64_t>(it->second);
        const std::int64_t up = v == 0 ? p.first_on : v * 2;  // with min 0, first_on is the level above 0
        const std::int64_t down = p.min == 0 && v == p.first_on ? 0 : v / 2;  // and 0 the level below it
        if (v > 0 && double(down) >= p.min) with(down);
        if (double(up) <= p.max) with(up);
        break;
      }
      case ParamType::categorical:
        for (const auto& ch : p.choices)
          if (ch != std::get<std::string>(it->second)) with(ch);
        break;
      case ParamType::boolean: with(!std::get<bool>(it->second)); break;
      case ParamType::mask: {
        auto v = std::get<std::int64_t>(it->second);
        for (int b = 0; b < p.bits; ++b) with(v ^ (std::int64_t{1} << b));
        break;
      }
    }
  }
  return out;
}

std::vector<Config> one_change_returned(const Space& space, const Config& c, const Config& start) {
  std::vector<Config> out;
  for (const auto& [name, value] : c) {
    auto it = start.find(name);
    if (it == start.end() || it->second == value) continue;
    Config r = c;
    r[name] = it->second;
    out.push_back(space.complete(std::move(r)));
  }
  return out;
}

double unit_position(const Space& space, int i, const Config& c) {
  const auto& p = space.params()[i];
  auto it = c.find(p.name);
  if (it == c.end()) return 0.5;
  switch (p.type) {
    case ParamType::real:
    case ParamType::integer:
    case ParamType::pow2: return space.encode(c)[size_t(space.offset(i))];
    case ParamType::categorical: {
      auto k = std::find(p.choices.begin(), p.choices.end(), std::get<std::string>(it->second)) - p.choices.begin();
      return (double(k) + 0.5) / double(p.choices.size());
    }
    case ParamType::boolean: return std::get<bool>(it->second) ? 0.75 : 0.25;
    case ParamType::mask:
      return double(std::get<std::int64_t>(it->second)) / double((std::int64_t{1} << p.bits) - 1);
  }
  return 0.5;
}

Config perturb(const Space& space, const Config& c, double scale, Rng& rng) {
  Config out;
  const auto& ps = space.params();
  const double p_change = 1.0 / double(ps.size());
  for (int i = 0; i < int(ps.size()); ++i) {
    const auto& p = ps[i];
    double z = rng.normal(), coin = rng.uniform(), pick = rng.uniform();
    if (!space.is_active(i, out)) continue;
    auto it = c.find(p.name);
    if (it == c.end()) {
      out[p.name] = space.value_at(i, pick);
      continue;
    }
    switch (p.type) {
      case ParamType::real:
      case ParamType::integer:
      case ParamType::pow2:
        out[p.name] = space.value_at(i, std::clamp(unit_position(space, i, c) + scale * z, 0.0, 1.0));
        break;
      case ParamType::categorical:
      case ParamType::boolean:
        out[p.name] = coin < p_change ? space.value_at(i, pick) : it->second;
        break;
      case ParamType::mask: {
        auto v = std::get<std::int64_t>(it->second);
        if (coin < p_change) v ^= std::int64_t{1} << rng.below(std::uint64_t(p.bits));
        out[p.name] = v;
        break;
      }
    }
  }
  return out;
}

}  // namespace wgopt::opt

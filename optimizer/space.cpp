#include "optimizer/space.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace wgopt::opt {

namespace {

bool is_pow2(double v) {
  if (v < 1 || v > 4.6e18 || v != std::floor(v)) return false;
  auto u = static_cast<std::uint64_t>(v);
  return (u & (u - 1)) == 0;
}

int log2_exact(std::int64_t v) {
  int k = 0;
  while ((std::int64_t{1} << k) < v) ++k;
  return k;
}

// Numeric view of a value, for comparisons between int64 and double.
std::optional<double> as_number(const Value& v) {
  if (auto d = std::get_if<double>(&v)) return *d;
  if (auto i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return std::nullopt;
}

bool values_equal(const Value& a, const Value& b) {
  auto na = as_number(a), nb = as_number(b);
  if (na && nb) return *na == *nb;
  return a == b;
}

// A pow2 parameter's levels: min, 2*min, ..., max; with min 0, 0 ("off") then first_on (1 unless
// set), 2*first_on, ..., max.
int pow2_level(const Param& p, std::int64_t v) {
  if (p.min == 0) return v <= 0 ? 0 : log2_exact(v) - log2_exact(p.first_on) + 1;
  return log2_exact(v) - log2_exact(std::int64_t(p.min));
}
std::int64_t pow2_value(const Param& p, int level) {
  if (p.min == 0) return level <= 0 ? 0 : p.first_on << (level - 1);
  return std::int64_t{1} << (log2_exact(std::int64_t(p.min)) + level);
}

// The last value on an integer grid (max may not be on it).
std::int64_t grid_max(const Param& p) {
  auto lo = static_cast<std::int64_t>(p.min), hi = static_cast<std::int64_t>(p.max);
  return lo + (hi - lo) / p.step * p.step;
}

// Position in [0, 1] of a numeric value along the parameter's scale.
double unit_of(const Param& p, double v) {
  double lo = p.min, hi = p.max;
  if (p.type == ParamType::integer) hi = static_cast<double>(grid_max(p));
  if (p.type == ParamType::pow2) return double(pow2_level(p, std::int64_t(v))) / double(pow2_level(p, std::int64_t(hi)));
  if (hi == lo) return 0;
  if (p.log) return (std::log(v) - std::log(lo)) / (std::log(hi) - std::log(lo));
  if (p.type == ParamType::integer) return double((std::int64_t(v) - std::int64_t(lo)) / p.step) /
                                           double((std::int64_t(hi) - std::int64_t(lo)) / p.step);
  return (v - lo) / (hi - lo);
}

}  // namespace

std::string to_string(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, double>) return fmt::format("{:.6g}", x);
        else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::string>) return x;
        else return fmt::format("{}", x);
      },
      v);
}

std::string to_string(const Config& c) {
  std::string out = "{";
  for (const auto& [k, v] : c) {
    if (out.size() > 1) out += ", ";
    out += k + "=" + to_string(v);
  }
  return out + "}";
}

const char* to_string(ParamType t) {
  switch (t) {
    case ParamType::real: return "real";
    case ParamType::integer: return "int";
    case ParamType::pow2: return "pow2";
    case ParamType::categorical: return "categorical";
    case ParamType::boolean: return "bool";
    case ParamType::mask: return "mask";
  }
  return "?";
}

Param Param::real(std::string name, double min, double max, bool log) {
  return Param{.name = std::move(name), .type = ParamType::real, .min = min, .max = max, .log = log};
}
Param Param::integer(std::string name, std::int64_t min, std::int64_t max, std::int64_t step, bool log) {
  return Param{.name = std::move(name), .type = ParamType::integer, .min = double(min), .max = double(max),
               .log = log, .step = step};
}
Param Param::pow2(std::string name, std::int64_t min, std::int64_t max) {
  return Param{.name = std::move(name), .type = ParamType::pow2, .min = double(min), .max = double(max)};
}
Param Param::categorical(std::string name, std::vector<std::string> choices) {
  return Param{.name = std::move(name), .type = ParamType::categorical, .choices = std::move(choices)};
}
Param Param::boolean(std::string name) { return Param{.name = std::move(name), .type = ParamType::boolean}; }
Param Param::mask(std::string name, int bits) {
  return Param{.name = std::move(name), .type = ParamType::mask, .bits = bits};
}
Param Param::when(std::string parent, std::vector<Value> values, bool negate) && {
  condition = Condition{std::move(parent), std::move(values), negate};
  return std::move(*this);
}

std::int64_t Param::levels() const {
  switch (type) {
    case ParamType::real: return 0;
    case ParamType::integer: return (grid_max(*this) - std::int64_t(min)) / step + 1;
    case ParamType::pow2: return pow2_level(*this, std::int64_t(max)) + 1;
    case ParamType::categorical: return std::int64_t(choices.size());
    case ParamType::boolean: return 2;
    case ParamType::mask: return std::int64_t{1} << bits;
  }
  return 0;
}

int Param::encoded_dims() const {
  if (type == ParamType::categorical) return int(choices.size());
  if (type == ParamType::mask) return bits;
  return 1;
}

Space::Space(std::vector<Param> params) : params_(std::move(params)) {}

Space& Space::add(Param p) {
  params_.push_back(std::move(p));
  return *this;
}

int Space::index_of(const std::string& name) const {
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].name == name) return int(i);
  return -1;
}

int Space::dims() const {
  int d = 0;
  for (const auto& p : params_) d += p.encoded_dims();
  return d;
}

int Space::offset(int i) const {
  int d = 0;
  for (int j = 0; j < i; ++j) d += params_[j].encoded_dims();
  return d;
}

namespace {

// Empty if v is a valid value of p, else the reason.
std::string check_value(const Param& p, const Value& v) {
  switch (p.type) {
    case ParamType::real: {
      auto n = as_number(v);
      if (!n) return fmt::format("'{}' is not a number", to_string(v));
      if (!std::isfinite(*n) || *n < p.min || *n > p.max)
        return fmt::format("{} is outside [{}, {}]", to_string(v), p.min, p.max);
      return {};
    }
    case ParamType::integer:
    case ParamType::pow2:
    case ParamType::mask: {
      auto i = std::get_if<std::int64_t>(&v);
      if (!i) return fmt::format("'{}' is not an integer", to_string(v));
      if (p.type == ParamType::mask) {
        if (*i < 0 || *i >= (std::int64_t{1} << p.bits))
          return fmt::format("{} is outside 0 .. {}", *i, (std::int64_t{1} << p.bits) - 1);
        return {};
      }
      if (double(*i) < p.min || double(*i) > p.max)
        return fmt::format("{} is outside [{}, {}]", *i, p.min, p.max);
      if (p.type == ParamType::pow2 && !is_pow2(double(*i)) && !(*i == 0 && p.min == 0))
        return fmt::format("{} is not a power of two{}", *i, p.min == 0 ? " or 0" : "");
      if (p.type == ParamType::pow2 && p.min == 0 && *i > 0 && *i < p.first_on)
        return fmt::format("{} is between 0 (off) and the least value above it, {}", *i, p.first_on);
      if (p.type == ParamType::integer && (*i - std::int64_t(p.min)) % p.step != 0)
        return fmt::format("{} is not on the grid {} + k*{}", *i, std::int64_t(p.min), p.step);
      return {};
    }
    case ParamType::categorical: {
      auto s = std::get_if<std::string>(&v);
      if (!s || std::find(p.choices.begin(), p.choices.end(), *s) == p.choices.end())
        return fmt::format("'{}' is not one of the choices", to_string(v));
      return {};
    }
    case ParamType::boolean:
      if (!std::holds_alternative<bool>(v)) return fmt::format("'{}' is not true or false", to_string(v));
      return {};
  }
  return "unknown type";
}

std::string check_param(const Param& p) {
  auto bad = [&](const std::string& why) { return fmt::format("param '{}': {}", p.name, why); };
  switch (p.type) {
    case ParamType::real:
      if (!std::isfinite(p.min) || !std::isfinite(p.max)) return bad("min and max must be finite numbers");
      if (!(p.min < p.max)) return bad(fmt::format("min {} must be less than max {}", p.min, p.max));
      // -1e308..1e308: the width overflows to inf and every decoded value is NaN.
      if (!std::isfinite(p.max - p.min)) return bad(fmt::format("max - min ({} - {}) must be a finite number", p.max, p.min));
      if (p.log && p.min <= 0) return bad(fmt::format("log scale needs min > 0 (min is {})", p.min));
      return {};
    case ParamType::integer:
      if (p.min != std::floor(p.min) || p.max != std::floor(p.max) || std::fabs(p.min) > 1e15 ||
          std::fabs(p.max) > 1e15)
        return bad("min and max must be integers");
      if (!(p.min < p.max)) return bad(fmt::format("min {} must be less than max {}", p.min, p.max));
      if (p.step < 1) return bad(fmt::format("step {} must be at least 1", p.step));
      if (double(p.step) > p.max - p.min)
        return bad(fmt::format("step {} is larger than max - min ({})", p.step, p.max - p.min));
      if (p.log && p.min < 1) return bad(fmt::format("log scale needs min >= 1 (min is {})", p.min));
      return {};
    case ParamType::pow2:
      if (!is_pow2(p.min) && p.min != 0) return bad(fmt::format("pow2 min {} is neither 0 nor a power of two", p.min));
      if (p.min == 0 && (!is_pow2(double(p.first_on)) || double(p.first_on) > p.max))
        return bad(fmt::format("pow2 first_on {} is not a power of two up to max {}", p.first_on, p.max));
      if (!is_pow2(p.max)) return bad(fmt::format("pow2 max {} is not a power of two", p.max));
      if (!(p.min < p.max)) return bad(fmt::format("min {} must be less than max {}", p.min, p.max));
      return {};
    case ParamType::categorical: {
      if (p.choices.size() < 2) return bad("a categorical needs at least 2 choices");
      std::set<std::string> seen;
      for (const auto& c : p.choices) {
        if (c.empty()) return bad("a choice is empty");
        if (!seen.insert(c).second) return bad(fmt::format("choice '{}' appears twice", c));
      }
      return {};
    }
    case ParamType::boolean: return {};
    case ParamType::mask:
      if (p.bits < 1 || p.bits > 62) return bad(fmt::format("mask bits {} must be 1 .. 62", p.bits));
      return {};
  }
  return bad("unknown type");
}

}  // namespace

std::string Space::validate() const {
  if (params_.empty()) return "the space has no parameters: add at least one";
  std::set<std::string> names;
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& p = params_[i];
    if (p.name.empty()) return fmt::format("param #{} has no name", i + 1);
    if (!names.insert(p.name).second) return fmt::format("param '{}' is defined twice", p.name);
    if (auto e = check_param(p); !e.empty()) return e;
    if (p.condition) {
      const auto& c = *p.condition;
      int parent = index_of(c.parent);
      if (parent < 0) return fmt::format("param '{}': condition on unknown param '{}'", p.name, c.parent);
      if (parent >= int(i))
        return fmt::format("param '{}': condition on '{}' which must be listed before it", p.name, c.parent);
      if (c.values.empty()) return fmt::format("param '{}': condition on '{}' lists no values", p.name, c.parent);
      for (const auto& v : c.values)
        if (auto e = check_value(params_[parent], v); !e.empty())
          return fmt::format("param '{}': condition value for '{}': {}", p.name, c.parent, e);
    }
  }
  return {};
}

bool Space::is_active(int i, const Config& c) const {
  const auto& p = params_[i];
  if (!p.condition) return true;
  int parent = index_of(p.condition->parent);
  if (parent < 0 || !is_active(parent, c)) return false;
  auto it = c.find(p.condition->parent);
  if (it == c.end()) return false;
  bool match = std::any_of(p.condition->values.begin(), p.condition->values.end(),
                           [&](const Value& v) { return values_equal(v, it->second); });
  return match != p.condition->negate;
}

std::string Space::validate(const Config& c) const {
  for (const auto& [name, v] : c)
    if (index_of(name) < 0) return fmt::format("config names unknown param '{}'", name);
  for (int i = 0; i < int(params_.size()); ++i) {
    const auto& p = params_[i];
    auto it = c.find(p.name);
    bool active = is_active(i, c);
    if (active && it == c.end()) return fmt::format("config lacks param '{}'", p.name);
    if (!active && it != c.end())
      return fmt::format("config sets param '{}' which is inactive under its condition on '{}'", p.name,
                         p.condition->parent);
    if (active)
      if (auto e = check_value(p, it->second); !e.empty()) return fmt::format("param '{}': {}", p.name, e);
  }
  return {};
}

std::vector<double> Space::encode(const Config& c) const {
  std::vector<double> x(size_t(dims()), 0.0);
  int off = 0;
  for (int i = 0; i < int(params_.size()); ++i) {
    const auto& p = params_[i];
    auto it = c.find(p.name);
    if (it != c.end() && is_active(i, c)) {
      const Value& v = it->second;
      switch (p.type) {
        case ParamType::real:
        case ParamType::integer:
        case ParamType::pow2: x[off] = std::clamp(unit_of(p, *as_number(v)), 0.0, 1.0); break;
        case ParamType::categorical: {
          auto pos = std::find(p.choices.begin(), p.choices.end(), std::get<std::string>(v)) - p.choices.begin();
          x[off + pos] = 1.0;
          break;
        }
        case ParamType::boolean: x[off] = std::get<bool>(v) ? 1.0 : 0.0; break;
        case ParamType::mask: {
          auto m = std::get<std::int64_t>(v);
          for (int b = 0; b < p.bits; ++b) x[off + b] = (m >> b) & 1 ? 1.0 : 0.0;
          break;
        }
      }
    }
    off += p.encoded_dims();
  }
  return x;
}

Value Space::value_at(int i, double u) const {
  const auto& p = params_[i];
  u = std::clamp(std::isfinite(u) ? u : 0.0, 0.0, 1.0);
  switch (p.type) {
    case ParamType::real: {
      double v = p.log ? std::exp(std::log(p.min) + u * (std::log(p.max) - std::log(p.min)))
                       : p.min + u * (p.max - p.min);
      return std::clamp(v, p.min, p.max);
    }
    case ParamType::integer: {
      auto lo = std::int64_t(p.min), hi = grid_max(p);
      std::int64_t k;
      if (p.log) {
        double v = std::exp(std::log(double(lo)) + u * (std::log(double(hi)) - std::log(double(lo))));
        // Nearest grid point in log distance, so encode/decode round-trips on the log scale.
        std::int64_t below = lo + std::int64_t(std::floor((v - double(lo)) / double(p.step))) * p.step;
        below = std::clamp(below, lo, hi);
        std::int64_t above = std::min(below + p.step, hi);
        k = (std::fabs(std::log(double(above)) - std::log(v)) < std::fabs(std::log(v) - std::log(double(below))))
                ? above : below;
        return k;
      }
      std::int64_t levels = (hi - lo) / p.step;
      k = std::int64_t(std::llround(u * double(levels)));
      return lo + std::clamp<std::int64_t>(k, 0, levels) * p.step;
    }
    case ParamType::pow2: {
      const int top = pow2_level(p, std::int64_t(p.max));
      return pow2_value(p, std::clamp(int(std::lround(u * top)), 0, top));
    }
    case ParamType::categorical: {
      auto k = std::min<size_t>(size_t(u * double(p.choices.size())), p.choices.size() - 1);
      return p.choices[k];
    }
    case ParamType::boolean: return u >= 0.5;
    case ParamType::mask: {
      double top = double((std::int64_t{1} << p.bits) - 1);
      return std::int64_t(std::llround(u * top));
    }
  }
  return 0.0;
}

Config Space::decode(const std::vector<double>& x) const {
  Config c;
  int off = 0;
  for (int i = 0; i < int(params_.size()); ++i) {
    const auto& p = params_[i];
    auto at = [&](int j) { return std::clamp(std::isfinite(x[size_t(off + j)]) ? x[size_t(off + j)] : 0.0, 0.0, 1.0); };
    if (is_active(i, c)) {
      switch (p.type) {
        case ParamType::real:
        case ParamType::integer:
        case ParamType::pow2: c[p.name] = value_at(i, at(0)); break;
        case ParamType::categorical: {
          int best = 0;
          for (int j = 1; j < int(p.choices.size()); ++j)
            if (at(j) > at(best)) best = j;
          c[p.name] = p.choices[size_t(best)];
          break;
        }
        case ParamType::boolean: c[p.name] = at(0) >= 0.5; break;
        case ParamType::mask: {
          std::int64_t m = 0;
          for (int b = 0; b < p.bits; ++b)
            if (at(b) >= 0.5) m |= std::int64_t{1} << b;
          c[p.name] = m;
          break;
        }
      }
    }
    off += p.encoded_dims();
  }
  return c;
}

std::vector<double> Space::project(const std::vector<double>& x) const { return encode(decode(x)); }

Value Space::default_value(int i) const {
  const auto& p = params_[i];
  switch (p.type) {
    case ParamType::real:
    case ParamType::integer:
    case ParamType::pow2: return value_at(i, 0.5);
    case ParamType::categorical: return p.choices.front();
    case ParamType::boolean: return false;
    case ParamType::mask: return std::int64_t{0};
  }
  return 0.0;
}

Config Space::complete(Config c) const {
  Config out;
  for (int i = 0; i < int(params_.size()); ++i) {
    const auto& p = params_[i];
    if (!is_active(i, out)) continue;
    auto it = c.find(p.name);
    out[p.name] = it != c.end() ? it->second : default_value(i);
  }
  return out;
}

}  // namespace wgopt::opt

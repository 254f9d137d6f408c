#include "experiments/search/search_space.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "actuators/cpumask.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"

namespace wgopt::experiments {

namespace {

// Searching TCP buffer maxima above 128 MiB is pointless (the guide saw regressions there).
constexpr long long kTripleMaxCap = 1LL << 27;
// Below 64 KiB a TCP buffer maximum throttles any path; not worth a trial.
constexpr long long kTripleMinFloor = 1LL << 16;

long long pow2_floor(long long v) {
  long long p = 1;
  while (p <= v / 2) p *= 2;
  return p;
}
long long pow2_ceil(long long v) {
  long long p = 1;
  while (p < v) p *= 2;
  return p;
}

long long parse_ll(const std::string& s, const std::string& what) {
  try {
    size_t pos = 0;
    long long v = std::stoll(trim(s), &pos);
    if (pos != trim(s).size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw Error(fmt::format("{}: '{}' is not an integer", what, s));
  }
}

std::vector<long long> parse_triple(const std::string& s, const std::string& id) {
  auto parts = split_ws(s);
  if (parts.size() != 3) throw Error(fmt::format("{}: '{}' is not three integers", id, s));
  return {parse_ll(parts[0], id), parse_ll(parts[1], id), parse_ll(parts[2], id)};
}

bool is_rps_flow_cnt(const std::string& id) { return id.ends_with("/rps_flow_cnt"); }

// The maximum of a TCP buffer triple as the host holds it; nullopt when it does not parse.
std::optional<long long> triple_max(const std::string& current) {
  try {
    return parse_triple(current, "")[2];
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace

bool id_matches(const std::string& id, const std::vector<std::string>& patterns) {
  // Glob with '*' only: iterative matcher with backtracking to the last star.
  auto match = [](const std::string& s, const std::string& p) {
    size_t si = 0, pi = 0, star = std::string::npos, mark = 0;
    while (si < s.size()) {
      if (pi < p.size() && p[pi] == s[si]) {
        ++si;
        ++pi;
      } else if (pi < p.size() && p[pi] == '*') {
        star = pi++;
        mark = si;
      } else if (star != std::string::npos) {
        pi = star + 1;
        si = ++mark;
      } else {
        return false;
      }
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    return pi == p.size();
  };
  for (const auto& p : patterns) {
    if (!p.empty() && match(id, p)) return true;
  }
  return false;
}

SearchSpace::SearchSpace(std::vector<SearchKnob> knobs, int nproc,
                         const std::map<std::string, RangeOverride>& overrides)
    : nproc_(nproc) {
  for (const auto& [id, ov] : overrides) {
    bool known = std::any_of(knobs.begin(), knobs.end(), [&](const SearchKnob& k) { return k.descriptor.id == id; });
    if (!known) {
      throw UsageError(fmt::format(
          "space override '{}' names no searchable knob here: run `wgopt knobs` for the ids", id));
    }
  }
  // rps_cpus before rps_flow_cnt so the condition's parent comes first.
  std::stable_sort(knobs.begin(), knobs.end(), [](const SearchKnob& a, const SearchKnob& b) {
    return !is_rps_flow_cnt(a.descriptor.id) && is_rps_flow_cnt(b.descriptor.id);
  });

  for (auto& k : knobs) {
    const auto& d = k.descriptor;
    auto ov_it = overrides.find(d.id);
    const RangeOverride* ov = ov_it == overrides.end() ? nullptr : &ov_it->second;
    long long lo = d.domain.min, hi = d.domain.max;
    if (ov && ov->min) lo = *ov->min;
    if (ov && ov->max) hi = *ov->max;
    if (ov && (ov->min || ov->max) && lo >= hi) {
      // A search range, never a fixed value: holding a knob is `wgopt set` plus --exclude.
      throw UsageError(fmt::format("space override for '{}': min {} is not below max {}: a range needs min < max (to "
                                   "hold the knob at one value, `wgopt set` it before the search and leave it out "
                                   "with --exclude)", d.id, lo, hi));
    }
    if (ov && (ov->min || ov->max) && (lo < d.domain.min || hi > d.domain.max)) {
      throw UsageError(fmt::format("space override for '{}': range {}..{} is not inside the knob's domain {}..{}",
                                   d.id, lo, hi, d.domain.min, d.domain.max));
    }
    std::optional<opt::Param> param;
    switch (d.type) {
      case act::ValueType::Int:
        if (d.domain.pow2) {
          // A flow table's 0 turns the feature off: it stays searchable (and the host's 0 returnable).
          // Above 0 it starts at the least size the kernel takes (a flow table's: 2).
          long long plo = lo <= 0 && d.domain.zero_off ? 0 : pow2_ceil(std::max(1LL, lo)), phi = pow2_floor(hi);
          const long long first_on = pow2_ceil(std::max<long long>(1, d.domain.min_on));
          if (plo < phi && (plo > 0 || first_on <= phi)) {
            param = opt::Param::pow2(d.id, plo, phi);
            if (plo == 0) param->first_on = first_on;
          }
        } else if (lo < hi) {
          bool log = d.domain.log && lo >= 1;
          param = opt::Param::integer(d.id, lo, hi, 1, log);
        }
        break;
      case act::ValueType::Triple: {
        long long plo = pow2_ceil(std::max({kTripleMinFloor, lo, 1LL}));
        long long phi = pow2_floor(std::min(hi > 0 ? hi : kTripleMaxCap, kTripleMaxCap));
        // The host's own maximum stays reachable (as an enum's own value does): a poor start of 16 KiB
        // under the floor would otherwise be the model's 64 KiB, and its return estimated as that.
        if (const auto host = triple_max(k.current)) {
          if (*host >= std::max(lo, 1LL) && *host < plo) plo = std::max(pow2_floor(*host), pow2_ceil(std::max(lo, 1LL)));
          if ((hi <= 0 || *host <= hi) && *host > phi) phi = pow2_floor(*host);
        }
        if (plo < phi) param = opt::Param::pow2(d.id, plo, phi);
        break;
      }
      case act::ValueType::Mask: {
        int bits = std::min({d.domain.mask_bits > 0 ? d.domain.mask_bits : nproc, nproc, 62});
        if (bits >= 1) param = opt::Param::mask(d.id, bits);
        break;
      }
      case act::ValueType::Bool:
        param = opt::Param::boolean(d.id);
        break;
      case act::ValueType::Enum:
      case act::ValueType::Service: {
        std::vector<std::string> choices = d.domain.choices;
        if (d.type == act::ValueType::Service && choices.empty()) choices = {"active", "inactive"};
        if (ov && !ov->choices.empty()) {
          for (const auto& c : ov->choices) {
            if (std::find(choices.begin(), choices.end(), c) == choices.end()) {
              throw UsageError(fmt::format("space override for '{}': '{}' is not one of {}", d.id, c,
                                           fmt::join(choices, ", ")));
            }
          }
          choices = ov->choices;
        }
        // The host's own value stays reachable, so the search can always return to it.
        if (!k.current.empty() && std::find(choices.begin(), choices.end(), k.current) == choices.end()) {
          choices.insert(choices.begin(), k.current);
        }
        if (choices.size() >= 2) param = opt::Param::categorical(d.id, choices);
        break;
      }
    }
    if (!param) {
      skipped_.push_back(d.id);
      continue;
    }
    if (is_rps_flow_cnt(d.id)) {
      std::string parent = d.id.substr(0, d.id.size() - std::string("rps_flow_cnt").size()) + "rps_cpus";
      if (space_.index_of(parent) >= 0) param = std::move(*param).when(parent, {opt::Value(std::int64_t{0})}, true);
    }
    space_.add(std::move(*param));
    knobs_.push_back(k);
  }
  if (auto err = space_.validate(); !err.empty()) throw Error("search space: " + err);
}

const SearchKnob* SearchSpace::knob(const std::string& id) const {
  for (const auto& k : knobs_) {
    if (k.descriptor.id == id) return &k;
  }
  return nullptr;
}

opt::Value SearchSpace::to_param_value(const opt::Param& p, const SearchKnob& k, const std::string& canonical) const {
  const auto& id = k.descriptor.id;
  auto clamp = [&](long long v) { return std::clamp<long long>(v, static_cast<long long>(p.min), static_cast<long long>(p.max)); };
  auto nearest_pow2 = [&](long long v) {
    if (v <= 0 && p.min == 0) return 0LL;
    v = clamp(std::max<long long>(p.min == 0 ? p.first_on : 1, v));  // a host's 1 where the kernel takes 2 and up
    long long f = pow2_floor(v), c = pow2_ceil(v);
    // nearest on a log scale
    return clamp(std::log2(static_cast<double>(v)) - std::log2(static_cast<double>(f)) <
                         std::log2(static_cast<double>(c)) - std::log2(static_cast<double>(v))
                     ? f
                     : c);
  };
  switch (p.type) {
    case opt::ParamType::integer: {
      long long v = clamp(parse_ll(canonical, id));
      long long steps = (v - static_cast<long long>(p.min) + p.step / 2) / p.step;
      return opt::Value(std::int64_t(clamp(static_cast<long long>(p.min) + steps * p.step)));
    }
    case opt::ParamType::pow2: {
      long long v = k.descriptor.type == act::ValueType::Triple ? parse_triple(canonical, id)[2] : parse_ll(canonical, id);
      return opt::Value(std::int64_t(nearest_pow2(v)));
    }
    case opt::ParamType::mask: {
      auto m = act::CpuMask::parse(canonical, nproc_, id);
      std::int64_t bits = 0;
      for (int c = 0; c < p.bits; ++c) {
        if (m.test(c)) bits |= (std::int64_t{1} << c);
      }
      return opt::Value(bits);
    }
    case opt::ParamType::boolean:
      return opt::Value(canonical == "on");
    case opt::ParamType::categorical:
      if (std::find(p.choices.begin(), p.choices.end(), canonical) != p.choices.end()) return opt::Value(canonical);
      return opt::Value(p.choices.front());
    case opt::ParamType::real:
      return opt::Value(std::clamp(std::stod(canonical), p.min, p.max));
  }
  return opt::Value(canonical);
}

opt::Config SearchSpace::current_config() const {
  std::map<std::string, std::string> values;
  for (const auto& k : knobs_) values[k.descriptor.id] = k.current;
  return from_values(values);
}

opt::Config SearchSpace::from_values(const std::map<std::string, std::string>& values) const {
  opt::Config c;
  const auto& params = space_.params();
  for (size_t i = 0; i < params.size(); ++i) {
    const auto* k = knob(params[i].name);
    auto it = values.find(params[i].name);
    if (!k || it == values.end()) continue;
    c[params[i].name] = to_param_value(params[i], *k, it->second);
  }
  return space_.complete(std::move(c));
}

std::map<std::string, std::string> SearchSpace::to_values(const opt::Config& config) const {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : config) {
    const auto* k = knob(name);
    if (!k) throw Error(fmt::format("configuration names '{}', which is not in the search space", name));
    switch (k->descriptor.type) {
      case act::ValueType::Int:
        out[name] = std::to_string(std::get<std::int64_t>(value));
        break;
      case act::ValueType::Triple: {
        auto cur = parse_triple(k->current, name);
        long long mx = std::get<std::int64_t>(value);
        out[name] = fmt::format("{} {} {}", std::min(cur[0], mx), std::min(cur[1], mx), mx);
        break;
      }
      case act::ValueType::Mask: {
        act::CpuMask m(nproc_);
        auto bits = std::get<std::int64_t>(value);
        for (int c = 0; c < nproc_ && c < 62; ++c) {
          if (bits & (std::int64_t{1} << c)) m.set(c);
        }
        out[name] = m.canonical();
        break;
      }
      case act::ValueType::Bool:
        out[name] = std::get<bool>(value) ? "on" : "off";
        break;
      case act::ValueType::Enum:
      case act::ValueType::Service:
        out[name] = std::get<std::string>(value);
        break;
    }
  }
  return out;
}

std::string SearchSpace::describe_json() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& p : space_.params()) {
    nlohmann::json j{{"name", p.name}, {"type", opt::to_string(p.type)}};
    if (p.type == opt::ParamType::integer || p.type == opt::ParamType::pow2 || p.type == opt::ParamType::real) {
      j["min"] = p.min;
      j["max"] = p.max;
      if (p.log) j["log"] = true;
      if (p.type == opt::ParamType::pow2 && p.min == 0 && p.first_on != 1) j["first_on"] = p.first_on;  // 0, then from it
    }
    if (p.type == opt::ParamType::categorical) j["choices"] = p.choices;
    if (p.type == opt::ParamType::mask) j["bits"] = p.bits;
    if (p.condition) j["active_when"] = fmt::format("{} {} {}", p.condition->parent, p.condition->negate ? "not in" : "in",
                                                   opt::to_string(p.condition->values.front()));
    arr.push_back(j);
  }
  return arr.dump();
}

std::map<std::string, RangeOverride> load_space_overrides(const std::string& path) {
  auto text = read_file(path);
  if (!text) throw UsageError(fmt::format("cannot read space file '{}': check the path", path));
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    throw UsageError(fmt::format("space file '{}' is not YAML: {}", path, e.msg));
  }
  if (!root.IsMap() || !root["knobs"] || !root["knobs"].IsMap()) {
    throw UsageError(fmt::format("space file '{}': expected a map `knobs: {{ID: {{min: .., max: .., choices: [..]}}}}`", path));
  }
  std::map<std::string, RangeOverride> out;
  for (const auto& kv : root["knobs"]) {
    const std::string id = kv.first.as<std::string>();
    const auto& v = kv.second;
    if (!v.IsMap()) throw UsageError(fmt::format("space file '{}': entry '{}' must be a map of min/max/choices", path, id));
    RangeOverride o;
    for (const auto& f : v) {
      const std::string key = f.first.as<std::string>();
      try {
        if (key == "min") o.min = f.second.as<long long>();
        else if (key == "max") o.max = f.second.as<long long>();
        else if (key == "choices") o.choices = f.second.as<std::vector<std::string>>();
        else throw UsageError(fmt::format("space file '{}': entry '{}' has unknown key '{}' (use min, max, choices)", path, id, key));
      } catch (const YAML::Exception&) {
        throw UsageError(fmt::format("space file '{}': entry '{}' key '{}' has a value of the wrong type", path, id, key));
      }
    }
    out[id] = o;
  }
  return out;
}

}  // namespace wgopt::experiments

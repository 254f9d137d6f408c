#include "experiments/study/objective.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::experiments {

namespace {

std::string scenario_list() {
  std::string out;
  for (auto n : kScenarioNames) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

bool is_scenario(const std::string& s) {
  return std::find(kScenarioNames.begin(), kScenarioNames.end(), s) != kScenarioNames.end();
}

// Parsing context: every error names the source and the entry ("scenarios[1].weight").
struct ObjectiveReader {
  const std::string& source;

  [[noreturn]] void fail(const std::string& entry, const std::string& problem) const {
    throw UsageError(fmt::format("{}: {} {}", source, entry, problem));
  }

  void only_keys(const YAML::Node& map, const std::string& entry, std::initializer_list<const char*> keys) const {
    if (!map.IsMap()) fail(entry.empty() ? "top level" : entry, "must be a mapping of keys to values");
    for (const auto& kv : map) {
      // A list or map as a key has no text; as<std::string>() would throw yaml-cpp's bad conversion.
      const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "(a list or map as a key)";
      bool known = std::any_of(keys.begin(), keys.end(), [&](const char* x) { return k == x; });
      if (!known) {
        std::string list;
        for (const char* x : keys) list += (list.empty() ? "" : ", ") + std::string(x);
        fail(entry.empty() ? "'" + k + "'" : entry + "." + k, "is not a known key: use one of " + list);
      }
    }
  }

  // A finite number in [min, max]; `why` follows the range in the error ("weights are relative").
  double number(const YAML::Node& n, const std::string& entry, double min, double max, const char* why = "") const {
    double v = 0;
    try {
      v = n.as<double>();
    } catch (const YAML::Exception&) {
      fail(entry, fmt::format("'{}' is not a number", n.IsScalar() ? n.Scalar() : "(not a scalar)"));
    }
    if (!std::isfinite(v) || v < min || v > max) {
      fail(entry, fmt::format("{} is out of range: use a number from {} to {}{}", n.Scalar(), min, max, why));
    }
    return v;
  }

  bool boolean(const YAML::Node& n, const std::string& entry) const {
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
      fail(entry, fmt::format("'{}' is not a boolean: use true or false", n.IsScalar() ? n.Scalar() : "(not a scalar)"));
    }
  }
};

}  // namespace

ScenarioSpec default_scenario_spec(const std::string& name) {
  ScenarioSpec s;
  s.name = name;
  s.penalize_drops = !(name == "udp" || name == "udp-64");
  s.penalize_imbalance = name != "single";
  return s;
}

Objective parse_objective(const std::string& yaml_text, const std::string& source) {
  ObjectiveReader r{source};
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw UsageError(fmt::format("{}: is not valid YAML (line {}: {}): fix the syntax", source, e.mark.line + 1, e.msg));
  }
  Objective o;
  if (root.IsNull()) return o;  // an empty file means all defaults
  r.only_keys(root, "", {"duration", "scenarios", "penalties"});

  if (auto d = root["duration"]) {
    if (!d.IsScalar()) r.fail("duration", "must be a duration such as 10s");
    auto ms = parse_duration(d.Scalar(), source + ": duration");
    if (ms.count() % 1000 != 0) r.fail("duration", fmt::format("'{}' is not whole seconds: iperf3 -t takes seconds, e.g. 10s", d.Scalar()));
    auto s = std::chrono::duration_cast<std::chrono::seconds>(ms);
    if (s.count() < 2 || s.count() > 3600) r.fail("duration", fmt::format("'{}' is out of range: use 2s to 1h", d.Scalar()));
    o.duration = s;
  }

  if (auto sc = root["scenarios"]) {
    if (!sc.IsSequence() || sc.size() == 0) {
      r.fail("scenarios", "must be a non-empty list such as [{name: tcp, weight: 1}]");
    }
    o.scenarios.clear();
    std::set<std::string> seen;
    for (size_t i = 0; i < sc.size(); ++i) {
      const std::string entry = fmt::format("scenarios[{}]", i);
      const YAML::Node n = sc[i];
      if (n.IsScalar()) r.fail(entry, fmt::format("'{}' must be a mapping: write {{name: {}}}", n.Scalar(), n.Scalar()));
      r.only_keys(n, entry, {"name", "weight", "penalize_drops", "penalize_imbalance"});
      if (!n["name"] || !n["name"].IsScalar()) r.fail(entry, "has no name: use one of " + scenario_list());
      const std::string name = n["name"].Scalar();
      if (!is_scenario(name)) r.fail(entry + ".name", fmt::format("'{}' is not a scenario: use one of {}", name, scenario_list()));
      if (!seen.insert(name).second) r.fail(entry + ".name", fmt::format("'{}' is listed twice: list each scenario once", name));
      ScenarioSpec s = default_scenario_spec(name);
      if (n["weight"]) {
        s.weight = r.number(n["weight"], entry + ".weight", kWeightMin, kWeightMax,
                            " (weights are relative: only their ratio counts)");
      }
      if (n["penalize_drops"]) s.penalize_drops = r.boolean(n["penalize_drops"], entry + ".penalize_drops");
      if (n["penalize_imbalance"]) s.penalize_imbalance = r.boolean(n["penalize_imbalance"], entry + ".penalize_imbalance");
      o.scenarios.push_back(s);
    }
  }

  if (auto p = root["penalties"]) {
    r.only_keys(p, "penalties",
                {"drop_allowance_per_s", "softnet_drops", "nic_drops", "interface_drops", "udp_errors", "imbalance"});
    auto set = [&](const char* key, double& field, double max, const char* unit) {
      if (p[key]) field = r.number(p[key], std::string("penalties.") + key, 0, max, unit);
    };
    set("drop_allowance_per_s", o.penalties.drop_allowance_per_s, kDropAllowanceMax, " drops/s");
    set("softnet_drops", o.penalties.softnet_drops, kPenaltyMax, " Mbit/s per drop/s");
    set("nic_drops", o.penalties.nic_drops, kPenaltyMax, " Mbit/s per drop/s");
    set("interface_drops", o.penalties.interface_drops, kPenaltyMax, " Mbit/s per drop/s");
    set("udp_errors", o.penalties.udp_errors, kPenaltyMax, " Mbit/s per drop/s");
    set("imbalance", o.penalties.imbalance, kPenaltyMax, " Mbit/s per point");
  }
  return o;
}

Objective load_objective(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("objective file '{}' cannot be read: check the path", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_objective(ss.str(), fmt::format("objective file '{}'", path));
}

std::string objective_to_yaml(const Objective& o) {
  // Shortest text that reads back as the same double ("0.1", not yaml-cpp's "0.10000000000000001").
  auto num = [](double v) { return fmt::format("{}", v); };
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "duration" << YAML::Value << fmt::format("{}s", o.duration.count());
  e << YAML::Key << "scenarios" << YAML::Value << YAML::BeginSeq;
  for (const auto& s : o.scenarios) {
    e << YAML::BeginMap << YAML::Key << "name" << YAML::Value << s.name << YAML::Key << "weight" << YAML::Value
      << num(s.weight) << YAML::Key << "penalize_drops" << YAML::Value << s.penalize_drops << YAML::Key
      << "penalize_imbalance" << YAML::Value << s.penalize_imbalance << YAML::EndMap;
  }
  e << YAML::EndSeq;
  const auto& p = o.penalties;
  e << YAML::Key << "penalties" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "drop_allowance_per_s" << YAML::Value << num(p.drop_allowance_per_s);
  e << YAML::Key << "softnet_drops" << YAML::Value << num(p.softnet_drops);
  e << YAML::Key << "nic_drops" << YAML::Value << num(p.nic_drops);
  e << YAML::Key << "interface_drops" << YAML::Value << num(p.interface_drops);
  e << YAML::Key << "udp_errors" << YAML::Value << num(p.udp_errors);
  e << YAML::Key << "imbalance" << YAML::Value << num(p.imbalance);
  e << YAML::EndMap << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

namespace {

// Hottest core busy % minus the mean over the cores; 0 when no core was measured.
double imbalance(const std::vector<double>& busy) {
  if (busy.empty()) return 0;
  double mean = 0;
  for (double b : busy) mean += b;
  mean /= static_cast<double>(busy.size());
  return *std::max_element(busy.begin(), busy.end()) - mean;
}

void check_value(double v, const std::string& scenario, const char* field, double max = INFINITY) {
  if (!std::isfinite(v) || v < 0 || v > max) {
    throw Error(fmt::format("measurement of scenario '{}' has an invalid {} ({}): the probe summary is wrong",
                            scenario, field, v));
  }
}

}  // namespace

Score score(const Objective& o, const Measurement& m) {
  double total_weight = 0;
  for (const auto& s : o.scenarios) total_weight += s.weight;
  if (o.scenarios.empty() || !(total_weight > 0)) throw Error("objective has no scenario with a positive weight");
  const Penalties& p = o.penalties;
  Score out;
  for (const auto& spec : o.scenarios) {
    auto it = m.find(spec.name);
    if (it == m.end()) {
      throw Error(fmt::format("measurement has no result for scenario '{}' that the objective asks for", spec.name));
    }
    const ScenarioMeasurement& sm = it->second;
    check_value(sm.throughput_mbps, spec.name, "throughput");
    check_value(sm.drops_per_s.softnet, spec.name, "softnet drop rate");
    check_value(sm.drops_per_s.nic, spec.name, "NIC drop rate");
    check_value(sm.drops_per_s.interface, spec.name, "interface drop rate");
    check_value(sm.drops_per_s.udp_errors, spec.name, "UDP error rate");
    // A delta of jiffies can round a saturated core slightly above 100.
    for (double b : sm.core_busy_pct) check_value(b, spec.name, "core busy %", 100.5);

    ScenarioScore s;
    s.name = spec.name;
    s.weight = spec.weight / total_weight;
    s.throughput_mbps = sm.throughput_mbps;
    if (spec.penalize_drops) {
      auto excess = [&](double rate) { return std::max(0.0, rate - p.drop_allowance_per_s); };
      s.drop_penalty = p.softnet_drops * excess(sm.drops_per_s.softnet) + p.nic_drops * excess(sm.drops_per_s.nic) +
                       p.interface_drops * excess(sm.drops_per_s.interface) +
                       p.udp_errors * excess(sm.drops_per_s.udp_errors);
    }
    for (double b : sm.far_core_busy_pct) check_value(b, spec.name, "far end's core busy %", 100.5);
    if (!sm.core_busy_pct.empty() || !sm.far_core_busy_pct.empty()) {
      s.imbalance_pct = std::max(imbalance(sm.core_busy_pct), imbalance(sm.far_core_busy_pct));
      if (spec.penalize_imbalance) s.imbalance_penalty = p.imbalance * s.imbalance_pct;
    }
    s.score = s.throughput_mbps - s.drop_penalty - s.imbalance_penalty;
    out.value += s.weight * s.score;
    out.throughput_mbps += s.weight * s.throughput_mbps;
    out.drop_penalty += s.weight * s.drop_penalty;
    out.imbalance_penalty += s.weight * s.imbalance_penalty;
    out.scenarios.push_back(s);
  }
  return out;
}

nlohmann::json score_to_json(const Score& s) {
  nlohmann::json scenarios = nlohmann::json::array();
  for (const auto& x : s.scenarios) {
    scenarios.push_back({{"name", x.name},
                         {"weight", x.weight},
                         {"throughput_mbps", x.throughput_mbps},
                         {"drop_penalty", x.drop_penalty},
                         {"imbalance_pct", x.imbalance_pct},
                         {"imbalance_penalty", x.imbalance_penalty},
                         {"score", x.score}});
  }
  return {{"value", s.value},
          {"throughput_mbps", s.throughput_mbps},
          {"drop_penalty", s.drop_penalty},
          {"imbalance_penalty", s.imbalance_penalty},
          {"scenarios", scenarios}};
}

}  // namespace wgopt::experiments

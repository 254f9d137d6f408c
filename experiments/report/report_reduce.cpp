#include "experiments/report/report_reduce.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

namespace wgopt::experiments::report_reduce {

using nlohmann::json;

namespace {

std::optional<double> as_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

KnobLevel level(std::string label, const std::vector<double>& scores, double reference) {
  double sum = 0;
  for (double x : scores) sum += x;
  const double mean = sum / static_cast<double>(scores.size());
  return {std::move(label), static_cast<int>(scores.size()), mean, mean - reference};
}

// The mean of `of` over the records that have it; nullopt when none does.
template <typename Of>
std::optional<double> mean_over(const std::vector<const json*>& records, Of of) {
  double sum = 0;
  int n = 0;
  for (const json* r : records) {
    if (const std::optional<double> v = of(*r)) sum += *v, ++n;
  }
  return n > 0 ? std::optional(sum / n) : std::nullopt;
}

}  // namespace

std::optional<int> cpu_at(const json& j, const char* key) {
  const std::optional<double> v = number_at(j, key);
  if (!v || *v < 0 || *v > kMaxCpu || *v != std::floor(*v)) return std::nullopt;
  return static_cast<int>(*v);
}

std::optional<double> number_at(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  double v = it->get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

std::optional<double> throughput_of(const json& metrics) {
  if (!metrics.is_object() || !metrics.contains("scenarios") || !metrics["scenarios"].is_object()) {
    return number_at(metrics, "throughput_mbps");
  }
  double sum = 0;
  int n = 0;
  for (const auto& [name, s] : metrics["scenarios"].items()) {
    if (auto t = number_at(s, "throughput_mbps")) {
      sum += *t;
      ++n;
    }
  }
  if (n == 0) return number_at(metrics, "throughput_mbps");
  return sum / n;
}

namespace {

// A record's probes of one scenario at one end: the scenario's own (this end) or its "far" object.
const json* end_of(const json& scenario, bool far) {
  if (!scenario.is_object()) return nullptr;
  if (!far) return &scenario;
  auto it = scenario.find("far");
  return it != scenario.end() && it->is_object() ? &*it : nullptr;
}

bool has_far_end(const std::vector<const json*>& probes) {
  for (const json* p : probes) {
    if (!p->is_object()) continue;
    for (const auto& [name, s] : p->items()) {
      if (end_of(s, true)) return true;
    }
  }
  return false;
}

ComparisonRow end_row(const std::string& label, const std::vector<const json*>& metrics,
                      const std::vector<const json*>& probes, double to_window, bool far) {
  ComparisonRow row;
  row.config = label;
  row.throughput_mbps = mean_over(metrics, [](const json& m) { return throughput_of(m); });
  row.score = mean_over(metrics, [](const json& m) { return number_at(m, "score"); });
  double soft = 0, softnet = 0, nic = 0, udp = 0;
  int n = 0, top_core = -1;
  bool udp_counted = false;  // studies before the probes counted UDP errors have no such key
  for (const json* p : probes) {
    if (!p->is_object() || p->empty()) continue;
    double rec_soft = -1, rec_softnet = 0, rec_nic = 0, rec_udp = 0;
    int rec_core = -1, scenarios = 0, seen = 0;
    for (const auto& [name, scenario] : p->items()) {
      if (!scenario.is_object()) continue;
      ++scenarios;  // the far end's too, as the search's table divides it (comparison_rows.cpp add_end)
      const json* end = end_of(scenario, far);
      if (!end) continue;
      const json& s = *end;
      ++seen;
      double ts = number_at(s, "top_soft_pct").value_or(0);
      if (ts >= rec_soft) {
        rec_soft = ts;
        rec_core = cpu_at(s, "top_soft_cpu").value_or(-1);
      }
      rec_softnet += number_at(s, "softnet_dropped").value_or(0);
      rec_nic += number_at(s, "nic_drops").value_or(0) + number_at(s, "iface_drops").value_or(0);
      if (auto u = number_at(s, "udp_errors")) rec_udp += *u, udp_counted = true;
    }
    if (seen == 0) continue;
    soft += rec_soft;
    softnet += rec_softnet / scenarios;
    nic += rec_nic / scenarios;
    udp += rec_udp / scenarios;
    top_core = rec_core;
    ++n;
  }
  if (n > 0) {
    row.top_core_soft_pct = soft / n;
    if (top_core >= 0) row.top_core = top_core;
    row.softnet_drops = to_window * softnet / n;
    row.nic_drops = to_window * nic / n;
    if (udp_counted) row.udp_errors = to_window * udp / n;
  }
  return row;
}

}  // namespace

std::vector<ComparisonRow> comparison_rows(const std::string& label, const std::vector<const json*>& metrics,
                                           const std::vector<const json*>& probes, double to_window) {
  if (!has_far_end(probes)) return {end_row(label, metrics, probes, to_window, false)};
  return {end_row(label + ": local", metrics, probes, to_window, false),
          end_row(label + ": peer", metrics, probes, to_window, true)};
}

std::vector<CoreLoad> core_loads(const std::vector<const json*>& probes) {
  std::map<int, std::pair<CoreLoad, int>> acc;
  for (const json* p : probes) {
    if (!p->is_object()) continue;
    for (const auto& [name, s] : p->items()) {
      if (!s.is_object() || !s.contains("cores") || !s["cores"].is_array()) continue;
      for (const auto& c : s["cores"]) {
        const std::optional<int> cpu = cpu_at(c, "cpu");
        if (!cpu) continue;
        auto& [load, n] = acc[*cpu];
        load.cpu = *cpu;
        load.usr += number_at(c, "usr").value_or(0);
        load.sys += number_at(c, "sys").value_or(0);
        load.soft += number_at(c, "soft").value_or(0);
        ++n;
      }
    }
  }
  std::vector<CoreLoad> out;
  for (auto& [cpu, entry] : acc) {
    auto [load, n] = entry;
    load.usr /= n;
    load.sys /= n;
    load.soft /= n;
    out.push_back(load);
  }
  return out;
}

const json* probes_in_metrics(const json& metrics) {
  if (metrics.is_object() && metrics.contains("probes") && metrics["probes"].is_object() && !metrics["probes"].empty()) {
    return &metrics["probes"];
  }
  return nullptr;
}

std::vector<KnobEffect> knob_effects(const std::vector<ReportTrial>& trials, double reference) {
  // knob -> value -> scores of the complete trials at that value
  std::map<std::string, std::map<std::string, std::vector<double>>> by_value;
  for (const auto& t : trials) {
    if (t.state != TrialState::Complete || !t.score) continue;
    for (const auto& [id, v] : t.params) by_value[id][v].push_back(*t.score);
  }
  std::vector<KnobEffect> out;
  for (const auto& [id, values] : by_value) {
    KnobEffect e;
    e.id = id;
    std::vector<std::pair<double, const std::string*>> numeric;
    for (const auto& [v, scores] : values) {
      if (auto x = as_number(v)) numeric.emplace_back(*x, &v);
    }
    if (values.size() > kMaxEffectLevels && numeric.size() == values.size()) {
      // A numeric knob the search tried at many values: one value per trial says little, ranges of
      // neighbouring values say more. kEffectBins ranges of about equally many values, low to high.
      std::sort(numeric.begin(), numeric.end());
      e.binned = true;
      const size_t n = numeric.size();
      for (size_t b = 0; b < kEffectBins; ++b) {
        const size_t lo = b * n / kEffectBins, hi = (b + 1) * n / kEffectBins;
        if (lo >= hi) continue;
        std::vector<double> scores;
        for (size_t i = lo; i < hi; ++i) {
          const auto& s = values.at(*numeric[i].second);
          scores.insert(scores.end(), s.begin(), s.end());
        }
        const std::string& first = *numeric[lo].second;
        const std::string& last = *numeric[hi - 1].second;
        e.levels.push_back(level(first == last ? first : first + ".." + last, scores, reference));
      }
    } else {
      for (const auto& [v, scores] : values) e.levels.push_back(level(v, scores, reference));
      std::sort(e.levels.begin(), e.levels.end(), [](const KnobLevel& a, const KnobLevel& b) { return a.mean > b.mean; });
    }
    auto [mn, mx] = std::minmax_element(e.levels.begin(), e.levels.end(),
                                        [](const KnobLevel& a, const KnobLevel& b) { return a.mean < b.mean; });
    e.spread = mx->mean - mn->mean;
    out.push_back(std::move(e));
  }
  std::stable_sort(out.begin(), out.end(), [](const KnobEffect& a, const KnobEffect& b) { return a.spread > b.spread; });
  return out;
}

}  // namespace wgopt::experiments::report_reduce

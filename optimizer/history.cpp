#include "optimizer/history.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace wgopt::opt {

const Observation& History::add(const Config& config, TrialState state, double value) {
  if (auto e = space_->validate(config); !e.empty()) throw UsageError("told configuration rejected: " + e);
  Config c = config;
  // Reals given as integers (e.g. from JSON) are stored as doubles so equal configs compare equal.
  for (const auto& p : space_->params()) {
    auto it = c.find(p.name);
    if (it != c.end() && p.type == ParamType::real)
      if (auto i = std::get_if<std::int64_t>(&it->second)) it->second = double(*i);
  }
  Observation o{std::move(c), state, 0, false};
  bool with_value = (state == TrialState::complete || state == TrialState::pruned) && std::isfinite(value);
  if ((state == TrialState::complete || state == TrialState::pruned) && !with_value) o.state = TrialState::failed;
  auto& a = agg_[o.config];
  if (with_value) {
    o.y = to_internal(value);
    o.has_value = true;
    a.sum += o.y;
    a.sum_sq += o.y * o.y;
    ++a.count;
    ++n_values_;
  } else {
    ++a.failures;
  }
  obs_.push_back(std::move(o));
  return obs_.back();
}

Recommendation History::best_by_average() const {
  Recommendation r;
  const std::pair<const Config, Aggregate>* best = nullptr;
  for (const auto& e : agg_)
    if (e.second.count > 0 && (!best || e.second.mean() < best->second.mean())) best = &e;
  if (!best) return r;
  const auto& a = best->second;
  r.config = best->first;
  r.mean = to_user(a.mean());
  r.evaluations = a.count;
  if (a.count > 1) {
    double var = std::max(0.0, (a.sum_sq - a.sum * a.sum / a.count) / (a.count - 1));
    r.sd = std::sqrt(var / a.count);
  } else {
    r.sd = std::nan("");
  }
  r.valid = true;
  return r;
}

std::optional<Config> History::least_measured_of_best() const {
  std::vector<const std::pair<const Config, Aggregate>*> ranked;
  for (const auto& e : agg_)
    if (e.second.count > 0) ranked.push_back(&e);
  if (ranked.empty()) return std::nullopt;
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](auto* a, auto* b) { return a->second.mean() < b->second.mean(); });
  ranked.resize(std::min<size_t>(3, ranked.size()));
  auto* pick = *std::min_element(ranked.begin(), ranked.end(),
                                 [](auto* a, auto* b) { return a->second.count < b->second.count; });
  return pick->first;
}

}  // namespace wgopt::opt

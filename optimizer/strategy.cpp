#include "optimizer/strategy.hpp"

#include <fmt/format.h>

#include "common/error.hpp"
#include "optimizer/strategies.hpp"

namespace wgopt::opt {

const char* to_string(TrialState s) {
  switch (s) {
    case TrialState::complete: return "complete";
    case TrialState::failed: return "failed";
    case TrialState::pruned: return "pruned";
    case TrialState::infeasible: return "infeasible";
  }
  return "?";
}

std::vector<Contribution> changed_params(const Space& space, const Config& winner, const Config& baseline) {
  if (auto e = space.validate(winner); !e.empty()) throw UsageError("winner configuration: " + e);
  if (auto e = space.validate(baseline); !e.empty()) throw UsageError("baseline configuration: " + e);
  std::vector<Contribution> out;
  for (const auto& p : space.params()) {
    auto w = winner.find(p.name);
    if (w == winner.end()) continue;   // inactive in the winner: nothing it changed to keep
    auto b = baseline.find(p.name);
    if (b != baseline.end() && b->second == w->second) continue;
    Contribution c{.param = p.name, .winner = w->second};
    if (b != baseline.end()) c.baseline = b->second;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> strategy_names() { return {"bo", "random", "coordinate"}; }

std::unique_ptr<Strategy> make_strategy(const std::string& name, const Space& space,
                                        const StrategyOptions& options) {
  if (auto e = space.validate(); !e.empty()) throw UsageError("search space: " + e);
  if (options.start)
    if (auto e = space.validate(*options.start); !e.empty()) throw UsageError("start configuration: " + e);
  if (name == "bo") return make_bo_strategy(space, options);
  if (name == "random") return make_random_strategy(space, options);
  if (name == "coordinate") return make_coordinate_strategy(space, options);
  throw UsageError(fmt::format("strategy '{}' is unknown: use bo, random or coordinate", name));
}

}  // namespace wgopt::opt

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

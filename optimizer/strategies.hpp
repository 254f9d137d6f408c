#pragma once
// Constructors behind make_strategy (strategy.cpp validates the space and options first).
#include <memory>

#include "optimizer/strategy.hpp"

namespace wgopt::opt {
std::unique_ptr<Strategy> make_random_strategy(const Space& space, const StrategyOptions& o);
std::unique_ptr<Strategy> make_coordinate_strategy(const Space& space, const StrategyOptions& o);
std::unique_ptr<Strategy> make_bo_strategy(const Space& space, const StrategyOptions& o);
}  // namespace wgopt::opt

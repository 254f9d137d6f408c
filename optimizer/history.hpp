#pragma once
// What a strategy has been told, in the strategy's internal direction (always minimise: values of a
// maximised objective are negated once, here). Shared by the strategies.
#include <map>
#include <optional>
#include <vector>

#include "optimizer/space.hpp"
#include "optimizer/strategy.hpp"

namespace wgopt::opt {

struct Observation {
  Config config;
  TrialState state = TrialState::complete;
  double y = 0;          // internal (minimised) value; meaningful when has_value
  bool has_value = false;
};

class History {
 public:
  History(const Space& space, Direction direction) : space_(&space), direction_(direction) {}

  // Validates (throws wgopt::UsageError naming the problem), normalises number types, records.
  // A complete/pruned trial with a non-finite value is recorded as failed.
  const Observation& add(const Config& config, TrialState state, double value);

  const std::vector<Observation>& all() const { return obs_; }
  int size() const { return int(obs_.size()); }
  int n_values() const { return n_values_; }

  // Internal value <-> user's value (sign flip for maximisation).
  double to_internal(double v) const { return direction_ == Direction::maximize ? -v : v; }
  double to_user(double y) const { return to_internal(y); }
  Direction direction() const { return direction_; }

  struct Aggregate {
    double sum = 0, sum_sq = 0;
    int count = 0;       // measurements with a value
    int failures = 0;
    double mean() const { return sum / count; }
  };
  // Per distinct configuration.
  const std::map<Config, Aggregate>& aggregates() const { return agg_; }

  // Best distinct config by average measured value (failed-only configs never win), as a
  // Recommendation in user units; invalid when nothing has a value.
  Recommendation best_by_average() const;
  // Among the 3 best by average, the one measured the fewest times.
  std::optional<Config> least_measured_of_best() const;

 private:
  const Space* space_;
  Direction direction_;
  std::vector<Observation> obs_;
  std::map<Config, Aggregate> agg_;
  int n_values_ = 0;
};

}  // namespace wgopt::opt

// The model-free strategies: `random` and `coordinate` (the field guide's "apply changes one at a
// time and re-measure").
#include <algorithm>
#include <cmath>
#include <deque>

#include "optimizer/history.hpp"
#include "optimizer/sampling.hpp"
#include "optimizer/strategies.hpp"

namespace wgopt::opt {

namespace {

class RandomStrategy : public Strategy {
 public:
  RandomStrategy(const Space& space, const StrategyOptions& o)
      : space_(space), hist_(space_, o.direction), rng_(o.seed) {}
  Config ask() override { return random_config(space_, rng_); }
  void tell(const Config& c, TrialState s, double v) override { hist_.add(c, s, v); }
  Recommendation recommend() override { return hist_.best_by_average(); }
  std::optional<Config> remeasure_candidate() override { return hist_.least_measured_of_best(); }
  std::vector<Contribution> contributions(const Config& w, const Config& b) override {
    return changed_params(space_, w, b);
  }
  std::string name() const override { return "random"; }

 private:
  Space space_;
  History hist_;
  Rng rng_;
};

class CoordinateStrategy : public Strategy {
 public:
  CoordinateStrategy(const Space& space, const StrategyOptions& o)
      : space_(space), hist_(space_, o.direction), rng_(o.seed) {
    incumbent_ = space_.complete(o.start.value_or(Config{}));
  }

  Config ask() override {
    if (!started_) {
      started_ = true;
      return incumbent_;  // the baseline every change is compared against
    }
    if (queue_.empty()) {
      settle();
      refill();
    }
    Config c = queue_.front();
    queue_.pop_front();
    return c;
  }
  void tell(const Config& c, TrialState s, double v) override { hist_.add(c, s, v); }
  Recommendation recommend() override { return hist_.best_by_average(); }
  std::optional<Config> remeasure_candidate() override { return hist_.least_measured_of_best(); }
  std::vector<Contribution> contributions(const Config& w, const Config& b) override {
    return changed_params(space_, w, b);
  }
  std::string name() const override { return "coordinate"; }

 private:
  // Keeps the best of the incumbent and the values just tried for the current parameter.
  void settle() {
    const auto& agg = hist_.aggregates();
    auto mean_of = [&](const Config& c) {
      auto it = agg.find(c);
      return it != agg.end() && it->second.count > 0 ? it->second.mean() : HUGE_VAL;
    };
    double best = mean_of(incumbent_);
    for (const auto& c : batch_)
      if (double m = mean_of(c); m < best) {
        best = m;
        incumbent_ = c;
      }
    batch_.clear();
  }

  std::vector<Config> candidates_for(int i) {
    const auto& p = space_.params()[i];
    std::vector<Config> out;
    auto add = [&](Value v) {
      Config c = incumbent_;
      c[p.name] = std::move(v);
      c = space_.complete(std::move(c));
      if (c != incumbent_ && std::find(out.begin(), out.end(), c) == out.end()) out.push_back(std::move(c));
    };
    switch (p.type) {
      case ParamType::real:
      case ParamType::integer:
      case ParamType::pow2: {
        // Steps halve every sweep but never go below one grid level.
        double delta = 0.25 / std::pow(2.0, sweep_);
        if (p.levels() > 1) delta = std::max(delta, 1.0 / double(p.levels() - 1));
        double u = unit_position(space_, i, incumbent_);
        for (double t : {u - delta, u + delta})
          if (t >= -1e-12 && t <= 1 + 1e-12) add(space_.value_at(i, t));
        break;
      }
      case ParamType::categorical:
        for (const auto& ch : p.choices) add(ch);
        break;
      case ParamType::boolean: add(!std::get<bool>(incumbent_.at(p.name))); break;
      case ParamType::mask: {
        auto m = std::get<std::int64_t>(incumbent_.at(p.name));
        for (int b = 0; b < std::min(p.bits, 16); ++b) add(m ^ (std::int64_t{1} << b));
        break;
      }
    }
    return out;
  }

  void refill() {
    const int np = int(space_.params().size());
    for (int tries = 0; tries < np && queue_.empty(); ++tries) {
      if (++param_ >= np) {
        param_ = 0;
        ++sweep_;
      }
      if (!incumbent_.count(space_.params()[param_].name)) continue;  // inactive under a condition
      batch_ = candidates_for(param_);
      queue_.assign(batch_.begin(), batch_.end());
    }
    if (queue_.empty()) {  // nothing left to vary (a one-point space): look around randomly
      batch_ = {perturb(space_, incumbent_, 0.1, rng_)};
      queue_.assign(batch_.begin(), batch_.end());
    }
  }

  Space space_;
  History hist_;
  Rng rng_;
  Config incumbent_;
  bool started_ = false;
  int param_ = -1, sweep_ = 0;
  std::vector<Config> batch_;
  std::deque<Config> queue_;
};

}  // namespace

std::unique_ptr<Strategy> make_random_strategy(const Space& space, const StrategyOptions& o) {
  return std::make_unique<RandomStrategy>(space, o);
}
std::unique_ptr<Strategy> make_coordinate_strategy(const Space& space, const StrategyOptions& o) {
  return std::make_unique<CoordinateStrategy>(space, o);
}

}  // namespace wgopt::opt

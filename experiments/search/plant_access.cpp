#include "experiments/search/plant_access.hpp"

#include <spdlog/spdlog.h>

namespace wgopt::experiments {

PlantAccess::PlantAccess(const SearchEnv& env, const Plant& plant, BoundSpace& bound, act::ChangeSession& session,
                         act::Guardian* guardian, const std::atomic<bool>& interrupted)
    : env_(env), plant_(plant), bound_(bound), session_(session), guardian_(guardian), interrupted_(interrupted) {}

void PlantAccess::apply(const Values& values) {
  std::vector<act::TxTarget> places;
  for (auto& t : bound_.targets) places.push_back({&t.host, &t.knobs});
  std::vector<act::Change> changes;
  for (const auto& [id, value] : values) {
    auto it = bound_.bindings.find(id);
    if (it == bound_.bindings.end()) continue;
    for (const auto& b : it->second) changes.push_back({b.id, value, b.target});
  }
  std::vector<std::unique_ptr<act::Transaction>> txs;
  txs.push_back(std::make_unique<act::Transaction>(session_, places));
  txs.back()->apply(changes);
  live_ = std::move(txs);
}

void PlantAccess::rollback_live() {
  for (auto it = live_.rbegin(); it != live_.rend(); ++it) {
    auto report = (*it)->rollback();
    for (const auto& item : report.items) {
      if (item.outcome == act::Outcome::ChangedByOther || item.outcome == act::Outcome::Failed) {
        spdlog::warn("{}", item.line());
      }
    }
  }
  live_.clear();
}

void PlantAccess::keep_live() {
  for (auto& tx : live_) tx->keep();
  live_.clear();
}

bool PlantAccess::settle(std::chrono::milliseconds d) const {
  auto end = env_.clock() + d;
  while (env_.clock() < end) {
    if (interrupted_.load()) return false;
    env_.sleep(std::chrono::milliseconds(50));
  }
  return !interrupted_.load();
}

}  // namespace wgopt::experiments

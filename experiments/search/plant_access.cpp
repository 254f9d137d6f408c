#include "experiments/search/plant_access.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "experiments/search/remote_end.hpp"

namespace wgopt::experiments {

PlantAccess::PlantAccess(const SearchEnv& env, const Plant& plant, BoundSpace& bound, act::ChangeSession& session,
                         act::Guardian* guardian, const std::atomic<bool>& interrupted, RemoteEnd* remote)
    : env_(env), plant_(plant), bound_(bound), session_(session), guardian_(guardian), interrupted_(interrupted), remote_(remote) {}

std::unique_ptr<act::Transaction> PlantAccess::apply(const Values& values) {
  std::vector<act::TxTarget> places;
  for (auto& t : bound_.targets) places.push_back({&t.host, &t.knobs});
  std::vector<act::Change> changes;
  for (const auto& [id, value] : values) {
    auto it = bound_.bindings.find(id);
    if (it == bound_.bindings.end()) continue;
    for (const auto& b : it->second) changes.push_back({b.id, value, b.target});
  }
  auto tx = std::make_unique<act::Transaction>(session_, places);
  tx->apply(changes);
  if (remote_) {
    try {
      remote_->apply(values);
    } catch (...) {
      note(tx->rollback());  // found in review: what it left alone went unsaid
      throw;
    }
  }
  return tx;
}

Evaluation PlantAccess::measure(const Objective& objective, const MeasureOptions& options) const {
  try {
    return env_.measure(plant_, objective, options);
  } catch (const Error&) {
    check_interrupted();
    throw;
  }
}

void PlantAccess::left_alone(const std::string& line) {
  if (std::find(left_alone_.begin(), left_alone_.end(), line) == left_alone_.end()) left_alone_.push_back(line);
}

std::string PlantAccess::restored(const std::string& restored) const {
  if (left_alone_.empty()) return restored;
  return fmt::format("{}, except {} knob(s) a rollback left as it found them ({})", restored, left_alone_.size(), fmt::join(left_alone_, "; "));
}

void PlantAccess::note(const act::RestoreReport& report) {
  for (const auto& item : report.items) {
    if (item.outcome == act::Outcome::Restored || item.outcome == act::Outcome::Unchanged) continue;
    spdlog::warn("{}", item.line());
    left_alone(item.line());
  }
}

void PlantAccess::settle(std::chrono::milliseconds d) const {
  auto end = env_.clock() + d;
  while (env_.clock() < end) {
    check_interrupted();
    env_.sleep(std::chrono::milliseconds(50));
  }
  check_interrupted();
}

AppliedCandidate::AppliedCandidate(PlantAccess& plant, const Values& values, std::chrono::milliseconds lease) : plant_(plant) {
  plant_.arm(lease);
  try {
    tx_ = plant_.apply(values);
  } catch (...) {
    plant_.disarm();
    plant_.check_interrupted();
    throw;
  }
  alive_ = plant_.tunnel_alive(why_);
  if (!alive_) {
    try {
      plant_.check_interrupted();
    } catch (const Interrupted&) {
      rollback();
      throw;
    }
  }
}

AppliedCandidate::~AppliedCandidate() {
  try {
    rollback();
  } catch (const std::exception& e) {
    spdlog::error("restoring the candidate failed: {}", e.what());
  }
}

void AppliedCandidate::rollback() {
  if (!tx_) return;
  auto tx = std::move(tx_);
  plant_.note(tx->rollback());
  plant_.disarm();
  if (plant_.remote())
    for (const auto& line : plant_.remote()->rollback()) plant_.left_alone(line);
}

void AppliedCandidate::keep() {
  if (!tx_) return;
  auto tx = std::move(tx_);
  if (plant_.remote()) plant_.remote()->keep();
  tx->keep();
  plant_.disarm();
}

}  // namespace wgopt::experiments

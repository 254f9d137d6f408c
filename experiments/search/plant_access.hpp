#pragma once
// What the search's stages use to change and measure the plant: apply a set of values to every
// bound end as ONE transaction (so the journal's open transaction covers every place and crash
// recovery restores them together), roll it back, check the tunnel, settle, measure, and keep the
// guardian's lease. It holds the candidate applied right now, so an interruption anywhere can
// put the host back in one place (rollback_live).
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "actuators/restore.hpp"
#include "actuators/transaction.hpp"
#include "actuators/watchdog.hpp"
#include "experiments/search/space_binding.hpp"

namespace wgopt::experiments {

// Thrown by a stage when SIGINT/SIGTERM arrived; run_search catches it once and puts the host back.
struct Interrupted {};

class PlantAccess {
 public:
  PlantAccess(const SearchEnv& env, const Plant& plant, BoundSpace& bound, act::ChangeSession& session,
              act::Guardian* guardian, const std::atomic<bool>& interrupted);

  // Applies `values` (parameter ids) to every bound place as the live candidate. On failure the
  // transaction has restored what it wrote and the Error (UsageError for validation) is rethrown.
  void apply(const Values& values);
  // Restores the live candidate, if any (a knob someone else changed meanwhile is left and warned about).
  void rollback_live();
  // Keeps the live candidate for good (the journal keeps the originals for `wgopt rollback`).
  void keep_live();
  // Forgets the live candidate without touching the host (its apply failed and restored itself).
  void drop_live() { live_.clear(); }
  bool has_live() const { return !live_.empty(); }

  bool tunnel_alive(std::string& why) const { return env_.tunnel_alive(plant_, why); }
  // Waits `d` in short steps; false as soon as Ctrl-C arrives.
  bool settle(std::chrono::milliseconds d) const;
  Evaluation measure(const Objective& objective, const MeasureOptions& options) const { return env_.measure(plant_, objective, options); }

  void arm(std::chrono::milliseconds lease) const {
    if (guardian_) guardian_->arm(lease);
  }
  void disarm() const {
    if (guardian_) guardian_->disarm();
  }
  void stop_guardian() const {
    if (guardian_) guardian_->stop();
  }
  // Throws Interrupted when Ctrl-C arrived.
  void check_interrupted() const {
    if (interrupted_.load()) throw Interrupted{};
  }
  bool interrupted() const { return interrupted_.load(); }
  const SearchEnv& env() const { return env_; }
  const BoundSpace& bound() const { return bound_; }

 private:
  const SearchEnv& env_;
  const Plant& plant_;
  BoundSpace& bound_;
  act::ChangeSession& session_;
  act::Guardian* guardian_;
  const std::atomic<bool>& interrupted_;
  std::vector<std::unique_ptr<act::Transaction>> live_;
};

}  // namespace wgopt::experiments

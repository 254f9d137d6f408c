#pragma once
// What the search's stages use to change and measure the plant. A candidate is applied in one way
// only, AppliedCandidate: arm the guardian, apply to every bound end as ONE transaction (so the
// journal's open transaction covers every place and crash recovery restores them together), then
// the remote end's part (--ssh: one transaction on the peer, guarded by the peer's own guardian),
// check the tunnel, then keep it or roll it back on both. Its destructor rolls back and disarms, so no way out of
// a stage (an error, Ctrl-C, a skipped round) leaves a candidate applied or the guardian armed.
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

// Thrown by a stage when SIGINT/SIGTERM arrived; run_search catches it once. Whatever was applied
// has been rolled back by then (AppliedCandidate's destructor).
struct Interrupted {};

class RemoteEnd;

class PlantAccess {
 public:
  PlantAccess(const SearchEnv& env, const Plant& plant, BoundSpace& bound, act::ChangeSession& session,
              act::Guardian* guardian, const std::atomic<bool>& interrupted, RemoteEnd* remote = nullptr);

  // `values` (parameter ids) on every bound place, as one applied transaction, then the remote end's
  // part. On failure what was written is restored (both ends) and the Error (UsageError for
  // validation, peer::PeerLost when the peer's session died) is rethrown.
  std::unique_ptr<act::Transaction> apply(const Values& values);
  RemoteEnd* remote() const { return remote_; }

  bool tunnel_alive(std::string& why) const { return env_.tunnel_alive(plant_, why); }
  // Waits `d` in short steps; throws Interrupted as soon as Ctrl-C arrives.
  void settle(std::chrono::milliseconds d) const;
  // An Error while Ctrl-C is arriving is Ctrl-C's (the terminal's SIGINT kills iperf3 and the
  // probes' children too): Interrupted, never a failed measurement.
  Evaluation measure(const Objective& objective, const MeasureOptions& options) const;

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
  const SearchEnv& env() const { return env_; }
  const BoundSpace& bound() const { return bound_; }
  // What a candidate's rollback could not put back (someone else changed it, its interface was made
  // again, the write failed), one line each, first seen first: the end summary's "original values"
  // is not true of these knobs.
  void left_alone(const std::string& line);
  const std::vector<std::string>& left_alone() const { return left_alone_; }
  // `restored` ("the original values are restored"), and the knobs left alone that it is not true of.
  std::string restored(const std::string& restored) const;
  // Warns of and collects what a rollback's `report` did not put back.
  void note(const act::RestoreReport& report);

 private:
  const SearchEnv& env_;
  const Plant& plant_;
  BoundSpace& bound_;
  act::ChangeSession& session_;
  act::Guardian* guardian_;
  const std::atomic<bool>& interrupted_;
  RemoteEnd* remote_;
  std::vector<std::string> left_alone_;
};

class AppliedCandidate {
 public:
  // Arms the guardian for `lease`, applies `values`, checks the tunnel. When the apply fails, the
  // transaction has restored itself, the guardian is disarmed and the Error is rethrown. When the
  // tunnel is dead the candidate stays applied until rollback() (or the destructor): alive() says.
  // A failed apply or a dead tunnel while Ctrl-C arrived is Ctrl-C's (the terminal's SIGINT kills
  // the apply's commands and the ping too): restored, then Interrupted, so the trial is never
  // recorded infeasible for it (a resume would teach the model a cliff that is not there).
  AppliedCandidate(PlantAccess& plant, const Values& values, std::chrono::milliseconds lease);
  ~AppliedCandidate();  // rollback()
  AppliedCandidate(const AppliedCandidate&) = delete;
  AppliedCandidate& operator=(const AppliedCandidate&) = delete;

  bool alive() const { return alive_; }
  const std::string& why_dead() const { return why_; }
  // A longer lease for what follows (settle and measure).
  void extend(std::chrono::milliseconds lease) { plant_.arm(lease); }
  // Restores the values before the candidate (a knob someone else changed meanwhile is left alone
  // and warned about) on both ends and disarms. Once; later calls do nothing. Throws peer::PeerLost
  // when the peer's session died (this end is restored; the peer restores itself).
  void rollback();
  // Keeps the candidate for good (the journal keeps the originals for `wgopt rollback`) and disarms.
  void keep();

 private:
  PlantAccess& plant_;
  std::unique_ptr<act::Transaction> tx_;
  bool alive_ = false;
  std::string why_;
};

}  // namespace wgopt::experiments

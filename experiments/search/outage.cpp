#include "experiments/search/outage.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.hpp"
#include "experiments/search/plant_access.hpp"
#include "experiments/search/search_progress.hpp"

namespace wgopt::experiments {

namespace {

// How long a path down with the host's own values is waited for, and how often it is checked.
constexpr std::chrono::milliseconds kOutageWait{120000};
constexpr std::chrono::seconds kOutageWaitFloor{30};
constexpr std::chrono::milliseconds kOutagePoll{5000};
// Measurements voided one after another before the search gives up on the path.
constexpr int kMaxConsecutiveVoids = 3;
// A tunnel dead right after a rollback is checked again after this (undoing a candidate may reset a link).
constexpr std::chrono::milliseconds kOutageGrace{3000};

}  // namespace

bool looks_broken(const Evaluation& ev, double own_mbps) {
  if (ev.state == Evaluation::State::Failed) return true;
  if (!(own_mbps > 0) || ev.scenarios.empty()) return false;
  double rate = 0;
  if (ev.state == Evaluation::State::Complete && ev.score) rate = ev.score->throughput_mbps;
  else if (ev.state == Evaluation::State::Pruned) rate = ev.scenarios.back().series_mean_mbps;
  else return false;
  return rate < kBrokenRateShare * own_mbps;
}

OutageWatch::OutageWatch(PlantAccess& plant, SearchProgress& progress, const Budget& budget, std::string study_path)
    : plant_(plant), progress_(progress), budget_(budget), study_path_(std::move(study_path)) {}

std::optional<std::string> OutageWatch::path_down() {
  std::string why;
  if (plant_.tunnel_alive(why)) return std::nullopt;
  plant_.settle(kOutageGrace);
  if (plant_.tunnel_alive(why)) return std::nullopt;
  return why;
}

void OutageWatch::voided(const std::string& what, const std::string& why, bool trial) {
  if (!trial) ++rounds_;
  progress_.say(fmt::format("{} voided: {}", what, why));
  if (++in_a_row_ >= kMaxConsecutiveVoids) {
    throw Error(fmt::format("{} {} in a row were voided by outages outside wgopt (the path keeps going down): the host's values "
                            "are restored; once the path is steady, resume with `wgopt search --resume {}`",
                            in_a_row_, trial ? "trials" : "measurements", study_path_));
  }
  wait_for_path(what);
}

// The tunnel checked every few seconds with the host's own values until it answers, for at most
// kOutageWait within what is left of the budget (at least kOutageWaitFloor: what follows needs a
// path too); then the search ends (the host is restored, the study resumable).
void OutageWatch::wait_for_path(const std::string& what) {
  std::string why;
  if (plant_.tunnel_alive(why)) return;  // a lost session that is back, with the tunnel up
  const auto start = plant_.env().clock();
  std::chrono::milliseconds wait = kOutageWait;
  if (const auto left = budget_.remaining()) wait = std::clamp(*left, std::chrono::milliseconds(kOutageWaitFloor), wait);
  const long long wait_s = std::chrono::duration_cast<std::chrono::seconds>(wait).count();
  progress_.say(fmt::format("{}: the tunnel is down with the host's own values too: waiting up to {} s for the path to come back",
                            what, wait_s));
  while (plant_.env().clock() - start < wait) {
    plant_.settle(kOutagePoll);
    if (plant_.tunnel_alive(why)) {
      progress_.say(fmt::format("{}: the path is back after {:.0f} s: measuring it again", what,
                                std::chrono::duration<double>(plant_.env().clock() - start).count()));
      return;
    }
  }
  throw Error(fmt::format("the tunnel has been down for {} s with the host's own values ({}): an outage outside wgopt, not a "
                          "candidate's; the host's values are restored; once the path is back, resume with `wgopt search "
                          "--resume {}`",
                          wait_s, why, study_path_));
}

}  // namespace wgopt::experiments

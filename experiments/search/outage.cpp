#include "experiments/search/outage.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/peer/agent_client.hpp"
#include "experiments/search/plant_access.hpp"
#include "experiments/search/search_progress.hpp"
#include "workload/iperf3_client.hpp"

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

// How a scenario's series stalled, or nullopt: kStallSeconds in a row at under 1% of its own best
// second; or stopped by the pruner while at nothing, as the pruner acts on the first second or two
// of a stall (found in review: with pruning on, the default, a link flap was charged).
std::optional<std::string> stall_in(const ScenarioOutcome& s) {
  const double best = s.series_mbps.empty() ? 0 : *std::max_element(s.series_mbps.begin(), s.series_mbps.end());
  int run = 0;
  for (double v : s.series_mbps) {
    run = best > 0 && v < 0.01 * best ? run + 1 : 0;
    if (run >= kStallSeconds) return fmt::format("{}: a stall of {} s or more at no rate", s.scenario, kStallSeconds);
  }
  if (s.pruned && run > 0) return fmt::format("{}: stopped early after {} s at no rate", s.scenario, run);
  return std::nullopt;
}

// The first stall of `ev`'s scenarios.
std::optional<std::string> stall_of(const Evaluation& ev) {
  if (ev.state != Evaluation::State::Complete && ev.state != Evaluation::State::Pruned) return std::nullopt;
  for (const auto& s : ev.scenarios) {
    if (auto why = stall_in(s)) return why;
  }
  return std::nullopt;
}

}  // namespace

bool has_stall(const Evaluation& ev) { return stall_of(ev).has_value(); }

std::optional<std::string> looks_broken(const Evaluation& ev, double own_mbps) {
  if (ev.state == Evaluation::State::Failed) return ev.note;
  if (ev.state != Evaluation::State::Complete && ev.state != Evaluation::State::Pruned) return std::nullopt;
  if (auto why = stall_of(ev)) return why;
  if (!(own_mbps > 0) || ev.scenarios.empty()) return std::nullopt;
  double rate = 0;
  if (ev.state == Evaluation::State::Complete && ev.score) rate = ev.score->throughput_mbps;
  else rate = ev.scenarios.back().series_mean_mbps;
  if (rate < kBrokenRateShare * own_mbps) return fmt::format("a rate of {:.0f} Mbit/s, under a tenth of the host's own", rate);
  return std::nullopt;
}

OutageWatch::OutageWatch(PlantAccess& plant, SearchProgress& progress, const Budget& budget, std::string way_on)
    : plant_(plant), progress_(progress), budget_(budget), way_on_(std::move(way_on)) {}

std::optional<std::string> OutageWatch::path_down() {
  std::string why;
  if (plant_.tunnel_alive(why)) return std::nullopt;
  plant_.settle(kOutageGrace);
  if (plant_.tunnel_alive(why)) return std::nullopt;
  return why;
}

std::optional<std::string> OutageWatch::server_down(const Evaluation& ev) {
  if (ev.state != Evaluation::State::Failed || ev.scenarios.empty() || !workload::connection_refused(ev.scenarios.back().run)) {
    return std::nullopt;
  }
  std::string done;
  if (restart_server_) {
    try {
      done = restart_server_();
    } catch (const peer::PeerLost&) {
      throw;
    } catch (const Error& e) {
      done = std::string("starting it again failed: ") + e.what();
    }
  }
  return fmt::format("the iperf3 server refused the connection (nothing listened on its port){}",
                     done.empty() ? (restart_server_ ? "" : ": wgopt does not run it here; start it again on the peer")
                                  : "; " + done);
}

std::optional<OutageVerdict> OutageWatch::judge(const BrokenMeasurement& b) {
  if (b.tunnel_died && b.died_before) return std::nullopt;  // the values cut it again, the path shown up in between
  if (const auto down = path_down()) {
    return OutageVerdict{fmt::format("the tunnel was down with the host's own values too ({}); its result was {}", *down, b.result),
                         true};
  }
  if (b.session_lost) {
    // Lost again under the same values, with the tunnel up: theirs (they may be what cuts ssh).
    // Without values (the baseline) nothing of wgopt's is applied.
    if (b.lost_before && b.values) return std::nullopt;
    return OutageVerdict{fmt::format("the session to the peer was lost and is back ({})", b.result)};
  }
  if (b.ev) {
    if (auto server = server_down(*b.ev)) return OutageVerdict{*server};
  }
  if (!b.values) return OutageVerdict{fmt::format("it broke with nothing of wgopt's applied ({})", b.result)};
  // Found by an exploratory test: a 4 s link flap inside a trial, over before the check after it,
  // was charged to the candidate. Values that stall the path themselves stall it again.
  if (b.ev && !b.stalled_before && has_stall(*b.ev)) {
    return OutageVerdict{.why = fmt::format("{}, and the path was up with the host's own values by the check: an outage that ended "
                                            "before it, or the values' own (measured again to tell)",
                                            b.result),
                         .stall = true};
  }
  return std::nullopt;
}

void OutageWatch::voided(const std::string& what, const std::string& why, bool trial) {
  if (!trial) ++rounds_;
  progress_.say(fmt::format("{} voided: {}", what, why));
  if (++in_a_row_ >= kMaxConsecutiveVoids) {
    throw OutageEnded(fmt::format("{} {} in a row were voided by outages outside wgopt (the path keeps going down; the last: {}): "
                                  "the host's values are put back (a warning above names any that could not be); once the path is "
                                  "steady, {}",
                                  in_a_row_, trial ? "trials" : "measurements", one_line(why, 300), way_on_));
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
  const std::chrono::milliseconds wait = longest_wait();
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
  throw OutageEnded(fmt::format("the tunnel has been down for {} s with the host's own values ({}): an outage outside wgopt, not "
                                "a candidate's; the host's values are put back (a warning above names any that could not be); "
                                "once the path is back, {}",
                                wait_s, why, way_on_));
}

std::chrono::milliseconds OutageWatch::longest_wait() const {
  std::optional<std::chrono::milliseconds> left = budget_.remaining();
  if (trials_over_) {
    const auto& wall = budget_.limits().wall;
    left = wall ? std::optional(std::chrono::duration_cast<std::chrono::milliseconds>(*wall - budget_.elapsed())) : std::nullopt;
  }
  if (!left) return kOutageWait;
  return std::clamp(*left, std::chrono::milliseconds(kOutageWaitFloor), kOutageWait);
}

}  // namespace wgopt::experiments

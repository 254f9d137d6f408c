#pragma once
// Outages outside wgopt: the path down whatever is applied (a peer rebooting, a link flapping, the
// peer's session lost). Scoring a measurement taken through one would blame it on what was measured:
// a trial's candidate (the engine would learn a cliff that is not there), the winner in its
// confirmation (the search would end "kept baseline"), or the baseline rounds (the search would
// fail). Every stage that measures asks the one OutageWatch of its search when a measurement looks
// broken, with the host's own values back; a measurement the path's outage broke is voided, the
// path waited for, and the same thing measured again. A path that keeps breaking or does not come
// back ends the search with an Error that names the resume command (the host restored).
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "experiments/measure/measure.hpp"
#include "experiments/study/budget.hpp"

namespace wgopt::experiments {

class PlantAccess;
class SearchProgress;

// A measurement under this share of the host's own rate looks like a broken path.
inline constexpr double kBrokenRateShare = 0.1;

// A run of this many seconds at next to no rate inside a scenario's series is a stall.
inline constexpr int kStallSeconds = 3;

// How `ev` looks like the path broke under it, or nullopt: it failed (its note), it moved under
// kBrokenRateShare of `own_mbps` (the baseline rounds' mean throughput; 0: unknown), or a scenario
// stalled for kStallSeconds at under 1% of its own best second (found by an exploratory test: a
// 5 s outage in a baseline round scored it -24 and went unnoticed, the rate over the run being
// well above a tenth).
std::optional<std::string> looks_broken(const Evaluation& ev, double own_mbps);
// A scenario of `ev` stalled for kStallSeconds at under 1% of its own best second.
bool has_stall(const Evaluation& ev);

// The search ends on an outage (the path keeps breaking, or does not come back): the host is
// restored; `what` names the way on (the resume command). A stage that can end without its
// measurements catches it (the simplification keeps the whole winner); the others let it end the
// search.
class OutageEnded : public Error {
 public:
  using Error::Error;
};

// A measurement that looked broken, as its stage saw it, for OutageWatch::judge.
struct BrokenMeasurement {
  const Evaluation* ev = nullptr;  // null: nothing measured (the tunnel died under the values)
  std::string result;              // what went wrong, one line ("tunnel dead after apply: ...")
  bool values = true;              // something of wgopt's was applied (false: the baseline, as found)
  bool tunnel_died = false;        // the tunnel died right after the values were applied
  bool session_lost = false;       // the peer's session was lost (and is back)
  // Nothing of wgopt's applied and the measurement broke anyway: not anyone's doing here, so it is
  // voided whatever the checks find (the outage may have ended before them).
  // The same values' attempt just before was voided for the same thing: the tunnel died under
  // them, or the session was lost. Twice in a row, with the path shown up in between, it is theirs
  // (a NIC that renegotiates its link for longer than the grace on every apply; values that cut ssh).
  bool died_before = false, lost_before = false;
  // The same values' attempt just before stalled (has_stall) with the path up at the check after
  // it, and was measured again to tell: a second stall is theirs.
  bool stalled_before = false;
};

// Why a broken measurement is not the measured values' doing, or nullopt when it is.
struct OutageVerdict {
  std::string why;
  bool path_down = false;  // the tunnel was down with the host's own values (else: the server, the session)
  bool stall = false;      // a stall under values, the path up by the check: measured again to tell (stalled_before)
};

class OutageWatch {
 public:
  // `way_on`: what the Error that ends a search says to run ("resume with `wgopt search --resume S`").
  OutageWatch(PlantAccess& plant, SearchProgress& progress, const Budget& budget, std::string way_on);

  // With the host's own values applied: the tunnel checked, and again after a short grace (undoing
  // a candidate may reset a link for a few seconds). The reason when it is down both times.
  std::optional<std::string> path_down();
  // `ev` failed because nothing listened on the iperf3 port (a refused connection: the server's
  // host answered, with a reset; no candidate of this end does that): the server is started again
  // where wgopt can (SearchPlant::restart_server, the --ssh peer's agent), and the reason is
  // returned. Found by an exploratory test: a server killed mid-search failed every trial after
  // it, each told to the engine as the candidate's.
  std::optional<std::string> server_down(const Evaluation& ev);
  void set_restart_server(std::function<std::string()> restart) { restart_server_ = std::move(restart); }

  // The one rule every stage applies to a broken measurement, with the host's own values back: the
  // path down (path_down), the server down (server_down) or the session lost and back make it an
  // outage outside wgopt, unless the same values did the same thing just before (died_before,
  // lost_before), when it is theirs. A stall under values with the path up by the check may be an
  // outage that ended before it (a link flap of a few seconds): measured again once to tell.
  std::optional<OutageVerdict> judge(const BrokenMeasurement& b);

  // `what` ("trial 4", "confirmation measurement 3 (winner)") was voided because `why`: counted
  // (three in a row end the search: OutageEnded), then the path is waited for: checked every few
  // seconds for up to two minutes within what is left of the budget (the trials' share while they
  // run, the whole budget's after them; at least 30 s), OutageEnded when it does not come back.
  // A trial's void is counted by the trial loop (TrialCounts::outages); a round's here.
  void voided(const std::string& what, const std::string& why, bool trial);
  // A measurement that was not voided: the count of voids in a row starts again.
  void held() { in_a_row_ = 0; }
  // The trials are over: a wait may take the time the budget held back for what follows them (found
  // in review: the trials' share is spent by then, so every later wait was the 30 s floor).
  void trials_over() { trials_over_ = true; }

  // Measurements other than trials (baseline, confirmation and simplification rounds) voided and
  // measured again.
  int voided_rounds() const { return rounds_; }
  const std::string& way_on() const { return way_on_; }

 private:
  void wait_for_path(const std::string& what);
  std::chrono::milliseconds longest_wait() const;

  PlantAccess& plant_;
  SearchProgress& progress_;
  const Budget& budget_;
  std::string way_on_;
  std::function<std::string()> restart_server_;
  int in_a_row_ = 0;
  int rounds_ = 0;
  bool trials_over_ = false;
};

}  // namespace wgopt::experiments

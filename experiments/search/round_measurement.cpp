#include "experiments/search/round_measurement.hpp"

#include <fmt/format.h>

#include "common/error.hpp"
#include "experiments/peer/agent_client.hpp"
#include "experiments/search/outage.hpp"
#include "experiments/search/plant_access.hpp"
#include "experiments/search/remote_end.hpp"
#include "experiments/search/search_progress.hpp"

namespace wgopt::experiments {

namespace {

// One attempt's outcome: ev scored, or not (its note says why); broken: to be checked against an
// outage.
struct Attempt {
  Evaluation ev;
  bool broken = false;
  bool session_lost = false;
  bool tunnel_died = false;  // under the values, right after the apply
  std::optional<std::string> why;  // how it looks broken (looks_broken)
};

Evaluation failed(std::string note) {
  Evaluation ev;
  ev.state = Evaluation::State::Failed;
  ev.note = std::move(note);
  return ev;
}

Attempt attempt_once(PlantAccess& plant, const ArmSetup& setup, const Values* values,
                     const std::string& arm) {
  Attempt a;
  std::optional<AppliedCandidate> applied;
  try {
    if (values) {
      try {
        applied.emplace(plant, *values, setup.lease);
      } catch (const peer::PeerLost&) {
        throw;
      } catch (const Error& e) {  // lost to the values: applying them is refused, whatever the path does
        a.ev = failed(fmt::format("the {} no longer applies: {}", arm, e.what()));
        return a;
      }
      if (!applied->alive()) {
        applied->rollback();
        a.broken = a.tunnel_died = true;
        a.ev = failed(fmt::format("the tunnel died under the {}: {}", arm, applied->why_dead()));
        return a;
      }
      plant.settle(setup.settle);
    }
    MeasureOptions mo = setup.mo;
    mo.prune = nullptr;  // these rounds measure fully
    if (RemoteEnd* remote = plant.remote()) mo.abandoned = [remote] { return remote->lost(); };
    Evaluation ev;
    try {
      ev = plant.measure(setup.objective, mo);
    } catch (const peer::PeerLost&) {
      throw;
    } catch (const Error& e) {  // the sampler's interface gone mid-run: a failed measurement
      ev.state = Evaluation::State::Failed;
      ev.note = std::string("the measurement could not run: ") + e.what();
    }
    if (applied) applied->rollback();
    if (ev.state == Evaluation::State::Interrupted) throw Interrupted{};
    if (plant.remote() && plant.remote()->lost()) throw peer::PeerLost("the session to the peer was lost during the measurement");
    a.why = looks_broken(ev, setup.own_mbps);
    a.broken = a.why.has_value();
    a.ev = std::move(ev);
  } catch (const peer::PeerLost& e) {  // this end is restored (AppliedCandidate); the peer restores itself
    a.ev = failed(std::string("peer lost: ") + e.what());
    a.broken = a.session_lost = true;
  }
  return a;
}

// The session back (or peer::PeerLost: the search ends), said on the progress line.
void reconnect(PlantAccess& plant, SearchProgress& progress, const std::string& what) {
  progress.say(fmt::format("{}: peer lost; {}", what, plant.remote()->recover()));
}

}  // namespace

Evaluation measure_arm(PlantAccess& plant, OutageWatch& outages, SearchProgress& progress, const ArmSetup& setup, const Values* values,
                       const std::string& arm, const std::string& what) {
  bool died_before = false, lost_before = false, stalled_before = false;
  for (;;) {
    plant.check_interrupted();
    Attempt a = attempt_once(plant, setup, values, arm);
    if (a.session_lost) reconnect(plant, progress, what);
    // Before the path carried a measurement (the first baseline round) a broken one says it does
    // not work, at once; a session that was lost and is back shows it does.
    if (!a.broken || (!setup.void_outages && !a.session_lost)) {
      outages.held();
      return std::move(a.ev);
    }
    const auto verdict = outages.judge({.ev = &a.ev,
                                        .result = a.why.value_or(a.ev.note),
                                        .values = values != nullptr,
                                        .tunnel_died = a.tunnel_died,
                                        .session_lost = a.session_lost,
                                        .died_before = died_before,
                                        .lost_before = lost_before,
                                        .stalled_before = stalled_before});
    if (!verdict) {
      outages.held();
      return std::move(a.ev);  // a slow rate or a failure with the path up is the arm's own
    }
    died_before = died_before || a.tunnel_died;  // the same values' attempts so far (a stall, a path down, a stall: its second)
    lost_before = lost_before || a.session_lost;
    stalled_before = stalled_before || verdict->stall;
    outages.voided(what, verdict->why, false);
  }
}

}  // namespace wgopt::experiments

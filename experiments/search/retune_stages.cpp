#include "experiments/search/retune_stages.hpp"

#include <fmt/format.h>

#include <cmath>

#include "common/error.hpp"
#include "experiments/search/host_gate.hpp"
#include "experiments/search/policies.hpp"
#include "experiments/search/remote_end.hpp"
#include "experiments/search/search_progress.hpp"

namespace wgopt::experiments {

void gate_peer_facts(const act::Profile& profile, const std::string& label, const RemoteEnd& remote, bool force) {
  require_matching_host(compare_peer_with(profile, label, remote.facts()), fmt::format("{} (its peer: part, on {})", label, remote.label()),
                        force);
}

void put_back_drift(PlantAccess& plant, const std::vector<std::string>& drifted, SearchProgress& progress) {
  for (const auto& d : drifted) progress.say("drifted from the profile: " + d);
  const int n = static_cast<int>(drifted.size());
  progress.show("put back", n, n);  // the line read "trial 0" here (found by an exploratory test)
  AppliedCandidate profile(plant, plant.bound().retune_values, kApplyLease);
  if (!profile.alive()) {
    profile.rollback();
    // Dead as found too: the peer or the path, not the profile (found by an exploratory test: an
    // unreachable --peer was reported as "putting the profile's values back cut the tunnel").
    std::string why_found;
    if (!plant.tunnel_alive(why_found)) {
      throw Error(fmt::format("the tunnel does not answer, with the profile's values or as the host was: is the peer up and "
                              "its address right? {}: {}",
                              plant.restored("The host is as it was"), why_found));
    }
    throw Error("putting the profile's values back cut the tunnel; " + plant.restored("the host is as it was") + ": " + profile.why_dead());
  }
  profile.keep();
}

bool below_tolerance(double recorded, double now, double tolerance) { return now < recorded - std::abs(recorded) * tolerance; }

RetuneCheck check_profile(const Evidence& evidence, double tolerance, const BaselineResult& baseline, const std::string& kernel_was,
                          const std::string& kernel_now, SearchProgress& progress) {
  const auto rec = evidence.recorded_score();
  const double now = baseline.stats.mean;
  RetuneCheck c;
  c.recorded_score = rec.value_or(now);
  c.regressed = rec && below_tolerance(*rec, now, tolerance);
  c.kernel_changed = !kernel_now.empty();
  progress.say(fmt::format("profile: recorded score {:.1f}, now {:.1f} ({:+.1f}%){}{}", c.recorded_score, now,
                           c.recorded_score != 0 ? 100.0 * (now - c.recorded_score) / std::abs(c.recorded_score) : 0.0,
                           c.regressed ? fmt::format(": a regression beyond the {:.0f}% tolerance", 100 * tolerance) : "",
                           c.kernel_changed ? fmt::format("; kernel {} -> {}", kernel_was, kernel_now) : ""));
  return c;
}

}  // namespace wgopt::experiments

#pragma once
// Host facts gate every apply (issue 12): before `wgopt apply` or `wgopt retune` changes anything,
// the profile's recorded host facts are compared with this host's (experiments/measure/host_facts.hpp:
// one definition of the facts, one comparison), for the interfaces export_roles() names as the
// profile's underlay and WireGuard interface. `wgopt facts` prints the same check; the exported
// Ansible role runs it on every host before it installs anything.
#include <string>
#include <vector>

#include "actuators/profile.hpp"
#include "common/exec.hpp"
#include "common/place.hpp"
#include "experiments/export/export.hpp"
#include "experiments/measure/host_facts.hpp"
#include "experiments/peer/ops.hpp"

namespace wgopt::experiments {

struct HostGate {
  InterfaceRoles roles;                     // the profile's underlay and WireGuard interface
  HostFacts here;                           // this host's facts for them
  std::vector<FactDifference> differences;  // empty: the host matches (or the profile records no facts)
  std::vector<FactDifference> not_compared;  // recorded, but no interface here to compare them on (uncompared_host_facts)
  bool matches() const { return differences.empty(); }
};

// The profile's interface roles (export_roles with no options), else the interfaces its host facts
// name (`underlay:`, `wireguard:`, recorded by `wgopt search`) when this host has them; a role still
// undecided compares no driver / WireGuard mode, and the gate lists that fact as not compared. Throws UsageError for a profile export refuses.
InterfaceRoles profile_roles(const act::Profile& profile, const std::string& label, const Place& place = Place::host());

// Reads this host's facts in `place` and compares them with the profile's; a profile made in a
// network namespace (`place: netns NS`) differs in `place` anywhere but there (or its mirror, or a
// wgopt run by `ip netns exec NS`): facts, apply, retune and the Ansible role agree on it.
HostGate check_host_facts(const act::Profile& profile, const std::string& label, const Place& place, CommandRunner& runner);
// The same comparison with facts read elsewhere (a peer's `hello`).
HostGate compare_with(const act::Profile& profile, const std::string& label, HostFacts here);

// The peer's end (`wgopt apply --ssh`, `wgopt retune --ssh`): the facts the peer's agent read
// (its hello) against the profile's record of the peer: its `peer.host` when the profile holds
// both ends, else its `host` (a one-host profile applied to the peer). The peer's underlay and
// tunnel are the profile's roles under the peer's names (`peer.host.interfaces`, default the same).
// `peer_facts` must hold the driver / WireGuard mode of those names for them to be compared: see
// peer_fact_interfaces().
HostGate compare_peer_with(const act::Profile& profile, const std::string& label, const peer::PeerFacts& peer_facts);
// The peer's interface names whose facts compare_peer_with reads (ask the agent's hello for them).
std::vector<std::string> peer_fact_interfaces(const act::Profile& profile, const std::string& label);

// Throws UsageError "profile P was made on another kind of host (DIFFERENCES): nothing was changed;
// pass --force to apply it anyway" unless the gate matches or `force`.
void require_matching_host(const HostGate& gate, const std::string& label, bool force);

}  // namespace wgopt::experiments

#include "experiments/search/host_gate.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <optional>

#include "actuators/host.hpp"
#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::experiments {

namespace {

std::string recorded_text(const YAML::Node& host, const char* key) { return recorded_fact(host, key).value_or(""); }

// The interface the profile's host facts name for `key`, when it is a device here.
std::string recorded_interface(const act::Profile& profile, const char* key, const Place& place) {
  const std::string name = recorded_text(profile.host, key);
  if (!is_valid_ifname(name)) return {};
  return act::make_host(place).files->exists("/sys/class/net/" + name + "/ifindex") ? name : std::string();
}

}  // namespace

InterfaceRoles profile_roles(const act::Profile& profile, const std::string& label, const Place& place) {
  ExportOptions o;
  o.profile_label = label;
  InterfaceRoles r = export_roles(profile, o);
  if (r.underlay.empty()) r.underlay = recorded_interface(profile, "underlay", place);
  if (r.wireguard.empty()) r.wireguard = recorded_interface(profile, "wireguard", place);
  return r;
}

HostGate compare_with(const act::Profile& profile, const std::string& /*label*/, HostFacts here) {
  HostGate g;
  g.roles = {here.underlay, here.wireguard};  // the profile's roles, as check_host_facts read the facts for them
  g.here = std::move(here);
  g.differences = compare_host_facts(profile.host, g.here);
  g.not_compared = uncompared_host_facts(profile.host, g.here);
  return g;
}

namespace {

// A profile made in a namespace (`place: netns NS`: a testbed end, `show --netns`) checked anywhere
// else: its interfaces are not there, and its sysctls would land in the wrong namespace. Its mirror
// (the testbed's other end) counts as where it was made, and so does `ip netns exec NS wgopt`
// (an Ansible host that is a namespace), whose place is "host".
std::optional<FactDifference> place_difference(const act::Profile& profile, const Place& place) {
  const std::string made_in = recorded_text(profile.host, "place");
  if (!made_in.starts_with("netns ")) return std::nullopt;
  const std::string here = place.describe();
  const std::string own = place.is_host() ? netns_name_of(own_net_namespace()) : "";
  for (const std::string& ok : {made_in, recorded_text(profile.host, "mirrored_to")}) {
    if (!ok.empty() && (ok == here || (!own.empty() && ok == "netns " + own))) return std::nullopt;
  }
  return FactDifference{"place", made_in, here};
}

}  // namespace

HostGate check_host_facts(const act::Profile& profile, const std::string& label, const Place& place, CommandRunner& runner) {
  const InterfaceRoles roles = profile_roles(profile, label, place);
  HostGate g = compare_with(profile, label, read_host_facts(runner, place, roles.underlay, roles.wireguard));
  if (auto d = place_difference(profile, place)) g.differences.insert(g.differences.begin(), *d);
  return g;
}

namespace {

// The peer's name of this end's interface `local` (the profile's `peer.host.interfaces`).
std::string peer_name(const act::Profile& profile, const std::string& local) {
  if (local.empty() || !profile.peer || !profile.peer->host.IsMap()) return local;
  const YAML::Node& host = profile.peer->host;  // const: a missing key must not be created
  const YAML::Node map = host["interfaces"];
  if (!map || !map.IsMap()) return local;
  const YAML::Node n = map[local];
  return n && n.IsScalar() ? n.Scalar() : local;
}

InterfaceRoles peer_roles(const act::Profile& profile, const std::string& label) {
  ExportOptions o;
  o.profile_label = label;
  InterfaceRoles here = export_roles(profile, o);
  // A profile of sysctls: this end's interfaces its facts name, under the peer's names (the peer's
  // hello reads them there; whether they exist is the peer's to say).
  if (here.underlay.empty()) here.underlay = recorded_text(profile.host, "underlay");
  if (here.wireguard.empty()) here.wireguard = recorded_text(profile.host, "wireguard");
  for (auto* name : {&here.underlay, &here.wireguard}) {
    if (!is_valid_ifname(*name)) name->clear();
  }
  return {peer_name(profile, here.underlay), peer_name(profile, here.wireguard)};
}

}  // namespace

std::vector<std::string> peer_fact_interfaces(const act::Profile& profile, const std::string& label) {
  std::vector<std::string> out;
  const InterfaceRoles r = peer_roles(profile, label);
  for (const auto& i : {r.underlay, r.wireguard}) {
    if (!i.empty()) out.push_back(i);
  }
  return out;
}

HostGate compare_peer_with(const act::Profile& profile, const std::string& label, const peer::PeerFacts& f) {
  HostGate g;
  g.roles = peer_roles(profile, label);
  g.here = HostFacts{.kernel = f.kernel, .nproc = f.nproc, .sku = f.sku, .underlay = g.roles.underlay, .wireguard = g.roles.wireguard};
  if (auto it = f.nic_driver.find(g.roles.underlay); it != f.nic_driver.end()) g.here.nic_driver = it->second;
  if (auto it = f.wireguard_mode.find(g.roles.wireguard); it != f.wireguard_mode.end()) g.here.wireguard_mode = it->second;
  // A fact the peer was not asked for is not compared (compare_host_facts skips an empty name).
  if (!f.nic_driver.count(g.roles.underlay)) g.here.underlay.clear();
  if (!f.wireguard_mode.count(g.roles.wireguard)) g.here.wireguard.clear();
  g.differences = compare_host_facts(profile.peer ? profile.peer->host : profile.host, g.here);
  g.not_compared = uncompared_host_facts(profile.peer ? profile.peer->host : profile.host, g.here);
  return g;
}

void require_matching_host(const HostGate& gate, const std::string& label, bool force) {
  for (const auto& n : gate.not_compared) {
    spdlog::warn("profile {} records {} {}, not compared here ({})", one_line(label, 200), n.fact, one_line(n.profile, 80), n.host);
  }
  if (gate.matches()) return;
  const std::string what = describe_differences(gate.differences);
  if (force) {
    spdlog::warn("profile {} was made on another kind of host ({}): applying it anyway (--force)", one_line(label, 200), what);
    return;
  }
  throw UsageError(fmt::format("profile {} was made on another kind of host ({}): nothing was changed; pass --force to apply it "
                               "anyway",
                               one_line(label, 200), what));
}

}  // namespace wgopt::experiments

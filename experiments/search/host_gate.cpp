#include "experiments/search/host_gate.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::experiments {

InterfaceRoles profile_roles(const act::Profile& profile, const std::string& label) {
  ExportOptions o;
  o.profile_label = label;
  return export_roles(profile, o);
}

HostGate compare_with(const act::Profile& profile, const std::string& label, HostFacts here) {
  HostGate g;
  g.roles = profile_roles(profile, label);
  g.here = std::move(here);
  g.differences = compare_host_facts(profile.host, g.here);
  return g;
}

HostGate check_host_facts(const act::Profile& profile, const std::string& label, const Place& place, CommandRunner& runner) {
  const InterfaceRoles roles = profile_roles(profile, label);
  return compare_with(profile, label, read_host_facts(runner, place, roles.underlay, roles.wireguard));
}

void require_matching_host(const HostGate& gate, const std::string& label, bool force) {
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

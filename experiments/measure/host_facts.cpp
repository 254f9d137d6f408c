#include "experiments/measure/host_facts.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <optional>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "probes/wireguard.hpp"

namespace wgopt::experiments {

std::string kernel_release() {
  struct utsname u {};
  return ::uname(&u) == 0 ? std::string(u.release) : std::string();
}

std::string read_sku(int nproc, const std::string& root) {
  const std::string dir = (root == "/" ? std::string() : root) + "/sys/class/dmi/id/";
  auto name = read_file(dir + "product_name");
  auto vendor = read_file(dir + "sys_vendor");
  std::string s = trim(vendor.value_or("")) + (vendor && name ? " " : "") + trim(name.value_or(""));
  if (trim(s).empty()) s = fmt::format("unknown ({} CPUs)", nproc);
  return trim(s);
}

std::string nic_driver(CommandRunner& runner, const Place& place, const std::string& iface) {
  if (!is_valid_ifname(iface)) return {};
  auto r = runner.run({.argv = place.wrap({"ethtool", "-i", iface}), .timeout = std::chrono::seconds(5)});
  for (const auto& line : split_lines(r.out)) {
    if (line.starts_with("driver:")) return trim(line.substr(7));
  }
  return {};
}

std::string wireguard_mode(CommandRunner& runner, const Place& place, const std::string& iface) {
  try {
    auto facts = probes::detect_wg_facts(runner, place, iface);
    return probes::to_string(probes::classify_wg_mode(facts));
  } catch (const Error& e) {
    return std::string("unknown: ") + e.what();
  }
}

}  // namespace wgopt::experiments

namespace wgopt::experiments {

HostFacts read_host_facts(CommandRunner& runner, const Place& place, const std::string& underlay, const std::string& wireguard) {
  HostFacts f;
  f.kernel = kernel_release();
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  f.nproc = n > 0 ? static_cast<int>(n) : 1;
  f.sku = read_sku(f.nproc);
  f.underlay = underlay;
  f.wireguard = wireguard;
  if (!underlay.empty()) f.nic_driver = nic_driver(runner, place, underlay);
  if (!wireguard.empty()) f.wireguard_mode = wireguard_mode(runner, place, wireguard);
  return f;
}

std::string kernel_major(const std::string& release) { return release.substr(0, release.find('.')); }

std::optional<std::string> recorded_fact(const YAML::Node& host, const char* key) {
  if (!host.IsMap()) return std::nullopt;
  const YAML::Node& map = host;  // const: a missing key must not be created
  const YAML::Node v = map[key];
  if (!v || !v.IsScalar()) return std::nullopt;
  return trim(v.Scalar());
}

namespace {

std::optional<std::string> recorded(const YAML::Node& host, const char* key) { return recorded_fact(host, key); }

std::string shown(const std::string& s) { return s.empty() ? "(none)" : s; }

}  // namespace

std::vector<FactDifference> compare_host_facts(const YAML::Node& profile_host, const HostFacts& here) {
  std::vector<FactDifference> out;
  auto differ = [&](const char* fact, const std::string& profile, const std::string& host) {
    if (profile != host) out.push_back({fact, profile, shown(host)});
  };
  if (auto n = recorded(profile_host, "nproc")) differ("nproc", *n, std::to_string(here.nproc));
  if (auto k = recorded(profile_host, "kernel")) differ("kernel", kernel_major(*k), kernel_major(here.kernel));
  // An underlay whose driver could not be read (not here, or ethtool failed) is named (found by an
  // exploratory test: a profile naming eth0 in a namespace without one read "this host (none)").
  if (auto d = recorded(profile_host, "nic_driver"); d && !here.underlay.empty()) {
    differ("nic_driver", *d,
           here.nic_driver.empty() ? fmt::format("(none: no driver read on {}; is it here?)", one_line(here.underlay, 40)) : here.nic_driver);
  }
  // Likewise a WireGuard interface whose mode could not be read (found by an exploratory test: the
  // line carried `ip`'s raw error, "exit 1: Device ... does not exist.").
  if (auto w = recorded(profile_host, "wireguard_mode"); w && !w->starts_with("unknown") && !here.wireguard.empty()) {
    differ("wireguard_mode", *w,
           here.wireguard_mode.starts_with("unknown")
               ? fmt::format("(none: no WireGuard mode read on {}; is it here?)", one_line(here.wireguard, 40))
               : here.wireguard_mode);
  }
  if (auto s = recorded(profile_host, "sku"); s && !s->starts_with("unknown (")) differ("sku", *s, here.sku);
  return out;
}

std::vector<FactDifference> uncompared_host_facts(const YAML::Node& profile_host, const HostFacts& here) {
  std::vector<FactDifference> out;
  auto why = [&](const char* key, const char* kind) {
    const auto name = recorded(profile_host, key);  // the interface wgopt search read it on, when recorded
    return name ? fmt::format("the {} interface it was read on, {}, is not here", kind, one_line(*name, 40))
                : fmt::format("no {} interface: the profile's knobs name none", kind);
  };
  if (auto d = recorded(profile_host, "nic_driver"); d && here.underlay.empty()) out.push_back({"nic_driver", *d, why("underlay", "underlay")});
  if (auto w = recorded(profile_host, "wireguard_mode"); w && !w->starts_with("unknown") && here.wireguard.empty()) {
    out.push_back({"wireguard_mode", *w, why("wireguard", "WireGuard")});
  }
  return out;
}

std::string describe_differences(const std::vector<FactDifference>& differences) {
  std::vector<std::string> parts;
  for (const auto& d : differences) {
    parts.push_back(fmt::format("{}: profile {}, this host {}", d.fact, one_line(d.profile, 120), one_line(d.host, 120)));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

}  // namespace wgopt::experiments

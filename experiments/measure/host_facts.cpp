#include "experiments/measure/host_facts.hpp"

#include <sys/utsname.h>

#include <chrono>
#include <fmt/format.h>

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

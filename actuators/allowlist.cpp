#include "actuators/allowlist.hpp"

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/place.hpp"
#include "common/util.hpp"

namespace wgopt::act {

namespace {
bool only(const std::string& s, const char* extra) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view(extra).find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool all_digits(const std::string& s) { return !s.empty() && only(s, "") && s.find_first_not_of("0123456789") == std::string::npos; }
}  // namespace

bool is_allowed_write_path(const std::string& path) {
  if (!only(path, "_.,:/-")) return false;
  auto parts = split(path, '/');
  for (const auto& p : parts) {
    if (p == "..") return false;
  }
  if (path.starts_with("/proc/sys/net/")) return path.size() > 14;
  if (path.starts_with("/sys/class/net/")) {
    // /sys/class/net/IFACE/<attribute...>
    return parts.size() >= 6 && is_valid_ifname(parts[4]) && !parts[5].empty();
  }
  if (path.starts_with("/proc/irq/")) {
    return parts.size() == 5 && all_digits(parts[3]) && (parts[4] == "smp_affinity" || parts[4] == "smp_affinity_list");
  }
  return false;
}

std::optional<std::string> knob_id_problem(const std::string& id) {
  if (id.empty()) return "knob id is empty: run `wgopt knobs` to list them";
  auto slash = id.find('/');
  if (slash != std::string::npos && !is_valid_ifname(id.substr(0, slash))) {
    return fmt::format("knob id '{}': interface name '{}' is not valid: use 1-15 characters of [A-Za-z0-9_.-]",
                       one_line(id, 80), one_line(id.substr(0, slash), 80));
  }
  if (id.size() > 128 || !only(id, "_.:/-")) {
    return fmt::format("knob id '{}' has characters a knob id never has: run `wgopt knobs` to list them", one_line(id, 80));
  }
  if (slash != std::string::npos) {
    const std::string rest = id.substr(slash + 1);
    for (const auto& part : split(rest, '/')) {
      if (part.empty() || part == "." || part == "..") {
        return fmt::format("knob id '{}' is malformed: use IFACE/knob such as eth0/mtu", id);
      }
    }
    return std::nullopt;
  }
  if (id.find('.') != std::string::npos) {
    if (!id.starts_with("net.") || id.find("..") != std::string::npos || id.ends_with(".")) {
      return fmt::format("knob id '{}' is outside the allowlist: wgopt only changes networking sysctls (net.*)", id);
    }
    return std::nullopt;
  }
  return std::nullopt;  // a service name such as irqbalance; the catalog decides whether it exists
}

void GuardedFiles::write(const std::string& path, const std::string& value) {
  if (!is_allowed_write_path(path)) {
    throw UsageError(fmt::format("refusing to write {}: outside the allowlist (/proc/sys/net, /sys/class/net, "
                                 "/proc/irq/N/smp_affinity)", path));
  }
  inner_->write(path, value);
}

}  // namespace wgopt::act

#include "common/place.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt {

namespace {
bool only_name_chars(const std::string& s) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}
}  // namespace

bool is_valid_ifname(const std::string& name) {
  return !name.empty() && name.size() <= 15 && name != "." && name != ".." && only_name_chars(name);
}

void require_valid_ifname(const std::string& name) {
  if (!is_valid_ifname(name)) {
    throw UsageError(fmt::format(
        "interface name '{}' is not valid: use 1-15 characters of [A-Za-z0-9_.-]", one_line(name, 80)));
  }
}

bool is_valid_netns_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && name != "." && name != ".." && only_name_chars(name);
}

Place Place::netns(const std::string& name) {
  if (!is_valid_netns_name(name)) {
    throw UsageError(fmt::format(
        "network namespace name '{}' is not valid: use 1-64 characters of [A-Za-z0-9_.-]", one_line(name, 80)));
  }
  Place p;
  p.netns_ = name;
  return p;
}

std::string Place::describe() const { return is_host() ? "host" : "netns " + netns_; }

std::vector<std::string> Place::wrap(const std::vector<std::string>& argv) const {
  if (is_host()) return argv;
  std::vector<std::string> out{"ip", "netns", "exec", netns_};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

void require_netns_exists(const std::string& name) {
  std::error_code ec;
  if (!is_valid_netns_name(name) || !std::filesystem::exists("/run/netns/" + name, ec)) {
    throw UsageError(fmt::format("network namespace '{}' does not exist: `ip netns list` shows those there are "
                                 "(`wgopt testbed up` creates wgopt-srv and wgopt-cli)",
                                 one_line(name, 80)));
  }
}

}  // namespace wgopt

#pragma once
// Where a command runs and a file lives: the host itself, or a named network namespace (the
// testbed's two ends are namespaces; a peer over ssh would be a third kind of Place). Actuators,
// probes and workload take a Place and never hard-code `ip netns exec`.
#include <string>
#include <vector>

namespace wgopt {

class Place {
 public:
  Place() = default;  // the host
  static Place host() { return Place(); }
  // Throws UsageError if `name` is not a valid namespace name.
  static Place netns(const std::string& name);

  bool is_host() const { return netns_.empty(); }
  const std::string& netns_name() const { return netns_; }
  // "host" or "netns wgopt-cli"; for messages.
  std::string describe() const;
  // The argv that runs `argv` in this place: unchanged on the host,
  // {"ip", "netns", "exec", NAME, argv...} in a namespace.
  std::vector<std::string> wrap(const std::vector<std::string>& argv) const;

  bool operator==(const Place&) const = default;

 private:
  std::string netns_;
};

// Names that reach the kernel or a command line are checked before use.
// Interface names: [A-Za-z0-9_.-]{1,15} (IFNAMSIZ-1), not "." or "..".
bool is_valid_ifname(const std::string& name);
// Throws UsageError naming the interface and the rule.
void require_valid_ifname(const std::string& name);
// Network namespace names: [A-Za-z0-9_.-]{1,64}, not "." or ".." (they become /run/netns/NAME).
bool is_valid_netns_name(const std::string& name);
// UsageError (one line, naming `ip netns list`) unless /run/netns/NAME exists: without it every knob
// reads as absent and every command run there fails with another program's words.
void require_netns_exists(const std::string& name);

}  // namespace wgopt

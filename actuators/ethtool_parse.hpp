#pragma once
// Parsers for the text the device tools print (ethtool 6.1 and iproute2 6.1 on Debian 12). Pure:
// text in, struct out; the fixtures in tests/fixtures/actuators are their real captured output.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace wgopt::act {

// `ethtool -l IF` and `ethtool -g IF`: "Pre-set maximums:" and "Current hardware settings:"
// sections of "Key: value" lines. A value "n/a" (or missing) is nullopt. Keys as printed
// ("RX", "TX", "Combined", "Other", "RX Mini", "RX Jumbo").
struct PresetCurrent {
  std::map<std::string, std::optional<long long>> max;
  std::map<std::string, std::optional<long long>> current;
  // The pair for `key` when both are numbers and the maximum is at least 1.
  std::optional<std::pair<long long, long long>> get(const std::string& key) const;
};
PresetCurrent parse_preset_current(const std::string& text);

// `ethtool -k IF`: feature name -> {on, fixed}. Sub-features (tab-indented) are included.
struct Feature {
  bool on = false;
  bool fixed = false;
  // "[requested on]" on the row or one of its indented sub-features: the driver keeps it off now
  // (a tun device whose user space did not enable TSO).
  bool refused = false;
};
std::map<std::string, Feature> parse_features(const std::string& text);

// `ethtool -n IF rx-flow-hash udp4`: the fields as ethtool -N letters in ethtool's order
// ("sd", "sdfn"); "" when the output says the hash uses no fields ("None").
std::string parse_flow_hash(const std::string& text);

// `ethtool -x IF`: the number of RX rings and the indirection table (empty if not printed).
struct Indirection {
  int rx_rings = 0;
  std::vector<int> table;
};
Indirection parse_indirection(const std::string& text);

// `ethtool -i IF`: "driver" and "bus-info" (empty for virtual devices such as veth, tun).
struct DriverInfo {
  std::string driver;
  std::string bus_info;
};
DriverInfo parse_driver_info(const std::string& text);

// `tc qdisc show dev IF`: the root qdisc's kind and handle ("pfifo_fast", "0:"); kind empty if no
// root line.
struct RootQdisc {
  std::string kind;
  std::string handle;
};
RootQdisc parse_root_qdisc(const std::string& text);

// True when a tool's failure means the driver lacks the operation ("Operation not supported").
bool says_not_supported(const std::string& err);

}  // namespace wgopt::act

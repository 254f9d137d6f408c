#pragma once
// WireGuard state: `wg show all dump` (per peer: endpoint, allowed IPs, handshake age, transfer) and
// the implementation behind an interface. Userspace wireguard-go is 3-5x slower than the kernel
// module (guide §3.4) and no knob recovers that, so diagnosis reports it first.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/exec.hpp"
#include "common/files.hpp"
#include "common/place.hpp"

namespace wgopt::probes {

struct WgPeer {
  std::string public_key;
  std::string endpoint;                  // "198.18.0.2:51821"; empty for "(none)"
  std::vector<std::string> allowed_ips;  // empty for "(none)"
  int64_t latest_handshake = 0;          // unix seconds; 0 = never
  uint64_t rx_bytes = 0, tx_bytes = 0;
  int persistent_keepalive = 0;          // seconds; 0 = off
  // Seconds since the last handshake at `now` (unix seconds); nullopt if there never was one.
  std::optional<int64_t> handshake_age(int64_t now) const;
};

struct WgInterface {
  std::string name;
  std::string public_key;  // the private key in the dump is never kept
  int listen_port = 0;
  std::string fwmark;      // "off" or the mark
  std::vector<WgPeer> peers;
};

// Parses `wg show all dump`: tab-separated, an interface line (5 fields) then its peer lines
// (9 fields), each starting with the interface name. Throws wgopt::Error naming the line for a
// wrong field count, a non-numeric field, or a peer whose interface line did not come first.
std::vector<WgInterface> parse_wg_dump(const std::string& text, const std::string& source = "wg show all dump");

// Runs `wg show all dump` in `place` (argv, never a shell). Throws wgopt::Error when wg is missing,
// fails or times out.
std::vector<WgInterface> read_wg_dump(CommandRunner& runner, const Place& place);

enum class WgMode { Kernel, Userspace, NotWireGuard };
const char* to_string(WgMode m);

// What we can observe about an interface, gathered by detect_wg_mode (or written by a test).
struct WgModeFacts {
  std::string info_kind;        // `ip -d -j link show dev IF` linkinfo.info_kind: "wireguard", "tun", ...
  bool uapi_socket = false;     // /var/run/wireguard/IF.sock exists (wireguard-go, boringtun, netbird)
  std::string userspace_process;  // comm of a running userspace implementation, if any
  bool kernel_module = false;   // /sys/module/wireguard exists
};

// Kernel when the link kind is "wireguard"; Userspace when it is a tun device with a UAPI socket
// (or, with no socket, while a userspace implementation runs); otherwise NotWireGuard.
WgMode classify_wg_mode(const WgModeFacts& facts);

// Reads linkinfo.info_kind from `ip -d -j link show dev IF` output; empty if there is no linkinfo.
// Throws wgopt::Error when the text is not that JSON.
std::string parse_link_kind(const std::string& ip_json);

// Gathers the facts for `iface` in `place`: runs `ip -d -j link show dev IF` there, and looks at
// root/var/run/wireguard, root/sys/module and root/proc/*/comm (root "/" on a real host).
// Validates the name (UsageError); throws wgopt::Error when the interface does not exist.
WgModeFacts detect_wg_facts(CommandRunner& runner, const Place& place, const std::string& iface,
                            const std::string& root = "/");

// Comm names of userspace WireGuard implementations we recognise.
bool is_userspace_wg_comm(const std::string& comm);

}  // namespace wgopt::probes

#pragma once
// Discovery: every knob kind wgopt knows, bound to one Host (the local host or a network
// namespace), each with its Presence. This is what `wgopt knobs` lists, what the transaction
// resolves ids with, and what the optimizer's search space is built from.
//
// Knob ids (stable, users type them):
//   sysctls      by dotted name: net.core.netdev_max_backlog, net.ipv4.tcp_rmem, ...
//   device knobs IFACE/KNOB: eth0/mtu, eth0/txqueuelen, eth0/rps_cpus, eth0/rps_flow_cnt,
//                eth0/channels/{combined,rx,tx}, eth0/rings/{rx,tx},
//                eth0/offload/{gro,gso,tso,rx-udp-gro-forwarding,rx-gro-list},
//                eth0/rss_hash_udp4, eth0/rss_equal, eth0/irq_affinity, eth0/qdisc
//   services     irqbalance
#include <string>
#include <vector>

#include "actuators/knob.hpp"

namespace wgopt::act {

struct DiscoverOptions {
  // Interfaces to list device knobs for; empty: every interface of the place except loopback.
  // Each name is validated ([A-Za-z0-9_.-]{1,15}); a name that does not exist throws UsageError.
  std::vector<std::string> interfaces;
  // The underlay's MTU is listed but not writable unless this is set (a wrong underlay MTU can cut
  // the host off). WireGuard interfaces' MTU is always writable.
  bool allow_underlay_mtu = false;
  // Interfaces to treat as WireGuard even if detection misses them. Detection: sysfs uevent
  // DEVTYPE=wireguard (kernel module) or a UAPI socket /var/run/wireguard/IFACE.sock (wireguard-go).
  std::vector<std::string> wireguard;
};

// Every knob kind for this host or namespace, present or not, each able to report its Presence
// (why not present / not writable). Order: sysctls, the irqbalance service, then per interface
// (sorted by name) its device knobs. Reads the kernel's files and runs read-only commands
// (ethtool -l/-g/-k/-n/-x, tc qdisc show, systemctl is-active) through host.runner; never writes.
// Throws UsageError for an invalid or unknown interface name in options.interfaces, Error when the
// place cannot be reached (a namespace that does not exist).
std::vector<KnobPtr> discover_knobs(const Host& host, const DiscoverOptions& options = {});

// The knob with this id on this host, present or not (call presence() to know), or throws
// UsageError "unknown knob 'x': run `wgopt knobs` to list them". An interface part that is not a
// valid interface name is rejected with the same error model before anything is read.
KnobPtr find_knob(const Host& host, const std::string& id, const DiscoverOptions& options = {});

// True when `ifname` looks like a WireGuard interface on this host (see DiscoverOptions::wireguard).
bool is_wireguard_interface(const Host& host, const std::string& ifname, const DiscoverOptions& options = {});

}  // namespace wgopt::act

#pragma once
// The facts a profile records about the host it was found on (issue 5: "host facts: kernel, nproc,
// NIC driver, WireGuard mode, SKU"), read the same way for the local end of a search and for a peer
// (the peer agent answers `hello` with them). Each reads one thing and never throws for a fact it
// cannot read: the fact says so instead ("unknown ...").
#include <string>

#include "common/exec.hpp"
#include "common/place.hpp"

namespace wgopt::experiments {

// uname -r of this kernel; empty if uname fails.
std::string kernel_release();
// "VENDOR PRODUCT" from DMI (ROOT/sys/class/dmi/id/{sys_vendor,product_name}), or
// "unknown (N CPUs)" when DMI says nothing (a VM without SMBIOS, a container).
std::string read_sku(int nproc, const std::string& root = "/");
// The driver `ethtool -i IFACE` names in `place` ("virtio_net", "mlx5_core", "veth"); empty when
// ethtool cannot tell.
std::string nic_driver(CommandRunner& runner, const Place& place, const std::string& iface);
// "kernel", "userspace" or "not-wireguard" (probes::classify_wg_mode), or "unknown: <why>".
std::string wireguard_mode(CommandRunner& runner, const Place& place, const std::string& iface);

}  // namespace wgopt::experiments

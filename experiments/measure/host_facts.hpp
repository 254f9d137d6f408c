#pragma once
// The facts a profile records about the host it was found on (issue 5: "host facts: kernel, nproc,
// NIC driver, WireGuard mode, SKU"), read the same way for the local end of a search and for a peer
// (the peer agent answers `hello` with them). Each reads one thing and never throws for a fact it
// cannot read: the fact says so instead ("unknown ...").
//
// They also gate every apply (issue 12): `wgopt apply`, `wgopt retune`, `wgopt facts` and the
// exported Ansible role (which runs `wgopt facts`) read this host's facts with read_host_facts() and
// compare them with the profile's with compare_host_facts(): one definition, one comparison.
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

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

// This host's facts as a profile records them, for the profile's underlay and WireGuard interface
// (export_roles() decides which they are; empty: that fact is not read).
struct HostFacts {
  std::string kernel;          // uname -r
  int nproc = 0;               // CPUs online
  std::string sku;             // read_sku()
  std::string underlay, wireguard;
  std::string nic_driver;      // of `underlay` ("" when it does not exist or ethtool cannot tell)
  std::string wireguard_mode;  // of `wireguard`
};
HostFacts read_host_facts(CommandRunner& runner, const Place& place, const std::string& underlay, const std::string& wireguard);

// "6" of "6.1.0-18-amd64": the part before the first '.', or the whole text.
std::string kernel_major(const std::string& release);

// A profile's recorded host fact (its `host:` map's scalar KEY, trimmed); nullopt when absent or
// not a scalar. The one reader of that map for the gates.
std::optional<std::string> recorded_fact(const YAML::Node& host, const char* key);

// One fact the profile and this host disagree on.
struct FactDifference {
  std::string fact;     // nproc, kernel, nic_driver, wireguard_mode, sku
  std::string profile;  // as the profile records it (kernel: its major)
  std::string host;     // as this host has it ("(none)" when it could not be read)
};
// Compares the facts the profile records (its `host:` map; absent facts are not compared, so a
// hand-written profile without facts passes) with `here`:
//   nproc equal; kernel by major version (the first number: knobs come and go between majors; a
//   change within one is what `wgopt retune` re-tunes for); nic_driver and sku equal; wireguard_mode
//   equal unless the profile's is "unknown: ..." (it could not tell). A SKU recorded as "unknown
//   (N CPUs)" says nothing beyond nproc and is not compared.
std::vector<FactDifference> compare_host_facts(const YAML::Node& profile_host, const HostFacts& here);
// The facts the profile records that compare_host_facts could not compare because `here` has no
// interface of that kind (a profile of sysctls names no device): `host` says why. Said beside
// "matches", never silently skipped.
std::vector<FactDifference> uncompared_host_facts(const YAML::Node& profile_host, const HostFacts& here);
// "nproc: profile 4, this host 2; nic_driver: profile mlx5_core, this host virtio_net" (one line;
// free text shown with one_line()).
std::string describe_differences(const std::vector<FactDifference>& differences);

}  // namespace wgopt::experiments

#pragma once
// A profile: the knob values of one place, as YAML a person can read, edit and apply.
//
//   host:                 # optional facts about where it was captured; kept as is
//     place: netns wgopt-cli
//     nproc: 2
//   knobs:                # flat map ID: VALUE, applied as one transaction
//     net.ipv4.tcp_rmem: "4096 131072 16777216"   # a triple is one string
//     wgopt-wc/rps_cpus: "3"                      # a mask is hex as the kernel prints it
//     wgopt-wc/mtu: 1420
//   evidence: ...         # optional, opaque (what a study measured); kept as is
//   peer:                 # optional: the other end of a both-ends search (`wgopt search --ssh`)
//     host: {ssh: root@10.0.0.2, kernel: ..., nproc: 2}   # its facts; kept as is
//     knobs: {net.ipv4.tcp_rmem: "4096 131072 16777216"}  # its values, under its own ids
//
// `wgopt show > p.yaml`, edit, `wgopt apply p.yaml` round-trips.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace wgopt::act {

// The peer's part of a both-ends profile: `wgopt apply --ssh` / `wgopt export --host peer` use it.
// The keys of a profile's `host:` map, as wgopt writes them (search: the facts the gates compare and
// where they were read; show: when it was captured); a `peer:` section's adds how the peer was
// reached (ssh, hostname, mode, its names of this end's interfaces). The reader refuses any other.
inline const std::vector<std::string> kHostFacts = {"kernel",   "nproc",     "sku",   "nic_driver",  "wireguard_mode",
                                                    "underlay", "wireguard", "place", "mirrored_to", "captured"};
inline const std::vector<std::string> kPeerHostFacts = {"ssh", "hostname",       "kernel", "nproc",     "sku",
                                                        "nic_driver", "wireguard_mode", "mode", "interfaces"};

struct PeerProfile {
  std::vector<std::pair<std::string, std::string>> knobs;  // checked like `knobs`
  YAML::Node host;                                        // null when absent
};

struct Profile {
  std::vector<std::pair<std::string, std::string>> knobs;  // in file order
  YAML::Node host;      // null when absent
  YAML::Node evidence;  // null when absent
  std::optional<PeerProfile> peer;
};

// The longest knob value a profile may hold (a CPU mask of 1024 CPUs is 287 characters with its
// commas; a triple is under 40).
inline constexpr std::size_t kMaxValueBytes = 512;

// Parses a profile: the one parse every command that reads a profile goes through. `source` names it
// in messages ("p.yaml"; shown with one_line()). Throws UsageError naming the source and the entry:
// not YAML, not a map, unknown top-level key, a top-level key given twice (two `knobs:` blocks),
// missing or non-map `knobs`, an id that is not a knob id, a value that is empty, longer than one
// line or than kMaxValueBytes, or not printable ASCII (tab allowed), an id given twice. Host facts
// and evidence are kept as they are: free text, which every writer must encode
// (experiments/export/export_escape.hpp).
Profile parse_profile(const std::string& text, const std::string& source);
// Reads and parses a file ("-": standard input); UsageError if it cannot be read.
Profile load_profile(const std::string& path);
// YAML text: host, knobs, evidence (those present). Values that are not plain decimals are quoted.
std::string dump_profile(const Profile& profile);

}  // namespace wgopt::act

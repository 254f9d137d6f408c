#pragma once
// `wgopt export`: a profile turned into the files a Linux operator persists such settings with
// (field guide §8), so a tuned host keeps its settings across reboots and other VMs of the same SKU
// get them through the tools ops already run. Pure rendering: no I/O, and the same profile always
// gives the same bytes (the header carries the evidence's created time, never "now").
//
// Formats and the files they produce (paths relative to /, so `cp -r OUT/. /` installs them):
//   sysctl    etc/sysctl.d/99-wgopt.conf                        sysctl knobs, sysctl.d(5) syntax
//   systemd   etc/systemd/system/wgopt-tuning.service          oneshot unit that runs the script
//             usr/local/sbin/wgopt-tuning.sh (0755)             every knob sysctl cannot hold
//   networkd  etc/systemd/network/10-wgopt-UNDERLAY.link        the underlay's NIC settings
//   tuned     etc/tuned/profiles/wgopt/tuned.conf (TuneD 2.24+) TuneD child profile of --tuned-parent
//             or etc/tuned/wgopt/tuned.conf (older TuneD)
//   netbird   etc/wgopt/netbird-mtu.env                         the tunnel MTU as NetBird takes it
//   timer     etc/systemd/system/wgopt-retune.{service,timer}   the nightly `wgopt retune`
//   all       every format above that has something to hold, and etc/wgopt/boot-files.yaml (the
//             files `wgopt retune` re-renders when it replaces the profile, export_manifest.hpp)
//   ansible   a playbook and a role that roll the profile out to an inventory (export_ansible.cpp);
//             paths relative to the output directory, not to /
// A knob a format cannot express is named in a comment of that file with the format that can.
#include <string>
#include <vector>

#include "actuators/profile.hpp"

namespace wgopt::experiments {

struct ExportFile {
  std::string path;     // relative to /, e.g. "etc/sysctl.d/99-wgopt.conf"
  std::string content;  // the file's bytes
  int mode = 0644;      // permission bits to create it with
};

struct ExportOptions {
  std::string profile_label = "profile.yaml";  // how headers name the profile (the path the user gave)
  std::string label_note;  // what messages add after it ("its peer: part" for --host peer); never in a file
  // Interface roles; empty = decided by the rule in export_roles().
  std::string underlay;
  std::string wireguard;
  // The nightly job (timer format).
  std::string profile_path = "/etc/wgopt/profile.yaml";  // where the profile is installed
  std::string wgopt_path = "/usr/local/bin/wgopt";
  std::string budget = "20m";
  std::string metrics_path = "/var/lib/prometheus/node-exporter/wgopt.prom";
  std::string on_calendar = "*-*-* 03:30:00";
  // The profile is no file of its own (--host peer: the peer's part of a both-ends profile): the
  // timer's files include it at profile_path, and its install line takes it from there.
  bool timer_writes_profile = false;
  // TuneD: the profile the exported one includes (the host's active one, /etc/tuned/active_profile;
  // several as "a,b") and the TuneD version, which decides the directory.
  std::string tuned_parent = "network-throughput";
  std::string tuned_version = "2.24";
};

// TuneD 2.24 moved user profiles to /etc/tuned/profiles/NAME/ (older: /etc/tuned/NAME/). Throws
// UsageError for a version that is not N.N[.N].
bool tuned_uses_profiles_dir(const std::string& version);
std::string tuned_conf_path(const std::string& version);  // relative to /
// The include= value for `parents` ("a b" or "a,b" -> "a,b"); UsageError unless each is a TuneD
// profile name ([A-Za-z0-9_.-]{1,64}) other than wgopt itself.
std::string tuned_include(const std::string& parents);

// sysctl, systemd, networkd, tuned, netbird, timer: the order `--format all` renders them in.
const std::vector<std::string>& export_formats();

// The underlay and WireGuard interface among the profile's device knobs (empty when none fits).
// Rule, first match wins:
//   underlay:  --underlay; the testbed's P-uc/P-us when evidence.plant.testbed is P (or host.place
//              is "netns P-cli" / "netns P-srv"); the one device with NIC-only knobs (channels,
//              rings, rss_*, irq_affinity); the one device that is not the WireGuard interface.
//   wireguard: --wireguard; the testbed's P-wc/P-ws; the one device named wt<N> or wg<N>
//              (NetBird, wg-quick); the one device that is not the underlay.
struct InterfaceRoles {
  std::string underlay;
  std::string wireguard;
};
// Throws UsageError when an interface option is not a valid name or names no device of the profile.
InterfaceRoles export_roles(const act::Profile& profile, const ExportOptions& options);

// The files of `format` (one of export_formats() or "all"). Every knob value is validated again
// (kind from its id, value by its type, masks against host.nproc); a bad profile, an unknown format,
// or a format with nothing to hold or no interface to write for (networkd without underlay knobs
// or an undecidable underlay, netbird without a tunnel MTU) asked for by name throws UsageError
// with one line naming the entry and the fix. With "all", such formats are left out and their
// line goes to `skipped` (when given) instead; a bad value still throws.
std::vector<ExportFile> render_export(const act::Profile& profile, const std::string& format,
                                      const ExportOptions& options, std::vector<std::string>* skipped = nullptr);

// --format ansible: playbook.yml and roles/wgopt/ (tasks, defaults, vars, handlers, meta, and the
// files of `all` under files/), relative to the output directory. Profile values reach it only as
// data: the boot files verbatim under files/ (copied, never templated), and vars written by
// yaml-cpp's Emitter (free text tagged !unsafe, so Ansible never evaluates it as Jinja).
std::vector<ExportFile> render_ansible(const act::Profile& profile, const ExportOptions& options);

}  // namespace wgopt::experiments

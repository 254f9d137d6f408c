#pragma once
// The boot-files manifest (etc/wgopt/boot-files.yaml, written by `--format all` and `--format
// ansible`): which exported files `wgopt retune` owns and re-renders when it replaces the profile
// (exit 10), and the interface roles they were rendered with, so the files a reboot applies always
// hold the profile the host is on. Paths are relative to the root the manifest is installed under
// (the directory that holds etc/wgopt/boot-files.yaml), so a tree copied anywhere stays consistent.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "actuators/profile.hpp"
#include "experiments/export/export.hpp"

namespace wgopt::experiments {

inline constexpr const char* kManifestPath = "etc/wgopt/boot-files.yaml";

struct BootManifest {
  std::vector<std::string> formats;  // of export_formats(): the ones the boot files come from
  std::string underlay, wireguard;   // the roles they were rendered with (empty: decided by the rule)
  std::vector<std::string> files;    // relative to the root
};

// The formats whose files a retune owns: the ones a reboot applies (sysctl.d, the tuning units and
// script, the .link), and the ones the host's own tools read at their start (TuneD's child profile,
// NetBird's MTU). Until 2026-12-06 only the first three: a retune that promoted a new winner left
// TuneD switched to a profile holding the old MTU, rings and offloads, and NB_MTU the old MTU.
const std::vector<std::string>& boot_formats();

// The manifest for `files` (the export's own output; only those of boot_formats() are listed),
// header first, or nullopt when `files` holds no boot file. YAML written by yaml-cpp; interface
// names are validated names.
std::optional<ExportFile> render_manifest(const act::Profile& profile, const std::vector<ExportFile>& files, const InterfaceRoles& roles,
                           const ExportOptions& options);

// Parses a manifest; UsageError naming `source` and the entry for anything else (an unknown format,
// a path that is absolute, holds "..", or is not one boot_formats() renders, a bad interface name).
// A path a manifest may list: sysctl.d's file, the tuning script and units, a .link, TuneD's child
// profile, NB_MTU's file (a unit or .link name one file in its directory).
bool is_boot_file(const std::string& path);

BootManifest parse_manifest(const std::string& text, const std::string& source);

struct BootRender {
  std::vector<ExportFile> files;    // to write
  std::vector<std::string> remove;  // listed files whose format has nothing left to hold in the new profile
};

// Reads an installed file by its path relative to the root ("": absent).
using InstalledFile = std::function<std::optional<std::string>(const std::string& path)>;

// The files of the manifest's formats re-rendered for `profile` with the manifest's roles, only the
// ones it lists (retune writes them). A listed file whose format has nothing to hold now (no sysctl
// knob left, no tunnel MTU) is to be removed: kept, it would put the old winner's values back at the
// next boot. TuneD's child profile is rendered where it is installed (etc/tuned/profiles/wgopt/ or
// the older etc/tuned/wgopt/; the Ansible role picks per host) with the parents its include= names
// there; not installed (no TuneD, or no `installed`): left out. Throws what render_export throws.
BootRender rerender_boot_files(const act::Profile& profile, const BootManifest& manifest, const std::string& label,
                               const InstalledFile& installed = nullptr);

}  // namespace wgopt::experiments

#include "experiments/search/retune_boot_files.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "actuators/profile.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "experiments/export/export_manifest.hpp"

namespace wgopt::experiments {

namespace fs = std::filesystem;

namespace {

std::string code_of(const std::string& text) {
  std::string out;
  for (const auto& line : split_lines(text)) {
    if (!trim(line).starts_with("#")) out += line + "\n";
  }
  return out;
}

bool is_unit(const std::string& path) { return path.ends_with(".service") || path.ends_with(".timer"); }

// The links `systemctl enable` made for a unit in ROOT/etc/systemd/system (a *.wants/ or *.requires/
// directory holding a link of the unit's name): left behind, they name a unit that is gone.
std::vector<fs::path> enablement_links(const fs::path& root, const std::string& unit_path) {
  const std::string name = fs::path(unit_path).filename().string();
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(root / "etc/systemd/system", ec)) {
    const std::string dir = d.path().filename().string();
    if (!dir.ends_with(".wants") && !dir.ends_with(".requires")) continue;
    if (fs::is_symlink(d.path() / name, ec)) out.push_back(d.path() / name);
  }
  return out;
}

// The links `systemctl enable` makes for a unit from its [Install] WantedBy= targets:
// ROOT/etc/systemd/system/TARGET.wants/NAME -> /etc/systemd/system/NAME.
std::vector<std::pair<fs::path, std::string>> install_links(const fs::path& root, const std::string& unit_path,
                                                            const std::string& content) {
  const std::string name = fs::path(unit_path).filename().string();
  std::vector<std::pair<fs::path, std::string>> out;
  for (const auto& line : split_lines(content)) {
    const std::string l = trim(line);
    if (!l.starts_with("WantedBy=")) continue;
    for (const auto& target : split_ws(l.substr(9))) {
      out.emplace_back(root / "etc/systemd/system" / (target + ".wants") / name, "/etc/systemd/system/" + name);
    }
  }
  return out;
}

}  // namespace

BootFilesUpdate update_boot_files(const std::string& profile_path) {
  BootFilesUpdate u;
  const fs::path profile = fs::absolute(profile_path).lexically_normal();
  const fs::path dir = profile.parent_path();
  const fs::path manifest = dir / "boot-files.yaml";
  if (!fs::exists(manifest)) {
    u.note = fmt::format("no {}: no exported boot files to keep in step (export with --format all or ansible)", manifest.string());
    return u;
  }
  u.manifest = manifest.string();
  if (dir.filename() != "wgopt" || dir.parent_path().filename() != "etc") {
    u.note = fmt::format("{} is not in ROOT/etc/wgopt/: cannot tell where its boot files are", manifest.string());
    return u;
  }
  const fs::path root = dir.parent_path().parent_path();
  u.root = root.string();
  const BootManifest m = parse_manifest(read_file(manifest.string()).value_or(""), manifest.string());
  const act::Profile p = act::load_profile(profile.string());
  const fs::path prev = profile.string() + ".prev-files";
  std::vector<FileToWrite> keep, write;
  std::vector<std::pair<fs::path, std::string>> enable;  // enablement links of units written anew
  const BootRender render =
      rerender_boot_files(p, m, profile.string(), [&](const std::string& path) { return read_file((root / path).string()); });
  std::vector<std::string> remove;
  for (const auto& path : render.remove) {
    const auto old = read_file((root / path).string());
    if (!old) continue;
    std::error_code ec;  // kept with its own mode (a script stays executable)
    const auto perms = fs::status(root / path, ec).permissions() & fs::perms::mask;
    keep.push_back({(prev / path).string(), *old, ec ? 0644 : static_cast<int>(perms)});
    remove.push_back((root / path).string());
    if (is_unit(path)) {
      u.units_changed = true;
      for (const auto& link : enablement_links(root, path)) u.disabled.push_back(link.string());
    }
  }
  for (const auto& f : render.files) {
    const fs::path target = root / f.path;
    const auto old = read_file(target.string());
    if (old && *old == f.content) continue;
    const bool unit = is_unit(f.path);
    if (old && unit && code_of(*old) == code_of(f.content)) continue;
    if (unit) u.units_changed = true;
    if (old) keep.push_back({(prev / f.path).string(), *old, f.mode});
    write.push_back({target.string(), f.content, f.mode});
    // A unit that was not there (an earlier retune removed it with its links, or it was deleted):
    // enabled again as the rollout enabled it, or its settings would never run at boot (found in
    // review: A -> B removed the unit, B -> C wrote it back without its link).
    if (!old && unit) {
      for (auto& link : install_links(root, f.path, f.content)) enable.push_back(std::move(link));
    }
  }
  // The old versions first, then the files the new profile leaves empty go (a failure there stops
  // before anything new is written), then the new ones, all or none: a reboot never finds half of one
  // profile's boot files beside half of the other's.
  write_files_all_or_nothing(keep);
  for (const auto& path : remove) {
    if (std::remove(path.c_str()) != 0 && errno != ENOENT) {
      throw Error(fmt::format("cannot remove {}: {} (the new profile has nothing for it to hold)", path, std::strerror(errno)));
    }
  }
  for (const auto& link : u.disabled) {  // after its unit: a failure here leaves a link, never a unit without one
    if (std::remove(link.c_str()) != 0 && errno != ENOENT) {
      throw Error(fmt::format("cannot remove {}: {} (its unit was removed: disable it with systemctl disable)", link, std::strerror(errno)));
    }
  }
  write_files_all_or_nothing(write);
  for (const auto& [link, target] : enable) {
    std::error_code ec;
    if (fs::is_symlink(link, ec)) continue;
    fs::create_directories(link.parent_path(), ec);
    fs::create_symlink(target, link, ec);
    if (ec) {  // the files are written already: said, not thrown (the caller still reloads systemd)
      u.note = fmt::format("cannot enable {}: {}: enable its unit with systemctl enable", link.string(), ec.message());
      continue;
    }
    u.enabled.push_back(link.string());
  }
  for (const auto& f : keep) u.kept.push_back(f.path);
  for (const auto& f : write) u.written.push_back(f.path);
  u.removed = remove;
  if (u.written.empty() && u.removed.empty()) u.note = "the boot files already hold the new profile";
  return u;
}

}  // namespace wgopt::experiments

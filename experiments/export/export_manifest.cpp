#include "experiments/export/export_manifest.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.hpp"
#include "common/place.hpp"
#include "common/util.hpp"
#include "experiments/export/export_model.hpp"

namespace wgopt::experiments {

using namespace exportfmt;

const std::vector<std::string>& boot_formats() {
  static const std::vector<std::string> f{"sysctl", "systemd", "networkd", "tuned", "netbird"};
  return f;
}

namespace {

const char* kTunedPaths[] = {"etc/tuned/profiles/wgopt/tuned.conf", "etc/tuned/wgopt/tuned.conf"};

}  // namespace

bool is_boot_file(const std::string& path) {
  // A unit or .link name is one file in its directory: no '/' after the prefix (so no "..", which a
  // manifest could otherwise use to name a file outside the tree that export --force or a retune
  // removes).
  auto one_file_in = [&](const std::string& prefix, const std::string& suffix) {
    return path.starts_with(prefix) && path.ends_with(suffix) && path.find('/', prefix.size()) == std::string::npos;
  };
  return path == "etc/sysctl.d/99-wgopt.conf" || path == "usr/local/sbin/wgopt-tuning.sh" ||
         one_file_in("etc/systemd/system/wgopt-tuning", ".service") || one_file_in("etc/systemd/network/10-wgopt-", ".link") ||
         path == kTunedPaths[0] || path == kTunedPaths[1] || path == "etc/wgopt/netbird-mtu.env";
}

namespace {

// The boot format a boot file comes from.
std::string format_of(const std::string& path) {
  if (path.starts_with("etc/sysctl.d/")) return "sysctl";
  if (path.ends_with(".link")) return "networkd";
  if (path.starts_with("etc/tuned/")) return "tuned";
  if (path == "etc/wgopt/netbird-mtu.env") return "netbird";
  return "systemd";
}

// The parents an installed TuneD child profile include=s, as --tuned-parent takes them.
std::string included_parents(const std::string& conf) {
  for (const auto& line : split_lines(conf)) {
    if (line.starts_with("include=")) return trim(line.substr(8));
  }
  return "";
}

}  // namespace

std::optional<ExportFile> render_manifest(const act::Profile& profile, const std::vector<ExportFile>& files, const InterfaceRoles& roles,
                           const ExportOptions& options) {
  std::vector<std::string> formats, paths;
  for (const auto& f : files) {
    if (is_boot_file(f.path)) paths.push_back(f.path);
  }
  if (paths.empty()) return std::nullopt;
  for (const auto& f : boot_formats()) {
    if (std::any_of(paths.begin(), paths.end(), [&](const std::string& p) { return format_of(p) == f; })) formats.push_back(f);
  }
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "formats" << YAML::Value << YAML::Flow << formats;
  e << YAML::Key << "underlay" << YAML::Value << roles.underlay;
  e << YAML::Key << "wireguard" << YAML::Value << roles.wireguard;
  e << YAML::Key << "files" << YAML::Value << YAML::BeginSeq;
  for (const auto& p : paths) e << p;
  e << YAML::EndSeq << YAML::EndMap;
  std::string out = header(profile, options, "#",
                           "install -D -m 0644 boot-files.yaml /etc/wgopt/boot-files.yaml (next to the profile: `wgopt retune` "
                           "re-renders these files when it replaces the profile)");
  out += "# The boot files `wgopt retune` owns, relative to the directory that holds etc/wgopt/.\n";
  out += std::string(e.c_str()) + "\n";
  return ExportFile{kManifestPath, out, 0644};
}

BootManifest parse_manifest(const std::string& text, const std::string& source) {
  const std::string src = one_line(source, 200);
  YAML::Node n;
  try {
    n = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw UsageError(fmt::format("{} is not YAML ({}): re-export it with `wgopt export --format all`", src, one_line(e.what(), 120)));
  }
  if (!n.IsMap()) throw UsageError(fmt::format("{} is not a boot-files manifest: re-export it with `wgopt export --format all`", src));
  BootManifest m;
  auto list = [&](const char* key) {
    std::vector<std::string> out;
    const YAML::Node& map = n;
    const YAML::Node v = map[key];
    if (!v || !v.IsSequence()) throw UsageError(fmt::format("{}: `{}` is missing or not a list", src, key));
    for (const auto& x : v) {
      if (!x.IsScalar()) throw UsageError(fmt::format("{}: `{}` holds something that is not a string", src, key));
      out.push_back(x.Scalar());
    }
    return out;
  };
  m.formats = list("formats");
  m.files = list("files");
  for (const auto& f : m.formats) {
    if (std::find(boot_formats().begin(), boot_formats().end(), f) == boot_formats().end()) {
      throw UsageError(fmt::format("{}: format '{}' is not one of {}", src, one_line(f, 40), fmt::join(boot_formats(), ", ")));
    }
  }
  for (const auto& p : m.files) {
    if (!is_boot_file(p)) throw UsageError(fmt::format("{}: '{}' is not a boot file wgopt renders", src, one_line(p, 120)));
  }
  for (const char* key : {"underlay", "wireguard"}) {
    const YAML::Node& map = n;
    const YAML::Node v = map[key];
    std::string name = v && v.IsScalar() ? v.Scalar() : "";
    if (!name.empty() && !is_valid_ifname(name)) throw UsageError(fmt::format("{}: {} '{}' is not an interface name", src, key, one_line(name, 40)));
    (std::string(key) == "underlay" ? m.underlay : m.wireguard) = name;
  }
  return m;
}

BootRender rerender_boot_files(const act::Profile& profile, const BootManifest& manifest, const std::string& label,
                               const InstalledFile& installed) {
  ExportOptions o;
  o.profile_label = label;
  o.underlay = manifest.underlay;
  o.wireguard = manifest.wireguard;
  const bool tuned = std::find(manifest.formats.begin(), manifest.formats.end(), "tuned") != manifest.formats.end();
  std::string tuned_path;  // where TuneD's child profile is installed, if it is
  if (tuned && installed) {
    for (const char* p : kTunedPaths) {
      if (const auto conf = installed(p)) {
        tuned_path = p;
        o.tuned_parent = included_parents(*conf);
        o.tuned_version = p == std::string(kTunedPaths[0]) ? "2.24" : "2.23";
        break;
      }
    }
  }
  // Every format at once, as --format all renders them: the ones with nothing to hold are left out.
  std::vector<ExportFile> all = render_export(profile, "all", o);
  BootRender out;
  for (const auto& path : manifest.files) {
    const std::string format = format_of(path);
    if (std::find(manifest.formats.begin(), manifest.formats.end(), format) == manifest.formats.end()) continue;
    if (format == "tuned") continue;
    auto it = std::find_if(all.begin(), all.end(), [&](const ExportFile& f) { return f.path == path; });
    if (it != all.end()) out.files.push_back(std::move(*it));
    else out.remove.push_back(path);
  }
  if (!tuned_path.empty()) {
    auto it = std::find_if(all.begin(), all.end(), [&](const ExportFile& f) { return f.path == tuned_path; });
    if (it != all.end()) out.files.push_back(std::move(*it));
    else out.remove.push_back(tuned_path);
  }
  return out;
}

}  // namespace wgopt::experiments

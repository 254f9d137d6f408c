// `wgopt export PROFILE --format F [--out DIR]`: a profile as the files ops persist settings with
// (experiments/export/export.hpp renders them; this command only writes or prints them).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actuators/profile.hpp"
#include "cli/registry.hpp"
#include "common/error.hpp"
#include "common/exec.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "experiments/export/export.hpp"
#include "experiments/export/export_manifest.hpp"

namespace wgopt::cli {
namespace {

namespace fs = std::filesystem;

struct ExportCli {
  std::string profile, format, out;
  std::string host = "local";  // local | peer: which end of a both-ends profile
  bool force = false, json = false;
  experiments::ExportOptions options;
};

// The end to export: the profile as it is, or (--host peer) its `peer:` section as a profile of
// its own: the peer's knobs and facts, the same evidence.
act::Profile profile_of_end(act::Profile p, const ExportCli& c) {
  if (c.host == "local") return p;
  if (c.host != "peer") throw UsageError(fmt::format("--host '{}' is not an end: use local or peer", one_line(c.host, 40)));
  if (!p.peer) {
    throw UsageError(fmt::format("profile {} has no peer: section (it was not made by `wgopt search --ssh`): drop --host peer",
                                 one_line(c.profile, 200)));
  }
  act::Profile peer;
  peer.knobs = p.peer->knobs;
  peer.evidence = YAML::Clone(p.evidence);
  // The plant's peer (and ssh target) was the peer host itself: kept, its nightly retune measured
  // over loopback and "held" at +4962% (found by an exploratory test). Only the port stays; the
  // retune there needs its own --peer (WGOPT_RETUNE_PEER, the role's wgopt_retune_peer).
  if (peer.evidence.IsMap() && peer.evidence["plant"] && peer.evidence["plant"].IsMap()) {
    YAML::Node plant(YAML::NodeType::Map);
    if (peer.evidence["plant"]["port"]) plant["port"] = peer.evidence["plant"]["port"];
    peer.evidence["plant"] = plant;
  }
  // The peer's facts as a profile of its own holds them (the gates on that host read them): how it
  // was reached (ssh, mode) is not a fact of the host, and its interfaces are named by its own names
  // of this end's underlay and tunnel (found in review: the exported profile was refused by its own
  // role's gate for 'host.ssh').
  const YAML::Node& from = p.peer->host;  // const: a missing key must not be created
  if (from.IsMap()) {
    for (const auto& kv : from) {
      const std::string key = kv.first.Scalar();
      if (std::find(act::kHostFacts.begin(), act::kHostFacts.end(), key) != act::kHostFacts.end()) peer.host[key] = kv.second;
    }
    const YAML::Node& here = p.host;
    const YAML::Node names = from["interfaces"];
    for (const char* role : {"underlay", "wireguard"}) {
      const YAML::Node local = here.IsMap() ? here[role] : YAML::Node();
      if (local && local.IsScalar() && names && names.IsMap() && names[local.Scalar()]) peer.host[role] = names[local.Scalar()].Scalar();
    }
  }
  return peer;
}

// --on-calendar as systemd itself parses it, where this host has systemd-analyze (no systemd need
// run): render_timer admits only characters systemd takes literally, which 'garbage' and '99:99'
// are, and the unit they made never fired ("Timer unit lacks value setting. Refusing."). Without
// the tool the spec goes out as it is.
void check_calendar(const std::string& spec) {
  const std::string tool = find_executable("systemd-analyze");
  if (tool.empty()) return;
  ProcessRunner runner;
  const auto r = runner.run({.argv = {tool, "calendar", "--", spec}, .timeout = std::chrono::seconds(10)});
  if (r.exit_code != 1 || r.timed_out || r.not_found) return;
  throw UsageError(fmt::format("--on-calendar '{}' is not a calendar systemd can parse (systemd-analyze calendar: {}): use a "
                               "spec such as '*-*-* 03:30:00' or 'Mon..Fri 02:00'",
                               one_line(spec, 80), one_line(trim(r.err), 120)));
}

// The boot files an earlier export under `out` listed in its manifest and this one no longer
// writes (the new profile has nothing for them: no offload left for a .link, no sysctl): kept,
// they would be installed with the tree and put the old profile's values back at the next boot.
// Only an export that writes a manifest replaces one; an earlier manifest that does not parse is
// overwritten and the files it may name are left, with a warning.
std::vector<fs::path> stale_boot_files(const std::string& out, const std::vector<experiments::ExportFile>& files) {
  const std::string manifest = experiments::kManifestPath;
  auto m = std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.path.ends_with(manifest); });
  if (m == files.end()) return {};
  const fs::path base = fs::path(out) / m->path.substr(0, m->path.size() - manifest.size());
  const auto text = read_file((base / manifest).string());
  if (!text) return {};
  std::vector<fs::path> stale;
  try {
    for (const auto& p : experiments::parse_manifest(*text, (base / manifest).string()).files) {
      const bool written = std::any_of(files.begin(), files.end(), [&](const auto& f) { return fs::path(out) / f.path == base / p; });
      if (!written && fs::exists(base / p)) stale.push_back(base / p);
    }
  } catch (const UsageError& e) {
    std::fprintf(stderr, "wgopt: warning: %s; the files an earlier export listed there are left as they are\n", e.what());
  }
  return stale;
}

void remove_stale(const std::vector<fs::path>& stale) {
  for (const auto& p : stale) {
    std::error_code ec;
    if (!fs::remove(p, ec) && ec) {
      throw Error(fmt::format("cannot remove {} (an earlier export's file this profile no longer has): {}; remove it by hand",
                              p.string(), ec.message()));
    }
  }
}

void run_export(const ExportCli& c) {
  experiments::ExportOptions options = c.options;
  // --host peer: its errors and headers name the part (found by an exploratory test: a bad value in
  // peer: was "profile p.yaml: knob ...", read as this end's).
  options.profile_label = c.profile;
  if (c.host == "peer") options.label_note = "its peer: part";  // messages only: the files' install lines name the file
  // The peer's part is no file of its own: its timer installed the whole both-ends profile, whose
  // top level is this end's (found by an exploratory test). The tree holds the peer's now; the
  // Ansible role writes its own copy.
  options.timer_writes_profile = c.host == "peer" && c.format != "ansible";
  const act::Profile profile = profile_of_end(act::load_profile(c.profile), c);
  std::vector<std::string> skipped;
  const auto files = experiments::render_export(profile, c.format, options, &skipped);
  if (std::any_of(files.begin(), files.end(), [](const auto& f) { return f.path.ends_with("/wgopt-retune.timer"); })) {
    check_calendar(options.on_calendar);
  }
  nlohmann::json listed = nlohmann::json::array();
  std::vector<fs::path> stale;  // an earlier export's boot files under --out that this one replaces with nothing

  if (c.out.empty()) {
    for (const auto& f : files) {
      if (c.json) listed.push_back({{"path", "/" + f.path}, {"mode", fmt::format("{:04o}", f.mode)}, {"content", f.content}});
      else std::printf("# --- %s ---\n%s", f.path.c_str(), f.content.c_str());
    }
  } else {
    // Every target is checked before the first is written: a refusal leaves nothing half-exported.
    std::error_code ec;
    if (fs::exists(c.out, ec) && !fs::is_directory(c.out, ec)) {
      throw UsageError(fmt::format("--out {} is not a directory: give a directory to write the files under", c.out));
    }
    std::vector<std::string> existing;
    for (const auto& f : files) {
      // The link itself, not what it names: each file is renamed into place, which replaces a
      // symlink, and a dangling one was replaced without --force (found by an exploratory test).
      if (fs::exists(fs::symlink_status(fs::path(c.out) / f.path, ec))) existing.push_back((fs::path(c.out) / f.path).string());
    }
    if (!existing.empty() && !c.force) {
      throw UsageError(fmt::format("{} already exist{}: pass --force to overwrite, or choose another --out",
                                   fmt::join(existing, ", "), existing.size() == 1 ? "s" : ""));
    }
    // A tree an `--format all` export wrote holds a manifest `wgopt retune` re-renders from: one
    // format of another profile (or other options) written over it would leave the manifest naming
    // the earlier profile's interfaces and files and the other formats' files of that profile (found
    // by an exploratory test: a unit for wt0 beside a script for wg0). The same files again are fine.
    const bool writes_manifest = std::any_of(files.begin(), files.end(), [](const auto& f) { return f.path.ends_with(experiments::kManifestPath); });
    if (!writes_manifest && fs::exists(fs::path(c.out) / experiments::kManifestPath, ec)) {
      for (const auto& f : files) {
        if (!experiments::is_boot_file(f.path) || read_file((fs::path(c.out) / f.path).string()) == f.content) continue;
        throw UsageError(fmt::format("--out {} holds an `--format all` export ({} lists its files) of another profile or other "
                                     "options: --format {} would change {} and leave that manifest and the other formats' files as "
                                     "they are; export --format all over it, or choose another --out",
                                     c.out, (fs::path(c.out) / experiments::kManifestPath).string(), c.format, f.path));
      }
    }
    // All or nothing (a file under --out that cannot be written leaves none of the others, which
    // would name a script never written), each renamed into place so a reader never sees half a unit.
    std::vector<FileToWrite> writes;
    for (const auto& f : files) writes.push_back({(fs::path(c.out) / f.path).string(), f.content, f.mode});
    stale = stale_boot_files(c.out, files);
    write_files_all_or_nothing(writes);
    remove_stale(stale);
    for (const auto& f : files) {
      const fs::path target = fs::path(c.out) / f.path;
      if (c.json) listed.push_back({{"path", target.string()}, {"installs_to", "/" + f.path}, {"mode", fmt::format("{:04o}", f.mode)}, {"bytes", f.content.size()}});
      else if (c.format == "ansible") std::printf("wrote %s\n", target.c_str());
      else std::printf("wrote %s (installs to /%s)\n", target.c_str(), f.path.c_str());
    }
    for (const auto& p : stale) {
      if (!c.json) std::printf("removed %s (an earlier export's; this profile has nothing for it)\n", p.c_str());
    }
  }
  if (c.json) {
    std::printf("%s\n", nlohmann::json{{"profile", c.profile}, {"format", c.format}, {"out", c.out}, {"files", listed},
                                       {"removed", nlohmann::json(std::vector<std::string>(stale.begin(), stale.end()))}, {"skipped", skipped}}
                            .dump(2)
                            .c_str());
  } else {
    for (const auto& s : skipped) std::fprintf(stderr, "wgopt: skipped %s\n", s.c_str());
  }
}

void setup_export(CLI::App& root, Context&) {
  auto c = std::make_shared<ExportCli>();
  auto* sub = root.add_subcommand("export", "write a profile as sysctl.d, systemd, networkd, TuneD, NetBird and timer files");
  sub->footer(
      "Examples:\n"
      "  wgopt export best.yaml --format sysctl                  # print /etc/sysctl.d/99-wgopt.conf\n"
      "  wgopt export best.yaml --format all --out /tmp/wgopt    # every file under /tmp/wgopt/etc/...\n"
      "  wgopt export best.yaml --format systemd --underlay ens5 --json\n"
      "Formats (files are named by where they install, relative to /):\n"
      "  sysctl    etc/sysctl.d/99-wgopt.conf: the sysctl knobs (sysctl.d(5))\n"
      "  systemd   etc/systemd/system/wgopt-tuning.service + usr/local/sbin/wgopt-tuning.sh: every knob\n"
      "            sysctl cannot hold (RPS/RFS, IRQ affinity, channels, rings, offloads, txqueuelen,\n"
      "            qdisc, MTU), in the order `wgopt apply` writes them, after waiting up to 60 s for a\n"
      "            missing interface (WGOPT_TUNING_WAIT); and wgopt-tuning-WG.service, bound to the\n"
      "            WireGuard interface's device: it re-applies that interface's settings each time it\n"
      "            appears (NetBird recreates wt0 on restart and upgrade)\n"
      "  networkd  etc/systemd/network/10-wgopt-UNDERLAY.link: the underlay's MTU, rings, channels, offloads\n"
      "  tuned     etc/tuned/profiles/wgopt/tuned.conf (TuneD 2.24+; older: etc/tuned/wgopt/): a child profile\n"
      "            that include=s --tuned-parent (the host's active one), [sysctl], [net]\n"
      "  netbird   etc/wgopt/netbird-mtu.env: the tunnel MTU as NB_MTU, with the `netbird up --mtu` command\n"
      "  timer     etc/systemd/system/wgopt-retune.{service,timer}: the nightly `wgopt retune` (a search's\n"
      "            profile only: retune refuses one without its evidence; --host peer adds the peer's part\n"
      "            as etc/wgopt/profile.yaml, which the timer reads)\n"
      "  all       every format that has something to hold (the others are named on stderr), and\n"
      "            etc/wgopt/boot-files.yaml: the files `wgopt retune` re-renders when it replaces the profile\n"
      "  ansible   playbook.yml + roles/wgopt/: rolls the profile out to an inventory (paths relative to --out):\n"
      "            a host whose facts differ from the profile's is skipped with the reason; the files of\n"
      "            `all` are installed, the profile applied now (`wgopt apply`, checked: the tunnel must\n"
      "            answer), the units enabled where systemd runs; -e wgopt_serial=1 for a canary rollout\n"
      "A knob a format cannot express is listed in a comment of that file with the format that can.\n"
      "Which interface is which: the underlay is --underlay, else the testbed's P-uc/P-us (the\n"
      "evidence's plant.testbed, or host.place netns P-cli), else the one interface with NIC knobs\n"
      "(channels, rings, rss, irq_affinity), else the one that is not the WireGuard interface; the\n"
      "WireGuard interface is --wireguard, else the testbed's P-wc/P-ws, else the one named wt<N> or\n"
      "wg<N>, else the one that is not the underlay.\n"
      "Without --out the files are printed, each after a `# --- PATH ---` line. Existing files are\n"
      "never overwritten without --force; with --force, the boot files an earlier export's\n"
      "etc/wgopt/boot-files.yaml lists and this one no longer has are removed (installed, they would\n"
      "put the old profile's values back at the next boot). One format written into such a tree is\n"
      "refused when it would change a file there: export --format all over it instead.\n"
      "Every value is validated first: a bad profile writes nothing,\n"
      "and the files are written all or none (one that cannot be written leaves none of the others).\n"
      "Profile text (host facts, evidence, the file's name) is never code: it goes into comments, one line\n"
      "per fact, control characters shown as \\n, \\x00 ...; the timer's paths are absolute paths of\n"
      "[A-Za-z0-9/._+-].");
  sub->add_option("PROFILE", c->profile, "profile YAML (from `wgopt search` or `wgopt show`)")->required();
  sub->add_option("--format", c->format, "sysctl, systemd, networkd, tuned, netbird, timer, all or ansible")->required();
  sub->add_option("--out", c->out, "directory to write the files under (default: print them)")
      ->check(not_empty("a directory"));  // `--out "$DIR"` with DIR unset printed instead
  sub->add_option("--host", c->host,
                  "which end of a both-ends profile (`wgopt search --ssh`): local, or peer (its peer: section; write it "
                  "to another --out and copy that to the peer)")
      ->capture_default_str();
  sub->add_flag("--force", c->force, "overwrite files that exist under --out");
  sub->add_flag("--json", c->json, "print what was written (or the files, without --out) as JSON");
  sub->add_option("--underlay", c->options.underlay, "the underlay interface (default: see below)");
  sub->add_option("--wireguard", c->options.wireguard, "the WireGuard interface (default: see below)");
  sub->add_option("--profile-path", c->options.profile_path, "timer: where the profile is installed")->capture_default_str();
  sub->add_option("--wgopt-path", c->options.wgopt_path, "timer: the wgopt binary")->capture_default_str();
  sub->add_option("--budget", c->options.budget, "timer: time budget of each nightly retune (1s .. 7d, as retune takes it)")->capture_default_str();
  sub->add_option("--metrics-path", c->options.metrics_path, "timer: Prometheus textfile the retune writes")->capture_default_str();
  sub->add_option("--on-calendar", c->options.on_calendar, "timer: when it runs (systemd OnCalendar; checked with this machine's `systemd-analyze calendar` where it has one)")->capture_default_str();
  sub->add_option("--tuned-parent", c->options.tuned_parent,
                  "tuned: the profile it includes, the host's active one (cat /etc/tuned/active_profile); the Ansible role reads "
                  "it on each host")
      ->capture_default_str();
  sub->add_option("--tuned-version", c->options.tuned_version,
                  "tuned: the TuneD version, which decides the directory (2.24+: /etc/tuned/profiles/wgopt)")
      ->capture_default_str();
  sub->callback([c] { run_export(*c); });
}

}  // namespace
}  // namespace wgopt::cli

WGOPT_COMMAND(320, wgopt::cli::setup_export);

// `wgopt export` formats other than systemd (export_script.cpp), and the dispatch.
#include "experiments/export/export.hpp"
#include "experiments/study/budget.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <regex>

#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/export/export_manifest.hpp"
#include "experiments/export/export_model.hpp"
#include "experiments/study/evidence.hpp"

namespace wgopt::experiments {

using namespace exportfmt;

namespace {

std::vector<const Knob*> where(const Model& m, const std::function<bool(const Knob&)>& keep) {
  std::vector<const Knob*> out;
  for (const auto& k : m.knobs) {
    if (keep(k)) out.push_back(&k);
  }
  return out;
}

bool is_sysctl(const Knob& k) { return k.kind == "sysctl"; }

std::vector<ExportFile> render_sysctl(const act::Profile& p, const Model& m, const ExportOptions& o) {
  auto sysctls = where(m, is_sysctl);
  if (sysctls.empty()) throw NothingToHold(fmt::format("sysctl: profile {} has no sysctl knob to write", label(o)));
  std::string out = header(p, o, "#",
                           "install -m 0644 99-wgopt.conf /etc/sysctl.d/ && sysctl -p /etc/sysctl.d/99-wgopt.conf "
                           "(systemd-sysctl applies it at every boot)");
  out += captured_note(m, "#", "in the namespace, apply it with `ip netns exec NAME sysctl -p FILE`");
  out += not_expressible(where(m, [](const Knob& k) { return !is_sysctl(k); }), "#", "not sysctls; use --format systemd");
  out += "\n";
  // sysctl.d(5): "key = value"; the rest of the line is the value, spaces included.
  for (const Knob* k : sysctls) out += fmt::format("{} = {}\n", k->id, k->value);
  return {{"etc/sysctl.d/99-wgopt.conf", out, 0644}};
}

// systemd.link(5) keys of systemd 252 (Debian 12) for the underlay's knobs.
std::vector<std::string> link_keys(const Knob& k) {
  if (k.name == "mtu") return {"MTUBytes"};
  if (k.name == "txqueuelen") return {"TransmitQueueLength"};
  if (k.name == "rings/rx") return {"RxBufferSize"};
  if (k.name == "rings/tx") return {"TxBufferSize"};
  if (k.name == "channels/combined") return {"CombinedChannels"};
  if (k.name == "channels/rx") return {"RxChannels"};
  if (k.name == "channels/tx") return {"TxChannels"};
  if (k.name == "offload/gro") return {"GenericReceiveOffload"};
  if (k.name == "offload/gso") return {"GenericSegmentationOffload"};
  // ethtool's "tso" turns TSO for IPv4 and IPv6 together.
  if (k.name == "offload/tso") return {"TCPSegmentationOffload", "TCP6SegmentationOffload"};
  return {};
}

std::string link_value(const Knob& k) {
  if (k.kind == "offload") return k.value == "on" ? "true" : "false";
  return k.value;
}

std::string need_underlay(const act::Profile& p, const Model& m, const ExportOptions& o) {
  if (!m.roles.underlay.empty()) return m.roles.underlay;
  if (m.devices.empty()) throw NothingToHold(fmt::format("networkd: profile {} has no interface knob", label(o)));
  // The underlay the search recorded, with no knob in the profile: nothing for a .link to hold
  // (found by an exploratory test: "cannot tell which ... pass --underlay IF", and with it, "has no knob").
  if (const auto named = scalar(p.host, {"underlay"}); named && !named->empty()) {
    const bool others = std::any_of(m.devices.begin(), m.devices.end(), [&](const std::string& d) { return d != m.roles.wireguard; });
    throw NothingToHold(fmt::format("networkd: profile {} has no knob of its underlay {}: nothing for a .link file to hold{}", label(o),
                                    one_line(*named, 40), others ? " (another interface's: pass --underlay IF)" : ""));
  }
  throw NothingToHold(fmt::format("networkd: cannot tell which of {} is the underlay in profile {}: pass --underlay IF",
                               fmt::join(m.devices, ", "), label(o)));
}

std::vector<ExportFile> render_networkd(const act::Profile& p, const Model& m, const ExportOptions& o) {
  const std::string dev = need_underlay(p, m, o);
  auto held = where(m, [&](const Knob& k) { return k.device == dev && !link_keys(k).empty(); });
  if (held.empty()) {
    throw NothingToHold(fmt::format("networkd: profile {} has no knob of the underlay {} a .link file can hold", label(o), dev));
  }
  const std::string file = fmt::format("10-wgopt-{}.link", dev);
  std::string out = header(p, o, "#",
                           fmt::format("install -m 0644 {} /etc/systemd/network/ && update-initramfs -u; it applies when "
                                       "udev adds {} (next boot, or `udevadm trigger --action=add /sys/class/net/{}`)",
                                       file, dev, dev));
  out += captured_note(m, "#", "udev applies a .link only to devices of the root namespace: use --format systemd");
  out += fmt::format("# The underlay is {} (see `wgopt export --help` for how it is chosen).\n", dev);
  out += not_expressible(where(m, [&](const Knob& k) { return !is_sysctl(k) && (k.device != dev || link_keys(k).empty()); }), "#",
                         "use --format systemd");
  out += not_expressible(where(m, is_sysctl), "#", "sysctls; use --format sysctl");
  out += "\n[Match]\n";
  out += "# The kernel's name when udev adds the device; for a NIC that udev renames (ens5, enp0s3),\n";
  out += fmt::format("# match its address instead: MACAddress= from `ip link show {}`.\n", dev);
  out += fmt::format("OriginalName={}\n\n[Link]\n", dev);
  out += "# The first matching .link file is the only one applied: keep 99-default.link's policies.\n";
  out += "NamePolicy=keep kernel database onboard slot path\n";
  out += "AlternativeNamesPolicy=database onboard slot path\n";
  out += "MACAddressPolicy=persistent\n";
  for (const Knob* k : held) {
    for (const auto& key : link_keys(*k)) out += fmt::format("{}={}\n", key, link_value(*k));
  }
  return {{"etc/systemd/network/" + file, out, 0644}};
}

std::vector<ExportFile> render_tuned(const act::Profile& p, const Model& m, const ExportOptions& o) {
  const std::string parent = tuned_include(o.tuned_parent);
  const std::string path = tuned_conf_path(o.tuned_version);
  std::string out = header(p, o, "#", fmt::format("install -D -m 0644 tuned.conf /{} && tuned-adm profile wgopt", path));
  // Neither the parent nor the directory here: the Ansible role puts this text on hosts whose
  // active profile and TuneD version it reads there.
  out += captured_note(m, "#", "TuneD does not enter namespaces: use --format systemd");
  out += "# A child profile: it adds wgopt's settings to the one include= names. TuneD 2.24 and later read\n";
  out += "# it from /etc/tuned/profiles/wgopt/, older versions from /etc/tuned/wgopt/.\n";
  // tuned's net plugin: mtu, txqueuelen, channels (ethtool -L), ring (ethtool -G), features (ethtool -K).
  auto in_net = [](const Knob& k) {
    return k.kind == "mtu" || k.kind == "txqueuelen" || k.kind == "channels" || k.kind == "rings" || k.kind == "offload";
  };
  out += not_expressible(where(m, [&](const Knob& k) { return !is_sysctl(k) && !in_net(k); }), "#", "use --format systemd");
  out += "\n[main]\n";
  const std::string study = Evidence::from_yaml(p.evidence, label(o), Evidence::Mode::Lenient).study;
  // Free text in a value TuneD parses: ini_text() leaves nothing for ${...} expansion or a # comment.
  out += fmt::format("summary=wgopt profile{}\n", study.empty() ? "" : " from study " + ini_text(cut(study)));
  out += "include=" + parent + "\n";
  auto sysctls = where(m, is_sysctl);
  if (!sysctls.empty()) {
    out += "\n[sysctl]\n";
    for (const Knob* k : sysctls) {
      const bool spaced = k->value.find(' ') != std::string::npos;
      out += fmt::format("{}={}\n", k->id, spaced ? "\"" + k->value + "\"" : k->value);
    }
  }
  for (const auto& dev : m.devices) {
    auto knobs = where(m, [&](const Knob& k) { return k.device == dev && in_net(k); });
    if (knobs.empty()) continue;
    // [net] is the underlay; other interfaces are further instances of the same plugin.
    if (dev == m.roles.underlay) out += "\n[net]\n";
    else out += fmt::format("\n[net_{}]\ntype=net\n", dev);
    out += fmt::format("devices={}\n", dev);
    std::map<std::string, std::string> grouped;  // channels, ring, features: "word value ..."
    for (const Knob* k : knobs) {
      const std::string leaf = k->name.substr(k->name.find('/') + 1);
      if (k->kind == "mtu" || k->kind == "txqueuelen") out += fmt::format("{}={}\n", k->kind, k->value);
      else if (k->kind == "channels") grouped["channels"] += fmt::format(" {} {}", leaf, k->value);
      else if (k->kind == "rings") grouped["ring"] += fmt::format(" {} {}", leaf, k->value);
      else grouped["features"] += fmt::format(" {} {}", leaf, k->value);
    }
    for (const auto& [key, v] : grouped) out += fmt::format("{}={}\n", key, v.substr(1));
  }
  return {{path, out, 0644}};
}

std::vector<ExportFile> render_netbird(const act::Profile& p, const Model& m, const ExportOptions& o) {
  auto mtus = where(m, [](const Knob& k) { return k.kind == "mtu"; });
  if (mtus.empty()) throw NothingToHold(fmt::format("netbird: profile {} has no MTU knob", label(o)));
  if (m.roles.wireguard.empty()) {
    throw NothingToHold(fmt::format("netbird: cannot tell which of {} is the WireGuard interface in profile {}: pass --wireguard IF",
                                 fmt::join(m.devices, ", "), label(o)));
  }
  const Knob* mtu = nullptr;
  for (const Knob* k : mtus) {
    if (k->device == m.roles.wireguard) mtu = k;
  }
  if (!mtu) throw NothingToHold(fmt::format("netbird: profile {} has no MTU for the WireGuard interface {}", label(o), m.roles.wireguard));
  std::string out = header(p, o, "#",
                           "install -D -m 0644 netbird-mtu.env /etc/wgopt/netbird-mtu.env, then one of the ways below");
  out += not_expressible(where(m, [&](const Knob& k) { return &k != mtu; }), "#", "only the tunnel MTU is NetBird's; use --format all");
  out += fmt::format(
      "#\n"
      "# NetBird sets the MTU of its interface ({0}) itself, so give it the MTU where NetBird reads it:\n"
      "#   netbird down && netbird up --mtu {1}\n"
      "#     (the exact command; `netbird up` keeps the flag in its profile config, the \"MTU\" field)\n"
      "#   \"MTU\": {1}\n"
      "#     (that field in NetBird's profile config, <profile>.json, formerly config.json)\n"
      "#   set -a; . /etc/wgopt/netbird-mtu.env; set +a; netbird up\n"
      "#     (NB_MTU is the --mtu flag as an environment variable, for scripts that run `netbird up`)\n",
      m.roles.wireguard, mtu->value);
  out += fmt::format("NB_MTU={}\n", mtu->value);
  return {{"etc/wgopt/netbird-mtu.env", out, 0644}};
}

// Why `wgopt retune` would refuse `p` for what its evidence lacks (retune_search_options: no evidence,
// no plant, no objective), or empty. Only what is there counts, not its text: the values are retune's
// to read (a hostile one is escaped here), and the files rendered never depend on free text (the
// export fuzzer's invariant: with every scalar blanked, the same files).
std::string retune_refusal(const act::Profile& p) {
  if (!p.evidence.IsMap()) return "has no evidence (it was not written by `wgopt search`)";
  const YAML::Node& ev = p.evidence;  // const: a missing key must not be created
  if (!ev["plant"] || !ev["plant"].IsMap()) return "has no evidence.plant (where to measure)";
  if (!ev["objective"] || !ev["objective"].IsScalar()) return "has no evidence.objective (what to measure)";
  return p.knobs.empty() ? "names no knobs" : "";
}

std::vector<ExportFile> render_timer(const act::Profile& p, const Model&, const ExportOptions& o) {
  require_unit_path(o.profile_path, "--profile-path");
  require_unit_path(o.wgopt_path, "--wgopt-path");
  require_unit_path(o.metrics_path, "--metrics-path");
  // The budget and the calendar go into the units as they are: only characters systemd takes literally.
  if (o.budget.empty() || o.budget.find_first_not_of("0123456789.smhd") != std::string::npos) {
    throw UsageError(fmt::format("--budget '{}' is not a duration such as 20m", one_line(o.budget, 80)));
  }
  parse_budget(o.budget, std::nullopt);  // retune's own range (1s .. 7d): a unit it refuses would fail every night
  if (o.on_calendar.empty() || o.on_calendar.size() > 200 ||
      o.on_calendar.find_first_not_of("0123456789*-:/., ~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != std::string::npos) {
    throw UsageError(fmt::format("--on-calendar '{}' is not a systemd calendar spec such as '*-*-* 03:30:00'", one_line(o.on_calendar, 80)));
  }
  // retune refuses a profile without evidence (found by an exploratory test: `wgopt show > p.yaml`
  // exported a timer that failed every night), or with evidence it cannot read or measure from.
  if (const std::string why = retune_refusal(p); !why.empty()) {
    throw NothingToHold(fmt::format("timer: profile {} {}, and the nightly `wgopt retune` refuses such a profile: export the profile "
                                    "a search wrote",
                                    label(o), why));
  }
  // From etc/systemd/system/ of the tree, where the install line starts, when the tree holds it.
  const std::string source = o.timer_writes_profile ? "../../.." + o.profile_path : shell_word(cut(o.profile_label));
  const std::string install = fmt::format(
      "install -m 0644 wgopt-retune.service wgopt-retune.timer /etc/systemd/system/ && install -D -m 0644 {} {} && "
      "systemctl daemon-reload && systemctl enable --now wgopt-retune.timer",
      source, o.profile_path);
  std::string service = header(p, o, "#", install);
  service += "\n[Unit]\n";
  service += "Description=wgopt nightly re-tune: measure the installed profile again; keep it, promote a better one or roll back\n";
  service += "After=network-online.target netbird.service\nWants=network-online.target\n\n";
  service += "[Service]\nType=oneshot\n";
  service += "# This host's own iperf3 server, when it has one: WGOPT_RETUNE_PEER=ADDR and WGOPT_RETUNE_PORT=N\n";
  service += "# (`wgopt retune --peer/--port`; the Ansible role writes it). Without it, the profile's peer.\n";
  service += "EnvironmentFile=-/etc/wgopt/retune.env\n";
  service += fmt::format("ExecStart={} retune --profile {} --budget {} --metrics {} --quiet\n", o.wgopt_path, o.profile_path,
                         o.budget, o.metrics_path);
  service += "# 10: a confirmed better profile was promoted; 11: knobs that drifted were put back. Both are the\n";
  service += "# job doing its work. 12 (degraded: slower than the profile's evidence and nothing better\n";
  service += "# confirmed), 1 (error) and 2 (bad usage) fail the unit, so monitoring sees them.\n";
  service += "SuccessExitStatus=10 11\n";

  std::string timer = header(p, o, "#", install);
  timer += "\n[Unit]\nDescription=wgopt nightly re-tune at a quiet hour\n\n";
  timer += "[Timer]\n";
  timer += fmt::format("OnCalendar={}\n", o.on_calendar);
  timer += "# Spread the VMs of one SKU so they do not all measure at once.\n";
  timer += "RandomizedDelaySec=30min\n";
  timer += "# A night missed while the host was off runs at the next boot.\n";
  timer += "Persistent=true\n\n";
  timer += "[Install]\nWantedBy=timers.target\n";
  std::vector<ExportFile> out{{"etc/systemd/system/wgopt-retune.service", service, 0644},
                              {"etc/systemd/system/wgopt-retune.timer", timer, 0644}};
  if (o.timer_writes_profile) out.push_back({o.profile_path.substr(1), act::dump_profile(p), 0644});
  return out;
}

using Renderer = std::vector<ExportFile> (*)(const act::Profile&, const Model&, const ExportOptions&);

Renderer renderer(const std::string& format) {
  if (format == "sysctl") return render_sysctl;
  if (format == "systemd") return render_systemd;
  if (format == "networkd") return render_networkd;
  if (format == "tuned") return render_tuned;
  if (format == "netbird") return render_netbird;
  if (format == "timer") return render_timer;
  return nullptr;
}

}  // namespace

bool tuned_uses_profiles_dir(const std::string& version) {
  static const std::regex form("([0-9]{1,4})\\.([0-9]{1,4})(\\.[0-9]{1,4})?");
  std::smatch mt;
  if (!std::regex_match(version, mt, form)) {
    throw UsageError(fmt::format("--tuned-version '{}' is not a TuneD version such as 2.24 or 2.20.0 (tuned-adm --version)",
                                 one_line(version, 40)));
  }
  const int major = std::stoi(mt[1].str()), minor = std::stoi(mt[2].str());
  return major > 2 || (major == 2 && minor >= 24);
}

std::string tuned_conf_path(const std::string& version) {
  return tuned_uses_profiles_dir(version) ? "etc/tuned/profiles/wgopt/tuned.conf" : "etc/tuned/wgopt/tuned.conf";
}

std::string tuned_include(const std::string& parents) {
  static const std::regex name("[A-Za-z0-9_.-]{1,64}");
  std::vector<std::string> names;
  // Names separated by ',' or ' ' only: any other byte (a newline, a tab) refuses the whole list.
  const bool plain = parents.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-, ") == std::string::npos;
  for (const auto& w : split_ws(std::regex_replace(parents, std::regex(","), " "))) {
    if (!plain || !std::regex_match(w, name) || w == "wgopt") {
      throw UsageError(fmt::format("--tuned-parent '{}' is not a list of TuneD profile names (letters, digits, _ . -) other than "
                                   "wgopt: use the host's active profile, e.g. `cat /etc/tuned/active_profile`",
                                   one_line(parents, 80)));
    }
    names.push_back(w);
  }
  if (names.empty() || names.size() > 8) {
    throw UsageError("--tuned-parent names no profile (or more than 8): use the host's active profile, e.g. throughput-performance");
  }
  return fmt::format("{}", fmt::join(names, ","));
}

const std::vector<std::string>& export_formats() {
  static const std::vector<std::string> f{"sysctl", "systemd", "networkd", "tuned", "netbird", "timer"};
  return f;
}

InterfaceRoles export_roles(const act::Profile& profile, const ExportOptions& options) {
  return build_model(profile, options).roles;
}

std::vector<ExportFile> render_export(const act::Profile& profile, const std::string& format, const ExportOptions& options,
                                      std::vector<std::string>* skipped) {
  if (format == "ansible") return render_ansible(profile, options);
  if (format != "all" && !renderer(format)) {
    throw UsageError(fmt::format("unknown export format '{}': use one of {}, all, ansible", format, fmt::join(export_formats(), ", ")));
  }
  const Model m = build_model(profile, options);
  if (format != "all") return renderer(format)(profile, m, options);
  std::vector<ExportFile> out;
  for (const auto& f : export_formats()) {
    try {
      auto files = renderer(f)(profile, m, options);
      out.insert(out.end(), files.begin(), files.end());
    } catch (const NothingToHold& e) {
      if (skipped) skipped->push_back(e.what());
    }
  }
  if (auto manifest = render_manifest(profile, out, m.roles, options)) out.push_back(std::move(*manifest));
  return out;
}

}  // namespace wgopt::experiments

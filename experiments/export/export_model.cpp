// The export model: a profile's knobs validated once more (an exported file reaches other hosts
// without `wgopt apply` in between, so a bad value must stop here), in the transaction's order.
#include "experiments/export/export_model.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <regex>

#include "actuators/allowlist.hpp"
#include "actuators/cpumask.hpp"
#include "actuators/irq_placement.hpp"
#include "actuators/knobs_common.hpp"  // sysctl_names(), device_knob_names(): the catalog's ids
#include "common/error.hpp"
#include "common/place.hpp"
#include "common/util.hpp"
#include "experiments/study/evidence.hpp"

namespace wgopt::experiments::exportfmt {

namespace {

// The Descriptor::order each knob kind declares in actuators/knobs_*.cpp, so the script writes in
// the transaction's order (channels before the RPS masks and IRQs of the queues they create).
// tests/experiments/test_export_order.cpp checks it against the knobs this machine has.
int order_of(const std::string& kind, const std::string& sysctl) {
  if (kind == "service") return 5;
  if (kind == "channels") return 10;
  if (kind == "rings") return 15;
  if (kind == "offload") return 20;
  if (kind == "rss_hash") return 25;
  if (kind == "rss_equal") return 26;
  if (kind == "rps_cpus") return 30;
  if (kind == "rps_flow_cnt") return 31;
  if (kind == "irq_affinity") return 32;
  if (kind == "qdisc") return 60;
  if (kind == "txqueuelen") return 70;
  if (kind == "mtu") return 90;
  if (sysctl == "net.core.rps_sock_flow_entries") return 35;
  if (sysctl == "net.core.rmem_max" || sysctl == "net.core.wmem_max") return 45;
  if (sysctl == "net.core.rmem_default" || sysctl == "net.core.wmem_default") return 46;  // defaults after their max
  if (sysctl == "net.ipv4.tcp_rmem" || sysctl == "net.ipv4.tcp_wmem") return 47;
  if (sysctl == "net.ipv4.tcp_congestion_control") return 48;
  if (sysctl == "net.core.default_qdisc") return 55;
  return 50;
}

struct Checker {
  std::string label;
  std::string id;
  std::string value;
  std::optional<int> nproc;

  UsageError bad(const std::string& rule) const {
    return UsageError(fmt::format("profile {}: knob {} has value '{}': {}", label, id, one_line(value, 80), rule));
  }
  int64_t integer(const std::string& text, int64_t min, int64_t max) const {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
      throw bad(fmt::format("use an integer in [{}, {}]", min, max));
    }
    return v;
  }
  std::string integers(int64_t min, int64_t max) const {
    std::vector<std::string> out;
    for (const auto& w : split_ws(value)) out.push_back(std::to_string(integer(w, min, max)));
    if (out.empty()) throw bad("it is empty");
    return fmt::format("{}", fmt::join(out, " "));
  }
  std::string mask(const std::string& text) const {
    // Without host facts the mask cannot be checked against a CPU count; the kernel still refuses a
    // too-wide mask when the file is applied.
    const int width = nproc.value_or(4096);
    return act::CpuMask::parse(text, width, fmt::format("mask for {} in profile {}", id, label)).canonical();
  }
  std::string masks() const {
    std::vector<std::string> out;
    for (const auto& w : split_ws(value)) out.push_back(mask(w));
    if (out.empty()) throw bad("use a CPU mask such as 3, or 0");
    return fmt::format("{}", fmt::join(out, " "));
  }
  std::string word(const std::vector<std::string>& allowed, const std::string& what) const {
    const std::string t = trim(value);
    if (std::find(allowed.begin(), allowed.end(), t) == allowed.end()) {
      throw bad(fmt::format("use {} ({})", fmt::join(allowed, ", "), what));
    }
    return t;
  }
};

std::string sysctl_value(const Checker& c) {
  const std::string& id = c.id;
  if (id == "net.ipv4.tcp_rmem" || id == "net.ipv4.tcp_wmem") {
    auto w = split_ws(c.value);
    if (w.size() != 3) throw c.bad("use three integers min <= default <= max, e.g. \"4096 131072 16777216\"");
    int64_t a = c.integer(w[0], 1, INT32_MAX), b = c.integer(w[1], 1, INT32_MAX), m = c.integer(w[2], 1, INT32_MAX);
    if (a > b || b > m) throw c.bad("use three integers min <= default <= max, e.g. \"4096 131072 16777216\"");
    return fmt::format("{} {} {}", a, b, m);
  }
  if (id == "net.core.default_qdisc" || id == "net.ipv4.tcp_congestion_control") {
    static const std::regex name("[a-z][a-z0-9_]{0,31}");
    const std::string t = trim(c.value);
    if (!std::regex_match(t, name)) throw c.bad("use a kernel name such as bbr, cubic, fq or pfifo_fast");
    return t;
  }
  return std::to_string(c.integer(trim(c.value), 0, INT32_MAX));
}

std::string rss_hash_value(const Checker& c) {
  static const std::string letters = "mvtsdfn";
  const std::string t = trim(c.value);
  std::string out;
  for (char l : letters) {
    if (t.find(l) != std::string::npos) out += l;
  }
  if (t.empty() || out.size() != t.size() || t.find_first_not_of(letters) != std::string::npos) {
    throw c.bad("use ethtool's field letters from mvtsdfn once each, e.g. sdfn");
  }
  return out;
}

std::string rss_equal_value(const Checker& c) {
  const std::string t = trim(c.value);
  if (!t.starts_with("weight:")) return std::to_string(c.integer(t, 1, 4096));
  std::vector<std::string> out;
  int64_t sum = 0;
  for (const auto& w : split(t.substr(7), ',')) {
    sum += c.integer(w, 0, 1 << 16);
    out.push_back(std::to_string(c.integer(w, 0, 1 << 16)));
  }
  if (sum == 0) throw c.bad("use N or weight:a,b,... with at least one weight above 0");
  return fmt::format("weight:{}", fmt::join(out, ","));
}

std::string device_value(const Checker& c, const std::string& name) {
  if (name == "mtu") return std::to_string(c.integer(trim(c.value), 68, 65535));
  if (name == "txqueuelen") return std::to_string(c.integer(trim(c.value), 0, INT32_MAX));
  if (name == "rps_cpus") return c.masks();
  if (name == "rps_flow_cnt") return c.integers(0, 1 << 20);
  if (name.starts_with("channels/") || name.starts_with("rings/")) return std::to_string(c.integer(trim(c.value), 1, 1 << 20));
  if (name.starts_with("offload/")) {
    const std::string t = trim(c.value);
    if (t == "on" || t == "true" || t == "1") return "on";
    if (t == "off" || t == "false" || t == "0") return "off";
    throw c.bad("use on or off");
  }
  if (name == "rss_hash_udp4") return rss_hash_value(c);
  if (name == "rss_equal") return rss_equal_value(c);
  if (name == "irq_affinity") {
    if (act::is_irq_placement_name(trim(c.value))) return trim(c.value);
    const std::string m = c.masks();
    for (const auto& one : split_ws(m)) {
      if (one == "0") {
        throw c.bad(fmt::format("an IRQ needs at least one CPU: use {} or masks other than 0",
                                fmt::join(act::irq_placement_names(), ", ")));
      }
    }
    return m;
  }
  // qdisc: the kinds `tc` can put at the root and the defaults a deleted root gives back.
  return c.word({"pfifo_fast", "pfifo", "bfifo", "noqueue", "mq", "fq", "fq_codel", "cake", "sfq", "prio", "htb", "tbf"},
                "a root qdisc kind");
}

std::string kind_of(const std::string& name) {
  if (name.starts_with("offload/")) return "offload";
  if (name == "rss_hash_udp4") return "rss_hash";
  return name.substr(0, name.find('/'));
}

bool nic_only(const std::string& kind) {
  return kind == "channels" || kind == "rings" || kind == "rss_hash" || kind == "rss_equal" || kind == "irq_affinity";
}

std::optional<double> number(const YAML::Node& node, std::initializer_list<const char*> path) {
  auto s = scalar(node, path);
  if (!s) return std::nullopt;
  try {
    size_t used = 0;
    double v = std::stod(*s, &used);
    if (used == s->size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::string one_of(const std::vector<std::string>& candidates) { return candidates.size() == 1 ? candidates[0] : ""; }

InterfaceRoles roles_of(const act::Profile& profile, const std::vector<std::string>& devices,
                        const std::vector<Knob>& knobs, const ExportOptions& o) {
  auto present = [&](const std::string& d) { return std::find(devices.begin(), devices.end(), d) != devices.end(); };
  for (const auto* opt : {&o.underlay, &o.wireguard}) {
    if (opt->empty()) continue;
    require_valid_ifname(*opt);
    if (!present(*opt)) {
      throw UsageError(fmt::format("interface {} has no knob in profile {}: name one of {}", *opt, label(o),
                                   devices.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(devices, ", "))));
    }
  }
  if (!o.underlay.empty() && o.underlay == o.wireguard) {
    throw UsageError(fmt::format("--underlay and --wireguard both name {}: name two different interfaces", o.underlay));
  }
  InterfaceRoles r{o.underlay, o.wireguard};
  const Evidence ev = Evidence::from_yaml(profile.evidence, label(o), Evidence::Mode::Lenient);
  std::optional<std::string> testbed;
  if (ev.plant && !ev.plant->testbed.empty()) testbed = ev.plant->testbed;
  if (!testbed) {
    // Profiles written before the evidence named the plant: the place is the testbed's namespace.
    static const std::regex ns("netns ([a-z0-9]{1,6})-(cli|srv)");
    std::smatch mt;
    const std::string place = scalar(profile.host, {"place"}).value_or("");
    if (std::regex_match(place, mt, ns)) testbed = mt[1].str();
  }
  if (testbed) {
    for (const char* end : {"-uc", "-us"}) {
      if (r.underlay.empty() && present(*testbed + end)) r.underlay = *testbed + end;
    }
    for (const char* end : {"-wc", "-ws"}) {
      if (r.wireguard.empty() && present(*testbed + end)) r.wireguard = *testbed + end;
    }
  }
  if (r.underlay.empty()) {
    std::vector<std::string> nics;
    for (const auto& k : knobs) {
      if (nic_only(k.kind) && k.device != r.wireguard && std::find(nics.begin(), nics.end(), k.device) == nics.end()) nics.push_back(k.device);
    }
    r.underlay = one_of(nics);
  }
  if (r.wireguard.empty()) {
    static const std::regex tunnel("(wt|wg)[0-9]+");
    std::vector<std::string> named;
    for (const auto& d : devices) {
      if (d != r.underlay && std::regex_match(d, tunnel)) named.push_back(d);
    }
    r.wireguard = one_of(named);
  }
  auto other = [&](const std::string& not_this) {
    std::vector<std::string> rest;
    for (const auto& d : devices) {
      if (d != not_this) rest.push_back(d);
    }
    return one_of(rest);
  };
  if (r.underlay.empty() && !r.wireguard.empty()) r.underlay = other(r.wireguard);
  if (r.wireguard.empty() && !r.underlay.empty()) r.wireguard = other(r.underlay);
  return r;
}

}  // namespace

std::optional<std::string> scalar(const YAML::Node& node, std::initializer_list<const char*> path) {
  // reset() rebinds; operator= on a yaml-cpp Node would write into the profile's tree instead.
  YAML::Node n;
  n.reset(node);
  for (const char* key : path) {
    if (!n || !n.IsMap()) return std::nullopt;
    const YAML::Node& map = n;  // const: a missing key must not be created
    YAML::Node next = map[key];
    if (!next) return std::nullopt;
    n.reset(next);
  }
  if (!n || !n.IsScalar()) return std::nullopt;
  return n.Scalar();
}

Model build_model(const act::Profile& profile, const ExportOptions& options) {
  Model m;
  if (auto n = number(profile.host, {"nproc"}); n && *n >= 1 && *n <= 8192 && *n == static_cast<int>(*n)) {
    m.nproc = static_cast<int>(*n);
  }
  m.place = scalar(profile.host, {"place"}).value_or("");
  const auto sysctls = act::sysctl_names();
  const auto device_names = act::device_knob_names();
  for (const auto& [id, value] : profile.knobs) {
    if (auto problem = act::knob_id_problem(id)) throw UsageError(fmt::format("profile {}: {}", label(options), *problem));
    Checker c{label(options), id, value, m.nproc};
    Knob k;
    k.id = id;
    const auto slash = id.find('/');
    if (id == "irqbalance") {
      k.kind = "service";
      k.name = id;
      k.value = c.word({"active", "inactive"}, "the irqbalance service");
    } else if (slash == std::string::npos) {
      if (std::find(sysctls.begin(), sysctls.end(), id) == sysctls.end()) {
        throw UsageError(fmt::format("profile {}: unknown knob '{}': run `wgopt knobs` to list them", label(options), id));
      }
      k.kind = "sysctl";
      k.name = id;
      k.value = sysctl_value(c);
    } else {
      k.device = id.substr(0, slash);
      k.name = id.substr(slash + 1);
      if (std::find(device_names.begin(), device_names.end(), k.name) == device_names.end()) {
        throw UsageError(fmt::format("profile {}: unknown knob '{}': run `wgopt knobs` to list them", label(options), id));
      }
      require_valid_ifname(k.device);
      k.kind = kind_of(k.name);
      k.value = device_value(c, k.name);
      if (std::find(m.devices.begin(), m.devices.end(), k.device) == m.devices.end()) m.devices.push_back(k.device);
    }
    k.order = order_of(k.kind, k.kind == "sysctl" ? id : "");
    m.knobs.push_back(std::move(k));
  }
  std::stable_sort(m.knobs.begin(), m.knobs.end(), [](const Knob& a, const Knob& b) { return a.order < b.order; });
  m.roles = roles_of(profile, m.devices, m.knobs, options);
  return m;
}

std::string label(const ExportOptions& options) { return one_line(options.profile_label, 200); }

std::string header(const act::Profile& profile, const ExportOptions& options, const std::string& comment,
                   const std::string& install) {
  // Every line goes through comment_line(); free text is cut first, so a line stays readable.
  auto fact = [&](const YAML::Node& node, std::initializer_list<const char*> path) -> std::optional<std::string> {
    auto v = scalar(node, path);
    return v ? std::optional(cut(*v)) : std::nullopt;
  };
  // What a hand-edited profile's evidence holds that does not read (a score of NaN, text) is left out.
  const Evidence ev = Evidence::from_yaml(profile.evidence, label(options), Evidence::Mode::Lenient);
  auto text = [](const std::string& s) { return s.empty() ? std::optional<std::string>() : std::optional(cut(s)); };
  std::string out = comment_line(comment, fmt::format("Generated by `wgopt export` from profile {}: re-export rather than edit.",
                                                      cut(options.profile_label)));
  const auto study = text(ev.study);
  const auto outcome = text(ev.outcome);
  const auto created = text(ev.created);
  if (study || outcome) {
    out += comment_line(comment, fmt::format("Study {}, outcome {}, created {}.", study.value_or("(unknown)"),
                                             outcome.value_or("(unknown)"), created.value_or("(unknown)")));
  } else {
    out += comment_line(comment, "No study evidence in the profile (written by hand or by `wgopt show`).");
  }
  const ArmEvidence none;
  const ArmEvidence& b = ev.baseline ? *ev.baseline : none;
  const ArmEvidence& w = ev.winner ? *ev.winner : none;
  const GainEvidence g = ev.gain.value_or(GainEvidence{});
  if (b.score && w.score) {
    std::string gain = g.relative ? fmt::format(" ({:+.1f}%{})", 100.0 * g.relative.value_or(0),
                                                g.p_value ? fmt::format(", p={:.3g}", g.p_value.value_or(1)) : "")
                                  : "";
    out += comment_line(comment, fmt::format("Score: baseline {:.1f} -> winner {:.1f}{}.", *b.score, *w.score, gain));
  } else if (b.score) {
    out += comment_line(comment, fmt::format("Score: baseline {:.1f}; no winner was confirmed, these are the host's own values.", *b.score));
  }
  if (b.throughput_mbps && w.throughput_mbps) {
    out += comment_line(comment, fmt::format("Throughput: {:.0f} -> {:.0f} Mbit/s.", *b.throughput_mbps, *w.throughput_mbps));
  }
  std::vector<std::string> facts;
  // search writes "unknown (N CPUs)" when the machine does not say its SKU; the CPUs follow anyway.
  if (auto s = fact(profile.host, {"sku"}); s && !s->starts_with("unknown")) facts.push_back(*s);
  if (auto n = fact(profile.host, {"nproc"})) facts.push_back(*n + " CPUs");
  if (auto k = fact(profile.host, {"kernel"})) facts.push_back("kernel " + *k);
  if (auto n = fact(profile.host, {"nic_driver"})) facts.push_back("NIC driver " + *n);
  if (auto pl = fact(profile.host, {"place"})) facts.push_back(*pl == "host" ? "on the host" : "in " + *pl);
  if (!facts.empty()) out += comment_line(comment, fmt::format("Captured: {}.", fmt::join(facts, ", ")));
  out += comment_line(comment, "Install: " + install);
  return out;
}

std::string not_expressible(const std::vector<const Knob*>& knobs, const std::string& comment, const std::string& hint) {
  if (knobs.empty()) return "";
  std::string out = comment_line(comment, "Not expressible here (" + hint + "):");
  for (const Knob* k : knobs) out += comment_line(comment, fmt::format("  {} = {}", k->id, k->value));
  return out;
}

}  // namespace wgopt::experiments::exportfmt

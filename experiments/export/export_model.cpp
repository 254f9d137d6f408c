// The export model: a profile's knobs validated once more (an exported file reaches other hosts
// without `wgopt apply` in between, so a bad value must stop here), in the transaction's order.
#include "experiments/export/export_model.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <regex>

#include "actuators/allowlist.hpp"
#include "actuators/knob_kinds.hpp"
#include "common/error.hpp"
#include "common/place.hpp"
#include "common/util.hpp"
#include "experiments/study/evidence.hpp"

namespace wgopt::experiments::exportfmt {

namespace {

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
  // The interfaces the search read the host's facts on (host.underlay, host.wireguard), where the
  // profile has knobs for them (found by an exploratory test: a two-host profile recording
  // wireguard: xe-wc could not be exported as NB_MTU without --wireguard).
  for (const auto& [role, key] : {std::pair{&r.underlay, "underlay"}, std::pair{&r.wireguard, "wireguard"}}) {
    const std::string& other_role = role == &r.underlay ? r.wireguard : r.underlay;
    const auto named = scalar(profile.host, {key});
    if (role->empty() && named && present(*named) && *named != other_role) *role = *named;
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
  for (const auto& [id, value] : profile.knobs) {
    if (auto problem = act::knob_id_problem(id)) throw UsageError(fmt::format("profile {}: {}", label(options), *problem));
    // Kind, order and the value's rules: actuators/knob_kinds.hpp, the table `wgopt apply` uses.
    const auto spec = act::kind_spec(id);
    if (!spec) throw UsageError(fmt::format("profile {}: unknown knob '{}': run `wgopt knobs` to list them", label(options), id));
    Knob k;
    k.id = id;
    k.kind = spec->kind;
    k.order = spec->order;
    const auto slash = id.find('/');
    k.name = slash == std::string::npos ? id : id.substr(slash + 1);
    if (slash != std::string::npos) {
      k.device = id.substr(0, slash);
      require_valid_ifname(k.device);
      if (std::find(m.devices.begin(), m.devices.end(), k.device) == m.devices.end()) m.devices.push_back(k.device);
    }
    try {
      k.value = act::static_canonical(id, value, m.nproc);
    } catch (const UsageError& e) {
      throw UsageError(fmt::format("profile {}: {}", label(options), e.what()));
    }
    m.knobs.push_back(std::move(k));
  }
  std::stable_sort(m.knobs.begin(), m.knobs.end(), [](const Knob& a, const Knob& b) { return a.order < b.order; });
  m.roles = roles_of(profile, m.devices, m.knobs, options);
  return m;
}

std::string label(const ExportOptions& options) {
  return one_line(options.profile_label, 200) + (options.label_note.empty() ? "" : " (" + options.label_note + ")");
}

std::string captured_note(const Model& m, const std::string& comment, const std::string& there) {
  if (!m.place.starts_with("netns ")) return "";  // the host's own, or a peer's (`knobs --ssh --save`)
  return comment_line(comment, fmt::format("Captured in {}: installed on a host, this file acts in its root namespace; {}.", cut(m.place), there));
}

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
  if (b.throughput_mbps && w.throughput_mbps && w.score) {
    out += comment_line(comment, fmt::format("Throughput: {:.0f} -> {:.0f} Mbit/s.", *b.throughput_mbps, *w.throughput_mbps));
  } else if (b.throughput_mbps) {
    // A kept baseline: its own rate. A winner without a score is an older kept baseline's candidate
    // (found by an exploratory test: "Throughput: 506 -> 438" read as if the profile lowered it).
    out += comment_line(comment, fmt::format("Throughput: {:.0f} Mbit/s.", *b.throughput_mbps));
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

#include "experiments/search/space_binding.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "actuators/catalog.hpp"
#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/search/remote_end.hpp"

namespace wgopt::experiments {

namespace {

std::vector<Target> discover(const SearchOptions& o, const SearchPlant& sp) {
  std::vector<Target> targets;
  for (const auto& e : sp.ends) {
    Target t{e.label, e.host, {}};
    act::DiscoverOptions d;
    d.allow_underlay_mtu = o.allow_underlay_mtu;
    if (e.role == SearchEnd::Role::Global) {
      d.interfaces = {"lo"};  // host-wide knobs only; lo carries no device knob we search
      try {
        t.knobs = act::discover_knobs(t.host, d);
      } catch (const UsageError&) {
        t.knobs = act::discover_knobs(t.host, {});
      }
    } else {
      d.interfaces = e.interfaces;
      d.wireguard = e.wireguard;
      t.knobs = act::discover_knobs(t.host, d);
    }
    targets.push_back(std::move(t));
  }
  return targets;
}

bool writable(act::Knob& k) {
  auto p = k.presence();
  return p.present && p.writable;
}

// The mirror's id of a primary knob: the same knob on the index-aligned interface.
std::string mirror_id(const SearchPlant& sp, const std::string& id) {
  const auto& primary = sp.ends.front().interfaces;
  const auto& mirror = sp.ends[1].interfaces;
  for (size_t i = 0; i < primary.size() && i < mirror.size(); ++i) {
    if (id.starts_with(primary[i] + "/")) return mirror[i] + id.substr(primary[i].size());
  }
  return id;
}

bool mirrored(const SearchPlant& sp) {
  return sp.ends.size() > 1 && sp.ends[1].role == SearchEnd::Role::Mirror && !sp.ends[1].interfaces.empty();
}

bool is_global(const act::Descriptor& d) { return d.scope == act::Scope::Global || d.scope == act::Scope::Service; }

// The user's filters: --allow-global, --knobs, --exclude, and no IRQ knob without its device.
bool wanted(const SearchOptions& o, const act::Descriptor& d, const std::string& id) {
  if (is_global(d) && !o.allow_global) return false;
  if (!o.include.empty() && !id_matches(id, o.include)) return false;
  if (id_matches(id, o.exclude)) return false;
  return !(d.scope == act::Scope::Irq && d.device.empty());
}

// The remote end's knobs (--ssh --per-end, or hosts that differ): parameters of their own. A CPU
// mask of a peer with another CPU count does not fit this host's mask parameters: left out.
// A --knobs / --exclude pattern names a peer knob by its own id, as peer:ID, or by this end's
// counterpart (--interfaces xs-wc <-> --peer-interfaces xs-ws: xs-wc/mtu names the peer's xs-ws/mtu
// too; found by an exploratory test: --per-end --knobs xs-wc/mtu searched this end only, silently).
void bind_remote_per_end(const SearchOptions& o, const SearchPlant& sp, RemoteEnd& remote, std::vector<SearchKnob>& knobs) {
  const bool same_cpus = remote.facts().nproc == sp.ends.front().host.nproc;
  remote.bind_per_end(
      [&](const act::Descriptor& d) {
        if (!same_cpus && (d.type == act::ValueType::Mask || d.scope == act::Scope::Irq)) return false;
        const std::vector<std::string> names{d.id, "peer:" + d.id, remote.local_counterpart(d.id)};
        auto any = [&](const std::vector<std::string>& patterns) {
          return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return id_matches(n, patterns); });
        };
        if (is_global(d) && !o.allow_global) return false;
        if (!o.include.empty() && !any(o.include)) return false;
        if (any(o.exclude)) return false;
        return !(d.scope == act::Scope::Irq && d.device.empty());
      },
      knobs);
}

std::string read_or_unknown(act::Knob& k) {
  try {
    return k.read();
  } catch (const Error&) {
    return "?";
  }
}

// A mirrored end whose value of knob `k` is not this end's: the parameter is split (BoundSpace::split).
void note_split(BoundSpace& b, const act::Knob& k, const std::string& here, const std::string& label, const std::string& there) {
  bool same = false;
  try {
    same = there != "?" && k.equal(here, there);
  } catch (const Error&) {
  }
  if (!same) b.split[k.id()] = label + ": " + there;
}

// The ssh peer's values at discovery, for the parameters that drive its knobs mirrored.
void note_peer_splits(BoundSpace& b, const RemoteEnd& remote, const std::vector<SearchKnob>& knobs) {
  for (const auto& sk : knobs) {
    auto it = remote.bindings().find(sk.descriptor.id);
    auto* k = b.primary(sk.descriptor.id);
    if (it == remote.bindings().end() || !k) continue;
    if (auto there = remote.value_at_discovery(it->second)) note_split(b, *k, sk.current, remote.label(), *there);
  }
}

// Every --knobs / --exclude pattern names at least one knob of the plant (searchable or not): a typo
// in --exclude searched the knob it meant to protect, one in --knobs dropped its knobs without a word.
// peer: patterns are the peer's (its own agent lists them) and checked there only when there is one.
void check_patterns_match(const SearchOptions& o, const BoundSpace& b, bool remote) {
  if (!o.retune_profile.empty() || !o.resume.empty()) return;  // the profile's or the study's list, not typed here
  for (const auto* list : {&o.include, &o.exclude}) {
    for (const auto& pattern : *list) {
      if (pattern.starts_with("peer:") && remote) continue;
      bool matched = false;
      for (const auto& t : b.targets) {
        for (const auto& k : t.knobs) matched = matched || id_matches(k->id(), {pattern});
      }
      if (!matched) {
        throw UsageError(fmt::format("{} '{}' matches no knob here: `wgopt knobs{}` lists them (patterns are ids with * wildcards)",
                                     list == &o.include ? "--knobs" : "--exclude", one_line(pattern, 80),
                                     b.targets.front().host.place.is_host() ? "" : " --netns " + b.targets.front().host.place.netns_name()));
      }
    }
  }
}

// Why the knobs --knobs names were left out, the first three (empty when it names none): host-wide
// without --allow-global, or not writable here and why (the underlay's MTU without
// --allow-underlay-mtu, read-only in a namespace ...). Found by an exploratory test: --knobs
// xb-uc/mtu was refused with "no searchable knob is left", naming neither the knob nor the flag.
std::string why_left_out(const SearchOptions& o, BoundSpace& b) {
  if (o.include.empty()) return "";
  std::vector<std::string> reasons;
  for (auto& t : b.targets) {
    for (const auto& k : t.knobs) {
      const auto& d = k->descriptor();
      if (!id_matches(d.id, o.include) || id_matches(d.id, o.exclude)) continue;
      const auto p = k->presence();
      std::string why = is_global(d) && !o.allow_global ? "host-wide: pass --allow-global to search it"
                        : !p.present || !p.writable     ? p.why_not
                                                        : "";
      if (why.empty() || reasons.size() >= 3) continue;
      const std::string line = d.id + " (" + why + ")";
      if (std::find(reasons.begin(), reasons.end(), line) == reasons.end()) reasons.push_back(line);
    }
  }
  return fmt::format("{}", fmt::join(reasons, "; "));
}

// Binds every searchable knob; returns the knobs with their current values.
std::vector<SearchKnob> bind(const SearchOptions& o, const SearchPlant& sp, BoundSpace& b, RemoteEnd* remote) {
  std::vector<SearchKnob> knobs;
  const bool mirror = mirrored(sp);
  for (size_t t = 0; t < b.targets.size(); ++t) {
    if (t == 1 && mirror) continue;  // mirrors are bound with their primary knob
    for (const auto& k : b.targets[t].knobs) {
      const auto& d = k->descriptor();
      if (t > 0 && !is_global(d)) continue;  // the host target holds only host-wide knobs
      if (b.bindings.count(d.id)) continue;
      if (!wanted(o, d, d.id)) continue;
      if (!writable(*k)) continue;
      std::string current;
      try {
        current = k->read();
      } catch (const Error& e) {
        spdlog::debug("skipping {}: {}", d.id, e.what());
        continue;
      }
      std::vector<Binding> places{{t, d.id}};
      if (t == 0 && mirror) {
        auto* m = b.targets[1].find(mirror_id(sp, d.id));
        if (!m || !writable(*m)) continue;  // both ends tuned alike, or not at all
        places.push_back({1, m->id()});
        note_split(b, *k, current, b.targets[1].label, read_or_unknown(*m));
      }
      b.bindings[d.id] = places;
      knobs.push_back({d, current});
      if (remote && remote->mirrored()) remote->bind_mirror(d.id);  // the same parameter drives the peer's counterpart
    }
  }
  if (remote && !remote->mirrored()) bind_remote_per_end(o, sp, *remote, knobs);
  check_patterns_match(o, b, remote != nullptr);
  if (knobs.empty()) {
    const std::string why = why_left_out(o, b);
    throw UsageError(why.empty() ? "no searchable knob is left after --knobs/--exclude: run `wgopt knobs` to see what is writable here"
                                 : "no searchable knob is left after --knobs/--exclude: " + why);
  }
  return knobs;
}

// Retune: the profile is the desired state and the start of the space; notes what drifted.
void hold_profile(const SearchOptions& o, const act::Profile& profile, std::vector<SearchKnob>& knobs, BoundSpace& b) {
  for (const auto& [id, value] : profile.knobs) {
    auto it = b.bindings.find(id);
    if (it == b.bindings.end()) {
      throw Error(fmt::format("the profile's knob {} cannot be tuned here (missing, read-only or excluded): "
                              "check `wgopt knobs` and the interface names in {}",
                              id, o.retune_profile));
    }
    b.retune_values[id] = b.targets[it->second.front().target].find(id)->validate(value);
  }
  for (auto& sk : knobs) {
    auto it = b.retune_values.find(sk.descriptor.id);
    if (it == b.retune_values.end()) continue;
    // Every bound place (the testbed's mirror too) must hold the profile's value.
    for (const auto& place : b.bindings[sk.descriptor.id]) {
      auto* k = b.targets[place.target].find(place.id);
      const std::string now = read_or_unknown(*k);
      if (!k->equal(now, it->second)) {
        const std::string where = place.target > 0 ? " (" + b.targets[place.target].label + ")" : "";
        b.drifted.push_back(fmt::format("{}{}: {} -> {}", place.id, where, now, it->second));
      }
    }
    sk.current = it->second;
  }
}

// Two values of one knob alike? With this end's knob of the same id its own comparison, else the
// words compared (the agent reads values in the kernel's form, as this end does).
bool same_value(const BoundSpace& b, const std::string& id, const std::string& x, const std::string& y) {
  if (auto* k = b.primary(id)) return k->equal(x, y);
  return split_ws(x) == split_ws(y);
}

// Retune --ssh: the profile's `peer:` part is the peer's desired state too. Each of its knobs must
// be driven by a parameter (mirrored: the local knob's; per-end: peer:ID); per-end parameters start
// at the peer's profile values; a peer knob whose current value (read by the agent) is not the
// profile's is listed as drifted and put back with the rest.
void hold_peer_profile(const SearchOptions& o, const act::Profile& profile, RemoteEnd& remote, std::vector<SearchKnob>& knobs,
                       BoundSpace& b) {
  for (const auto& [pid, value] : profile.peer->knobs) {
    const std::string param = remote.param_of(pid);
    if (param.empty()) {
      throw Error(fmt::format("the profile's peer knob {} cannot be tuned on {} (missing, read-only or excluded there): check "
                              "`wgopt knobs --ssh` and peer.host.interfaces in {}",
                              pid, remote.label(), o.retune_profile));
    }
    if (remote.mirrored()) {
      // One parameter drives both ends: the peer's value must be this end's (the search wrote them so).
      auto it = b.retune_values.find(param);
      if (it != b.retune_values.end() && !same_value(b, param, it->second, value)) {
        throw UsageError(fmt::format("{} is mirrored (peer.host.mode) but its peer knob {} is {} while this end's {} is {}: "
                                     "make them equal, or set peer.host.mode: per-end to hold each end's own value",
                                     o.retune_profile, pid, value, param, it->second));
      }
      if (it == b.retune_values.end()) b.retune_values[param] = value;
    } else {
      b.retune_values[param] = value;
      for (auto& sk : knobs) {
        if (sk.descriptor.id == param) sk.current = value;
      }
    }
    const auto now = remote.value_at_discovery(pid);
    if (!now || !same_value(b, remote.mirrored() ? param : pid, *now, value)) {
      b.drifted.push_back(fmt::format("{} ({}): {} -> {}", pid, remote.label(), now.value_or("?"), value));
    }
  }
}

}  // namespace

bool BoundSpace::unchanged(const std::string& id, const std::string& value) const {
  auto b = baseline.find(id);
  return b != baseline.end() && same_value(*this, id, b->second, value) && !split.count(id);
}

std::string BoundSpace::start_text(const std::string& id) const {
  auto b = baseline.find(id);
  std::string out = b == baseline.end() ? "?" : b->second;
  if (auto s = split.find(id); s != split.end()) out += " (" + s->second + ")";
  return out;
}

act::Knob* Target::find(const std::string& id) const {
  for (const auto& k : knobs) {
    if (k->id() == id) return k.get();
  }
  return nullptr;
}

BoundSpace bind_space(const SearchOptions& o, const SearchPlant& sp, const std::map<std::string, RangeOverride>& overrides,
                      const act::Profile* retune_profile, RemoteEnd* remote) {
  BoundSpace b;
  b.targets = discover(o, sp);
  auto knobs = bind(o, sp, b, remote);
  if (retune_profile) hold_profile(o, *retune_profile, knobs, b);
  if (retune_profile && remote && retune_profile->peer) hold_peer_profile(o, *retune_profile, *remote, knobs, b);
  if (retune_profile) b.split.clear();  // the profile is every end's start: drifted places are put back (drifted)
  else if (remote && remote->mirrored()) note_peer_splits(b, *remote, knobs);
  b.space.emplace(knobs, b.targets.front().host.nproc, overrides);
  for (const auto& k : b.space->knobs()) b.baseline[k.descriptor.id] = k.current;
  if (remote && remote->bindings().empty()) {
    spdlog::warn("{}: none of its knobs is in the space, only this end is tuned: name them by their ids on the peer, as "
                 "peer:ID, or by this end's names (wgopt knobs --ssh ... lists them)",
                 remote->label());
  } else if (remote) {
    spdlog::info("{}: {} of its knobs in the space, {}{}", remote->label(), remote->bindings().size(),
                 remote->mirrored() ? "mirrored (one parameter drives both ends)" : "per end (parameters peer:ID)",
                 remote->why_per_end().empty() ? "" : ": " + remote->why_per_end());
  }
  spdlog::info("searching {} knobs: {}", b.space->knobs().size(), [&] {
    std::string s;
    for (const auto& k : b.space->knobs()) s += (s.empty() ? "" : ", ") + k.descriptor.id;
    return s;
  }());
  return b;
}

}  // namespace wgopt::experiments

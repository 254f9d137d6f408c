#include "cli/knob_cli.hpp"

#include <fmt/format.h>

#include "actuators/allowlist.hpp"
#include "actuators/host.hpp"
#include "actuators/lock.hpp"
#include "cli/registry.hpp"
#include "common/error.hpp"
#include "common/files.hpp"

namespace wgopt::cli {

void add_knob_options(CLI::App* sub, KnobOptions& o, bool with_interfaces) {
  sub->add_option("--netns", o.netns, "act inside this network namespace (e.g. wgopt-cli, one end of the testbed)")
      ->check(not_empty("a namespace name"));
  sub->add_flag("--json", o.json, "print JSON on stdout instead of text");
  if (with_interfaces) {
    // --interfaces LIST too, as search and retune spell it (`show
    // --interfaces eth0` was refused "not expected").
    sub->add_option("-i,--interface,--interfaces", o.interfaces, "list device knobs of these interfaces only (repeatable, or a comma list)")
        ->delimiter(',');
  }
  add_ssh_options(sub, o.ssh);
}

void check_ssh_combination(const KnobOptions& o) {
  if (o.ssh.remote() && !o.netns.empty()) {
    throw UsageError("--netns and --ssh cannot be combined: --ssh acts on the peer's own network namespace (run "
                     "wgopt in another namespace with `ip netns exec NS wgopt ... --ssh ...`)");
  }
  ssh_options(o.ssh);  // an --ssh-* option without --ssh, a bad target or option
}

peer::DiscoverArgs peer_discover_args(const KnobOptions& o) {
  return {.interfaces = o.interfaces, .allow_underlay_mtu = o.allow_underlay_mtu};
}

Place place_of(const KnobOptions& o) {
  if (o.netns.empty()) return Place::host();
  Place p = Place::netns(o.netns);
  require_netns_exists(o.netns);  // else every knob reads as absent: a host with nothing to tune
  return p;
}

act::Host guarded_host(const Place& place) {
  act::Host h = act::make_host(place);
  h.files = std::make_shared<act::GuardedFiles>(h.files);
  return h;
}

act::DiscoverOptions discover_options(const KnobOptions& o) {
  act::DiscoverOptions d;
  d.interfaces = o.interfaces;
  d.allow_underlay_mtu = o.allow_underlay_mtu;
  return d;
}

act::ChangeSession open_session(bool journal_best_effort) {
  act::ChangeSession s(act::state_dir(), act::default_knob_lookup(), {.journal_best_effort = journal_best_effort});
  const auto& r = s.startup();  // an earlier boot's journal archived: the session's warning says so, once
  print_report(stderr, "wgopt: a previous wgopt did not finish its change; restored it first:", r);
  return s;
}

std::string domain_text(const act::Descriptor& d) {
  const auto& dm = d.domain;
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : "|") + x;
    return s;
  };
  switch (d.type) {
    case act::ValueType::Int: return fmt::format("{}..{}{}", dm.min, dm.max, dm.pow2 ? " pow2" : "");
    case act::ValueType::Triple: return fmt::format("3 x {}..{}", dm.min, dm.max);
    case act::ValueType::Mask: return fmt::format("mask of {} CPUs", dm.mask_bits);
    case act::ValueType::Bool: return "on|off";
    case act::ValueType::Enum:
    case act::ValueType::Service: return dm.choices.empty() ? std::string("-") : join(dm.choices);
  }
  return "-";
}

nlohmann::json domain_json(const act::Descriptor& d) {
  const auto& dm = d.domain;
  nlohmann::json j{{"type", act::to_string(d.type)}};
  switch (d.type) {
    case act::ValueType::Int:
    case act::ValueType::Triple:
      j["min"] = dm.min;
      j["max"] = dm.max;
      j["pow2"] = dm.pow2;
      j["log"] = dm.log;
      break;
    case act::ValueType::Mask: j["mask_bits"] = dm.mask_bits; break;
    case act::ValueType::Bool: j["choices"] = {"on", "off"}; break;
    case act::ValueType::Enum:
    case act::ValueType::Service: j["choices"] = dm.choices; break;
  }
  return j;
}

nlohmann::json report_json(const act::RestoreReport& r) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& i : r.items) {
    // A knob left alone (changed by another), gone or failed was not restored: "restored_to" is
    // null and "goal" the value it would have had (found by an exploratory test: they read as restored).
    const bool restored = i.outcome == act::Outcome::Restored || i.outcome == act::Outcome::Unchanged;
    items.push_back({{"id", i.id},
                     {"place", i.place.describe()},
                     {"outcome", act::to_string(i.outcome)},
                     {"found", i.found},
                     {"restored_to", restored ? nlohmann::json(i.goal) : nlohmann::json()},
                     {"goal", i.goal},
                     {"wgopt_wrote", i.ours},
                     // Why, for a failure ("error") or a knob gone with its interface made again ("why").
                     {"error", i.outcome == act::Outcome::Failed ? i.detail : ""},
                     {"why", i.outcome == act::Outcome::Failed ? "" : i.detail}});
  }
  nlohmann::json j{{"items", items}, {"ok", r.ok()}};
  if (!r.archived.empty()) j["archived_other_boot_journal"] = r.archived;
  if (!r.left_alone_record.empty()) j["left_alone_record"] = r.left_alone_record;
  return j;
}

void print_report(std::FILE* out, const std::string& heading, const act::RestoreReport& r) {
  if (r.items.empty()) return;
  std::fprintf(out, "%s\n", heading.c_str());
  for (const auto& i : r.items) std::fprintf(out, "  %s\n", i.line().c_str());
  if (!r.left_alone_record.empty()) {
    std::fprintf(out, "  the journal with the originals of the knobs left alone is kept as %s\n", r.left_alone_record.c_str());
  }
}

std::string knobs_command(const Place& place) {
  return place.is_host() ? "wgopt knobs" : "wgopt knobs --netns " + place.netns_name();
}

}  // namespace wgopt::cli

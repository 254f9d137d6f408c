// `wgopt set ID=VALUE...`, `wgopt apply PROFILE.yaml`, `wgopt rollback`: the commands that change
// a host. Each takes the host lock and first restores whatever an earlier wgopt left unfinished;
// set and apply then run one Transaction and keep it, with the originals in the journal.
#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <optional>

#include "actuators/allowlist.hpp"
#include "actuators/catalog.hpp"
#include "actuators/lock.hpp"
#include "actuators/knobs_common.hpp"
#include "actuators/profile.hpp"
#include "actuators/restore.hpp"
#include "actuators/transaction.hpp"
#include "cli/knob_cli.hpp"
#include "cli/registry.hpp"
#include "common/error.hpp"
#include "common/signals.hpp"
#include "common/util.hpp"
#include "experiments/search/host_gate.hpp"

namespace wgopt::cli {
namespace {

// What one change did, here or on a peer.
struct ChangeOutcome {
  std::string where;        // "host", "netns x", "peer 10.0.0.2"
  std::string journal;      // where the originals are journaled
  std::string rollback_cmd; // the command that restores them
  std::vector<act::Step> steps;
  act::RestoreReport restored_first;
  std::vector<std::string> not_undone;  // what a rollback cannot undo (a kernel module loaded)
  bool dry_run = false;                 // steps say what would be written; nothing was
  // --dry-run here: what the real apply would restore first (an unfinished change of a wgopt that
  // died, restored_first_preview), each back to its `before`.
  std::vector<act::JournalEntry> would_restore_first;
  std::optional<int> held_by;  // --dry-run: another wgopt holds the host now (its journal is its own)
};

// `wgopt apply`'s profile: its host facts are compared with the host's before anything changes.
struct ApplyGate {
  const act::Profile* profile = nullptr;  // null: `wgopt set` (no facts to compare)
  std::string label;
  bool force = false;
  bool dry_run = false;
};

// The knobs `changes` name, found in `host`. Only the knobs asked for: discovering every knob of the
// place would run ethtool for each interface. An id find_knob does not know stays out and the
// transaction reports it. (Starting irqbalance, the transaction finds the IRQ masks it journals.)
std::vector<act::KnobPtr> knobs_for(const act::Host& host, const std::vector<act::Change>& changes, const KnobOptions& o) {
  std::vector<act::KnobPtr> knobs;
  for (const auto& c : changes) {
    if (act::knob_id_problem(c.id)) continue;  // the transaction names the problem
    try {
      knobs.push_back(act::find_knob(host, c.id, discover_options(o)));
    } catch (const UsageError&) {
    }
  }
  return knobs;
}

// The facts gate here: refuses (UsageError, exit 2) before the lock is taken or a journal restored.
void gate_here(const ApplyGate& g, const Place& place) {
  if (!g.profile) return;
  auto runner = default_runner();
  const auto gate = experiments::check_host_facts(*g.profile, g.label, place, *runner);
  // A profile made in a namespace (the testbed's wgopt-cli) applied elsewhere: the gate's place
  // difference, said as the one-word fix (a list of missing knobs, or a facts line, hid it).
  const auto made = std::find_if(gate.differences.begin(), gate.differences.end(), [](const auto& d) { return d.fact == "place"; });
  if (made != gate.differences.end() && !g.force) {
    const std::string ns = made->profile.substr(6);
    throw UsageError(fmt::format("profile {} was made in network namespace {} and this is {}: add --netns {} (nothing was changed; "
                                 "--force applies it here)",
                                 one_line(g.label, 200), one_line(ns, 40), made->host, is_valid_netns_name(ns) ? ns : "NS"));
  }
  experiments::require_matching_host(gate, g.label, g.force);
}

ChangeOutcome preview_here(const KnobOptions& o, const std::vector<act::Change>& changes) {
  const Place place = place_of(o);
  const act::Host host = guarded_host(place);
  const auto knobs = knobs_for(host, changes, o);
  act::ApplyResult result = act::Transaction::preview(host, knobs, changes);
  ChangeOutcome out{place.describe(), act::state_dir(), "wgopt rollback", result.steps};
  out.dry_run = true;
  try {
    // A live wgopt's open transaction is its own, not a leftover: the real apply would be refused
    // (found in review: a running search's changes were listed as "would be undone").
    out.held_by = act::lock_holder(act::run_dir());
    if (!out.held_by) out.would_restore_first = act::restored_first_preview(act::state_dir());
  } catch (const Error& e) {  // not root, or a damaged journal the real apply refuses to go past
    spdlog::warn("what the real apply would restore first is not shown: {}", e.what());
  }
  return out;
}

ChangeOutcome change_here(const KnobOptions& o, const std::vector<act::Change>& changes, const std::string& what,
                          const ApplyGate& gate) {
  const Place place = place_of(o);
  gate_here(gate, place);
  if (gate.dry_run) return preview_here(o, changes);
  require_root(what);
  act::ChangeSession session = open_session();
  const act::Host host = guarded_host(place);
  const auto knobs = knobs_for(host, changes, o);
  act::Transaction tx(session, host, knobs);
  act::ApplyResult result = tx.apply(changes);
  tx.keep();
  return {place.describe(), act::state_dir(), "wgopt rollback", result.steps, session.startup(), result.notes};
}

// --dry-run on the peer: the peer's agent runs the checks and the plan of a transaction and writes
// nothing (found by an exploratory test: it was refused, and the fix it named previewed the
// profile's own knobs: no way to see what a both-ends profile's peer: part would change).
ChangeOutcome preview_on_peer(const KnobOptions& o, const std::vector<act::Change>& changes, peer::AgentClient& client) {
  ChangeOutcome out{"peer " + client.peer(), client.hello().state_dir + " on the peer", "wgopt rollback --ssh " + o.ssh.target,
                    client.preview(changes, peer_discover_args(o))};
  out.dry_run = true;
  return out;
}

// The same transaction run by the peer's agent: its journal, its lock, its guardian while it runs.
ChangeOutcome change_on_peer(const KnobOptions& o, const std::vector<act::Change>& changes, const ApplyGate& gate) {
  // The peer's facts, read by the peer's wgopt, against the profile's record of the peer (its
  // `peer:` part's host facts when it holds both ends): the same comparison as here.
  auto client = connect_peer(o.ssh, gate.profile ? experiments::peer_fact_interfaces(*gate.profile, gate.label)
                                                 : std::vector<std::string>{});
  if (gate.profile) {
    const std::string label = gate.profile->peer ? gate.label + " (its peer: part)" : gate.label;
    try {
      experiments::require_matching_host(experiments::compare_peer_with(*gate.profile, gate.label, client->hello().facts), label,
                                         gate.force);
    } catch (...) {
      client->close();
      throw;
    }
  }
  if (gate.dry_run) {
    ChangeOutcome out = preview_on_peer(o, changes, *client);
    client->close();
    return out;
  }
  peer::ApplyReply reply = client->apply(changes, peer_discover_args(o));
  client->keep();
  ChangeOutcome out{"peer " + client->peer(), client->hello().state_dir + " on the peer",
                    "wgopt rollback --ssh " + o.ssh.target, reply.steps, reply.restored_first};
  client->close();
  print_report(stderr, "wgopt: a previous wgopt on the peer did not finish its change; the peer restored it first:",
               out.restored_first);
  return out;
}

// A dry-run's steps were not written: "written" is false and "would_change" says what the step
// says (found by an exploratory test: every step of a dry-run said "written": true).
void print_json(const ChangeOutcome& r) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : r.steps) {
    nlohmann::json step = {{"id", s.id}, {"before", s.before}, {"after", s.after}, {"written", s.written && !r.dry_run}};
    if (r.dry_run) step["would_change"] = s.written;
    steps.push_back(std::move(step));
  }
  nlohmann::json j{{"place", r.where}, {"steps", steps}, {"not_undone", r.not_undone}, {"restored_first", report_json(r.restored_first)},
                   {"dry_run", r.dry_run}};
  if (r.dry_run) {
    nlohmann::json first = nlohmann::json::array();
    for (const auto& e : r.would_restore_first) first.push_back({{"id", e.id}, {"place", e.place.describe()}, {"to", e.before}});
    j["would_restore_first"] = first;
    if (r.held_by) j["held_by_pid"] = *r.held_by;
  }
  std::printf("%s\n", j.dump(2).c_str());
}

void print_preview(const ChangeOutcome& r, int written) {
  if (r.held_by) {
    std::printf("another wgopt (pid %d) is changing this host now: the real apply is refused until it ends\n", *r.held_by);
  }
  if (!r.would_restore_first.empty()) {
    std::printf("first, the unfinished change of a wgopt that stopped would be undone (%zu knob(s)), as the real apply does before "
                "anything else:\n",
                r.would_restore_first.size());
    for (const auto& e : r.would_restore_first) {
      std::printf("  %s in %s: back to '%s'\n", e.id.c_str(), e.place.describe().c_str(), one_line(e.before, 200).c_str());
    }
  }
  for (const auto& s : r.steps) {
    if (s.written) std::printf("%s: '%s' -> '%s' (would change)\n", s.id.c_str(), s.before.c_str(), s.after.c_str());
  }
  std::printf("%d of %zu knob(s) would change in %s; nothing was written\n", written, r.steps.size(), r.where.c_str());
  if (!act::running_as_root() && r.where.rfind("peer ", 0) != 0) {
    std::printf("(not root: whether each knob can be written is checked when it is applied, as root)\n");
  }
}

void change(const KnobOptions& o, const std::vector<act::Change>& changes, const std::string& what, const ApplyGate& gate = {}) {
  check_ssh_combination(o);
  // A change here is all or nothing and no guardian watches it: a stop signal waits until it is
  // kept and said. (On a peer, the agent's guardian restores it when this end's session ends.)
  std::optional<DeferStopSignals> hold;
  if (!o.ssh.remote() && !gate.dry_run) hold.emplace();
  const ChangeOutcome r = o.ssh.remote() ? change_on_peer(o, changes, gate) : change_here(o, changes, what, gate);
  int written = 0;
  for (const auto& s : r.steps) written += s.written ? 1 : 0;
  if (o.json) {
    print_json(r);
    return;
  }
  if (r.dry_run) {
    print_preview(r, written);
    return;
  }
  // A profile names every knob; listing the dozens it leaves as they are would hide the changes.
  const bool list_unchanged = r.steps.size() <= 10;
  for (const auto& s : r.steps) {
    if (s.written) std::printf("%s: '%s' -> '%s'\n", s.id.c_str(), s.before.c_str(), s.after.c_str());
    else if (list_unchanged) std::printf("%s: '%s' (unchanged)\n", s.id.c_str(), s.after.c_str());
  }
  const int unchanged = static_cast<int>(r.steps.size()) - written;
  if (!list_unchanged && unchanged > 0) std::printf("%d knob(s) already had their value\n", unchanged);
  if (written > 0) {
    std::printf("changed %d knob(s) in %s; the originals are journaled in %s: `%s` restores them\n", written,
                r.where.c_str(), one_line(r.journal).c_str(), r.rollback_cmd.c_str());
  } else {
    std::printf("nothing to change in %s\n", r.where.c_str());
  }
}

void run_rollback(const KnobOptions& o) {
  check_ssh_combination(o);
  std::optional<DeferStopSignals> hold;
  act::RestoreReport report, first;
  std::string journal, journal_problem;
  std::string again = "wgopt rollback";
  if (o.ssh.remote()) {
    auto client = connect_peer(o.ssh);
    auto r = client->rollback_all();
    client->close();
    report = std::move(r.report);
    first = std::move(r.restored_first);
    journal = client->hello().state_dir + " on peer " + client->peer();
    again += " --ssh " + o.ssh.target;
    print_report(stderr, "wgopt: a previous wgopt on the peer did not finish its change; the peer restored it first:", first);
  } else {
    require_root("wgopt rollback");
    hold.emplace();  // a stop signal waits until the journal says what was restored
    // Rollback is the command that must always work: a full or read-only state dir does not stop it.
    act::ChangeSession session = open_session(true);
    report = session.rollback_all();
    first = session.startup();
    journal = act::state_dir();
    journal_problem = session.journal_problem();
  }
  if (o.json) {
    nlohmann::json j{{"rollback", report_json(report)}, {"restored_first", report_json(first)}};
    if (!journal_problem.empty()) j["journal_not_updated"] = journal_problem;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    // An unfinished change restored first is said on stdout too, which scripts read (found by an
    // exploratory test: after kill -9 of a search it said "nothing to roll back" there).
    print_report(stdout, "a wgopt that did not finish had changed these; each as restored first:", first);
    // Nothing put back (every knob gone or left alone): not headed "rolled back" (found by an exploratory test).
    const bool any = std::any_of(report.items.begin(), report.items.end(), [](const act::RestoreItem& i) {
      return i.outcome == act::Outcome::Restored || i.outcome == act::Outcome::Unchanged;
    });
    if (!report.items.empty()) print_report(stdout, any ? "rolled back to the values before wgopt:" : "nothing was put back; each knob as found:", report);
    else if (first.items.empty()) std::printf("nothing to roll back: no change by wgopt is recorded in %s\n", one_line(journal).c_str());
  }
  if (!journal_problem.empty()) {
    std::fprintf(stderr, "wgopt: the knobs above are restored, but the journal was not updated (%s): it still "
                         "lists them, and the next wgopt command finds them at their originals; run `wgopt "
                         "rollback` again once %s is writable to clear it\n",
                 one_line(journal_problem).c_str(), one_line(act::state_dir()).c_str());
  }
  if (!report.ok()) {
    throw Error(fmt::format("some knobs were not restored (see above); they stay in the journal in {}: fix the cause "
                            "and run `{}` again",
                            journal, again));
  }
}

void setup_change(CLI::App& root, Context&) {
  {
    auto o = std::make_shared<KnobOptions>();
    auto args = std::make_shared<std::vector<std::string>>();
    auto* sub = root.add_subcommand("set", "change knobs in one transaction (all or nothing, originals journaled)");
    sub->footer(
        "Examples:\n"
        "  wgopt set net.core.netdev_max_backlog=5000\n"
        "  wgopt set 'net.ipv4.tcp_rmem=4096 131072 16777216' net.ipv4.tcp_congestion_control=bbr\n"
        "  wgopt set --netns wgopt-cli wgopt-wc/mtu=1380 wgopt-wc/rps_cpus=3\n"
        "  wgopt set --ssh root@10.0.0.2 wt0/mtu=1380     # on a peer, by its own wgopt (its journal)\n"
        "Every value is validated first (nothing is written if one is wrong); knobs are written in\n"
        "dependency order and read back; on a failure the ones already written are restored.\n"
        "`wgopt rollback` restores what the host had before wgopt changed it.");
    sub->add_option("ID=VALUE", *args, "assignments; quote values with spaces (triples)")->required();
    add_knob_options(sub, *o, false);
    sub->add_flag("--allow-underlay-mtu", o->allow_underlay_mtu,
                  "permit changing the MTU of a non-WireGuard interface (a wrong one can cut the host off)");
    sub->callback([o, args] {
      std::vector<act::Change> changes;
      for (const auto& a : *args) changes.push_back(act::parse_assignment(a));
      change(*o, changes, "wgopt set");
    });
  }
  {
    auto o = std::make_shared<KnobOptions>();
    auto file = std::make_shared<std::string>();
    auto gate = std::make_shared<ApplyGate>();
    auto* sub = root.add_subcommand("apply", "apply a profile (YAML `knobs: {ID: VALUE}`) as one transaction");
    sub->footer(
        "Examples:\n"
        "  wgopt show > p.yaml; $EDITOR p.yaml; wgopt apply p.yaml\n"
        "  wgopt apply --netns wgopt-cli best.yaml\n"
        "  wgopt apply --ssh root@10.0.0.2 best.yaml      # a both-ends profile: its peer: section, on the peer\n"
        "A profile:\n"
        "  knobs:\n"
        "    net.ipv4.tcp_rmem: \"4096 131072 16777216\"   # a triple is one string\n"
        "    eth0/rps_cpus: \"3\"                          # a CPU mask is hex as the kernel prints it\n"
        "    wt0/mtu: 1380\n"
        "Knobs already at their value are skipped; `wgopt rollback` restores the originals.\n"
        "Host facts gate it: when the profile records the host it was made on (nproc, kernel major\n"
        "version, NIC driver of its underlay, WireGuard mode, SKU; see `wgopt facts --profile P`) and\n"
        "this host differs, it is refused (exit 2) naming each differing fact, with nothing changed,\n"
        "unless --force. --dry-run prints what would change and writes nothing (no root needed).");
    sub->add_option("PROFILE", *file, "profile YAML file (- reads standard input)")->required();
    sub->add_flag("--force", gate->force, "apply even when the profile's host facts differ from this host's");
    sub->add_flag("--dry-run", gate->dry_run, "print what would change; write nothing");
    add_knob_options(sub, *o, false);
    sub->add_flag("--allow-underlay-mtu", o->allow_underlay_mtu,
                  "permit changing the MTU of a non-WireGuard interface (a wrong one can cut the host off)");
    sub->callback([o, file, gate] {
      const act::Profile p = act::load_profile(*file);
      // A both-ends profile (`wgopt search --ssh`): its `peer:` part is what the peer gets.
      const auto& knobs = o->ssh.remote() && p.peer ? p.peer->knobs : p.knobs;
      if (p.peer && !o->ssh.remote() && !p.peer->knobs.empty()) {  // found by an exploratory test: left out silently
        spdlog::warn("profile {} holds a peer: part ({} knob(s)) for the other end: this applies its knobs: part here only; apply "
                     "the peer's with `wgopt apply --ssh [USER@]PEER {}`",
                     one_line(*file, 200), p.peer->knobs.size(), one_line(*file, 200));
      }
      std::vector<act::Change> changes;
      for (const auto& [id, value] : knobs) changes.push_back({id, value});
      ApplyGate g = *gate;
      g.profile = &p;
      g.label = *file == "-" ? "(standard input)" : *file;
      change(*o, changes, "wgopt apply", g);
    });
  }
  {
    auto o = std::make_shared<KnobOptions>();
    auto* sub = root.add_subcommand("rollback", "restore every knob wgopt changed (host and namespaces) to its original");
    sub->footer(
        "Examples:\n"
        "  wgopt rollback\n"
        "  WGOPT_STATE_DIR=/tmp/wgopt-state wgopt rollback --json\n"
        "  wgopt rollback --ssh root@10.0.0.2    # the peer's journal, restored by the peer's wgopt\n"
        "Reads the journal in $WGOPT_STATE_DIR (default /var/lib/wgopt). A knob someone else changed\n"
        "after wgopt wrote it is left alone and reported (but the NICs' IRQ masks irqbalance moved after\n"
        "wgopt started it go back, once irqbalance is stopped); a journal from an earlier boot is archived.\n"
        "Works on a full or read-only state dir: the knobs are restored and the journal, when it\n"
        "cannot be written, is left as it was (a warning says so).");
    sub->add_flag("--json", o->json, "print JSON on stdout instead of text");
    add_ssh_options(sub, o->ssh);
    sub->callback([o] { run_rollback(*o); });
  }
}

}  // namespace
}  // namespace wgopt::cli

WGOPT_COMMAND(310, wgopt::cli::setup_change);

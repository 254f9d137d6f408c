#include "actuators/transaction.hpp"

#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>
#include <spdlog/spdlog.h>

#include "actuators/allowlist.hpp"
#include "actuators/catalog.hpp"
#include "actuators/knob_kinds.hpp"
#include "actuators/profile.hpp"
#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::act {

int ApplyResult::written() const {
  return static_cast<int>(std::count_if(steps.begin(), steps.end(), [](const Step& s) { return s.written; }));
}

int mask_width(const std::string& id, const std::string& mask) {
  auto bad = [&] {
    return UsageError(fmt::format("{}: '{}' is not a CPU mask: use hex in comma-separated 32-bit groups as the "
                                  "kernel prints it, e.g. 3 or ff,ffffffff", id, mask));
  };
  auto groups = split(trim(mask), ',');
  if (groups.empty() || groups.size() > 64) throw bad();
  int width = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::string& hex = groups[g];
    if (hex.empty() || hex.size() > 8 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) throw bad();
    uint32_t v = static_cast<uint32_t>(std::stoul(hex, nullptr, 16));
    if (v == 0) continue;
    int bit = 31 - __builtin_clz(v);
    int cpu = static_cast<int>((groups.size() - 1 - g) * 32) + bit;
    width = std::max(width, cpu + 1);
  }
  return width;
}

Change parse_assignment(const std::string& arg) {
  auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError(fmt::format("'{}' is not ID=VALUE: write e.g. net.core.rmem_max=16777216 or "
                                 "'net.ipv4.tcp_rmem=4096 131072 16777216'", one_line(arg, 120)));
  }
  Change c{trim(arg.substr(0, eq)), trim(arg.substr(eq + 1))};
  // Every message about a value quotes it: a newline or an escape sequence would reach the terminal
  // (two lines, a recoloured screen), and no knob's value holds one.
  std::string untabbed = arg;  // a triple copied from /proc holds tabs, which every knob takes
  std::replace(untabbed.begin(), untabbed.end(), '\t', ' ');
  if (!is_one_line(untabbed)) {
    throw UsageError(fmt::format("'{}' has a control character: give ID=VALUE on one line in plain text", one_line(arg, 120)));
  }
  if (c.value.size() > kMaxValueBytes) {
    throw UsageError(fmt::format("value for {} is {} bytes long: no knob takes more than {}, as in a profile",
                                 one_line(c.id, 80), c.value.size(), kMaxValueBytes));
  }
  return c;
}

Transaction::Transaction(ChangeSession& session, const Host& host, const std::vector<KnobPtr>& knobs)
    : session_(session), targets_{{&host, &knobs}} {}

Transaction::Transaction(ChangeSession& session, std::vector<TxTarget> targets)
    : session_(session), targets_(std::move(targets)) {
  if (targets_.empty()) throw Error("internal: a Transaction needs at least one place");
}

Transaction::~Transaction() {
  if (state_ != State::Applied) return;
  try {
    auto report = rollback();
    for (const auto& item : report.items) spdlog::info("rollback: {}", item.line());
  } catch (const std::exception& e) {
    spdlog::error("rollback of an abandoned transaction failed: {} (run `wgopt rollback`)", e.what());
  }
}

namespace {

// "interface eth9 is not in host (knobs eth9/mtu, eth9/txqueuelen and 12 more): ...".
// Knob::instance once per interface of a place (in a namespace each read is a process).
struct InstanceCache {
  std::map<std::pair<std::string, std::string>, std::string> seen;  // (place, device) -> instance
  std::string of(const Host& host, Knob& knob) {
    const std::string& dev = knob.descriptor().device;
    if (dev.empty()) return "";
    auto [it, fresh] = seen.try_emplace({host.place.describe(), dev});
    if (fresh) it->second = knob.instance();
    return it->second;
  }
};

std::string missing_interface_problem(const std::string& dev, const std::vector<std::string>& ids, const std::string& where) {
  std::string named;
  const size_t shown = std::min<size_t>(ids.size(), 3);
  for (size_t i = 0; i < shown; ++i) named += (i ? ", " : "") + ids[i];
  if (ids.size() > shown) named += fmt::format(" and {} more", ids.size() - shown);
  return fmt::format("interface {} is not in {} ({} {}): bring it up first (NetBird makes its wt0 when it connects), or leave its "
                     "knobs out",
                     dev, where, ids.size() == 1 ? "knob" : "knobs", named);
}

}  // namespace

std::vector<Transaction::Planned> Transaction::plan(const std::vector<TxTarget>& targets, const std::vector<Change>& changes,
                                                    bool preview) {
  std::vector<std::string> problems;
  std::vector<Planned> out;
  std::set<std::pair<size_t, std::string>> seen;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> missing_interfaces;  // (place, interface) -> knob ids
  for (const auto& c : changes) {
    if (c.target >= targets.size()) throw Error("internal: change names a place the transaction does not have");
    const Host& host = *targets[c.target].host;
    const auto& knobs = *targets[c.target].knobs;
    const std::string where = host.place.describe();
    const std::string list_cmd =
        host.place.is_host() ? "wgopt knobs" : "wgopt knobs --netns " + host.place.netns_name();
    if (auto p = knob_id_problem(c.id)) {
      problems.push_back(*p);
      continue;
    }
    if (!seen.insert({c.target, c.id}).second) {
      problems.push_back(fmt::format("knob {} is given twice: give each knob once", c.id));
      continue;
    }
    auto it = std::find_if(knobs.begin(), knobs.end(), [&](const KnobPtr& k) { return k->id() == c.id; });
    if (it == knobs.end()) {
      problems.push_back(fmt::format("unknown knob '{}' in {}: run `{}` to list them", one_line(c.id, 80), where, list_cmd));
      continue;
    }
    Knob& knob = **it;
    const auto& d = knob.descriptor();
    if (!d.device.empty() && !is_valid_ifname(d.device)) {
      problems.push_back(fmt::format("knob {}: interface name '{}' is not valid: use 1-15 characters of [A-Za-z0-9_.-]",
                                     c.id, d.device));
      continue;
    }
    Presence presence = knob.presence();
    if (!presence.present && !d.device.empty() && !host.files->exists("/sys/class/net/" + d.device + "/ifindex")) {
      missing_interfaces[{where, d.device}].push_back(c.id);  // said once per interface, below
      continue;
    }
    if (!presence.present) {
      problems.push_back(fmt::format("knob {} does not exist in {}: {}", c.id, where, presence.why_not));
      continue;
    }
    std::string canonical;
    try {
      canonical = knob.validate(c.value);
      if (d.type == ValueType::Mask) {
        int width = 0;  // one mask, or one per rx queue as `wgopt show` prints a host whose queues differ
        for (const auto& one : split_ws(canonical)) width = std::max(width, mask_width(c.id, one));
        if (width > host.nproc) {
          problems.push_back(fmt::format("{}: mask '{}' names CPU {} but this machine has {} CPUs: use a mask of at "
                                         "most {} bits", c.id, canonical, width - 1, host.nproc, host.nproc));
          continue;
        }
      }
      // And the rules every host shares (knob_kinds.hpp), which `wgopt export` checks: a value
      // this host takes but an exported file would refuse is refused here too.
      if (kind_spec(c.id)) static_canonical(c.id, canonical, host.nproc);
    } catch (const UsageError& e) {
      problems.push_back(one_line(e.what(), 600));  // a knob's message quotes the value given (a profile's may be long)
      continue;
    }
    std::string current;
    try {
      current = knob.read();
    } catch (const std::exception& e) {
      problems.push_back(fmt::format("cannot read {} in {}: {}", c.id, where, e.what()));
      continue;
    }
    // A profile from `wgopt show` lists read-only knobs too: asking for the value they already
    // have is fine, asking for another one is an error.
    if (!presence.writable && !knob.equal(current, canonical) && !(preview && presence.needs_root)) {
      problems.push_back(fmt::format("knob {} is not writable in {}: {}", c.id, where, presence.why_not));
      continue;
    }
    out.push_back({&host, &knob, canonical, current});
  }
  // A profile of another host names interfaces this one lacks: one problem per interface, not one
  // per knob (a `wgopt show` of eth0 applied where there is none was 14 problems in one line).
  for (const auto& [at, ids] : missing_interfaces) problems.push_back(missing_interface_problem(at.second, ids, at.first));
  if (problems.size() == 1) throw UsageError(problems[0] + "; nothing was changed");
  if (!problems.empty()) {
    std::string all = fmt::format("{} problems, nothing was changed: ", problems.size());
    for (size_t i = 0; i < problems.size(); ++i) all += (i ? " | " : "") + problems[i];
    throw UsageError(all);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Planned& a, const Planned& b) { return a.knob->descriptor().order < b.knob->descriptor().order; });
  return out;
}

std::vector<Transaction::Planned> Transaction::companions(std::vector<Planned>& all) {
  std::vector<Planned> out;
  for (const auto& start : all) {
    if (start.knob->descriptor().kind != "service" || start.canonical != "active" || start.current == "active") continue;
    const auto target = std::find_if(targets_.begin(), targets_.end(), [&](const TxTarget& t) { return t.host == start.host; });
    if (target == targets_.end()) continue;
    std::vector<Knob*> masks;  // every interface's, the target's own knob where it has one
    for (const auto& ifname : start.host->files->list("/sys/class/net")) {
      if (ifname == "lo" || !is_valid_ifname(ifname)) continue;
      const std::string id = ifname + "/irq_affinity";
      auto own = std::find_if(target->knobs->begin(), target->knobs->end(), [&](const KnobPtr& k) { return k->id() == id; });
      if (own != target->knobs->end()) {
        masks.push_back(own->get());
        continue;
      }
      try {
        found_.push_back(find_knob(*start.host, id));
        masks.push_back(found_.back().get());
      } catch (const std::exception&) {  // not a NIC (bonding_masters): nothing to journal
      }
    }
    for (Knob* knob : masks) {
      auto written = std::find_if(all.begin(), all.end(), [&](const Planned& p) { return p.host == start.host && p.knob == knob; });
      if (written != all.end()) {
        written->forced = true;
        continue;
      }
      const Presence presence = knob->presence();
      if (!presence.present || !presence.writable) continue;
      try {
        const std::string now = knob->read();
        out.push_back({.host = start.host, .knob = knob, .canonical = now, .current = now, .forced = true, .journal_only = true});
      } catch (const std::exception& e) {
        spdlog::warn("{}: cannot read it before irqbalance starts ({}): `wgopt rollback` will not put it back", knob->id(), e.what());
      }
    }
  }
  return out;
}

ApplyResult Transaction::apply(const std::vector<Change>& changes) {
  if (state_ != State::Fresh) throw Error("internal: a Transaction applies once; start a new one");
  auto& journal = session_.journal();
  auto& d = journal.data();
  if (d.open) throw Error("internal: another transaction is still open in this journal; keep or roll it back first");

  ApplyResult result;
  std::vector<Planned> all = plan(targets_, changes);
  // First, so that undo() after any failed write restores them too (their rank puts them last).
  planned_ = companions(all);
  for (auto& p : all) {
    const bool skip = !p.knob->descriptor().resolved_when_written && p.knob->equal(p.current, p.canonical);
    p.step = result.steps.size();
    result.steps.push_back({p.knob->id(), p.current, p.canonical, !skip});
    if (!skip) planned_.push_back(p);
  }
  if (std::all_of(planned_.begin(), planned_.end(), [](const Planned& p) { return p.journal_only; })) {
    planned_.clear();
    state_ = State::Done;
    return result;
  }

  // Every original is on disk before the first write.
  d.boot_id = session_.boot_id();
  // Whose `host` this journal's are: ours when it holds none yet. When it does, the session checked
  // they are ours, or the journal is of wgopt before 2026-12 (no net_ns): then it stays unstamped, as
  // they may be another namespace's, and stamping them ours would restore them here.
  if (std::none_of(d.entries.begin(), d.entries.end(), [](const JournalEntry& e) { return e.place.is_host(); })) {
    d.net_ns = session_.net_ns();
  }
  d.pid = ::getpid();
  d.open = true;
  std::map<std::string, std::string> namespaces;  // netns name -> named_net_namespace(), once each
  InstanceCache instances;
  auto netns_id = [&](const Place& place) -> std::string {
    if (place.is_host()) return "";
    auto [it, fresh] = namespaces.try_emplace(place.netns_name());
    if (fresh) it->second = named_net_namespace(place.netns_name());
    return it->second;
  };
  for (auto& p : planned_) {
    JournalEntry* e = d.find(p.host->place, p.knob->id());
    const std::string ns = netns_id(p.host->place);
    const std::string instance = instances.of(*p.host, *p.knob);
    if (e && ((!e->netns_id.empty() && !ns.empty() && !same_net_namespace(e->netns_id, ns)) ||
              (!e->instance.empty() && !instance.empty() && e->instance != instance))) {
      // Journaled in a namespace of that name, or on an interface of that name, that has been
      // deleted since: its original went with it, and this one's is p.current.
      d.entries.erase(d.entries.begin() + (e - d.entries.data()));
      e = nullptr;
    }
    if (e) {
      p.prior = *e;
      e->before = p.current;
      e->target = p.canonical;
      e->state = p.journal_only ? EntryState::Written : EntryState::Pending;
      e->companion = e->companion || p.forced;
    } else {
      d.entries.push_back({.id = p.knob->id(), .place = p.host->place, .original = p.current, .before = p.current,
                           .target = p.canonical, .state = p.journal_only ? EntryState::Written : EntryState::Pending,
                           .companion = p.forced, .netns_id = ns, .instance = instance});
    }
  }
  journal.save();
  state_ = State::Applied;

  for (size_t i = 0; i < planned_.size(); ++i) {
    Planned& p = planned_[i];
    if (p.journal_only) continue;
    try {
      write(p, result);
    } catch (const std::exception& e) {
      const std::string why = e.what();
      // The failing knob may be half-written (one of several rx queues): whatever it holds now
      // counts as ours, so it goes back to its value before too.
      try {
        d.find(p.host->place, p.knob->id())->target = p.knob->read();
      } catch (const std::exception&) {
      }
      RestoreReport undone = undo(i + 1);
      std::string restored;
      for (const auto& item : undone.items) {
        if (item.outcome != Outcome::Restored && item.outcome != Outcome::Unchanged) {
          restored += fmt::format("; {}", item.line());
        }
      }
      const auto before = std::count_if(planned_.begin(), planned_.begin() + static_cast<std::ptrdiff_t>(i),
                                        [](const Planned& q) { return !q.journal_only; });
      throw Error(fmt::format("could not apply {}='{}' in {}: {}; restored the {} knob(s) changed before it{}",
                              p.knob->id(), p.canonical, p.host->place.describe(), why, before, restored));
    }
  }
  return result;
}

ApplyResult Transaction::preview(const Host& host, const std::vector<KnobPtr>& knobs, const std::vector<Change>& changes) {
  ApplyResult result;
  for (auto& p : plan({{&host, &knobs}}, changes, true)) {
    const std::string target = p.knob->descriptor().resolved_when_written ? p.knob->resolve(p.canonical) : p.canonical;
    result.steps.push_back({p.knob->id(), p.current, p.canonical, !p.knob->equal(p.current, target)});
  }
  return result;
}

void Transaction::write(Planned& p, ApplyResult& result) {
  auto& journal = session_.journal();
  auto& d = journal.data();
  // A placement name becomes masks for the IRQs there are now (after the channels before it): the
  // journal holds what is written, so a restore compares with that.
  const std::string concrete = p.knob->resolve(p.canonical);
  if (p.knob->descriptor().resolved_when_written && p.knob->equal(p.knob->read(), concrete)) {
    // It holds that already, with the knobs before it applied: no write, no journal entry.
    result.steps[p.step].written = false;
    JournalEntry* e = d.find(p.host->place, p.knob->id());
    if (p.forced) {
      // irqbalance starts in this transaction: the mask stays journaled as a companion, as found.
      p.journal_only = true;
      e->before = p.current;
      e->target = concrete;
      e->state = EntryState::Written;
      journal.save();
      return;
    }
    p.skipped = true;
    if (p.prior) *e = *p.prior;
    else d.entries.erase(d.entries.begin() + (e - d.entries.data()));
    journal.save();
    return;
  }
  if (concrete != p.canonical) {
    d.find(p.host->place, p.knob->id())->target = concrete;
    journal.save();
  }
  p.knob->apply(concrete);
  note_knob_written();
  for (auto& n : p.knob->take_notes()) result.notes.push_back(std::move(n));
  const std::string back = p.knob->read();
  if (!p.knob->equal(back, concrete)) throw Error(fmt::format("wrote '{}' but it reads back '{}'", concrete, back));
  d.find(p.host->place, p.knob->id())->state = EntryState::Written;
  journal.save();
}

void Transaction::keep() { close_as(EntryState::Kept); }

void Transaction::hold() { close_as(EntryState::Held); }

void Transaction::close_as(EntryState closed) {
  if (state_ == State::Done) return;
  if (state_ != State::Applied) throw Error("internal: keep() or hold() before apply()");
  auto& d = session_.journal().data();
  for (const auto& p : planned_) {
    if (JournalEntry* e = d.find(p.host->place, p.knob->id())) e->state = closed;
  }
  d.open = false;
  session_.journal().save();
  state_ = State::Done;
}

RestoreReport Transaction::rollback() {
  if (state_ != State::Applied) return {};
  return undo(planned_.size());
}

RestoreReport Transaction::undo(size_t upto) {
  RestoreReport report;
  auto& journal = session_.journal();
  auto& d = journal.data();
  std::vector<int> ranks;
  for (const auto& p : planned_) ranks.push_back(restore_rank_of(p.knob->descriptor(), p.forced));
  std::set<std::string> stuck;  // places whose irqbalance could not be put back (restore_entry)
  InstanceCache instances;
  for (size_t j : restore_sequence(ranks)) {
    const Planned& p = planned_[j];
    JournalEntry* e = d.find(p.host->place, p.knob->id());
    if (!e || p.skipped) continue;
    bool drop = false;
    if (j < upto) {
      // Its interface made again while the values were applied (NetBird restarting mid-trial): the
      // entry's value went with the old one (found in review: undo wrote it onto the new one).
      const std::string now = e->instance.empty() ? "" : instances.of(*p.host, *p.knob);
      RestoreItem item = !now.empty() && now != e->instance
                             ? RestoreItem{.id = e->id, .place = e->place, .outcome = Outcome::Gone, .goal = e->before, .ours = e->target,
                                           .detail = made_again(e->instance, now)}
                             : restore_entry(*p.knob, *e, e->before, stuck);
      // Its interface is gone (wireguard-go killed, NetBird recreating it): its value went with it,
      // as crash recovery says. Found by an exploratory test: the entry stayed open, and every later
      // transaction of the search was refused "another transaction is still open".
      const std::string& dev = p.knob->descriptor().device;
      if (item.outcome == Outcome::Failed && !dev.empty() && !p.host->files->exists("/sys/class/net/" + dev)) {
        item.outcome = Outcome::Gone;
        item.detail = "interface " + dev + " no longer exists: its value went with it";
      }
      if (item.outcome == Outcome::Failed) {
        report.items.push_back(std::move(item));
        continue;  // stays open in the journal: the next start (or `wgopt rollback`) retries
      }
      drop = item.outcome == Outcome::ChangedByOther || item.outcome == Outcome::Gone;
      report.items.push_back(std::move(item));
      // Its original (an earlier kept change's, before wgopt) leaves the journal with it: on record first.
      if (drop) session_.keep_left_alone_record(report.items, report);
    }
    if (drop || p.knob->equal(e->before, e->original)) {
      d.entries.erase(d.entries.begin() + (e - d.entries.data()));
    } else {
      e->target = e->before;
      e->state = EntryState::Kept;
      if (p.prior) e->companion = p.prior->companion;  // as it was before this transaction
    }
  }
  d.open = std::any_of(d.entries.begin(), d.entries.end(), [](const JournalEntry& x) { return !is_closed(x.state); });
  journal.save();
  state_ = State::Done;
  return report;
}

}  // namespace wgopt::act

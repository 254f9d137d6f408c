#include "actuators/restore.hpp"

#include <algorithm>
#include <map>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::act {

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::Restored: return "restored";
    case Outcome::Unchanged: return "unchanged";
    case Outcome::ChangedByOther: return "changed-by-other";
    case Outcome::Gone: return "gone";
    case Outcome::Failed: return "failed";
  }
  return "?";
}

std::string RestoreItem::line() const {
  const std::string where = place.describe();
  switch (outcome) {
    case Outcome::Restored: return fmt::format("{}: {} restored '{}' -> '{}'", where, id, found, goal);
    case Outcome::Unchanged: return fmt::format("{}: {} already '{}'", where, id, goal);
    case Outcome::ChangedByOther:
      return fmt::format("{}: {} left alone: someone else changed it to '{}' after wgopt wrote '{}' (before wgopt: '{}')",
                         where, id, found, ours, goal);
    case Outcome::Gone:
      if (!detail.empty()) return fmt::format("{}: {}: {} (was '{}')", where, id, detail, goal);
      return fmt::format("{}: {} no longer exists; its value went with it (was '{}')", where, id, goal);
    case Outcome::Failed:
      return fmt::format("{}: {} NOT restored to '{}': {} (kept in the journal: retry with `wgopt rollback`)", where,
                         id, goal, detail);
  }
  return id;
}

bool RestoreReport::ok() const {
  for (const auto& i : items) {
    if (i.outcome == Outcome::Failed) return false;
  }
  return true;
}

void note_knob_written() {
  static const long kill_after = [] {
    const char* env = std::getenv("WGOPT_TEST_KILL_AFTER_WRITES");
    return env ? std::strtol(env, nullptr, 10) : 0L;
  }();
  static long writes = 0;
  if (kill_after > 0 && ++writes == kill_after) ::raise(SIGKILL);
}

std::vector<size_t> restore_sequence(const std::vector<int>& ranks) {
  std::vector<size_t> order;
  for (size_t i = ranks.size(); i-- > 0;) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranks[a] > ranks[b]; });
  return order;
}

int restore_rank_of(const Descriptor& d, bool companion) { return companion ? -1 : restore_rank(d); }

RestoreItem restore_entry(Knob& knob, const JournalEntry& e, const std::string& goal, std::set<std::string>& stuck) {
  const std::string place = e.place.describe();
  if (e.companion && stuck.count(place)) {
    return {.id = e.id, .place = e.place, .outcome = Outcome::Failed, .goal = goal, .ours = e.target,
            .detail = "irqbalance, which moves it, could not be stopped: left as it is for the next `wgopt rollback`"};
  }
  RestoreItem item = restore_knob(knob, e.place, goal, e.target, e.companion);
  if (knob.descriptor().kind == "service" && item.outcome == Outcome::Failed) stuck.insert(place);
  return item;
}

RestoreItem restore_knob(Knob& knob, const Place& place, const std::string& goal, const std::string& ours, bool forced) {
  RestoreItem item{.id = knob.id(), .place = place, .goal = goal, .ours = ours};
  try {
    item.found = knob.read();
    if (knob.equal(item.found, goal)) {
      item.outcome = Outcome::Unchanged;
    } else if (forced || knob.still_ours(item.found, ours, goal)) {
      knob.apply(goal);
      note_knob_written();
      const std::string back = knob.read();
      if (!knob.equal(back, goal)) {
        item.outcome = Outcome::Failed;
        item.detail = fmt::format("wrote '{}' but it reads back '{}'", goal, back);
      } else {
        item.outcome = Outcome::Restored;
      }
    } else {
      item.outcome = Outcome::ChangedByOther;
    }
  } catch (const std::exception& e) {
    item.outcome = Outcome::Failed;
    item.detail = e.what();
  }
  return item;
}

std::vector<JournalEntry> restored_first_preview(const std::string& state_dir, const std::string& proc_root) {
  Journal journal(state_dir);
  journal.load_read_only();
  const auto& d = journal.data();
  std::vector<JournalEntry> out;
  if (d.entries.empty() || d.boot_id != wgopt::boot_id(proc_root)) return out;  // another boot's is archived, not restored
  for (const auto& e : d.entries) {
    if ((d.open && !is_closed(e.state)) || e.state == EntryState::Held) out.push_back(e);
  }
  return out;
}

ChangeSession::ChangeSession(const std::string& state_dir, KnobLookup lookup, SessionOptions options)
    : lock_(HostLock::acquire(options.run_dir)), state_lock_(HostLock::acquire_state_dir(state_dir)), journal_(state_dir),
      lookup_(std::move(lookup)),
      options_(std::move(options)), boot_id_(wgopt::boot_id(options_.proc_root)),
      net_ns_(own_net_namespace(options_.proc_root)) {
  journal_.load();
  auto& d = journal_.data();
  if (d.boot_id == boot_id_) refuse_other_namespace(d);
  if (!d.entries.empty() && d.boot_id != boot_id_) {
    // After a reboot the kernel starts from its defaults (or the admin's config): re-applying
    // values from the old boot would overwrite them with stale ones.
    try {
      const std::string tag = "boot-" + (d.boot_id.empty() ? std::string("unknown") : d.boot_id.substr(0, 8));
      startup_.archived = journal_.archive(tag);
      spdlog::warn("a journal from an earlier boot was archived as {} (not re-applied: the reboot already reset those values)",
                   startup_.archived);
    } catch (const Error& e) {
      if (!options_.journal_best_effort) throw;
      journal_problem_ = e.what();
      journal_.data() = JournalData{};  // never re-applied, archived or not
    }
    return;
  }
  if (d.open) restore_open(startup_);
  // Held entries belong to a run that holds the lock until it releases them: finding one here means
  // that run died (the lock is ours now).
  if (std::any_of(d.entries.begin(), d.entries.end(), [](const JournalEntry& e) { return e.state == EntryState::Held; })) {
    release_held(startup_);
  }
}

// `host` in a journal is the namespace of the process that wrote it: `ip netns exec A wgopt set` on
// a shared state dir, then `ip netns exec B wgopt rollback`, restored B's values to A's originals
// and lost A's. Entries of named namespaces (netns:NAME) are found from anywhere.
void ChangeSession::refuse_other_namespace(const JournalData& d) const {
  if (d.net_ns.empty() || net_ns_.empty() || d.net_ns == net_ns_) return;
  if (std::none_of(d.entries.begin(), d.entries.end(), [](const JournalEntry& e) { return e.place.is_host(); })) return;
  const std::string there = netns_name_of(d.net_ns), here = netns_name_of(net_ns_);
  const std::string where = there.empty() ? d.net_ns : fmt::format("network namespace {} ({})", there, d.net_ns);
  const std::string run_there = there.empty() ? "from there" : fmt::format("with `ip netns exec {} wgopt ...`", there);
  throw UsageError(fmt::format("journal {} holds originals of values changed in {}, and this wgopt runs in {}: run it {}, "
                               "or give this namespace its own journal with WGOPT_STATE_DIR=DIR (if that namespace is gone, "
                               "its values went with it: move the journal away)",
                               journal_.path(), where, here.empty() ? net_ns_ : "network namespace " + here, run_there));
}

std::string made_again(const std::string& was, const std::string& now) {
  return fmt::format("its interface was made again since wgopt changed it (was {}, now {}): the value journaled went with the old one, "
                     "the new one's is left alone",
                     was, now);
}

namespace {

// A journal entry with its knob (nullptr: gone, `gone_why` saying why when it is not plain).
struct Restorable {
  JournalEntry e;
  KnobPtr knob;
  std::string gone_why;
};

// The journal's entries with their knobs, in the order to restore them.
std::vector<Restorable> in_restore_order(const std::vector<JournalEntry>& entries, const KnobLookup& lookup, bool open_only) {
  std::vector<Restorable> all;
  std::vector<int> ranks;
  std::map<std::string, std::string> namespaces;  // netns name -> named_net_namespace(), once each
  // A namespace deleted and made again under its name is another one: the knobs journaled are gone
  // with the old one, and its own values are not wgopt's to overwrite.
  // Why an entry's namespace is not the one journaled (empty: it is): deleted, or made again.
  auto namespace_problem = [&](const JournalEntry& e) -> std::string {
    if (e.place.is_host() || e.netns_id.empty()) return "";
    auto [it, fresh] = namespaces.try_emplace(e.place.netns_name());
    if (fresh) it->second = named_net_namespace(e.place.netns_name());
    if (it->second.empty()) return fmt::format("its network namespace {} no longer exists: its value went with it", e.place.netns_name());
    if (same_net_namespace(e.netns_id, it->second)) return "";
    return fmt::format("its network namespace {} was made again since wgopt changed it: the value journaled went with the old one, "
                       "the new one's is left alone",
                       e.place.netns_name());
  };
  for (const auto& e : entries) {
    const bool skip = open_only && is_closed(e.state);
    // Said as such (found by an exploratory test: "no longer exists" of a knob whose namespace had
    // been made again, the interface there under its name).
    std::string gone_why = skip ? "" : namespace_problem(e);
    KnobPtr knob = skip || !gone_why.empty() ? nullptr : lookup(e.place, e.id);
    // The same for an interface deleted and made again under its name (NetBird does): found by an
    // exploratory test, the new one was given the old one's original.
    if (const std::string now = knob && !e.instance.empty() ? knob->instance() : ""; !now.empty() && now != e.instance) {
      gone_why = made_again(e.instance, now);
      knob = nullptr;
    }
    ranks.push_back(knob ? restore_rank_of(knob->descriptor(), e.companion) : 1 << 30);
    all.push_back({e, std::move(knob), std::move(gone_why)});
  }
  std::vector<Restorable> out;
  for (size_t i : restore_sequence(ranks)) out.push_back(std::move(all[i]));
  return out;
}

}  // namespace

void ChangeSession::save_journal() {
  try {
    journal_.save();
  } catch (const Error& e) {
    if (!options_.journal_best_effort) throw;
    journal_problem_ = e.what();
  }
}

void ChangeSession::keep_left_alone_record(const std::vector<RestoreItem>& items, RestoreReport& report) {
  // A knob that is gone has no value to put back; one someone else changed still has its original.
  const bool left = std::any_of(items.begin(), items.end(), [](const RestoreItem& i) { return i.outcome == Outcome::ChangedByOther; });
  if (!left || !report.left_alone_record.empty()) return;
  try {
    report.left_alone_record = journal_.record_copy("left-alone");  // the file: every change so far was saved
  } catch (const Error& e) {
    if (!options_.journal_best_effort) throw;
    journal_problem_ = e.what();
  }
}

void ChangeSession::restore_open(RestoreReport& report) {
  auto& d = journal_.data();
  std::vector<JournalEntry> keep;
  std::vector<RestoreItem> items;
  // Newest first, the reverse of the order the transaction applied them (restore_sequence).
  std::set<std::string> stuck;  // places whose irqbalance could not be put back (restore_entry)
  for (auto& [e, knob, gone_why] : in_restore_order(d.entries, lookup_, true)) {
    if (is_closed(e.state)) {
      keep.push_back(e);
      continue;
    }
    if (!knob) {
      items.push_back({.id = e.id, .place = e.place, .outcome = Outcome::Gone, .goal = e.before, .ours = e.target, .detail = gone_why});
      continue;
    }
    RestoreItem item = restore_entry(*knob, e, e.before, stuck);
    items.push_back(item);
    if (item.outcome == Outcome::Failed) {
      keep.push_back(e);
    } else if (item.outcome != Outcome::ChangedByOther && !knob->equal(e.before, e.original)) {
      // It had been changed by an earlier kept transaction: still ours, still undoable.
      e.state = EntryState::Kept;
      e.target = e.before;
      keep.push_back(e);
    }
  }
  keep_left_alone_record(items, report);
  d.entries.assign(keep.rbegin(), keep.rend());
  d.open = false;
  for (const auto& e : d.entries) {
    if (!is_closed(e.state)) d.open = true;
  }
  d.pid = ::getpid();
  save_journal();
  for (auto& i : items) report.items.push_back(std::move(i));
}

RestoreReport ChangeSession::release_held() {
  RestoreReport report;
  release_held(report);
  return report;
}

void ChangeSession::release_held(RestoreReport& report) {
  auto& d = journal_.data();
  std::vector<JournalEntry> keep;
  std::set<std::string> stuck;  // places whose irqbalance could not be put back (restore_entry)
  for (auto& [e, knob, gone_why] : in_restore_order(d.entries, lookup_, false)) {
    if (e.state != EntryState::Held) {
      keep.push_back(e);
      continue;
    }
    if (!knob) {
      report.items.push_back({.id = e.id, .place = e.place, .outcome = Outcome::Gone, .goal = e.before, .ours = e.target, .detail = gone_why});
      continue;
    }
    RestoreItem item = restore_entry(*knob, e, e.before, stuck);
    if (item.outcome == Outcome::Failed) {
      keep.push_back(e);  // still held: the next start or `wgopt rollback` retries
    } else if (item.outcome != Outcome::ChangedByOther && !knob->equal(e.before, e.original)) {
      e.state = EntryState::Kept;  // an earlier kept change of it is still ours
      e.target = e.before;
      keep.push_back(e);
    }
    report.items.push_back(std::move(item));
  }
  keep_left_alone_record(report.items, report);
  d.entries.assign(keep.rbegin(), keep.rend());
  d.pid = ::getpid();
  save_journal();
}

RestoreReport ChangeSession::rollback_all() {
  RestoreReport report;
  auto& d = journal_.data();
  if (d.open) restore_open(report);
  std::vector<JournalEntry> keep;
  std::set<std::string> stuck;  // places whose irqbalance could not be put back (restore_entry)
  for (auto& [e, knob, gone_why] : in_restore_order(d.entries, lookup_, false)) {
    if (!knob) {
      report.items.push_back({.id = e.id, .place = e.place, .outcome = Outcome::Gone, .goal = e.original, .ours = e.target, .detail = gone_why});
      continue;
    }
    RestoreItem item = restore_entry(*knob, e, e.original, stuck);
    if (item.outcome == Outcome::Failed) keep.push_back(e);
    report.items.push_back(std::move(item));
  }
  keep_left_alone_record(report.items, report);
  d.entries.assign(keep.rbegin(), keep.rend());
  d.pid = ::getpid();
  save_journal();
  return report;
}

}  // namespace wgopt::act

#pragma once
// Putting knobs back: crash recovery of an unfinished transaction, `wgopt rollback`, and the
// ChangeSession every command that changes a host opens first (lock, journal, recovery).
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "actuators/journal.hpp"
#include "actuators/knob.hpp"
#include "actuators/lock.hpp"

namespace wgopt::act {

// The knob `id` in `place`, to restore it; nullptr when it no longer exists there (the namespace
// was deleted, the device is gone): its value went with it.
using KnobLookup = std::function<KnobPtr(const Place& place, const std::string& id)>;

enum class Outcome {
  Restored,        // we wrote the goal value back and read it back equal
  Unchanged,       // it already had the goal value (the write never happened)
  ChangedByOther,  // it holds neither our value nor the goal: someone else changed it; left alone
  Gone,            // the knob no longer exists
  Failed,          // reading or writing failed; the entry stays in the journal for a later retry
};
const char* to_string(Outcome o);

struct RestoreItem {
  std::string id;
  Place place;
  Outcome outcome = Outcome::Failed;
  std::string found;  // the value found before restoring
  std::string goal;   // the value restored (or that would have been)
  std::string ours;   // the value wgopt had written
  std::string detail; // error text for Failed; for Gone, why when it is not plain (its interface made again)
  std::string line() const;  // one line for people: "netns x: net.ipv4.tcp_rmem restored to '...'"
};

struct RestoreReport {
  std::vector<RestoreItem> items;
  std::string archived;  // a journal from another boot archived here (never re-applied), or empty
  // Knobs left alone because someone else changed them lose their journal entries: the journal as
  // it was is kept here first (journal-TIME-left-alone.json), the one record of their originals
  // besides this report.
  std::string left_alone_record;
  bool ok() const;       // nothing Failed
  bool empty() const { return items.empty() && archived.empty(); }
};

// Reads `knob`; if it equals `goal` -> Unchanged; if it is still ours (Knob::still_ours: equal to
// `ours`) or `forced` (a companion: irqbalance, which wgopt started, rewrote it) -> writes `goal`
// and verifies -> Restored; otherwise ChangedByOther. Errors become Failed with the knob's error text.
RestoreItem restore_knob(Knob& knob, const Place& place, const std::string& goal, const std::string& ours, bool forced = false);

// Restores journal entry `e` of `knob` to `goal` (restore_knob, forced for a companion), unless it is
// a companion at a place in `stuck`: there putting irqbalance back failed earlier in this pass
// (restore_rank_of puts it first), the daemon still runs and would move the masks again, so the
// entry is reported Failed and kept for the next `wgopt rollback` instead of being dropped as
// restored. An irqbalance entry that fails adds its place to `stuck`.
RestoreItem restore_entry(Knob& knob, const JournalEntry& e, const std::string& goal, std::set<std::string>& stuck);

// The rank a journal entry is restored at (restore_sequence): the knob's restore_rank, and a
// companion after every knob (irqbalance, rank 5, is stopped before the masks it rewrote go back).
int restore_rank_of(const Descriptor& d, bool companion);

// A Gone item's detail when the entry's interface was made again under its name (JournalEntry::instance).
std::string made_again(const std::string& was, const std::string& now);

// The order to restore n knobs in, given in the order they were applied (journaled) with their
// restore_rank(): newest first, except that a knob with a lower rank waits for every knob of a
// higher rank (IRQ masks, rank 9, go back after the channels, 10, that decide which IRQs exist).
// Returns the indices 0..n-1.
std::vector<size_t> restore_sequence(const std::vector<int>& ranks);

// Counts one successful knob write. Test-only hook: when WGOPT_TEST_KILL_AFTER_WRITES=k is set in
// the environment, the process raises SIGKILL right after its k-th write, so the crash test can
// stop wgopt at every point of a transaction. Never set it outside tests.
void note_knob_written();

struct SessionOptions {
  std::string run_dir = act::run_dir();  // where the host lock is (actuators/lock.hpp)
  std::string proc_root = "/proc";       // for the boot id and this process's network namespace
  // `wgopt rollback`: a journal that cannot be written (disk full, read-only) does not stop the
  // restore. The knobs are restored all the same; journal_problem() says what could not be saved.
  // A stale journal is harmless: its knobs are found at their originals next time.
  bool journal_best_effort = false;
};

// What opening a ChangeSession on `state_dir` now would restore first, read without the lock and
// without writing: the entries of an unfinished transaction (back to `before`) and those a run that
// died was holding (Held, back to `before`), when the journal is from this boot. `apply --dry-run`
// lists them (found by an exploratory test: the dry-run showed a profile's 2 changes while the
// real apply first rewrote 15 knobs a killed wgopt had left). Throws Error when the journal
// cannot be read.
std::vector<JournalEntry> restored_first_preview(const std::string& state_dir, const std::string& proc_root = "/proc");

// Holds the HostLock for its lifetime. Opening it: takes the lock, loads the journal, archives a
// journal from another boot, and restores an unfinished transaction (its process died) to the
// values it found, and what a run that died was holding (EntryState::Held) to its value before.
// startup() says what it did; commands print it.
class ChangeSession {
 public:
  ChangeSession(const std::string& state_dir, KnobLookup lookup, SessionOptions options = {});

  Journal& journal() { return journal_; }
  const RestoreReport& startup() const { return startup_; }
  const std::string& boot_id() const { return boot_id_; }
  const std::string& net_ns() const { return net_ns_; }  // this process's network namespace ("net:[N]")
  // Empty, or why the journal could not be updated (only with journal_best_effort).
  const std::string& journal_problem() const { return journal_problem_; }

  // `wgopt rollback`: restores every knob in the journal to the host's original value, newest
  // first (restore_sequence). Entries that fail stay in the journal; the others leave it.
  RestoreReport rollback_all();
  // The end of a run that held knobs (Transaction::hold): puts every Held entry back to its value
  // before the hold, newest first; entries that fail stay Held (the next start retries them).
  RestoreReport release_held();
  // Before entries of knobs someone else changed (ChangedByOther among `items`) leave the journal:
  // the journal file as it is (every change so far saved) is archived as journal-TIME-left-alone.json
  // and named in report.left_alone_record, once per report; the in-memory journal stays as it was.
  void keep_left_alone_record(const std::vector<RestoreItem>& items, RestoreReport& report);

 private:
  // Throws UsageError when the journal's `host` entries belong to another network namespace.
  void refuse_other_namespace(const JournalData& d) const;
  void restore_open(RestoreReport& report);
  void release_held(RestoreReport& report);
  void save_journal();

  HostLock lock_;
  HostLock state_lock_;  // the journal's directory, whatever the run dir
  Journal journal_;
  KnobLookup lookup_;
  SessionOptions options_;
  std::string boot_id_;
  std::string net_ns_;
  RestoreReport startup_;
  std::string journal_problem_;
};

}  // namespace wgopt::act

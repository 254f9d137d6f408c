#pragma once
// The on-disk record that makes changes to a host undoable after SIGKILL or power loss.
// One file, STATE_DIR/journal.json, rewritten whole on every update: write journal.json.tmp,
// fsync it, rename it over journal.json, fsync the directory. A reader therefore sees either the
// old or the new journal, never a torn one; a leftover .tmp (crash mid-write) is ignored.
//
// It holds, for every knob wgopt has changed and not yet restored:
//   original  the host's value before wgopt first wrote the knob (what `wgopt rollback` restores)
//   before    the value just before the open transaction (what crash recovery restores)
//   target    the value the open (or last kept) transaction writes
// plus the boot id (a journal from another boot is archived, never re-applied) and whether a
// transaction is open (its process died if we find it open while holding the HostLock).
// Only touch it while holding a HostLock.
#include <optional>
#include <string>
#include <vector>

#include "common/place.hpp"

namespace wgopt::act {

enum class EntryState {
  Pending,  // original recorded by the open transaction, write not yet confirmed
  Written,  // written and verified by the open transaction
  Kept,     // written by a finished transaction whose changes were kept
  // Written by a finished transaction for one run only (another tuner stopped for a search,
  // Transaction::hold): closed like Kept, but put back when that run ends (ChangeSession::
  // release_held) or, when it died, by the next session's start (crash recovery, the guardian).
  Held,
};
const char* to_string(EntryState s);
// Kept or Held: no transaction is in flight on it.
inline bool is_closed(EntryState s) { return s == EntryState::Kept || s == EntryState::Held; }

struct JournalEntry {
  std::string id;
  Place place;
  std::string original;
  std::string before;
  std::string target;
  EntryState state = EntryState::Pending;
  // An IRQ mask journaled because wgopt started irqbalance, which rewrites the masks (the
  // transaction's companions): restored to its goal whoever changed it (irqbalance did), and after
  // every other knob, so irqbalance has been stopped first (restore_rank_of).
  bool companion = false;
  // For a place in a named network namespace: that namespace when the entry was made
  // (named_net_namespace: inode and cookie). One deleted and made again under the same name is
  // another namespace: its knobs are not the ones journaled (restored as gone). Empty before 2026-12-07.
  std::string netns_id;
  // For a device knob: its interface when the entry was made (Knob::instance, "ifindex 7"). One
  // deleted and made again under the same name is another interface: the value journaled went with
  // the old one (restored as gone). Empty before 2026-12-07 (late) and where it cannot be read.
  std::string instance;
};

struct JournalData {
  std::string boot_id;
  // The network namespace of the process that wrote it ("net:[N]"): what its `host` entries mean.
  // Empty in journals of wgopt before 2026-12 (and where /proc cannot say).
  std::string net_ns;
  int pid = 0;              // the process that last wrote the journal
  bool open = false;        // a transaction is in flight (unfinished if its process is gone)
  std::string updated;      // UTC time of the last update, for people reading the file
  std::vector<JournalEntry> entries;

  JournalEntry* find(const Place& place, const std::string& id);
  bool empty() const { return entries.empty() && !open; }
};

class Journal {
 public:
  // The journal in `dir` (created if needed). Reads nothing yet.
  explicit Journal(std::string dir);

  const std::string& dir() const { return dir_; }
  std::string path() const { return dir_ + "/journal.json"; }

  // Reads the journal; an absent file is an empty journal. Throws wgopt::Error naming the file
  // when it exists but cannot be parsed (it is never silently dropped: it may hold originals).
  void load();
  // The same, for a reader without the lock (apply --dry-run): a leftover .tmp is left alone (it
  // may be the lock holder's write in flight).
  void load_read_only();
  // Writes data() durably (temp + fsync + rename + fsync dir). An empty journal removes the file.
  void save();
  // Renames journal.json to journal-<UTC timestamp>-<tag>.json and returns the new path; the
  // in-memory data becomes empty. Used for other-boot journals.
  std::string archive(const std::string& tag);
  // A copy of journal.json as it is on disk, journal-<UTC timestamp>-<tag>.json (written whole, then
  // renamed); journal.json and data() stay as they are. The record of a rollback that left knobs
  // alone: journal.json must stay in place until the rollback saves it, or a crash in between
  // would lose the open transaction.
  std::string record_copy(const std::string& tag) const;

  JournalData& data() { return data_; }
  const JournalData& data() const { return data_; }

 private:
  std::string dir_;
  JournalData data_;
};

// "host" or "netns:NAME", and back (throws Error on anything else).
std::string place_key(const Place& place);
Place place_from_key(const std::string& key);

}  // namespace wgopt::act

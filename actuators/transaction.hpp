#pragma once
// One all-or-nothing change of a set of knobs in one Place (`wgopt set`, `wgopt apply`, one
// candidate of a study).
//
//   ChangeSession session(state_dir(), lookup);      // lock + crash recovery
//   Transaction tx(session, host, knobs);             // knobs: discovered for host.place
//   auto result = tx.apply({{"net.ipv4.tcp_rmem", "4096 131072 16777216"}, {"wg0/mtu", "1380"}});
//   ... measure ...
//   tx.rollback();   // back to the values before apply (or tx.keep() to keep them)
//
// apply() first validates everything and throws UsageError listing every problem (unknown knob,
// value out of domain, mask wider than the machine, bad interface name, id outside the
// allowlist, a change to a knob that is not writable here) with nothing written. Then it records
// every original in the journal durably, writes in ascending descriptor().order, skips writes of
// a value the knob already has, and verifies each by read-back. A value the knob resolves at
// write time (an IRQ placement name) is journaled as what it resolved to. If a write or its verification
// fails it restores what it had written (newest first, see restore_sequence) and throws Error naming the knob and the
// knob's own error. A transaction destroyed after apply() without keep() or rollback() rolls
// back (best effort, logged).
#include <optional>
#include <string>
#include <vector>

#include "actuators/knob.hpp"
#include "actuators/restore.hpp"

namespace wgopt::act {

struct Change {
  std::string id;
  std::string value;  // as the user typed it; validate() makes it canonical
  size_t target = 0;  // which of the transaction's places (TxTarget) the id belongs to
};

// One place a transaction changes: its Host and the knobs discovered there. A candidate of the
// search changes both ends of a path (or a namespace and the host) as ONE transaction, so the
// journal's open transaction covers every place and crash recovery restores them together.
struct TxTarget {
  const Host* host;
  const std::vector<KnobPtr>* knobs;
};

struct Step {
  std::string id;
  std::string before;   // canonical value read before the transaction
  std::string after;    // canonical value requested
  bool written = false; // false: it already had that value, the write was skipped
};

struct ApplyResult {
  std::vector<Step> steps;  // in apply order
  // What the writes did that no rollback undoes, one line each ("loaded kernel module tcp_bbr ...");
  // each is also logged as a warning.
  std::vector<std::string> notes;
  int written() const;
};

class Transaction {
 public:
  // `knobs` are the knobs of host.place that ids resolve against; they must outlive the
  // transaction. `session` must stay open (it holds the lock) until keep() or rollback().
  Transaction(ChangeSession& session, const Host& host, const std::vector<KnobPtr>& knobs);
  // Several places in one transaction; Change::target indexes `targets`.
  Transaction(ChangeSession& session, std::vector<TxTarget> targets);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Once per transaction. See the header comment for the guarantees.
  ApplyResult apply(const std::vector<Change>& changes);
  // What apply() would do, without a session, a journal entry or a write (`wgopt apply --dry-run`):
  // the same validation (UsageError listing every problem) and the same steps, `written` true for
  // each knob whose value differs now. A placement name (resolved_when_written) is resolved against
  // the host as it is, so a channel change planned before it may make apply() resolve it otherwise.
  static ApplyResult preview(const Host& host, const std::vector<KnobPtr>& knobs, const std::vector<Change>& changes);
  // Keeps the applied values; the journal keeps the originals for `wgopt rollback`.
  void keep();
  // Keeps them for this run only (irqbalance stopped for a search): the journal marks them Held,
  // so ChangeSession::release_held() puts them back at the run's end, and the next session's start
  // (crash recovery, the guardian) when the run died first; `wgopt rollback` restores them too.
  void hold();
  // Restores every knob apply() wrote to its value before apply(). A knob someone else changed in
  // the meantime is left alone and reported.
  RestoreReport rollback();

 private:
  struct Planned {
    const Host* host;
    Knob* knob;
    std::string canonical;
    std::string current;
    size_t step = 0;                     // its index in ApplyResult::steps
    std::optional<JournalEntry> prior;   // its journal entry from an earlier kept transaction
    bool skipped = false;                // resolved_when_written and already equal: not written
    bool forced = false;                 // a companion (JournalEntry::companion): restored whoever changed it
    bool journal_only = false;           // a companion this transaction does not write, only journals
  };
  // `preview`: a knob writable as root only passes (a dry-run without root checks the rest).
  static std::vector<Planned> plan(const std::vector<TxTarget>& targets, const std::vector<Change>& changes, bool preview = false);
  // When `all` starts irqbalance on a host (not active -> active), which rewrites IRQ masks: the IRQ
  // masks of that place's interfaces (IFACE/irq_affinity, the NICs' queue IRQs: the masks wgopt
  // manages) become companions, found here whether or not the target's knobs hold them (`wgopt set`
  // looks up only the knobs it is given, a peer's agent and a search's Global target likewise). The
  // ones `all` writes are marked forced; the others are returned as journal-only Planned entries
  // holding their value now. An exploratory test found `wgopt set irqbalance=active` then `wgopt
  // rollback` stopped irqbalance and left the masks it had rewritten (3 -> 2 2 2 1), reporting success.
  std::vector<Planned> companions(std::vector<Planned>& all);
  void close_as(EntryState closed);
  // Resolves, journals the concrete target, writes and verifies one knob (or skips it, see
  // Descriptor::resolved_when_written). Throws what the knob throws.
  void write(Planned& p, ApplyResult& result);
  // Restores the planned knobs [0, upto) that were written, in restore_sequence order, and updates
  // the journal.
  RestoreReport undo(size_t upto);

  ChangeSession& session_;
  std::vector<TxTarget> targets_;
  std::vector<Planned> planned_;  // the knobs this transaction writes, in apply order, after its journal-only companions
  std::vector<KnobPtr> found_;    // companions' knobs the targets did not hold
  enum class State { Fresh, Applied, Done } state_ = State::Fresh;
};

// The highest CPU a canonical mask ("3", "ff,ffffffff") names plus one; 0 for an empty mask.
// Throws UsageError when it is not comma-separated hex groups.
int mask_width(const std::string& id, const std::string& mask);

// "ID=VALUE" as typed on a command line -> Change. Throws UsageError naming the argument, for a
// control character (a tab aside) or a value over a profile's kMaxValueBytes too (profile.hpp).
Change parse_assignment(const std::string& arg);

}  // namespace wgopt::act

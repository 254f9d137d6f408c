#pragma once
// A record of every restore a host did by itself, without the process that made the change: the
// guardian after wgopt died or its lease expired, or the peer agent when its SSH session ended.
// One JSON line per restore in STATE_DIR/restores.jsonl, appended and fsynced. A controller that
// lost its session to a peer reads them after reconnecting (`hello` with a `since`) to learn what
// the peer put back while it was away.
#include <string>
#include <vector>

#include "actuators/restore.hpp"

namespace wgopt::act {

struct RestoreRecord {
  long long at_ms = 0;   // unix time in ms when the restore finished
  int pid = 0;           // the process that restored (a guardian, an agent)
  std::string by;        // "guardian" | "agent"
  std::string why;       // one line: "wgopt pid 123 died", "SSH session ended (EOF on stdin)", ...
  act::RestoreReport report;
};

// Appends one line (O_APPEND, fsync). When the file has grown past 256 KiB, the older half is
// dropped first. Never throws: a record that cannot be written is logged at warn level (the restore
// itself already happened; this is only its account).
void append_restore_record(const std::string& state_dir, const RestoreRecord& record);

// A log in the state dir past 256 KiB loses its older half (restores.jsonl, watchdog.log: a host
// re-tuned nightly for years must not fill its disk with them). Throws Error when it cannot be rewritten.
void trim_log(const std::string& path);

// Records with at_ms >= since_ms, oldest first. A missing file is none; a torn or malformed line
// (a crash mid-append) is skipped.
std::vector<RestoreRecord> read_restore_records(const std::string& state_dir, long long since_ms = 0);

// Unix time in milliseconds (the clock records and leases use).
long long unix_ms();

}  // namespace wgopt::act

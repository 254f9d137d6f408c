#pragma once
// The guardian: a process that outlives wgopt and puts the host back if wgopt cannot.
//
// The search applies a candidate, checks the tunnel, measures, and restores the baseline. If wgopt
// is killed (SIGKILL, OOM) or hangs while a candidate is applied, nothing in wgopt can restore the
// originals, and a candidate that cut connectivity would stay. So the search starts a guardian
// (`wgopt __watchdog`, in its own session so a Ctrl-C to wgopt's process group does not reach it)
// and keeps a lease file up to date:
//   idle                 no candidate applied: the guardian only watches for wgopt's death
//   armed <deadline-ms>  a candidate is applied; wgopt must re-arm or go idle before the deadline
//   exit                 wgopt finished normally; the guardian exits
// The guardian polls every 200 ms. When wgopt's process is gone (pid and start time checked, so a
// reused pid is not mistaken for it), or an armed lease expires (wgopt hung: it is SIGKILLed
// first), it ends what wgopt left running (its children die with it by PR_SET_PDEATHSIG; the
// guardian also kills those listed in STATE_DIR/watchdog-PID.children, such as an iperf3 client
// that would keep the server busy for the rest of its run), then opens a ChangeSession on the state
// dir, which restores the unfinished transaction from the journal, logs what it did to
// STATE_DIR/watchdog.log, and exits.
#include <chrono>
#include <string>
#include <vector>

namespace wgopt::act {

// What the search asks of a guardian (Watchdog is the real one; tests record the calls).
class Guardian {
 public:
  virtual ~Guardian() = default;
  // A candidate is (about to be) applied: restore unless re-armed or disarmed within `deadline`.
  virtual void arm(std::chrono::milliseconds deadline) = 0;
  // No candidate is applied any more.
  virtual void disarm() = 0;
  // Normal end: the guardian exits without touching anything.
  virtual void stop() = 0;
};

class Watchdog : public Guardian {
 public:
  // Starts the guardian for this process. `wgopt_exe` is the wgopt binary (/proc/self/exe for the
  // CLI); `state_dir` the actuators' state dir (journal, lock). Throws wgopt::Error if it cannot
  // be started.
  static Watchdog start(const std::string& wgopt_exe, const std::string& state_dir);

  Watchdog(Watchdog&& other) noexcept;
  Watchdog& operator=(Watchdog&&) = delete;
  Watchdog(const Watchdog&) = delete;
  ~Watchdog();  // stop()

  // A guardian that is gone (killed, OOM) is replaced first, with a warning: a candidate is never
  // applied unguarded (found by an exploratory test: after `kill -9` of the guardian a search ran
  // every trial with nothing to restore the host had wgopt died).
  void arm(std::chrono::milliseconds deadline) override;
  void disarm() override;
  void stop() override;
  // Forgets the guardian without telling it: it keeps its lease and restores the journal when this
  // process dies (for a process about to exit with something it could not restore itself).
  void abandon() { pid_ = 0; }

  int pid() const { return pid_; }
  const std::string& lease_path() const { return lease_; }

 private:
  Watchdog(int pid, std::string lease, std::string exe, std::string state_dir)
      : pid_(pid), lease_(std::move(lease)), exe_(std::move(exe)), state_dir_(std::move(state_dir)) {}
  void write_lease(const std::string& content);
  bool gone() const;
  int pid_ = 0;
  std::string lease_;
  std::string exe_, state_dir_;  // to start another when it is gone
};

struct GuardianOptions {
  int parent_pid = 0;
  long long parent_start_time = 0;  // /proc/PID/stat field 22, so a reused pid is not wgopt
  std::string lease_path;
  std::string state_dir;            // the journal
  std::string run_dir;              // the host lock (actuators/lock.hpp)
  std::string children_path;        // wgopt's long-running children (common/exec.hpp); may be empty
};

// The guardian's main loop (the body of `wgopt __watchdog`). Returns the process exit code: 0 when
// told to exit or after a successful restore, 1 when a restore left something behind.
int run_guardian(const GuardianOptions& options);

// Kills (SIGKILL) every process in a list written by common/exec.hpp list_long_children_in that
// still runs with the start time recorded (a reused pid is left alone). Returns one line per kill.
std::vector<std::string> end_listed_children(const std::string& children_path);

// The absolute path of this program (/proc/self/exe resolved): what a guardian or a peer agent is
// started from; "/proc/self/exe" itself when it cannot be resolved.
std::string self_exe_path();

}  // namespace wgopt::act

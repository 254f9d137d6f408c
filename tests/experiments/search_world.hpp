#pragma once
// A world for running `wgopt search` without root (issue 10's characterization suite): two fake
// hosts (tests/actuators' FakeHost) as the two ends of a testbed, a scripted plant whose score is a
// known function of what is applied on both ends right now, a recording guardian, a fake clock,
// and a study dir of its own. Everything the loop does to the outside world lands in one event log,
// and trace() renders the log, the report, the study's rows and the profile as one text.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "experiments/search/search.hpp"
#include "experiments/search/search_env.hpp"
#include "tests/actuators/test_knobs_fake.hpp"

namespace wgopt::test {

// What the scripted plant does besides measuring.
struct Script {
  bool flat = false;              // the score ignores the knobs: nothing is worth promoting
  int fail_below_txqueuelen = 32; // a shorter transmit queue breaks the workload (a failed trial)
  int interrupt_at_measure = 0;   // the k-th measurement reports Ctrl-C (0: never)
  std::vector<int> fail_measures; // these measurements fail (iperf3 cannot connect)
  std::vector<int> refused_measures;  // these find no iperf3 server listening (connection refused)
  bool server_restartable = true;     // the plant can start its iperf3 server again (the testbed)
  std::vector<int> low_measures;  // these measurements read 100 Mbit/s low (a neighbour's burst)
  std::vector<int> stall_measures;  // these stall 3 s at no rate mid-series (a link flap over by the next check)
  bool stall_pruned = false;        // ... and with pruning on, the pruner stops them on their first second at nothing
  int interrupt_at_arm = 0;       // Ctrl-C arrives with the k-th arm of the guardian
  int kill_apply_at_arm = 0;      // ... and kills the apply's command: the candidate's first write fails
  int kill_ping_at_check = 0;     // Ctrl-C arrives during the k-th tunnel check and kills its ping
  bool testbed_brought_up = false;  // building the plant brought the testbed up (it was not there)
  bool interrupt_at_setup = false;  // Ctrl-C arrives while the plant is built (the testbed's bring-up)
  int dead_at_check = 0;          // the k-th tunnel check fails whatever is applied (0: never)
  int dead_from_check = 0;        // ... and every one from the k-th on (the peer is down)
  int dead_until_check = 0;       // ... up to this one only (an outage outside wgopt that ends; 0: never ends)
  std::vector<int> dead_checks;   // these tunnel checks fail whatever is applied (outages that come and go)
  int dead_after_measure = 0;     // every tunnel check after the k-th measurement fails (an outage that does not end)
  int interrupt_at_sleep = 0;     // Ctrl-C arrives during the k-th short wait (settle waits are made of them)
  std::vector<act::Tuner> tuners; // other tuners found on the host (none: the stage says nothing)
  // --ssh (the server end is a fake peer agent): the session dies at the k-th stop of the peer's
  // probes (the peer restores by itself); with peer_unreachable every reconnect fails too.
  int peer_lost_at_probe = 0;
  // ... or its session is cut during the k-th measurement (the heartbeat finds it gone): a search
  // that honours MeasureOptions::abandoned stops that measurement at once.
  int peer_cut_at_measure = 0;
  bool peer_unreachable = false;
  bool interrupt_at_reconnect = false;  // Ctrl-C arrives while the reconnect's hello is awaited
  std::vector<std::string> inert; // knobs the score ignores ("txqueuelen", "cc", "rmem", "mtu")
  int other_sets_txqueuelen_at_measure = 0;  // someone else sets the client's txqueuelen to 777 during the k-th measurement
};

// The values the score reads, as the fake kernel holds them on one end.
struct EndValues {
  int mtu = 0;
  int txqueuelen = 0;
  long long rmem_max = 0;
  std::string cc;
  std::string line() const;
};

class SearchWorld {
 public:
  explicit SearchWorld(Script script = {});
  ~SearchWorld();
  SearchWorld(const SearchWorld&) = delete;
  SearchWorld& operator=(const SearchWorld&) = delete;

  // Both ends start poor: MTU 1280, txqueuelen 100, tcp_rmem max 16 KiB, reno.
  void start_poor();
  // Both ends start near the optimum (MTU 1400, txqueuelen 1000, 4 MiB, bbr): most candidates are
  // worse, and early stopping cuts them short.
  void start_good();
  // Sets one file of one end's fake kernel ("/sys/class/net/wg0/tx_queue_len", "200").
  void write(bool server, const std::string& path, const std::string& value);

  // Options for a short search of four knobs on this world (8 trials, 3 + 3 rounds), the winner kept
  // whole (--keep-whole-winner: the traces from before the simplification stage; its own cases
  // turn it on).
  experiments::SearchOptions options() const;
  // The same over SSH: peer mode from the client end, the server end a fake peer agent
  // (experiments::PeerLink over the server's fake host, with a journal of its own).
  experiments::SearchOptions ssh_options() const;
  experiments::SearchEnv env();
  experiments::SearchReport run(const experiments::SearchOptions& o);
  // run() with progress on (not --quiet), what it wrote to stderr in `said`.
  experiments::SearchReport run_saying(experiments::SearchOptions o, std::string& said);

  // The event log, the report, the study file's rows and the profile's text (paths relative to
  // the world's dir).
  std::string trace(const experiments::SearchReport& report, const std::string& study_path,
                    const std::string& profile_path) const;

  EndValues values(bool server) const;
  double throughput(const EndValues& v) const;  // the plant's noise-free Mbit/s on one end
  const std::string& dir() const { return dir_; }
  std::vector<std::string> log;  // read it after run(): the guardian writes to it until it is destroyed
  std::atomic<bool> interrupted{false};
  Script script;

 private:
  experiments::Evaluation measure(const experiments::Objective& objective, const experiments::MeasureOptions& mo);
  std::string relative(std::string text) const;
  FakeHost cli_, srv_;
  std::string dir_;
  std::atomic<long long> clock_ms_{1'000'000};
  void event(const std::string& line);  // flushes the pending wait first
  experiments::Evaluation measure_here(const experiments::Objective& objective, const experiments::MeasureOptions& mo);
  int measures_ = 0, arms_ = 0, sleeps_ = 0, checks_ = 0, peer_probes_ = 0;
  bool peer_cut_ = false;  // the peer's session is cut (Script::peer_cut_at_measure); the link sees it
  long long pending_wait_ms_ = 0;
};

// Compares `actual` with tests/fixtures/search_trace/NAME.txt (WGOPT_UPDATE_TRACES=1 rewrites it).
void check_trace(const std::string& name, const std::string& actual);

}  // namespace wgopt::test

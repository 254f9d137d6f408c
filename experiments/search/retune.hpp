#pragma once
// `wgopt retune --profile P`: the nightly job. It re-runs the closed loop (experiments/search.hpp) in
// retune mode on the plant the profile's evidence names, with the profile's objective and the
// profile's knobs as the space, warm-started from the profile's study:
//
//   holds        the host still has the profile's values, the kernel is the one the profile was
//                made on, and the score is within the tolerance of the recorded evidence: exit 0
//                after the baseline rounds alone (about 3 x the objective's duration).
//   rolled-back  knobs had drifted from the profile and were put back (the host is on P again), and
//                the score holds.
//   retuned      the kernel changed or the score regressed: a short search found a winner that
//                held up in the interleaved confirmation; it replaced P (old one kept as P.prev).
//   degraded     the score regressed and no better configuration was confirmed: P stays, the
//                host is on P (drift put back too), but it is slower than P's evidence says, in
//                the confirmation's rounds of P when a search ran; someone should look.
//
// The pieces here are pure (options from a profile, exit codes, the summary line, Prometheus
// textfile metrics); cli/cmd_retune.cpp does the I/O.
#include <cstdint>
#include <optional>
#include <string>

#include "actuators/profile.hpp"
#include "experiments/search/search.hpp"

namespace wgopt::experiments {

// Exit codes a systemd timer or cron acts on: 0 and 10/11 are fine (SuccessExitStatus=10 11),
// 12 wants a human, 1 is an error, 2 bad usage, 130 interrupted.
inline constexpr int kRetuneHolds = 0;
inline constexpr int kRetuneRetuned = 10;
inline constexpr int kRetuneRolledBack = 11;
inline constexpr int kRetuneDegraded = 12;

struct RetuneOptions {
  std::string profile;                // the profile to hold (written in place when re-tuned)
  std::string budget = "20m";         // wall clock for the whole run, search included
  std::optional<int> trials;          // cap on the search's trials
  double tolerance = 0.15;            // relative score loss that counts as a regression
  std::string study_path;             // empty: STATE_DIR/studies/retune-<UTC>.sqlite
  std::uint64_t seed = 1;
  int baseline_rounds = 3;
  std::optional<int> confirm_rounds;  // unset: the search's default for the budget (default_confirm_rounds)
  bool second_look = true;            // false (--one-look): the confirmation decides once (SearchOptions::second_look)
  std::optional<int> duration_s;      // overrides the profile's objective duration
  std::string wgopt_exe = "/proc/self/exe";
  bool watchdog = true;
  bool quiet = false;
  // This host's own iperf3 server (`--peer`, or PEER= in /etc/wgopt/retune.env through the timer's
  // EnvironmentFile): measured against instead of the peer the profile's evidence names, so each
  // host of a fleet retunes against its own. Empty: the profile's plant.
  std::string peer;
  std::optional<int> port;            // with peer: its iperf3 port (default: the profile's, else 5201)
  // --ssh [USER@]HOST: a both-ends profile (`wgopt search --ssh`) is held on both ends: the peer's
  // own wgopt runs as the agent, the peer's part is gated against the peer's facts (refused unless
  // `force`), checked for drift against the peer's kernel values and re-searched the way the
  // profile records (peer.host.mode: mirrored or per-end; peer.host.interfaces: the peer's names).
  std::optional<peer::SshOptions> ssh;
  bool force = false;
};

// The search options for a retune of `profile` (loaded from options.profile). Throws UsageError
// naming the profile and the fix when its evidence lacks the plant or the objective (a profile not
// written by `wgopt search`), or names no knobs, or when options.peer is not an address or host name.
// With options.peer the plant is that peer, reached from the namespace the profile's plant names
// (a testbed profile: its client namespace P-cli; a peer profile: its netns, else the host).
// With options.ssh the profile must hold a `peer:` part (UsageError naming the fix otherwise) and
// the peer's knobs join the space as the search that wrote it had them.
SearchOptions retune_search_options(const RetuneOptions& options, const act::Profile& profile);

// 0 / 10 / 11 / 12 for holds / retuned / rolled-back / degraded; 130 interrupted; 1 otherwise.
int retune_exit_code(SearchOutcome outcome);

// One line for logs and mail: "wgopt retune: holds: score 612.3 (recorded 598.1, +2.4%), 0 trials, 31s".
std::string retune_summary(const SearchReport& report);

// `wgopt retune --json`: the search report's JSON plus what a retune found: the knobs that drifted
// and were put back ("ID: HOST -> PROFILE", as the text output lists them), the recorded score, whether
// it regressed, a kernel change, the warm-start trials and the exit code.
nlohmann::json retune_json(const SearchReport& report);

// node_exporter textfile collector format (# HELP / # TYPE, gauges and counters, labelled with the
// profile path). `previous` is the file's earlier content (empty if none): the counters
// (wgopt_retune_runs_total, wgopt_retune_regressions_rolled_back_total, wgopt_retune_trials_total)
// continue from it. `now` is the Unix time of this run.
// A run that failed (exit 1: the peer unreachable, a tool missing) is written too, `report` null:
// its timestamp, outcome "error" and wgopt_retune_failures_total, no measurement (found by an
// exploratory test: a failing nightly run left the last good run's file as it was).
std::string retune_metrics(const SearchReport* report, const std::string& profile, double now, const std::string& previous);

}  // namespace wgopt::experiments

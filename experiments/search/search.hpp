#pragma once
// `wgopt search`: the closed loop. Discover the knobs -> build the space -> snapshot and measure the
// baseline (several rounds, to learn the noise) -> until the budget is spent: ask the engine for a
// candidate, apply it in a transaction (the watchdog armed), check the tunnel is alive (full-size
// don't-fragment ping and a recent handshake), settle, measure with the probes on and early
// stopping, score, tell the engine, restore the baseline -> confirm the recommended candidate
// against the baseline interleaved -> persist (SQLite study, YAML profile with evidence) -> leave
// the host on the confirmed winner (or exactly as found with no_apply, on Ctrl-C, on an error).
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/peer/ssh_transport.hpp"
#include "experiments/search/progress.hpp"
#include "experiments/study/search_outcome.hpp"

namespace wgopt::experiments {

struct SearchOptions {
  // The plant: the built-in testbed (both ends tuned alike: two hosts of one SKU), or a peer
  // running `iperf3 -s` reached from this host (or from network namespace `netns`).
  bool testbed = false;
  std::string testbed_prefix = "wgopt";
  std::string peer;
  int port = 5201;
  std::string netns;
  std::vector<std::string> interfaces;  // peer mode: interfaces whose knobs are searched (default: all)
  // Peer mode over SSH (experiments/search/remote_end.hpp): the peer's own wgopt runs as an agent
  // and the peer's knobs are searched too. peer_interfaces: the peer's counterparts of `interfaces`
  // (index-aligned; default: the same names). per_end: each end's knobs are their own parameters.
  std::optional<peer::SshOptions> ssh;
  std::vector<std::string> peer_interfaces;
  bool per_end = false;

  // The space.
  std::vector<std::string> include;  // id patterns (`*` wildcard); empty: every searchable knob
  std::vector<std::string> exclude;
  bool allow_global = false;          // host-wide sysctls and irqbalance
  bool allow_underlay_mtu = false;
  // Other tuners (experiments/search/other_tuners.hpp): IRQ affinity is searched while irqbalance
  // runs only with this: irqbalance is stopped for the search (journaled, Held) and started again
  // at its end, by `wgopt rollback`, or by crash recovery.
  bool stop_irqbalance = false;
  std::string space_file;             // range overrides
  std::string objective_file;         // empty: the defaults (experiments/objective.hpp)
  std::string objective_text;         // the objective as YAML text (retune: the profile's); wins over the file
  std::optional<int> duration_s;      // overrides the objective's duration
  // Seconds per scenario of a screening measurement: every new candidate is measured this long,
  // while the baseline rounds, the re-measurements of top candidates and the confirmation measure
  // the full duration. 0: off (every trial full length); unset: screen_seconds_for(duration).
  std::optional<int> screen_s;

  // The engine and the budget.
  std::string strategy = "bo";
  std::uint64_t seed = 1;
  std::string budget;                 // "5m", "2h"; empty: only the trial cap
  std::optional<int> trials;
  int baseline_rounds = 3;
  // The confirmation's rounds; unset: policies.hpp default_confirm_rounds (4, more when the winner's
  // simplification plans several checks). SearchPlan::confirm_rounds is what the search uses.
  std::optional<int> confirm_rounds;
  // The most simplification checks (--max-checks); unset: SearchPlan::max_checks' default.
  std::optional<int> max_checks;
  // A confirmation that does not promote a positive gain looks again after more rounds when the
  // time left holds them, each look at half the error rate (confirm_winner); false: one look.
  bool second_look = true;
  std::chrono::milliseconds settle{1000};
  bool prune = true;
  // After a promoting confirmation, return the changes the model says do not contribute to the
  // host's value and keep that simpler winner when the plant agrees (winner_simplification.hpp).
  bool simplify = true;

  // Persistence and end state.
  std::string study_path;             // empty: STATE_DIR/studies/study-<UTC>.sqlite
  std::string profile_path;           // empty: next to the study, .yaml
  std::string resume;                 // continue this study file
  bool no_apply = false;              // restore the original at the end even if a winner holds
  std::string sku;                    // SKU string for the profile's host facts (default: DMI)
  std::string wgopt_exe = "/proc/self/exe";  // the watchdog's binary
  bool watchdog = true;

  bool quiet = false;                 // no progress line

  // Retune mode (`wgopt retune`, experiments/retune.hpp): the profile at retune_profile is the
  // desired state. Its knobs are the space; knobs that drifted from it are put back (kept, like
  // `wgopt apply`) before the baseline rounds; if the baseline still scores within
  // `retune_tolerance` of the profile's recorded evidence and the kernel is the one it was made on,
  // the run ends there with no trials. Otherwise the search runs (warm-started from the profile's
  // study) and a confirmed winner replaces the profile (the old one is kept as PROFILE.prev).
  std::string retune_profile;
  double retune_tolerance = 0.15;
  // Retune over --ssh of a both-ends profile: its `peer:` part is gated against the peer's facts
  // (the agent's hello) before anything changes; a mismatch is refused unless this is set.
  bool retune_force = false;
  // A study whose trials prime the engine before the first ask (not counted against the budget;
  // trials whose values are outside today's domains are skipped).
  std::string warm_start;
};

struct SearchReport {
  SearchOutcome outcome = SearchOutcome::NoTrials;  // Promoted, KeptBaseline, NoTrials, Interrupted or PeerLost (--ssh)
  std::string study_path, profile_path;
  std::string ssh_target;  // --ssh, given or the resumed study's: the peer's [USER@]HOST ("": one end)
  int trials = 0, complete = 0, pruned = 0, failed = 0, infeasible = 0;  // this run's
  int outages = 0;  // besides those: trials voided by an outage outside wgopt (not counted in trials or failed)
  int stalls = 0;   // of the outages: voided for a stall under their values with the path up, and measured again
  int rounds_voided = 0;  // baseline, confirmation and simplification measurements voided by one and measured again
  int resumed_trials = 0;  // --resume: the study's trials before this run
  double baseline_score = 0, winner_score = 0, gain_pct = 0;
  std::string confirmation;   // the confirmation's reason line
  double pruning_saved_s = 0; // measurement time early stopping saved, against full measurements of the same trials
  double screening_saved_s = 0;  // ... and screening (shorter measurements of new candidates) saved
  double measured_s = 0;      // measurement time the trials took (full ones: measured_s + both savings)
  double elapsed_s = 0;
  bool applied = false;       // the host is on the winner now
  std::string table;          // the §7.1 table, text
  std::vector<std::string> changed;  // "wgopt-wc/mtu: 1280 -> 1420, contributes +120.5 (95% ...)"
  std::vector<std::string> returned; // changes the simplification returned to the host's value
  bool changes_tabled = false;       // `table` lists `changed` and `returned` with their estimates
  std::string simplification;        // its one line (empty: it did not run)
  bool simplification_interrupted = false;  // Ctrl-C stopped it: the profile is written, the winner not applied
  bool apply_interrupted = false;     // Ctrl-C while the confirmed winner was applied for good: rolled back, the profile written
  std::string apply_hint;            // after either: the command(s) that apply the profile (empty: the testbed's, none)
  bool unapplied_winner = false;     // the peer was lost during the final apply: the profile holds the winner, not applied (apply_hint)
  std::string withdrawn;             // the confirmed winner did not stay: what became of the profile and the study (final_apply.hpp)
  std::string support;               // what the kept changes rest on (support_line; empty: none kept)
  double baseline_throughput_mbps = 0;  // mean over the baseline rounds
  double winner_throughput_mbps = 0;    // mean over the winner's confirmation rounds (0: none)

  // Retune mode: Holds, Retuned, RolledBack or Degraded in `outcome`, and why.
  std::vector<std::string> drifted;  // profile knobs the host had moved away from: "ID: HOST -> PROFILE"
  std::string kernel_was, kernel_now; // set when the kernel is not the one the profile was made on
  double recorded_score = 0;         // the profile's evidence: the score it should reach
  bool regressed = false;            // baseline below recorded_score * (1 - tolerance)
  int warm_trials = 0;               // trials replayed from the warm-start study
  // --ssh: what happened to the peer's session ("trial 3: peer lost (...); reconnected ..."), in order.
  std::vector<std::string> peer_events;
  // Knobs a candidate's rollback could not put back (someone else changed them meanwhile, their
  // interface was made again, a write failed), one line each: not on their original values.
  std::vector<std::string> left_alone;
  nlohmann::json to_json() const;
};

// Runs the whole search. `interrupted` is set by the caller's SIGINT/SIGTERM handler: the loop
// stops at once, restores the original values and returns outcome Interrupted. Throws UsageError
// for bad options (before anything changes) and Error for failures (the host is restored first).
SearchReport run_search(const SearchOptions& options, const std::atomic<bool>& interrupted);
// The same with every seam to the outside world given (experiments/search_env.hpp).
struct SearchEnv;
SearchReport run_search(const SearchOptions& options, const std::atomic<bool>& interrupted, const SearchEnv& env);

}  // namespace wgopt::experiments

// `wgopt retune --profile P`: the nightly job (experiments/retune.hpp).
#include <unistd.h>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <spdlog/spdlog.h>
#include <sstream>

#include "actuators/lock.hpp"
#include "actuators/profile.hpp"
#include "cli/interrupt.hpp"
#include "cli/registry.hpp"
#include "cli/ssh_cli.hpp"
#include "common/error.hpp"
#include "common/exec.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "experiments/search/host_gate.hpp"
#include "experiments/search/retune.hpp"
#include "experiments/search/retune_boot_files.hpp"
#include "experiments/search/retune_wait.hpp"
#include "experiments/search/search_plan.hpp"
#include "experiments/study/study_store.hpp"

namespace {

namespace ex = wgopt::experiments;

// A unit file written or removed on the running system (ROOT /, systemd running): systemd reloads
// them, or it keeps running the old ones (a removed unit stays loaded, a rewritten one is warned about).
void reload_systemd(const ex::BootFilesUpdate& u) {
  if (!u.units_changed || u.root != "/" || !std::filesystem::exists("/run/systemd/system")) return;
  wgopt::ProcessRunner runner;
  const auto r = runner.run({.argv = {"systemctl", "daemon-reload"}, .timeout = std::chrono::seconds(60)});
  if (r.ok()) {
    std::cerr << "wgopt retune: reloaded systemd (systemctl daemon-reload)\n";
  } else {
    std::cerr << "wgopt: warning: the units changed but `systemctl daemon-reload` failed (" << r.brief()
              << "): run it now: until then systemd runs the old units\n";
  }
}

// After a re-tune replaced the profile: renders its boot files again. 1 when they could not all be
// rewritten (said on stderr with the fix), else 0.
int rewrite_boot_files(const std::string& profile) {
  try {
    const auto u = ex::update_boot_files(profile);
    for (const auto& w : u.written) std::cerr << "wgopt retune: rewrote " << w << "\n";
    for (const auto& w : u.removed) std::cerr << "wgopt retune: removed " << w << " (the new profile has nothing for it to hold)\n";
    for (const auto& w : u.disabled) std::cerr << "wgopt retune: removed " << w << " (the enablement link of a removed unit)\n";
    for (const auto& w : u.enabled) std::cerr << "wgopt retune: enabled " << w << " (a unit written anew)\n";
    reload_systemd(u);
    if (!u.kept.empty()) std::cerr << "wgopt retune: the previous boot files are in " << profile << ".prev-files/\n";
    if (!u.note.empty()) std::cerr << "wgopt retune: boot files: " << u.note << "\n";
    return 0;
  } catch (const wgopt::Error& e) {
    std::cerr << "wgopt: error: the profile was replaced but its boot files were not all rewritten: " << e.what()
              << "; re-export it (`wgopt export " << profile << " --format all`) before the next reboot\n";
    return 1;
  }
}

// The result on stdout: JSON, or the table, what moved and the one-line summary.
void print_result(const ex::SearchReport& report, const ex::RetuneOptions& r, bool json) {
  if (json) {
    std::cout << ex::retune_json(report).dump(2) << "\n";
    // A run that stopped early says so on stderr too, as `search` does (found by an exploratory
    // test: with --json an interrupted retune said nothing there).
    if (report.outcome == ex::SearchOutcome::Interrupted || report.outcome == ex::SearchOutcome::PeerLost) {
      std::cerr << ex::retune_summary(report) << "\n";
    }
    return;
  }
  if (!r.quiet) {
    std::cout << "\n" << report.table;
    for (const auto& d : report.drifted) std::cout << "  put back: " << d << "\n";
    for (const auto& c : report.changed) std::cout << "  re-tuned: " << c << "\n";
    std::cout << report.confirmation << "\nstudy:   " << report.study_path << "\n";
    if (!report.profile_path.empty()) std::cout << "profile: " << report.profile_path << "\n";
  }
  std::cout << ex::retune_summary(report) << "\n";
}

// `wgopt retune --help`: what the nightly job does, its exits and examples.
constexpr const char* kRetuneDescription =
    "The nightly job: check that a profile still holds on this host and act when it does not.\n\n"
    "1. The profile's knobs that drifted on the host (changed by someone or something) are put back.\n"
    "2. The host is measured on the profile's plant with the profile's objective (3 rounds).\n"
    "3. If the kernel is the one the profile was made on and the score is within --tolerance of the\n"
    "   profile's recorded evidence, that is all. Otherwise a short search over the profile's knobs,\n"
    "   warm-started from the profile's study, looks for a better configuration; a winner replaces the\n"
    "   profile only if it beats it in the interleaved confirmation (the old one is kept as P.prev).\n\n"
    "Before anything, the profile's host facts are compared with this host's (`wgopt facts --profile P`):\n"
    "a host of another kind is refused (exit 2) naming each differing fact, unless --force.\n"
    "The peer measured against is this host's own when --peer (or WGOPT_RETUNE_PEER, which the timer\n"
    "reads from /etc/wgopt/retune.env) names one, else the profile's. A busy iperf3 server (another\n"
    "host measuring) is waited for with jittered exponential backoff within the budget.\n"
    "When a re-tune replaces the profile, the exported boot files listed in boot-files.yaml next to\n"
    "it (ROOT/etc/wgopt/: sysctl.d, the units and script, the .link, TuneD's child profile, NetBird's\n"
    "NB_MTU) are rendered again from the new profile, all or none, the old ones kept in P.prev-files/;\n"
    "one the new profile leaves nothing to hold (no sysctl knob, no tunnel MTU) is removed.\n\n"
    "A both-ends profile (`wgopt search --ssh`) is held on both ends with --ssh [USER@]HOST (or\n"
    "WGOPT_RETUNE_SSH): the peer's own wgopt runs as the agent over ssh, the profile's peer: part is\n"
    "gated against the peer's facts (refused unless --force), the peer's drifted knobs are put back\n"
    "through its own journal, its kernel counts like this host's, a re-tune searches both ends again\n"
    "(mirrored or per-end, as the profile records) and the new profile keeps its peer: part. The peer\n"
    "needs the same wgopt version and iperf3. Without --ssh only this host's part is held and the\n"
    "peer: part is kept as it is.\n\n"
    "Exit codes: 0 holds, 10 re-tuned (new profile applied and written), 11 drifted knobs rolled back\n"
    "and the score holds, 12 degraded (slower than the evidence and nothing better confirmed, drift or\n"
    "not: look at the host), 1 error (the host is restored), 2 bad usage (nothing changed),\n"
    "130 interrupted.\n\n"
    "Examples:\n"
    "  wgopt retune --profile /etc/wgopt/profile.yaml\n"
    "  wgopt retune --profile p.yaml --budget 10m --metrics /var/lib/prometheus/node-exporter/wgopt.prom\n"
    "  wgopt retune --profile both.yaml --ssh root@10.0.0.2      # both ends, the peer through its agent\n"
    "  wgopt export p.yaml --format timer --out /etc/systemd/system    # run it nightly";

// Refuses a --metrics path whose directory does not exist (before anything is measured).
void check_metrics_path(const std::string& metrics) {
  auto dir = std::filesystem::path(metrics).parent_path();
  if (!dir.empty() && !std::filesystem::is_directory(dir)) {
    throw wgopt::UsageError(fmt::format("--metrics {}: directory {} does not exist: create it or pick another path", metrics,
                                        dir.string()));
  }
  // A directory given as the file (found by an exploratory test: the run measured, then failed
  // writing it, and its result was lost).
  if (std::filesystem::is_directory(metrics)) {
    throw wgopt::UsageError(fmt::format("--metrics {} is a directory: give the file to write in it, e.g. {}/wgopt.prom",
                                        wgopt::one_line(metrics, 200), wgopt::one_line(metrics, 200)));
  }
}

// The facts gate, where the search measures (the testbed's client namespace, or --netns).
void gate_host_facts(const ex::SearchOptions& options, const wgopt::act::Profile& profile, const std::string& path, bool force) {
  const wgopt::Place place = options.testbed ? wgopt::Place::netns(options.testbed_prefix + "-cli")
                             : options.netns.empty() ? wgopt::Place::host()
                                                     : wgopt::Place::netns(options.netns);
  auto runner = wgopt::default_runner();
  ex::require_matching_host(ex::check_host_facts(profile, path, place, *runner), path, force);
}

// The run's Prometheus textfile: node_exporter reads the directory at any moment, so never half a
// file (temp name + rename).
// `report` null: the run failed.
void write_metrics(const std::string& metrics, const ex::SearchReport* report, const std::string& profile) {
  std::string previous;
  if (auto p = wgopt::read_file(metrics)) previous = *p;
  wgopt::write_file_atomic(metrics, ex::retune_metrics(report, profile, ex::unix_now(), previous));
}

void setup_retune(CLI::App& root, wgopt::cli::Context& ctx) {
  auto r = std::make_shared<ex::RetuneOptions>();
  auto trials = std::make_shared<int>(0);
  auto duration = std::make_shared<std::string>();
  auto confirm_rounds = std::make_shared<int>(0);
  auto one_look = std::make_shared<bool>(false);
  auto tolerance_pct = std::make_shared<double>(15);
  auto metrics = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto no_watchdog = std::make_shared<bool>(false);
  auto force = std::make_shared<bool>(false);
  auto port = std::make_shared<int>(0);
  auto ssh = std::make_shared<wgopt::cli::SshCliOptions>();
  auto* cmd = root.add_subcommand("retune", kRetuneDescription);
  cmd->add_option("--profile", r->profile, "profile written by `wgopt search` (or an earlier retune)")->required();
  cmd->add_option("--budget", r->budget, "wall-clock budget for the whole run, search included")->capture_default_str();
  auto* trials_opt = cmd->add_option("--trials", *trials, "cap on the search's trials (1 or more)");
  cmd->add_option("--tolerance", *tolerance_pct, "score loss against the evidence, in percent, that counts as a regression")
      ->capture_default_str();
  auto* duration_opt = cmd->add_option("--duration", *duration, "seconds per scenario measurement, 2..3600: 10, 30s, 1m (default: the profile's objective)");
  cmd->add_option("--baseline-rounds", r->baseline_rounds, "measurements of the host as it is")->capture_default_str();
  auto* confirm_opt = cmd->add_option("--confirm-rounds", *confirm_rounds,
                                      "interleaved profile/winner rounds before a re-tune is promoted (default as `wgopt search`'s "
                                      "for the --budget: 4, or 6 at 20-39 min and 8 from 40 min when the winner's simplification "
                                      "plans several checks; a second look after more rounds when the time left holds them, "
                                      "each look at 97.5%, unless --one-look)");
  cmd->add_flag("--one-look", *one_look,
                "decide the confirmation once, on its first rounds at 95%, even when the time left would hold a second look");
  cmd->add_option("--seed", r->seed, "random seed of the search")->capture_default_str()->check(wgopt::cli::not_negative());
  cmd->add_option("--study", r->study_path, "study file for this run (default /var/lib/wgopt/studies/retune-<UTC>.sqlite)");
  cmd->add_option("--metrics", *metrics, "write Prometheus textfile metrics here (node_exporter's textfile collector)");
  cmd->add_option("--peer", r->peer, "this host's own iperf3 server (mesh address) instead of the profile's")
      ->envname("WGOPT_RETUNE_PEER");
  cmd->add_option("--port", *port, "with --peer: its iperf3 port (default 5201)")->envname("WGOPT_RETUNE_PORT");
  cmd->add_flag("--force", *force, "retune even when the profile's host facts differ from this host's (or, with --ssh, the peer's)");
  wgopt::cli::add_ssh_options(cmd, *ssh);
  cmd->get_option("--ssh")->envname("WGOPT_RETUNE_SSH");
  cmd->add_flag("--quiet", r->quiet, "no progress line");
  cmd->add_flag("--json", *json, "print the result as JSON on stdout (implies --quiet: no progress line on stderr)");
  cmd->add_flag("--no-watchdog", *no_watchdog, "do not start the guardian process (not recommended)")->group("");

  cmd->callback([=, &ctx] {
    if (trials_opt->count() > 0 && *trials < 1) {  // 0 read as "no cap" (found by an exploratory test)
      throw wgopt::UsageError(fmt::format("--trials {} is not a number of trials: give 1 or more, or leave it out", *trials));
    }
    if (*trials > 0) r->trials = *trials;
    // 0 or -5 refused (here or by the plan), not taken as "default"; the same text as search's
    if (duration_opt->count() > 0) r->duration_s = ex::measurement_seconds(*duration);
    if (confirm_opt->count() > 0) r->confirm_rounds = *confirm_rounds;
    r->second_look = !*one_look;
    if (!(*tolerance_pct >= 0 && *tolerance_pct < 100)) throw wgopt::UsageError("--tolerance must be 0..99 (percent)");
    r->tolerance = *tolerance_pct / 100.0;
    r->watchdog = !*no_watchdog;
    if (*json) r->quiet = true;
    if (!metrics->empty()) check_metrics_path(*metrics);
    auto profile = wgopt::act::load_profile(r->profile);
    const bool default_study = r->study_path.empty();
    // With the pid: two retunes started in the same second (two profiles, one timer) chose one name,
    // and the second failed after its whole wait (found by an exploratory test).
    if (default_study) {
      r->study_path = fmt::format("{}/studies/retune-{}-{}.sqlite", wgopt::act::state_dir(), wgopt::utc_stamp("%Y%m%d-%H%M%S"), ::getpid());
    }
    if (*port != 0 && (*port < 1 || *port > 65535)) {  // found by an exploratory test: 70000 was taken and measured with
      throw wgopt::UsageError(fmt::format("--port {} is not a port: use 1..65535", *port));
    }
    if (*port != 0) r->port = *port;
    auto so = wgopt::cli::ssh_options(*ssh);  // refuses an --ssh-* option without --ssh
    if (ssh->remote()) r->ssh = so;
    r->force = *force;
    if (profile.peer && !ssh->remote() && !r->quiet) {
      std::cerr << "wgopt retune: " << r->profile << " holds both ends; without --ssh only this host's part is held (its peer: "
                << "part is kept as it is)\n";
    }
    auto options = ex::retune_search_options(*r, profile);
    const auto& interrupted = wgopt::cli::install_interrupt_handlers();
    ex::SearchReport report;
    try {
      gate_host_facts(options, profile, r->profile, *force);
      // Only once the input holds: a bad profile is exit 2, whatever the state dir (it was exit 1,
      // "cannot create state dir", as a user who may not write there; found by an exploratory test).
      if (default_study) wgopt::act::ensure_dir(wgopt::act::state_dir() + "/studies");
      report = ex::run_retune_with_backoff(options, ex::BusyBackoff{}, ex::default_retune_wait_env(interrupted), interrupted);
    } catch (const wgopt::UsageError&) {
      throw;  // bad input (a profile for another host too) changed nothing and ran nothing: no run to record
    } catch (const std::exception& e) {
      // A signal that ended it (the timer stopped at shutdown) is an interrupted run, not a
      // failure (found in review: it counted as one).
      ex::SearchReport stopped;
      stopped.outcome = ex::SearchOutcome::Interrupted;
      const bool cancelled = dynamic_cast<const wgopt::Cancelled*>(&e) != nullptr;
      if (!metrics->empty()) {
        try {
          write_metrics(*metrics, cancelled ? &stopped : nullptr, r->profile);
        } catch (const std::exception& werr) {
          spdlog::warn("cannot write the metrics of this failed run to {}: {}", *metrics, werr.what());  // the run's error matters more
        }
      }
      throw;
    }
    const int boot_files_failed = report.outcome == ex::SearchOutcome::Retuned ? rewrite_boot_files(r->profile) : 0;
    if (!metrics->empty()) write_metrics(*metrics, &report, r->profile);
    print_result(report, *r, *json);
    ctx.exit_code = boot_files_failed ? 1 : ex::retune_exit_code(report.outcome);
  });
}

}  // namespace

WGOPT_COMMAND(65, setup_retune);

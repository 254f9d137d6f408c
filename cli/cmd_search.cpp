// `wgopt search`: the closed loop (experiments/search.hpp).
#include <atomic>
#include <fmt/format.h>
#include <iostream>

#include "cli/interrupt.hpp"
#include "cli/registry.hpp"
#include "cli/ssh_cli.hpp"
#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/search/search.hpp"
#include "experiments/search/search_plan.hpp"
#include "experiments/search/search_summary.hpp"

namespace {

// --sku becomes the profile's host.sku and the paths its evidence and every export header name, so
// they are checked before anything runs (issue 14): one line, exit 2, nothing changed. Exports
// encode such text anyway (experiments/export/export_escape.hpp); this keeps it out of profiles.
constexpr size_t kMaxSku = 128;
const char* kSkuChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ._:/()+,-";

void check_text_options(const wgopt::experiments::SearchOptions& o) {
  // Blank is refused too: the profile records it trimmed, and an empty fact is refused when read
  // (found in review: --sku "   " wrote a profile its own export refused).
  if (!o.sku.empty() && wgopt::trim(o.sku).empty()) {
    throw wgopt::UsageError("--sku is blank: give the VM's SKU (e.g. Standard_D4s_v5), or leave it out to read it from DMI");
  }
  if (!o.sku.empty() && (o.sku.size() > kMaxSku || o.sku.find_first_not_of(kSkuChars) != std::string::npos)) {
    throw wgopt::UsageError(fmt::format("--sku '{}' is not a plain SKU: use up to {} characters of letters, digits, space and ._:/()+,-",
                                        wgopt::one_line(o.sku, 80), kMaxSku));
  }
  for (const auto& [option, path] : {std::pair{"--study", &o.study_path}, {"--profile", &o.profile_path}, {"--resume", &o.resume}}) {
    if (!wgopt::is_one_line(*path)) {
      throw wgopt::UsageError(fmt::format("{} '{}' has a control character or bytes that are not UTF-8: use a path of printable characters",
                                          option, wgopt::one_line(*path, 200)));
    }
    if (path->size() >= 4096) {
      throw wgopt::UsageError(fmt::format("{} is {} bytes long: use a path under 4096 bytes", option, path->size()));
    }
  }
}

// The flags that are not SearchOptions fields as typed; options_from_flags turns them into those.
struct SearchFlags {
  std::string knobs, exclude;
  bool json = false, no_prune = false, keep_whole = false, no_watchdog = false, one_look = false;
  std::string duration;  // "10", "30s", "1m"
  int settle_ms = 1000, screen = 0, trials = 0, confirm_rounds = 0, max_checks = 0;
  CLI::Option* screen_opt = nullptr;  // given or not: 0 means off, absent means the default length
  CLI::Option* confirm_opt = nullptr;  // absent: the rounds the budget plans (default_confirm_rounds)
  CLI::Option* duration_opt = nullptr;  // absent: the objective's (0 or -5 given are refused, not the default)
  CLI::Option* trials_opt = nullptr;    // given: at least 1 (0 read as "no cap" until an exploratory test found it)
  CLI::Option* checks_opt = nullptr;    // absent: SearchPlan::max_checks' default
  CLI::Option* knobs_opt = nullptr;     // given empty: refused (it read as "all knobs")
  CLI::Option* exclude_opt = nullptr;
  CLI::Option* study_opt = nullptr;     // with --resume: refused (the resumed study is --resume's)
  wgopt::cli::SshCliOptions ssh;
};

// Every check of the command line, before anything runs: a UsageError names the option and the fix.
void options_from_flags(const SearchFlags& f, wgopt::experiments::SearchOptions& o) {
  check_text_options(o);
  for (const auto& [opt, text] : {std::pair{f.knobs_opt, &f.knobs}, {f.exclude_opt, &f.exclude}}) {
    if (opt->count() > 0 && wgopt::trim(*text).empty()) {
      throw wgopt::UsageError(fmt::format("{} is empty: give knob ids or patterns (see `wgopt knobs`), or leave it out{}",
                                          opt->get_name(), opt == f.knobs_opt ? " to search every writable knob" : ""));
    }
  }
  if (!o.resume.empty() && f.study_opt->count() > 0) {
    throw wgopt::UsageError("--study and --resume both name the study: a resumed search writes to the study it resumes; drop "
                            "--study (or start a new search with --study)");
  }
  o.include = wgopt::split(f.knobs, ',');
  if (f.knobs.empty()) o.include.clear();
  o.exclude = f.exclude.empty() ? std::vector<std::string>{} : wgopt::split(f.exclude, ',');
  if (f.duration_opt->count() > 0) o.duration_s = wgopt::experiments::measurement_seconds(f.duration);
  if (f.settle_ms < 0 || f.settle_ms > 600000) {
    throw wgopt::UsageError(fmt::format("--settle-ms {} is out of range: use 0..600000 (milliseconds)", f.settle_ms));
  }
  if (f.screen_opt->count() > 0) {
    if (f.screen < 0) throw wgopt::UsageError(fmt::format("--screen {} is negative: give seconds, or 0 to measure every trial at full length", f.screen));
    o.screen_s = f.screen;
  }
  if (f.confirm_opt->count() > 0) o.confirm_rounds = f.confirm_rounds;
  if (f.trials_opt->count() > 0 && f.trials < 1) {
    throw wgopt::UsageError(fmt::format("--trials {} is not a number of trials: give 1 or more, or leave it out to let --budget "
                                        "bound the search",
                                        f.trials));
  }
  if (f.trials > 0) o.trials = f.trials;
  if (f.checks_opt->count() > 0) {
    if (f.max_checks < 1 || f.max_checks > wgopt::experiments::kMaxSimplificationChecks) {
      throw wgopt::UsageError(fmt::format("--max-checks {} is out of range: use 1..{}, or --keep-whole-winner for none", f.max_checks,
                                          wgopt::experiments::kMaxSimplificationChecks));
    }
    if (f.keep_whole) throw wgopt::UsageError("--max-checks and --keep-whole-winner: the whole winner is kept without checks; drop one");
    o.max_checks = f.max_checks;
  }
  if (o.budget.empty() && !o.trials && o.resume.empty()) {
    throw wgopt::UsageError("give a budget: --budget 5m (wall clock) and/or --trials N");
  }
  auto so = wgopt::cli::ssh_options(f.ssh);  // refuses an --ssh-* option without --ssh
  if (f.ssh.remote()) o.ssh = so;
  o.prune = !f.no_prune;
  o.simplify = !f.keep_whole;
  o.second_look = !f.one_look;
  o.watchdog = !f.no_watchdog;
  o.settle = std::chrono::milliseconds(f.settle_ms);
  if (f.json) o.quiet = true;
}

// The search, its summary (or --json) on stdout, and the exit code of a lost peer or a Ctrl-C.
void run_and_print(const wgopt::experiments::SearchOptions& o, bool json, wgopt::cli::Context& ctx) {
  const auto& interrupted = wgopt::cli::install_interrupt_handlers();
  auto report = wgopt::experiments::run_search(o, interrupted);
  if (json) {
    std::cout << report.to_json().dump(2) << "\n";
  } else {
    std::cout << wgopt::experiments::search_summary(report);
  }
  // The knobs a trial's rollback left as it found them are not on their original values.
  const std::string except = report.left_alone.empty() ? "" : fmt::format(" (but {} knob(s) left as found)", report.left_alone.size());
  if (report.outcome == wgopt::experiments::SearchOutcome::PeerLost) {
    std::cerr << "wgopt: search ended: " << report.confirmation << "; this host is on its original values" << except
              << (report.unapplied_winner ? "; the confirmed winner is written to " + report.profile_path + ", not applied"
                                          : "; continue with --resume " + report.study_path)
              << "\n";
    ctx.exit_code = 1;
  }
  if (const std::string late = wgopt::experiments::late_signal_line(report, interrupted); !late.empty()) {
    std::cerr << late << "\n";
    ctx.exit_code = 130;
  }
  if (report.apply_interrupted) {  // rolled back; the profile and the study's result stand
    std::cerr << "wgopt: search interrupted while the confirmed winner was applied for good: it was rolled back, original values "
              << "restored" << except << "; the winner is written to " << report.profile_path << "\n";
    ctx.exit_code = 130;
  }
  if (report.simplification_interrupted) {  // the confirmation promoted: its winner is in the profile
    std::cerr << "wgopt: search interrupted during the winner's simplification: the winner, as the checks before it left it, is "
              << "written to " << report.profile_path << ", not applied; original values restored" << except << "\n";
    ctx.exit_code = 130;
  }
  if (report.outcome == wgopt::experiments::SearchOutcome::Interrupted) {
    std::cerr << "wgopt: search interrupted: original values restored" << except << "; continue with --resume " << report.study_path
              << "\n";
    ctx.exit_code = 130;
  }
}

void setup_search(CLI::App& root, wgopt::cli::Context& ctx) {
  auto o = std::make_shared<wgopt::experiments::SearchOptions>();
  auto f = std::make_shared<SearchFlags>();
  auto* cmd = root.add_subcommand(
      "search",
      "Find the best settings for this host's WireGuard path in a closed loop, confirm the winner against\n"
      "the baseline, persist it as a profile, and never leave the host worse than it was.\n\n"
      "Each trial applies a candidate in a transaction (originals journaled first), checks the tunnel with a\n"
      "full-size don't-fragment ping and the handshake, measures the objective's iperf3 scenarios with the\n"
      "probes on, scores it (throughput minus drop and CPU-imbalance penalties) and restores the baseline.\n"
      "A watchdog process restores the originals if wgopt dies or hangs with a candidate applied.\n\n"
      "Examples:\n"
      "  wgopt search --testbed --budget 10m                # the built-in two-namespace testbed\n"
      "  wgopt search --peer 100.64.0.1 --interfaces wt0,eth0 --budget 2h\n"
      "  wgopt search --peer 100.64.0.1 --ssh root@10.0.0.2 --budget 2h   # tunes BOTH ends: the peer's own wgopt\n"
      "                                                   # runs as an agent over ssh (its journal, its guardian)\n"
      "  wgopt search --testbed --knobs '*/mtu,*/offload/*' --trials 20 --duration 5\n"
      "  wgopt search --resume /var/lib/wgopt/studies/study-20261126-101500.sqlite\n\n"
      "Exit codes: 0 finished (a winner confirmed, or the baseline kept), 130 interrupted by Ctrl-C or SIGTERM\n"
      "(originals restored; continue with --resume, or, when the winner's simplification was stopped, its\n"
      "confirmed winner is in the profile), 1 error or the peer lost (--resume continues), 2 bad usage.");
  auto* plant = cmd->add_option_group("plant", "where to measure");
  plant->add_flag("--testbed", o->testbed, "use the built-in testbed (brought up if needed); both ends are tuned alike");
  plant->add_option("--prefix", o->testbed_prefix, "testbed name prefix")->capture_default_str();
  plant->add_option("--peer", o->peer, "mesh address of a peer running `iperf3 -s`; tunes this host");
  plant->add_option("--port", o->port, "the peer's iperf3 port")->capture_default_str();
  plant->add_option("--netns", o->netns, "run the client and tune inside this network namespace (peer mode)")
      ->check(wgopt::cli::not_empty("a namespace name"));
  plant->add_option("--interfaces", o->interfaces, "peer mode: interfaces whose knobs are searched (default: all)")->delimiter(',');
  plant->add_option("--peer-interfaces", o->peer_interfaces,
                    "with --ssh: the peer's counterparts of --interfaces, in the same order (default: the same names)")
      ->delimiter(',');
  plant->add_flag("--per-end", o->per_end,
                  "with --ssh: search each end's knobs separately (parameters peer:ID); default: one value drives both "
                  "ends when the hosts' CPU count and kernel match");
  wgopt::cli::add_ssh_options(cmd, f->ssh);
  auto* space = cmd->add_option_group("space", "what to search");
  f->knobs_opt = space->add_option("--knobs", f->knobs, "comma-separated knob ids or patterns to search ('*' wildcard; default: all writable)");
  f->exclude_opt = space->add_option("--exclude", f->exclude, "comma-separated knob ids or patterns to leave alone");
  space->add_flag("--allow-global", o->allow_global, "also search host-wide sysctls (netdev_*, rmem_max ...) and irqbalance");
  space->add_flag("--allow-underlay-mtu", o->allow_underlay_mtu, "also search the underlay's MTU (can cut the host off)");
  space->add_flag("--stop-irqbalance", o->stop_irqbalance,
                  "let wgopt stop a running irqbalance so IRQ affinity can be searched (journaled; started again at "
                  "the end, by `wgopt rollback`, or after a crash); without it such a search is refused");
  space->add_option("--space", o->space_file,
                    "YAML range overrides: knobs: {ID: {min: N, max: N, choices: [..]}}, min < max inside the "
                    "knob's domain (hold a knob with `wgopt set` + --exclude)");
  space->add_option("--objective", o->objective_file,
                    "YAML objective: scenarios and weights, penalties, duration (see experiments/study/objective.default.yaml)");
  f->duration_opt = space->add_option("--duration", f->duration, "seconds per scenario measurement, 2..3600: 10, 30s, 1m (overrides the objective; default 10)");
  f->screen_opt = space->add_option("--screen", f->screen,
                    "seconds per scenario of the screening measurement each new candidate gets; the baseline rounds, the "
                    "re-measurements of the top candidates and the confirmation measure the full --duration; the winner "
                    "simplification's checks measure this long too, never under half the duration, in more rounds; every "
                    "measurement's first second is left out of its score (iperf3 -O 1), so both lengths score the same "
                    "steady rate; 0: every trial and check at full length (default: half the duration when it is 6 s or "
                    "more, 5 of 10)");
  auto* eng = cmd->add_option_group("engine", "budget and strategy");
  eng->add_option("--budget", o->budget, "wall-clock budget, 1s..7d: 90s, 5m, 2h (the search never overruns it by more than one trial)");
  f->trials_opt = eng->add_option("--trials", f->trials, "cap on the number of trials (1 or more)");
  eng->add_option("--strategy", o->strategy, "bo (Bayesian, default), random or coordinate (one knob at a time)")->capture_default_str();
  eng->add_option("--seed", o->seed, "random seed (the engine is deterministic given the measurements)")->capture_default_str()->check(wgopt::cli::not_negative());
  eng->add_option("--baseline-rounds", o->baseline_rounds, "baseline measurements to learn the noise")->capture_default_str();
  f->confirm_opt = eng->add_option("--confirm-rounds", f->confirm_rounds,
                                   "interleaved baseline/winner rounds before promotion (default 4; when the winner's simplification "
                                   "plans several checks, whose gains over the baseline are all chained through the confirmation: 6 "
                                   "at a --budget of 20-39 min (with no --budget: trials of 20-39 min), 8 from 40 min, while the budget "
                                   "holds them; 4 "
                                   "with --keep-whole-winner; fewer, at least 3, if --budget has less time left: 2 rounds can hardly "
                                   "promote anything); when the budget's time left then holds 3 more, a first look that does not "
                                   "promote a positive gain is followed by as many more rounds as fit, up to as many again, and a "
                                   "second look on all of them, each look at 97.5% (--one-look: never)");
  eng->add_flag("--one-look", f->one_look,
                "decide the confirmation once, on its first rounds at 95%, even when the time left would hold a second look");
  eng->add_option("--settle-ms", f->settle_ms, "wait after applying a candidate before measuring")->capture_default_str();
  eng->add_flag("--no-prune", f->no_prune, "measure every candidate fully (no early stopping)");
  auto* out = cmd->add_option_group("output", "persistence and output");
  f->study_opt = out->add_option("--study", o->study_path, "study file (SQLite; default /var/lib/wgopt/studies/study-<UTC>.sqlite)");
  out->add_option("--profile", o->profile_path, "where to write the winning profile (default: next to the study, .yaml)");
  out->add_option("--resume", o->resume,
                  "continue this study after a crash or Ctrl-C, on the plant (with --ssh), knobs, --confirm-rounds, "
                  "--screen, --max-checks, --one-look, --keep-whole-winner and --no-prune it recorded (a plant or option given again "
                  "wins; the wall-clock budget counts anew; checked read-only first: a damaged or finished study is refused)");
  out->add_flag("--keep-whole-winner", f->keep_whole,
                "keep every change of a confirmed winner (default: changes the model says do not contribute go back to "
                "the host's value when a check on the plant, read with the model's estimate, finds the simpler winner beats "
                "the baseline and costs at most 5%; the model learns from each check and proposes again: one check per 10 min of "
                "--budget (with no --budget, of the capped trials' time), at most 12 (--max-checks); the first needs --budget 8m or "
                "more at 10 s measurements; time no proposal needs examines the changes the model credits least, which then carry "
                "the plant's measurement of their part)");
  f->checks_opt = out->add_option("--max-checks", f->max_checks,
                                  "the most checks the winner's simplification makes, 1..12 (default: as --keep-whole-winner says)");
  out->add_flag("--no-apply", o->no_apply, "restore the original values at the end even if a winner is confirmed");
  out->add_option("--sku", o->sku, "SKU string recorded in the profile (default: from DMI); letters, digits, space and ._:/()+,-");
  out->add_flag("--quiet", o->quiet, "no progress line");
  out->add_flag("--json", f->json, "print the result as JSON on stdout (implies --quiet: no progress line on stderr)");
  cmd->add_flag("--no-watchdog", f->no_watchdog, "do not start the guardian process (not recommended)")->group("");

  cmd->callback([=, &ctx] {
    if (!o->resume.empty() && (cmd->get_option("--strategy")->count() > 0 || cmd->get_option("--seed")->count() > 0)) {
      throw wgopt::UsageError("--strategy and --seed are the study's own when it is resumed (its model continues from its "
                              "trials): drop them, or start a new search");
    }
    options_from_flags(*f, *o);
    run_and_print(*o, f->json, ctx);
  });
}

}  // namespace

WGOPT_COMMAND(60, setup_search);

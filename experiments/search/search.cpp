// run_search: the closed loop as a pipeline of stages (each in its own file, named by what it does).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <iostream>

#include "actuators/restore.hpp"
#include "common/error.hpp"
#include "common/exec.hpp"
#include "common/util.hpp"
#include "experiments/search/baseline_rounds.hpp"
#include "experiments/search/confirmation_rounds.hpp"
#include "experiments/search/engine_priming.hpp"
#include "experiments/search/final_apply.hpp"
#include "experiments/search/other_tuners.hpp"
#include "experiments/search/outage.hpp"
#include "experiments/search/persist.hpp"
#include "experiments/peer/agent_client.hpp"
#include "experiments/search/plant_access.hpp"
#include "experiments/search/policies.hpp"
#include "experiments/search/remote_end.hpp"
#include "experiments/search/retune_stages.hpp"
#include "experiments/search/search.hpp"
#include "experiments/search/search_env.hpp"
#include "experiments/search/search_plan.hpp"
#include "experiments/search/search_progress.hpp"
#include "experiments/search/space_binding.hpp"
#include "experiments/search/study_open.hpp"
#include "experiments/search/trial_loop.hpp"
#include "experiments/search/winner_simplification.hpp"

namespace wgopt::experiments {

namespace {

// The pruner ignores a measurement's leading seconds; how many are ramp on this plant is measured
// on the baseline rounds (on a LAN-like path iperf3 is at speed within a second or two), never
// more than configured: every second it need not wait is a second a poor candidate is not measured.
void measure_warmup(const Objective& objective, const BaselineResult& baseline, PrunerOptions& pruner, SearchProgress& progress) {
  const int configured = pruner.warmup_seconds;
  pruner.warmup_seconds = measured_warmup(objective, baseline, configured);
  if (pruner.warmup_seconds < configured) {
    progress.say(fmt::format("early stopping: the baseline rounds reach their steady rate after {} s; the pruner skips "
                             "those, not {} s", pruner.warmup_seconds, configured));
  }
}

// The pruner decides only after its warm-up plus its first samples (one with the baseline's
// per-second noise known, min_samples without): a shorter measurement silently turns early stopping
// off, so say so (bench_search at --duration 4 saved 0 s).
void warn_if_pruning_cannot_act(const SearchOptions& o, const Objective& objective, const PrunerOptions& pruner,
                                const PruneReferences& refs) {
  bool known = pruner.known_noise_min_samples > 0 && !refs.empty();
  for (const auto& [name, ref] : refs) known = known && ref.per_second_sd_mbps > 0;
  const int samples = known ? pruner.known_noise_min_samples : pruner.min_samples;
  const int decide_s = pruner.warmup_seconds + samples;
  if (!o.prune || objective.duration.count() > decide_s) return;
  spdlog::warn("early stopping cannot act: it decides after {} s (warm-up {} s + {} samples) and each measurement lasts {} s; "
               "use --duration {} or more to let it stop poor candidates",
               decide_s, pruner.warmup_seconds, samples, objective.duration.count(), decide_s + 2);
}

// A testbed this search brought up goes down again when the search stops before measuring (its
// set-up refused the input, or another wgopt holds the host): bad input leaves the host as found.
class BroughtUpTestbed {
 public:
  BroughtUpTestbed(const SearchPlant& sp, bool quiet, std::string prefix) : sp_(sp), quiet_(quiet), prefix_(std::move(prefix)) {}
  BroughtUpTestbed(const BroughtUpTestbed&) = delete;
  BroughtUpTestbed& operator=(const BroughtUpTestbed&) = delete;
  ~BroughtUpTestbed() {
    if (kept_ || !sp_.take_down) return;
    try {
      sp_.take_down();
      if (!quiet_) std::cerr << "testbed " << prefix_ << " taken down again: this search brought it up and stopped before measuring\n";
    } catch (const std::exception& e) {
      spdlog::error("taking down testbed {} that this search brought up failed: {}; run `wgopt testbed down`", prefix_, e.what());
    }
  }
  void keep() { kept_ = true; }

 private:
  const SearchPlant& sp_;
  bool quiet_;
  std::string prefix_;
  bool kept_ = false;
};

// The set-up's steps. A signal during them (the testbed's bring-up takes seconds) ends the search
// before its study is made or opened (exit 130, Cancelled; found by an exploratory test: a study
// "interrupted" with no trial was left). A command the terminal's SIGINT killed meanwhile (ip,
// ethtool) fails with an error that is the signal's doing: said as the interruption (it was exit 1
// or 2, "interface 'xa-ws' does not exist").
class SetUp {
 public:
  SetUp(const std::atomic<bool>& interrupted, const SearchOptions& o) : interrupted_(interrupted), o_(o) {}
  template <class Step>
  decltype(auto) operator()(Step&& step) const {
    try {
      return step();
    } catch (const Cancelled&) {
      throw;
    } catch (const std::exception& e) {
      if (!interrupted_) throw;
      throw Cancelled(line(fmt::format(" (what it stopped: {})", one_line(e.what(), 200))));
    }
  }
  void check() const {
    if (interrupted_) throw Cancelled(line(""));
  }

 private:
  std::string line(const std::string& stopped) const {
    return fmt::format("a signal came during the set-up{}: nothing was measured, {}", stopped,
                       o_.resume.empty() ? "no study was made" : "study " + o_.resume + " is left as it was");
  }
  const std::atomic<bool>& interrupted_;
  const SearchOptions& o_;
};

std::string duration_label(const Objective& objective) { return fmt::format("{}s", objective.duration.count()); }

// Retune, when the profile holds: the study's result and the report, no trial run.
void finish_holding(const SearchOptions& o, const BaselineResult& baseline, const BoundSpace& bound, const RetuneCheck& check,
                    const Objective& objective, StudyStore& store, PlantAccess& plant, SearchReport& report) {
  report.outcome = bound.drifted.empty() ? SearchOutcome::Holds : SearchOutcome::RolledBack;
  report.confirmation = bound.drifted.empty()
                            ? "the profile holds: no knob drifted and the score is within the tolerance of its evidence"
                            : fmt::format("{} drifted knob(s) put back to the profile; the score is within the tolerance of its evidence",
                                          bound.drifted.size());
  report.winner_score = baseline.stats.mean;
  report.profile_path = o.retune_profile;
  Evidence evidence;
  evidence.recorded = check.recorded_score;
  evidence.score = baseline.stats.mean;
  evidence.drifted = bound.drifted;
  record_result(store, report, std::nullopt, bound.retune_values, evidence, plant.env().unix_time());
  plant.stop_guardian();
  // One row per end when the peer was measured (--ssh), as the search's table: the score charged
  // both ends' drops (found by an exploratory test: the peer's 18,608 UDP errors were not shown).
  report.table = comparison_table(end_rows("profile, now", baseline.averages), duration_label(objective)).render_text();
}

void count_trials(const TrialCounts& counts, SearchReport& report) {
  report.trials = counts.trials;
  report.complete = counts.complete;
  report.pruned = counts.pruned;
  report.failed = counts.failed;
  report.infeasible = counts.infeasible;
  report.outages = counts.outages;
  report.stalls = counts.stalls;
  report.pruning_saved_s = counts.pruning_saved_s;
  report.screening_saved_s = counts.screening_saved_s;
  report.peer_events = counts.peer_events;
  report.measured_s = counts.measured_s;
}

// The §7.1 table of the result: baseline and winner (one row per end when the peer was measured),
// then the kept and returned changes of the simplification.
std::string result_table(const ConfirmResult& conf, const Simplification& simp, const Objective& objective) {
  std::vector<ComparisonRow> rows = end_rows("baseline", conf.baseline_row);
  if (conf.winner_row.n > 0) {
    // A candidate the confirmation did not promote is no winner (`wgopt report` names it so; found by
    // an exploratory test).
    const std::string role = conf.promote ? "winner" : "candidate";
    const std::string label = conf.winner_trial      ? fmt::format("{} (trial {})", role, *conf.winner_trial)
                              : !simp.returned.empty() ? role + " (simplified)"
                                                       : role;
    for (auto& r : end_rows(label, conf.winner_row)) rows.push_back(std::move(r));
  }
  return comparison_table(rows, duration_label(objective)).render_text() + changes_table(simp);
}

// The first check's verdict on the profile turned by the confirmation's rounds, said in so many words:
// the run said "a regression beyond the 15% tolerance" and then ended "holds ... -10.9%" without a
// word between (found by an exploratory test).
std::string regression_redecided(const SearchReport& r, double tolerance, int measurements) {
  const double pct = r.recorded_score != 0 ? 100.0 * (r.baseline_score - r.recorded_score) / std::abs(r.recorded_score) : 0;
  return fmt::format("profile: the confirmation's {} measurements put it at {:+.1f}% of the recorded score: {} the {:.0f}% tolerance after all",
                     measurements, pct, r.regressed ? "beyond" : "within", 100 * tolerance);
}

// The report's numbers and outcome after confirmation.
void fill_outcome(const SearchOptions& o, const SearchPlan& plan, const BoundSpace& bound, const ConfirmResult& conf,
                  const Simplification& simp, SearchReport& report, SearchProgress& progress) {
  report.outcome = conf.outcome;
  report.confirmation = conf.reason;
  report.baseline_score = conf.baseline_score;
  report.winner_score = conf.winner_score;
  // The score is the confirmation's rounds: so is the throughput beside it (the retune's metrics file
  // showed the first rounds' rate while its table showed these, found by an exploratory test).
  // Only when they decided it: too few rounds leave the first rounds' score (found in review).
  if (conf.confirmed && conf.baseline_row.n > 0) report.baseline_throughput_mbps = conf.baseline_row.mean_throughput();
  if (plan.retune()) {
    // The confirmation measured the profile in more rounds than the first check: the regression is
    // decided again on them, so the outcome and the score the summary shows agree (found by an
    // exploratory test: "degraded ... profile now -5.3%" with a 15% tolerance, exit 12).
    if (conf.confirmed && plan.retune_evidence.recorded_score()) {
      const bool first = report.regressed;
      report.regressed = below_tolerance(report.recorded_score, conf.baseline_score, o.retune_tolerance);
      if (report.regressed != first) progress.say(regression_redecided(report, o.retune_tolerance, conf.baseline_row.n));
    }
    // A regression is the news, drift or not: drift put back and a host still slower exited 11,
    // which the nightly timer counts as success (found by the same test).
    report.outcome = conf.promote             ? SearchOutcome::Retuned
                     : report.regressed       ? SearchOutcome::Degraded
                     : !bound.drifted.empty() ? SearchOutcome::RolledBack
                                              : SearchOutcome::Holds;
  }
  report.gain_pct = report.baseline_score != 0 ? 100.0 * (report.winner_score - report.baseline_score) / std::abs(report.baseline_score) : 0;
  report.simplification = simp.reason;
  for (const auto& c : simp.returned) report.returned.push_back(change_line(c));
  if (!simp.kept.empty()) {
    for (const auto& c : simp.kept) report.changed.push_back(change_line(c));
    return;
  }
  if (!conf.promote) return;  // the ends keep what they held
  for (const auto& [id, v] : conf.winner) {
    if (!bound.unchanged(id, v)) report.changed.push_back(fmt::format("{}: {} -> {}", id, bound.start_text(id), v));
  }
}

// A signal ended the search: what was applied is rolled back already (AppliedCandidate).
// An error ends the search: the study says so (best effort: the error on its way out matters more).
void mark_failed(StudyStore& store) noexcept {
  try {
    store.set_status("failed");
  } catch (...) {
  }
}

// `name_profile`: the profile is this run's to name (written by it, or the one a retune holds).
void end_interrupted(const TrialCounts& counts, StudyStore& store, bool name_profile, SearchReport& report) {
  count_trials(counts, report);
  store.set_status("interrupted");
  report.outcome = SearchOutcome::Interrupted;
  if (!name_profile) report.profile_path.clear();  // never name a profile this run did not write
}

// The peer could not be reached again (or was lost outside a trial): the search ends, resumable.
void end_peer_lost(const peer::PeerLost& e, const TrialCounts& counts, StudyStore& store, bool result_stands, SearchReport& report) {
  count_trials(counts, report);
  if (!result_stands) store.set_status("interrupted");  // a search's result, recorded before the final apply, stands (final_apply.hpp)
  report.outcome = SearchOutcome::PeerLost;
  report.confirmation = std::string("the peer was lost: ") + e.what();
  if (report.peer_events.empty()) report.peer_events.push_back(report.confirmation);
}

// The profile's `peer:` part: the peer's values of the winner (--ssh); a retune without --ssh keeps
// the profile's own (the peer was not measured or changed).
std::optional<act::PeerProfile> peer_part(const RemoteEnd* remote, const SearchPlan& plan, const Values& winner) {
  if (remote) return remote->profile_part(winner);
  return plan.retune_profile ? plan.retune_profile->peer : std::nullopt;
}

// The command(s) that apply a written profile by hand: this end's, and the peer's part over ssh.
// The testbed has none (its ends are two namespaces a search applies alike).
std::string apply_hint(const SearchOptions& o, const std::string& profile) {
  if (o.testbed) return "";
  std::vector<std::string> here{"wgopt", "apply"};
  if (!o.netns.empty()) here.insert(here.end(), {"--netns", o.netns});
  here.push_back(profile);
  if (!o.ssh) return render_argv(here);
  const peer::SshOptions& s = *o.ssh;
  std::vector<std::string> peer{"wgopt", "apply", "--ssh", s.target};
  if (!s.identity.empty()) peer.insert(peer.end(), {"--ssh-identity", s.identity});
  if (!s.known_hosts.empty()) peer.insert(peer.end(), {"--ssh-known-hosts", s.known_hosts});
  for (const auto& opt : s.options) peer.insert(peer.end(), {"--ssh-option", opt});
  if (s.peer_wgopt != "wgopt") peer.insert(peer.end(), {"--peer-wgopt", s.peer_wgopt});
  peer.push_back(profile);
  return render_argv(here) + " and " + render_argv(peer);
}

}  // namespace

nlohmann::json SearchReport::to_json() const {
  // The host's own values kept (kept-baseline, holds, rolled-back): the "winner" is the baseline, its
  // throughput too (found by an exploratory test: "winner_throughput_mbps": 0.0 next to a
  // winner_score equal to the baseline's).
  const bool own_values = outcome != SearchOutcome::Promoted && outcome != SearchOutcome::Retuned && winner_score == baseline_score;
  const double winner_mbps = own_values && winner_throughput_mbps == 0 ? baseline_throughput_mbps : winner_throughput_mbps;
  // A search that ended early has no winner, and no baseline before its rounds were measured: null,
  // never 0 (found by an exploratory test: Ctrl-C after 15 minutes printed a baseline score of 0.0
  // that `wgopt report` showed as 245).
  const bool ended_early = outcome == SearchOutcome::Interrupted || outcome == SearchOutcome::PeerLost;
  const bool baseline_known = !ended_early || baseline_throughput_mbps > 0;
  auto known = [](bool is, double v) { return is ? nlohmann::json(v) : nlohmann::json(); };
  nlohmann::json j = {{"outcome", to_string(outcome)},
          {"study", study_path},
          {"profile", profile_path},
          {"trials", {{"total", trials}, {"complete", complete}, {"pruned", pruned}, {"failed", failed}, {"infeasible", infeasible},
                      {"interrupted", std::max(0, trials - complete - pruned - failed - infeasible)},
                      {"outages", outages}, {"stalls_remeasured", stalls}, {"resumed", resumed_trials}}},
          {"rounds_voided", rounds_voided},
          {"baseline_score", known(baseline_known, baseline_score)},
          {"winner_score", known(!ended_early, winner_score)},
          {"gain_pct", known(!ended_early, gain_pct)},
          {"confirmation", confirmation},
          {"pruning_saved_s", pruning_saved_s},
          {"screening_saved_s", screening_saved_s},
          {"measured_s", measured_s},
          {"elapsed_s", elapsed_s},
          {"applied", applied},
          {"changed", changed},
          {"left_alone", left_alone},
          {"baseline_throughput_mbps", known(baseline_known, baseline_throughput_mbps)},
          {"winner_throughput_mbps", known(!ended_early, winner_mbps)}};
  if (!peer_events.empty()) j["peer_events"] = peer_events;  // --ssh: lost sessions and what came of them
  if (!simplification.empty()) {
    j["returned"] = returned;
    j["simplification"] = simplification;
    j["simplification_interrupted"] = simplification_interrupted;
    if (simplification_interrupted) j["apply_hint"] = apply_hint;
  }
  if (!support.empty()) j["support"] = support;
  if (!withdrawn.empty()) j["withdrawn"] = withdrawn;
  if (apply_interrupted) {
    j["apply_interrupted"] = true;
    j["apply_hint"] = apply_hint;
  }
  return j;
}

namespace {

// A trial cap with no --budget bounds the trials only: what follows them is said up front.
void say_unbounded_rounds(const SearchOptions& o, const SearchPlan& plan, SearchProgress& progress) {
  const int checks = o.simplify ? plan.max_checks : 0;
  const double most_min = std::chrono::duration<double>(unbounded_rounds_most(plan.nominal_measure_s, plan.confirm_rounds, checks)).count() / 60;
  progress.say(fmt::format("no --budget: after the trials, the confirmation ({} rounds: {} measurements){} run to their end, up to ~{:.0f} min "
                           "more at ~{:.0f} s a measurement; give --budget (e.g. --budget 10m) to bound the whole search{}",
                           plan.confirm_rounds, 2 * plan.confirm_rounds, o.simplify ? fmt::format(" and the winner's simplification (up to {} check(s) on the plant)", checks) : "",
                           std::ceil(most_min), plan.nominal_measure_s, o.simplify ? ", or --keep-whole-winner to skip the checks" : ""));
}

// The report's fields known before the first measurement.
SearchReport begun_report(const SearchOptions& o, const SearchPlan& plan, const BoundSpace& bound, const OpenedStudy& study) {
  SearchReport report;
  // Known before any measurement: a retune stopped early reported 0 (found by an exploratory test).
  if (plan.retune()) report.recorded_score = plan.retune_evidence.recorded_score().value_or(0);
  report.drifted = bound.drifted;
  report.kernel_was = study.kernel_was;
  report.kernel_now = study.kernel_now;
  report.study_path = study.store.path();
  report.ssh_target = o.ssh ? o.ssh->target : "";
  report.profile_path = study.profile_path;
  return report;
}

// What the Error that ends a search on an outage says to run: a retune's study is not resumed, it
// is run again.
std::string way_on_after_outage(const SearchOptions& o, const SearchPlan& plan, const std::string& study_path) {
  return plan.retune() ? fmt::format("run `wgopt retune --profile {}` again", o.retune_profile)
                       : fmt::format("resume with `wgopt search --resume {}`", study_path);
}

void say_screening(const SearchPlan& plan, SearchProgress& progress) {
  progress.say(fmt::format("screening: each new candidate is measured {} s per scenario; the top candidates' re-measurements "
                           "and the confirmation {} s", plan.screen.duration.count(), plan.objective.duration.count()));
}

}  // namespace

SearchReport run_search(const SearchOptions& o, const std::atomic<bool>& interrupted) {
  return run_search(o, interrupted, default_search_env());
}

// What every way out of the search reports: the rounds an outage voided, the knobs a rollback left
// alone, the time taken.
static void report_end(const OutageWatch& outages, const PlantAccess& plant, double elapsed_s, SearchReport& report) {
  report.rounds_voided = outages.voided_rounds();
  report.left_alone = plant.left_alone();
  report.elapsed_s = elapsed_s;
}

SearchReport run_search(const SearchOptions& given, const std::atomic<bool>& interrupted, const SearchEnv& env) {
  const auto t_start = env.clock();
  auto elapsed_s = [&] { return std::chrono::duration<double>(env.clock() - t_start).count(); };
  env.require_root();
  const SearchOptions o = resume_options(given);  // --resume: the study checked read-only, its plant
  SearchPlan plan = plan_search(o);
  const SetUp set_up(interrupted, o);
  const std::function<void(const std::string&)> say = [&](const std::string& line) { if (!o.quiet) std::cerr << line << "\n"; };
  SearchPlant sp = set_up([&] { return env.plant(o, say); });
  BroughtUpTestbed brought_up(sp, o.quiet, o.testbed_prefix);  // destroyed after the session, the lock and the peer's link
  std::unique_ptr<RemoteEnd> remote = set_up([&] { return open_remote_end(o, sp, env, interrupted); });  // --ssh: the peer's end
  if (plan.retune() && remote) set_up([&] { gate_peer_facts(*plan.retune_profile, o.retune_profile, *remote, o.retune_force); });
  BoundSpace bound =
      set_up([&] { return bind_space(o, sp, plan.overrides, plan.retune_profile ? &*plan.retune_profile : nullptr, remote.get()); });
  const act::TunerDecision tuners = set_up([&] { return check_other_tuners(o, sp, plan, bound, env); });
  // The lock before the study: another wgopt changing this host left a study "running" for good.
  act::ChangeSession session(env.state_dir, env.knob_lookup, {.run_dir = env.run_dir});  // the lock; restores what a crashed run left
  for (const auto& item : session.startup().items) std::cerr << "recovered: " << item.line() << "\n";
  set_up.check();
  OpenedStudy study = open_study(o, plan, sp, bound, env, remote.get());
  brought_up.keep();  // from here the search uses the testbed (and leaves it up, as `wgopt search --testbed` does)
  SearchReport report = begun_report(o, plan, bound, study);

  std::unique_ptr<act::Guardian> guardian = o.watchdog ? env.start_guardian(o, env.state_dir) : nullptr;
  auto engine = make_engine(plan, *bound.space);
  // The budget is the user's wall clock for the whole command, set-up included.
  Budget budget(after_setup(plan.limits, std::chrono::duration_cast<std::chrono::milliseconds>(env.clock() - t_start)), env.clock);
  SearchProgress progress(budget, o.quiet);
  if (!plan.limits.wall && !plan.retune()) say_unbounded_rounds(o, plan, progress);
  PlantAccess plant(env, sp.plant, bound, session, guardian.get(), interrupted, remote.get());
  TrialCounts counts;
  OutageWatch outages(plant, progress, budget, way_on_after_outage(o, plan, study.store.path()));
  if (remote) outages.set_restart_server([&remote] { return remote->ensure_server(); });
  else outages.set_restart_server(sp.restart_server);
  bool profile_written = false, result_recorded = false;
  auto ended = [&] { report_end(outages, plant, elapsed_s(), report); };
  try {
    HeldTuners held(session, env, tuners.hold);  // irqbalance stopped for the search, put back at its end
    if (plan.retune() && !bound.drifted.empty()) put_back_drift(plant, bound.drifted, progress);
    const Priming priming = prime_engine(*engine, *bound.space, o.warm_start, study.store, progress);
    report.warm_trials = priming.warm_trials;
    report.resumed_trials = priming.replayed;
    if (priming.replayed > 0) budget.add_previous_trials(priming.replayed);

    MeasureOptions mo{.interrupted = &interrupted, .runner = env.runner, .far_end = remote.get()};
    const BaselineResult baseline = measure_baseline(plant, outages, plan.objective, mo, o.baseline_rounds, study.store, progress);
    if (baseline.averages.n > 0) report.baseline_throughput_mbps = baseline.averages.mean_throughput();
    report.baseline_score = baseline.stats.mean;  // what a search interrupted after this reports
    if (plan.retune()) {
      const RetuneCheck check =
          check_profile(plan.retune_evidence, o.retune_tolerance, baseline, report.kernel_was, report.kernel_now, progress);
      report.recorded_score = check.recorded_score;
      report.regressed = check.regressed;
      report.baseline_score = baseline.stats.mean;
      if (check.holds()) {
        finish_holding(o, baseline, bound, check, plan.objective, study.store, plant, report);
        ended();
        progress.finish();
        return report;
      }
    }

    if (o.prune) measure_warmup(plan.objective, baseline, mo.pruner, progress);
    PruneReferences refs = prune_references(plan.objective, baseline, mo.pruner);
    mo.prune = o.prune ? &refs : nullptr;
    warn_if_pruning_cannot_act(o, plan.screen, mo.pruner, refs);
    if (plan.screening()) say_screening(plan, progress);
    std::function<bool()> check_wanted;  // --keep-whole-winner: no check, and none held for (confirmation_reserve)
    if (o.simplify) check_wanted = [&] { return check_would_follow(*engine, bound, baseline.stats.mean); };
    run_trials({o, plan, baseline, refs, mo, check_wanted, outages}, plant, *engine, study.store, budget, progress, counts);
    outages.trials_over();
    count_trials(counts, report);
    progress.say(budget.stop_reason().empty() ? "search finished" : "search finished: " + budget.stop_reason());

    ConfirmResult conf = confirm_winner(o, baseline, mo, plant, outages, *engine, study.store, budget, plan, progress);
    const Simplification simp = simplify_winner({o, baseline, mo, plan, outages}, plant, *engine, budget, progress, conf);
    held.release();  // measuring is over: the other tuners run again before the winner stays
    report.rounds_voided = outages.voided_rounds();  // before the evidence records it
    fill_outcome(o, plan, bound, conf, simp, report, progress);
    auto evidence = build_evidence({o, report, plan.objective, baseline, conf, bound.baseline, env.unix_time()});
    evidence.changes = change_evidence(simp.kept);
    report.support = support_line(evidence.changes);  // the line `wgopt report` reads from the same evidence
    evidence.returned = change_evidence(simp.returned);
    evidence.simplification = simp.reason;
    if (conf.winner_row.n > 0) report.winner_throughput_mbps = conf.winner_row.mean_throughput();
    FilesBefore before = files_before_profile(report.profile_path, plan.retune());  // put back if the winner cannot stay
    write_profile(report.profile_path, conf.winner, study.facts, evidence, report, plan.retune(), conf.promote,
                  peer_part(remote.get(), plan, conf.winner));
    profile_written = true;
    report.simplification_interrupted = simp.interrupted;
    if (simp.interrupted) report.apply_hint = apply_hint(o, report.profile_path);
    report.table = result_table(conf, simp, plan.objective);
    report.changes_tabled = !simp.kept.empty() || !simp.returned.empty();  // changes_table's rows
    // The study's result beside the profile before the winner is applied for good: a kill -9 there
    // left a profile saying "promoted" beside a study with no result (found by an exploratory test).
    record_result(study.store, report, conf.winner_trial, conf.winner, evidence, env.unix_time());
    result_recorded = true;  // from here the final apply sets the status when it fails (final_apply.hpp)
    if (conf.promote && !o.no_apply && !simp.interrupted) {
      apply_for_good({plant, outages, study.store, conf.winner, plan.retune(), std::move(before), apply_hint(o, report.profile_path)},
                     report);
    }
    plant.stop_guardian();
  } catch (const Interrupted&) {  // what was applied is rolled back already (AppliedCandidate)
    end_interrupted(counts, study.store, profile_written || plan.retune(), report);  // a retune's is the profile it held
    ended();
    return report;
  } catch (const peer::PeerLost& e) {  // this end is restored (AppliedCandidate); the peer restores itself
    end_peer_lost(e, counts, study.store, result_recorded && !plan.retune(), report);
    if (!profile_written && !plan.retune()) report.profile_path.clear();
    ended();
    return report;
  } catch (...) {
    if (!result_recorded) mark_failed(study.store);
    throw;
  }
  ended();
  progress.finish();
  return report;
}

}  // namespace wgopt::experiments

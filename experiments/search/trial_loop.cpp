#include "experiments/search/trial_loop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/error.hpp"
#include "experiments/search/engine_priming.hpp"
#include "experiments/search/outage.hpp"
#include "experiments/peer/agent_client.hpp"
#include "experiments/search/policies.hpp"
#include "experiments/search/remote_end.hpp"
#include "experiments/search/search_progress.hpp"
#include "experiments/search/winner_simplification.hpp"

namespace wgopt::experiments {

namespace {

double seconds_since(const SearchEnv& env, std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(env.clock() - t).count();
}

class TrialRunner {
 public:
  TrialRunner(const TrialLoopInputs& in, PlantAccess& plant, opt::Strategy& engine, StudyStore& store, Budget& budget,
              SearchProgress& progress, TrialCounts& counts)
      : in_(in), plant_(plant), engine_(engine), store_(store), budget_(budget), progress_(progress), counts_(counts),
        incumbent_(in.baseline.stats.mean), baseline_refs_(in.refs) {
    for (const auto& [scenario, ref] : in_.refs) {
      seen_rates_[scenario].push_back(ref.mean_mbps);
      incumbent_rates_[scenario] = ref.mean_mbps;
    }
  }

  void run() {
    while (budget_.may_start_trial()) next_trial();
    if (release_check_time()) {
      while (budget_.may_start_trial()) {
        next_trial();
        if (!in_.check_wanted()) continue;
        budget_.restore_reserve();
        progress_.say("search: the best configuration now has changes to check on the plant: the trials end, and what is left "
                      "of the simplification's time is held for it");
        break;
      }
    }
    plant_.check_interrupted();
  }

 private:
  struct Retry {  // the configuration of a trial an outage voided, measured next
    opt::Config config;
    bool remeasure = false;
    bool died = false, lost = false;  // what voided it: the tunnel died under it, the session was lost
    bool stalled = false;             // ... or it stalled with the path up by the check (OutageVerdict::stall)
  };

  void next_trial() {
    plant_.check_interrupted();
    one_trial();
  }

  // The trials' share is spent (not a trial cap): when the model would check nothing of the winner
  // on the plant, the time held for the checks goes to more trials.
  bool release_check_time() {
    const auto& limits = budget_.limits();
    if (!in_.check_wanted || in_.plan.check_reserve <= std::chrono::milliseconds(0) || !limits.wall) return false;
    if (limits.max_trials && budget_.trials() >= *limits.max_trials) return false;
    if (in_.check_wanted()) return false;
    budget_.release_reserve(in_.plan.check_reserve);
    progress_.say(fmt::format("search: the simplification would check nothing of the best configuration so far on the plant: "
                              "the {:.0f} s held for its checks go to more trials",
                              std::chrono::duration<double>(budget_.released()).count()));
    return true;
  }

  void one_trial() {
    // Against the trials' planned share: trials that took the checks' time are past its end, in the
    // last fifth's re-measurements (a screened recommendation gets its full-length one first).
    BudgetLimits share = budget_.limits();
    share.reserve += budget_.released();
    const double progress = search_progress(share, budget_.elapsed(), budget_.trials());
    std::optional<opt::Config> cfg;
    bool is_remeasure = false, is_retry = false;
    std::optional<Retry> retrying;
    if (retry_) {  // the trial an outside outage voided: the same configuration again, first
      cfg = retry_->config;
      is_remeasure = retry_->remeasure;
      is_retry = true;
      retrying = std::move(retry_);
      retry_.reset();
    } else if (remeasure_due(progress, counts_.complete, remeasured_, counts_.trials)) {
      cfg = screened_recommendation();
      if (!cfg) cfg = engine_.remeasure_candidate();
      is_remeasure = cfg.has_value();
    }
    if (!cfg) cfg = engine_.ask();
    if (is_remeasure && !is_retry) ++remeasured_;
    const Values values = plant_.bound().space->to_values(*cfg);
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [k, v] : values) params[k] = v;

    TrialRecord rec;
    rec.timings.started_at = plant_.env().unix_time();
    rec.params = params;
    rec.number = store_.begin_trial(params, rec.timings.started_at);
    budget_.trial_started();
    ++counts_.trials;
    progress_.set_candidate(values, plant_.bound().baseline);
    // The count against the cap, not the study's trial number: a voided trial is not one of them
    // (found by an exploratory test: "trial 5/4" after a void).
    progress_.show(is_remeasure ? "re-measure" : "trial", budget_.trials(), budget_.limits().max_trials);

    std::optional<Evaluation> ev;
    bool peer_lost = false;
    tunnel_died_ = false;
    const bool screened = in_.plan.screening() && !is_remeasure;
    try {
      ev = apply_and_measure(values, rec, is_remeasure, screened);
    } catch (const peer::PeerLost& e) {  // this end is restored already; the peer restores itself
      rec.state = TrialState::Failed;
      rec.note = std::string("peer lost: ") + e.what();
      peer_lost = true;
    }
    // The session back first (or the search ends, PeerLost): the tunnel is then checked with both
    // ends on their own values.
    if (peer_lost) {
      try {
        reconnect_peer(rec.number);
      } catch (const peer::PeerLost&) {  // the search ends: the trial stays recorded as failed
        store_.finish_trial(rec);
        budget_.trial_finished();
        count(rec, ev);
        throw;
      }
    }
    if (const auto verdict = outside_outage(rec, ev, peer_lost, retrying ? &*retrying : nullptr)) {
      // What voided it, and what voided the attempts of the same values before: a stall, then a
      // path down, then a stall again is their second stall (found in review: it read as a first,
      // and the third void in a row ended the search).
      const Retry* was = retrying ? &*retrying : nullptr;
      void_trial(rec, Retry{*cfg, is_remeasure, tunnel_died_ || (was && was->died), peer_lost || (was && was->lost),
                            verdict->stall || (was && was->stalled)});
      return;
    }
    in_.outages.held();
    if (ev) record_measured(*ev, rec, screened, values);
    store_.finish_trial(rec);
    budget_.trial_finished();
    engine_.tell(*cfg, to_opt_state(rec.state), rec.score.value_or(std::nan("")));
    count(rec, ev);
  }

  // With screening, the configuration the engine recommends (the one the confirmation will measure)
  // when no full-length measurement of it exists yet: it is re-measured before any other. On the
  // testbed a recommendation screened once at 439 Mbit/s went to the confirmation while the
  // full-length re-measurements went to other configurations (bench/README, screening).
  std::optional<opt::Config> screened_recommendation() {
    if (!in_.plan.screening()) return std::nullopt;
    const opt::Recommendation best = engine_.recommend();
    if (!best.valid) return std::nullopt;
    const Values values = plant_.bound().space->to_values(best.config);
    // The host's own configuration was measured at full length by the baseline rounds.
    if (measured_full_.count(values) > 0 || changed_knobs(values, plant_.bound().baseline).empty()) return std::nullopt;
    return best.config;
  }

  // After a lost session: reconnect and go on, or end the search (PeerLost) with both ends restored.
  void reconnect_peer(int trial) {
    try {
      const std::string line = fmt::format("trial {}: peer lost; {}; the search goes on", trial, plant_.remote()->recover());
      counts_.peer_events.push_back(line);
      progress_.say(line);
    } catch (const peer::PeerLost& e) {
      const std::string line = fmt::format("trial {}: peer lost and not reachable again: the search ends; this end is restored; {}",
                                           trial, e.what());
      counts_.peer_events.push_back(line);
      progress_.say(line);
      throw;
    }
  }

  // Apply under the guardian, check the tunnel, settle, measure, restore. Fills rec's state,
  // score, note and timings. A re-measurement is never stopped early: it is of a configuration the
  // engine ranks at the top and exists to measure it whole (on the testbed the pruner stopped four
  // such re-measurements of configurations steady at 440-465 Mbit/s on their slow first seconds).
  std::optional<Evaluation> apply_and_measure(const Values& values, TrialRecord& rec, bool is_remeasure, bool screened) {
    const auto t0 = plant_.env().clock();
    std::optional<AppliedCandidate> candidate;
    try {
      candidate.emplace(plant_, values, kApplyLease);
    } catch (const peer::PeerLost&) {
      throw;
    } catch (const Error& e) {  // includes UsageError from validation
      rec.state = TrialState::Infeasible;
      rec.note = std::string("could not apply: ") + e.what();
      return std::nullopt;
    }
    rec.timings.applied_s = seconds_since(plant_.env(), t0);
    if (!candidate->alive()) {
      candidate->rollback();
      tunnel_died_ = true;
      rec.state = TrialState::Infeasible;
      rec.note = "tunnel dead after apply, reverted: " + candidate->why_dead();
      return std::nullopt;
    }
    candidate->extend(measurement_lease(in_.plan.nominal_measure_s));
    const auto ts = plant_.env().clock();
    plant_.settle(in_.options.settle);
    rec.timings.settled_s = seconds_since(plant_.env(), ts);
    MeasureOptions mo = in_.mo;
    if (is_remeasure) mo.prune = nullptr;
    // A peer lost mid-run has put its own originals back: the run stops at once and this end follows
    // (found by an exploratory test: this end kept the candidate 17 s longer, until iperf3 timed out).
    if (RemoteEnd* remote = plant_.remote()) mo.abandoned = [remote] { return remote->lost(); };
    const Objective& objective = screened ? in_.plan.screen : in_.plan.objective;
    Evaluation ev;
    try {
      ev = plant_.measure(objective, mo);
    } catch (const peer::PeerLost&) {
      throw;
    } catch (const Error& e) {  // the sampler's interface gone mid-run (wireguard-go killed): a failed measurement
      ev.state = Evaluation::State::Failed;
      ev.note = std::string("the measurement could not run: ") + e.what();
    }
    rec.timings.measured_s = ev.seconds;
    counts_.measured_s += ev.seconds;
    candidate->rollback();
    if (ev.state == Evaluation::State::Interrupted) throw Interrupted{};
    // Asked of the link, not read from the evaluation's note (a far end's probes usually throw first).
    if (plant_.remote() && plant_.remote()->lost()) throw peer::PeerLost("the session to the peer was lost during the measurement");
    rec.metrics = ev.metrics_json();
    rec.metrics["duration_s"] = objective.duration.count();  // per scenario: the screening length or the full one
    rec.probes = ev.probes_json();
    return ev;
  }

  // A measured trial's outcome, once it is the candidate's (not voided by an outage): its state and
  // score, what it saved, the pruner's references, and whether it was measured at full length.
  void record_measured(const Evaluation& ev, TrialRecord& rec, bool screened, const Values& values) {
    record_outcome(ev, rec, screened);
    if (!screened && ev.state == Evaluation::State::Complete) measured_full_.insert(values);
  }

  // What a trial that measured (complete or stopped) saved against a full measurement here: a
  // screened one the screen's shorter plan, a stopped one the rest of its plan. Against a full
  // measurement here, not the nominal duration, which hides the fixed overhead both share.
  void count_saved(const Evaluation& ev, bool screened) {
    const double against_full = std::max(0.0, in_.baseline.full_measure_s - ev.seconds);
    if (!screened) {
      if (ev.state == Evaluation::State::Pruned) counts_.pruning_saved_s += std::max(ev.saved_seconds, against_full);
      return;
    }
    const double pruned = ev.state == Evaluation::State::Pruned ? std::clamp(ev.saved_seconds, 0.0, against_full) : 0.0;
    counts_.pruning_saved_s += pruned;
    counts_.screening_saved_s += against_full - pruned;
  }

  void record_outcome(const Evaluation& ev, TrialRecord& rec, bool screened) {
    if (ev.state != Evaluation::State::Failed) count_saved(ev, screened);
    if (ev.state == Evaluation::State::Complete) {
      rec.state = TrialState::Complete;
      rec.score = ev.score->value;
    } else if (ev.state == Evaluation::State::Pruned) {
      rec.state = TrialState::Pruned;
      rec.note = ev.note;
      const auto& s = ev.scenarios.back();
      const double rate = steady(s.series_mbps);
      auto it = incumbent_rates_.find(s.scenario);
      rec.score = estimate_pruned(incumbent_, rate, it == incumbent_rates_.end() ? 0 : it->second);
      see_rate(s.scenario, rate);
    } else {
      // The workload broke under this candidate (e.g. iperf3 could not connect): a failed trial.
      rec.state = TrialState::Failed;
      rec.note = ev.note;
    }
  }

  // Not the candidate's result: recorded, never told to the engine, not counted against --trials;
  // the same configuration next, once the path is back (OutageWatch::voided waits for it, or ends
  // the search when it keeps breaking or does not come back).
  void void_trial(const TrialRecord& rec, Retry retry) {
    store_.finish_trial(rec);
    budget_.trial_voided();
    --counts_.trials;
    ++counts_.outages;
    if (rec.stall_void()) ++counts_.stalls;
    const std::string_view prefix = rec.stall_void() ? kStallTrialNote : kOutageTrialNote;
    const std::string_view why = std::string_view(rec.note).substr(prefix.size());
    in_.outages.voided(fmt::format("trial {}", rec.number), std::string(why), true);
    retry_ = std::move(retry);
  }

  // A trial whose tunnel died after the apply, whose workload failed, which moved under a tenth of
  // the host's own rate, or whose peer session was lost looks like the path broke: with the host's
  // own values back (the candidate is rolled back by now; a lost peer restored itself and the
  // session is back), OutageWatch::judge decides whether it was an outage outside wgopt (the path
  // down whatever is applied, the iperf3 server gone, the session lost): scoring it would teach the
  // engine a cliff that is not there. A retry that does again what voided it is judged on its result.
  std::optional<OutageVerdict> outside_outage(TrialRecord& rec, const std::optional<Evaluation>& ev, bool peer_lost, const Retry* retry) {
    const auto broken = ev ? looks_broken(*ev, in_.baseline.averages.mean_throughput()) : std::nullopt;
    if (!peer_lost && !tunnel_died_ && !broken) return std::nullopt;
    const std::string result = peer_lost || tunnel_died_ ? rec.note : *broken;
    const auto verdict = in_.outages.judge({.ev = ev ? &*ev : nullptr,
                                            .result = result,
                                            .tunnel_died = tunnel_died_,
                                            .session_lost = peer_lost,
                                            .died_before = retry && retry->died,
                                            .lost_before = retry && retry->lost,
                                            .stalled_before = retry && retry->stalled});
    if (!verdict) return std::nullopt;
    rec.state = TrialState::Failed;
    rec.score.reset();
    rec.note = fmt::format("{}{}: not evidence for the engine, measured again{}", verdict->stall ? kStallTrialNote : kOutageTrialNote, verdict->why,
                           verdict->path_down ? " once the path is back" : "");
    return verdict;
  }

  void count(const TrialRecord& rec, const std::optional<Evaluation>& ev) {
    switch (rec.state) {
      case TrialState::Complete: ++counts_.complete; break;
      case TrialState::Pruned: ++counts_.pruned; break;
      case TrialState::Infeasible: ++counts_.infeasible; break;
      default: ++counts_.failed; break;
    }
    if (rec.state == TrialState::Complete) learn_reference(*rec.score, *ev);
    auto best = engine_.recommend();
    if (best.valid) progress_.set_best(best.mean);
    if (rec.state != TrialState::Complete) progress_.say(fmt::format("trial {} {}: {}", rec.number, to_string(rec.state), rec.note));
  }

  double steady(const std::vector<double>& series) const { return steady_mean(series, in_.mo.pruner.warmup_seconds); }

  // Every rate the search has seen (the baseline's, each complete trial's, each stopped trial's so
  // far) joins those the pruner's reference is the top-fraction edge of; its noise grows with it.
  void see_rate(const std::string& scenario, double rate) {
    auto it = in_.refs.find(scenario);
    if (it == in_.refs.end() || !(rate > 0)) return;
    auto& rates = seen_rates_[scenario];
    rates.push_back(rate);
    move_reference(it->second, baseline_refs_.at(scenario), top_fraction_edge(rates, in_.mo.pruner.reference_top_fraction));
  }

  // A complete trial: its rates are seen and its ramp, when slower than any seen, lowers the ramp
  // floor; a new best score also moves the incumbent that stopped trials' scores are scaled from.
  void learn_reference(double score, const Evaluation& ev) {
    const bool best = score > incumbent_;
    if (best) incumbent_ = score;
    for (const auto& s : ev.scenarios) {
      const double rate = steady(s.series_mbps);
      see_rate(s.scenario, rate);
      if (best && rate > 0) incumbent_rates_[s.scenario] = rate;
      auto it = in_.refs.find(s.scenario);
      if (it != in_.refs.end()) learn_ramp(it->second, s.series_mbps, in_.mo.pruner);
    }
  }

  const TrialLoopInputs& in_;
  PlantAccess& plant_;
  opt::Strategy& engine_;
  StudyStore& store_;
  Budget& budget_;
  SearchProgress& progress_;
  TrialCounts& counts_;
  double incumbent_;
  std::map<std::string, std::vector<double>> seen_rates_;  // per scenario: the steady rates seen (see_rate)
  std::map<std::string, double> incumbent_rates_;         // per scenario: the incumbent's steady rate
  const PruneReferences baseline_refs_;                   // per scenario: the baseline rounds' reference
  int remeasured_ = 0;
  std::set<Values> measured_full_;  // configurations a complete full-length trial measured
  bool tunnel_died_ = false;        // this trial's tunnel check after the apply failed
  std::optional<Retry> retry_;      // the configuration of the trial an outage voided: the next trial's
};

}  // namespace

void run_trials(const TrialLoopInputs& in, PlantAccess& plant, opt::Strategy& engine, StudyStore& store, Budget& budget,
                SearchProgress& progress, TrialCounts& counts) {
  TrialRunner(in, plant, engine, store, budget, progress, counts).run();
}

}  // namespace wgopt::experiments

#include "experiments/report/report_data.hpp"

#include "common/error.hpp"
#include "common/processes.hpp"
#include "common/util.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "experiments/study/evidence.hpp"
#include "experiments/study/objective.hpp"
#include "experiments/report/report_reduce.hpp"
#include "experiments/study/stats.hpp"

namespace wgopt::experiments {

using nlohmann::json;
using namespace report_reduce;

namespace {

std::string value_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::map<std::string, std::string> params_of(const json& p) {
  std::map<std::string, std::string> out;
  if (p.is_object()) {
    for (auto it = p.begin(); it != p.end(); ++it) out[it.key()] = value_text(it.value());
  }
  return out;
}

// Seconds since the epoch of "2026-11-26T13:20:00Z"; nullopt for anything else.
std::optional<double> parse_utc(const std::string& iso) {
  std::tm tm{};
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm));
}

// The objective's duration in seconds, or nullopt when this wgopt cannot read the study's objective.
std::optional<long long> objective_seconds(const StudyInfo& info) {
  try {
    return parse_objective(info.objective_yaml, "the study's objective").duration.count();
  } catch (const std::exception&) {
    return std::nullopt;  // the report goes without what needs it
  }
}

// The baseline rounds' mean and interval, then the evidence's fairer numbers when there are any.
Evidence add_baseline(ReportData& d, const std::string& study_path, const StudyInfo& info, const std::vector<BaselineRecord>& baselines,
                      const std::vector<ConfirmationRecord>& confirmations, const std::optional<StudyResult>& result) {
  // ---- Baseline and the evidence.
  d.rounds_baseline = static_cast<int>(baselines.size());
  std::vector<double> bscores;
  for (const auto& b : baselines) bscores.push_back(b.score);
  if (!bscores.empty()) {
    auto st = sample_stats(bscores);
    d.baseline_mean = st.mean;
    d.baseline_score_source = fmt::format("the search's {} baseline round{}", bscores.size(), bscores.size() == 1 ? "" : "s");
    if (st.n >= 2) {
      auto ci = mean_interval(st, 0.95);
      d.baseline_ci95 = std::pair{ci.low, ci.high};
    }
  }
  // An older or damaged study's evidence: what does not read is left out, the report shows the rest.
  const Evidence evidence =
      result ? Evidence::from_json(result->evidence, study_path, Evidence::Mode::Lenient) : Evidence{};
  if (evidence.baseline) {
    // The confirmation's interleaved baseline is the fairer reference once there is one.
    if (evidence.baseline->score) {
      d.baseline_mean = evidence.baseline->score;
      // A baseline kept without a decided confirmation: the search's own rounds (it records their
      // count); otherwise the confirmation's (found by an exploratory test: the search's 324.4 was
      // labelled as the confirmation's, whose baseline rounds averaged 397.8).
      if (!evidence.baseline->n) {
        d.baseline_score_source = "the confirmation's interleaved baseline rounds";
        // ... and the count beside the score is theirs (found by an exploratory test: --json said
        // 2 rounds where the text said the confirmation's 3).
        const auto arms = std::count_if(confirmations.begin(), confirmations.end(), [](const auto& c) { return c.arm == "baseline"; });
        if (arms > 0) d.rounds_baseline = static_cast<int>(arms);
      }
    }
    if (auto ci = evidence.baseline->ci95) d.baseline_ci95 = std::pair{ci->low, ci->high};
  }
  // A kept baseline's candidate, as measured against it (studies since 2026-12-06 record it).
  if (const auto& arm = evidence.winner ? evidence.winner : evidence.candidate) {
    d.winner_mean = arm->score;
    if (auto ci = arm->ci95) d.winner_ci95 = std::pair{ci->low, ci->high};
  }
  if (evidence.gain) d.gain = to_json(*evidence.gain);

  // An objective this wgopt cannot read: drops are still per measurement.
  const auto window_s = objective_seconds(info);
  d.window_label = window_s ? fmt::format("{}s", *window_s) : "run";

  return evidence;
}

// How the report names the confirmation's candidate as its winner, by what the search ended with.
bool promoted(SearchOutcome o) { return o == SearchOutcome::Promoted || o == SearchOutcome::Retuned; }

const char* candidate_label(const std::optional<StudyResult>& result, const Evidence& evidence) {
  if (!result) return "confirmation candidate";  // still searching
  if (!promoted(result->outcome)) return "the confirmed candidate, not promoted: the baseline stays";
  if (!evidence.returned.empty()) return "the confirmed candidate; the profile returns some of its changes to the host's value";
  return "the confirmed candidate";
}

// The winner (or the candidate that was confirmed, or the best trial so far); its trial, if any.
// The promoted winner is no trial when the simplification returned some of its changes: the
// confirmed candidate is shown, and what the profile carries instead is in "Knobs that moved".
const TrialRecord* choose_winner(ReportData& d, const std::vector<TrialRecord>& trials, const std::vector<ConfirmationRecord>& confirmations,
                                 const std::optional<StudyResult>& result, const Evidence& evidence) {
  // ---- The winner (or the candidate that was confirmed, or the best trial so far).
  const TrialRecord* best = nullptr;
  for (const auto& t : trials) {
    if (t.state == TrialState::Complete && t.score && (!best || *t.score > *best->score)) best = &t;
  }
  d.not_promoted = result && !promoted(result->outcome);
  if (result && result->winner_trial) {
    // A kept baseline records the candidate it confirmed as the result's trial too (found by an
    // exploratory test: "winner: trial 19 (result)" above "outcome: kept-baseline").
    d.winner_trial = result->winner_trial;
    d.winner_source = d.not_promoted ? candidate_label(result, evidence) : "result";
  } else {
    for (const auto& c : confirmations) {
      if (c.arm == "candidate" && c.trial > 0) {
        d.winner_trial = c.trial;
        d.winner_source = candidate_label(result, evidence);
      }
    }
    if (!d.winner_trial && best) {
      d.winner_trial = best->number;
      d.winner_source = "best complete trial";
    }
  }
  const TrialRecord* winner = nullptr;
  for (const auto& t : trials) {
    if (d.winner_trial && t.number == *d.winner_trial) winner = &t;
  }

  return winner;
}

// What the host had, and what the winner moved (with each change's contribution when explained).
void add_moved(ReportData& d, const StudyInfo& info, const std::vector<TrialRecord>& trials, const Evidence& evidence,
               const std::optional<StudyResult>& result, const TrialRecord* winner) {
  // ---- The host's values as found: the study keeps them in the evidence (newer studies), in the
  // result when the baseline was kept, or as trial 1, which `bo` and `coordinate` start from.
  if (evidence.baseline && !evidence.baseline->params.empty()) {
    d.baseline_values = evidence.baseline->params;
    d.baseline_source = "the result's evidence";
  } else if (result && !promoted(result->outcome) && result->params.is_object() && !result->params.empty()) {
    d.baseline_values = params_of(result->params);
    d.baseline_source = "the result (the baseline was kept)";
  } else if (!trials.empty() && trials.front().number == 1 && (info.strategy == "bo" || info.strategy == "coordinate")) {
    d.baseline_values = params_of(trials.front().params);
    d.baseline_source = "trial 1 (the " + info.strategy + " strategy starts from the host's values)";
  }
  std::map<std::string, std::string> winner_params =
      winner ? params_of(winner->params)
             : (result && promoted(result->outcome) ? params_of(result->params) : std::map<std::string, std::string>{});
  if (!evidence.changes.empty() || !evidence.returned.empty()) {
    // A simplified winner: its evidence says what each change contributes and what went back.
    d.moved_explained = true;
    d.simplification = evidence.simplification;
    d.support = support_line(evidence.changes);
    for (const auto* list : {&evidence.changes, &evidence.returned}) {
      for (const auto& c : *list) {
        MovedKnob m{.id = c.id, .from = c.from, .to = c.to, .contribution = c.contribution, .check = c.check,
                    .returned = list == &evidence.returned, .return_unchecked = c.return_unchecked};
        if (c.ci95) m.ci95 = std::pair{c.ci95->low, c.ci95->high};
        if (!m.returned) m.support = support_of(c);
        d.moved.push_back(std::move(m));
      }
    }
  } else {
    for (const auto& [id, v] : winner_params) {
      auto it = d.baseline_values.find(id);
      if (it == d.baseline_values.end()) d.moved.push_back({.id = id, .from = "?", .to = v});
      else if (it->second != v) d.moved.push_back({.id = id, .from = it->second, .to = v});
    }
  }

}

// The note of a trial measured at the screening length, shorter than the objective's `full`
// duration (metrics duration_s, recorded since screening exists): "screened at 5 s"; empty otherwise.
// The per-scenario length a trial was measured at (metrics duration_s, recorded since screening exists).
std::optional<long long> measured_length(const json& metrics) {
  if (!metrics.contains("duration_s") || !metrics["duration_s"].is_number_integer()) return std::nullopt;
  const auto used = metrics["duration_s"].get<long long>();
  return used > 0 ? std::optional<long long>(used) : std::nullopt;
}

std::string screening_note(const json& metrics, std::optional<long long> full) {
  const auto used = measured_length(metrics);
  return full && used && *used < *full ? fmt::format("screened at {} s", *used) : "";
}

void add_rows(ReportData& d, std::vector<ComparisonRow> rows) {
  for (auto& r : rows) d.table_rows.push_back(std::move(r));
}

// The trial list, the convergence and the §7.1 steps; returns the baseline rounds' probes.
std::vector<const json*> add_trials(ReportData& d, const StudyInfo& info, const std::vector<TrialRecord>& trials,
                                    const std::vector<BaselineRecord>& baselines,
                                    const std::vector<ConfirmationRecord>& confirmations) {
  // ---- Trials, the convergence, the §7.1 steps.
  std::optional<double> t0 = parse_utc(info.created);
  if (!t0) {
    for (const auto& t : trials) t0 = t0 ? std::min(*t0, t.timings.started_at) : t.timings.started_at;
  }
  std::vector<const json*> base_metrics, base_probes;
  for (const auto& b : baselines) {
    base_metrics.push_back(&b.metrics);
    if (const json* p = probes_in_metrics(b.metrics)) base_probes.push_back(p);
  }
  add_rows(d, comparison_rows(fmt::format("baseline ({} round{})", baselines.size(), baselines.size() == 1 ? "" : "s"),
                              base_metrics, base_probes));
  std::optional<double> best_so_far;
  const std::optional<long long> full_s = objective_seconds(info);
  for (const auto& t : trials) {
    ReportTrial r;
    r.number = t.number;
    r.state = t.state;
    r.score = t.score;
    r.throughput_mbps = throughput_of(t.metrics);
    const auto& tm = t.timings;
    r.minutes = t0 ? std::max(0.0, (tm.started_at + tm.applied_s + tm.settled_s + tm.measured_s - *t0) / 60.0) : 0;
    r.params = params_of(t.params);
    for (const auto& [id, v] : r.params) {
      auto it = d.baseline_values.find(id);
      if (it == d.baseline_values.end() || it->second != v) r.moved[id] = v;
    }
    const std::string screened = screening_note(t.metrics, full_s);
    r.note = screened.empty() ? t.note : t.note.empty() ? screened : screened + "; " + t.note;
    r.winner = d.winner_trial && *d.winner_trial == t.number;
    if (t.state == TrialState::Complete && t.score && (!best_so_far || *t.score > *best_so_far)) {
      best_so_far = t.score;
      r.best_so_far = true;
      // A screened trial measured half as long: its drops counted in the table's full-length window
      // (they read half the baseline's for the same configuration).
      const auto used = measured_length(t.metrics);
      const double to_window = full_s && used ? static_cast<double>(*full_s) / static_cast<double>(*used) : 1.0;
      add_rows(d, comparison_rows(fmt::format("trial {} (new best)", t.number), {&t.metrics}, {&t.probes}, to_window));
    }
    // voided: an outage's; stalled: a stall's, measured again
    d.state_counts[t.stall_void()    ? std::string("stalled")
                   : t.outage()      ? std::string("voided")
                   : t.interrupted() ? std::string("interrupted")
                                     : std::string(to_string(t.state))] += 1;
    d.trials.push_back(std::move(r));
  }
  for (const char* arm : {"baseline", "candidate"}) {
    std::vector<const json*> m, p;
    int trial = 0;
    for (const auto& c : confirmations) {
      if (c.arm != arm) continue;
      m.push_back(&c.metrics);
      if (const json* pr = probes_in_metrics(c.metrics)) p.push_back(pr);
      trial = c.trial;
    }
    if (m.empty()) continue;
    const std::string rounds = fmt::format("{} round{}", m.size(), m.size() == 1 ? "" : "s");
    std::string label = std::string(arm) == "baseline" ? fmt::format("confirm: baseline ({})", rounds)
                                                       : fmt::format("confirm: trial {} ({})", trial, rounds);
    add_rows(d, comparison_rows(label, m, p));
  }

  return base_probes;
}

void add_effects(ReportData& d) {
  // ---- Per-knob main effect.
  double reference = 0;
  if (d.baseline_mean) {
    reference = *d.baseline_mean;
  } else {
    int n = 0;
    for (const auto& t : d.trials) {
      if (t.state == TrialState::Complete && t.score) {
        reference += *t.score;
        ++n;
      }
    }
    if (n > 0) reference /= n;
  }
  d.effects = knob_effects(d.trials, reference);
  d.effect_method = fmt::format(
      "per-knob main effect: mean score of the complete trials at each value, minus the {} ({:.1f}); n = trials at "
      "that value; a numeric knob tried at more than {} values is shown as {} ranges of its values, low to high. Knobs "
      "move together in a search, so with few trials the effects are confounded.",
      d.baseline_mean ? "baseline mean" : "mean of all complete trials", reference, kMaxEffectLevels, kEffectBins);

}

void add_core_loads(ReportData& d, const std::vector<const json*>& base_probes,
                    const std::vector<ConfirmationRecord>& confirmations, const TrialRecord* winner) {
  // ---- Per-core load: baseline rounds vs the winner's confirmation rounds, else its trial.
  d.cores_before = core_loads(base_probes);
  if (!d.cores_before.empty()) d.cores_before_source = fmt::format("baseline ({} rounds)", base_probes.size());
  if (d.cores_before.empty()) {
    std::vector<const json*> p;
    for (const auto& c : confirmations) {
      if (c.arm == "baseline") {
        if (const json* pr = probes_in_metrics(c.metrics)) p.push_back(pr);
      }
    }
    d.cores_before = core_loads(p);
    if (!d.cores_before.empty()) d.cores_before_source = fmt::format("confirmation baseline ({} rounds)", p.size());
  }
  if (d.winner_trial) {
    std::vector<const json*> p;
    for (const auto& c : confirmations) {
      if (c.arm == "candidate" && c.trial == *d.winner_trial) {
        if (const json* pr = probes_in_metrics(c.metrics)) p.push_back(pr);
      }
    }
    d.cores_after = core_loads(p);
    if (!d.cores_after.empty()) {
      d.cores_after_source = fmt::format("trial {} confirmation ({} rounds)", *d.winner_trial, p.size());
    } else if (winner) {
      d.cores_after = core_loads({&winner->probes});
      if (!d.cores_after.empty()) d.cores_after_source = fmt::format("trial {}", *d.winner_trial);
    }
  }
}

// A resumed study holds every run's baseline rounds (each run numbers its own from 1) and the rows
// of an interrupted confirmation beside the last one. The report shows the last run's: its
// baseline rounds (from its round 1) and the confirmation rows measured after them.
struct LastRun {
  std::vector<BaselineRecord> baselines;
  std::vector<ConfirmationRecord> confirmations;
};

LastRun last_run(const std::vector<BaselineRecord>& baselines, const std::vector<ConfirmationRecord>& confirmations) {
  auto first = baselines.begin();
  for (auto it = baselines.begin(); it != baselines.end(); ++it) {
    if (it->round == 1) first = it;
  }
  LastRun r{{first, baselines.end()}, {}};
  const double since = r.baselines.empty() ? 0 : r.baselines.front().measured_at;
  for (const auto& c : confirmations) {
    if (c.measured_at >= since) r.confirmations.push_back(c);
  }
  return r;
}

}  // namespace

ReportData build_report(const std::string& study_path, const StudyInfo& info, const std::vector<TrialRecord>& trials,
                        const std::vector<BaselineRecord>& all_baselines,
                        const std::vector<ConfirmationRecord>& all_confirmations, const std::optional<StudyResult>& result) {
  const auto [baselines, confirmations] = last_run(all_baselines, all_confirmations);
  ReportData d;
  d.study_path = study_path;
  d.info = info;
  d.result = result;
  d.running = info.status == "running";
  const Evidence evidence = add_baseline(d, study_path, info, baselines, confirmations, result);
  const TrialRecord* winner = choose_winner(d, trials, confirmations, result, evidence);
  add_moved(d, info, trials, evidence, result, winner);
  const auto base_probes = add_trials(d, info, trials, baselines, confirmations);
  add_effects(d);
  add_core_loads(d, base_probes, confirmations, winner);
  return d;
}

namespace {

// A score the search wrote is finite: an infinite or NaN one was put there by hand and would make
// every mean, best and effect in the report meaningless.
void check_score(double score, const std::string& what) {
  if (!std::isfinite(score)) throw std::runtime_error(fmt::format("{}'s score is not a finite number ({})", what, score));
}

// The records as the search writes them: finite scores; parameters and metrics as objects; a
// winner and confirmed trials the study has (found by an exploratory test: params_json '[1]' showed
// "Knobs that moved: (none)" for a promoted winner, a result naming trial 99 was reported as the
// winner beside a confirmation of trial 2).
void check_records(const std::vector<TrialRecord>& trials, const std::vector<BaselineRecord>& baselines,
                   const std::vector<ConfirmationRecord>& confirmations, const std::optional<StudyResult>& result) {
  std::set<int> numbers;
  for (const auto& t : trials) {
    const std::string what = fmt::format("trial {}", t.number);
    if (t.score) check_score(*t.score, what);
    if (!t.params.is_object()) throw std::runtime_error(what + "'s params_json is not an object of knob values");
    if (!t.metrics.is_object()) throw std::runtime_error(what + "'s metrics_json is not an object");
    if (!t.probes.is_object()) throw std::runtime_error(what + "'s probes_json is not an object");
    numbers.insert(t.number);
  }
  for (const auto& b : baselines) {
    check_score(b.score, fmt::format("baseline round {}", b.round));
    if (!b.metrics.is_object()) throw std::runtime_error(fmt::format("baseline round {}'s metrics_json is not an object", b.round));
  }
  for (const auto& c : confirmations) {
    check_score(c.score, fmt::format("confirmation round {}", c.round));
    if (!c.metrics.is_object()) throw std::runtime_error(fmt::format("confirmation round {}'s metrics_json is not an object", c.round));
    if (c.trial != 0 && !numbers.count(c.trial)) {
      throw std::runtime_error(fmt::format("confirmation round {} measured trial {}, which the study does not have", c.round, c.trial));
    }
  }
  if (result) {
    if (result->winner_trial && !numbers.count(*result->winner_trial)) {
      throw std::runtime_error(fmt::format("the result names trial {} as the winner, which the study does not have", *result->winner_trial));
    }
    if (!result->params.is_object()) throw std::runtime_error("the result's params_json is not an object of knob values");
  }
}

}  // namespace

namespace {

// A study "running" with no writer on this host: its search died without a word (found by an
// exploratory test: after kill -9 of a search the report called its study running for good).
void set_writer(ReportData& d, const std::optional<int>& writer) {
  d.writer_pid = writer;
  d.abandoned = !writer;
  d.running = writer.has_value();
}

// A descriptor of the study for reading who holds its writer's flock (StudyStore::writer), open
// before the store and closed after it: closing a descriptor of the file drops this process's
// POSIX locks on it, SQLite's own among them.
struct WriterProbe {
  int fd;
  explicit WriterProbe(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~WriterProbe() {
    if (fd >= 0) ::close(fd);
  }
  WriterProbe(const WriterProbe&) = delete;
  WriterProbe& operator=(const WriterProbe&) = delete;
  std::optional<int> writer() const {
    const int pid = fd >= 0 ? flock_holder(fd) : 0;
    return pid > 0 ? std::optional<int>(pid) : std::nullopt;
  }
};

}  // namespace

ReportData load_report(const std::string& path) {
  const WriterProbe probe(path);
  StudyStore s = StudyStore::open_read_only(path);  // not a study at all: its own one-line refusal
  try {
    // Reading a damaged study (a table dropped, malformed JSON in a row) fails here, in SQLite's or
    // the JSON parser's words: found by an exploratory test (exit 1, no study named). Bad input: exit 2.
    auto info = s.info();
    auto trials = s.trials();
    auto baselines = s.baselines();
    auto confirmations = s.confirmations();
    auto result = s.result();
    check_records(trials, baselines, confirmations, result);
    ReportData d = build_report(path, info, trials, baselines, confirmations, result);
    // After the status: a resume that began between the two is seen writing (found in review).
    if (d.running) set_writer(d, probe.writer());
    return d;
  } catch (const wgopt::UsageError&) {
    throw;
  } catch (const std::exception& e) {  // a hand-damaged record (a score of -inf): say which study, not only the statistic
    throw wgopt::UsageError(fmt::format("study {} holds a record the report cannot use ({}): it was changed by hand or damaged; "
                                        "report an intact copy of it",
                                        one_line(path, 200), one_line(e.what(), 300)));
  }
}

std::string trial_count_text(const ReportData& d) {
  std::string parts;
  const std::map<std::string, std::string> said{{"voided", "voided by an outage outside wgopt"},
                                                 {"stalled", "stalled with the path up and measured again"}};
  for (const char* s : {"complete", "pruned", "failed", "infeasible", "interrupted", "running", "voided", "stalled"}) {
    auto it = d.state_counts.find(s);
    if (it == d.state_counts.end()) continue;
    const auto word = said.find(s);
    parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", it->second, word != said.end() ? word->second : s);
  }
  const size_t n = d.trials.size();
  return fmt::format("{} trial{}{}{}", n, n == 1 ? "" : "s", parts.empty() ? "" : ": ", parts);
}

std::string winner_label(const ReportData& d) {
  return d.winner_trial ? fmt::format("trial {}", *d.winner_trial) : "-";
}

}  // namespace wgopt::experiments

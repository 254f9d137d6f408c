#pragma once
// `wgopt report`: the model. A study file -> ReportData (everything a report shows, as plain
// numbers and strings), which the renderers in report_render.hpp turn into text, Markdown, HTML or
// JSON. Building the model is pure (build_report); load_report() is the one function that reads a
// file, and it opens the study read-only, so reporting on a study a live search is writing changes
// nothing in it.
//
// Where each part comes from:
//   header        StudyInfo (host facts, strategy, seed, budget, status) and StudyResult (outcome,
//                 evidence: baseline/winner score with ci95, gain with ci95 and p-value, profile)
//   §7.1 table    baseline rounds, each complete trial that raised the best score so far, and the
//                 confirmation rounds per arm; throughput is the mean over scenarios, top core %soft
//                 the hottest scenario's, drops the mean per scenario over one measurement window
//                 (the same reduction `wgopt search` prints at its end)
//   moved knobs   the winner's params against the host's values as found (see baseline_source)
//   convergence   every trial with its score and end time; best so far over complete trials
//   knob effect   per-knob main effect over the complete trials (see effect_method)
//   per-core load baseline rounds vs the winner's confirmation rounds (or its trial), from the
//                 "probes" the records carry; studies written before that have none (cores empty)
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/report/table.hpp"
#include "experiments/study/evidence.hpp"
#include "experiments/study/study_store.hpp"

namespace wgopt::experiments {

struct ReportTrial {
  int number = 0;
  TrialState state = TrialState::Running;
  std::optional<double> score;           // complete: measured; pruned: the estimate the optimizer got
  std::optional<double> throughput_mbps; // mean over the scenarios that reported one
  double minutes = 0;                    // when the trial ended, minutes since the study began
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> moved;  // params that differ from the baseline values
  std::string note;
  bool winner = false;
  bool best_so_far = false;              // a complete trial that raised the best score
};

struct MovedKnob {
  std::string id;
  std::string from;  // "?" when the study does not tell the host's value
  std::string to;
  // From the evidence of a simplified winner: the model's estimate of this change's contribution
  // with its 95% interval (absent: no estimate), and whether it went back to the host's value.
  std::optional<double> contribution;
  std::optional<std::pair<double, double>> ci95;
  std::optional<PlantCheck> check;  // what a plant check measured of returning it
  bool returned = false;
  bool return_unchecked = false;    // kept, its return proposed and never checked (no time or too few rounds)
  std::optional<Support> support;   // a kept change's (support_of); absent for a returned one
};

struct KnobLevel {
  std::string value;
  int n = 0;             // complete trials at this value
  double mean = 0;       // their mean score
  double delta = 0;      // mean - reference (the baseline mean, or the mean of all complete trials)
};

// A knob with more distinct values than this among the complete trials, all of them numbers, is
// shown as kEffectBins ranges of its values instead of one level per value.
inline constexpr size_t kMaxEffectLevels = 6;
inline constexpr size_t kEffectBins = 4;

struct KnobEffect {
  std::string id;
  std::vector<KnobLevel> levels;  // by mean, best first; binned: ranges low to high ("16..401")
  bool binned = false;
  double spread = 0;              // best level mean - worst level mean (0 with one level)
};

struct CoreLoad {
  int cpu = 0;
  double usr = 0, sys = 0, soft = 0;  // % of the core's time, averaged over scenarios and rounds
  double busy() const { return usr + sys + soft; }
};

struct ReportData {
  std::string study_path;
  StudyInfo info;
  std::optional<StudyResult> result;
  bool running = false;  // status "running": a search may still be writing it (or died without a word)
  // Read from the file (load_report, StudyStore::writer): the pid of the wgopt writing it, or, with
  // status "running" and no writer on this host, abandoned (its search was killed or crashed), and
  // then `running` is false.
  std::optional<int> writer_pid;
  bool abandoned = false;

  int rounds_baseline = 0;  // the rounds baseline_mean comes from (the search's, or the confirmation's baseline arm)
  std::optional<double> baseline_mean;
  std::string baseline_score_source;  // which rounds baseline_mean comes from (the search's or the confirmation's)
  std::optional<std::pair<double, double>> baseline_ci95;
  std::optional<double> winner_mean;  // from the evidence: the winner's, or a kept baseline's candidate's
  std::optional<std::pair<double, double>> winner_ci95;
  nlohmann::json gain = nullptr;  // evidence.gain: {score, ci95, relative, p_value, method} or null
  // The search kept the host's values: the winner shown is a candidate the profile does not carry,
  // and the gain (when recorded) is that candidate's, not the profile's.
  bool not_promoted = false;
  // What the report calls the trial it singles out: "winner" when the result promoted it,
  // "candidate" when the baseline was kept, "best trial" with no result yet (found by an
  // exploratory test: a kept baseline's and an interrupted study's best trial were called "winner",
  // one of them scored below the baseline).
  std::string role() const { return !result ? "best trial" : not_promoted ? "candidate" : "winner"; }

  std::string window_label;             // "10s": one measurement window (objective duration)
  std::vector<ComparisonRow> table_rows;

  std::optional<int> winner_trial;
  // "result" (promoted), "the confirmed candidate, not promoted: ..." (kept-baseline),
  // "confirmation candidate" (confirmation under way), "best complete trial" (search under way)
  std::string winner_source;
  std::map<std::string, std::string> baseline_values;
  std::string baseline_source;          // how the host's values were recovered
  std::vector<MovedKnob> moved;         // kept changes first, then those returned to the host's value
  bool moved_explained = false;         // the evidence gives contributions (a simplified winner)
  std::string simplification;           // its one line
  std::string support;                  // what the kept changes rest on (support_line; empty: none kept)

  std::vector<ReportTrial> trials;
  std::map<std::string, int> state_counts;  // "complete" -> 4 ...

  std::vector<KnobEffect> effects;      // largest spread first
  std::string effect_method;

  std::vector<CoreLoad> cores_before, cores_after;
  std::string cores_before_source, cores_after_source;  // empty when there is no per-core data
};

// The model of a study's records. Pure. Of a resumed study's runs, the baseline rounds and the
// confirmation rows shown are the last run's (from its baseline round 1 on).
ReportData build_report(const std::string& study_path, const StudyInfo& info, const std::vector<TrialRecord>& trials,
                        const std::vector<BaselineRecord>& baselines,
                        const std::vector<ConfirmationRecord>& confirmations, const std::optional<StudyResult>& result);

// Opens `path` read-only and builds its model. Throws UsageError (one line) when the file is
// missing or not a wgopt study.
ReportData load_report(const std::string& path);

// "6 trials: 4 complete, 1 pruned, 1 failed" (the states present, in a fixed order).
std::string trial_count_text(const ReportData& d);

// The winner's label in tables: "trial 4", or "-" when there is none.
std::string winner_label(const ReportData& d);

}  // namespace wgopt::experiments

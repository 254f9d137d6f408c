#pragma once
// Early stopping: after a few seconds of a candidate's iperf3 run, is it clearly worse than the
// reference (the edge of the best tenth of the rates the search has seen, at first the baseline's)?
// If so the loop kills the run (Command::should_stop) and records the trial as pruned, so the budget
// goes to promising candidates: the first seconds of every measurement are its screen, and only a
// candidate that may reach the top of the search goes on to a full-length measurement, in the same
// iperf3 run (no second ramp-up). Optuna's PercentilePruner idea, as pure functions fed snapshots.
//
// Conservative by construction: a candidate is pruned only when even an optimistic estimate of its
// mean (the upper confidence bound) is below the reference minus a margin, and the margin is the
// larger of a relative margin and a multiple of the reference's run-to-run noise. The confidence
// bound is widened for autocorrelated per-second samples (a slow drift is not n independent looks).
//
// Calibration (bench/bench_study_decisions: 10 s runs, AR(1) per-second noise, called every
// second but never in the last (stop_saves_time), defaults, incumbent per-second sd passed): with 3 %
// per-second noise a candidate at 50 or 70 % of the incumbent is pruned every time, after 4 and 5 s,
// one at 85 % 90 % of the time, an equal one never; with 10 % noise 100 / 62 / 2 % and an equal one
// 0.1 %. Without the incumbent's per-second sd the t-based test waits for 3 seconds past the ramp
// (7 s) and wrongly prunes an equal candidate up to 3 % of the time: pass it. In simulated searches
// (20 candidates from a poor start, a ramp that grows with the rate as on the testbed) the
// reference at the best tenth's edge with the ramp prior and its noise scaled to its rate
// (move_reference) stops 0-0.2 % of the top decile and saves 25-32 % of the measurement time (30-34 %
// with the baseline's noise unscaled); without the prior, judging every candidate on the baseline's
// 1-2 s warm-up, it stopped 33-71 %.
#include <span>
#include <string>
#include <vector>

namespace wgopt::experiments {

struct PrunerOptions {
  int warmup_seconds = 3;     // leading seconds ignored (TCP slow start, iperf3 ramp-up)
  int min_samples = 3;        // samples after warm-up before any decision (incumbent noise unknown)
  // With the incumbent's per-second noise known (PruneReference::per_second_sd_mbps > 0) the test is
  // sequential from this many samples after warm-up: the sd is not estimated from the candidate's
  // few samples, and the confidence is spent over the looks (look k at 1 - alpha 6 / (pi^2 k^2)), so
  // the chance of ever stopping a candidate as good as the threshold stays below 1 - confidence
  // however many seconds it is looked at. 0: always the t-based test after min_samples.
  int known_noise_min_samples = 1;
  double confidence = 0.99;   // one-sided confidence of the candidate's upper bound, in (0.5, 1)
  double margin = 0.05;       // relative: prune only below incumbent * (1 - margin); in [0, 1)
  double noise_sigmas = 2.0;  // ... and below incumbent - noise_sigmas * incumbent noise; >= 0
  // The reference a candidate is compared with is not the best measurement so far but the lower
  // edge of the best `reference_top_fraction` of the rates the search has seen (top_fraction_edge:
  // Optuna's PercentilePruner), so a candidate that would land among the best of what the search
  // has measured is not stopped because an even better one came first. In (0, 1]; tiny values
  // mean "the best".
  double reference_top_fraction = 0.1;
  // How far a candidate's rate may still be below its steady rate in each leading second of its
  // measurement (ramp_prior[t]: at least that fraction in second t; 1 past the end), before the
  // search has seen a slower ramp (PruneReference::ramp_floor). A configuration that ramps slowly
  // (bbr with large buffers on the testbed: 0.37, 0.57, 0.89, 0.77 of its steady rate in its first
  // four seconds; a re-measurement 0.48, 0.39) must not be judged on its ramp, and the baseline's
  // ramp says nothing of a candidate's: a poor start is at speed in 1 s. So while a measurement is in
  // these seconds the pruner judges its latest second divided by that fraction (an optimistic
  // steady rate: only a clearly poor candidate is stopped this early), and after them only the
  // seconds past the ramp. The defaults are 0.9 of the slowest fractions seen on the testbed.
  // Each in (0, 1]; empty: no ramp beyond the warm-up.
  std::vector<double> ramp_prior = {0.3, 0.35, 0.5, 0.7};
  // A stop is made only while it saves at least this many seconds of the measurement's plan
  // (stop_saves_time; a later scenario's seconds count). In the plan's last second a stop saves
  // nothing, and it costs the trial its complete measurement: the score and the probes' counts are
  // replaced by an estimate from the series. On the testbed's 5 s screens every stop past the ramp
  // came there: 5 of the 6 stops of a 10-minute search (bench/README) each took the full 5.07 s,
  // and one of them was a top-decile configuration. Counted in per-second samples: a sampler late
  // under load may let a stop through in the plan's real last second. >= 0.
  int min_seconds_saved = 1;

  // Throws UsageError naming the first invalid option, its value and the allowed range.
  void validate() const;
};

// What the candidate is compared with: the incumbent's (or baseline's) measured mean throughput and
// its run-to-run noise (standard deviation between repeated measurements of that configuration).
struct PruneReference {
  double mean_mbps = 0;   // > 0
  double noise_mbps = 0;  // >= 0
  // The incumbent's per-second standard deviation within a run (0: unknown). The candidate's own
  // spread is never taken as smaller than this: three quiet seconds by chance must not look certain.
  double per_second_sd_mbps = 0;  // >= 0
  // The lag-1 autocorrelation of those per-second samples (pooled_per_second_r of the baseline
  // rounds), in [0, 1); negative: unknown (the candidate's own, once it has 3 samples, else 0.5).
  double per_second_r = -1;
  // The slowest ramp seen in complete runs (the baseline rounds', the complete trials'): for each of
  // the first ramp_prior.size() seconds the lowest fraction of its steady rate a run reached
  // (lower_ramp_floor). It only ever lowers PrunerOptions::ramp_prior. Empty: none seen.
  std::vector<double> ramp_floor;
};

struct PruneDecision {
  bool prune = false;
  size_t samples_used = 0;      // per-second samples after warm-up
  double candidate_mean = 0;    // Mbit/s over those samples (0 if none)
  double candidate_upper = 0;   // its upper confidence bound (0 if not computed)
  double threshold = 0;         // prune when candidate_upper < threshold
  std::string reason;           // one line for the log and the study ("mean 412.0 Mbit/s, upper ...")
};

// The baseline's reference moved to the rate `mean_mbps` (the edge of the best tenth the search
// has seen): its run-to-run and per-second noise grow in proportion when that rate is above the
// baseline's, never below the baseline's. Throughput noise is multiplicative: on the testbed the poor
// baseline swings 13 Mbit/s per second at 211 Mbit/s and good configurations ~30 at 440, and one
// configuration measured 466 and 366 in two full runs. With the baseline's absolute noise the
// bound on a good candidate is too narrow and near-top candidates are stopped. `ref` keeps the
// ramp floor it has learned. Throws wgopt::Error when baseline.mean_mbps is not positive.
void move_reference(PruneReference& ref, const PruneReference& baseline, double mean_mbps);

// Whether stopping a measurement now saves PrunerOptions::min_seconds_saved: `samples` seconds
// of the scenario being run (`scenario_seconds` long) are seen, and `later_seconds` of the plan's
// later scenarios are still to run. Throws UsageError for invalid options.
bool stop_saves_time(size_t samples, int scenario_seconds, int later_seconds, const PrunerOptions& options = {});

// `per_second_mbps` is the candidate's throughput series so far, one value per elapsed second in
// order (iperf3 intervals). Returns prune == false while there are too few samples after warm-up.
// While the series is inside the ramp (ramp_prior, ramp_floor) only its latest second is judged,
// divided by the least fraction of the steady rate that second reaches; past the ramp, the seconds
// after it. The sequential test counts its looks from the first second after the warm-up.
// Throws UsageError for invalid options, wgopt::Error for a non-finite sample or a reference with
// mean <= 0 or negative noise.
PruneDecision decide_prune(std::span<const double> per_second_mbps, const PruneReference& incumbent,
                           const PrunerOptions& options = {});

// The mean of a per-second series after its first `warmup_seconds` (the whole series when it is not
// longer than that; 0 when empty): what decide_prune compares, and so what a reference's mean must
// be (a mean that includes the ramp would be lower than the same configuration's steady rate).
// Throws wgopt::Error on a non-finite sample.
double steady_mean(std::span<const double> per_second_mbps, int warmup_seconds);

// The lower edge of the best `top_fraction` of `means` (the steady rates the search has seen: the
// baseline's and each trial's, full or stopped): their (1 - top_fraction) quantile, interpolated
// linearly between order statistics (numpy's default), so below the best from the second value on.
// 0 for no means. Throws UsageError for a fraction outside (0, 1].
double top_fraction_edge(std::vector<double> means, double top_fraction);

// How many leading seconds of a measurement are ramp (connection setup, slow start, a partial
// first probe second), measured on repeated runs of one configuration (the baseline rounds): the
// smallest w <= max_warmup such that from second w on the mean over runs of every second is within
// `tolerance` (relative) of the steady rate (each run's mean after max_warmup seconds). max_warmup
// when fewer than 2 runs are longer than max_warmup + 2 seconds (nothing to measure against).
// Throws wgopt::Error on a non-finite sample.
int measured_warmup_seconds(const std::vector<std::vector<double>>& series, int max_warmup, double tolerance = 0.05);

// The fraction of its steady rate (its mean after the first `seconds`) each of a run's first
// `seconds` seconds reached; empty when the run is not longer than seconds + 2 or its steady rate
// is not positive (nothing to measure against). Throws wgopt::Error on a non-finite sample.
std::vector<double> ramp_fractions(std::span<const double> run, size_t seconds);

// Lowers `floor` to `fractions` where they are lower (extending it where it is shorter).
void lower_ramp_floor(std::vector<double>& floor, const std::vector<double>& fractions);

// A complete run (a baseline round, a complete trial): its ramp over the ramp prior's seconds
// lowers `ref`'s ramp floor where it is slower than any seen.
void learn_ramp(PruneReference& ref, std::span<const double> run, const PrunerOptions& options);

// The per-second standard deviation within runs, pooled over several per-second series of the same
// configuration (the baseline rounds), each without its first `warmup_seconds`: what to pass as
// PruneReference::per_second_sd_mbps. Series with fewer than 2 samples left are skipped; 0 if none
// remain. Throws wgopt::Error on a non-finite sample.
double pooled_per_second_sd(const std::vector<std::vector<double>>& series, int warmup_seconds);

// The lag-1 autocorrelation within runs, pooled the same way (each run around its own mean), clamped
// to [0, 0.95]; -1 when no series has 3 samples after warm-up. Throws wgopt::Error on a non-finite sample.
double pooled_per_second_r(const std::vector<std::vector<double>>& series, int warmup_seconds);

}  // namespace wgopt::experiments

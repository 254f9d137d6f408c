// How the closed loop's two statistical decisions behave on synthetic throughput, to choose their
// defaults: early stopping (experiments/pruner.hpp) and confirmation before promotion
// (experiments/confirm.hpp), and the simplification checks' chain through the confirmation
// (chain_table). Prints the tables; no timing, no host access.
//
// Model (an assumption, stated so it can be checked against the testbed): per-second iperf3
// samples around the configuration's true mean after a slow-start ramp (--ramp S; 3 s, 1 s and one
// that grows with the rate, --ramp rate, by default), AR(1) noise (phi 0.5,
// per-second relative sd `noise`), and run-to-run noise of the mean of 2 %.
//
//   bench_study_decisions [--runs N] [--seed S] [--markdown] [--confidence C] [--min-samples N] [--warmup S]
//                         [--known-noise-min-samples N] [--top-fraction F] [--ramp S|rate]
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "experiments/search/winner_simplification.hpp"
#include "experiments/study/confirm.hpp"
#include "experiments/study/pruner.hpp"
#include "experiments/report/table.hpp"

using namespace wgopt::experiments;

namespace {

constexpr double kIncumbent = 1000;  // Mbit/s
constexpr double kRunNoise = 0.02;   // relative sd of a run's mean between runs
constexpr int kSeconds = 10;         // a full measurement

// A ramp of `ramp` seconds: second t < ramp runs at (t + 1) / (ramp + 1) of the rate (slow start).
std::vector<double> run_series(double mean, double noise, std::mt19937& rng, int ramp = 3) {
  std::normal_distribution<double> z(0, 1);
  double run_mean = mean * (1 + kRunNoise * z(rng));
  std::vector<double> out;
  double e = 0;
  const double phi = 0.5;
  for (int t = 0; t < kSeconds; ++t) {
    e = phi * e + std::sqrt(1 - phi * phi) * noise * run_mean * z(rng);
    const double share = t < ramp ? (t + 1) / (ramp + 1.0) : 1.0;
    out.push_back(std::max(0.0, share * run_mean + e));
  }
  return out;
}

void pruning_table(int runs, unsigned seed, bool markdown, const PrunerOptions& opt) {
  Table t({"true mean vs incumbent", "per-second noise", "incumbent sd known", "pruned", "mean seconds measured",
           "time saved"});
  // Each noise level with and without the incumbent's per-second spread (pooled_per_second_sd of
  // the baseline rounds, here the true value).
  for (auto [noise, known] : std::vector<std::pair<double, bool>>{{0.03, false}, {0.03, true}, {0.10, false}, {0.10, true}}) {
    const PruneReference ref{.mean_mbps = kIncumbent, .noise_mbps = kRunNoise * kIncumbent,
                             .per_second_sd_mbps = known ? noise * kIncumbent : 0, .per_second_r = known ? 0.5 : -1};
    for (double ratio : {0.50, 0.70, 0.85, 0.93, 1.00, 1.05}) {
      std::mt19937 rng(seed);
      int pruned = 0;
      double seconds = 0;
      for (int r = 0; r < runs; ++r) {
        auto s = run_series(ratio * kIncumbent, noise, rng);
        int used = kSeconds;
        for (int n = 1; stop_saves_time(static_cast<size_t>(n), kSeconds, 0, opt); ++n) {  // asked once per second
          if (decide_prune(std::span<const double>(s.data(), n), ref, opt).prune) {
            used = n;
            ++pruned;
            break;
          }
        }
        seconds += used;
      }
      double mean_s = seconds / runs;
      t.add_row({fmt::format("{:.0f}%", ratio * 100), fmt::format("{:.0f}%", noise * 100), known ? "yes" : "no",
                 fmt::format("{:.1f}%", 100.0 * pruned / runs), fmt::format("{:.1f}", mean_s),
                 fmt::format("{:.0f}%", 100 * (1 - mean_s / kSeconds))});
    }
  }
  std::cout << fmt::format("Early stopping (warm-up {} s, {} samples, confidence {}, margin {} or {} x run noise), ",
                           opt.warmup_seconds, opt.min_samples, opt.confidence, opt.margin, opt.noise_sigmas)
            << runs << " runs each, " << kSeconds << " s measurements\n\n"
            << (markdown ? t.render_markdown() : t.render_text()) << "\n";
}

// One simulated search of `trials` candidates from a poor start: each candidate's true mean is the
// baseline's times exp(N(0.2, 0.35)) (most candidates of a search are worse than the incumbent once it
// has improved, a few better; the spread of bench_search's trials on the testbed, 0.5x..2.1x of the
// poor baseline). The pruner's reference starts at the baseline rounds' steady mean and follows the
// rates the search has seen (each candidate's full mean, or its mean until it was stopped): their
// best (the incumbent) or the edge of their best tenth (PrunerOptions::reference_top_fraction). A full measurement's mean is the candidate's series after
// the ramp, measured whole: what it would have scored without early stopping; the top decile is of those.
struct SearchOutcome {
  double seconds = 0, full_seconds = 0;
  int stopped = 0, top = 0, top_stopped = 0, warmup_sum = 0, searches = 0;
  void add(const SearchOutcome& o) {
    seconds += o.seconds, full_seconds += o.full_seconds, stopped += o.stopped, top += o.top;
    top_stopped += o.top_stopped, warmup_sum += o.warmup_sum, searches += o.searches;
  }
};

struct ScreenVariant {
  std::string label;
  bool sequential = true;
  bool top_fraction = true;    // off: the reference is the incumbent (reference_top_fraction ~ 0)
  bool measure_warmup = true;  // off: the configured warm-up
  bool ramp_aware = true;      // off: no ramp_prior, no learned ramp floor (the pruner before 2026-12-03)
  bool scaled_noise = true;    // off: the baseline's noise in Mbit/s whatever the reference's rate
};

// The ramp of one simulated run: `ramp` seconds, or with a negative `ramp` one that grows with the
// rate as on the testbed (the poor baseline at speed in 1 s, bbr with large buffers at twice its
// rate in 4): 1 + 3 (rate / baseline - 1) seconds, in [0, 4].
int ramp_of(int ramp, double mean, double baseline) {
  if (ramp >= 0) return ramp;
  return static_cast<int>(std::clamp(std::lround(1 + 3 * (mean / baseline - 1)), 0L, 4L));
}

SearchOutcome simulated_search(int trials, double noise, int ramp, const PrunerOptions& base_opt, const ScreenVariant& v,
                               std::mt19937& rng) {
  std::normal_distribution<double> z(0, 1);
  const double baseline = kIncumbent;
  PrunerOptions opt = base_opt;
  if (!v.sequential) opt.known_noise_min_samples = 0;
  if (!v.top_fraction) opt.reference_top_fraction = 1e-9;
  if (!v.ramp_aware) opt.ramp_prior.clear();
  std::vector<std::vector<double>> rounds;
  for (int r = 0; r < 3; ++r) rounds.push_back(run_series(baseline, noise, rng, ramp_of(ramp, baseline, baseline)));
  if (v.measure_warmup) opt.warmup_seconds = measured_warmup_seconds(rounds, opt.warmup_seconds);
  std::vector<std::vector<double>> series;
  std::vector<double> full_mean;
  for (int i = 0; i < trials; ++i) {
    const double mean = baseline * std::exp(0.2 + 0.35 * z(rng));
    const int r = ramp_of(ramp, mean, baseline);
    series.push_back(run_series(mean, noise, rng, r));
    full_mean.push_back(steady_mean(series.back(), std::max(r, opt.warmup_seconds)));
  }
  std::vector<double> sorted = full_mean;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const double top_cut = sorted[static_cast<size_t>(std::max(0, trials / 10 - 1))];  // the top decile of full measurements
  double baseline_rate = 0;  // the rounds' mean steady rate: the first rate the search has seen
  for (const auto& r : rounds) baseline_rate += steady_mean(r, opt.warmup_seconds) / static_cast<double>(rounds.size());
  std::vector<double> seen = {baseline_rate};
  PruneReference ref{.mean_mbps = 0, .noise_mbps = kRunNoise * baseline,
                     .per_second_sd_mbps = pooled_per_second_sd(rounds, opt.warmup_seconds),
                     .per_second_r = pooled_per_second_r(rounds, opt.warmup_seconds)};
  for (const auto& r : rounds) learn_ramp(ref, r, opt);
  PruneReference baseline_ref = ref;
  baseline_ref.mean_mbps = baseline_rate;
  SearchOutcome o;
  o.searches = 1;
  o.warmup_sum = opt.warmup_seconds;
  for (int i = 0; i < trials; ++i) {
    const auto& s = series[static_cast<size_t>(i)];
    const double edge = top_fraction_edge(seen, opt.reference_top_fraction);
    if (v.scaled_noise) move_reference(ref, baseline_ref, edge);
    else ref.mean_mbps = edge;
    int used = kSeconds;
    for (int n = 1; stop_saves_time(static_cast<size_t>(n), kSeconds, 0, opt); ++n) {
      if (decide_prune(std::span<const double>(s.data(), static_cast<size_t>(n)), ref, opt).prune) {
        used = n;
        break;
      }
    }
    const bool top = full_mean[static_cast<size_t>(i)] >= top_cut;
    o.seconds += used;
    o.full_seconds += kSeconds;
    o.stopped += used < kSeconds;
    o.top += top;
    o.top_stopped += top && used < kSeconds;
    // What the search has seen of it: the full mean, or the stopped run's mean so far.
    seen.push_back(steady_mean(std::span<const double>(s.data(), static_cast<size_t>(used)), opt.warmup_seconds));
    if (used == kSeconds) learn_ramp(ref, s, opt);
  }
  return o;
}

void screening_table(int runs, unsigned seed, int ramp, bool markdown, const PrunerOptions& opt) {
  Table t({"per-second noise", "test", "reference", "warm-up", "ramp", "candidates stopped", "measurement time saved",
           "top decile stopped early"});
  const int trials = 20;
  const std::vector<ScreenVariant> variants = {
      {"t-based", false, false, false, false, false},
      {"sequential, noise known", true, false, false, false, false},
      {"sequential, noise known", true, true, false, false, false},
      {"sequential, noise known", true, true, true, false, false},
      {"sequential, noise known", true, true, true, true, false},
      {"sequential, noise scaled", true, true, true, true, true},
  };
  for (double noise : {0.03, 0.10}) {
    for (const auto& v : variants) {
      std::mt19937 rng(seed);
      SearchOutcome sum;
      for (int r = 0; r < std::max(1, runs / trials); ++r) sum.add(simulated_search(trials, noise, ramp, opt, v, rng));
      const double n = sum.full_seconds / kSeconds;
      t.add_row({fmt::format("{:.0f}%", noise * 100), v.label, v.top_fraction ? "edge of the best tenth" : "incumbent",
                 v.measure_warmup ? fmt::format("measured (mean {:.1f} s)", static_cast<double>(sum.warmup_sum) / sum.searches)
                                  : fmt::format("{} s", opt.warmup_seconds),
                 v.ramp_aware ? "prior, learned floor" : "none",
                 fmt::format("{:.1f}%", 100.0 * sum.stopped / n), fmt::format("{:.1f}%", 100 * (1 - sum.seconds / sum.full_seconds)),
                 fmt::format("{:.1f}% of {}", 100.0 * sum.top_stopped / std::max(1, sum.top), sum.top)});
    }
  }
  std::cout << fmt::format("Early stopping in simulated searches ({} candidates each from a poor start; {} candidates per row), "
                           "{} s measurements, {}\n\n",
                           trials, std::max(1, runs / trials) * trials, kSeconds,
                           ramp >= 0 ? fmt::format("a {} s ramp", ramp) : std::string("a ramp that grows with the rate (1 s at the baseline's, 4 s at twice it)"))
            << (markdown ? t.render_markdown() : t.render_text()) << "\n";
}

// `rounds` interleaved rounds of the incumbent and a candidate `gain` above it, each measurement
// `noise` of the incumbent, the host slowing 1% a round from round `from` on.
std::vector<ConfirmationRound> simulated_rounds(int rounds, double gain, double noise, std::normal_distribution<double>& z, std::mt19937& rng,
                                                int from = 0) {
  std::vector<ConfirmationRound> out;
  for (int i = from; i < from + rounds; ++i) {
    const double drift = -0.01 * i;  // the host slows a little over the rounds
    out.push_back({kIncumbent * (1 + drift + noise * z(rng)), kIncumbent * (1 + gain + drift + noise * z(rng))});
  }
  return out;
}

// One simulated confirmation of `rounds` rounds.
Confirmation simulated_confirmation(int rounds, double gain, double noise, std::normal_distribution<double>& z, std::mt19937& rng) {
  return decide_confirmation(simulated_rounds(rounds, gain, noise, z, rng));
}

// The search's confirmation with time for a second look (experiments/search/confirmation_rounds.cpp)
// on the rounds `first` of a one-look confirmation: each look at 97.5% (decide_confirmation_in_looks);
// when the first does not promote a positive gain, as many rounds again and the second look. Its
// rounds measured in `measured`.
Confirmation two_look_confirmation(std::vector<ConfirmationRound> all, double gain, double noise, std::normal_distribution<double>& z,
                                   std::mt19937& rng, int& measured) {
  const int rounds = static_cast<int>(all.size());
  measured = rounds;
  const Confirmation first = decide_confirmation_in_looks(all, 1, 2);
  if (!looks_again(first)) return first;
  const auto more = simulated_rounds(rounds, gain, noise, z, rng, rounds);
  all.insert(all.end(), more.begin(), more.end());
  measured += rounds;
  return decide_confirmation_in_looks(all, 2, 2);
}

void confirmation_table(int runs, unsigned seed, bool markdown) {
  Table t({"true gain", "noise", "rounds", "promoted", "mean estimated gain", "two looks: promoted", "two looks: rounds measured"});
  std::normal_distribution<double> z(0, 1);
  for (double noise : {kRunNoise, 0.04, 0.08}) {
    for (double gain : {-0.05, 0.0, 0.02, 0.05, 0.10, 0.20}) {
      for (int rounds : {3, 4, 6, 8}) {
        std::mt19937 rng(seed);
        int promoted = 0, promoted2 = 0;
        double est = 0, measured2 = 0;
        for (int r = 0; r < runs; ++r) {  // both on the same first rounds
          const auto first = simulated_rounds(rounds, gain, noise, z, rng);
          const Confirmation d = decide_confirmation(first);
          promoted += d.promote;
          est += d.relative_gain;
          int measured = 0;
          promoted2 += two_look_confirmation(first, gain, noise, z, rng, measured).promote;
          measured2 += measured;
        }
        t.add_row({fmt::format("{:+.0f}%", gain * 100), fmt::format("{:.0f}%", noise * 100), std::to_string(rounds),
                   fmt::format("{:.1f}%", 100.0 * promoted / runs), fmt::format("{:+.1f}%", 100 * est / runs),
                   fmt::format("{:.1f}%", 100.0 * promoted2 / runs), fmt::format("{:.1f}", measured2 / runs)});
      }
    }
  }
  std::cout << "Confirmation (defaults: paired t, 95 %, minimum gain 2 %), run-to-run noise per row, " << runs
            << " runs each; two looks: each at 97.5 %, the second after as many rounds again when the first does not promote "
               "a positive gain (the search's when the time held for the simplification holds them)\n\n"
            << (markdown ? t.render_markdown() : t.render_text());
}

// A kept simplification check's gain over the baseline is the confirmation's chained with the
// check's cost (experiments/search/winner_simplification.hpp gain_through_check), so the
// confirmation's rounds are in every later chain. Testbed-shaped (2026-12-06: a top configuration's
// run-to-run sd ~37 on a ~400-500 score, the confirmations' paired differences 13-47 apart, the
// model's estimates of a check's cost +-8 .. +-19): each measurement `noise` of the incumbent (4%
// and 8%) with the confirmation's slow drift, each check 5 rounds of the whole winner against the
// simplified one at 1.05x that noise (half length), the model's estimate of the check's cost
// unbiased with sd kModelSd. Every check's chain extends the one before, as when every earlier
// check was kept. Row "needless": every check returns changes that cost nothing, so the simplified
// winner is as far above the baseline as the whole one; row "costly": each of the first 4 checks
// returns a quarter of the gain, so from the fourth on the simplified winner is no better than the
// baseline. This is the chain's rule alone: the search also holds each check to the allowance and
// to "not worse than the whole beyond noise", which refuse most costly returns before the chain
// is asked. Columns: of the runs whose confirmation promoted, the share whose chain after the j-th
// check shows the simplified winner above the baseline (95% interval above zero, at least 2%).
// "re-anchored": a check whose chain does not show it measures the simplified winner against the
// baseline itself (kCheckRounds rounds at the check's noise, the confirmation's drift) and its
// chain becomes the two pooled (pool_confirmations), as the search's checks refused for their chain
// alone do (winner_simplification.hpp refused_by_chain_alone); "anchors" is how many such
// measurements a run made, on average. As in the rows without it, the next check extends the
// chain even when it still does not show the simplified winner above the baseline (the search
// would keep the earlier winner), so in the "costly" rows checks 5 and 6 re-anchor the same
// no-better winner again: their columns count up to three anchored looks; check 4's is the first
// decision on it (the chain's look, then the anchor's).
constexpr double kModelSd = 0.035;
constexpr int kChainChecks = 6;
constexpr int kCostlyChecks = 4;
constexpr int kCheckRounds = 5;

void chain_table(int runs, unsigned seed, bool markdown) {
  std::vector<std::string> header{"noise", "whole gain", "returns", "confirmation rounds", "re-anchored", "promoted"};
  for (int j = 1; j <= kChainChecks; ++j) header.push_back(fmt::format("after check {}", j));
  header.push_back("anchors");
  Table t(header);
  std::normal_distribution<double> z(0, 1);
  const std::pair<double, const char*> kinds[] = {{0.10, "needless"}, {0.20, "needless"}, {0.20, "costly"}};
  for (double noise : {0.04, 0.08}) {
    for (const auto& [gain, kind] : kinds) {
      const double cost = std::string(kind) == "costly" ? gain / kCostlyChecks : 0.0;
      const std::pair<int, bool> variants[] = {{4, false}, {6, false}, {8, false}, {6, true}, {8, true}};
      for (const auto& [rounds, anchored] : variants) {
        std::mt19937 rng(seed);
        int promoted = 0, anchors = 0;
        std::vector<int> shown(kChainChecks, 0);
        for (int r = 0; r < runs; ++r) {
          Confirmation chain = simulated_confirmation(rounds, gain, noise, z, rng);
          if (!chain.promote) continue;
          ++promoted;
          double level = gain;  // the winner the next check starts from, over the baseline
          for (int j = 0; j < kChainChecks; ++j) {
            const double step = j < kCostlyChecks ? cost : 0.0;
            std::vector<ConfirmationRound> check;
            for (int i = 0; i < kCheckRounds; ++i) {
              check.push_back({.baseline = kIncumbent * (1 + level + 1.05 * noise * z(rng)),
                               .candidate = kIncumbent * (1 + level - step + 1.05 * noise * z(rng))});
            }
            const wgopt::opt::Difference model{.mean = kIncumbent * (step + kModelSd * z(rng)), .sd = kIncumbent * kModelSd};
            chain = gain_through_check(chain, decide_confirmation(check), model);
            level -= step;
            if (anchored && !chain.promote) {
              // The simplified winner against the baseline itself: a check's rounds at its noise, the confirmation's drift.
              chain = pool_confirmations(chain, simulated_confirmation(kCheckRounds, level, 1.05 * noise, z, rng));
              ++anchors;
            }
            shown[static_cast<size_t>(j)] += chain.promote;
          }
        }
        std::vector<std::string> row{fmt::format("{:.0f}%", noise * 100), fmt::format("{:+.0f}%", gain * 100), kind,
                                     std::to_string(rounds), anchored ? "yes" : "no", fmt::format("{:.1f}%", 100.0 * promoted / runs)};
        for (int n : shown) row.push_back(promoted ? fmt::format("{:.1f}%", 100.0 * n / promoted) : "-");
        row.push_back(promoted ? fmt::format("{:.2f}", static_cast<double>(anchors) / promoted) : "-");
        t.add_row(row);
      }
    }
  }
  std::cout << "\nSimplification checks chained through the confirmation (gain_through_check, the chain's rule alone): "
            << kCheckRounds << " check rounds at 1.05x the noise, the model's estimate of a check's cost +- " << kModelSd * 100
            << " %; of the promoted runs, the share whose chain shows the simpler winner above the baseline; " << runs
            << " runs each\n\n"
            << (markdown ? t.render_markdown() : t.render_text());
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 2000;
  unsigned seed = 1;
  bool markdown = false;
  PrunerOptions opt;
  std::vector<int> ramps = {3, 1, -1};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--seed" && i + 1 < argc) seed = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--markdown") markdown = true;
    else if (a == "--confidence" && i + 1 < argc) opt.confidence = std::atof(argv[++i]);
    else if (a == "--min-samples" && i + 1 < argc) opt.min_samples = std::atoi(argv[++i]);
    else if (a == "--warmup" && i + 1 < argc) opt.warmup_seconds = std::atoi(argv[++i]);
    else if (a == "--known-noise-min-samples" && i + 1 < argc) opt.known_noise_min_samples = std::atoi(argv[++i]);
    else if (a == "--top-fraction" && i + 1 < argc) opt.reference_top_fraction = std::atof(argv[++i]);
    else if (a == "--ramp" && i + 1 < argc) {
      const std::string r = argv[++i];
      if (r != "rate" && (r.empty() || r.find_first_not_of("0123456789") != std::string::npos)) {
        std::cerr << "bench_study_decisions: --ramp '" << r << "' is not a number of seconds: use e.g. --ramp 3, or --ramp rate\n";
        return 2;
      }
      ramps = {r == "rate" ? -1 : std::atoi(r.c_str())};
    }
    else {
      std::cerr << "usage: bench_study_decisions [--runs N] [--seed S] [--markdown] [--confidence C] "
                   "[--min-samples N] [--warmup S] [--known-noise-min-samples N] [--top-fraction F] [--ramp S|rate]\n";
      return 2;
    }
  }
  if (runs < 1) {
    std::cerr << "bench_study_decisions: --runs must be 1 or more\n";
    return 2;
  }
  opt.validate();
  pruning_table(runs, seed, markdown, opt);
  for (int r : ramps) screening_table(runs, seed, r, markdown, opt);
  confirmation_table(runs, seed, markdown);
  chain_table(runs, seed, markdown);
  return 0;
}

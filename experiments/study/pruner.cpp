#include "experiments/study/pruner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "experiments/study/stats.hpp"

namespace wgopt::experiments {

void PrunerOptions::validate() const {
  if (warmup_seconds < 0) {
    throw UsageError(fmt::format("pruner warmup_seconds {} is negative: use 0 or more", warmup_seconds));
  }
  if (min_samples < 2) {
    throw UsageError(fmt::format("pruner min_samples {} is too small: use 2 or more", min_samples));
  }
  if (!(confidence > 0.5 && confidence < 1)) {
    throw UsageError(fmt::format("pruner confidence {} is out of range: use a value in (0.5, 1), e.g. 0.95", confidence));
  }
  if (!(margin >= 0 && margin < 1)) {
    throw UsageError(fmt::format("pruner margin {} is out of range: use a fraction in [0, 1), e.g. 0.05", margin));
  }
  if (known_noise_min_samples < 0) {
    throw UsageError(fmt::format("pruner known_noise_min_samples {} is negative: use 0 (off) or 1 or more", known_noise_min_samples));
  }
  if (!(reference_top_fraction > 0 && reference_top_fraction <= 1)) {
    throw UsageError(fmt::format("pruner reference_top_fraction {} is out of range: use a fraction in (0, 1], e.g. 0.1",
                                 reference_top_fraction));
  }
  if (!(noise_sigmas >= 0) || !std::isfinite(noise_sigmas)) {
    throw UsageError(fmt::format("pruner noise_sigmas {} is invalid: use 0 or more, e.g. 2", noise_sigmas));
  }
  if (min_seconds_saved < 0) {
    throw UsageError(fmt::format("pruner min_seconds_saved {} is negative: use 0 or more, e.g. 1", min_seconds_saved));
  }
  for (double f : ramp_prior) {
    if (!(f > 0 && f <= 1)) {
      throw UsageError(fmt::format("pruner ramp_prior value {} is out of range: use fractions in (0, 1], e.g. 0.5", f));
    }
  }
}

namespace {

// Lag-1 autocorrelation; 0 when undefined. Per-second iperf3 samples drift together (cwnd, CPU
// frequency, a neighbour's load), which makes a naive confidence bound too narrow.
double lag1_autocorrelation(std::span<const double> xs, double mean) {
  double num = 0, den = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    den += (xs[i] - mean) * (xs[i] - mean);
    if (i + 1 < xs.size()) num += (xs[i] - mean) * (xs[i + 1] - mean);
  }
  return den > 0 ? num / den : 0;
}

// Var(mean of n AR(1) samples) / sigma^2: (1/n) (1 + 2 sum_{k<n} (1 - k/n) r^k).
double ar1_mean_variance_factor(size_t n, double r) {
  double sum = 1, rk = 1;
  for (size_t k = 1; k < n; ++k) {
    rk *= r;
    sum += 2 * (1 - static_cast<double>(k) / static_cast<double>(n)) * rk;
  }
  return sum / static_cast<double>(n);
}

// The least fraction of its steady rate a candidate reaches in second t: the prior, lowered by the
// slowest ramp seen; never below 5 % (a second that slow says nothing of the steady rate).
double ramp_fraction(const PruneReference& ref, const PrunerOptions& opt, size_t t) {
  double f = 1;
  if (t < opt.ramp_prior.size()) f = std::min(f, opt.ramp_prior[t]);
  if (t < ref.ramp_floor.size()) f = std::min(f, ref.ramp_floor[t]);
  return std::max(f, 0.05);
}

// How many leading seconds are ramp: up to the last second whose fraction is below 1.
size_t ramp_seconds(const PruneReference& ref, const PrunerOptions& opt) {
  size_t n = std::max(opt.ramp_prior.size(), ref.ramp_floor.size());
  while (n > 0 && ramp_fraction(ref, opt, n - 1) >= 1) --n;
  return n;
}

// The samples a decision reads: inside the ramp the latest second over its fraction (`fraction`
// < 1), past it the seconds after the ramp and the warm-up (`fraction` 1).
struct Window {
  std::vector<double> samples;
  double fraction = 1;
};

Window decision_window(std::span<const double> series, const PruneReference& ref, const PrunerOptions& opt) {
  const size_t n = series.size(), ramp = ramp_seconds(ref, opt);
  Window w;
  if (n <= ramp) {
    w.fraction = ramp_fraction(ref, opt, n - 1);
    w.samples = {series[n - 1] / w.fraction};
  } else {
    const size_t from = std::max(ramp, static_cast<size_t>(opt.warmup_seconds));
    w.samples.assign(series.begin() + static_cast<std::ptrdiff_t>(from), series.end());
  }
  return w;
}

// The sequential test with the incumbent's per-second noise known: decides from few samples. `look`
// counts from 1 at the first second it may decide on.
void decide_known_noise(const Window& w, const SampleStats& s, size_t look, const PruneReference& ref,
                        const PrunerOptions& opt, PruneDecision& d) {
  double r = ref.per_second_r;
  if (r < 0) r = s.n >= 3 ? std::clamp(lag1_autocorrelation(w.samples, s.mean), 0.0, 0.95) : 0.5;
  // The candidate's own spread, once it has a few samples, when it is larger than the incumbent's;
  // a second inside the ramp is scaled up, and its noise with it.
  const double known = ref.per_second_sd_mbps / w.fraction;
  const double sd = s.n >= 3 ? std::max(s.stddev, known) : known;
  const double k = static_cast<double>(look);
  const double alpha = (1 - opt.confidence) * 6 / (M_PI * M_PI * k * k);
  const double z = t_quantile(1 - alpha, 1e6);  // normal: the sd is known
  d.candidate_upper = s.mean + z * sd * std::sqrt(ar1_mean_variance_factor(s.n, r));
  d.prune = d.candidate_upper < d.threshold;
  const std::string what = w.fraction < 1 ? fmt::format("ramp-corrected rate {:.1f} Mbit/s (latest second / {:.2f})", s.mean, w.fraction)
                                          : fmt::format("mean {:.1f} Mbit/s over {} s", s.mean, s.n);
  d.reason = fmt::format("{}, upper bound {:.1f} {} threshold {:.1f} (incumbent {:.1f} ± {:.1f}; "
                         "sequential, per-second sd {:.1f} known)",
                         what, d.candidate_upper, d.prune ? "<" : ">=", d.threshold, ref.mean_mbps, ref.noise_mbps,
                         ref.per_second_sd_mbps);
}

// Without the incumbent's per-second noise: a t-based bound on the seconds past the ramp.
void decide_t_based(const Window& w, const SampleStats& s, const PruneReference& ref, const PrunerOptions& opt,
                    PruneDecision& d) {
  // Effective sample size under AR(1): n (1 - r) / (1 + r). Only ever shrinks n (conservative).
  double r = std::clamp(lag1_autocorrelation(w.samples, s.mean), 0.0, 0.99);
  double n_eff = std::max(2.0, static_cast<double>(s.n) * (1 - r) / (1 + r));
  double sd = std::max(s.stddev, ref.per_second_sd_mbps);
  d.candidate_upper = s.mean + t_quantile(opt.confidence, n_eff - 1) * sd / std::sqrt(n_eff);
  d.prune = d.candidate_upper < d.threshold;
  d.reason = fmt::format("mean {:.1f} Mbit/s over {} s, upper bound {:.1f} {} threshold {:.1f} (incumbent {:.1f} ± {:.1f})",
                         s.mean, s.n, d.candidate_upper, d.prune ? "<" : ">=", d.threshold, ref.mean_mbps,
                         ref.noise_mbps);
}

}  // namespace

bool stop_saves_time(size_t samples, int scenario_seconds, int later_seconds, const PrunerOptions& opt) {
  opt.validate();
  const long long left = static_cast<long long>(scenario_seconds) - static_cast<long long>(samples) + std::max(0, later_seconds);
  return left >= opt.min_seconds_saved;
}

PruneDecision decide_prune(std::span<const double> series, const PruneReference& ref, const PrunerOptions& opt) {
  opt.validate();
  auto bad = [](double v) { return !(v >= 0) || !std::isfinite(v); };
  if (!(ref.mean_mbps > 0) || bad(ref.mean_mbps) || bad(ref.noise_mbps) || bad(ref.per_second_sd_mbps) || !(ref.per_second_r < 1)) {
    throw Error(fmt::format("pruning reference must have mean > 0 and noise >= 0 (got mean {}, noise {}, per-second sd {})",
                            ref.mean_mbps, ref.noise_mbps, ref.per_second_sd_mbps));
  }
  PruneDecision d;
  d.threshold = ref.mean_mbps - std::max(opt.margin * ref.mean_mbps, opt.noise_sigmas * ref.noise_mbps);
  const size_t skip = static_cast<size_t>(opt.warmup_seconds);
  if (series.size() <= skip) {
    d.reason = fmt::format("warming up ({} of {} s)", series.size(), skip);
    return d;
  }
  sample_stats(series);  // throws on NaN
  const size_t after = series.size() - skip;  // seconds after the warm-up
  const Window w = decision_window(series, ref, opt);
  SampleStats s = sample_stats(w.samples);
  d.samples_used = s.n;
  d.candidate_mean = s.mean;
  if (opt.known_noise_min_samples > 0 && ref.per_second_sd_mbps > 0) {
    const auto min = static_cast<size_t>(opt.known_noise_min_samples);
    if (after < min) {
      d.reason = fmt::format("too few samples ({} of {})", after, min);
      return d;
    }
    decide_known_noise(w, s, after - min + 1, ref, opt, d);
    return d;
  }
  if (s.n < static_cast<size_t>(opt.min_samples) || w.fraction < 1) {
    d.reason = fmt::format("too few samples past the ramp ({} of {})", w.fraction < 1 ? 0 : s.n, opt.min_samples);
    return d;
  }
  decide_t_based(w, s, ref, opt, d);
  return d;
}

void move_reference(PruneReference& ref, const PruneReference& baseline, double mean_mbps) {
  if (!(baseline.mean_mbps > 0)) throw Error(fmt::format("a pruning reference's baseline mean must be > 0 (got {})", baseline.mean_mbps));
  const double k = std::max(1.0, mean_mbps / baseline.mean_mbps);
  ref.mean_mbps = mean_mbps;
  ref.noise_mbps = baseline.noise_mbps * k;
  ref.per_second_sd_mbps = baseline.per_second_sd_mbps * k;
  ref.per_second_r = baseline.per_second_r;
}

double steady_mean(std::span<const double> series, int warmup_seconds) {
  if (series.empty()) return 0;
  const size_t skip = static_cast<size_t>(std::max(0, warmup_seconds));
  return sample_stats(series.size() > skip ? series.subspan(skip) : series).mean;  // throws on NaN
}

double top_fraction_edge(std::vector<double> means, double top_fraction) {
  if (!(top_fraction > 0 && top_fraction <= 1)) {
    throw UsageError(fmt::format("top fraction {} is out of range: use a fraction in (0, 1]", top_fraction));
  }
  if (means.empty()) return 0;
  std::sort(means.begin(), means.end());
  const double pos = static_cast<double>(means.size() - 1) * (1 - top_fraction);  // the (1 - f) quantile, interpolated
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, means.size() - 1);
  return means[lo] + (pos - static_cast<double>(lo)) * (means[hi] - means[lo]);
}

int measured_warmup_seconds(const std::vector<std::vector<double>>& series, int max_warmup, double tolerance) {
  const size_t cap = static_cast<size_t>(std::max(0, max_warmup));
  std::vector<double> ratio_sum(cap, 0.0);
  int runs = 0;
  for (const auto& one : series) {
    if (one.size() < cap + 3) continue;
    const double steady = steady_mean(one, max_warmup);
    if (!(steady > 0)) continue;
    for (size_t t = 0; t < cap; ++t) ratio_sum[t] += one[t] / steady;
    ++runs;
  }
  if (runs < 2) return max_warmup;
  size_t w = cap;
  while (w > 0 && std::abs(ratio_sum[w - 1] / runs - 1) <= tolerance) --w;
  return static_cast<int>(w);
}

std::vector<double> ramp_fractions(std::span<const double> run, size_t seconds) {
  if (run.size() < seconds + 3) return {};
  const double steady = steady_mean(run, static_cast<int>(seconds));  // throws on NaN
  if (!(steady > 0)) return {};
  std::vector<double> out;
  for (size_t t = 0; t < seconds; ++t) out.push_back(run[t] / steady);
  return out;
}

void lower_ramp_floor(std::vector<double>& floor, const std::vector<double>& fractions) {
  for (size_t t = 0; t < fractions.size(); ++t) {
    if (t < floor.size()) floor[t] = std::min(floor[t], fractions[t]);
    else floor.push_back(fractions[t]);
  }
}

void learn_ramp(PruneReference& ref, std::span<const double> run, const PrunerOptions& options) {
  lower_ramp_floor(ref.ramp_floor, ramp_fractions(run, options.ramp_prior.size()));
}

double pooled_per_second_sd(const std::vector<std::vector<double>>& series, int warmup_seconds) {
  const size_t skip = static_cast<size_t>(std::max(0, warmup_seconds));
  double ss = 0, dof = 0;
  for (const auto& one : series) {
    if (one.size() < skip + 2) continue;
    // Each run around its own mean: run-to-run differences are noise_mbps, not per-second spread.
    SampleStats st = sample_stats(std::span<const double>(one).subspan(skip));
    ss += st.stddev * st.stddev * static_cast<double>(st.n - 1);
    dof += static_cast<double>(st.n - 1);
  }
  return dof > 0 ? std::sqrt(ss / dof) : 0;
}


double pooled_per_second_r(const std::vector<std::vector<double>>& series, int warmup_seconds) {
  const size_t skip = static_cast<size_t>(std::max(0, warmup_seconds));
  double num = 0, den = 0;
  for (const auto& one : series) {
    if (one.size() < skip + 3) continue;
    auto used = std::span<const double>(one).subspan(skip);
    const double mean = sample_stats(used).mean;  // throws on NaN
    for (size_t i = 0; i < used.size(); ++i) {
      den += (used[i] - mean) * (used[i] - mean);
      if (i + 1 < used.size()) num += (used[i] - mean) * (used[i + 1] - mean);
    }
  }
  if (den <= 0) return -1;
  return std::clamp(num / den, 0.0, 0.95);
}

}  // namespace wgopt::experiments

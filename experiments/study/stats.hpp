#pragma once
// The few statistics the closed loop needs to decide on noisy throughput numbers (early stopping,
// confirmation of a winner). Sample statistics, Student t quantiles (Boost.Math), no I/O.
#include <span>

namespace wgopt::experiments {

struct SampleStats {
  size_t n = 0;
  double mean = 0;
  double stddev = 0;  // sample standard deviation (n - 1); 0 when n < 2
};

// Mean and sample standard deviation. Throws wgopt::Error on an empty span or a non-finite value.
SampleStats sample_stats(std::span<const double> xs);

// The q-quantile (0 < q < 1) of Student's t with `dof` degrees of freedom (dof > 0, may be
// fractional for Welch). E.g. t_quantile(0.975, 9) = 2.262.
double t_quantile(double q, double dof);

// Two-sided p-value of a t statistic with `dof` degrees of freedom.
double t_two_sided_p(double t, double dof);

// A closed interval [low, high].
struct Interval {
  double low = 0;
  double high = 0;
};

// Two-sided `confidence` interval (e.g. 0.95) for the mean of a sample (t-based). For n == 1 the
// interval is the single value (nothing is known about the spread).
Interval mean_interval(const SampleStats& s, double confidence);

}  // namespace wgopt::experiments

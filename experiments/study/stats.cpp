#include "experiments/study/stats.hpp"

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <fmt/format.h>

#include "common/error.hpp"

namespace wgopt::experiments {

SampleStats sample_stats(std::span<const double> xs) {
  if (xs.empty()) throw Error("statistics of an empty sample were requested");
  SampleStats s;
  s.n = xs.size();
  double sum = 0;
  for (double x : xs) {
    if (!std::isfinite(x)) throw Error(fmt::format("sample contains a non-finite value ({})", x));
    sum += x;
  }
  s.mean = sum / static_cast<double>(s.n);
  if (s.n >= 2) {
    double ss = 0;
    for (double x : xs) ss += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(s.n - 1));
  }
  return s;
}

double t_quantile(double q, double dof) {
  if (!(q > 0 && q < 1) || !(dof > 0)) {
    throw Error(fmt::format("t quantile needs 0 < q < 1 and dof > 0 (got q={}, dof={})", q, dof));
  }
  return boost::math::quantile(boost::math::students_t(dof), q);
}

double t_two_sided_p(double t, double dof) {
  if (!(dof > 0)) throw Error(fmt::format("t p-value needs dof > 0 (got {})", dof));
  if (std::isinf(t)) return 0;
  return 2 * boost::math::cdf(boost::math::complement(boost::math::students_t(dof), std::fabs(t)));
}

Interval mean_interval(const SampleStats& s, double confidence) {
  if (s.n < 2) return {s.mean, s.mean};
  double half = t_quantile(0.5 + confidence / 2, static_cast<double>(s.n - 1)) * s.stddev /
                std::sqrt(static_cast<double>(s.n));
  return {s.mean - half, s.mean + half};
}

}  // namespace wgopt::experiments

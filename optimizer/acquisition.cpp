#include "optimizer/acquisition.hpp"

#include <cmath>

namespace wgopt::opt {

namespace {

constexpr double kInvSqrt2Pi = 0.39894228040143267794;

double log_phi(double z) { return -0.5 * z * z + std::log(kInvSqrt2Pi); }
double cdf(double z) { return 0.5 * std::erfc(-z / M_SQRT2); }

// log h(z) with h(z) = phi(z) + z*Phi(z), and d log h / dz = Phi(z) / h(z).
double log_h(double z, double* dlog) {
  if (z > -6.0) {
    double phi = std::exp(log_phi(z)), Phi = cdf(z);
    double h = phi + z * Phi;
    if (dlog) *dlog = Phi / h;
    return std::log(h);
  }
  // Far below the incumbent the direct sum cancels catastrophically. Asymptotically
  // h(z) = phi(z) * s(z) with s(z) = 1/z^2 - 3/z^4 + 15/z^6 - 105/z^8 + ...
  double iz2 = 1.0 / (z * z);
  double s = iz2 * (1.0 - iz2 * (3.0 - iz2 * (15.0 - iz2 * 105.0)));
  // Phi/phi = (s - 1)/z, so Phi/h = (s - 1)/(z s).
  if (dlog) *dlog = (s - 1.0) / (z * s);
  return log_phi(z) + std::log(s);
}

}  // namespace

double log_expected_improvement(double mean, double sd, double best, double* d_mean, double* d_sd) {
  double z = (best - mean) / sd;
  double dlog = 0;
  double v = std::log(sd) + log_h(z, &dlog);
  if (d_mean) *d_mean = -dlog / sd;
  if (d_sd) *d_sd = 1.0 / sd - dlog * z / sd;
  return v;
}

double log_probability_positive(double mean, double sd, double* d_mean, double* d_sd) {
  const double z = mean / sd;
  double v, ratio;   // log Phi(z) and d log Phi / dz = phi(z) / Phi(z)
  if (z > -6.0) {
    const double Phi = cdf(z);
    v = std::log(Phi);
    ratio = std::exp(log_phi(z)) / Phi;
  } else {
    // Phi(z) = phi(z) / (-z) * (1 - 1/z^2 + 3/z^4 - 15/z^6 + ...)
    const double iz2 = 1.0 / (z * z);
    const double s = 1.0 - iz2 * (1.0 - iz2 * (3.0 - iz2 * 15.0));
    v = log_phi(z) - std::log(-z) + std::log(s);
    ratio = -z / s;
  }
  if (d_mean) *d_mean = ratio / sd;
  if (d_sd) *d_sd = -ratio * z / sd;
  return v;
}

}  // namespace wgopt::opt

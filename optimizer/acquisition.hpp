#pragma once
// Log expected improvement for minimisation. EI itself underflows to 0 a few standard deviations
// away from the incumbent, which leaves an optimiser with a flat zero surface; its logarithm keeps a
// usable slope everywhere (Ament et al., "Unexpected improvements to expected improvement", 2023).

namespace wgopt::opt {

// log E[max(best - f, 0)] for f ~ N(mean, sd^2), sd > 0. When the pointers are given, also the
// partial derivatives with respect to mean and sd.
double log_expected_improvement(double mean, double sd, double best, double* d_mean = nullptr,
                                double* d_sd = nullptr);

// log P(g > 0) for g ~ N(mean, sd^2), sd > 0: the log probability that a point is feasible under a
// feasibility model g (positive: works). Stable far into either tail; derivatives as above.
double log_probability_positive(double mean, double sd, double* d_mean = nullptr, double* d_sd = nullptr);

}  // namespace wgopt::opt

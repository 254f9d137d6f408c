#pragma once
// A Gaussian-process regressor on the unit cube: Matern 5/2 kernel with one lengthscale per input
// dimension (ARD), a signal variance and a learned Gaussian noise variance, zero mean (callers
// standardise the outputs). Hyperparameters are fitted by maximum a posteriori (log marginal
// likelihood + weak Gamma priors that keep a 10-point fit sane) with NLopt L-BFGS on analytic
// gradients, multi-start. Internal to the optimizer; used by the `bo` strategy.
#include <Eigen/Dense>
#include <cstdint>
#include <random>
#include <vector>

namespace wgopt::opt {

// theta = [log l_1 .. log l_d, log signal_variance, log noise_variance]
struct GpHyper {
  Eigen::VectorXd theta;
  int dims() const { return int(theta.size()) - 2; }
  double lengthscale(int i) const;
  double signal_variance() const;
  double noise_variance() const;
  // Reasonable starting point: lengthscales 0.5, signal 1, noise 0.01.
  static GpHyper initial(int dims);
};

// Matern 5/2 at squared scaled distance r2, unit variance.
double matern52(double r2);

class Gp {
 public:
  // X: n x d (one point per row, coordinates in [0, 1]); y: n standardised outputs.
  void set_data(Eigen::MatrixXd X, Eigen::VectorXd y);
  // Marks coordinates that only take the values 0 and 1 (one-hot choices, booleans, mask bits).
  // Neighbouring values there are a whole unit apart, so their lengthscale prior sits near 1
  // instead of 1/3: otherwise every category would look unrelated to the others and each would
  // have to be searched from scratch.
  void set_binary_dims(std::vector<bool> binary) { binary_ = std::move(binary); }
  // Stretches every lengthscale prior (and the fit's random starts) by `scale` >= 1. In many
  // dimensions random points are far apart, and a prior made for a few dimensions makes the model
  // forget everything between them (Hvarfner et al. 2024 scale it with sqrt(d)). Default 1.
  void set_lengthscale_scale(double scale) { ls_scale_ = scale; }
  int size() const { return int(y_.size()); }

  // Negative log posterior of theta on the current data (the quantity fit() minimises); fills grad
  // (same size as theta) when given. +inf when the covariance is not positive definite.
  double neg_log_posterior(const Eigen::VectorXd& theta, Eigen::VectorXd* grad) const;

  // MAP fit: L-BFGS from `start` and from `extra_starts` random points drawn from the priors,
  // at most `max_eval` evaluations each; keeps the best. Falls back to `start` if all fail.
  GpHyper fit(const GpHyper& start, int extra_starts, int max_eval, std::mt19937_64& rng) const;

  // Factorises K + noise*I for prediction with `h`, adding growing jitter until the Cholesky
  // succeeds. Returns false only if even a large jitter fails (then predictions are the prior).
  bool condition(const GpHyper& h);
  const GpHyper& hyper() const { return hyper_; }

  // Posterior mean and variance of the latent function (no noise) at the rows of Xs.
  void predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::VectorXd& var) const;
  // Posterior mean and full covariance of the latent function at the rows of Xs (for differences
  // between a few points).
  void predict_cov(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::MatrixXd& cov) const;
  // The same at one point with gradients with respect to x.
  void predict_grad(const Eigen::VectorXd& x, double& mean, double& var, Eigen::VectorXd& dmean,
                    Eigen::VectorXd& dvar) const;

 private:
  Eigen::MatrixXd cross(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B, const GpHyper& h) const;

  bool is_binary(int i) const { return i < int(binary_.size()) && binary_[size_t(i)]; }
  struct LengthPrior;
  LengthPrior length_prior(int i) const;

  Eigen::MatrixXd X_;
  std::vector<bool> binary_;
  double ls_scale_ = 1.0;
  Eigen::VectorXd y_;
  GpHyper hyper_;
  bool ok_ = false;
  Eigen::MatrixXd L_;        // lower Cholesky factor of K + noise*I (+ jitter)
  Eigen::VectorXd alpha_;    // (K + noise*I)^-1 y
};

}  // namespace wgopt::opt

#pragma once
// A Gaussian-process regressor on the unit cube: Matern 5/2 kernel with one lengthscale per input
// dimension (ARD) or per group of dimensions, a signal variance, optionally a first-order additive
// part (set_additive), and a learned Gaussian noise variance, zero mean (callers standardise the
// outputs). Hyperparameters are fitted by maximum a posteriori (log marginal
// likelihood + weak Gamma priors that keep a 10-point fit sane) with NLopt L-BFGS on analytic
// gradients, multi-start. Internal to the optimizer; used by the `bo` strategy.
#include <Eigen/Dense>
#include <cstdint>
#include <random>
#include <vector>

namespace wgopt::opt {

// theta = [log l_1 .. log l_g, log signal_variance, log noise_variance], one lengthscale per
// lengthscale group (Gp::set_lengthscale_groups; by default one group per input dimension).
// With `additive`, theta ends with one more entry, log additive_variance (Gp::set_additive).
struct GpHyper {
  Eigen::VectorXd theta;
  bool additive = false;
  int dims() const { return int(theta.size()) - 2 - (additive ? 1 : 0); }   // the number of lengthscales
  double lengthscale(int i) const;
  double signal_variance() const;
  double noise_variance() const;
  double additive_variance() const;   // 0 unless additive
  double prior_variance() const { return signal_variance() + additive_variance(); }
  // Reasonable starting point: lengthscales 0.5, signal 1 (split evenly when additive), noise 0.01.
  static GpHyper initial(int dims, bool additive = false);
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
  // Ties input dimensions to shared lengthscales: group[j] in 0 .. g-1 is the lengthscale of input
  // dimension j, and hyperparameters then have g lengthscales (GpHyper::dims() == g). A mask's bits
  // or a categorical's one-hot coordinates share one lengthscale: with 16 bits and 40 points a
  // lengthscale per bit is fitted to noise, and a few short ones make every flip of "their" bit look
  // uncertain (so the search keeps exploring them). Empty (the default): one group per dimension.
  // A group is binary (set_binary_dims' prior) when its first dimension is.
  void set_lengthscale_groups(std::vector<int> group) { groups_ = std::move(group); }
  // Adds a first-order additive part to the kernel: k(x, x') = sf2 m(r) + sa2 / g sum_j m(r_j), where
  // r_j is the scaled distance within lengthscale group j alone (the same lengthscales), and sa2 is
  // one more hyperparameter (GpHyper::additive). Knobs that act on their own (a qdisc's loss
  // sensitivity, a ring's misses) are then learned from every measurement that varied them, not
  // only from neighbours in all dimensions at once; the full part keeps the interactions.
  // Hyperparameters given to fit/condition must have GpHyper::additive equal to this.
  void set_additive(bool on) { additive_ = on; }
  bool additive() const { return additive_; }
  // Splits the additive part finer than the lengthscale groups: component[j] in 0 .. c-1 is the
  // additive component of input dimension j (dimensions of one component must share a lengthscale
  // group). A CPU mask's bits then each get a main effect of their own (the NIC's IRQ core in the
  // mask or not, the crypto core in it or not), while sharing one lengthscale; as one component the
  // mask's effect is a function of the Hamming distance, which cannot single out one bit.
  // weight[k] > 0 is component k's share of the additive variance (normalised to sum 1; empty:
  // even shares), so a mask split into 16 bits need not take 16 parameters' shares. Empty
  // `component` (the default): one component per lengthscale group, even shares.
  void set_additive_components(std::vector<int> component, std::vector<double> weight = {}) {
    components_ = std::move(component);
    component_weight_ = std::move(weight);
  }
  // Per-observation noise multipliers (size n, > 0): observation i has noise variance
  // noise_variance * weight_i. Set after set_data (which resets them to 1). A robust fit down-weights
  // outliers this way (a Student-t likelihood as a scale mixture of normals).
  void set_noise_multipliers(Eigen::VectorXd m) { noise_mult_ = std::move(m); ok_ = false; }
  const Eigen::VectorXd& noise_multipliers() const { return noise_mult_; }
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

  // A Student-t likelihood with `nu` degrees of freedom, as a scale mixture of normals fitted by
  // EM with the kernel's hyperparameters held: each round conditions on h, gives observation i the
  // weight w_i = (nu + 1) / (nu + E[(y_i - f_i)^2] / noise) (E over the latent posterior), sets the
  // noise multipliers to 1 / w_i and re-estimates the noise variance as mean(w_i E[(y_i - f_i)^2]).
  // A measurement far from what its neighbours say (a lost second, a neighbour's burst) then weighs
  // little, while the noise variance stops being inflated by the tails. Returns h with that noise
  // variance; the GP is left conditioned on it with the multipliers set.
  // one_sided: only a measurement worse than its posterior (above it: everything is minimised) is
  // down-weighted; one better than it keeps full weight (interference only ever costs goodput).
  GpHyper student_t_em(GpHyper h, double nu, int rounds, bool one_sided = false);

  // The posterior mean of the latent function at the data's own rows (K alpha, O(n^2)); zeros when
  // not conditioned.
  Eigen::VectorXd data_means() const;

  // Posterior mean and variance of the latent function (no noise) at the rows of Xs.
  void predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::VectorXd& var) const;
  // Posterior mean and full covariance of the latent function at the rows of Xs (for differences
  // between a few points).
  void predict_cov(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::MatrixXd& cov) const;
  // The same for the kernel's additive part alone (set_additive; without it, predict_cov): the
  // posterior of the sum of the first-order components given the data (the parts are independent,
  // so its covariance with the observations is the additive kernel's). Differences between points
  // that differ in a few coordinates are then those coordinates' main effects, without the
  // interaction part's uncertainty.
  void predict_cov_additive(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::MatrixXd& cov) const;
  // The same at one point with gradients with respect to x.
  void predict_grad(const Eigen::VectorXd& x, double& mean, double& var, Eigen::VectorXd& dmean,
                    Eigen::VectorXd& dvar) const;

 private:
  Eigen::MatrixXd cross(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B, const GpHyper& h, bool with_full = true) const;
  // predict_cov (with_full) and predict_cov_additive (the additive part alone): the posterior of
  // the kernel's parts named, given the data (observed through the whole kernel).
  void posterior_cov(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::MatrixXd& cov, bool with_full) const;

  // predict_grad's additive part (see gp.cpp).
  void add_additive_grad(const Eigen::VectorXd& x, const Eigen::MatrixXd& delta, const Eigen::MatrixXd& sd2, Eigen::VectorXd& k,
                         Eigen::MatrixXd& c) const;
  // exp(+-sqrt5 x) of the data's scaled coordinates under hyper_ (additive only; empty when a
  // coordinate is too large for split exps): predict_grad's one-dimension components use them.
  void cache_split_exps();

  bool is_binary(int i) const { return i < int(binary_.size()) && binary_[size_t(i)]; }
  // Lengthscale group of input dimension j, and whether group g is binary.
  int group_of(int j) const { return groups_.empty() ? j : groups_[size_t(j)]; }
  bool group_binary(int g) const;
  // 1 / l^2 for each of the d input dimensions from theta's group lengthscales.
  Eigen::VectorXd dim_inv_l2(const Eigen::VectorXd& theta, int d) const;
  // The noise multiplier of observation i (1 unless set).
  double mult(int i) const { return noise_mult_.size() ? noise_mult_[i] : 1.0; }
  // The input dimensions of each of the g lengthscale groups.
  std::vector<std::vector<int>> group_members(int g, int d) const;
  // The input dimensions of each additive component (set_additive_components; the lengthscale groups
  // when not set), for theta with g lengthscale groups and d input dimensions.
  std::vector<std::vector<int>> additive_members(int g, int d) const;
  // Each of the c additive components' variance, out of the additive variance sa2.
  std::vector<double> additive_variances(double sa2, int c) const;
  struct LengthPrior;
  LengthPrior length_prior(int i) const;

  Eigen::MatrixXd X_;
  std::vector<bool> binary_;
  std::vector<int> groups_;
  std::vector<int> components_;
  std::vector<double> component_weight_;
  bool additive_ = false;
  Eigen::VectorXd noise_mult_;   // empty: all 1
  double ls_scale_ = 1.0;
  Eigen::VectorXd y_;
  GpHyper hyper_;
  bool ok_ = false;
  // Factorises K_ + the noise diagonal under hyper_ (growing jitter until the Cholesky succeeds).
  bool factorise();

  Eigen::MatrixXd K_;        // the kernel matrix of the data under hyper_, without noise
  Eigen::MatrixXd K_X_;      // the rows K_ was computed for (condition() extends K_ when X_ extends them)
  Eigen::MatrixXd L_;        // lower Cholesky factor of K + noise*I (+ jitter)
  Eigen::VectorXd alpha_;    // (K + noise*I)^-1 y
  Eigen::ArrayXXd split_up_, split_down_;   // cache_split_exps()
};

}  // namespace wgopt::opt

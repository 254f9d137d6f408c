#include "optimizer/gp.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlopt.hpp>

namespace wgopt::opt {

namespace {

constexpr double kSqrt5 = 2.23606797749978969640;
constexpr double kLog2Pi = 1.83787706640934548356;

// Gamma(a, b) priors on the positive parameters, written for their logarithm theta:
// log p(theta) = a*theta - b*exp(theta) + const. Lengthscale Gamma(3, 6) (mode 1/3, mean 0.5 of the
// unit cube), signal variance Gamma(2, 0.15), noise variance Gamma(1.1, 0.05): the choices of
// BoTorch's default single-task GP, which behave well on standardised outputs with few points.
struct GammaPrior {
  double a, b;
  double log_p(double t) const { return a * t - b * std::exp(t); }
  double dlog_p(double t) const { return a - b * std::exp(t); }
};
constexpr GammaPrior kLengthPrior{3.0, 6.0};
// One-hot, boolean and mask-bit coordinates: mode 2/3, mean 1 (see Gp::set_binary_dims). Tuned on
// the mixed Hartmann6 benchmark: b = 2 (longer) and b = 6 (as continuous) both searched worse.
constexpr GammaPrior kBinaryLengthPrior{3.0, 3.0};
constexpr GammaPrior kSignalPrior{2.0, 0.15};
constexpr GammaPrior kNoisePrior{1.1, 0.05};

// Box bounds on theta: lengthscales 0.01 .. 30 of the cube, signal 0.05 .. 20, noise 1e-6 .. 2
// (outputs are standardised, so these are relative to the data's spread).
constexpr double kLogLsMin = -4.6, kLogLsMax = 3.4;
constexpr double kLogSfMin = -3.0, kLogSfMax = 3.0;
constexpr double kLogSnMin = -13.8, kLogSnMax = 0.7;

// d/dr2 free form used by gradients: C(r2) = (5/3)(1 + sqrt5 r) exp(-sqrt5 r), so that
// dk/dlog(l_i) = sf2 * C * delta_i^2 / l_i^2 and dk/dx_i = -sf2 * C * delta_i / l_i^2.
double matern_c(double r2) {
  double r = std::sqrt(std::max(r2, 0.0));
  return (5.0 / 3.0) * (1.0 + kSqrt5 * r) * std::exp(-kSqrt5 * r);
}

// scale * Matern 5/2 of every entry of a matrix of squared scaled distances, in Eigen's array form:
// its exp() is vectorised, which matters because these matrices are most of bo's time per suggestion.
Eigen::MatrixXd matern_matrix(const Eigen::MatrixXd& r2, double scale) {
  const Eigen::ArrayXXd r = (5.0 * r2.array().max(0.0)).sqrt();
  return (scale * (1.0 + r + r.square() / 3.0) * (-r).exp()).matrix();
}

// exp(-sqrt5 |a_i - b_j|) for one scaled coordinate needs no exp per entry: exp(-s|d|) is the
// smaller of exp(-s d) and exp(s d), and exp(-s (a - b)) = exp(-s a) exp(s b), so m + n exps serve
// m n entries (the additive part's exps were most of bo's time per suggestion). The relative error
// is ~(sqrt5 |a| + sqrt5 |b|) eps (the rounding of each exponent): under 1e-13 at the coordinates
// the fit allows, far below the jitter and the noise. The products stay finite while |coordinates|
// <= kMaxSplitCoord (lengthscales >= 0.01 of the unit cube keep them within 100): beyond it, one exp
// per entry.
constexpr double kMaxSplitCoord = 130.0;
struct SplitExp {
  Eigen::ArrayXd up, down;   // exp(sqrt5 x) and exp(-sqrt5 x)
  explicit SplitExp(const Eigen::Ref<const Eigen::VectorXd>& x)
      : up((kSqrt5 * x.array()).exp()), down((-kSqrt5 * x.array()).exp()) {}
};
bool split_exp_safe(const Eigen::Ref<const Eigen::VectorXd>& x) { return x.size() == 0 || x.cwiseAbs().maxCoeff() <= kMaxSplitCoord; }

// K += scale * Matern 5/2 of |a_i - b_j| for one scaled coordinate (an additive component of one
// model dimension, the common case): r = sqrt5 |a_i - b_j| directly, no distance matrix.
void add_matern_1d(const Eigen::Ref<const Eigen::VectorXd>& a, const Eigen::Ref<const Eigen::VectorXd>& b, double scale,
                   Eigen::MatrixXd& K) {
  const bool split = split_exp_safe(a) && split_exp_safe(b);
  const SplitExp ea(split ? a : a.head(0)), eb(split ? b : b.head(0));
  Eigen::ArrayXd r(a.size()), e(a.size());
  for (Eigen::Index j = 0; j < b.size(); ++j) {
    r = kSqrt5 * (a.array() - b[j]).abs();
    if (split) e = (ea.down * eb.up[j]).min(ea.up * eb.down[j]);
    else e = (-r).exp();
    K.col(j).array() += scale * (1.0 + r + r.square() / 3.0) * e;
  }
}

Eigen::MatrixXd sq_dist(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) {
  Eigen::VectorXd a2 = A.rowwise().squaredNorm(), b2 = B.rowwise().squaredNorm();
  Eigen::MatrixXd d = (-2.0 * A * B.transpose()).colwise() + a2;
  d.rowwise() += b2.transpose();
  return d.cwiseMax(0.0);
}

// sqrt5 times the distances between the rows of X (already scaled) over the columns `cols`, and
// exp(-) of them: for one column |x_i - x_j| directly and the exps split (SplitExp).
struct ScaledDist {
  Eigen::ArrayXXd r, e;
};
ScaledDist sqrt5_dist(const Eigen::MatrixXd& X, const std::vector<int>& cols) {
  const Eigen::Index n = X.rows();
  if (cols.size() == 1 && split_exp_safe(X.col(cols[0]))) {
    const auto x = X.col(cols[0]);
    const SplitExp ex(x);
    ScaledDist out{kSqrt5 * (x.replicate(1, n) - x.transpose().replicate(n, 1)).array().abs(), {}};
    out.e = (ex.down.matrix() * ex.up.matrix().transpose()).array().min((ex.up.matrix() * ex.down.matrix().transpose()).array());
    return out;
  }
  ScaledDist out{(5.0 * sq_dist(X(Eigen::all, cols), X(Eigen::all, cols)).array()).sqrt(), {}};
  out.e = (-out.r).exp();
  return out;
}

}  // namespace

// The lengthscale prior of coordinate i, its scale stretched by ls_scale_ (Gamma(a, b / scale)).
struct Gp::LengthPrior {
  double a, b;
  double log_p(double t) const { return a * t - b * std::exp(t); }
  double dlog_p(double t) const { return a - b * std::exp(t); }
};
bool Gp::group_binary(int g) const {
  if (groups_.empty()) return is_binary(g);
  for (size_t j = 0; j < groups_.size(); ++j)
    if (groups_[j] == g) return is_binary(int(j));
  return false;
}

Eigen::VectorXd Gp::dim_inv_l2(const Eigen::VectorXd& theta, int d) const {
  Eigen::VectorXd out(d);
  for (int j = 0; j < d; ++j) out[j] = std::exp(-2.0 * theta[group_of(j)]);
  return out;
}

Gp::LengthPrior Gp::length_prior(int i) const {
  const GammaPrior& p = group_binary(i) ? kBinaryLengthPrior : kLengthPrior;
  return {p.a, p.b / ls_scale_};
}

double matern52(double r2) {
  double r = std::sqrt(std::max(r2, 0.0));
  return (1.0 + kSqrt5 * r + (5.0 / 3.0) * r * r) * std::exp(-kSqrt5 * r);
}

double GpHyper::lengthscale(int i) const { return std::exp(theta[i]); }
double GpHyper::signal_variance() const { return std::exp(theta[dims()]); }
double GpHyper::noise_variance() const { return std::exp(theta[dims() + 1]); }
double GpHyper::additive_variance() const { return additive ? std::exp(theta[dims() + 2]) : 0.0; }

GpHyper GpHyper::initial(int dims, bool additive) {
  GpHyper h;
  h.additive = additive;
  h.theta.resize(dims + 2 + (additive ? 1 : 0));
  h.theta.head(dims).setConstant(std::log(0.5));
  h.theta[dims] = additive ? std::log(0.5) : 0.0;
  h.theta[dims + 1] = std::log(0.01);
  if (additive) h.theta[dims + 2] = std::log(0.5);
  return h;
}

std::vector<std::vector<int>> Gp::group_members(int g, int d) const {
  std::vector<std::vector<int>> out(static_cast<size_t>(g));
  for (int j = 0; j < d; ++j) out[size_t(group_of(j))].push_back(j);
  return out;
}

std::vector<std::vector<int>> Gp::additive_members(int g, int d) const {
  if (components_.empty()) return group_members(g, d);
  int c = 0;
  for (int j = 0; j < d; ++j) c = std::max(c, components_[size_t(j)] + 1);
  std::vector<std::vector<int>> out(static_cast<size_t>(c));
  for (int j = 0; j < d; ++j) out[size_t(components_[size_t(j)])].push_back(j);
  std::erase_if(out, [](const auto& m) { return m.empty(); });
  return out;
}

std::vector<double> Gp::additive_variances(double sa2, int c) const {
  // Even shares are sa2 / c exactly, as before components could be weighted.
  if (int(component_weight_.size()) != c) return std::vector<double>(size_t(c), sa2 / c);
  double sum = 0;
  for (double x : component_weight_) sum += x;
  std::vector<double> out;
  for (double x : component_weight_) out.push_back(sa2 * x / sum);
  return out;
}

void Gp::set_data(Eigen::MatrixXd X, Eigen::VectorXd y) {
  X_ = std::move(X);
  y_ = std::move(y);
  noise_mult_.resize(0);
  ok_ = false;
}

Eigen::MatrixXd Gp::cross(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B, const GpHyper& h, bool with_full) const {
  Eigen::VectorXd inv_l = dim_inv_l2(h.theta, int(A.cols())).cwiseSqrt();
  const Eigen::MatrixXd As = A * inv_l.asDiagonal(), Bs = B * inv_l.asDiagonal();
  const double sf2 = h.signal_variance();
  Eigen::MatrixXd K = with_full ? matern_matrix(sq_dist(As, Bs), sf2) : Eigen::MatrixXd::Zero(A.rows(), B.rows());
  if (h.additive) {
    const auto members = additive_members(h.dims(), int(A.cols()));
    const auto wa = additive_variances(h.additive_variance(), int(members.size()));
    for (size_t q = 0; q < members.size(); ++q) {
      if (members[q].size() == 1) {
        add_matern_1d(As.col(members[q][0]), Bs.col(members[q][0]), wa[q], K);
        continue;
      }
      K += matern_matrix(sq_dist(As(Eigen::all, members[q]), Bs(Eigen::all, members[q])), wa[q]);
    }
  }
  return K;
}

double Gp::neg_log_posterior(const Eigen::VectorXd& theta, Eigen::VectorXd* grad) const {
  const int n = size(), dx = int(X_.cols());
  GpHyper h{theta, additive_};
  const int d = h.dims();
  const double sf2 = h.signal_variance(), sn2 = h.noise_variance();
  Eigen::VectorXd inv_l2 = dim_inv_l2(theta, dx);
  Eigen::VectorXd inv_l = inv_l2.cwiseSqrt();
  Eigen::MatrixXd Xs = X_ * inv_l.asDiagonal();
  Eigen::MatrixXd r2 = sq_dist(Xs, Xs);
  Eigen::MatrixXd Kf = matern_matrix(r2, sf2);
  // The additive part: each component's kernel matrix added to Ka and, for the gradient, its
  // d k / d log l matrix (wa C(r2) r2), both from one exp.
  std::vector<Eigen::MatrixXd> dka;
  std::vector<int> dka_group;   // the lengthscale group of each additive component
  Eigen::MatrixXd Ka;
  if (additive_) {
    const auto components = additive_members(d, dx);
    const auto wa = additive_variances(h.additive_variance(), int(components.size()));
    Ka = Eigen::MatrixXd::Zero(n, n);
    for (size_t q = 0; q < components.size(); ++q) {
      const auto [r, e] = sqrt5_dist(Xs, components[q]);
      Ka.array() += wa[q] * (1.0 + r + r.square() / 3.0) * e;
      if (!grad) continue;
      dka.push_back((wa[q] / 3.0 * (1.0 + r) * e * r.square()).matrix());
      dka_group.push_back(group_of(components[q].front()));
    }
  }
  Eigen::MatrixXd K = additive_ ? Eigen::MatrixXd(Kf + Ka) : Kf;
  for (int i = 0; i < n; ++i) K(i, i) += sn2 * mult(i) + 1e-9;
  Eigen::LLT<Eigen::MatrixXd> llt(K);
  double prior = 0;
  for (int i = 0; i < d; ++i) prior += length_prior(i).log_p(theta[i]);
  prior += kSignalPrior.log_p(theta[d]) + kNoisePrior.log_p(theta[d + 1]);
  if (additive_) prior += kSignalPrior.log_p(theta[d + 2]);
  if (llt.info() != Eigen::Success) {
    if (grad) grad->setZero(theta.size());
    return std::numeric_limits<double>::max() / 4;
  }
  Eigen::VectorXd alpha = llt.solve(y_);
  double logdet = 0;
  const auto& L = llt.matrixLLT();
  for (int i = 0; i < n; ++i) logdet += std::log(L(i, i));
  double nll = 0.5 * y_.dot(alpha) + logdet + 0.5 * n * kLog2Pi - prior;
  if (!grad) return nll;

  // d nll / d theta_j = -0.5 tr((alpha alpha^T - K^-1) dK/dtheta_j) - dprior/dtheta_j
  Eigen::MatrixXd W = alpha * alpha.transpose() - llt.solve(Eigen::MatrixXd::Identity(n, n));
  grad->setZero(theta.size());
  Eigen::VectorXd g = Eigen::VectorXd::Zero(dx);
  for (int k = 0; k < n; ++k) {
    for (int j = k + 1; j < n; ++j) {
      // Both triangles of the symmetric sum: factor 2.
      double w = 2.0 * W(j, k) * sf2 * matern_c(r2(j, k));
      if (w == 0) continue;
      for (int i = 0; i < dx; ++i) {
        double delta = X_(j, i) - X_(k, i);
        g[i] += w * delta * delta * inv_l2[i];
      }
    }
  }
  for (int i = 0; i < d; ++i) (*grad)[i] = -length_prior(i).dlog_p(theta[i]);
  for (int i = 0; i < dx; ++i) (*grad)[group_of(i)] -= 0.5 * g[i];
  // Additive part: d k_j / d log l_j = wa C(r2_j) r2_j, d k / d log sa2 = Ka.
  for (size_t j = 0; j < dka.size(); ++j) (*grad)[dka_group[j]] -= 0.5 * W.cwiseProduct(dka[j]).sum();
  if (additive_) (*grad)[d + 2] = -0.5 * (W.cwiseProduct(Ka)).sum() - kSignalPrior.dlog_p(theta[d + 2]);
  (*grad)[d] = -0.5 * (W.cwiseProduct(Kf)).sum() - kSignalPrior.dlog_p(theta[d]);
  double wtrace = 0;
  for (int i = 0; i < n; ++i) wtrace += W(i, i) * mult(i);
  (*grad)[d + 1] = -0.5 * sn2 * wtrace - kNoisePrior.dlog_p(theta[d + 1]);
  return nll;
}

GpHyper Gp::fit(const GpHyper& start, int extra_starts, int max_eval, std::mt19937_64& rng) const {
  const int d = start.dims(), D = int(start.theta.size());
  std::vector<double> lo(D, kLogLsMin), hi(D, kLogLsMax);
  lo[d] = kLogSfMin; hi[d] = kLogSfMax;
  lo[d + 1] = kLogSnMin; hi[d + 1] = kLogSnMax;
  if (start.additive) lo[d + 2] = kLogSfMin, hi[d + 2] = kLogSfMax;

  struct Ctx {
    const Gp* gp;
    double best = std::numeric_limits<double>::infinity();
    Eigen::VectorXd best_theta;
  } ctx{this, std::numeric_limits<double>::infinity(), start.theta};

  auto objective = [](unsigned n, const double* x, double* g, void* data) -> double {
    auto* c = static_cast<Ctx*>(data);
    Eigen::Map<const Eigen::VectorXd> theta(x, n);
    Eigen::VectorXd grad(n);
    double v = c->gp->neg_log_posterior(theta, g ? &grad : nullptr);
    if (g) Eigen::Map<Eigen::VectorXd>(g, n) = grad;
    if (std::isfinite(v) && v < c->best) {
      c->best = v;
      c->best_theta = theta;
    }
    return v;
  };

  auto uniform = [&rng](double a, double b) {
    return a + (b - a) * double(rng() >> 11) * 0x1.0p-53;
  };
  for (int s = 0; s <= extra_starts; ++s) {
    std::vector<double> x(D);
    if (s == 0) {
      for (int i = 0; i < D; ++i) x[i] = std::clamp(start.theta[i], lo[i], hi[i]);
    } else {
      for (int i = 0; i < d; ++i) x[i] = std::log(ls_scale_ * (group_binary(i) ? uniform(0.5, 3.0) : uniform(0.1, 1.5)));
      x[d] = std::log(uniform(0.5, 2.0) * (start.additive ? 0.5 : 1.0));
      x[d + 1] = std::log(uniform(1e-4, 0.2));
      if (start.additive) x[d + 2] = std::log(uniform(0.25, 1.0));
    }
    nlopt::opt opt(nlopt::LD_LBFGS, unsigned(D));
    opt.set_lower_bounds(lo);
    opt.set_upper_bounds(hi);
    opt.set_min_objective(objective, &ctx);
    opt.set_maxeval(max_eval);
    opt.set_ftol_rel(1e-6);
    double f = 0;
    try {
      opt.optimize(x, f);
    } catch (const std::exception&) {
      // NLopt gives up on round-off or a failed line search; the best point seen is still kept.
    }
  }
  GpHyper out{ctx.best_theta, start.additive};
  return out;
}

bool Gp::condition(const GpHyper& h) {
  // The kernel matrix does not depend on y: when only rows were appended since the last call under
  // the same hyperparameters (bo between refits), only the new rows' block is computed.
  const Eigen::Index n = X_.rows(), old = K_X_.rows();
  auto same_kernel = [](const GpHyper& a, const GpHyper& b) {   // everything but the noise variance
    if (a.additive != b.additive || a.theta.size() != b.theta.size()) return false;
    for (Eigen::Index i = 0; i < a.theta.size(); ++i)
      if (i != a.dims() + 1 && a.theta[i] != b.theta[i]) return false;
    return true;
  };
  const bool extend = old > 0 && old <= n && K_X_.cols() == X_.cols() && same_kernel(h, hyper_) &&
                      K_X_ == X_.topRows(old) && K_.rows() == old;
  hyper_ = h;
  if (extend) {
    if (n > old) {
      Eigen::MatrixXd K(n, n);
      K.topLeftCorner(old, old) = K_;
      const Eigen::MatrixXd B = cross(X_.bottomRows(n - old), X_, h);
      K.bottomRows(n - old) = B;
      K.topRightCorner(old, n - old) = B.leftCols(old).transpose();
      K_ = std::move(K);
    }
  } else {
    K_ = cross(X_, X_, h);
  }
  K_X_ = X_;
  cache_split_exps();
  return factorise();
}

void Gp::cache_split_exps() {
  split_up_.resize(0, 0);
  split_down_.resize(0, 0);
  if (!hyper_.additive || X_.size() == 0) return;
  const Eigen::VectorXd inv_l = dim_inv_l2(hyper_.theta, int(X_.cols())).cwiseSqrt();
  const Eigen::ArrayXXd xs = (X_ * inv_l.asDiagonal()).array();
  if (xs.abs().maxCoeff() > kMaxSplitCoord) return;
  split_up_ = (kSqrt5 * xs).exp();
  split_down_ = (-kSqrt5 * xs).exp();
}

bool Gp::factorise() {
  const int n = size();
  Eigen::MatrixXd K = K_;
  for (int i = 0; i < n; ++i) K(i, i) += hyper_.noise_variance() * mult(i);
  double jitter = 1e-9 * hyper_.prior_variance();
  for (int attempt = 0; attempt < 8; ++attempt, jitter *= 10) {
    Eigen::MatrixXd Kj = K;
    Kj.diagonal().array() += jitter;
    Eigen::LLT<Eigen::MatrixXd> llt(Kj);
    if (llt.info() == Eigen::Success) {
      L_ = llt.matrixL();
      alpha_ = llt.solve(y_);
      ok_ = true;
      return true;
    }
  }
  ok_ = false;
  L_.resize(0, 0);
  alpha_ = Eigen::VectorXd::Zero(n);
  return false;
}

GpHyper Gp::student_t_em(GpHyper h, double nu, int rounds, bool one_sided) {
  const int n = size(), d = h.dims();
  if (noise_mult_.size() != n) noise_mult_ = Eigen::VectorXd::Ones(n);
  if (!condition(h) || n < 3) return h;
  for (int round = 0; round < rounds; ++round) {
    // With A = K + S (S the noise diagonal) the latent posterior at the data is
    // mean = y - S alpha and var_i = S_i - S_i^2 (A^-1)_ii; (A^-1)_ii is column i of L^-1 squared.
    const Eigen::MatrixXd Linv = L_.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(n, n));
    const Eigen::VectorXd ainv = Linv.colwise().squaredNorm().transpose();
    const double sn2 = hyper_.noise_variance();
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      const double si = sn2 * noise_mult_[i];
      const double resid = si * alpha_[i];
      const double r2 = resid * resid + std::max(0.0, si - si * si * ainv[i]);
      const double w = one_sided && resid < 0 ? 1.0 : (nu + 1) / (nu + r2 / sn2);
      noise_mult_[i] = 1.0 / w;
      sum += w * r2;
    }
    const double lo = std::exp(kLogSnMin), hi = std::exp(kLogSnMax);
    hyper_.theta[d + 1] = std::log(std::clamp(sum / n, lo, hi));
    if (!factorise()) break;
  }
  return hyper_;
}

Eigen::VectorXd Gp::data_means() const {
  if (!ok_ || size() == 0) return Eigen::VectorXd::Zero(size());
  return K_ * alpha_;
}

void Gp::predict_cov(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::MatrixXd& cov) const {
  posterior_cov(Xs, mean, cov, true);
}

void Gp::predict_cov_additive(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::MatrixXd& cov) const {
  posterior_cov(Xs, mean, cov, !hyper_.additive);
}

void Gp::posterior_cov(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::MatrixXd& cov, bool with_full) const {
  cov = cross(Xs, Xs, hyper_, with_full);
  if (!ok_ || size() == 0) {
    mean = Eigen::VectorXd::Zero(Xs.rows());
    return;
  }
  const Eigen::MatrixXd Ks = cross(Xs, X_, hyper_, with_full);
  mean = Ks * alpha_;
  const Eigen::MatrixXd V = L_.triangularView<Eigen::Lower>().solve(Ks.transpose());
  cov -= V.transpose() * V;
}

void Gp::predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::VectorXd& var) const {
  const double sf2 = hyper_.prior_variance();
  if (!ok_ || size() == 0) {
    mean = Eigen::VectorXd::Zero(Xs.rows());
    var = Eigen::VectorXd::Constant(Xs.rows(), sf2);
    return;
  }
  Eigen::MatrixXd Ks = cross(Xs, X_, hyper_);  // m x n
  mean = Ks * alpha_;
  Eigen::MatrixXd V = L_.triangularView<Eigen::Lower>().solve(Ks.transpose());  // n x m
  var = (sf2 - V.colwise().squaredNorm().array()).cwiseMax(1e-12).matrix().transpose();
}

// predict_grad's additive part, one component at a time: k_j += wa m(r_jq) and, for each member
// dimension i, c(j, i) += -wa (5/3) (1 + r_jq) exp(-r_jq). A one-dimension component's exp comes
// from the data's cached split exps (cache_split_exps) and d exps of x, not n.
void Gp::add_additive_grad(const Eigen::VectorXd& x, const Eigen::MatrixXd& delta, const Eigen::MatrixXd& sd2,
                           Eigen::VectorXd& k, Eigen::MatrixXd& c) const {
  const int d = int(x.size());
  const auto components = additive_members(hyper_.dims(), d);
  const auto wa = additive_variances(hyper_.additive_variance(), int(components.size()));
  const Eigen::VectorXd inv_l = dim_inv_l2(hyper_.theta, d).cwiseSqrt();
  const Eigen::ArrayXd xs = x.cwiseProduct(inv_l).array();
  const bool split = split_up_.cols() == d && split_up_.rows() == X_.rows() && xs.abs().maxCoeff() <= kMaxSplitCoord;
  Eigen::ArrayXd r(X_.rows()), e(X_.rows());
  for (size_t q = 0; q < components.size(); ++q) {
    const auto& m = components[q];
    if (m.size() == 1 && split) {
      const int i = m[0];
      r = kSqrt5 * inv_l[i] * delta.col(i).array().abs();
      e = (split_up_.col(i) * std::exp(-kSqrt5 * xs[i])).min(split_down_.col(i) * std::exp(kSqrt5 * xs[i]));
    } else {
      r = (5.0 * sd2(Eigen::all, m).rowwise().sum().array()).sqrt();
      e = (-r).exp();
    }
    k.array() += wa[q] * (1.0 + r + r.square() / 3.0) * e;
    const Eigen::ArrayXd ci = -wa[q] * (5.0 / 3.0) * (1.0 + r) * e;
    for (int i : m) c.col(i).array() += ci;
  }
}

void Gp::predict_grad(const Eigen::VectorXd& x, double& mean, double& var, Eigen::VectorXd& dmean,
                      Eigen::VectorXd& dvar) const {
  const int d = int(x.size()), n = size();
  const double sf2 = hyper_.signal_variance(), prior_var = hyper_.prior_variance();
  dmean = Eigen::VectorXd::Zero(d);
  dvar = Eigen::VectorXd::Zero(d);
  if (!ok_ || n == 0) {
    mean = 0;
    var = prior_var;
    return;
  }
  // Vectorised over the n data rows (Eigen's array exp): delta (n x d), its scaled squares, the full
  // distance per row and, when additive, each component's (add_additive_grad).
  const Eigen::VectorXd inv_l2 = dim_inv_l2(hyper_.theta, d);
  const Eigen::MatrixXd delta = (-X_).rowwise() + x.transpose();
  const Eigen::MatrixXd sd2 = delta.array().square().rowwise() * inv_l2.transpose().array();
  const Eigen::VectorXd r2 = sd2.rowwise().sum();
  const Eigen::ArrayXd r = (5.0 * r2.array()).sqrt(), e = (-r).exp();
  Eigen::VectorXd k = (sf2 * (1.0 + r + r.square() / 3.0) * e).matrix();
  // c(j, i): d k_j / d x_i = c(j, i) * delta(j, i) * inv_l2(i)
  Eigen::MatrixXd c = (-sf2 * (5.0 / 3.0) * (1.0 + r) * e).matrix().replicate(1, d);
  if (hyper_.additive) add_additive_grad(x, delta, sd2, k, c);
  const Eigen::MatrixXd dk = (c.array() * delta.array()).rowwise() * inv_l2.transpose().array();
  mean = k.dot(alpha_);
  dmean = dk.transpose() * alpha_;
  Eigen::VectorXd v = L_.triangularView<Eigen::Lower>().solve(k);
  var = prior_var - v.squaredNorm();
  Eigen::VectorXd w = L_.transpose().triangularView<Eigen::Upper>().solve(v);
  dvar = -2.0 * dk.transpose() * w;
  if (var < 1e-12) {
    var = 1e-12;
    dvar.setZero();
  }
}

}  // namespace wgopt::opt

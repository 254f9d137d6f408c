#include "optimizer/gp.hpp"

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

Eigen::MatrixXd sq_dist(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) {
  Eigen::VectorXd a2 = A.rowwise().squaredNorm(), b2 = B.rowwise().squaredNorm();
  Eigen::MatrixXd d = (-2.0 * A * B.transpose()).colwise() + a2;
  d.rowwise() += b2.transpose();
  return d.cwiseMax(0.0);
}

}  // namespace

// The lengthscale prior of coordinate i, its scale stretched by ls_scale_ (Gamma(a, b / scale)).
struct Gp::LengthPrior {
  double a, b;
  double log_p(double t) const { return a * t - b * std::exp(t); }
  double dlog_p(double t) const { return a - b * std::exp(t); }
};
Gp::LengthPrior Gp::length_prior(int i) const {
  const GammaPrior& p = is_binary(i) ? kBinaryLengthPrior : kLengthPrior;
  return {p.a, p.b / ls_scale_};
}

double matern52(double r2) {
  double r = std::sqrt(std::max(r2, 0.0));
  return (1.0 + kSqrt5 * r + (5.0 / 3.0) * r * r) * std::exp(-kSqrt5 * r);
}

double GpHyper::lengthscale(int i) const { return std::exp(theta[i]); }
double GpHyper::signal_variance() const { return std::exp(theta[dims()]); }
double GpHyper::noise_variance() const { return std::exp(theta[dims() + 1]); }

GpHyper GpHyper::initial(int dims) {
  GpHyper h;
  h.theta.resize(dims + 2);
  h.theta.head(dims).setConstant(std::log(0.5));
  h.theta[dims] = 0.0;
  h.theta[dims + 1] = std::log(0.01);
  return h;
}

void Gp::set_data(Eigen::MatrixXd X, Eigen::VectorXd y) {
  X_ = std::move(X);
  y_ = std::move(y);
  ok_ = false;
}

Eigen::MatrixXd Gp::cross(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B, const GpHyper& h) const {
  const int d = h.dims();
  Eigen::VectorXd inv_l = (-h.theta.head(d).array()).exp().matrix();
  Eigen::MatrixXd r2 = sq_dist(A * inv_l.asDiagonal(), B * inv_l.asDiagonal());
  const double sf2 = h.signal_variance();
  return r2.unaryExpr([sf2](double v) { return sf2 * matern52(v); });
}

double Gp::neg_log_posterior(const Eigen::VectorXd& theta, Eigen::VectorXd* grad) const {
  const int n = size(), d = int(theta.size()) - 2;
  GpHyper h{theta};
  const double sf2 = h.signal_variance(), sn2 = h.noise_variance();
  Eigen::VectorXd inv_l2 = (-2.0 * theta.head(d).array()).exp().matrix();
  Eigen::VectorXd inv_l = inv_l2.cwiseSqrt();
  Eigen::MatrixXd Xs = X_ * inv_l.asDiagonal();
  Eigen::MatrixXd r2 = sq_dist(Xs, Xs);
  Eigen::MatrixXd Kf = r2.unaryExpr([sf2](double v) { return sf2 * matern52(v); });
  Eigen::MatrixXd K = Kf;
  K.diagonal().array() += sn2 + 1e-9;
  Eigen::LLT<Eigen::MatrixXd> llt(K);
  double prior = 0;
  for (int i = 0; i < d; ++i) prior += length_prior(i).log_p(theta[i]);
  prior += kSignalPrior.log_p(theta[d]) + kNoisePrior.log_p(theta[d + 1]);
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
  Eigen::VectorXd g = Eigen::VectorXd::Zero(d);
  for (int k = 0; k < n; ++k) {
    for (int j = k + 1; j < n; ++j) {
      // Both triangles of the symmetric sum: factor 2.
      double w = 2.0 * W(j, k) * sf2 * matern_c(r2(j, k));
      if (w == 0) continue;
      for (int i = 0; i < d; ++i) {
        double delta = X_(j, i) - X_(k, i);
        g[i] += w * delta * delta * inv_l2[i];
      }
    }
  }
  for (int i = 0; i < d; ++i)
    (*grad)[i] = -0.5 * g[i] - length_prior(i).dlog_p(theta[i]);
  (*grad)[d] = -0.5 * (W.cwiseProduct(Kf)).sum() - kSignalPrior.dlog_p(theta[d]);
  (*grad)[d + 1] = -0.5 * sn2 * W.trace() - kNoisePrior.dlog_p(theta[d + 1]);
  return nll;
}

GpHyper Gp::fit(const GpHyper& start, int extra_starts, int max_eval, std::mt19937_64& rng) const {
  const int d = start.dims(), D = d + 2;
  std::vector<double> lo(D, kLogLsMin), hi(D, kLogLsMax);
  lo[d] = kLogSfMin; hi[d] = kLogSfMax;
  lo[d + 1] = kLogSnMin; hi[d + 1] = kLogSnMax;

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
      for (int i = 0; i < d; ++i) x[i] = std::log(ls_scale_ * (is_binary(i) ? uniform(0.5, 3.0) : uniform(0.1, 1.5)));
      x[d] = std::log(uniform(0.5, 2.0));
      x[d + 1] = std::log(uniform(1e-4, 0.2));
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
  GpHyper out{ctx.best_theta};
  return out;
}

bool Gp::condition(const GpHyper& h) {
  hyper_ = h;
  const int n = size();
  Eigen::MatrixXd K = cross(X_, X_, h);
  K.diagonal().array() += h.noise_variance();
  double jitter = 1e-9 * h.signal_variance();
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

void Gp::predict_cov(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::MatrixXd& cov) const {
  cov = cross(Xs, Xs, hyper_);
  if (!ok_ || size() == 0) {
    mean = Eigen::VectorXd::Zero(Xs.rows());
    return;
  }
  Eigen::MatrixXd Ks = cross(Xs, X_, hyper_);
  mean = Ks * alpha_;
  Eigen::MatrixXd V = L_.triangularView<Eigen::Lower>().solve(Ks.transpose());
  cov -= V.transpose() * V;
}

void Gp::predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::VectorXd& var) const {
  const double sf2 = hyper_.signal_variance();
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

void Gp::predict_grad(const Eigen::VectorXd& x, double& mean, double& var, Eigen::VectorXd& dmean,
                      Eigen::VectorXd& dvar) const {
  const int d = int(x.size()), n = size();
  const double sf2 = hyper_.signal_variance();
  dmean = Eigen::VectorXd::Zero(d);
  dvar = Eigen::VectorXd::Zero(d);
  if (!ok_ || n == 0) {
    mean = 0;
    var = sf2;
    return;
  }
  Eigen::VectorXd inv_l2 = (-2.0 * hyper_.theta.head(d).array()).exp().matrix();
  Eigen::VectorXd k(n);
  Eigen::MatrixXd dk(n, d);  // dk_j / dx_i
  for (int j = 0; j < n; ++j) {
    Eigen::VectorXd delta = x - X_.row(j).transpose();
    double r2 = delta.cwiseProduct(delta).dot(inv_l2);
    k[j] = sf2 * matern52(r2);
    dk.row(j) = (-sf2 * matern_c(r2)) * delta.cwiseProduct(inv_l2).transpose();
  }
  mean = k.dot(alpha_);
  dmean = dk.transpose() * alpha_;
  Eigen::VectorXd v = L_.triangularView<Eigen::Lower>().solve(k);
  var = sf2 - v.squaredNorm();
  Eigen::VectorXd w = L_.transpose().triangularView<Eigen::Upper>().solve(v);
  dvar = -2.0 * dk.transpose() * w;
  if (var < 1e-12) {
    var = 1e-12;
    dvar.setZero();
  }
}

}  // namespace wgopt::opt

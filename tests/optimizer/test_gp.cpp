// The GP and the acquisition: posterior against a hand computation, likelihood and acquisition
// gradients against finite differences.
#include <catch2/catch.hpp>

#include <cmath>

#include "optimizer/acquisition.hpp"
#include "optimizer/gp.hpp"

using namespace wgopt::opt;

namespace {

// Matern 5/2 written out independently of gp.cpp: (1 + sqrt5 r + 5 r^2 / 3) exp(-sqrt5 r).
double matern(double r) { return (1 + std::sqrt(5.0) * r + 5.0 * r * r / 3.0) * std::exp(-std::sqrt(5.0) * r); }

GpHyper hyper(std::vector<double> ls, double sf2, double sn2) {
  GpHyper h;
  h.theta.resize(Eigen::Index(ls.size() + 2));
  for (size_t i = 0; i < ls.size(); ++i) h.theta[Eigen::Index(i)] = std::log(ls[i]);
  h.theta[Eigen::Index(ls.size())] = std::log(sf2);
  h.theta[Eigen::Index(ls.size() + 1)] = std::log(sn2);
  return h;
}

// Two lengthscales with the additive part (variance sa2).
GpHyper additive_hyper(double l0, double l1, double sf2, double sn2, double sa2) {
  GpHyper h = hyper({l0, l1}, sf2, sn2);
  h.additive = true;
  h.theta.conservativeResize(5);
  h.theta[4] = std::log(sa2);
  return h;
}

// The additive kernel itself at the rows of X: the prior covariance of a GP with no data.
Eigen::MatrixXd additive_prior_kernel(const GpHyper& h, const Eigen::MatrixXd& X) {
  Gp empty;
  empty.set_data(Eigen::MatrixXd(0, X.cols()), Eigen::VectorXd(0));
  empty.set_additive(true);
  empty.condition(h);
  Eigen::VectorXd m0;
  Eigen::MatrixXd k0;
  empty.predict_cov(X, m0, k0);
  return k0;
}

// predict_grad's gradients at x (dm, dv) against central finite differences of its mean and variance.
void check_predict_grad(const Gp& gp, const Eigen::VectorXd& x, const Eigen::VectorXd& dm, const Eigen::VectorXd& dv) {
  for (int k = 0; k < int(x.size()); ++k) {
    const double step = 1e-6;
    Eigen::VectorXd xp = x, xm = x;
    xp[k] += step;
    xm[k] -= step;
    double mp, vp, mm, vm;
    Eigen::VectorXd t1, t2;
    gp.predict_grad(xp, mp, vp, t1, t2);
    gp.predict_grad(xm, mm, vm, t1, t2);
    CHECK(dm[k] == Approx((mp - mm) / (2 * step)).epsilon(1e-5));
    CHECK(dv[k] == Approx((vp - vm) / (2 * step)).epsilon(1e-4).margin(1e-8));
  }
}

}  // namespace

TEST_CASE("GP posterior matches a two-point hand computation", "[gp]") {
  // 1-d, lengthscale 0.5, signal variance 2, noise 0.1, data (0, 1) and (1, -0.5), query 0.25.
  const double l = 0.5, sf2 = 2.0, sn2 = 0.1;
  Eigen::MatrixXd X(2, 1);
  X << 0.0, 1.0;
  Eigen::VectorXd y(2);
  y << 1.0, -0.5;
  Gp gp;
  gp.set_data(X, y);
  REQUIRE(gp.condition(hyper({l}, sf2, sn2)));

  // K = [[a, b], [b, a]], a = sf2 + sn2, b = sf2 m(1/l); k* = sf2 [m(0.25/l), m(0.75/l)].
  const double a = sf2 + sn2, b = sf2 * matern(1.0 / l);
  const double det = a * a - b * b;
  const double k1 = sf2 * matern(0.25 / l), k2 = sf2 * matern(0.75 / l);
  // K^-1 = [[a, -b], [-b, a]] / det
  const double w1 = (a * k1 - b * k2) / det, w2 = (-b * k1 + a * k2) / det;
  const double mean = w1 * y[0] + w2 * y[1];
  const double var = sf2 - (w1 * k1 + w2 * k2);

  Eigen::MatrixXd Xs(1, 1);
  Xs << 0.25;
  Eigen::VectorXd m, v;
  gp.predict(Xs, m, v);
  CHECK(m[0] == Approx(mean).epsilon(1e-7));
  CHECK(v[0] == Approx(var).epsilon(1e-7));

  double pm, pv;
  Eigen::VectorXd dm, dv;
  gp.predict_grad(Xs.row(0).transpose(), pm, pv, dm, dv);
  CHECK(pm == Approx(mean).epsilon(1e-7));
  CHECK(pv == Approx(var).epsilon(1e-7));
}

TEST_CASE("log-posterior gradients match finite differences", "[gp]") {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  const int n = 9, d = 3;
  Eigen::MatrixXd X(n, d);
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) X(i, j) = u(rng);
    y[i] = std::sin(3 * X(i, 0)) + X(i, 1) * X(i, 2) + 0.1 * u(rng);
  }
  Gp gp;
  gp.set_data(X, (y.array() - y.mean()) / 0.5);
  gp.set_binary_dims({false, true, false});  // both prior kinds take part
  for (auto theta0 : {hyper({0.3, 0.7, 1.5}, 1.2, 0.05).theta, hyper({2.0, 0.2, 0.5}, 0.4, 0.3).theta}) {
    Eigen::VectorXd grad;
    gp.neg_log_posterior(theta0, &grad);
    for (int k = 0; k < theta0.size(); ++k) {
      const double h = 1e-5;
      Eigen::VectorXd tp = theta0, tm = theta0;
      tp[k] += h;
      tm[k] -= h;
      double fd = (gp.neg_log_posterior(tp, nullptr) - gp.neg_log_posterior(tm, nullptr)) / (2 * h);
      INFO("theta index " << k);
      CHECK(grad[k] == Approx(fd).epsilon(1e-5).margin(1e-6));
    }
  }
}

TEST_CASE("fitting improves the posterior and recovers the noise level roughly", "[gp]") {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 0.1);
  const int n = 40;
  Eigen::MatrixXd X(n, 1);
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) {
    X(i, 0) = double(i) / (n - 1);
    y[i] = std::sin(6 * X(i, 0)) + noise(rng);
  }
  double sd = std::sqrt((y.array() - y.mean()).square().sum() / (n - 1));
  Gp gp;
  gp.set_data(X, (y.array() - y.mean()) / sd);
  GpHyper start = GpHyper::initial(1);
  GpHyper fit = gp.fit(start, 2, 200, rng);
  CHECK(gp.neg_log_posterior(fit.theta, nullptr) < gp.neg_log_posterior(start.theta, nullptr));
  const double noise_sd = std::sqrt(fit.noise_variance()) * sd;
  CHECK(noise_sd > 0.05);
  CHECK(noise_sd < 0.2);
}

TEST_CASE("Cholesky survives duplicated points without noise", "[gp]") {
  Eigen::MatrixXd X(3, 1);
  X << 0.5, 0.5, 0.5;
  Eigen::VectorXd y(3);
  y << 1, 1, 1;
  Gp gp;
  gp.set_data(X, y);
  // Noise 1e-6 on identical rows: singular without jitter.
  REQUIRE(gp.condition(hyper({0.3}, 1.0, 1e-12)));
  Eigen::VectorXd m, v;
  gp.predict(X.topRows(1), m, v);
  CHECK(m[0] == Approx(1.0).epsilon(1e-3));
}

TEST_CASE("log EI equals the closed form and its derivatives match finite differences", "[acquisition]") {
  auto ei = [](double mean, double sd, double best) {
    double z = (best - mean) / sd;
    double phi = std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI), Phi = 0.5 * std::erfc(-z / std::sqrt(2.0));
    return sd * (phi + z * Phi);
  };
  for (double mean : {-1.0, 0.0, 0.3, 1.0, 2.5}) {
    double v = log_expected_improvement(mean, 0.5, 0.2);
    CHECK(v == Approx(std::log(ei(mean, 0.5, 0.2))).epsilon(1e-9));
  }
  // Far from the incumbent the closed form underflows; the asymptotic branch must stay finite,
  // continuous at its switch-over (z = -6) and decreasing.
  double below = log_expected_improvement(6.0 + 1e-9, 1.0, 0.0), above = log_expected_improvement(6.0 - 1e-9, 1.0, 0.0);
  CHECK(below == Approx(above).epsilon(1e-4));
  CHECK(std::isfinite(log_expected_improvement(60.0, 1.0, 0.0)));
  CHECK(log_expected_improvement(60.0, 1.0, 0.0) < log_expected_improvement(30.0, 1.0, 0.0));

  for (double mean : {-0.5, 0.4, 3.0, 9.0}) {
    for (double sd : {0.3, 1.0}) {
      double dm, ds;
      log_expected_improvement(mean, sd, 0.1, &dm, &ds);
      const double h = 1e-6;
      double fm = (log_expected_improvement(mean + h, sd, 0.1) - log_expected_improvement(mean - h, sd, 0.1)) / (2 * h);
      double fs = (log_expected_improvement(mean, sd + h, 0.1) - log_expected_improvement(mean, sd - h, 0.1)) / (2 * h);
      INFO("mean " << mean << " sd " << sd);
      CHECK(dm == Approx(fm).epsilon(1e-4));
      CHECK(ds == Approx(fs).epsilon(1e-4));
    }
  }
}

TEST_CASE("posterior mean and variance gradients match finite differences", "[gp]") {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> u(0, 1);
  Eigen::MatrixXd X(7, 2);
  Eigen::VectorXd y(7);
  for (int i = 0; i < 7; ++i) {
    X(i, 0) = u(rng), X(i, 1) = u(rng);
    y[i] = X(i, 0) - 2 * X(i, 1) * X(i, 1);
  }
  Gp gp;
  gp.set_data(X, y);
  REQUIRE(gp.condition(hyper({0.4, 0.6}, 1.5, 0.01)));
  Eigen::VectorXd x(2);
  x << 0.37, 0.61;
  double m, v;
  Eigen::VectorXd dm, dv;
  gp.predict_grad(x, m, v, dm, dv);
  check_predict_grad(gp, x, dm, dv);
}

TEST_CASE("log P(feasible) equals log Phi(mean/sd), stays finite in the tails, and its derivatives match", "[acquisition]") {
  for (double mean : {-2.0, -0.3, 0.0, 0.8, 3.0}) {
    const double want = std::log(0.5 * std::erfc(-(mean / 0.7) / std::sqrt(2.0)));
    CHECK(log_probability_positive(mean, 0.7) == Approx(want).epsilon(1e-9));
  }
  // The asymptotic branch below z = -6 joins the direct one and keeps decreasing.
  CHECK(log_probability_positive(-6.0 - 1e-9, 1.0) == Approx(log_probability_positive(-6.0 + 1e-9, 1.0)).epsilon(1e-4));
  CHECK(std::isfinite(log_probability_positive(-60.0, 1.0)));
  CHECK(log_probability_positive(-60.0, 1.0) < log_probability_positive(-30.0, 1.0));
  for (double mean : {-8.0, -1.0, 0.2, 2.0}) {
    for (double sd : {0.5, 1.3}) {
      double dm, ds;
      log_probability_positive(mean, sd, &dm, &ds);
      const double h = 1e-6;
      INFO("mean " << mean << " sd " << sd);
      CHECK(dm == Approx((log_probability_positive(mean + h, sd) - log_probability_positive(mean - h, sd)) / (2 * h)).epsilon(1e-4));
      CHECK(ds == Approx((log_probability_positive(mean, sd + h) - log_probability_positive(mean, sd - h)) / (2 * h)).epsilon(1e-4));
    }
  }
}

TEST_CASE("predict_cov's diagonal is predict's variance and its mean the same", "[gp]") {
  Eigen::MatrixXd X(4, 1);
  X << 0.0, 0.3, 0.6, 1.0;
  Eigen::VectorXd y(4);
  y << 0.5, -0.2, 0.1, 0.9;
  Gp gp;
  gp.set_data(X, y);
  REQUIRE(gp.condition(hyper({0.3}, 1.0, 0.05)));
  Eigen::MatrixXd Xs(3, 1);
  Xs << 0.1, 0.45, 0.9;
  Eigen::VectorXd m1, v1, m2;
  Eigen::MatrixXd cov;
  gp.predict(Xs, m1, v1);
  gp.predict_cov(Xs, m2, cov);
  for (int i = 0; i < 3; ++i) {
    CHECK(m2[i] == Approx(m1[i]).epsilon(1e-12));
    CHECK(cov(i, i) == Approx(v1[i]).epsilon(1e-9));
  }
  CHECK(cov(0, 1) == Approx(cov(1, 0)).epsilon(1e-12));
  // A covariance: every 2 x 2 minor is positive semi-definite.
  CHECK(cov(0, 0) * cov(1, 1) - cov(0, 1) * cov(0, 1) >= -1e-12);
}

namespace {

// n random points in [0,1]^d with a smooth response, for the tests below.
void smooth_test_data(int n, int d, std::uint64_t seed, Eigen::MatrixXd& X, Eigen::VectorXd& y) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  X.resize(n, d);
  y.resize(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) X(i, j) = u(rng);
    y[i] = std::sin(3 * X(i, 0)) + (d > 2 ? X(i, 1) * X(i, 2) : X(i, 1)) + 0.1 * u(rng);
  }
}

}  // namespace

TEST_CASE("grouped lengthscales, the additive part and noise multipliers: gradients match finite differences", "[gp]") {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  smooth_test_data(10, 4, 11, X, y);
  Gp gp;
  gp.set_data(X, (y.array() - y.mean()) / 0.5);
  gp.set_binary_dims({false, true, true, false});
  gp.set_lengthscale_groups({0, 1, 1, 2});   // dims 1 and 2 share one lengthscale
  Eigen::VectorXd mult(10);
  for (int i = 0; i < 10; ++i) mult[i] = 0.5 + 0.1 * i;
  gp.set_noise_multipliers(mult);
  for (bool additive : {false, true}) {
    gp.set_additive(additive);
    Eigen::VectorXd theta(6);   // 3 lengthscales, signal, noise, (additive variance)
    theta << std::log(0.3), std::log(0.8), std::log(1.4), std::log(0.7), std::log(0.05), std::log(0.4);
    if (!additive) theta.conservativeResize(5);
    Eigen::VectorXd grad;
    gp.neg_log_posterior(theta, &grad);
    REQUIRE(grad.size() == theta.size());
    for (int k = 0; k < theta.size(); ++k) {
      const double h = 1e-5;
      Eigen::VectorXd tp = theta, tm = theta;
      tp[k] += h;
      tm[k] -= h;
      const double fd = (gp.neg_log_posterior(tp, nullptr) - gp.neg_log_posterior(tm, nullptr)) / (2 * h);
      INFO("additive " << additive << " theta index " << k);
      CHECK(grad[k] == Approx(fd).epsilon(1e-5).margin(1e-6));
    }
  }
}

TEST_CASE("a lengthscale group behaves as equal lengthscales on its dimensions", "[gp]") {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  smooth_test_data(8, 3, 3, X, y);
  Gp tied, untied;
  tied.set_data(X, y);
  untied.set_data(X, y);
  tied.set_lengthscale_groups({0, 1, 1});
  REQUIRE(tied.condition(hyper({0.4, 0.7}, 1.2, 0.02)));
  REQUIRE(untied.condition(hyper({0.4, 0.7, 0.7}, 1.2, 0.02)));
  Eigen::MatrixXd Xs(2, 3);
  Xs << 0.2, 0.5, 0.9, 0.7, 0.1, 0.3;
  Eigen::VectorXd m1, v1, m2, v2;
  tied.predict(Xs, m1, v1);
  untied.predict(Xs, m2, v2);
  for (int i = 0; i < 2; ++i) {
    CHECK(m1[i] == Approx(m2[i]).epsilon(1e-12));
    CHECK(v1[i] == Approx(v2[i]).epsilon(1e-12));
  }
}

TEST_CASE("the additive kernel: prior variance, a hand-computed covariance and gradients in x", "[gp]") {
  // Two 1-d groups: k(a, b) = sf2 m(|a - b|_l) + sa2 / 2 (m(|a0 - b0| / l0) + m(|a1 - b1| / l1)).
  const double l0 = 0.4, l1 = 0.9, sf2 = 0.7, sa2 = 0.5;
  Eigen::MatrixXd X(3, 2);
  X << 0.1, 0.2, 0.5, 0.9, 0.8, 0.4;
  Eigen::VectorXd y(3);
  y << 0.3, -0.4, 1.0;
  const GpHyper h = additive_hyper(l0, l1, sf2, 0.01, sa2);
  REQUIRE(h.dims() == 2);
  CHECK(h.prior_variance() == Approx(sf2 + sa2));
  Gp gp;
  gp.set_data(X, y);
  gp.set_additive(true);
  REQUIRE(gp.condition(h));
  Eigen::MatrixXd Xs(2, 2);
  Xs << 0.3, 0.3, 0.6, 0.8;
  Eigen::VectorXd mu;
  Eigen::MatrixXd cov;
  gp.predict_cov(Xs, mu, cov);
  // Far from every point, nothing learned: the prior variance. Check the prior covariance instead:
  // with no data it is the kernel itself.
  const Eigen::MatrixXd k0 = additive_prior_kernel(h, Xs);
  const double d0 = 0.3 / l0, d1 = 0.5 / l1;
  const double want = sf2 * matern(std::sqrt(d0 * d0 + d1 * d1)) + sa2 / 2 * (matern(d0) + matern(d1));
  CHECK(k0(0, 1) == Approx(want).epsilon(1e-12));
  CHECK(k0(0, 0) == Approx(sf2 + sa2).epsilon(1e-12));
  // predict_grad agrees with predict and with finite differences.
  Eigen::VectorXd x(2);
  x << 0.37, 0.61;
  double m, v;
  Eigen::VectorXd dm, dv;
  gp.predict_grad(x, m, v, dm, dv);
  Eigen::VectorXd pm, pv;
  gp.predict(x.transpose(), pm, pv);
  CHECK(m == Approx(pm[0]).epsilon(1e-12));
  CHECK(v == Approx(pv[0]).epsilon(1e-10));
  check_predict_grad(gp, x, dm, dv);

  // The additive part alone: with no data its kernel sa2 / 2 (m(d0) + m(d1)); with data the posterior
  // of that part (its covariance with the observations is its own kernel's), by hand.
  Eigen::VectorXd amu;
  Eigen::MatrixXd acov;
  Gp none;
  none.set_data(Eigen::MatrixXd(0, 2), Eigen::VectorXd(0));
  none.set_additive(true);
  REQUIRE(none.condition(h));
  none.predict_cov_additive(Xs, amu, acov);
  CHECK(acov(0, 1) == Approx(sa2 / 2 * (matern(d0) + matern(d1))).epsilon(1e-12));
  CHECK(acov(0, 0) == Approx(sa2).epsilon(1e-12));
  gp.predict_cov_additive(Xs, amu, acov);
  Eigen::MatrixXd K(3, 3), Ka(2, 3), Kaa(2, 2);
  auto add_k = [&](const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    return sa2 / 2 * (matern(std::abs(a[0] - b[0]) / l0) + matern(std::abs(a[1] - b[1]) / l1));
  };
  auto full_k = [&](const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    const double e0 = (a[0] - b[0]) / l0, e1 = (a[1] - b[1]) / l1;
    return sf2 * matern(std::sqrt(e0 * e0 + e1 * e1)) + add_k(a, b);
  };
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) K(i, j) = full_k(X.row(i), X.row(j)) + (i == j ? 0.01 : 0.0);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) Ka(i, j) = add_k(Xs.row(i), X.row(j));
    for (int j = 0; j < 2; ++j) Kaa(i, j) = add_k(Xs.row(i), Xs.row(j));
  }
  const Eigen::VectorXd want_mu = Ka * K.ldlt().solve(y);
  const Eigen::MatrixXd want_cov = Kaa - Ka * K.ldlt().solve(Ka.transpose());
  for (int i = 0; i < 2; ++i) {
    CHECK(amu[i] == Approx(want_mu[i]).epsilon(1e-6));
    for (int j = 0; j < 2; ++j) CHECK(acov(i, j) == Approx(want_cov(i, j)).epsilon(1e-6).margin(1e-12));
  }
}

TEST_CASE("the additive kernel at the shortest lengthscales: split exps agree with a hand computation, and past their limit", "[gp]") {
  // Scaled coordinates reach 100 at the fit's shortest lengthscale (0.01), where the one-dimension
  // components' exps are split into exp(-sqrt5 a) exp(sqrt5 b); at 0.004 (250) they are not.
  Eigen::MatrixXd X(4, 2);
  X << 0.999, 0.2, 0.996, 0.9, 0.98, 0.4, 0.1, 0.45;
  Eigen::VectorXd y(4);
  y << 0.3, -0.4, 1.0, 0.2;
  for (double l0 : {0.01, 0.004}) {
    const double l1 = 0.3, sf2 = 0.7, sa2 = 0.5;
    const GpHyper h = additive_hyper(l0, l1, sf2, 0.01, sa2);
    const Eigen::MatrixXd k0 = additive_prior_kernel(h, X);
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 4; ++j) {
        const double d0 = std::abs(X(i, 0) - X(j, 0)) / l0, d1 = std::abs(X(i, 1) - X(j, 1)) / l1;
        const double want = sf2 * matern(std::sqrt(d0 * d0 + d1 * d1)) + sa2 / 2 * (matern(d0) + matern(d1));
        INFO("l0 " << l0 << " entry " << i << ", " << j);
        CHECK(k0(i, j) == Approx(want).epsilon(1e-12).margin(1e-300));
      }
    }
    // Conditioned on the data: predict_grad (cached split exps) agrees with predict and with
    // finite differences.
    Gp gp;
    gp.set_data(X, y);
    gp.set_additive(true);
    REQUIRE(gp.condition(h));
    Eigen::VectorXd x(2);
    x << 0.997, 0.5;
    double m, v;
    Eigen::VectorXd dm, dv, pm, pv;
    gp.predict_grad(x, m, v, dm, dv);
    gp.predict(x.transpose(), pm, pv);
    // (predict's full-kernel distances come from a product, ||a||^2 + ||b||^2 - 2 a.b, which loses
    // digits at coordinates of 250: 1e-9, not 1e-12, there.)
    INFO("l0 " << l0);
    CHECK(m == Approx(pm[0]).epsilon(l0 < 0.01 ? 1e-9 : 1e-12));
    CHECK(v == Approx(pv[0]).epsilon(1e-9));
    check_predict_grad(gp, x, dm, dv);
  }
}

TEST_CASE("conditioning on appended rows equals conditioning from scratch; data_means are the posterior at the rows", "[gp]") {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  smooth_test_data(12, 3, 7, X, y);
  GpHyper h = hyper({0.5, 0.8, 0.6}, 1.1, 0.03);
  Gp grown, fresh;
  grown.set_data(X.topRows(9), y.head(9));
  REQUIRE(grown.condition(h));
  grown.set_data(X, y);   // three rows appended: only their block of the kernel is new
  REQUIRE(grown.condition(h));
  fresh.set_data(X, y);
  REQUIRE(fresh.condition(h));
  Eigen::MatrixXd Xs(2, 3);
  Xs << 0.1, 0.2, 0.3, 0.9, 0.4, 0.5;
  Eigen::VectorXd m1, v1, m2, v2;
  grown.predict(Xs, m1, v1);
  fresh.predict(Xs, m2, v2);
  for (int i = 0; i < 2; ++i) {
    CHECK(m1[i] == Approx(m2[i]).epsilon(1e-12));
    CHECK(v1[i] == Approx(v2[i]).epsilon(1e-12));
  }
  Eigen::VectorXd mr, vr;
  fresh.predict(X, mr, vr);
  const Eigen::VectorXd dm = fresh.data_means();
  for (int i = 0; i < 12; ++i) CHECK(dm[i] == Approx(mr[i]).epsilon(1e-9).margin(1e-12));
}

namespace {
// sin(4x) on 25 points of [0, 1] with noise sd 0.05 (seed 9), each outlier (index, offset) added,
// standardised; `mean` and `sd` are what the standardisation used.
struct NoisyLine {
  Eigen::MatrixXd X;
  Eigen::VectorXd ys;
  double mean = 0, sd = 1;
};
NoisyLine noisy_line(const std::vector<std::pair<int, double>>& outliers) {
  const int n = 25;
  NoisyLine l{Eigen::MatrixXd(n, 1), Eigen::VectorXd(n)};
  Eigen::VectorXd y(n);
  std::mt19937_64 rng(9);
  std::normal_distribution<double> z(0, 0.05);
  for (int i = 0; i < n; ++i) {
    l.X(i, 0) = double(i) / (n - 1);
    y[i] = std::sin(4 * l.X(i, 0)) + z(rng);
  }
  for (const auto& [i, off] : outliers) y[i] += off;
  l.mean = y.mean();
  l.sd = std::sqrt((y.array() - l.mean).square().sum() / (n - 1));
  l.ys = (y.array() - l.mean) / l.sd;
  return l;
}
}  // namespace

TEST_CASE("Student-t EM: an outlier weighs little and no longer inflates the noise", "[gp]") {
  // A smooth line measured with small noise, one measurement far off (a lost second).
  const int n = 25, bad = 12;
  const NoisyLine line = noisy_line({{bad, 2.0}});
  const Eigen::MatrixXd& X = line.X;
  const Eigen::VectorXd& ys = line.ys;
  const double mean = line.mean, sd = line.sd;
  Gp gauss, robust;
  gauss.set_data(X, ys);
  robust.set_data(X, ys);
  std::mt19937_64 fit_rng(1);
  const GpHyper h = gauss.fit(GpHyper::initial(1), 2, 200, fit_rng);
  REQUIRE(gauss.condition(h));
  const GpHyper hr = robust.student_t_em(h, 4, 10);
  CHECK(hr.noise_variance() < h.noise_variance());
  const auto& m = robust.noise_multipliers();
  REQUIRE(m.size() == n);
  for (int i = 0; i < n; ++i)
    if (i != bad) CHECK(m[bad] > 5 * m[i]);
  // The robust posterior at the outlier follows its neighbours, the Gaussian one is dragged up.
  Eigen::VectorXd mg, vg, mr, vr;
  gauss.predict(X.row(bad), mg, vg);
  robust.predict(X.row(bad), mr, vr);
  const double truth = (std::sin(4 * X(bad, 0)) - mean) / sd;
  CHECK(std::abs(mr[0] - truth) < std::abs(mg[0] - truth));
  CHECK(std::abs(mr[0] - truth) < 0.15);
}

TEST_CASE("Student-t EM one-sided: only a measurement worse than the model is down-weighted", "[gp]") {
  // The same line with one measurement far above it (worse: everything is minimised) and one far
  // below (better). Symmetric EM discounts both; one-sided only the worse one.
  const int worse = 8, better = 16;
  const NoisyLine line = noisy_line({{worse, 2.0}, {better, -2.0}});
  const Eigen::MatrixXd& X = line.X;
  const Eigen::VectorXd& ys = line.ys;
  Gp gauss, both, one;
  for (Gp* g : {&gauss, &both, &one}) g->set_data(X, ys);
  std::mt19937_64 fit_rng(1);
  const GpHyper h = gauss.fit(GpHyper::initial(1), 2, 200, fit_rng);
  both.student_t_em(h, 4, 10);
  one.student_t_em(h, 4, 10, true);
  CHECK(both.noise_multipliers()[better] > 5);
  CHECK(both.noise_multipliers()[worse] > 5);
  CHECK(one.noise_multipliers()[better] == 1.0);
  CHECK(one.noise_multipliers()[worse] > 3);   // the believed better one widens the noise a little
}

TEST_CASE("additive components finer than the lengthscale groups: hand-computed covariance, weights, gradients", "[gp]") {
  // Dims 1 and 2 share lengthscale l1 but are additive components of their own, with weights 2:1:1:
  // k(a, b) = sf2 m(|a - b|_l) + sa2 (m(|a0 - b0| / l0) / 2 + m(|a1 - b1| / l1) / 4 + m(|a2 - b2| / l1) / 4).
  const double l0 = 0.5, l1 = 0.8, sf2 = 0.6, sa2 = 0.9;
  GpHyper h = hyper({l0, l1}, sf2, 0.02);
  h.additive = true;
  h.theta.conservativeResize(5);
  h.theta[4] = std::log(sa2);
  auto configure = [](Gp& gp) {
    gp.set_lengthscale_groups({0, 1, 1});
    gp.set_additive(true);
    gp.set_additive_components({0, 1, 2}, {2.0, 1.0, 1.0});
  };
  Gp empty;
  empty.set_data(Eigen::MatrixXd(0, 3), Eigen::VectorXd(0));
  configure(empty);
  empty.condition(h);
  Eigen::MatrixXd Xs(2, 3);
  Xs << 0.1, 1.0, 0.0, 0.4, 0.0, 0.0;
  Eigen::VectorXd m0;
  Eigen::MatrixXd k0;
  empty.predict_cov(Xs, m0, k0);
  const double d0 = 0.3 / l0, d1 = 1.0 / l1;
  const double want = sf2 * matern(std::sqrt(d0 * d0 + d1 * d1)) + sa2 * (matern(d0) / 2 + matern(d1) / 4 + 1.0 / 4);
  CHECK(k0(0, 1) == Approx(want).epsilon(1e-12));
  CHECK(k0(0, 0) == Approx(sf2 + sa2).epsilon(1e-12));

  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  smooth_test_data(10, 3, 5, X, y);
  Gp gp;
  gp.set_data(X, (y.array() - y.mean()) / 0.5);
  configure(gp);
  Eigen::VectorXd grad;
  gp.neg_log_posterior(h.theta, &grad);
  REQUIRE(grad.size() == h.theta.size());
  for (int k = 0; k < h.theta.size(); ++k) {
    const double e = 1e-5;
    Eigen::VectorXd tp = h.theta, tm = h.theta;
    tp[k] += e;
    tm[k] -= e;
    INFO("theta index " << k);
    CHECK(grad[k] == Approx((gp.neg_log_posterior(tp, nullptr) - gp.neg_log_posterior(tm, nullptr)) / (2 * e))
                         .epsilon(1e-5).margin(1e-6));
  }
  REQUIRE(gp.condition(h));
  Eigen::VectorXd x(3);
  x << 0.37, 0.61, 0.2;
  double m, v;
  Eigen::VectorXd dm, dv, pm, pv;
  gp.predict_grad(x, m, v, dm, dv);
  gp.predict(x.transpose(), pm, pv);
  CHECK(m == Approx(pm[0]).epsilon(1e-12));
  CHECK(v == Approx(pv[0]).epsilon(1e-10));
  check_predict_grad(gp, x, dm, dv);
}

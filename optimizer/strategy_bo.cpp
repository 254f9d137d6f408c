// `bo`: Bayesian optimisation with a GP (gp.hpp) and log expected improvement (acquisition.hpp).
//
// ask():  1. a Latin-hypercube initial design (the start configuration first, when given);
//         2. then: refresh the model (hyperparameters refitted often while data is scarce, every
//            ~n/15 trials later, on at most kFitPoints points; the Cholesky on all of them);
//            incumbent = the best posterior mean among measured configurations (robust to a lucky
//            draw, unlike the best observation); candidates = random configurations + perturbations
//            of the best-looking ones; the top few are polished by L-BFGS on the continuous
//            coordinates and a hill climb over discrete neighbours (acquisition.hpp).
// Failed and infeasible trials train a separate feasibility model (a GP on +-1 labels); the
// objective GP is fitted on measured values only and EI is weighted by the probability of success,
// so a cliff next to the optimum teaches where the edge is without flattening the objective there
// (BoSettings::feasibility). CPU masks enter the model as their bits and their popcount, and in the
// kernel's additive part each bit is a main effect of its own (BoSettings::mask_bit_effects); the
// lengthscale priors widen with the model's dimension (BoSettings::scale_lengthscales).
#include <algorithm>
#include <bit>
#include <cmath>
#include <nlopt.hpp>
#include <map>
#include <numeric>

#include "optimizer/acquisition.hpp"
#include "optimizer/gp.hpp"
#include "optimizer/history.hpp"
#include "optimizer/sampling.hpp"
#include "optimizer/strategies.hpp"

namespace wgopt::opt {

namespace {

constexpr int kFitPoints = 120;  // hyperparameters are fitted on at most this many points

// The model's input: the space's encoding, then (BoSettings::popcount) one popcount / bits
// coordinate per mask parameter.
// Phi^-1(u) for u in (0, 1): Acklam's rational approximation (relative error < 1.2e-9).
double normal_quantile(double u) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  if (u < 0.02425) {
    const double q = std::sqrt(-2 * std::log(u));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (u > 1 - 0.02425) return -normal_quantile(1 - u);
  const double q = u - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

int model_dims(const Space& space, const BoSettings& b) {
  int d = space.dims();
  if (b.popcount)
    for (const auto& p : space.params()) d += p.type == ParamType::mask;
  return d;
}

class BoStrategy : public Strategy {
 public:
  BoStrategy(const Space& space, const StrategyOptions& o, const BoSettings& b)
      : space_(space), hist_(space_, o.direction), rng_(o.seed), settings_(b), dims_(model_dims(space_, b)), budget_(o.budget) {
    const int np = int(space_.params().size());
    int n_init = o.n_initial;
    if (n_init <= 0) {
      n_init = np + 2;
      if (o.budget > 0) n_init = std::min(n_init, std::max(4, o.budget / 4));
      n_init = std::max(n_init, 4);
    }
    design_ = latin_hypercube(space_, n_init, rng_);
    if (o.start) {
      // The host's current settings are the baseline; they replace the design point nearest them.
      Config start = space_.complete(*o.start);
      start_ = start;
      auto xs = space_.encode(start);
      size_t nearest = 0;
      double best = HUGE_VAL;
      for (size_t k = 0; k < design_.size(); ++k) {
        auto xk = space_.encode(design_[k]);
        double d2 = 0;
        for (size_t j = 0; j < xk.size(); ++j) d2 += (xk[j] - xs[j]) * (xk[j] - xs[j]);
        if (d2 < best) best = d2, nearest = k;
      }
      design_.erase(design_.begin() + long(nearest));
      if (b.design_start_share > 0) design_ = anchor_to_start(space_, std::move(design_), start, b.design_start_share, rng_);
      design_.insert(design_.begin(), start);
    }
  }

  Config ask() override {
    // The design opens a fresh run; a strategy already told as many trials (a resumed study) skips it,
    // and one told fewer skips the points it was told (found by an exploratory test: a study resumed
    // after its first trial, the host's own values, measured them again as its next).
    while (design_pos_ < design_.size() && hist_.size() < int(design_.size())) {
      const Config& next = design_[design_pos_++];
      const auto& seen = hist_.all();
      if (std::none_of(seen.begin(), seen.end(), [&](const Observation& o) { return o.config == next; })) return next;
    }
    if (hist_.n_values() < 2) return random_config(space_, rng_);
    refresh_model();
    if (auto returned = leave_one_out()) return *returned;
    if (auto again = adaptive_remeasure()) return *again;
    Config next = maximise_acquisition();
    if (auto again = remeasure_instead_of(next)) return *again;
    return next;
  }

  void tell(const Config& c, TrialState s, double v) override {
    hist_.add(c, s, v);
    stale_ = true;
  }

  Recommendation recommend() override {
    if (hist_.n_values() == 0) return {};
    refresh_model();
    auto ranked = rank_measured();
    if (ranked.empty()) return hist_.best_by_average();
    const auto& top = ranked.front();
    Recommendation r;
    r.config = top.config;
    double slope = 0;
    r.mean = hist_.to_user(value_of(top.mean, &slope));
    r.sd = std::sqrt(top.var) * std::abs(slope);
    r.evaluations = hist_.aggregates().at(top.config).count;
    r.valid = true;
    // Values near 1e160 overflow the model's squares: its ranking is then noise (it recommended the
    // worst trial at an expected value of nan). What was measured is still a sound answer.
    if (!std::isfinite(r.mean)) return hist_.best_by_average();
    return r;
  }

  std::optional<Config> remeasure_candidate() override {
    if (hist_.n_values() == 0) return std::nullopt;
    refresh_model();
    auto ranked = rank_measured();
    if (ranked.empty()) return hist_.least_measured_of_best();
    if (settings_.kg_remeasure) return knowledge_gradient_choice(ranked);
    ranked.resize(std::min<size_t>(3, ranked.size()));
    auto most_uncertain = std::max_element(ranked.begin(), ranked.end(),
                                           [](const auto& a, const auto& b) { return a.var < b.var; });
    return most_uncertain->config;
  }

  std::vector<Contribution> contributions(const Config& winner, const Config& baseline) override {
    auto out = changed_params(space_, winner, baseline);
    if (hist_.n_values() == 0 || out.empty()) return out;
    refresh_model();
    std::vector<Config> cs = {winner};
    for (const auto& c : out) {
      Config r = winner;
      if (c.baseline) r[c.param] = *c.baseline;
      cs.push_back(space_.complete(r));
    }
    Eigen::MatrixXd X = model_matrix(cs);
    Eigen::VectorXd mu;
    Eigen::MatrixXd cov;
    predict_difference_cov(X, mu, cov, settings_.additive_contributions);
    for (size_t k = 0; k < out.size(); ++k) {
      if (!out[k].baseline) continue;
      const Difference d = difference_of(mu, cov, 0, Eigen::Index(k + 1));
      out[k].gain = d.mean;
      out[k].sd = d.sd;
    }
    return out;
  }

  Difference difference(const Config& a, const Config& b) override {
    changed_params(space_, a, b);  // validates both
    if (hist_.n_values() == 0) return {};
    refresh_model();
    Eigen::VectorXd mu;
    Eigen::MatrixXd cov;
    const bool additive = settings_.additive_contributions && !settings_.additive_credits_only;
    predict_difference_cov(model_matrix({space_.complete(a), space_.complete(b)}), mu, cov, additive);
    return difference_of(mu, cov, 0, 1);
  }

  std::string name() const override { return "bo"; }

 private:
  // How much better row a of a joint prediction (mu, cov) is than row b, in user units: internal
  // values are minimised, so by value(b) - value(a); the sd of the difference counts their covariance.
  Difference difference_of(const Eigen::VectorXd& mu, const Eigen::MatrixXd& cov, Eigen::Index a, Eigen::Index b) const {
    double slope = 0;
    const double va = value_of(mu[a], &slope);
    return {.mean = value_of(mu[b]) - va, .sd = std::sqrt(std::max(0.0, cov(a, a) + cov(b, b) - 2 * cov(a, b))) * std::abs(slope)};
  }

  // The posterior the contributions and differences read: the whole model's, or with
  // BoSettings::additive_contributions its first-order additive part's (main effects).
  void predict_difference_cov(const Eigen::MatrixXd& X, Eigen::VectorXd& mu, Eigen::MatrixXd& cov, bool additive) const {
    if (additive) gp_.predict_cov_additive(X, mu, cov);
    else gp_.predict_cov(X, mu, cov);
  }

  Eigen::VectorXd model_x(const Config& c) const {
    auto e = space_.encode(c);
    Eigen::VectorXd x(dims_);
    for (size_t j = 0; j < e.size(); ++j) x[Eigen::Index(j)] = e[j];
    Eigen::Index at = Eigen::Index(e.size());
    if (settings_.popcount)
      for (const auto& p : space_.params()) {
        if (p.type != ParamType::mask) continue;
        auto it = c.find(p.name);
        const auto m = it == c.end() ? 0 : std::get<std::int64_t>(it->second);
        x[at++] = double(std::popcount(std::uint64_t(m))) / p.bits;
      }
    return x;
  }
  Eigen::MatrixXd model_matrix(const std::vector<Config>& cs) const {
    Eigen::MatrixXd X(Eigen::Index(cs.size()), dims_);
    for (size_t k = 0; k < cs.size(); ++k) X.row(Eigen::Index(k)) = model_x(cs[k]).transpose();
    return X;
  }

  struct Ranked {
    Config config;
    double mean, var;   // standardised internal units
  };

  // Measured configurations by posterior mean, best first; var is filled for the first kRankedVar
  // only (NaN after them). The means come from the conditioned GP's data rows (K alpha, O(n^2)),
  // not from a prediction at every measured configuration (O(n^3) at a few hundred trials).
  static constexpr size_t kRankedVar = 12;
  std::vector<Ranked> rank_measured() const {
    std::vector<Ranked> out;
    const Eigen::VectorXd means = gp_.data_means();
    std::map<Config, double> mean_of;
    for (size_t k = 0; k < rows_.size(); ++k) mean_of.emplace(hist_.all()[rows_[k]].config, means[Eigen::Index(k)]);
    for (const auto& [c, a] : hist_.aggregates()) {
      if (a.count == 0) continue;
      auto it = mean_of.find(c);
      if (it != mean_of.end()) out.push_back({c, it->second, std::nan("")});
    }
    if (out.empty()) return out;
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.mean < b.mean; });
    const size_t k = std::min(kRankedVar, out.size());
    std::vector<Config> top;
    for (size_t i = 0; i < k; ++i) top.push_back(out[i].config);
    Eigen::VectorXd mu, var;
    gp_.predict(model_matrix(top), mu, var);
    for (size_t i = 0; i < k; ++i) out[i].var = var[Eigen::Index(i)];
    return out;
  }

  // Of the best kKgConfigs measured configurations by posterior mean, the one whose next measurement
  // is expected to lower the best posterior mean among them most (the knowledge gradient of the final
  // choice, Frazier et al. 2009): one more measurement y at c moves every mean by
  // cov(., c) / sqrt(var(c) + noise) times a standard normal; the expectation of the new minimum is
  // taken over fixed normal quantiles. It re-measures the recommendation when its own uncertainty
  // is what decides, a close challenger when that could overtake it.
  Config knowledge_gradient_choice(const std::vector<Ranked>& ranked) const {
    std::vector<Config> cs;
    for (size_t i = 0; i < std::min(kKgConfigs, ranked.size()); ++i) cs.push_back(ranked[i].config);
    const auto gains = choice_gains(cs, cs.size());
    return cs[size_t(std::max_element(gains.begin(), gains.end()) - gains.begin())];
  }
  static constexpr size_t kKgConfigs = 12;

  // The knowledge gradient of one more measurement at each of cs for the final choice, which is the
  // best posterior mean among *measured* configurations: cs[0 .. measured-1] are measured, the rest
  // are not (one of them becomes choosable only once measured). gains[i] = the current best mean
  // among the measured minus its expectation after measuring cs[i] (standardised units, >= 0).
  std::vector<double> choice_gains(const std::vector<Config>& cs, size_t measured) const {
    constexpr int kQuantiles = 48;
    Eigen::VectorXd mu;
    Eigen::MatrixXd cov;
    gp_.predict_cov(model_matrix(cs), mu, cov);
    const double nu = settings_.robust ? settings_.robust_nu : HUGE_VAL;
    const double noise = gp_.hyper().noise_variance() * (nu > 2 && std::isfinite(nu) ? nu / (nu - 2) : 1.0);
    const auto k = Eigen::Index(measured);
    const double now = mu.head(k).minCoeff();
    std::vector<double> gains(cs.size(), 0.0);
    for (size_t c = 0; c < cs.size(); ++c) {
      const auto ci = Eigen::Index(c);
      const double denom = std::sqrt(std::max(cov(ci, ci), 0.0) + noise);
      if (!(denom > 0)) continue;
      const Eigen::VectorXd shift = cov.col(ci) / denom;
      double expected = 0;
      for (int q = 0; q < kQuantiles; ++q) {
        const double z = normal_quantile((q + 0.5) / kQuantiles);
        double m = (mu.head(k) + z * shift.head(k)).minCoeff();
        if (ci >= k) m = std::min(m, mu[ci] + z * shift[ci]);
        expected += m;
      }
      gains[c] = now - expected / kQuantiles;
    }
    return gains;
  }

  // BoSettings::kg_ask: `next` (the acquisition's choice) against re-measuring. Both are valued by
  // what they are expected to do for the final choice (choice_gains; a new point's gain weighted by
  // its probability of success); the measured configuration with the larger gain is returned when it
  // beats the new point by more than BoSettings::kg_ask_min noise sds. Only in the later part of a
  // known budget.
  std::optional<Config> remeasure_instead_of(const Config& next) const {
    if (!settings_.kg_ask || budget_ <= 0 || hist_.size() < settings_.kg_ask_from * budget_) return std::nullopt;
    if (auto it = hist_.aggregates().find(next); it != hist_.aggregates().end() && it->second.count > 0)
      return std::nullopt;   // already a re-measurement
    auto ranked = rank_measured();
    if (ranked.empty()) return std::nullopt;
    std::vector<Config> cs;
    for (size_t i = 0; i < std::min(kKgConfigs, ranked.size()); ++i) cs.push_back(ranked[i].config);
    const size_t k = cs.size();
    cs.push_back(next);
    const auto gains = choice_gains(cs, k);
    double p_next = 1;
    if (have_feas_) {
      Eigen::VectorXd fm, fv;
      feas_.predict(model_matrix({next}), fm, fv);
      p_next = std::exp(log_feasible(fm[0], fv[0]));
    }
    const size_t best = size_t(std::max_element(gains.begin(), gains.begin() + long(k)) - gains.begin());
    // A gain far below the noise is numerical dust (noise-free, both are ~1e-7): explore then.
    const double material = settings_.kg_ask_min * std::sqrt(gp_.hyper().noise_variance());
    if (gains[best] > p_next * gains[k] && gains[best] > material) return cs[best];
    return std::nullopt;
  }

  // BoSettings::remeasure_adaptive: the knowledge-gradient re-measurement while the trials left are
  // within the share the noise asks for.
  std::optional<Config> adaptive_remeasure() const {
    if (!settings_.remeasure_adaptive || budget_ <= 0) return std::nullopt;
    const double left = double(budget_ - hist_.size());
    const double window = settings_.remeasure_max * budget_;
    if (left > window) return std::nullopt;
    auto ranked = rank_measured();
    if (ranked.size() < 2) return std::nullopt;
    const size_t k = std::min<size_t>(5, ranked.size());
    double gap = 0;
    for (size_t i = 1; i < k; ++i) gap += ranked[i].mean - ranked[0].mean;
    gap /= double(k - 1);
    const double s = std::sqrt(gp_.hyper().noise_variance());
    const double share = gap > 0 ? std::min(1.0, s / (settings_.remeasure_ratio * gap)) : 1.0;
    if (left > window * share) return std::nullopt;
    return knowledge_gradient_choice(ranked);
  }

  void refresh_model() {
    if (!stale_) return;
    stale_ = false;
    const auto& obs = hist_.all();
    double worst = -HUGE_VAL;
    int failures = 0;
    for (const auto& o : obs) {
      if (o.has_value) worst = std::max(worst, o.y);
      failures += !o.has_value;
    }
    // The objective's data: measured values only, or (feasibility off) failures at the worst value.
    std::vector<const Observation*> used;
    rows_.clear();
    for (size_t k = 0; k < obs.size(); ++k)
      if (obs[k].has_value || !settings_.feasibility) used.push_back(&obs[k]), rows_.push_back(k);
    const int n = int(used.size());
    Eigen::MatrixXd X(n, dims_);
    Eigen::VectorXd y(n);
    for (int k = 0; k < n; ++k) {
      X.row(k) = model_x(used[size_t(k)]->config).transpose();
      y[k] = used[size_t(k)]->has_value ? used[size_t(k)]->y : worst;
    }
    if (settings_.warp) y = warp(y);
    y_mean_ = y.mean();
    y_sd_ = std::sqrt((y.array() - y_mean_).square().sum() / std::max(1, n - 1));
    if (!(y_sd_ > 1e-12)) y_sd_ = 1.0;
    Eigen::VectorXd ys = (y.array() - y_mean_) / y_sd_;

    // Robust: the previous noise multipliers carry over (rows only ever append), new rows start at 1.
    Eigen::VectorXd mult = Eigen::VectorXd::Ones(n);
    if (settings_.robust)
      for (int k = 0; k < std::min<int>(n, int(noise_mult_.size())); ++k) mult[k] = noise_mult_[size_t(k)];

    const bool refit = !have_hyper_ || n <= 40 || n - fitted_n_ >= std::max(2, n / 15);
    if (refit) {
      hyper_ = fit_hyper(X, ys, have_hyper_ ? &hyper_ : nullptr, n, mult);
      have_hyper_ = true;
      fitted_n_ = n;
    }
    gp_.set_data(std::move(X), std::move(ys));
    gp_.set_binary_dims(binary_dims());
    gp_.set_lengthscale_groups(lengthscale_groups());
    gp_.set_additive_components(additive_components(), additive_weights());
    gp_.set_additive(settings_.additive);
    if (settings_.robust) {
      gp_.set_noise_multipliers(mult);
      hyper_ = gp_.student_t_em(hyper_, settings_.robust_nu, n <= 100 ? 3 : 1, settings_.robust_one_sided);
      const auto& m = gp_.noise_multipliers();
      noise_mult_.assign(m.data(), m.data() + m.size());
    } else {
      gp_.condition(hyper_);
    }

    have_feas_ = settings_.feasibility && failures > 0;
    if (have_feas_) refresh_feasibility(obs, refit);
  }

  // Rank-Gaussian warping of the values (a copula transform): y -> Phi^-1((rank + 0.5) / n), ties
  // sharing their mean rank. Monotone, so the best stays the best; scale-free, so one outlier or a
  // multiplicative objective does not stretch the model. Keeps the pairs for value_of().
  Eigen::VectorXd warp(const Eigen::VectorXd& y) {
    const int n = int(y.size());
    std::vector<int> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return y[a] < y[b]; });
    Eigen::VectorXd z(n);
    for (int a = 0; a < n;) {
      int b = a;
      while (b + 1 < n && y[idx[size_t(b + 1)]] == y[idx[size_t(a)]]) ++b;
      const double u = (0.5 * (a + b) + 0.5) / n;
      for (int k = a; k <= b; ++k) z[idx[size_t(k)]] = normal_quantile(u);
      a = b + 1;
    }
    warp_z_.clear();
    warp_y_.clear();
    for (int k : idx) warp_z_.push_back(z[k]), warp_y_.push_back(y[k]);
    return z;
  }

  // A model value (standardised internal units) back in internal value units: through the
  // warping's piecewise-linear inverse when warping (the end segments extended), else linear.
  // `slope` receives d value / d model value.
  double value_of(double m, double* slope = nullptr) const {
    const double zv = m * y_sd_ + y_mean_;
    if (!settings_.warp || warp_z_.size() < 2) {
      if (slope) *slope = y_sd_;
      return zv;
    }
    size_t hi = size_t(std::upper_bound(warp_z_.begin(), warp_z_.end(), zv) - warp_z_.begin());
    hi = std::clamp<size_t>(hi, 1, warp_z_.size() - 1);
    size_t lo = hi - 1;
    while (lo > 0 && warp_z_[lo] == warp_z_[hi]) --lo;
    const double dz = warp_z_[hi] - warp_z_[lo];
    const double s = dz > 0 ? (warp_y_[hi] - warp_y_[lo]) / dz : 0.0;
    if (slope) *slope = s * y_sd_;
    return warp_y_[lo] + s * (zv - warp_z_[lo]);
  }

  // The feasibility model: labels +1 (measured) / -1 (failed, infeasible) on every trial,
  // standardised, with hyperparameters of its own.
  void refresh_feasibility(const std::vector<Observation>& obs, bool refit) {
    const int n = int(obs.size());
    Eigen::MatrixXd X(n, dims_);
    Eigen::VectorXd y(n);
    for (int k = 0; k < n; ++k) {
      X.row(k) = model_x(obs[size_t(k)].config).transpose();
      y[k] = obs[size_t(k)].has_value ? 1.0 : -1.0;
    }
    feas_mean_ = y.mean();
    feas_sd_ = std::sqrt((y.array() - feas_mean_).square().sum() / std::max(1, n - 1));
    if (!(feas_sd_ > 1e-12)) feas_sd_ = 1.0;
    Eigen::VectorXd ys = (y.array() - feas_mean_) / feas_sd_;
    if (refit || !have_feas_hyper_) {
      feas_hyper_ = fit_hyper(X, ys, have_feas_hyper_ ? &feas_hyper_ : nullptr, n);
      have_feas_hyper_ = true;
    }
    feas_.set_data(std::move(X), std::move(ys));
    feas_.set_binary_dims(binary_dims());
    feas_.set_lengthscale_groups(lengthscale_groups());
    feas_.set_additive_components(additive_components(), additive_weights());
    feas_.set_additive(settings_.additive);
    feas_.condition(feas_hyper_);
  }

  GpHyper fit_hyper(const Eigen::MatrixXd& X, const Eigen::VectorXd& ys, const GpHyper* previous, int n,
                    const Eigen::VectorXd& mult = {}) {
    Gp fitter;
    fitter.set_binary_dims(binary_dims());
    fitter.set_lengthscale_groups(lengthscale_groups());
    fitter.set_additive_components(additive_components(), additive_weights());
    fitter.set_additive(settings_.additive);
    fitter.set_lengthscale_scale(lengthscale_scale());
    if (n <= kFitPoints) {
      fitter.set_data(X, ys);
      if (mult.size() == n) fitter.set_noise_multipliers(mult);
    } else {
      // A deterministic random subset: the hyperparameters need the data's scale, not all of it.
      std::vector<int> idx(static_cast<size_t>(n));
      std::iota(idx.begin(), idx.end(), 0);
      for (int k = 0; k < kFitPoints; ++k) std::swap(idx[size_t(k)], idx[size_t(k) + rng_.below(std::uint64_t(n - k))]);
      idx.resize(kFitPoints);
      std::sort(idx.begin(), idx.end());
      Eigen::MatrixXd Xs(kFitPoints, dims_);
      Eigen::VectorXd yss(kFitPoints), ms = Eigen::VectorXd::Ones(kFitPoints);
      for (int k = 0; k < kFitPoints; ++k) {
        Xs.row(k) = X.row(idx[size_t(k)]), yss[k] = ys[idx[size_t(k)]];
        if (mult.size() == n) ms[k] = mult[idx[size_t(k)]];
      }
      fitter.set_data(std::move(Xs), std::move(yss));
      fitter.set_noise_multipliers(std::move(ms));
    }
    const auto groups = lengthscale_groups();
    const int n_groups = groups.empty() ? dims_ : *std::max_element(groups.begin(), groups.end()) + 1;
    GpHyper start = previous ? *previous : GpHyper::initial(n_groups, settings_.additive);
    if (!previous) {
      auto bin = binary_dims();
      for (int j = 0; j < dims_; ++j) {
        const int g = groups.empty() ? j : groups[size_t(j)];
        start.theta[g] = (bin[size_t(j)] ? 0.0 : std::log(0.5)) + std::log(lengthscale_scale());
      }
    }
    const int extra = n <= 40 ? 2 : (n <= 100 ? 1 : 0);
    const int max_eval = n <= 100 ? 120 : 40;
    return fitter.fit(start, extra, max_eval, rng_.engine());
  }

  double lengthscale_scale() const {
    return settings_.scale_lengthscales ? std::sqrt(std::max(1.0, dims_ / settings_.lengthscale_ref_dims)) : 1.0;
  }

  // The model dimensions' lengthscale groups (BoSettings::tie_lengthscales): one per parameter,
  // then one per popcount coordinate; empty (one per dimension) when not tied.
  std::vector<int> lengthscale_groups() const {
    if (!settings_.tie_lengthscales) return {};
    std::vector<int> g(size_t(dims_), 0);
    const auto& ps = space_.params();
    int next = 0;
    for (int i = 0; i < int(ps.size()); ++i, ++next)
      for (int j = 0; j < ps[i].encoded_dims(); ++j) g[size_t(space_.offset(i) + j)] = next;
    for (int j = space_.dims(); j < dims_; ++j) g[size_t(j)] = next++;
    return g;
  }

  // The additive part's components (BoSettings::mask_bit_effects): one per lengthscale group, except
  // that each bit of a mask is a component of its own; empty (the groups) otherwise.
  std::vector<int> additive_components() const {
    const auto& params = space_.params();
    const bool masks = std::any_of(params.begin(), params.end(), [](const Param& p) { return p.type == ParamType::mask; });
    if (!settings_.mask_bit_effects || !settings_.tie_lengthscales || !masks) return {};
    std::vector<int> c(size_t(dims_), 0);
    const auto& ps = space_.params();
    int next = 0;
    for (int i = 0; i < int(ps.size()); ++i) {
      const bool split = ps[i].type == ParamType::mask;
      for (int j = 0; j < ps[i].encoded_dims(); ++j) c[size_t(space_.offset(i) + j)] = split ? next++ : next;
      if (!split) ++next;
    }
    for (int j = space_.dims(); j < dims_; ++j) c[size_t(j)] = next++;
    return c;
  }

  // Each additive component's weight: a mask's bits share one parameter's (BoSettings::mask_bit_share),
  // or each bit counts as a parameter.
  std::vector<double> additive_weights() const {
    if (!settings_.mask_bit_effects || !settings_.tie_lengthscales || !settings_.mask_bit_share) return {};
    std::vector<double> w;
    for (const auto& p : space_.params())
      if (p.type == ParamType::mask) w.insert(w.end(), size_t(p.bits), 1.0 / p.bits);
      else w.push_back(1.0);
    for (int j = space_.dims(); j < dims_; ++j) w.push_back(1.0);
    return w;
  }

  std::vector<bool> binary_dims() const {
    std::vector<bool> b(size_t(dims_), false);
    const auto& ps = space_.params();
    for (int i = 0; i < int(ps.size()); ++i) {
      bool bin = ps[i].type == ParamType::categorical || ps[i].type == ParamType::boolean || ps[i].type == ParamType::mask;
      for (int j = 0; j < ps[i].encoded_dims(); ++j) b[size_t(space_.offset(i) + j)] = bin;
    }
    return b;
  }

  // Acquisition of many candidates at once.
  Eigen::VectorXd acquisition(const std::vector<Config>& cs, double best, bool polishing = false) const {
    Eigen::MatrixXd X = model_matrix(cs);
    Eigen::VectorXd mu, var, a(X.rows());
    gp_.predict(X, mu, var);
    const double cap = variance_cap(polishing);
    for (Eigen::Index k = 0; k < X.rows(); ++k) a[k] = log_expected_improvement(mu[k], std::sqrt(std::min(var[k], cap)), best);
    if (have_feas_) {
      feas_.predict(X, mu, var);
      for (Eigen::Index k = 0; k < X.rows(); ++k) a[k] += settings_.feasibility_weight * log_feasible(mu[k], var[k]);
    }
    return a;
  }

  // BoSettings::variance_cap: the posterior variance EI sees, at most that share of the prior's.
  double variance_cap(bool polishing = false) const {
    if (polishing && settings_.polish_variance_cap > 0) return settings_.polish_variance_cap * gp_.hyper().prior_variance();
    return settings_.variance_cap > 0 ? settings_.variance_cap * gp_.hyper().prior_variance() : HUGE_VAL;
  }

  // log P(feasible) from the label GP's standardised prediction; derivatives when asked.
  double log_feasible(double mu, double var, double* d_mu = nullptr, double* d_sd = nullptr) const {
    double dm = 0, ds = 0;
    const double v = log_probability_positive(mu * feas_sd_ + feas_mean_, std::sqrt(var) * feas_sd_, &dm, &ds);
    if (d_mu) *d_mu = dm * feas_sd_;
    if (d_sd) *d_sd = ds * feas_sd_;
    return v;
  }

  // Coordinates L-BFGS may move: those of active real parameters, and of integers with enough
  // levels that treating them as continuous and rounding afterwards is sound.
  std::vector<int> continuous_coords(const Config& c) const {
    std::vector<int> out;
    const auto& ps = space_.params();
    for (int i = 0; i < int(ps.size()); ++i) {
      if (!c.count(ps[i].name)) continue;
      bool relaxed = ps[i].type == ParamType::real ||
                     ((ps[i].type == ParamType::integer || ps[i].type == ParamType::pow2) && ps[i].levels() > 12);
      if (relaxed) out.push_back(space_.offset(i));
    }
    return out;
  }

  struct Polish {
    const BoStrategy* self;
    Eigen::VectorXd base;
    std::vector<int> free;
    double best;
  };

  static double neg_log_ei(unsigned n, const double* x, double* g, void* data) {
    auto* p = static_cast<Polish*>(data);
    Eigen::VectorXd full = p->base;
    for (unsigned k = 0; k < n; ++k) full[p->free[k]] = x[k];
    double mean, var;
    Eigen::VectorXd dmean, dvar;
    p->self->gp_.predict_grad(full, mean, var, dmean, dvar);
    if (const double cap = p->self->variance_cap(true); var > cap) var = cap, dvar.setZero();
    double sd = std::sqrt(var), dm = 0, ds = 0;
    double v = log_expected_improvement(mean, sd, p->best, &dm, &ds);
    if (g)
      for (unsigned k = 0; k < n; ++k) g[k] = -(dm * dmean[p->free[k]] + ds * dvar[p->free[k]] / (2 * sd));
    if (p->self->have_feas_) {
      p->self->feas_.predict_grad(full, mean, var, dmean, dvar);
      sd = std::sqrt(var);
      const double fw = p->self->settings_.feasibility_weight;
      v += fw * p->self->log_feasible(mean, var, &dm, &ds);
      if (g)
        for (unsigned k = 0; k < n; ++k) g[k] -= fw * (dm * dmean[p->free[k]] + ds * dvar[p->free[k]] / (2 * sd));
    }
    return std::isfinite(v) ? -v : 1e300;
  }

  // Improves one candidate: L-BFGS on continuous coordinates, then a discrete hill climb, repeated
  // while either moves it.
  std::pair<Config, double> polish(Config c, double a, double best, int max_eval) const {
    for (int round = 0; round < 3; ++round) {
      bool moved = false;
      auto free = continuous_coords(c);
      if (!free.empty()) {
        Polish ctx{this, model_x(c), free, best};
        std::vector<double> x;
        for (int f : free) x.push_back(ctx.base[f]);
        nlopt::opt opt(nlopt::LD_LBFGS, unsigned(free.size()));
        opt.set_lower_bounds(std::vector<double>(free.size(), 0.0));
        opt.set_upper_bounds(std::vector<double>(free.size(), 1.0));
        opt.set_min_objective(&BoStrategy::neg_log_ei, &ctx);
        opt.set_maxeval(max_eval);
        opt.set_xtol_abs(1e-5);
        double f = 0;
        try {
          opt.optimize(x, f);
        } catch (const std::exception&) {
          // Round-off or a failed line search: x still holds the last accepted point.
        }
        std::vector<double> full(ctx.base.data(), ctx.base.data() + space_.dims());
        for (size_t k = 0; k < free.size(); ++k) full[size_t(free[k])] = x[k];
        Config moved_c = space_.decode(full);
        double a2 = acquisition({moved_c}, best, true)[0];
        if (a2 > a + 1e-12) c = std::move(moved_c), a = a2, moved = true;
      }
      for (int step = 0; step < 20; ++step) {
        auto neigh = discrete_neighbours(space_, c);
        if (neigh.empty()) break;
        auto an = acquisition(neigh, best, true);
        Eigen::Index k;
        double top = an.maxCoeff(&k);
        if (!(top > a + 1e-12)) break;
        c = std::move(neigh[size_t(k)]);
        a = top;
        moved = true;
      }
      if (!moved) break;
    }
    return {std::move(c), a};
  }

  // How far the next trial is from the end of the initial design (0) to the last trial (1); 1
  // without a known budget.
  double progress() const {
    const double from = double(design_.size()), to = double(budget_) - 1;
    if (budget_ <= 0 || !(to > from)) return 1;
    return std::clamp((double(hist_.size()) - from) / (to - from), 0.0, 1.0);
  }

  // The EI margin in noise sds for the next trial (BoSettings::xi_noise .. xi_noise_end).
  double margin() const {
    if (budget_ <= 0 || !(double(budget_) - 1 > double(design_.size()))) return settings_.xi_noise;
    return settings_.xi_noise + progress() * (settings_.xi_noise_end - settings_.xi_noise);
  }

  Config maximise_acquisition() {
    auto ranked = rank_measured();
    const double best = ranked.front().mean - settings_.xi - margin() * std::sqrt(gp_.hyper().noise_variance());
    const int n = gp_.size();

    std::vector<Config> cands;
    // Fewer, cheaper candidates once n is large: each costs O(n^2), and the budget is 50 ms per ask
    // at n = 300, d = 20.
    // Beyond 200 trials (the kernel's additive part makes each candidate cost ~ one matrix per
    // parameter) fewer still.
    const bool large = n >= 100, huge = n >= 200;
    const int n_random = huge ? 160 : (large ? 256 : 768);
    const size_t n_parents = large ? 3 : 5;
    const int per_parent = huge ? 24 : (large ? 32 : 40);
    for (int k = 0; k < n_random; ++k) cands.push_back(random_config(space_, rng_));
    const double scales[] = {0.02, 0.05, 0.1, 0.2};
    for (size_t r = 0; r < std::min(n_parents, ranked.size()); ++r)
      for (int k = 0; k < per_parent; ++k) cands.push_back(perturb(space_, ranked[r].config, scales[k % 4], rng_));
    // Every one-step neighbour of the best few (one mask bit, one grid step, another choice): random
    // perturbations reach them rarely in a wide space, and near an optimum they are what matters.
    if (settings_.neighbours)
      for (size_t r = 0; r < std::min<size_t>(large ? 1 : 3, ranked.size()); ++r)
        for (auto& c : discrete_neighbours(space_, ranked[r].config)) cands.push_back(std::move(c));
    Eigen::VectorXd a = acquisition(cands, best);

    std::vector<int> order(static_cast<size_t>(a.size()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int i, int j) { return a[i] > a[j]; });
    const int n_starts = large ? 2 : 4;
    const int max_eval = huge ? 15 : (large ? 20 : 60);
    std::vector<Config> starts;
    for (int i : order) {
      if (int(starts.size()) >= n_starts) break;
      if (std::find(starts.begin(), starts.end(), cands[size_t(i)]) == starts.end()) starts.push_back(cands[size_t(i)]);
    }
    Config chosen = starts.front();
    double chosen_a = -HUGE_VAL;
    for (const auto& s : starts) {
      double as = acquisition({s}, best, true)[0];
      auto [c, v] = polish(s, as, best, max_eval);
      if (v > chosen_a) chosen = std::move(c), chosen_a = v;
    }
    if (!std::isfinite(chosen_a)) return random_config(space_, rng_);
    return sparsify(std::move(chosen), chosen_a, best);
  }

  // BoSettings::loo_share: the incumbent with the change returned that the model expects to cost
  // least (upper bound mean + 1 sd of the loss), among returns not measured yet.
  std::optional<Config> leave_one_out() {
    if (!start_ || !(settings_.loo_share > 0) || budget_ <= 0) return std::nullopt;
    if (double(hist_.size()) < double(budget_) * (1 - settings_.loo_share)) return std::nullopt;
    auto ranked = rank_measured();
    if (ranked.empty()) return std::nullopt;
    std::vector<Config> all{ranked.front().config};
    for (auto& r : one_change_returned(space_, ranked.front().config, *start_))
      if (!hist_.aggregates().count(r)) all.push_back(std::move(r));
    if (all.size() < 2) return std::nullopt;
    Eigen::VectorXd mu;
    Eigen::MatrixXd cov;
    gp_.predict_cov(model_matrix(all), mu, cov);
    size_t pick = 1;
    double lowest = HUGE_VAL;
    for (size_t k = 1; k < all.size(); ++k) {   // the loss: how much better the incumbent is
      const Difference loss = difference_of(mu, cov, 0, Eigen::Index(k));
      if (loss.mean + loss.sd < lowest) lowest = loss.mean + loss.sd, pick = k;
    }
    return all[pick];
  }

  // BoSettings::sparse_tolerance: the candidate's parameters back to the start's values, one at a
  // time, the return that keeps the most acquisition first, while the total loss stays within it.
  Config sparsify(Config c, double a, double best) const {
    const double tolerance = settings_.sparse_tolerance * (settings_.sparse_ramp ? progress() : 1.0);
    if (!start_ || !(tolerance > 0) || hist_.size() % std::max(1, settings_.sparse_every) != 0) return c;
    const double floor = a - tolerance;
    for (;;) {
      std::vector<Config> returned = one_change_returned(space_, c, *start_);
      if (returned.empty()) return c;
      const Eigen::VectorXd ar = acquisition(returned, best, true);
      Eigen::Index k;
      if (!(ar.maxCoeff(&k) >= floor)) return c;
      c = std::move(returned[size_t(k)]);
    }
  }

  Space space_;
  History hist_;
  Rng rng_;
  BoSettings settings_;
  int dims_;   // of the model's input (model_x)
  int budget_;   // StrategyOptions::budget (0: unknown)
  std::vector<Config> design_;
  size_t design_pos_ = 0;
  std::optional<Config> start_;   // StrategyOptions::start, completed

  Gp gp_;
  GpHyper hyper_;
  bool have_hyper_ = false, stale_ = true;
  std::vector<double> noise_mult_;   // the objective rows' Student-t noise multipliers (BoSettings::robust)
  std::vector<size_t> rows_;         // the objective GP's data rows: their indices in hist_.all()
  int fitted_n_ = 0;
  double y_mean_ = 0, y_sd_ = 1;
  std::vector<double> warp_z_, warp_y_;   // the warping's (z, value) pairs, sorted (BoSettings::warp)

  Gp feas_;   // the feasibility model, when some trial failed (have_feas_)
  GpHyper feas_hyper_;
  bool have_feas_ = false, have_feas_hyper_ = false;
  double feas_mean_ = 0, feas_sd_ = 1;
};

}  // namespace

std::unique_ptr<Strategy> make_bo_strategy(const Space& space, const StrategyOptions& o, const BoSettings& b) {
  return std::make_unique<BoStrategy>(space, o, b);
}

}  // namespace wgopt::opt

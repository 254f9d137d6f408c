// `bo`: Bayesian optimisation with a GP (gp.hpp) and log expected improvement (acquisition.hpp).
//
// ask():  1. a Latin-hypercube initial design (the start configuration first, when given);
//         2. then: refresh the model (hyperparameters refitted often while data is scarce, every
//            ~n/15 trials later, on at most kFitPoints points; the Cholesky on all of them);
//            incumbent = the best posterior mean among measured configurations (robust to a lucky
//            draw, unlike the best observation); candidates = random configurations + perturbations
//            of the best-looking ones; the top few are polished by L-BFGS on the continuous
//            coordinates and a hill climb over discrete neighbours (acquisition.hpp).
// Failed and infeasible trials enter the model at the worst value seen, so their neighbourhood
// looks bad and is not proposed again while the rest of the space stays open.
#include <algorithm>
#include <cmath>
#include <nlopt.hpp>
#include <numeric>

#include "optimizer/acquisition.hpp"
#include "optimizer/gp.hpp"
#include "optimizer/history.hpp"
#include "optimizer/sampling.hpp"
#include "optimizer/strategies.hpp"

namespace wgopt::opt {

namespace {

constexpr int kFitPoints = 120;  // hyperparameters are fitted on at most this many points

Eigen::VectorXd to_eigen(const std::vector<double>& v) {
  return Eigen::Map<const Eigen::VectorXd>(v.data(), Eigen::Index(v.size()));
}

class BoStrategy : public Strategy {
 public:
  BoStrategy(const Space& space, const StrategyOptions& o)
      : space_(space), hist_(space_, o.direction), rng_(o.seed), dims_(space_.dims()) {
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
      design_.insert(design_.begin(), start);
    }
  }

  Config ask() override {
    // The design opens a fresh run; a strategy already told as many trials (a resumed study) skips it.
    if (design_pos_ < design_.size() && hist_.size() < int(design_.size())) return design_[design_pos_++];
    if (hist_.n_values() < 2) return random_config(space_, rng_);
    refresh_model();
    return maximise_acquisition();
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
    r.mean = hist_.to_user(top.mean * y_sd_ + y_mean_);
    r.sd = std::sqrt(top.var) * y_sd_;
    r.evaluations = hist_.aggregates().at(top.config).count;
    r.valid = true;
    return r;
  }

  std::optional<Config> remeasure_candidate() override {
    if (hist_.n_values() == 0) return std::nullopt;
    refresh_model();
    auto ranked = rank_measured();
    if (ranked.empty()) return hist_.least_measured_of_best();
    ranked.resize(std::min<size_t>(3, ranked.size()));
    auto most_uncertain = std::max_element(ranked.begin(), ranked.end(),
                                           [](const auto& a, const auto& b) { return a.var < b.var; });
    return most_uncertain->config;
  }

  std::string name() const override { return "bo"; }

 private:
  struct Ranked {
    Config config;
    double mean, var;   // standardised internal units
  };

  // Measured configurations by posterior mean, best first.
  std::vector<Ranked> rank_measured() const {
    std::vector<Ranked> out;
    std::vector<const Config*> cs;
    for (const auto& [c, a] : hist_.aggregates())
      if (a.count > 0) cs.push_back(&c);
    if (cs.empty()) return out;
    Eigen::MatrixXd X(Eigen::Index(cs.size()), dims_);
    for (size_t k = 0; k < cs.size(); ++k) X.row(Eigen::Index(k)) = to_eigen(space_.encode(*cs[k])).transpose();
    Eigen::VectorXd mu, var;
    gp_.predict(X, mu, var);
    for (size_t k = 0; k < cs.size(); ++k) out.push_back({*cs[k], mu[Eigen::Index(k)], var[Eigen::Index(k)]});
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.mean < b.mean; });
    return out;
  }

  void refresh_model() {
    if (!stale_) return;
    stale_ = false;
    const auto& obs = hist_.all();
    const int n = int(obs.size());
    double worst = -HUGE_VAL;
    for (const auto& o : obs)
      if (o.has_value) worst = std::max(worst, o.y);
    Eigen::MatrixXd X(n, dims_);
    Eigen::VectorXd y(n);
    for (int k = 0; k < n; ++k) {
      X.row(k) = to_eigen(space_.encode(obs[size_t(k)].config)).transpose();
      y[k] = obs[size_t(k)].has_value ? obs[size_t(k)].y : worst;
    }
    y_mean_ = y.mean();
    y_sd_ = std::sqrt((y.array() - y_mean_).square().sum() / std::max(1, n - 1));
    if (!(y_sd_ > 1e-12)) y_sd_ = 1.0;
    Eigen::VectorXd ys = (y.array() - y_mean_) / y_sd_;

    const bool refit = !have_hyper_ || n <= 40 || n - fitted_n_ >= std::max(2, n / 15);
    if (refit) {
      Gp fitter;
      fitter.set_binary_dims(binary_dims());
      if (n <= kFitPoints) {
        fitter.set_data(X, ys);
      } else {
        // A deterministic random subset: the hyperparameters need the data's scale, not all of it.
        std::vector<int> idx(static_cast<size_t>(n));
        std::iota(idx.begin(), idx.end(), 0);
        for (int k = 0; k < kFitPoints; ++k) std::swap(idx[size_t(k)], idx[size_t(k) + rng_.below(std::uint64_t(n - k))]);
        idx.resize(kFitPoints);
        std::sort(idx.begin(), idx.end());
        Eigen::MatrixXd Xs(kFitPoints, dims_);
        Eigen::VectorXd yss(kFitPoints);
        for (int k = 0; k < kFitPoints; ++k) Xs.row(k) = X.row(idx[size_t(k)]), yss[k] = ys[idx[size_t(k)]];
        fitter.set_data(std::move(Xs), std::move(yss));
      }
      GpHyper start = have_hyper_ ? hyper_ : GpHyper::initial(dims_);
      if (!have_hyper_) {
        auto bin = binary_dims();
        for (int j = 0; j < dims_; ++j)
          if (bin[size_t(j)]) start.theta[j] = 0.0;
      }
      const int extra = n <= 40 ? 2 : (n <= 100 ? 1 : 0);
      const int max_eval = n <= 100 ? 120 : 40;
      hyper_ = fitter.fit(start, extra, max_eval, rng_.engine());
      have_hyper_ = true;
      fitted_n_ = n;
    }
    gp_.set_data(std::move(X), std::move(ys));
    gp_.set_binary_dims(binary_dims());
    gp_.condition(hyper_);
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
  Eigen::VectorXd acquisition(const std::vector<Config>& cs, double best) const {
    Eigen::MatrixXd X(Eigen::Index(cs.size()), dims_);
    for (size_t k = 0; k < cs.size(); ++k) X.row(Eigen::Index(k)) = to_eigen(space_.encode(cs[k])).transpose();
    Eigen::VectorXd mu, var, a(X.rows());
    gp_.predict(X, mu, var);
    for (Eigen::Index k = 0; k < X.rows(); ++k) a[k] = log_expected_improvement(mu[k], std::sqrt(var[k]), best);
    return a;
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
    double sd = std::sqrt(var), dm = 0, ds = 0;
    double v = log_expected_improvement(mean, sd, p->best, &dm, &ds);
    if (g)
      for (unsigned k = 0; k < n; ++k) g[k] = -(dm * dmean[p->free[k]] + ds * dvar[p->free[k]] / (2 * sd));
    return std::isfinite(v) ? -v : 1e300;
  }

  // Improves one candidate: L-BFGS on continuous coordinates, then a discrete hill climb, repeated
  // while either moves it.
  std::pair<Config, double> polish(Config c, double a, double best, int max_eval) const {
    for (int round = 0; round < 3; ++round) {
      bool moved = false;
      auto free = continuous_coords(c);
      if (!free.empty()) {
        Polish ctx{this, to_eigen(space_.encode(c)), free, best};
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
        std::vector<double> full(ctx.base.data(), ctx.base.data() + ctx.base.size());
        for (size_t k = 0; k < free.size(); ++k) full[size_t(free[k])] = x[k];
        Config moved_c = space_.decode(full);
        double a2 = acquisition({moved_c}, best)[0];
        if (a2 > a + 1e-12) c = std::move(moved_c), a = a2, moved = true;
      }
      for (int step = 0; step < 20; ++step) {
        auto neigh = discrete_neighbours(space_, c);
        if (neigh.empty()) break;
        auto an = acquisition(neigh, best);
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

  Config maximise_acquisition() {
    auto ranked = rank_measured();
    const double best = ranked.front().mean;
    const int n = gp_.size();

    std::vector<Config> cands;
    // Fewer, cheaper candidates once n is large: each costs O(n^2), and the budget is 50 ms per ask
    // at n = 300, d = 20.
    const bool large = n >= 100;
    const int n_random = large ? 256 : 768;
    const size_t n_parents = large ? 3 : 5;
    const int per_parent = large ? 32 : 40;
    for (int k = 0; k < n_random; ++k) cands.push_back(random_config(space_, rng_));
    const double scales[] = {0.02, 0.05, 0.1, 0.2};
    for (size_t r = 0; r < std::min(n_parents, ranked.size()); ++r)
      for (int k = 0; k < per_parent; ++k) cands.push_back(perturb(space_, ranked[r].config, scales[k % 4], rng_));
    Eigen::VectorXd a = acquisition(cands, best);

    std::vector<int> order(static_cast<size_t>(a.size()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int i, int j) { return a[i] > a[j]; });
    const int n_starts = large ? 2 : 4;
    const int max_eval = large ? 20 : 60;
    std::vector<Config> starts;
    for (int i : order) {
      if (int(starts.size()) >= n_starts) break;
      if (std::find(starts.begin(), starts.end(), cands[size_t(i)]) == starts.end()) starts.push_back(cands[size_t(i)]);
    }
    Config chosen = starts.front();
    double chosen_a = -HUGE_VAL;
    for (const auto& s : starts) {
      double as = acquisition({s}, best)[0];
      auto [c, v] = polish(s, as, best, max_eval);
      if (v > chosen_a) chosen = std::move(c), chosen_a = v;
    }
    if (!std::isfinite(chosen_a)) return random_config(space_, rng_);
    return chosen;
  }

  Space space_;
  History hist_;
  Rng rng_;
  int dims_;
  std::vector<Config> design_;
  size_t design_pos_ = 0;

  Gp gp_;
  GpHyper hyper_;
  bool have_hyper_ = false, stale_ = true;
  int fitted_n_ = 0;
  double y_mean_ = 0, y_sd_ = 1;
};

}  // namespace

std::unique_ptr<Strategy> make_bo_strategy(const Space& space, const StrategyOptions& o) {
  return std::make_unique<BoStrategy>(space, o);
}

}  // namespace wgopt::opt

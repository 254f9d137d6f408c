// bench_optimizer: the optimizer benchmark of issue 4 (definitions: ../shared/design/BENCHMARKS.md).
//
// For every problem x noise level x strategy x seed x budget n, one fresh run of n trials through
// opt::run (the strategy is told the budget; the driver's last n/20 trials re-measure). Prints per
// (problem, noise, strategy): median simple regret of the RECOMMENDED configuration evaluated without
// noise at each n, the false-promotion rate at the largest n (recommended worse than the best
// evaluated configuration, noise-free, by more than 2% of |f*|), the share of failed trials, the
// mean CPU seconds per run and, on problems with a start, the winner's changes and needless changes
// before and after the search's simplification (simplification_sim.hpp); then the time per
// suggestion at d = 20. Runs are independent and spread over
// --threads; results do not depend on the thread count.
//
//   bench_optimizer                                    # the full table (30 seeds)
//   bench_optimizer --problems hartmann6 --noise 5 --seeds 5 --strategies bo
//   bench_optimizer --self-test                        # CTest: the problems' known optima
//   bench_optimizer --reference-points > ref.jsonl     # for bench/optuna/run_optuna.py --check
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/harness.hpp"
#include "bench/self_test.hpp"
#include "common/error.hpp"
#include "optimizer/strategy.hpp"

namespace {

using namespace wgopt::bench;

struct Job {
  RunSpec spec;
  RunMetrics metrics;
};

std::vector<Job> make_jobs(const std::vector<std::string>& problems, const std::vector<int>& noises,
                           const std::vector<std::string>& strategies, int first_seed, int seeds,
                           const std::vector<int>& budgets) {
  std::vector<Job> jobs;
  for (const auto& p : problems)
    for (int nz : noises)
      for (const auto& s : strategies)
        for (int seed = first_seed; seed < first_seed + seeds; ++seed)
          for (int n : budgets) jobs.push_back({.spec = {p, nz, s, static_cast<std::uint64_t>(seed), n}});
  return jobs;
}

// Runs every job on `threads` workers; each job writes only its own slot, so the results are the
// same for any thread count. The first exception is rethrown after all workers stop.
void run_jobs(std::vector<Job>& jobs, int threads) {
  // Largest budgets first: the long runs do not end up alone at the tail.
  std::vector<std::size_t> order(jobs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return jobs[a].spec.trials > jobs[b].spec.trials; });
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;   // under mu
  std::mutex mu;
  std::exception_ptr error;
  auto worker = [&] {
    for (std::size_t k; (k = next.fetch_add(1)) < order.size();) {
      try {
        Job& job = jobs[order[k]];
        job.metrics = run_one(job.spec);
      } catch (...) {
        std::lock_guard lock(mu);
        if (!error) error = std::current_exception();
        next = order.size();
      }
      std::lock_guard lock(mu);
      const std::size_t d = ++done;
      if (d % std::max<std::size_t>(1, order.size() / 20) == 0) {
        std::cerr << fmt::format("# {}/{} runs\n", d, order.size());
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / double(v.size());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void print_row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths, bool markdown) {
  std::string line = markdown ? "| " : "";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (markdown) line += cells[i] + " | ";
    else line += fmt::format("{:<{}}  ", cells[i], widths[i]);
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  std::cout << line << "\n";
}

void print_table(const std::vector<Job>& jobs, const std::vector<int>& budgets, bool markdown) {
  const int n_last = *std::max_element(budgets.begin(), budgets.end());
  std::vector<std::string> header = {"problem", "noise %", "strategy"};
  for (int n : budgets) header.push_back(fmt::format("regret n={}", n));
  header.insert(header.end(), {fmt::format("false promo n={}", n_last), "failed trials %", "seeds", "cpu s/run",
                               fmt::format("changes n={}", n_last), "needless", "proposed", "simplified %", "checks",
                               "profile changes", "needless", "profile regret"});

  std::vector<std::tuple<std::string, int, std::string>> keys;   // first-seen order
  std::map<std::tuple<std::string, int, std::string>, std::vector<const Job*>> groups;
  for (const auto& j : jobs) {
    auto key = std::make_tuple(j.spec.problem, j.spec.noise, j.spec.strategy);
    if (!groups.count(key)) keys.push_back(key);
    groups[key].push_back(&j);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& key : keys) {
    const auto& g = groups[key];
    const double fstar = make_problem(std::get<0>(key)).fstar;
    std::vector<std::string> row = {std::get<0>(key), std::to_string(std::get<1>(key)), std::get<2>(key)};
    for (int n : budgets) {
      std::vector<double> r;
      for (const Job* j : g)
        if (j->spec.trials == n) r.push_back(j->metrics.regret);
      row.push_back(fmt::format("{:.3g}", median(r)));
    }
    int promoted = 0, runs = 0, failed = 0;
    double seconds = 0;
    std::vector<double> changes, needless, proposed, simplified, checks, profile_changes, profile_needless, profile_regret;
    for (const Job* j : g) {
      if (j->spec.trials != n_last) continue;
      ++runs;
      changes.push_back(j->metrics.changes);
      needless.push_back(j->metrics.needless);
      proposed.push_back(j->metrics.proposed);
      simplified.push_back(j->metrics.simplified ? 100 : 0);
      checks.push_back(j->metrics.checks);
      profile_changes.push_back(j->metrics.profile_changes);
      profile_needless.push_back(j->metrics.profile_needless);
      profile_regret.push_back(j->metrics.profile_regret);
      promoted += j->metrics.gap > 0.02 * std::abs(fstar);
      failed += j->metrics.failed;
      seconds += j->metrics.seconds;
    }
    row.push_back(fmt::format("{:.2f}", double(promoted) / runs));
    row.push_back(fmt::format("{:.1f}", 100.0 * failed / (double(runs) * n_last)));
    row.push_back(std::to_string(runs));
    row.push_back(fmt::format("{:.2f}", seconds / runs));
    // Mean counts over the runs (problems without a start: 0): the recommended winner's changes
    // from the start, and those that returning alone costs nothing (RunMetrics::needless).
    row.push_back(fmt::format("{:.1f}", mean(changes)));
    row.push_back(fmt::format("{:.1f}", mean(needless)));
    // ... and after the search's simplification of it (bench/simplification_sim.hpp): the changes
    // the model proposed to return over every check, how often a simulated check kept a simplified
    // winner, the checks made, and the profile that results (its regret a median, like the regret's).
    row.push_back(fmt::format("{:.1f}", mean(proposed)));
    row.push_back(fmt::format("{:.0f}", mean(simplified)));
    row.push_back(fmt::format("{:.1f}", mean(checks)));
    row.push_back(fmt::format("{:.1f}", mean(profile_changes)));
    row.push_back(fmt::format("{:.1f}", mean(profile_needless)));
    row.push_back(fmt::format("{:.3g}", median(profile_regret)));
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> widths(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) {
    widths[i] = header[i].size();
    for (const auto& r : rows) widths[i] = std::max(widths[i], r[i].size());
  }
  print_row(header, widths, markdown);
  if (markdown) {
    std::string sep = "|";
    for (std::size_t i = 0; i < header.size(); ++i) sep += "---|";
    std::cout << sep << "\n";
  }
  for (const auto& r : rows) print_row(r, widths, markdown);
}

// One JSON line per (problem, noise, strategy, seed), the schema run_optuna.py writes too.
void write_raw(const std::string& path, const std::vector<Job>& jobs) {
  std::map<std::tuple<std::string, int, std::string, std::uint64_t>, nlohmann::json> lines;
  std::vector<std::tuple<std::string, int, std::string, std::uint64_t>> order;
  for (const auto& j : jobs) {
    auto key = std::make_tuple(j.spec.problem, j.spec.noise, j.spec.strategy, j.spec.seed);
    if (!lines.count(key)) {
      order.push_back(key);
      lines[key] = {{"problem", j.spec.problem}, {"noise", j.spec.noise}, {"strategy", "wgopt_" + j.spec.strategy},
                    {"seed", j.spec.seed}, {"seconds", 0.0}, {"at", nlohmann::json::object()}};
    }
    auto& line = lines[key];
    line["seconds"] = std::max(line["seconds"].get<double>(), j.metrics.seconds);
    line["at"][std::to_string(j.spec.trials)] = {{"regret", j.metrics.regret}, {"gap", j.metrics.gap},
                                                 {"failed", j.metrics.failed}, {"changes", j.metrics.changes},
                                                 {"needless", j.metrics.needless}, {"proposed", j.metrics.proposed},
                                                 {"simplified", j.metrics.simplified}, {"checks", j.metrics.checks}, {"anchors", j.metrics.anchors},
                                                 {"profile_changes", j.metrics.profile_changes},
                                                 {"profile_needless", j.metrics.profile_needless},
                                                 {"profile_regret", j.metrics.profile_regret},
                                                 {"recommended", j.metrics.recommended},
                                                 {"best_evaluated", j.metrics.best_evaluated}};
  }
  std::ofstream out(path, std::ios::app);
  if (!out) throw wgopt::UsageError(fmt::format("--raw {}: cannot open for appending: check the directory", path));
  for (const auto& k : order) out << lines[k].dump() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_optimizer: regret of wgopt's strategies on problems with known optima"};
  std::vector<std::string> problems = {"branin",   "hartmann6", "mixed_hartmann6", "wg_sim",
                                       "wg_host2", "wg_host4",  "wg_host8",        "wg_host16"};
  std::vector<int> noises = {0, 5, 10};
  std::vector<std::string> strategies = {"bo", "random", "coordinate"};
  std::vector<int> budgets = {30, 50, 100};
  int seeds = 30, first_seed = 0;
  int threads = std::max(1u, std::thread::hardware_concurrency());
  bool markdown = false, self_test_mode = false, reference = false, no_timing = false;
  int timing_asks = 20;
  std::string raw;
  app.add_option("--problems", problems,
                 "comma-separated: branin,hartmann6,mixed_hartmann6,wg_sim,quadratic20,wg_host2,wg_host4,wg_host8,wg_host16")
      ->delimiter(',');
  app.add_option("--noise", noises, "noise levels, percent of |f*| (Branin: absolute sd = level/100)")->delimiter(',');
  app.add_option("--strategies", strategies, "comma-separated strategy names")->delimiter(',');
  app.add_option("--seeds", seeds, "seeds 0 .. S-1 per cell (seed s also seeds the noise)")->check(CLI::Range(1, 100000));
  app.add_option("--first-seed", first_seed,
                 "seeds first .. first+S-1 instead of 0 .. S-1 (explore on other seeds than the tables use)")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--trials", budgets, "budgets n; each is its own run")->delimiter(',')->check(CLI::Range(2, 100000));
  app.add_option("--threads", threads, "parallel runs")->check(CLI::Range(1, 256));
  app.add_option("--raw", raw, "append one JSON line per (problem, noise, strategy, seed) to this file");
  app.add_flag("--markdown", markdown, "print markdown tables");
  app.add_flag("--no-timing", no_timing, "skip the time-per-suggestion measurement");
  app.add_option("--timing-asks", timing_asks,
                 "asks the time per suggestion averages (20: one hyperparameter refit period at n=300)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_flag("--self-test", self_test_mode, "check the problems' known optima and exit");
  app.add_flag("--reference-points", reference, "print reference values as JSON lines and exit");
  CLI11_PARSE(app, argc, argv);

  try {
    if (self_test_mode) return self_test(std::cout) == 0 ? 0 : 1;
    if (reference) {
      print_reference_points(std::cout);
      return 0;
    }
    for (const auto& p : problems) make_problem(p);   // a bad name fails before hours of work
    const auto known = wgopt::opt::strategy_names();
    for (const auto& s : strategies)
      if (std::find(known.begin(), known.end(), s) == known.end() && s.rfind("bo/", 0) != 0)
        throw wgopt::UsageError(fmt::format("strategy '{}' is unknown: use one of {} (or ablations such as bo/-feas/-robust)", s,
                                            fmt::join(known, ", ")));
    for (const auto& s : strategies) make_bench_strategy(s, make_problem("branin").space, {});   // bad ablation flags
    for (int nz : noises)
      if (nz < 0 || nz > 100) throw wgopt::UsageError(fmt::format("noise level {} is out of range: use 0..100", nz));

    std::cout << fmt::format("# bench_optimizer: {} seeds, budgets {}, {} threads\n", seeds, fmt::join(budgets, "/"),
                             threads);
    std::vector<Job> jobs = make_jobs(problems, noises, strategies, first_seed, seeds, budgets);
    run_jobs(jobs, threads);
    print_table(jobs, budgets, markdown);
    if (!raw.empty()) write_raw(raw, jobs);

    if (!no_timing) {
      std::cout << "\ntime per suggestion (one ask + tell after n of the strategy's own trials, d=20 quadratic20;"
                   " CPU ms of the thread averaged over " << timing_asks << " asks, wall ms in brackets)\n";
      for (const auto& s : strategies) {
        const auto t100 = time_per_suggestion(s, 100, timing_asks), t300 = time_per_suggestion(s, 300, timing_asks);
        std::cout << fmt::format("{}: n=100 {:.1f} ms ({:.1f}), n=300 {:.1f} ms ({:.1f})\n", s, t100.cpu_ms,
                                 t100.wall_ms, t300.cpu_ms, t300.wall_ms);
      }
    }
    return 0;
  } catch (const wgopt::UsageError& e) {
    std::cerr << "bench_optimizer: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bench_optimizer: error: " << e.what() << "\n";
    return 1;
  }
}

#include "experiments/search/retune_wait.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <random>
#include <thread>

#include "common/error.hpp"
#include "common/util.hpp"
#include "workload/iperf3_client.hpp"

namespace wgopt::experiments {

double backoff_delay(const BusyBackoff& b, int attempt, double u) {
  const double base = std::min(b.max_s, b.first_s * std::pow(b.factor, std::max(0, attempt - 1)));
  return base * (1.0 + b.jitter * (2.0 * std::clamp(u, 0.0, 1.0) - 1.0));
}

namespace {

Place client_place(const SearchOptions& o) {
  if (o.testbed) return Place::netns(o.testbed_prefix + "-cli");
  return o.netns.empty() ? Place::host() : Place::netns(o.netns);
}

std::string server_of(const SearchOptions& o) { return o.testbed ? "100.64.0.1" : o.peer; }

}  // namespace

bool iperf3_server_busy(const SearchOptions& o, CommandRunner& runner) {
  workload::ClientOptions c;
  c.server = server_of(o);
  c.port = o.testbed ? 5201 : o.port;
  c.duration = std::chrono::seconds(1);
  c.parallel = 1;
  workload::RunControl control;
  control.busy_retries = 0;  // the question is "busy now?", not "busy for long?"
  auto r = workload::run_scenario(workload::find_scenario("single"), c, client_place(o), runner, control);
  return r.status == workload::RunStatus::server_busy;
}

RetuneWaitEnv default_retune_wait_env(const std::atomic<bool>& interrupted) {
  auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
  RetuneWaitEnv env;
  env.server_busy = [](const SearchOptions& o) { return iperf3_server_busy(o, *default_runner()); };
  env.run = [&interrupted](const SearchOptions& o) { return run_search(o, interrupted); };
  env.now_s = [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
  env.sleep = [&interrupted](double s) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(s);
    while (!interrupted && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  };
  env.uniform = [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); };
  env.say = [](const std::string& line) { std::cerr << "wgopt retune: " << line << "\n"; };
  return env;
}

SearchReport run_retune_with_backoff(SearchOptions options, const BusyBackoff& backoff, const RetuneWaitEnv& env,
                                     const std::atomic<bool>& interrupted) {
  const double start = env.now_s();
  const double budget = options.budget.empty() ? 0 : parse_duration(options.budget, "--budget").count() / 1000.0;
  const std::string server = fmt::format("{}:{}", server_of(options), options.testbed ? 5201 : options.port);
  auto left = [&] { return budget - (env.now_s() - start); };
  int attempt = 0;
  // Waits once; false when the budget has no room for the wait and a run after it.
  auto wait = [&]() {
    const double d = backoff_delay(backoff, ++attempt, env.uniform());
    if (budget > 0 && left() - d < backoff.min_run_s) return false;
    env.say(fmt::format("iperf3 server {} is busy (another host measuring?): waiting {:.0f} s (try {})", server, d, attempt));
    env.sleep(d);
    return !interrupted;
  };
  auto give_up = [&] {
    return Error(fmt::format("iperf3 server {} stayed busy for {:.0f} s of the {} budget ({} waits): nothing was measured or "
                             "changed; spread the fleet's retunes (the timer's RandomizedDelaySec) or give hosts their own "
                             "server (PEER in /etc/wgopt/retune.env)",
                             server, env.now_s() - start, options.budget, attempt));
  };
  for (;;) {
    while (env.server_busy(options)) {
      if (!wait()) {
        if (interrupted) break;
        throw give_up();
      }
    }
    if (budget > 0) options.budget = fmt::format("{}s", std::max(1L, std::lround(left())));
    try {
      return env.run(options);
    } catch (const UsageError&) {
      throw;
    } catch (const Error& e) {
      // The search restores the host before it throws; a busy server is worth another night's try.
      if (interrupted || !env.server_busy(options)) throw;
      env.say(fmt::format("the run failed while the server was busy ({}): trying again", one_line(e.what(), 200)));
      if (!wait()) throw give_up();
    }
  }
}

}  // namespace wgopt::experiments

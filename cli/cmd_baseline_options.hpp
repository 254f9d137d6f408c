#pragma once
// Options shared by `wgopt baseline` and `wgopt diagnose`: where the load goes, how long, and the
// progress line on stderr.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <string>

#include "cli/registry.hpp"
#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/measure/baseline.hpp"

namespace wgopt::cli {

struct LoadOptions {
  experiments::PlantChoice target;
  std::string duration = "10";
};

inline void add_load_options(CLI::App* sub, LoadOptions& o) {
  sub->add_flag("--testbed", o.target.testbed, "load the built-in testbed (brought up if it is not)");
  sub->add_option("--prefix", o.target.prefix, "the testbed's prefix (with --testbed)")->capture_default_str();
  sub->add_option("--peer", o.target.peer, "load a peer running `iperf3 -s` at this address (its mesh IP)");
  sub->add_option("--netns", o.target.netns, "run the client inside this network namespace (with --peer)")
      ->check(not_empty("a namespace name"));
  sub->add_option("--port", o.target.port, "the peer's iperf3 port (with --peer)")->capture_default_str();
  sub->add_option("--duration", o.duration, "seconds per scenario (10, 30s, 1m)")->capture_default_str();
  // Not an option of these: said as such, not as "arguments not expected" listing the --ssh-*
  // options' values in reverse (found by an exploratory test).
  const std::string name = sub->get_name();
  sub->add_option_function<std::string>("--ssh", [name](const std::string&) {
       throw UsageError(name + " measures the path from this end and takes no --ssh (the peer only runs `iperf3 -s`): drop "
                               "--ssh and the --ssh-* options; `wgopt search --ssh` tunes both ends");
     })->group("");
}

// Whole seconds, at least 1 (iperf3 -t takes whole seconds).
inline std::chrono::seconds load_duration(const LoadOptions& o) {
  auto ms = parse_duration(o.duration, "--duration");
  auto s = static_cast<long long>(std::llround(ms.count() / 1000.0));
  if (s < 1) throw UsageError(fmt::format("--duration '{}' is shorter than iperf3's 1 s minimum: use 1 or more", o.duration));
  // iperf3's own limit (workload::validate), checked before the plant: found after it, a testbed was
  // brought up for a command refused the next moment.
  if (s > 86400) throw UsageError(fmt::format("--duration '{}' is longer than 24 h: use 1 s to 24h", o.duration));
  return std::chrono::seconds(s);
}

// Rewrites one line on a terminal every second; elsewhere (logs, CI) prints a line when a scenario
// starts, so a log does not fill with per-second lines.
inline void print_progress(const experiments::Progress& p) {
  static const bool tty = ::isatty(STDERR_FILENO) == 1;
  std::string line = fmt::format("[{}/{}] {} {:.0f}/{:.0f} s", p.index, p.count, p.scenario, p.elapsed_s, p.duration_s);
  if (p.mbps) line += fmt::format(" {:.1f} Mbit/s", *p.mbps);
  if (tty) {
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
    if (p.elapsed_s >= p.duration_s) std::fprintf(stderr, "\n");
  } else if (p.elapsed_s == 0) {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

inline void say_stderr(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

}  // namespace wgopt::cli

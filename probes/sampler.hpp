#pragma once
// The 1 Hz sampler: start() before a workload, stop() after it. In between a background thread
// takes a Snapshot every interval by re-reading /proc files (never spawning a process), so a run
// yields per-second deltas and a Summary. `ethtool -S` and `wg show all dump` need a process: they
// are read once in start() and once in stop(), through the CommandRunner, in each interface's Place.
//
//   probes::Sampler s({.interfaces = probes::watch(Place::netns("wgopt-cli"), {"wgopt-uc", "wgopt-wc"})});
//   s.start();                      // throws on a bad interface name / missing interface
//   ... run iperf3; s.latest() gives the newest SecondSample (early stopping) ...
//   probes::SamplerResult r = s.stop();
//   r.summary.top_soft_pct, r.summary.softnet.dropped, r.summary.ifaces[0].rx_mbps ...
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/exec.hpp"
#include "probes/readers.hpp"
#include "probes/samples.hpp"

namespace wgopt::probes {

// {place, name} for each name: the common case of several interfaces in one Place.
std::vector<WatchedInterface> watch(const Place& place, const std::vector<std::string>& names);

struct SamplerOptions {
  std::vector<WatchedInterface> interfaces;       // may be empty: CPU / IRQ / softnet only
  std::chrono::milliseconds interval{1000};
  std::string proc_root = "/proc";                // tests point this at a fake tree
  std::shared_ptr<CommandRunner> runner;          // for ethtool / wg; null: the real one
  bool ethtool = true;                            // `ethtool -S` each interface before and after
  bool wireguard = true;                          // `wg show all dump` before and after
  // Called on the sampler thread after each interval (keep it short; it must not throw).
  std::function<void(const SecondSample&)> on_sample;
};

struct SamplerResult {
  std::vector<SecondSample> seconds;
  Summary summary;
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions options);
  ~Sampler();  // stops the thread if still running (the result is discarded)
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Validates interface names (UsageError), opens each place's /proc/net files, reads the
  // before-values and the first snapshot, then starts the thread. Throws UsageError naming an
  // interface that is not in its place, wgopt::Error when /proc cannot be read. Not restartable.
  void start();
  // Stops the thread, takes the last snapshot, reads the after-values and summarises. A read that
  // failed while running ends sampling early and becomes a line in summary.warnings.
  SamplerResult stop();

  // The newest per-second sample, if one was taken (thread-safe; for early stopping).
  std::optional<SecondSample> latest() const;
  size_t samples_so_far() const;

 private:
  Snapshot snapshot();
  void loop();
  void read_extras(bool after);

  SamplerOptions opt_;
  ProcReader proc_;
  std::vector<std::unique_ptr<NetReader>> nets_;
  BeforeAfter extra_;
  std::vector<std::string> warnings_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;
  std::optional<Snapshot> first_, last_;
  std::vector<SecondSample> seconds_;
};

}  // namespace wgopt::probes

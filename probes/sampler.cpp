#include "probes/sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "common/error.hpp"

namespace wgopt::probes {

std::vector<WatchedInterface> watch(const Place& place, const std::vector<std::string>& names) {
  std::vector<WatchedInterface> out;
  for (const auto& n : names) out.push_back({place, n});
  return out;
}

Sampler::Sampler(SamplerOptions options) : opt_(std::move(options)), proc_(opt_.proc_root) {
  if (!opt_.runner) opt_.runner = default_runner();
  if (opt_.interval < std::chrono::milliseconds(100))
    throw UsageError(fmt::format("sampler interval {} ms is too short: use at least 100 ms", opt_.interval.count()));
}

Sampler::~Sampler() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Snapshot Sampler::snapshot() {
  Snapshot s;
  s.cpu = proc_.stat();
  s.irqs = proc_.interrupts();
  s.softirqs = proc_.softirqs();
  s.softnet = proc_.softnet();
  for (const auto& n : nets_) s.net.push_back({n->place(), n->snmp(), n->dev()});
  // Stamp after reading: the files describe "now", and all reads take well under a millisecond.
  s.at = std::chrono::steady_clock::now();
  return s;
}

void Sampler::read_extras(bool after) {
  if (opt_.ethtool) {
    for (const auto& w : opt_.interfaces) {
      try {
        auto stats = read_ethtool_stats(*opt_.runner, w.place, w.name);
        // No stats (tun, wireguard, lo): nothing to compare; that is normal, not a warning.
        if (stats) (after ? extra_.ethtool_after : extra_.ethtool_before)[label(w)] = *stats;
      } catch (const Error& e) {
        warnings_.push_back(e.what());
        opt_.ethtool = false;
        break;
      }
    }
  }
  if (opt_.wireguard) {
    std::vector<Place> places;
    for (const auto& w : opt_.interfaces)
      if (std::find(places.begin(), places.end(), w.place) == places.end()) places.push_back(w.place);
    auto& dst = after ? extra_.wg_after : extra_.wg_before;
    for (const auto& p : places) {
      try {
        // wireguard-go's UAPI sockets are shared by all namespaces: keep only what is watched here.
        for (auto& wi : read_wg_dump(*opt_.runner, p)) {
          const bool watched = std::find(opt_.interfaces.begin(), opt_.interfaces.end(),
                                         WatchedInterface{p, wi.name}) != opt_.interfaces.end();
          if (watched) dst.push_back(std::move(wi));
        }
      } catch (const Error& e) {
        warnings_.push_back(e.what());
        opt_.wireguard = false;
        break;
      }
    }
    if (after) extra_.wall_end = static_cast<int64_t>(std::time(nullptr));
  }
}

void Sampler::start() {
  if (started_) throw Error("a Sampler is started once: create a new one for the next run");
  for (const auto& w : opt_.interfaces) require_valid_ifname(w.name);
  for (const auto& w : opt_.interfaces) {
    auto it = std::find_if(nets_.begin(), nets_.end(), [&](const auto& n) { return n->place() == w.place; });
    if (it == nets_.end()) nets_.push_back(std::make_unique<NetReader>(w.place, opt_.proc_root));
  }
  Snapshot first = snapshot();
  for (const auto& w : opt_.interfaces) {
    for (const auto& n : first.net) {
      if (n.place == w.place && !n.dev.contains(w.name))
        throw UsageError(fmt::format("interface {} does not exist in {}: check the name with `ip link`{}", w.name,
                                     w.place.describe(),
                                     w.place.is_host() ? "" : " inside that namespace (ip -n NAME link)"));
    }
  }
  read_extras(false);
  {
    std::lock_guard lk(mu_);
    first_ = first;
    last_ = std::move(first);
    started_ = true;
  }
  thread_ = std::thread([this] { loop(); });
}

void Sampler::loop() {
  const auto t0 = first_->at;
  auto next = t0 + opt_.interval;
  for (;;) {
    {
      std::unique_lock lk(mu_);
      if (cv_.wait_until(lk, next, [&] { return stopping_; })) return;
    }
    // A slow read (a loaded machine) must not make the schedule drift or burst to catch up.
    next += opt_.interval;
    const auto now = std::chrono::steady_clock::now();
    if (next <= now) next = now + opt_.interval;
    Snapshot s;
    try {
      s = snapshot();
    } catch (const std::exception& e) {
      std::lock_guard lk(mu_);
      warnings_.push_back(fmt::format("sampling stopped early: {}", e.what()));
      return;
    }
    SecondSample d = diff_snapshots(*last_, s, opt_.interfaces, std::chrono::duration<double>(s.at - t0).count());
    {
      std::lock_guard lk(mu_);
      last_ = std::move(s);
      seconds_.push_back(d);
    }
    if (opt_.on_sample) {
      try {
        opt_.on_sample(d);
      } catch (...) {
        // A callback's failure must not kill the measurement; the caller sees its own state.
      }
    }
  }
}

SamplerResult Sampler::stop() {
  if (!started_) throw Error("Sampler::stop() called before start()");
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  try {
    Snapshot s = snapshot();
    const double tail = std::chrono::duration<double>(s.at - last_->at).count();
    // A tail shorter than half an interval has too few CPU ticks for meaningful percentages; it
    // still counts in the whole-run summary.
    if (tail >= 0.5 * std::chrono::duration<double>(opt_.interval).count())
      seconds_.push_back(diff_snapshots(*last_, s, opt_.interfaces,
                                        std::chrono::duration<double>(s.at - first_->at).count()));
    last_ = std::move(s);
  } catch (const std::exception& e) {
    warnings_.push_back(fmt::format("last snapshot failed, summary ends at the previous one: {}", e.what()));
  }
  read_extras(true);
  SamplerResult r;
  r.seconds = seconds_;
  r.summary = summarize(*first_, *last_, seconds_, opt_.interfaces, extra_);
  r.summary.warnings = warnings_;
  return r;
}

std::optional<SecondSample> Sampler::latest() const {
  std::lock_guard lk(mu_);
  if (seconds_.empty()) return std::nullopt;
  return seconds_.back();
}

size_t Sampler::samples_so_far() const {
  std::lock_guard lk(mu_);
  return seconds_.size();
}

}  // namespace wgopt::probes

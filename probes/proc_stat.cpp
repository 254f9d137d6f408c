#include "probes/proc_stat.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "common/util.hpp"
#include "probes/parse_util.hpp"

namespace wgopt::probes {

using detail::counter_delta;

CpuStat parse_proc_stat(const std::string& text, const std::string& source) {
  CpuStat out;
  bool have_all = false;
  const auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].starts_with("cpu")) continue;
    const auto tok = split_ws(lines[i]);
    // Kernels since 2.6.33 print 10 columns; older ones fewer (steal/guest appeared later).
    if (tok.size() < 5) detail::malformed(source, i + 1, fmt::format("'{}' has fewer than 4 time columns", tok[0]));
    uint64_t v[10] = {};
    for (size_t c = 1; c < tok.size() && c <= 10; ++c) {
      auto n = detail::parse_u64(tok[c]);
      if (!n) detail::malformed(source, i + 1, fmt::format("'{}' is not a number in '{}'", tok[c], tok[0]));
      v[c - 1] = *n;
    }
    CpuTimes t{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]};
    if (tok[0] == "cpu") {
      out.all = t;
      have_all = true;
      continue;
    }
    auto id = detail::parse_u64(std::string_view(tok[0]).substr(3));
    if (!id || *id > 1u << 20) detail::malformed(source, i + 1, fmt::format("'{}' is not cpuN", tok[0]));
    out.cores.push_back({static_cast<int>(*id), t});
  }
  if (!have_all || out.cores.empty()) detail::malformed(source, 0, "no 'cpu' and 'cpuN' lines");
  return out;
}

CpuUsage cpu_usage_between(const CpuTimes& a, const CpuTimes& b, int cpu) {
  CpuUsage u;
  u.cpu = cpu;
  const uint64_t usr = counter_delta(a.user, b.user) + counter_delta(a.nice, b.nice);
  const uint64_t sys = counter_delta(a.system, b.system);
  const uint64_t soft = counter_delta(a.softirq, b.softirq);
  const uint64_t irq = counter_delta(a.irq, b.irq);
  const uint64_t iowait = counter_delta(a.iowait, b.iowait);
  const uint64_t steal = counter_delta(a.steal, b.steal);
  const uint64_t idle = counter_delta(a.idle, b.idle);
  // The sum of the parts, not total() of each side: a backwards counter must not skew the rest.
  u.ticks = usr + sys + soft + irq + iowait + steal + idle;
  if (u.ticks == 0) return u;
  const double k = 100.0 / static_cast<double>(u.ticks);
  u.usr = usr * k;
  u.sys = sys * k;
  u.soft = soft * k;
  u.irq = irq * k;
  u.iowait = iowait * k;
  u.steal = steal * k;
  u.idle = idle * k;
  return u;
}

std::vector<CpuUsage> cpu_usage_between(const CpuStat& a, const CpuStat& b) {
  std::vector<CpuUsage> out;
  for (const auto& cb : b.cores) {
    auto it = std::find_if(a.cores.begin(), a.cores.end(), [&](const CoreTimes& c) { return c.cpu == cb.cpu; });
    if (it != a.cores.end()) out.push_back(cpu_usage_between(it->times, cb.times, cb.cpu));
  }
  std::sort(out.begin(), out.end(), [](const CpuUsage& x, const CpuUsage& y) { return x.cpu < y.cpu; });
  return out;
}

}  // namespace wgopt::probes

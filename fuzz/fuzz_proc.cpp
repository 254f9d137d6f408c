// The /proc files the sampler re-reads every second (probes/): stat, interrupts, softirqs,
// net/softnet_stat, net/snmp, net/dev. Every parser sees every input (each refuses the others'
// layouts at the first line, so the fuzzer still reaches deep into each; the seeds hold all six).
// Invariants beyond "no crash, no sanitizer report, only wgopt::Error":
//   - stat: per-core usage against an all-zero snapshot has parts summing to 100 (or no ticks);
//   - interrupts: a numbered IRQ has one count per CPU column; classification never throws;
//   - softirqs: NET_RX and NET_TX have one count per CPU column;
//   - softnet_stat and snmp: at least one row / the Udp and Tcp tables.
#include <cmath>

#include "fuzz/check.hpp"
#include "probes/interrupts.hpp"
#include "probes/netdev.hpp"
#include "probes/proc_stat.hpp"
#include "probes/snmp.hpp"
#include "probes/softirqs.hpp"
#include "probes/softnet.hpp"

using namespace wgopt;

namespace {
constexpr const char* kTarget = "proc";

void check_stat(const std::string& text) {
  const auto st = probes::parse_proc_stat(text, "fuzz stat");
  for (const auto& core : st.cores) {
    const auto& t = core.times;
    // Real counters are far from 2^64; sums past it wrap (unsigned), which no kernel prints.
    bool small = true;
    for (uint64_t v : {t.user, t.nice, t.system, t.idle, t.iowait, t.irq, t.softirq, t.steal}) small = small && v < (1ULL << 56);
    if (!small) continue;
    const auto u = probes::cpu_usage_between(probes::CpuTimes{}, t, core.cpu);
    const double sum = u.usr + u.sys + u.soft + u.irq + u.iowait + u.steal + u.idle;
    if (u.ticks != 0 && std::fabs(sum - 100.0) > 1e-6) fuzz::broken(kTarget, "cpu usage parts sum to " + std::to_string(sum));
  }
  probes::cpu_usage_between(st, st);
}

void check_interrupts(const std::string& text) {
  const auto in = probes::parse_interrupts(text, "fuzz interrupts");
  for (const auto& l : in.irqs) {
    if (l.numbered && l.per_cpu.size() != in.cpus.size()) fuzz::broken(kTarget, "IRQ " + fuzz::shown(l.id) + " count columns");
    if (l.per_cpu.empty()) fuzz::broken(kTarget, "IRQ " + fuzz::shown(l.id) + " without counts");
    l.total();
  }
}

void check_softirqs(const std::string& text) {
  const auto s = probes::parse_softirqs(text, "fuzz softirqs");
  if (s.net_rx.size() != s.cpus.size() || s.net_tx.size() != s.cpus.size())
    fuzz::broken(kTarget, "softirqs: " + std::to_string(s.net_rx.size()) + " NET_RX and " + std::to_string(s.net_tx.size()) +
                              " NET_TX counts for " + std::to_string(s.cpus.size()) + " CPUs");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::text_of(data, size);
  fuzz::guarded(kTarget, [&] { check_stat(text); });
  fuzz::guarded(kTarget, [&] { check_interrupts(text); });
  fuzz::guarded(kTarget, [&] { check_softirqs(text); });
  fuzz::guarded(kTarget, [&] {
    if (probes::parse_softnet_stat(text, "fuzz softnet_stat").empty()) fuzz::broken(kTarget, "softnet_stat without rows");
  });
  fuzz::guarded(kTarget, [&] {
    const auto s = probes::parse_snmp(text, "fuzz snmp");
    if (!s.all.count("Udp") || !s.all.count("Tcp")) fuzz::broken(kTarget, "snmp without Udp or Tcp");
  });
  fuzz::guarded(kTarget, [&] { probes::parse_proc_net_dev(text, "fuzz net/dev"); });
  return 0;
}

#pragma once
// Diagnosis: pure rules over a sampler Summary plus a few host facts, after the field guide's §3 and
// §5.2. Each rule returns a Finding (what, with its numbers, and the knob ids that would fix it, as
// the actuators name them: "net.core.netdev_max_backlog", "eth0/rps_cpus", "irqbalance") or
// nothing. A healthy run yields no finding; "no bottleneck found" is the caller's message.
//
//   auto facts = probes::gather_host_facts(runner, watched);   // nproc, WireGuard mode, irqbalance
//   for (const auto& f : probes::diagnose(result.summary, facts)) print(f.title, f.evidence, f.knobs);
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/exec.hpp"
#include "probes/samples.hpp"
#include "probes/wireguard.hpp"

namespace wgopt::probes {

enum class Severity { Info, Warning, Critical };
const char* to_string(Severity s);

struct Finding {
  std::string id;                  // stable rule id: "softirq_pinned", "softnet_drops", ...
  Severity severity = Severity::Warning;
  std::string title;               // one line: the bottleneck
  std::string evidence;            // one line with the numbers that show it
  std::vector<std::string> knobs;  // actuator knob ids that address it, most direct first
  std::string fix;                 // one line for a human (also when no knob can fix it)
};

struct HostFacts {
  int nproc = 1;
  // Interfaces that carry the tunnel's UDP (NIC, veth): device knobs (rps_cpus, irq_affinity,
  // rings, channels) are named after these. Order: most relevant first.
  std::vector<std::string> underlay;
  std::map<std::string, WgMode> wireguard;  // WireGuard interface -> implementation
  bool irqbalance_running = false;
};

// Thresholds. Named so the reasoning is in one place.
namespace limits {
// One core's %soft at or above this while others have room = the single-queue wall (guide §3.2 shows
// 88% as the bottleneck; a run-long mean includes ramp-up, so slightly below the ~90% peak).
inline constexpr double kPinnedPct = 80.0;
// The other cores' mean %idle must be at least this for "work is not distributed" to hold
// (guide example: 45% idle elsewhere). Below it the host is CPU-bound everywhere instead.
inline constexpr double kOthersIdlePct = 30.0;
// "A few drops in a 30-second test is normal"; sub-100 per 30 s is trivial (guide §5.3, §10).
inline constexpr double kTrivialDropsPer30s = 100.0;
// "Thousands per second is a real problem" (guide §5.3).
inline constexpr double kCriticalDropsPerS = 1000.0;
// time_squeeze: budget/time ran out with packets left. Occasional squeezes are normal under load;
// ten a second, sustained, means the softirq is budget-bound.
inline constexpr double kSqueezePerS = 10.0;
// An IRQ must fire at least this often to count as an active data-path queue when judging spread.
inline constexpr double kActiveIrqPerS = 50.0;
// Share of all data-path interrupts on one CPU that means they were collapsed onto it.
inline constexpr double kCollapsedShare = 0.9;
// Every core below this %idle: the host is CPU-bound everywhere ("%sys all cores high -> CPU-bound
// globally", guide §3.2); spreading work cannot help, only less work per byte can.
inline constexpr double kSaturatedIdlePct = 10.0;
}  // namespace limits

// The rules, each pure. diagnose() runs them all, most severe first.
std::optional<Finding> rule_softirq_pinned(const Summary& s, const HostFacts& h);
std::optional<Finding> rule_crypto_wall(const Summary& s, const HostFacts& h);
std::optional<Finding> rule_softnet_drops(const Summary& s, const HostFacts& h);
std::optional<Finding> rule_softnet_squeeze(const Summary& s, const HostFacts& h);
std::vector<Finding> rule_nic_ring_drops(const Summary& s, const HostFacts& h);    // one per interface
std::vector<Finding> rule_udp_socket_buffers(const Summary& s, const HostFacts& h);  // one per place
std::vector<Finding> rule_tx_dropped(const Summary& s, const HostFacts& h);        // one per interface
std::vector<Finding> rule_userspace_wireguard(const Summary& s, const HostFacts& h);  // one per interface
std::optional<Finding> rule_irqs_collapsed(const Summary& s, const HostFacts& h);
std::optional<Finding> rule_cpu_saturated(const Summary& s, const HostFacts& h);

std::vector<Finding> diagnose(const Summary& s, const HostFacts& h);

// True when a process named irqbalance runs (common/processes.hpp on ROOT/proc).
bool irqbalance_running(const std::string& root = "/");

// nproc (online CPUs), irqbalance, and for each watched interface its WireGuard mode (detect_wg_facts
// in its place); interfaces that are not WireGuard become the underlay. Throws what
// detect_wg_facts throws (an interface that does not exist).
HostFacts gather_host_facts(CommandRunner& runner, const std::vector<WatchedInterface>& watched,
                            const std::string& root = "/");

}  // namespace wgopt::probes

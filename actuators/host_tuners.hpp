#pragma once
// Other tuners on the host: programs that change what wgopt changes. Found before a search, so the
// user learns what each will do to the search and to the profile, and so a search never pins IRQs
// that irqbalance moves again behind its back.
//
//   auto tuners = act::detect_tuners(act::make_host(Place::host()));
//   auto d = act::decide_tuners(tuners, {.searches_irq_affinity = ..., .stop_irqbalance = flag,
//                                        .irqbalance_stoppable = irqbalance knob present && writable});
//   for (auto& l : d.lines) spdlog::warn("{}", l);
//   if (d.refusal) throw UsageError(*d.refusal);       // exit 2, nothing changed
//   d.hold: apply as one kept Transaction before the baseline, roll back at the end (journaled);
//   d.exclude: knob ids to leave out of the space.
#include <optional>
#include <string>
#include <vector>

#include "actuators/knob.hpp"
#include "actuators/transaction.hpp"

namespace wgopt::act {

enum class TunerKind { Irqbalance, Tuned, Bpftune };

struct Tuner {
  TunerKind kind = TunerKind::Irqbalance;
  std::string name;        // "irqbalance", "TuneD", "bpftune"
  std::vector<int> pids;   // its running processes (from /proc); empty: not running
  // irqbalance: `systemctl is-active irqbalance` ("active", "inactive", ...); empty when systemctl is
  // missing or systemd does not run.
  std::string unit_state;
  // irqbalance: what starts and stops it: "irqbalance.service" (systemd answers), "/etc/init.d/irqbalance"
  // (no systemd, the distribution's init script), or empty (neither: wgopt cannot stop it).
  std::string manager;
  std::string profile;     // TuneD: the active profile; empty if none is selected
  bool dynamic = false;    // TuneD: dynamic_tuning is on in /etc/tuned/tuned-main.conf
  std::string evidence;    // where it was seen: "/proc", "tuned-adm active", "/etc/tuned/active_profile"
  bool running() const { return !pids.empty(); }
};

// Finds, on `host` (the host itself, not a namespace: processes and /etc are the machine's):
//   irqbalance  a process named irqbalance; its unit state when systemctl works, else the init
//               script that can stop and start it
//   TuneD       the active profile from `tuned-adm active` when tuned-adm exists, else from
//               /etc/tuned/active_profile; a running tuned; dynamic_tuning from tuned-main.conf
//   bpftune     a process named bpftune
// Returns only what it found (a selected TuneD profile whose daemon is not running is found).
// Reads host.files under host.proc_root and /etc, runs systemctl / tuned-adm only when present
// (a missing program or a dead systemd is not an error). Never changes anything.
std::vector<Tuner> detect_tuners(const Host& host);

// What the search is about to do, for decide_tuners.
struct TunerPlan {
  bool searches_irq_affinity = false;  // an IFACE/irq_affinity knob is in the space
  bool searches_sysctls = false;       // sysctls are in the space (bpftune and TuneD manage some)
  bool stop_irqbalance = false;        // the user lets wgopt stop irqbalance (suggested flag: --stop-irqbalance)
  bool irqbalance_stoppable = false;   // the `irqbalance` knob is present and writable here (systemd or the init script)
};

struct TunerDecision {
  std::vector<std::string> lines;      // one per tuner found: what it does to the search and the profile
  std::optional<std::string> refusal;  // set: do not search; one line for a UsageError (exit 2)
  std::vector<Change> hold;            // applied (kept, journaled) before the baseline, rolled back at the end
  std::vector<std::string> exclude;    // knob ids to leave out of the space while they are held
};

// The policy, pure: IRQ affinity is not searched while irqbalance runs, unless the user lets wgopt
// stop it (then `hold` has irqbalance=inactive and `exclude` has "irqbalance") and wgopt can (its
// systemd unit, active, or its init script); otherwise `refusal` says how to go on. TuneD and bpftune only get their lines.
TunerDecision decide_tuners(const std::vector<Tuner>& tuners, const TunerPlan& plan);

}  // namespace wgopt::act

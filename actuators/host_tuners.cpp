#include "actuators/host_tuners.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/processes.hpp"
#include "common/util.hpp"

namespace wgopt::act {

namespace {

// "pid 812" / "pids 812, 900".
std::string pids_text(const std::vector<int>& pids) {
  return fmt::format("{} {}", pids.size() == 1 ? "pid" : "pids", fmt::join(pids, ", "));
}

std::optional<Tuner> find_irqbalance(const Host& host) {
  Tuner t{.kind = TunerKind::Irqbalance, .name = "irqbalance"};
  t.pids = pids_named(*host.files, host.proc_root, "irqbalance");
  if (!t.running()) return std::nullopt;
  t.evidence = host.proc_root;
  // is-active prints the state and exits 3 when inactive; without systemd it prints nothing useful.
  auto r = host.run({"systemctl", "is-active", "irqbalance"});
  const std::string state = trim(r.out);
  if (!r.not_found && !r.timed_out && (r.exit_code == 0 || r.exit_code == 3) && !state.empty()) t.unit_state = state;
  if (!t.unit_state.empty()) t.manager = "irqbalance.service";
  else if (host.files->exists("/etc/init.d/irqbalance")) t.manager = "/etc/init.d/irqbalance";
  return t;
}

// "Current active profile: throughput-performance" in `tuned-adm active` (printed also when it
// reads the profile without the daemon).
std::string profile_from_tuned_adm(const std::string& out) {
  const std::string key = "Current active profile:";
  for (const auto& line : split_lines(out)) {
    if (line.starts_with(key)) return trim(line.substr(key.size()));
  }
  return "";
}

bool tuned_dynamic(const Host& host) {
  for (const auto& line : split_lines(host.files->read("/etc/tuned/tuned-main.conf").value_or(""))) {
    const auto eq = line.find('=');
    if (trim(line).starts_with("#") || eq == std::string::npos || trim(line.substr(0, eq)) != "dynamic_tuning") continue;
    const std::string v = trim(line.substr(eq + 1));
    return v == "1" || v == "true" || v == "True";
  }
  return false;
}

std::optional<Tuner> find_tuned(const Host& host) {
  Tuner t{.kind = TunerKind::Tuned, .name = "TuneD"};
  t.pids = pids_named(*host.files, host.proc_root, "tuned");
  auto r = host.run({"tuned-adm", "active"});
  if (!r.not_found && !r.timed_out) {
    t.profile = profile_from_tuned_adm(r.out);
    if (!t.profile.empty()) t.evidence = "tuned-adm active";
  }
  if (t.profile.empty()) {
    t.profile = trim(host.files->read("/etc/tuned/active_profile").value_or(""));
    if (!t.profile.empty()) t.evidence = "/etc/tuned/active_profile";
  }
  if (t.profile.empty() && !t.running()) return std::nullopt;
  if (t.evidence.empty()) t.evidence = host.proc_root;
  t.dynamic = tuned_dynamic(host);
  return t;
}

std::optional<Tuner> find_bpftune(const Host& host) {
  Tuner t{.kind = TunerKind::Bpftune, .name = "bpftune"};
  t.pids = pids_named(*host.files, host.proc_root, "bpftune");
  if (!t.running()) return std::nullopt;
  t.evidence = host.proc_root;
  return t;
}

const char* kExcludeIrq = "--exclude '*/irq_affinity'";

void decide_irqbalance(const Tuner& t, const TunerPlan& plan, TunerDecision& d) {
  const std::string who = fmt::format("irqbalance ({})", pids_text(t.pids));
  if (!plan.searches_irq_affinity) {
    d.lines.push_back(who + " runs: it may move NIC IRQs while trials run (noise in the scores); the search and the "
                            "profile leave IRQ affinity to it");
    return;
  }
  const bool by_init_script = t.unit_state.empty() && !t.manager.empty();
  const bool can_stop = plan.irqbalance_stoppable && (t.unit_state == "active" || by_init_script);
  if (plan.stop_irqbalance && can_stop) {
    d.lines.push_back(who + " rewrites IRQ masks every 10 s: wgopt stops it for this search (journaled; started again at "
                            "the end or by `wgopt rollback`); a profile's IRQ affinity holds only where irqbalance stays "
                            "stopped (systemctl disable irqbalance)");
    d.hold.push_back({"irqbalance", "inactive"});
    d.exclude.push_back("irqbalance");
    return;
  }
  d.lines.push_back(who + " rewrites IRQ masks every 10 s: IRQ affinity cannot be searched while it runs, and it would "
                          "move a profile's pinned IRQs again");
  if (plan.stop_irqbalance) {
    const std::string why = !t.unit_state.empty() ? "irqbalance.service is " + t.unit_state
                            : t.manager.empty()    ? "neither systemd nor /etc/init.d/irqbalance runs it here"
                                                   : "the irqbalance knob is not writable here";
    d.refusal = fmt::format("irqbalance runs ({}) but wgopt cannot stop and restart it ({}): stop it yourself for the "
                            "search, or leave IRQ affinity out with {}", pids_text(t.pids), why, kExcludeIrq);
  } else {
    d.refusal = fmt::format("irqbalance is running ({}) and rewrites IRQ masks under the search: pass --stop-irqbalance "
                            "to let wgopt stop it for the search (journaled, started again at the end), or leave IRQ "
                            "affinity out with {}", pids_text(t.pids), kExcludeIrq);
  }
}

std::string tuned_line(const Tuner& t) {
  std::string line;
  if (t.running() && !t.profile.empty()) {
    line = fmt::format("TuneD ({}, profile {}) applied its profile when it started and applies it again on a reboot or "
                       "`tuned-adm profile`, over the profile's values where they overlap; the search measures on top "
                       "of it (to keep the winner, export it: --format tuned, or --format sysctl, which TuneD re-applies "
                       "after its own sysctls)", pids_text(t.pids), t.profile);
  } else if (!t.profile.empty()) {
    line = fmt::format("TuneD profile {} is selected ({}) but tuned does not run: nothing changes during the search; when "
                       "tuned starts it applies {} over the profile's values where they overlap",
                       t.profile, t.evidence, t.profile);
  } else {
    line = fmt::format("tuned runs ({}) with no active profile: it changes nothing now; a profile selected later is "
                       "applied over the profile's values where they overlap", pids_text(t.pids));
  }
  if (t.dynamic && t.running()) {
    line += "; its dynamic tuning changes device settings while trials run (dynamic_tuning=0 in "
            "/etc/tuned/tuned-main.conf for the search)";
  }
  return line;
}

std::string bpftune_line(const Tuner& t, const TunerPlan& plan) {
  const std::string who = fmt::format("bpftune ({})", pids_text(t.pids));
  if (!plan.searches_sysctls) {
    return who + " retunes TCP/UDP buffers, netdev backlog/budget and congestion control while trials run (noise in "
                 "the scores); the search writes no sysctl, so its tuners stay on";
  }
  return who + " retunes TCP/UDP buffers, netdev backlog/budget and congestion control while trials run (noise in the "
               "scores), and each sysctl the search or the profile writes that one of its tuners manages turns that "
               "tuner off until bpftune restarts: stop it for the search (systemctl stop bpftune) and restart it "
               "afterwards only if it should keep tuning what the profile leaves";
}

}  // namespace

std::vector<Tuner> detect_tuners(const Host& host) {
  std::vector<Tuner> out;
  for (auto found : {find_irqbalance(host), find_tuned(host), find_bpftune(host)}) {
    if (found) out.push_back(std::move(*found));
  }
  return out;
}

TunerDecision decide_tuners(const std::vector<Tuner>& tuners, const TunerPlan& plan) {
  TunerDecision d;
  for (const auto& t : tuners) {
    switch (t.kind) {
      case TunerKind::Irqbalance:
        if (t.running()) decide_irqbalance(t, plan, d);
        break;
      case TunerKind::Tuned: d.lines.push_back(tuned_line(t)); break;
      case TunerKind::Bpftune:
        if (t.running()) d.lines.push_back(bpftune_line(t, plan));
        break;
    }
  }
  return d;
}

}  // namespace wgopt::act

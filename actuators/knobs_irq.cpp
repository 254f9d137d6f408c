// IFACE/irq_affinity and the irqbalance service (systemd's unit, or the init script without systemd).
//
// irq_affinity acts on the NIC's data-path IRQs only: the IRQs of its PCI function
// (/sys/bus/pci/devices/BUS/msi_irqs, BUS from `ethtool -i`) whose /proc/interrupts name is a
// queue's (virtioN-input.K / virtioN-output.K, mlx5_comp*, IFACE-TxRx-K, IFACE-rx-K ...). Control
// IRQs (virtioN-config, mlx5_async*, *-mgmnt) are left alone. Its values are placements
// (actuators/irq_placement.hpp): a name (spread, one-core, off-rps), one mask, or one mask per IRQ.
#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <utility>
#include <thread>

#include "actuators/cpumask.hpp"
#include "actuators/ethtool_parse.hpp"
#include "actuators/irq_placement.hpp"
#include "actuators/knob_kinds.hpp"
#include "actuators/knobs_common.hpp"
#include "common/error.hpp"
#include "common/processes.hpp"
#include "common/util.hpp"

namespace wgopt::act {

namespace {

bool contains_ci(std::string s, std::string part) {
  auto lower = [](std::string& x) { std::transform(x.begin(), x.end(), x.begin(), [](unsigned char c) { return std::tolower(c); }); };
  lower(s);
  lower(part);
  return s.find(part) != std::string::npos;
}

bool is_data_path_irq_name(const std::string& name, const std::string& ifname) {
  for (const char* control : {"async", "config", "ctrl", "control", "mgmnt", "event", "misc"}) {
    if (contains_ci(name, control)) return false;
  }
  if (name.starts_with("mlx5_comp")) return true;
  if (name.find("-input.") != std::string::npos || name.find("-output.") != std::string::npos) return true;
  return name.starts_with(ifname + "-") && (contains_ci(name, "rx") || contains_ci(name, "tx"));
}

// The PCI function of `ifname` (DDDD:BB:DD.F from `ethtool -i`), or empty plus a reason.
std::string pci_function(const Host& host, const std::string& ifname, std::string& why) {
  auto info = host.run({"ethtool", "-i", ifname});
  const std::string bus = info.ok() ? parse_driver_info(info.out).bus_info : "";
  // tun prints "tun", veth nothing.
  const bool pci = bus.size() >= 7 && bus.find(':') != std::string::npos && bus.find('.') != std::string::npos &&
                   bus.find('/') == std::string::npos && bus.find("..") == std::string::npos;
  if (!pci) {
    why = "no data-path IRQs: a virtual device (no PCI bus-info in ethtool -i)";
    return "";
  }
  return bus;
}

// IRQ numbers (ascending) of the data-path IRQs of PCI function `bus`, as they are now.
std::vector<int> data_path_irqs(const Host& host, const std::string& bus, const std::string& ifname) {
  std::vector<int> msi;
  for (const auto& n : host.files->list("/sys/bus/pci/devices/" + bus + "/msi_irqs")) {
    try {
      msi.push_back(std::stoi(n));
    } catch (...) {
    }
  }
  auto interrupts = host.files->read(host.proc_root + "/interrupts");
  std::vector<int> out;
  for (const auto& line : split_lines(interrupts.value_or(""))) {
    auto w = split_ws(line);
    if (w.size() < 3 || !w[0].ends_with(':')) continue;
    int irq = 0;
    try {
      size_t used = 0;
      irq = std::stoi(w[0], &used);
      if (used + 1 != w[0].size()) continue;
    } catch (...) {
      continue;
    }
    if (std::find(msi.begin(), msi.end(), irq) == msi.end()) continue;
    if (is_data_path_irq_name(w.back(), ifname)) out.push_back(irq);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One placement (see irq_placement.hpp) for the NIC's data-path IRQs. The IRQ list is read again
// by every read, apply and comparison: a channel change earlier in the same transaction (order 10
// before 32) may have added or re-created IRQs.
class IrqAffinityKnob : public KnobBase {
 public:
  IrqAffinityKnob(const Host& host, Descriptor d) : KnobBase(host, std::move(d)) {
    std::string why;
    bus_ = pci_function(host_, d_.device, why);
    auto irqs = bus_.empty() ? std::vector<int>{} : data_path_irqs(host_, bus_, d_.device);
    if (irqs.empty()) {
      presence_ = {false, false, bus_.empty() ? why : "no data-path IRQs of " + bus_ + " in /proc/interrupts"};
      return;
    }
    presence_ = file_presence(host_, path(irqs[0]));
  }

  Presence presence() override { return presence_; }

  std::string read() override { return join(read_masks(irqs_or_throw("read"))); }

  std::string validate(const std::string& value) const override {
    const std::string t = trim(value);
    if (is_irq_placement_name(t)) return t;
    auto parts = split_ws(t);
    if (parts.empty()) throw UsageError(fmt::format("value for {} is empty: {}", d_.id, hint()));
    std::vector<std::string> out;
    for (const auto& p : parts) {
      CpuMask m;
      try {
        m = CpuMask::parse(p, host_.nproc, fmt::format("mask for {}", d_.id));
      } catch (const UsageError& e) {
        throw UsageError(fmt::format("{} ({})", e.what(), hint()));
      }
      if (m.empty()) throw UsageError(fmt::format("mask '{}' for {} selects no CPU: an IRQ needs at least one ({})", p, d_.id, hint()));
      out.push_back(m.canonical());
    }
    return fmt::format("{}", fmt::join(out, " "));
  }

  // One mask per IRQ there is now (never collapsed to one mask, so the journal records how many
  // IRQs were placed; the IRQs a shorter list leaves keep the masks they have).
  std::string resolve(const std::string& canonical) override {
    const auto irqs = irqs_or_throw("place");
    auto masks = masks_for(canonical, irqs);
    if (masks.size() < irqs.size()) {
      const auto now = read_masks(std::vector<int>(irqs.begin() + static_cast<long>(masks.size()), irqs.end()));
      masks.insert(masks.end(), now.begin(), now.end());
    }
    return fmt::format("{}", fmt::join(masks, " "));
  }

  void apply(const std::string& canonical) override {
    const auto irqs = irqs_or_throw("set");
    const auto masks = masks_for(canonical, irqs);
    for (size_t i = 0; i < masks.size(); ++i) host_.files->write(path(irqs[i]), masks[i] + "\n");
  }

  // Equal on every IRQ both values place (a shorter list leaves the rest open).
  bool equal(const std::string& a, const std::string& b) const override {
    try {
      const auto irqs = bus_.empty() ? std::vector<int>{} : data_path_irqs(host_, bus_, d_.device);
      if (irqs.empty()) return trim(a) == trim(b);
      const auto ma = masks_for(a, irqs), mb = masks_for(b, irqs);
      for (size_t i = 0; i < std::min(ma.size(), mb.size()); ++i) {
        const int w = std::max({host_.nproc, width_of(ma[i]), width_of(mb[i])});
        if (!(CpuMask::parse(ma[i], w) == CpuMask::parse(mb[i], w))) return false;
      }
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  bool still_ours(const std::string& found, const std::string& ours, const std::string& /*goal*/) const override {
    if (equal(found, ours)) return true;
    const auto parts = split_ws(ours);
    return parts.size() > 1 && !is_irq_placement_name(trim(ours)) &&
           !bus_.empty() && parts.size() > data_path_irqs(host_, bus_, d_.device).size();
  }

 private:
  std::string path(int irq) const { return fmt::format("{}/irq/{}/smp_affinity", host_.proc_root, irq); }
  // The kernel prints nr_cpu_ids bits, which can exceed nproc.
  static int width_of(const std::string& v) { return 32 * static_cast<int>(split(trim(v), ',').size()); }
  static std::string join(const std::vector<std::string>& masks) {
    if (std::all_of(masks.begin(), masks.end(), [&](const auto& m) { return m == masks[0]; })) return masks[0];
    return fmt::format("{}", fmt::join(masks, " "));
  }
  std::string hint() const {
    return fmt::format("use {}, one CPU mask such as {}, or one mask per IRQ in IRQ order such as \"1 2\"",
                       fmt::join(irq_placement_names(), ", "), CpuMask::all(host_.nproc).canonical());
  }
  std::vector<int> irqs_or_throw(const char* verb) const {
    if (bus_.empty()) throw Error(fmt::format("cannot {} {}: {}", verb, d_.id, presence_.why_not));
    auto irqs = data_path_irqs(host_, bus_, d_.device);
    if (irqs.empty()) throw Error(fmt::format("cannot {} {}: no data-path IRQs of {} in /proc/interrupts", verb, d_.id, bus_));
    return irqs;
  }
  std::vector<std::string> read_masks(const std::vector<int>& irqs) const {
    std::vector<std::string> masks;
    for (int irq : irqs) {
      const std::string v = read_or_throw(host_, path(irq), d_.id);
      masks.push_back(CpuMask::parse(v, std::max(host_.nproc, width_of(v)), d_.id).canonical());
    }
    return masks;
  }
  // The union of the device's rx queues' rps_cpus (empty when RPS is off).
  CpuMask rps_cpus() const {
    CpuMask all(host_.nproc);
    const std::string dir = "/sys/class/net/" + d_.device + "/queues";
    for (const auto& q : host_.files->list(dir)) {
      if (!q.starts_with("rx-")) continue;
      auto v = host_.files->read(dir + "/" + q + "/rps_cpus");
      if (!v) continue;
      const CpuMask m = CpuMask::parse(*v, std::max(host_.nproc, width_of(*v)), d_.id + " (rps_cpus)");
      for (int c = 0; c < host_.nproc; ++c) {
        if (m.test(c)) all.set(c);
      }
    }
    return all;
  }
  // The masks `value` gives `irqs`, in order: all of them, or the first ones of a shorter list.
  // Throws Error when the list names more IRQs than there are.
  std::vector<std::string> masks_for(const std::string& value, const std::vector<int>& irqs) const {
    const std::string t = trim(value);
    std::vector<std::string> out;
    if (is_irq_placement_name(t)) {
      const CpuMask rps = t == "off-rps" ? rps_cpus() : CpuMask(host_.nproc);
      for (const auto& m : placement_masks(t, irqs.size(), host_.nproc, rps)) out.push_back(m.canonical());
      return out;
    }
    auto parts = split_ws(t);
    if (parts.size() == 1) return std::vector<std::string>(irqs.size(), parts[0]);
    if (parts.size() > irqs.size()) {
      throw Error(fmt::format("value '{}' for {} gives {} masks but {} has {} data-path IRQs now: give at most {} masks, "
                              "one mask, or a placement ({})", value, d_.id, parts.size(), d_.device, irqs.size(),
                              irqs.size(), fmt::join(irq_placement_names(), ", ")));
    }
    return parts;
  }
  std::string bus_;  // the PCI function; empty for a virtual device
  Presence presence_;
};

// The irqbalance service, through whatever runs it here: systemd's unit (systemctl), or, where
// systemd does not run, the distribution's init script (Debian's /etc/init.d/irqbalance, which
// starts the daemon with --pid=/run/irqbalance.pid and the options of /etc/default/irqbalance and
// stops every /usr/sbin/irqbalance with start-stop-daemon). Under the init script the state is
// whether a process named irqbalance runs (/proc), and a start or stop waits until it does or not.
class IrqbalanceKnob : public KnobBase {
 public:
  static constexpr const char* kInitScript = "/etc/init.d/irqbalance";

  IrqbalanceKnob(const Host& host, Descriptor d) : KnobBase(host, std::move(d)) {
    d_.domain.choices = {"active", "inactive"};
    if (!host_.place.is_host()) {
      presence_ = {false, false, "global-only: a host service, not in a network namespace"};
      return;
    }
    auto r = host_.run({"systemctl", "show", "--property=LoadState", "--value", "irqbalance"});
    if (!r.not_found && r.ok() && trim(r.out) == "loaded") {
      presence_ = writable_as_root();
    } else if (host_.files->exists(kInitScript)) {
      init_script_ = true;  // no systemd here (or no unit): the init script runs it
      presence_ = writable_as_root();
    } else if (r.not_found) {
      presence_ = {false, false, "systemctl not found and no /etc/init.d/irqbalance: irqbalance is not installed"};
    } else if (!r.ok()) {
      presence_ = {false, false, "systemd is not running here and there is no /etc/init.d/irqbalance: " + r.brief()};
    } else {
      presence_ = {false, false, "irqbalance is not installed (LoadState=" + trim(r.out) + ")"};
    }
  }
  Presence presence() override { return presence_; }
  std::string read() override {
    if (init_script_) return running() ? "active" : "inactive";
    // is-active exits 3 for an inactive unit; its stdout is the state either way.
    auto r = host_.run({"systemctl", "is-active", "irqbalance"});
    if (r.not_found || r.timed_out || trim(r.out).empty()) {
      throw Error(fmt::format("cannot read irqbalance: `systemctl is-active irqbalance` {}", r.brief()));
    }
    return trim(r.out) == "active" ? "active" : "inactive";
  }
  std::string validate(const std::string& value) const override {
    const std::string t = trim(value);
    if (t == "active" || t == "inactive") return t;
    throw UsageError(fmt::format("value '{}' for irqbalance is not legal: use active or inactive", value));
  }
  void apply(const std::string& canonical) override {
    const bool start = canonical == "active";
    // The transaction journals the NICs' data-path IRQ masks as companions; irqbalance moves the
    // others too (virtio config, timers, storage), and those no rollback puts back (found by an
    // exploratory test: IRQs 35 and 37 stayed on CPU 1).
    if (start) {
      notes_.push_back("irqbalance moves every IRQ: a rollback puts back the NICs' data-path IRQ masks (journaled now), not the "
                       "others'");
      static bool said = false;  // once a process: a search may start it in many trials
      if (!std::exchange(said, true)) spdlog::warn("{}", notes_.back());
    }
    // stop/start only: disabling would outlive wgopt's journal across a reboot.
    if (!init_script_) {
      run_or_throw(host_, {"systemctl", start ? "start" : "stop", "irqbalance"}, d_.id, canonical);
      return;
    }
    run_or_throw(host_, {kInitScript, start ? "start" : "stop"}, d_.id, canonical);
    // start-stop-daemon returns once the signal is sent (stop) or the daemon forked (start).
    for (int i = 0; i < 50 && running() != start; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (running() != start) {
      throw Error(fmt::format("irqbalance: `{} {}` returned but irqbalance is {} running 5 s later", kInitScript,
                              start ? "start" : "stop", start ? "not" : "still"));
    }
  }

  std::vector<std::string> take_notes() override { return std::exchange(notes_, {}); }

 private:
  Presence writable_as_root() const {
    return running_as_root() ? Presence{true, true, ""} : not_root_presence();
  }
  bool running() const { return !pids_named(*host_.files, host_.proc_root, "irqbalance").empty(); }

  Presence presence_;
  bool init_script_ = false;
  std::vector<std::string> notes_;
};

}  // namespace

KnobPtr make_irq_affinity_knob(const Host& host, const std::string& ifname) {
  // kind, scope, order, restore order, resolved when written: knob_kinds.hpp. The type is Enum: the
  // search picks among placements (the host's own masks are added as "as found"); a user may also
  // give masks (validate()).
  Descriptor d = descriptor_for(ifname + "/irq_affinity");
  d.domain.mask_bits = host.nproc;
  d.domain.choices = irq_placement_names();
  d.reason = "where the NIC's queue IRQs run: spread (one per CPU, the guide's pinning), one-core (all on CPU 0), "
             "off-rps (CPUs outside RPS), or CPU masks (one, or one per IRQ)";
  return std::make_unique<IrqAffinityKnob>(host, std::move(d));
}

KnobPtr make_irqbalance_knob(const Host& host) {
  Descriptor d = descriptor_for("irqbalance");  // kind, scope, type, order: knob_kinds.hpp
  d.reason = "the irqbalance daemon; it tends to collapse NIC IRQs onto one CPU in VMs and rewrites pinned masks";
  return std::make_unique<IrqbalanceKnob>(host, std::move(d));
}

}  // namespace wgopt::act

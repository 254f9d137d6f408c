// IFACE/irq_affinity and the irqbalance service.
//
// irq_affinity acts on the NIC's data-path IRQs only: the IRQs of its PCI function
// (/sys/bus/pci/devices/BUS/msi_irqs, BUS from `ethtool -i`) whose /proc/interrupts name is a
// queue's (virtioN-input.K / virtioN-output.K, mlx5_comp*, IFACE-TxRx-K, IFACE-rx-K ...). Control
// IRQs (virtioN-config, mlx5_async*, *-mgmnt) are left alone.
// Values (canonical):
//   "spread"      the guide's loop: the k-th data-path IRQ (by IRQ number) to CPU k mod nproc
//   MASK          the same CPU mask for every data-path IRQ ("3")
//   "M0 M1 ..."   one mask per data-path IRQ, by IRQ number (how a mixed original reads back)
#include <algorithm>
#include <fmt/format.h>

#include "actuators/cpumask.hpp"
#include "actuators/ethtool_parse.hpp"
#include "actuators/knobs_common.hpp"
#include "common/error.hpp"
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

// IRQ numbers (ascending) of the data-path IRQs of `ifname`; empty plus a reason if none.
std::vector<int> data_path_irqs(const Host& host, const std::string& ifname, std::string& why) {
  auto info = host.run({"ethtool", "-i", ifname});
  const std::string bus = info.ok() ? parse_driver_info(info.out).bus_info : "";
  // A PCI function is DDDD:BB:DD.F; tun prints "tun", veth nothing.
  const bool pci = bus.size() >= 7 && bus.find(':') != std::string::npos && bus.find('.') != std::string::npos &&
                   bus.find('/') == std::string::npos && bus.find("..") == std::string::npos;
  if (!pci) {
    why = "no data-path IRQs: a virtual device (no PCI bus-info in ethtool -i)";
    return {};
  }
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
  if (out.empty()) why = "no data-path IRQs of " + bus + " in /proc/interrupts";
  return out;
}

class IrqAffinityKnob : public KnobBase {
 public:
  IrqAffinityKnob(const Host& host, Descriptor d) : KnobBase(host, std::move(d)) {
    std::string why;
    irqs_ = data_path_irqs(host_, d_.device, why);
    if (irqs_.empty()) {
      presence_ = {false, false, why};
      return;
    }
    presence_ = file_presence(host_, path(irqs_[0]));
  }

  Presence presence() override { return presence_; }

  std::string read() override {
    if (irqs_.empty()) throw Error(fmt::format("cannot read {}: {}", d_.id, presence_.why_not));
    std::vector<std::string> masks;
    for (int irq : irqs_) {
      const std::string v = read_or_throw(host_, path(irq), d_.id);
      masks.push_back(CpuMask::parse(v, width_of(v), d_.id).canonical());
    }
    if (std::all_of(masks.begin(), masks.end(), [&](const auto& m) { return m == masks[0]; })) return masks[0];
    return fmt::format("{}", fmt::join(masks, " "));
  }

  std::string validate(const std::string& value) const override {
    const std::string t = trim(value);
    if (t == "spread") return t;
    auto parts = split_ws(t);
    if (parts.empty()) throw UsageError(fmt::format("value for {} is empty: use spread or a CPU mask", d_.id));
    if (parts.size() != 1 && parts.size() != irqs_.size()) {
      throw UsageError(fmt::format("value '{}' for {} has {} masks but {} has {} data-path IRQs: use spread, one mask, or {} masks",
                                   value, d_.id, parts.size(), d_.device, irqs_.size(), irqs_.size()));
    }
    std::vector<std::string> out;
    for (const auto& p : parts) {
      auto m = CpuMask::parse(p, host_.nproc, fmt::format("mask for {}", d_.id));
      if (m.empty()) throw UsageError(fmt::format("mask '{}' for {} selects no CPU: an IRQ needs at least one", p, d_.id));
      out.push_back(m.canonical());
    }
    return fmt::format("{}", fmt::join(out, " "));
  }

  void apply(const std::string& canonical) override {
    auto masks = expand(canonical);
    for (size_t i = 0; i < irqs_.size(); ++i) host_.files->write(path(irqs_[i]), masks[i] + "\n");
  }

  bool equal(const std::string& a, const std::string& b) const override {
    try {
      auto ea = expand(a), eb = expand(b);
      for (size_t i = 0; i < ea.size(); ++i) {
        const int w = std::max(width_of(ea[i]), width_of(eb[i]));
        if (!(CpuMask::parse(ea[i], w) == CpuMask::parse(eb[i], w))) return false;
      }
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

 private:
  std::string path(int irq) const { return fmt::format("{}/irq/{}/smp_affinity", host_.proc_root, irq); }
  int width_of(const std::string& v) const { return std::max(host_.nproc, 32 * static_cast<int>(split(trim(v), ',').size())); }
  // One mask per data-path IRQ.
  std::vector<std::string> expand(const std::string& v) const {
    std::vector<std::string> out;
    auto parts = split_ws(v);
    for (size_t i = 0; i < irqs_.size(); ++i) {
      if (trim(v) == "spread") out.push_back(CpuMask::single(static_cast<int>(i) % host_.nproc, host_.nproc).canonical());
      else if (parts.size() == 1) out.push_back(parts[0]);
      else if (parts.size() == irqs_.size()) out.push_back(parts[i]);
      else throw UsageError(fmt::format("value '{}' for {} does not match its {} IRQs", v, d_.id, irqs_.size()));
    }
    return out;
  }
  std::vector<int> irqs_;
  Presence presence_;
};

class IrqbalanceKnob : public KnobBase {
 public:
  IrqbalanceKnob(const Host& host, Descriptor d) : KnobBase(host, std::move(d)) {
    d_.domain.choices = {"active", "inactive"};
    if (!host_.place.is_host()) {
      presence_ = {false, false, "global-only: a host service, not in a network namespace"};
      return;
    }
    auto r = host_.run({"systemctl", "show", "--property=LoadState", "--value", "irqbalance"});
    if (r.not_found) presence_ = {false, false, "systemctl not found: irqbalance is not managed by systemd here"};
    else if (!r.ok()) presence_ = {false, false, "systemd is not running here: " + r.brief()};
    else if (trim(r.out) != "loaded") presence_ = {false, false, "irqbalance is not installed (LoadState=" + trim(r.out) + ")"};
    else presence_ = running_as_root() ? Presence{true, true, ""} : Presence{true, false, "not root: re-run as root"};
  }
  Presence presence() override { return presence_; }
  std::string read() override {
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
    // stop/start only: disabling would outlive wgopt's journal across a reboot.
    run_or_throw(host_, {"systemctl", canonical == "active" ? "start" : "stop", "irqbalance"}, d_.id, canonical);
  }

 private:
  Presence presence_;
};

}  // namespace

KnobPtr make_irq_affinity_knob(const Host& host, const std::string& ifname) {
  Descriptor d;
  d.id = ifname + "/irq_affinity";
  d.kind = "irq_affinity";
  d.scope = Scope::Irq;
  d.type = ValueType::Mask;
  d.device = ifname;
  d.order = 32;  // after channels (new queues, new IRQs) and after irqbalance is stopped
  d.domain.min = 1;
  d.domain.mask_bits = host.nproc;
  d.domain.max = host.nproc >= 63 ? INT64_MAX : (int64_t{1} << host.nproc) - 1;
  d.domain.choices = {"spread"};
  d.reason = "CPUs that take the NIC's data-path IRQs (spread = one queue IRQ per CPU, as the guide pins them)";
  return std::make_unique<IrqAffinityKnob>(host, std::move(d));
}

KnobPtr make_irqbalance_knob(const Host& host) {
  Descriptor d;
  d.id = "irqbalance";
  d.kind = "service";
  d.scope = Scope::Service;
  d.type = ValueType::Service;
  d.order = 5;  // stopped before IRQ masks are written, or it rewrites them
  d.reason = "the irqbalance daemon; it tends to collapse NIC IRQs onto one CPU in VMs and rewrites pinned masks";
  return std::make_unique<IrqbalanceKnob>(host, std::move(d));
}

}  // namespace wgopt::act

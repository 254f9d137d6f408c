#pragma once
// One static table per knob kind: what a knob of each kind is before any host is looked at (its
// kind name, scope, value type, apply and restore order) and the host-free rules its values follow.
// The knob factories (knobs_*.cpp, catalog.cpp) build their Descriptor from it; the transaction
// checks every value against it before the knob's own validate() (which adds what the host says:
// ethtool maxima, the kernel's qdiscs, the device's MTU range); the exporters (experiments/export)
// order and validate a profile with it on machines that lack the knobs. A new kind is added here
// once, so export cannot order or validate it differently from apply.
#include <optional>
#include <string>
#include <vector>

#include "actuators/knob.hpp"

namespace wgopt::act {

struct KindSpec {
  const char* kind = "";  // sysctl, service, mtu, txqueuelen, rps_cpus, rps_flow_cnt, channels, rings,
                          // offload, rss_hash, rss_equal, irq_affinity, qdisc
  Scope scope = Scope::Global;
  ValueType type = ValueType::Int;
  int order = 50;                      // Descriptor::order
  int restore_order = -1;              // Descriptor::restore_order
  bool resolved_when_written = false;  // Descriptor::resolved_when_written
};

// The spec of knob `id`: a sysctl wgopt tunes (each has its own order), "irqbalance", or
// IFACE/NAME with NAME one of device_knob_names(). nullopt for an id wgopt does not know.
std::optional<KindSpec> kind_spec(const std::string& id);

// A Descriptor with id, device (IFACE of IFACE/NAME), kind, scope, type, order, restore_order and
// resolved_when_written from kind_spec(id); the factory adds the domain and the reason. Throws
// Error (internal) for an id kind_spec() does not know.
Descriptor descriptor_for(const std::string& id);

// The canonical form of `value` for knob `id` by the rules that hold on every host (syntax, and
// ranges every kernel refuses beyond: an MTU in [68, 65535], a triple min <= default <= max, a
// CPU mask at most `nproc` wide (nullopt: 4096), a qdisc kind tc knows ...). Throws UsageError
// "knob ID has value 'V': RULE" (V shown with one_line()), or "unknown knob" for an id
// kind_spec() does not know.
std::string static_canonical(const std::string& id, const std::string& value, std::optional<int> nproc);

// Whether net.core.default_qdisc may not name `qdisc`: one the kernel cannot attach with no
// parameters. It takes 'tbf' or 'htb' in the sysctl, then fails every device created after
// ("default qdisc (tbf) fail, fallback to noqueue" in dmesg), so a tunnel NetBird recreates would
// run with no queue (found by an exploratory test, 2026-12-06). A list of the refused (shapers,
// classful and offload qdiscs, noqueue, mq), so a kernel's other parameterless qdiscs stay choices.
bool refused_as_default_qdisc(const std::string& qdisc);

}  // namespace wgopt::act

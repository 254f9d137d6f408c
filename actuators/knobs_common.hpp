#pragma once
// What the knob kinds (knobs_*.cpp) share: a base holding the Host and the descriptor, value
// parsing against a Domain, tool runs with errors that name the knob, and the factories the
// catalog calls. Not for callers outside actuators/: they use catalog.hpp.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actuators/knob.hpp"

namespace wgopt::act {

class KnobBase : public Knob {
 public:
  KnobBase(Host host, Descriptor d) : host_(std::move(host)), d_(std::move(d)) {}
  const Descriptor& descriptor() const override { return d_; }
  // The interface's index for a device knob (Knob::instance).
  std::string instance() override;

 protected:
  Host host_;
  Descriptor d_;
};

bool running_as_root();

// Decimal integer within d.domain, or UsageError "value 'x' for ID is not ...: use an integer in [a, b]".
int64_t parse_int_in(const std::string& value, const Descriptor& d);
// Domain widened so that the host's current value is always legal (so it can be restored).
void widen(Domain& dom, int64_t current);

// The least power of two >= v (0 for v <= 0): how the kernel sizes the RFS tables.
int64_t round_pow2(int64_t v);

// File content (trimmed) or Error "cannot read PATH for ID in PLACE".
std::string read_or_throw(const Host& host, const std::string& path, const std::string& id);
// Runs argv in the host's place and throws Error "cannot set ID to V: `argv` exit N: <stderr>".
CommandResult run_or_throw(const Host& host, const std::vector<std::string>& argv, const std::string& id,
                           const std::string& value);

// Presence of a file-backed knob: present if the file exists, writable per Files::writable with
// the reason (not root / read-only in a child namespace).
Presence file_presence(const Host& host, const std::string& path);

// Whether this kernel has module `name` ("tcp_bbr"): Builtin (listed in
// /lib/modules/RELEASE/modules.builtin), Loadable (in modules.dep, so `modprobe NAME` can load it),
// or Absent (neither, or no /lib/modules/RELEASE at all). RELEASE is /proc/sys/kernel/osrelease;
// both read through host.files, so a fake tree can hold them.
enum class ModuleState { Absent, Builtin, Loadable };
ModuleState kernel_module_state(const Host& host, const std::string& name);

// --- factories used by catalog.cpp -------------------------------------------------------------

// Every sysctl knob wgopt tunes, in catalog order.
std::vector<std::string> sysctl_names();
// What the sysctl table says of `name` without a host (knob_kinds.cpp builds its KindSpec from it):
// its value type, whether it is absent in a child namespace, its apply order. nullopt: not tuned.
struct SysctlKind {
  ValueType type = ValueType::Int;
  bool global_only = false;
  int order = 50;
};
std::optional<SysctlKind> sysctl_kind(const std::string& name);
// The sysctl knob `name` (dotted), or nullptr when wgopt does not tune it. `qdiscs` are the root
// qdisc kinds this kernel offers (for net.core.default_qdisc).
KnobPtr make_sysctl_knob(const Host& host, const std::string& name, const std::vector<std::string>& qdiscs);

// What a device knob needs to know about its interface's role.
struct DeviceContext {
  bool wireguard = false;           // the overlay interface: its MTU is always writable
  bool allow_mtu = false;           // the underlay's MTU only when allowed
  int64_t underlay_mtu = 0;         // largest non-WireGuard MTU here (0 unknown): caps the WG MTU
  std::vector<std::string> qdiscs;  // root qdisc kinds this kernel offers
};

// The `tc qdisc replace dev IF root KIND ...` arguments after KIND that the qdisc knob uses (tbf
// gets a rate that never throttles; the others none). The exported script writes the same.
std::vector<std::string> qdisc_create_args(const std::string& kind);

// Why the root qdisc that `tc qdisc show dev IF` and `tc class show dev IF` print could not be put
// back exactly by the qdisc knob, whose value is the kind alone (it deletes the root, or replaces it
// with KIND and qdisc_create_args): a kind it does not create, a shaper's rate, classes, a qdisc
// someone attached under it; "" when it could. Such a knob is present but not writable (found by an
// exploratory test: a rollback turned `tbf rate 10mbit` into `tbf rate 100Gbit` and said restored).
std::string qdisc_not_restorable(const std::string& qdisc_show, const std::string& class_show, const std::string& filter_show = "");

// Device knob names in catalog order ("mtu", "txqueuelen", ..., "channels/combined", "offload/gro").
std::vector<std::string> device_knob_names();
// The device knob IFACE/`name`, or nullptr when `name` is not a device knob.
KnobPtr make_device_knob(const Host& host, const std::string& ifname, const std::string& name,
                         const DeviceContext& ctx);

KnobPtr make_link_knob(const Host& host, const std::string& ifname, const std::string& name, const DeviceContext& ctx);
KnobPtr make_rps_knob(const Host& host, const std::string& ifname, const std::string& name);
KnobPtr make_ethtool_knob(const Host& host, const std::string& ifname, const std::string& name);
KnobPtr make_qdisc_knob(const Host& host, const std::string& ifname, const std::vector<std::string>& qdiscs);
KnobPtr make_irq_affinity_knob(const Host& host, const std::string& ifname);
KnobPtr make_irqbalance_knob(const Host& host);

// Root qdisc kinds this kernel offers (see knobs_qdisc.cpp for how they are found).
std::vector<std::string> available_qdiscs(const Host& host);

}  // namespace wgopt::act

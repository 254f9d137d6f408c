#pragma once
// One knob = one small unit behind this interface (TuneD's apply/verify/unapply, bpftune's
// descriptor with a human reason). A Knob is bound to one Host (a Place with its Files and
// CommandRunner) and one concrete target (a sysctl, a device's MTU, a device's RPS masks ...).
//
// Values cross this interface as canonical text, the form a profile stores and a user types:
//   int:     decimal                      "10000"
//   triple:  three decimals, one space    "4096 131072 16777216"
//   mask:    hex as the kernel prints it, comma-separated 32-bit groups, no leading zeros in the
//            first group ("3", "ff", "1,00000000"); never wider than the host's CPU count
//   bool:    "on" | "off"
//   enum:    one of Domain::choices       "bbr", "pfifo_fast"; IFACE/irq_affinity also takes CPU
//            masks besides its placement names (actuators/irq_placement.hpp: "spread", "2 1")
//   service: "active" | "inactive"        (irqbalance)
// validate() turns what a user typed into that form (or throws UsageError); equal() compares two
// canonical values the way the kernel normalises them (masks as numbers, rounded rps_flow_cnt).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/exec.hpp"
#include "common/files.hpp"
#include "common/place.hpp"

namespace wgopt::act {

enum class Scope { Global, Netns, Device, Irq, Service };
enum class ValueType { Int, Triple, Mask, Bool, Enum, Service };

const char* to_string(Scope s);
const char* to_string(ValueType t);

// The legal domain of a knob on this host, as discovered (nproc, ethtool pre-set maxima, the
// kernel's qdiscs and congestion controls). The optimizer's space is built from it.
struct Domain {
  int64_t min = 0;        // Int / Triple (each member) / Mask (0 = no CPU)
  int64_t max = 0;
  bool pow2 = false;      // Int: only powers of two are sensible (rings, buffers, flow counts)
  bool zero_off = false;  // Int pow2: 0 turns the feature off (RFS flow counts), a value of its own below min_on
  int64_t min_on = 1;     // Int pow2 with zero_off: the least value above 0 the kernel takes
  bool log = false;       // Int: search on a log scale
  int mask_bits = 0;      // Mask: number of CPUs
  std::vector<std::string> choices;  // Enum / Service
};

struct Descriptor {
  std::string id;       // stable id users type: "net.core.netdev_max_backlog", "eth0/mtu", "irqbalance"
  std::string kind;     // knob kind: "sysctl", "mtu", "txqueuelen", "rps_cpus", "channels", ...
  Scope scope = Scope::Global;
  ValueType type = ValueType::Int;
  Domain domain;
  int order = 50;       // apply order, ascending: channels (10) before RPS/IRQ masks (30), MTU last (90)
  // Restore order, descending, when it differs from `order` (-1: the same): IRQ masks (9) go back
  // after the channels and rings (10, 15) that decide which IRQs exist, and before irqbalance (5).
  int restore_order = -1;
  // Its values resolve against what the knobs before it left (IRQ placements against the IRQs a
  // channel change created): the transaction compares it with the host just before writing it,
  // not when it plans, so an equal value planned there is not skipped too early.
  bool resolved_when_written = false;
  std::string reason;   // one line a user sees: what it does and why one tunes it
  std::string device;   // the interface for Device-scoped knobs, else empty
};

// Discovery result for one knob on one host.
struct Presence {
  bool present = false;   // exists here
  bool writable = false;  // we may change it in this context
  std::string why_not;    // when !present or !writable: "read-only in a child namespace",
                          // "global-only: not in a network namespace", "driver does not support it" ...
  bool needs_root = false;  // !writable only because this process is not root (a dry-run goes on)
};

// Present, and writable as root only.
inline Presence not_root_presence() { return {true, false, "not root: re-run as root", true}; }

// Where knobs act: a Place plus the means to reach it. Tests inject a fake root and a fake runner.
struct Host {
  Place place;
  std::shared_ptr<Files> files;            // /proc, /sys as seen from `place`
  std::shared_ptr<CommandRunner> runner;   // ethtool, tc, ip, systemctl (wrapped with place.wrap)
  int nproc = 1;                           // CPUs of the machine (masks are never wider)
  std::string proc_root = "/proc";         // for the host-wide files (/proc/interrupts, /proc/irq)

  // Runs argv in `place` (wrap) through `runner`.
  CommandResult run(const std::vector<std::string>& argv) const;
};

class Knob {
 public:
  virtual ~Knob() = default;
  virtual const Descriptor& descriptor() const = 0;
  const std::string& id() const { return descriptor().id; }

  virtual Presence presence() = 0;
  // Current value in canonical form. Throws wgopt::Error if it cannot be read.
  virtual std::string read() = 0;
  // Canonical form of a user's value, or throws UsageError naming the knob, the value and the
  // legal domain. Never touches the host.
  virtual std::string validate(const std::string& value) const = 0;
  // Writes a canonical value. Throws wgopt::Error naming path/command, value and the errno text.
  virtual void apply(const std::string& canonical) = 0;
  // True when two canonical values mean the same to the kernel.
  virtual bool equal(const std::string& a, const std::string& b) const { return a == b; }

  // The concrete value a canonical one stands for on the host right now, just before apply():
  // a placement name becomes the per-IRQ masks it gives the IRQs that exist now. The transaction
  // journals it, so a restore compares with what was written, not with a name that may resolve
  // differently by then. Default: the value itself.
  virtual std::string resolve(const std::string& canonical) { return canonical; }
  // May a restore overwrite `found`, which wgopt wrote as `ours`? Default: equal(found, ours); the
  // IRQ knob also says yes when `ours` placed IRQs that no longer exist (a channel change re-created
  // them at the driver's default masks), since nobody else chose what they hold.
  // `goal` is the value the restore puts back.
  virtual bool still_ours(const std::string& found, const std::string& ours, const std::string& /*goal*/) const {
    return equal(found, ours);
  }
  // Which instance of what it acts on, so a journal entry is told from a namesake made later: a
  // device knob's interface index ("ifindex 7"; NetBird deletes its interface and makes it again
  // under the same name). Empty when that does not apply or cannot be read.
  virtual std::string instance() { return ""; }
  // What the last apply() did that no rollback undoes ("loaded kernel module tcp_bbr"), once: the
  // transaction collects it into ApplyResult::notes. Default: nothing.
  virtual std::vector<std::string> take_notes() { return {}; }
};

// Descriptor::restore_order, or order when it is not set.
inline int restore_rank(const Descriptor& d) { return d.restore_order >= 0 ? d.restore_order : d.order; }

using KnobPtr = std::unique_ptr<Knob>;

}  // namespace wgopt::act

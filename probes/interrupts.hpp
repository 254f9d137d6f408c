#pragma once
// /proc/interrupts: per-IRQ, per-CPU counts (cumulative since boot: only deltas mean anything, guide
// §3.3 and §6.5) and the IRQ's name, classified so NIC data-path IRQs (the ones whose affinity and
// spread matter) can be told from control-plane and unrelated ones.
#include <cstdint>
#include <string>
#include <vector>

namespace wgopt::probes {

enum class IrqClass {
  DataRx,     // receive queue: virtioN-input.Q, IFACE-rx-Q
  DataTx,     // transmit completion queue: virtioN-output.Q, IFACE-tx-Q
  DataRxTx,   // combined queue: mlx5_compN, IFACE-TxRx-Q, ena-comp-Q, gve-ntfy-blkN, mana_qN, ...
  Control,    // device control plane: mlx5_async*, virtioN-config, *-mgmnt, *misc, ...
  Other,      // timers, disks, consoles, per-CPU system rows (LOC, RES, ...)
};
const char* to_string(IrqClass c);
inline bool is_data_path(IrqClass c) { return c == IrqClass::DataRx || c == IrqClass::DataTx || c == IrqClass::DataRxTx; }

// Classifies an action name as printed in /proc/interrupts ("mlx5_comp3@pci:0000:00:02.0",
// "virtio2-input.0", "eth0-TxRx-1"). Shared IRQs ("a, b") take the first action's class.
IrqClass classify_irq_action(const std::string& action);

struct IrqLine {
  std::string id;                 // "38" for a numbered IRQ, "LOC", "NMI", "ERR" ... for system rows
  bool numbered = false;          // id is a number
  std::vector<uint64_t> per_cpu;  // one per column of the header (ERR/MIS rows have a single value)
  std::string chip;               // "PCI-MSIX-0000:00:03.0", "IO-APIC", "GICv3"; empty for system rows
  std::string hwirq;              // "1-edge", "27 Level"
  std::string action;             // "virtio2-input.0", "ehci_hcd:usb1, uhci_hcd:usb3"; the description
                                  // ("Local timer interrupts") for system rows; empty if none
  IrqClass cls = IrqClass::Other;
  uint64_t total() const;
};

struct Interrupts {
  std::vector<int> cpus;          // CPU ids of the columns, from the header ("CPU0 CPU2" -> {0, 2})
  std::vector<IrqLine> irqs;      // in file order
  const IrqLine* find(const std::string& id) const;
};

// Throws wgopt::Error naming `source` and the line for a missing header or a malformed row.
Interrupts parse_interrupts(const std::string& text, const std::string& source = "/proc/interrupts");

}  // namespace wgopt::probes

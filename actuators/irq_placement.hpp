#pragma once
// IRQ placements: the values of IFACE/irq_affinity, and the CPU mask each of a NIC's data-path
// IRQs gets under one. Pure (no I/O): the knob (knobs_irq.cpp) reads the IRQ list and the RPS
// CPUs when it applies, and the exported script (experiments/export_script.cpp) does the same
// arithmetic in sh.
//
// Canonical text of a placement (what profiles, the journal, the optimizer and the exporter carry):
//   spread      the guide's loop (§4.2): the k-th data-path IRQ (ascending IRQ number) on CPU k mod nproc
//   one-core    every data-path IRQ on CPU 0
//   off-rps     the k-th IRQ on the k-th CPU (round robin) that is not one of the device's RPS CPUs,
//               so the hard IRQ and the RPS protocol work use different cores; every CPU when RPS is
//               off or takes them all (then it is spread)
//   MASK        one CPU mask for every data-path IRQ ("3")
//   M0 M1 ...   one mask per data-path IRQ, ascending IRQ number (how differing masks read back,
//               "2 1"); fewer masks than IRQs place the first IRQs and leave the others as they are
//               (the IRQs a channel increase added), more masks than IRQs cannot be applied
// Masks are hex as the kernel prints them, canonical (CpuMask::canonical), never 0.
#include <string>
#include <vector>

#include "actuators/cpumask.hpp"

namespace wgopt::act {

// The named placements, in the order the search offers them after the host's own value.
const std::vector<std::string>& irq_placement_names();
bool is_irq_placement_name(const std::string& value);

// The masks of `n` IRQs under the named placement on an `nproc`-CPU machine; `rps` is the union
// of the device's rx queues' rps_cpus (empty: RPS off). Throws Error for a name that is not one.
std::vector<CpuMask> placement_masks(const std::string& name, size_t n, int nproc, const CpuMask& rps);

}  // namespace wgopt::act

#pragma once
// The real Host for a Place (its Files, the process runner, the machine's CPU count) and the
// KnobLookup that crash recovery, `wgopt rollback`, the search loop and its watchdog use to find a
// journaled knob again. One definition, so every path that restores builds knobs the same way.
#include <string>

#include "actuators/knob.hpp"
#include "actuators/restore.hpp"

namespace wgopt::act {

// Host for `place` on this machine: RootedFiles("/") or NetnsFiles, the default ProcessRunner,
// nproc from the CPUs online (sysconf), proc_root "/proc".
Host make_host(const Place& place);

// find_knob on make_host(place); nullptr when the place is gone (its namespace was deleted) or the
// id no longer names a knob there (its device was removed).
KnobLookup default_knob_lookup();

}  // namespace wgopt::act

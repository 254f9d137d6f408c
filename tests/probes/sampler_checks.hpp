#pragma once
// What every Sampler result must satisfy, whoever ran it (tests/probes, tests/integration).
#include <catch2/catch.hpp>

#include "probes/sampler.hpp"

namespace wgopt::probes {

// Per-second CPU shares are non-negative and add up to 100 %, IRQ deltas positive, and the summary
// has a row per core.
inline void check_sane(const SamplerResult& r) {
  for (const auto& s : r.seconds) {
    CHECK(s.seconds > 0);
    for (const auto& c : s.cpu) {
      CHECK(c.ticks > 0);
      for (double v : {c.usr, c.sys, c.soft, c.irq, c.iowait, c.steal, c.idle}) CHECK(v >= 0);
      CHECK(c.usr + c.sys + c.soft + c.irq + c.iowait + c.steal + c.idle == Approx(100.0).margin(0.01));
    }
    for (const auto& d : s.irqs) CHECK(d.total > 0);
  }
  CHECK(r.summary.cores.size() == r.seconds.front().cpu.size());
  for (const auto& c : r.summary.cores) CHECK(c.usr + c.sys + c.soft + c.irq + c.iowait + c.steal + c.idle ==
                                              Approx(100.0).margin(0.01));
}

}  // namespace wgopt::probes

#include "actuators/irq_placement.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "common/error.hpp"

namespace wgopt::act {

const std::vector<std::string>& irq_placement_names() {
  static const std::vector<std::string> names{"spread", "one-core", "off-rps"};
  return names;
}

bool is_irq_placement_name(const std::string& value) {
  const auto& n = irq_placement_names();
  return std::find(n.begin(), n.end(), value) != n.end();
}

std::vector<CpuMask> placement_masks(const std::string& name, size_t n, int nproc, const CpuMask& rps) {
  std::vector<int> cpus;  // the CPUs the IRQs go round, in order
  if (name == "one-core") {
    cpus = {0};
  } else if (name == "spread" || name == "off-rps") {
    for (int c = 0; c < nproc; ++c) {
      if (name == "spread" || !rps.test(c)) cpus.push_back(c);
    }
    if (cpus.empty()) {  // RPS takes every CPU: nothing is off it
      for (int c = 0; c < nproc; ++c) cpus.push_back(c);
    }
  } else {
    throw Error(fmt::format("internal: '{}' is not an IRQ placement (use {})", name, fmt::join(irq_placement_names(), ", ")));
  }
  std::vector<CpuMask> out;
  for (size_t k = 0; k < n; ++k) out.push_back(CpuMask::single(cpus[k % cpus.size()], nproc));
  return out;
}

}  // namespace wgopt::act

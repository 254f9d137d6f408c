#pragma once
// This machine's eth0 (virtio-net, two queue IRQs), read and written without wgopt's code, for
// the tests that move its IRQs (test_nic_irqs.cpp, test_search_irqs.cpp): which IRQs are its queues',
// their masks, and a guard that puts every mask back byte for byte whatever the test does.
#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli_helpers.hpp"
#include "common/util.hpp"

namespace wgopt::itest {

inline std::string affinity_path(int irq) { return "/proc/irq/" + std::to_string(irq) + "/smp_affinity"; }

// eth0's queue IRQs: the MSI IRQs of the PCI function above /sys/class/net/eth0/device, less its
// control IRQ (virtioN-config).
inline std::vector<int> eth0_queue_irqs() {
  namespace fs = std::filesystem;
  fs::path dev = fs::canonical("/sys/class/net/eth0/device");
  while (!dev.empty() && dev != "/" && !fs::exists(dev / "msi_irqs")) dev = dev.parent_path();
  std::vector<int> msi;
  if (fs::exists(dev / "msi_irqs")) {
    for (const auto& e : fs::directory_iterator(dev / "msi_irqs")) msi.push_back(std::stoi(e.path().filename().string()));
  }
  std::vector<int> out;
  for (const auto& line : split_lines(slurp("/proc/interrupts"))) {
    auto w = split_ws(line);
    if (w.size() < 3 || !w[0].ends_with(':') || w[0].find_first_not_of("0123456789:") != std::string::npos) continue;
    const int irq = std::stoi(w[0]);
    if (std::find(msi.begin(), msi.end(), irq) != msi.end() && !w.back().ends_with("-config")) out.push_back(irq);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every IRQ with an smp_affinity file (irqbalance may move any of them).
inline std::vector<int> all_irqs() {
  std::vector<int> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc/irq")) {
    const auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") == std::string::npos && std::filesystem::exists(e.path() / "smp_affinity")) {
      out.push_back(std::stoi(name));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Puts every IRQ's smp_affinity back to the bytes it had when constructed (an IRQ the kernel will
// not move, such as a per-CPU timer, refuses the write: that one never moved either).
struct IrqGuard {
  std::map<int, std::string> saved;
  explicit IrqGuard(const std::vector<int>& irqs) {
    for (int irq : irqs) saved[irq] = slurp(affinity_path(irq));
  }
  ~IrqGuard() {
    for (const auto& [irq, bytes] : saved) {
      if (slurp(affinity_path(irq)) != bytes) write_text(affinity_path(irq), bytes);
    }
  }
};

// smp_affinity of each IRQ, trimmed.
inline std::vector<std::string> masks(const std::vector<int>& irqs) {
  std::vector<std::string> out;
  for (int irq : irqs) out.push_back(trim(slurp(affinity_path(irq))));
  return out;
}

}  // namespace wgopt::itest

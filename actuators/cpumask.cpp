#include "actuators/cpumask.hpp"

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::act {

CpuMask::CpuMask(int ncpus) : ncpus_(ncpus), words_(static_cast<size_t>((ncpus + 31) / 32), 0u) {
  if (ncpus < 1) throw Error(fmt::format("internal: a CPU mask needs at least one CPU, got {}", ncpus));
}

CpuMask CpuMask::all(int ncpus) {
  CpuMask m(ncpus);
  for (int c = 0; c < ncpus; ++c) m.set(c);
  return m;
}

CpuMask CpuMask::single(int cpu, int ncpus) {
  CpuMask m(ncpus);
  m.set(cpu);
  return m;
}

bool CpuMask::test(int cpu) const {
  if (cpu < 0 || cpu >= ncpus_) return false;
  return (words_[static_cast<size_t>(cpu / 32)] >> (cpu % 32)) & 1u;
}

void CpuMask::set(int cpu) {
  if (cpu < 0 || cpu >= ncpus_) throw Error(fmt::format("internal: CPU {} outside a {}-CPU mask", cpu, ncpus_));
  words_[static_cast<size_t>(cpu / 32)] |= 1u << (cpu % 32);
}

bool CpuMask::empty() const {
  for (auto w : words_) {
    if (w) return false;
  }
  return true;
}

int CpuMask::count() const {
  int n = 0;
  for (auto w : words_) n += __builtin_popcount(w);
  return n;
}

CpuMask CpuMask::parse(const std::string& text, int ncpus, const std::string& what) {
  const std::string t = trim(text);
  // The example: every CPU of a machine up to 256 CPUs (8 groups); wider (export checks against 4096 when the
  // profile does not say) a short one, not 128 groups of ffffffff on one line.
  const std::string example = ncpus <= 256 ? CpuMask::all(ncpus).canonical() : "f or ff,ffffffff";
  auto bad = [&] {
    return UsageError(fmt::format("{} '{}' is not a CPU mask: use hex in comma-separated 32-bit groups, e.g. {}", what, one_line(text, 80),
                                  example));
  };
  if (t.empty()) throw bad();
  std::vector<std::string> groups = split(t, ',');
  std::vector<uint32_t> words;  // least significant first
  for (auto it = groups.rbegin(); it != groups.rend(); ++it) {
    const std::string& g = *it;
    if (g.empty() || g.size() > 8) throw bad();
    uint32_t v = 0;
    for (char c : g) {
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else throw bad();
      v = (v << 4) | static_cast<uint32_t>(d);
    }
    words.push_back(v);
  }
  CpuMask m(ncpus);
  for (size_t i = 0; i < words.size(); ++i) {
    for (int b = 0; b < 32; ++b) {
      if (!((words[i] >> b) & 1u)) continue;
      const int cpu = static_cast<int>(i) * 32 + b;
      if (cpu >= ncpus) {
        throw UsageError(fmt::format("{} '{}' is too wide: this machine has {} CPUs (bit {} set), use at most {}",
                                     what, one_line(text, 80), ncpus, cpu, ncpus <= 256 ? CpuMask::all(ncpus).canonical() : "its CPUs' bits"));
      }
      m.set(cpu);
    }
  }
  return m;
}

std::string CpuMask::canonical() const {
  size_t top = words_.size();
  while (top > 1 && words_[top - 1] == 0) --top;
  std::string out = fmt::format("{:x}", words_[top - 1]);
  for (size_t i = top - 1; i-- > 0;) out += fmt::format(",{:08x}", words_[i]);
  return out;
}

std::string CpuMask::kernel_format() const {
  // The kernel's %*pb: the first group carries only the bits the width needs.
  const int top_bits = ncpus_ % 32 == 0 ? 32 : ncpus_ % 32;
  const int top_digits = (top_bits + 3) / 4;
  std::string out = fmt::format("{:0{}x}", words_.back(), top_digits);
  for (size_t i = words_.size() - 1; i-- > 0;) out += fmt::format(",{:08x}", words_[i]);
  return out;
}

}  // namespace wgopt::act

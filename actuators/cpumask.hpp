#pragma once
// CPU masks as the kernel reads and prints them (rps_cpus, /proc/irq/N/smp_affinity): hex in
// comma-separated 32-bit groups, most significant group first. The kernel refuses a mask with a
// bit at or above nr_cpu_ids with EOVERFLOW ("Value too large for defined data type"), so every
// mask we build or accept is checked against the machine's CPU count before it is written.
#include <cstdint>
#include <string>
#include <vector>

namespace wgopt::act {

class CpuMask {
 public:
  CpuMask() = default;
  explicit CpuMask(int ncpus);  // all bits clear, `ncpus` wide

  // Parses "3", "ff", "00000000,00000001", "1,00000000" (whitespace and a trailing newline
  // ignored). Throws UsageError naming `what` if the text is not a mask or has a bit at or above
  // `ncpus` ("mask 'ff' for eth0/rps_cpus is too wide: this machine has 4 CPUs, use at most f").
  static CpuMask parse(const std::string& text, int ncpus, const std::string& what = "mask");
  static CpuMask all(int ncpus);      // every CPU: 2 -> "3", 4 -> "f", 40 -> "ff,ffffffff"
  static CpuMask single(int cpu, int ncpus);

  int width() const { return ncpus_; }
  bool test(int cpu) const;
  void set(int cpu);
  bool empty() const;
  int count() const;

  // Canonical: no leading zero groups, no leading zeros in the first group, other groups 8 digits
  // ("0", "3", "1,00000000").
  std::string canonical() const;
  // As the kernel prints it for a machine of width() CPUs: every group present, the first one
  // zero-padded to (width % 32) bits ("00000000,00000003" for 40 CPUs is "00,00000003").
  std::string kernel_format() const;

  bool operator==(const CpuMask& o) const { return words_ == o.words_; }

 private:
  int ncpus_ = 0;
  std::vector<uint32_t> words_;  // words_[0] = CPUs 0..31
};

}  // namespace wgopt::act

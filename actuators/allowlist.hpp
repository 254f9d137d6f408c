#pragma once
// What wgopt may ever write: networking sysctls, network devices' sysfs attributes and IRQ
// affinities. Checked twice: knob ids before a transaction reads anything (validate_knob_id), and
// every path at write time (GuardedFiles), so a knob with a bug cannot write elsewhere either.
#include <memory>
#include <optional>
#include <string>

#include "common/files.hpp"

namespace wgopt::act {

// True for /proc/sys/net/..., /sys/class/net/IFACE/..., /proc/irq/N/smp_affinity{,_list},
// with no ".." component and only [A-Za-z0-9_.,:/-] characters.
bool is_allowed_write_path(const std::string& path);

// nullopt if `id` is a well-formed knob id: a sysctl under net. ("net.core.rmem_max"), a device
// knob "IFACE/knob[/sub]" with a valid interface name, or a service name ("irqbalance").
// Otherwise one line naming the id and the rule it breaks.
std::optional<std::string> knob_id_problem(const std::string& id);

// Files that refuse (UsageError naming the path) writes outside the allowlist; reads and the
// writability question pass through.
class GuardedFiles : public Files {
 public:
  explicit GuardedFiles(std::shared_ptr<Files> inner) : inner_(std::move(inner)) {}
  std::optional<std::string> read(const std::string& path) override { return inner_->read(path); }
  void write(const std::string& path, const std::string& value) override;
  bool exists(const std::string& path) override { return inner_->exists(path); }
  bool writable(const std::string& path) override { return inner_->writable(path); }
  std::vector<std::string> list(const std::string& dir) override { return inner_->list(dir); }
  std::string describe() const override { return inner_->describe(); }

 private:
  std::shared_ptr<Files> inner_;
};

}  // namespace wgopt::act

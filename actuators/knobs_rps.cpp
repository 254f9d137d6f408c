// IFACE/rps_cpus and IFACE/rps_flow_cnt: one value for every queues/rx-N of the device (the guide
// sets them all alike). The value is one mask / count for all queues, or, when the queues differ
// (as a host may have them), one per queue separated by spaces in rx-N order, so any original can
// be restored exactly.
#include <algorithm>
#include <fmt/format.h>

#include "actuators/cpumask.hpp"
#include "actuators/knob_kinds.hpp"
#include "actuators/knobs_common.hpp"
#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::act {

namespace {

std::vector<std::string> rx_queues(const Host& host, const std::string& ifname) {
  std::vector<std::string> out;
  for (const auto& q : host.files->list("/sys/class/net/" + ifname + "/queues")) {
    if (q.starts_with("rx-")) out.push_back(q);
  }
  // rx-10 after rx-9: by number, not by text.
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return std::stoi(a.substr(3)) < std::stoi(b.substr(3));
  });
  return out;
}

class RpsKnob : public KnobBase {
 public:
  RpsKnob(const Host& host, Descriptor d, std::string file) : KnobBase(host, std::move(d)), file_(std::move(file)) {}

  Presence presence() override {
    auto qs = rx_queues(host_, d_.device);
    if (qs.empty()) return Presence{false, false, "no such queue: " + d_.device + " has no rx queues in sysfs"};
    return file_presence(host_, path(qs[0]));
  }

  std::string read() override {
    auto qs = rx_queues(host_, d_.device);
    if (qs.empty()) throw Error(fmt::format("cannot read {}: {} has no rx queues", d_.id, d_.device));
    std::vector<std::string> values;
    for (const auto& q : qs) values.push_back(canonical_read(read_or_throw(host_, path(q), d_.id)));
    if (std::all_of(values.begin(), values.end(), [&](const auto& v) { return v == values[0]; })) return values[0];
    return fmt::format("{}", fmt::join(values, " "));
  }

  std::string validate(const std::string& value) const override {
    auto parts = split_ws(value);
    if (parts.empty()) throw UsageError(fmt::format("value for {} is empty: {}", d_.id, hint()));
    std::vector<std::string> out;
    for (const auto& p : parts) out.push_back(one(p, true));
    return fmt::format("{}", fmt::join(out, " "));
  }

  void apply(const std::string& canonical) override {
    auto qs = rx_queues(host_, d_.device);
    auto parts = split_ws(canonical);
    if (parts.size() != 1 && parts.size() != qs.size()) {
      throw UsageError(fmt::format("value '{}' for {} has {} per-queue values but {} has {} rx queues: give one value for all",
                                   canonical, d_.id, parts.size(), d_.device, qs.size()));
    }
    for (size_t i = 0; i < qs.size(); ++i) {
      // An original is written back as it was read, even one a newer kernel would refuse.
      const std::string v = one(parts.size() == 1 ? parts[0] : parts[i], false);
      host_.files->write(path(qs[i]), v + "\n");
    }
  }

  bool equal(const std::string& a, const std::string& b) const override {
    auto pa = split_ws(a), pb = split_ws(b);
    if (pa.empty() || pb.empty()) return false;
    const size_t n = std::max(pa.size(), pb.size());
    if ((pa.size() != 1 && pa.size() != n) || (pb.size() != 1 && pb.size() != n)) return false;
    try {
      for (size_t i = 0; i < n; ++i) {
        const std::string& x = pa.size() == 1 ? pa[0] : pa[i];
        const std::string& y = pb.size() == 1 ? pb[0] : pb[i];
        if (is_mask()) {
          const int w = std::max(host_.nproc, 32 * static_cast<int>(std::max(split(x, ',').size(), split(y, ',').size())));
          if (!(CpuMask::parse(x, w) == CpuMask::parse(y, w))) return false;
        } else if (round_pow2(std::stoll(x)) != round_pow2(std::stoll(y))) {
          return false;
        }
      }
    } catch (const std::exception&) {
      return false;
    }
    return true;
  }

  // A channel change undone first re-creates the rx queues it had removed, at the kernel's default
  // (0: off, or net.core.rps_default_mask): `found` is still wgopt's doing when the queues are as
  // many as `goal` gives values for (the count the channels were restored to), its first queues
  // hold `ours` (one value for all, or one per queue) and the queues after them the default.
  // Queues someone else added, or zeroed, do not fit that and are left alone.
  bool still_ours(const std::string& found, const std::string& ours, const std::string& goal) const override {
    if (equal(found, ours)) return true;
    const auto pf = split_ws(found), po = split_ws(ours), pg = split_ws(goal);
    if (po.empty() || pf.size() <= 1 || (pg.size() != 1 && pg.size() != pf.size())) return false;
    std::string fresh = "0";
    if (is_mask()) {
      if (auto m = host_.files->read("/proc/sys/net/core/rps_default_mask")) fresh = canonical_read(trim(*m));
    }
    size_t lead = 0;  // the first queues, holding ours
    if (po.size() == 1) {
      while (lead < pf.size() && equal(pf[lead], po[0])) ++lead;
    } else {
      if (pf.size() <= po.size()) return false;
      for (; lead < po.size(); ++lead) {
        if (!equal(pf[lead], po[lead])) return false;
      }
    }
    if (lead == 0) return false;
    return std::all_of(pf.begin() + static_cast<long>(lead), pf.end(), [&](const std::string& v) { return equal(v, fresh); });
  }

 private:
  bool is_mask() const { return d_.type == ValueType::Mask; }
  std::string path(const std::string& q) const { return "/sys/class/net/" + d_.device + "/queues/" + q + "/" + file_; }
  std::string hint() const {
    return is_mask() ? fmt::format("use a CPU mask such as {} (all {} CPUs) or 0", CpuMask::all(host_.nproc).canonical(), host_.nproc)
                     : fmt::format("use an integer in [{}, {}]", d_.domain.min, d_.domain.max);
  }
  // One queue's value as the user typed it (as_given; else an original read back) -> canonical,
  // checked against this machine.
  std::string one(const std::string& v, bool as_given) const {
    if (is_mask()) return CpuMask::parse(v, host_.nproc, fmt::format("mask for {}", d_.id)).canonical();
    // As the kernel stores it (rounded up to a power of two), so `set` reports what the host holds.
    const int64_t n = parse_int_in(v, d_);
    if (as_given && d_.domain.zero_off && n > 0 && n < d_.domain.min_on && !holds_now(n)) {
      throw UsageError(fmt::format("value '{}' for {}: this kernel refuses an RFS table of fewer than {} flows: use 0 (off) or {} and up",
                                   v, d_.id, d_.domain.min_on, d_.domain.min_on));
    }
    return std::to_string(round_pow2(n));
  }
  // Whether a queue holds `n` now: a kernel that took it (before 6.18's refusal) takes it again, so a
  // `wgopt show` profile of such a host applies there.
  bool holds_now(int64_t n) const {
    for (const auto& q : rx_queues(host_, d_.device)) {
      const auto v = host_.files->read(path(q));
      if (v && trim(*v) == std::to_string(n)) return true;
    }
    return false;
  }
  // As the kernel printed it -> canonical. The kernel prints nr_cpu_ids bits, which can exceed nproc.
  std::string canonical_read(const std::string& v) const {
    if (!is_mask()) return trim(v);
    const int w = std::max(host_.nproc, 32 * static_cast<int>(split(v, ',').size()));
    return CpuMask::parse(v, w, d_.id).canonical();
  }
  std::string file_;
};

}  // namespace

KnobPtr make_rps_knob(const Host& host, const std::string& ifname, const std::string& name) {
  if (name != "rps_cpus" && name != "rps_flow_cnt") return nullptr;
  Descriptor d = descriptor_for(ifname + "/" + name);  // kind, scope, type, order: knob_kinds.hpp
  if (name == "rps_cpus") {
    d.domain.min = 0;
    d.domain.mask_bits = host.nproc;
    d.domain.max = host.nproc >= 63 ? INT64_MAX : (int64_t{1} << host.nproc) - 1;
    d.reason = "RPS: CPUs that share the protocol work of packets received on every rx queue (0 = off)";
    return std::make_unique<RpsKnob>(host, std::move(d), "rps_cpus");
  }
  if (name == "rps_flow_cnt") {
    d.domain.min = 0;
    d.domain.max = 1 << 20;
    d.domain.pow2 = true;
    d.domain.zero_off = true;
    d.domain.min_on = 2;  // a table of one flow: kernel 6.18 refuses 1 (EINVAL), 2 and up are rounded up
    d.reason = "RFS: flow entries per rx queue (the kernel rounds up to a power of two, from 2; 0 = off)";
    return std::make_unique<RpsKnob>(host, std::move(d), "rps_flow_cnt");
  }
  return nullptr;
}

}  // namespace wgopt::act

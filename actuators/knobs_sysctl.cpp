// sysctl knobs: one file under /proc/sys each, an integer, a triple (tcp_rmem / tcp_wmem) or a
// name (default_qdisc, tcp_congestion_control).
#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <spdlog/spdlog.h>
#include <utility>

#include "actuators/knob_kinds.hpp"
#include "actuators/knobs_common.hpp"
#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::act {

namespace {

struct SysctlSpec {
  const char* name;
  ValueType type;
  int64_t min, max;
  bool pow2, log;
  bool global_only;  // absent in a child network namespace
  int order;
  const char* reason;
};

// Ranges are what is sensible to search and accept, inside what the kernel accepts; the host's
// current value always widens them so it can be restored. tests/integration/test_knob_domains.cpp
// writes both ends of each range on the real kernel.
// netdev_budget_usecs: since 6.13 (and stable backports) the kernel refuses values below two
// jiffies, 2 * USEC_PER_SEC / HZ (net/core/sysctl_net_core.c): 8000 at this VM's HZ 250 (its
// default, so the current value widens the range down to it), 20000 at HZ 100, the smallest HZ;
// 20000 is therefore accepted by every kernel.
const SysctlSpec kSpecs[] = {
    {"net.core.netdev_max_backlog", ValueType::Int, 100, 1000000, false, true, true, 50,
     "per-CPU backlog queue depth; RPS queues packets here and drops them when it overflows (softnet_stat column 2)"},
    {"net.core.netdev_budget", ValueType::Int, 50, 10000, false, true, true, 50,
     "packets one NET_RX softirq run may process before yielding"},
    {"net.core.netdev_budget_usecs", ValueType::Int, 20000, 100000, false, true, true, 50,
     "microseconds one NET_RX softirq run may take before yielding"},
    {"net.core.rmem_max", ValueType::Int, 4096, 1 << 30, true, true, false, 45,
     "largest receive buffer a socket may ask for (SO_RCVBUF) without privilege; a socket that does not ask gets rmem_default"},
    {"net.core.wmem_max", ValueType::Int, 4096, 1 << 30, true, true, false, 45,
     "largest send buffer a socket may ask for (SO_SNDBUF)"},
    {"net.core.rmem_default", ValueType::Int, 4096, 1 << 30, true, true, false, 46,
     "receive buffer of a socket that does not ask (UDP sockets of the tunnel)"},
    {"net.core.wmem_default", ValueType::Int, 4096, 1 << 30, true, true, false, 46,
     "send buffer of a socket that does not ask"},
    {"net.core.rps_sock_flow_entries", ValueType::Int, 0, 1 << 20, true, false, true, 35,
     "RFS: size of the global flow table that steers a flow to the CPU of its consumer (0 = RFS off)"},
    {"net.core.default_qdisc", ValueType::Enum, 0, 0, false, false, true, 55,
     "qdisc attached to devices created from now on (fq is what BBR wants when the kernel has it)"},
    {"net.ipv4.tcp_rmem", ValueType::Triple, 4096, 1 << 30, true, true, false, 47,
     "TCP receive buffer min / default / max; the max bounds the window over the tunnel's BDP"},
    {"net.ipv4.tcp_wmem", ValueType::Triple, 4096, 1 << 30, true, true, false, 47,
     "TCP send buffer min / default / max"},
    {"net.ipv4.tcp_congestion_control", ValueType::Enum, 0, 0, false, false, false, 48,
     "TCP congestion control of new connections (bbr backs off less over a tunnel than cubic)"},
};

std::string sysctl_path(const std::string& name) {
  std::string p = "/proc/sys/" + name;
  std::replace(p.begin() + 10, p.end(), '.', '/');
  return p;
}

std::vector<int64_t> parse_triple(const std::string& value, const Descriptor& d) {
  auto words = split_ws(value);
  auto bad = [&] {
    return UsageError(fmt::format(
        "value '{}' for {} is not legal: use three integers min <= default <= max in [{}, {}], e.g. \"4096 131072 16777216\"",
        value, d.id, d.domain.min, d.domain.max));
  };
  if (words.size() != 3) throw bad();
  std::vector<int64_t> v;
  for (const auto& w : words) {
    try {
      v.push_back(parse_int_in(w, d));
    } catch (const UsageError&) {
      throw bad();
    }
  }
  if (v[0] > v[1] || v[1] > v[2]) throw bad();
  return v;
}

// rps_sock_flow_entries is stored rounded up to a power of two (net/core/sysctl_net_core.c).
int64_t kernel_rounded(int64_t v) {
  if (v <= 0) return 0;
  int64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

class SysctlKnob : public KnobBase {
 public:
  SysctlKnob(const Host& host, Descriptor d, bool global_only)
      : KnobBase(host, std::move(d)), path_(sysctl_path(d_.id)), global_only_(global_only) {}

  Presence presence() override {
    Presence p = file_presence(host_, path_);
    if (!p.present) {
      p.why_not = global_only_ && !host_.place.is_host() ? "global-only: not in a network namespace (set it on the host)"
                                                        : "not in this kernel";
    }
    return p;
  }

  std::string read() override {
    std::string v = read_or_throw(host_, path_, d_.id);
    if (d_.type == ValueType::Triple) {
      auto w = split_ws(v);
      v.clear();
      for (const auto& x : w) v += (v.empty() ? "" : " ") + x;
    }
    return v;
  }

  std::string validate(const std::string& value) const override {
    switch (d_.type) {
      case ValueType::Int: {
        const int64_t v = parse_int_in(value, d_);
        // The kernel rounds the RFS table up to a power of two: canonical is what the host will hold.
        return std::to_string(d_.id == "net.core.rps_sock_flow_entries" ? round_pow2(v) : v);
      }
      case ValueType::Triple: {
        auto v = parse_triple(value, d_);
        return fmt::format("{} {} {}", v[0], v[1], v[2]);
      }
      default: {
        const std::string t = trim(value);
        const bool offered = std::find(d_.domain.choices.begin(), d_.domain.choices.end(), t) != d_.domain.choices.end();
        if (!offered && d_.id == "net.core.default_qdisc" && refused_as_default_qdisc(t)) {
          throw UsageError(fmt::format("value '{}' for {} cannot be a default qdisc (the kernel attaches it with no parameters, "
                                       "and fails every device created after to noqueue): use one of {}",
                                       one_line(value, 40), d_.id, fmt::join(d_.domain.choices, ", ")));
        }
        if (!offered) {
          throw UsageError(fmt::format("value '{}' for {} is not offered by this kernel: use one of {}", value, d_.id,
                                       fmt::join(d_.domain.choices, ", ")));
        }
        return t;
      }
    }
  }

  void apply(const std::string& canonical) override {
    load_module_for(canonical);
    host_.files->write(path_, canonical + "\n");
  }

  std::vector<std::string> take_notes() override { return std::exchange(notes_, {}); }

  // Congestion controls offered because their module can be loaded: choice -> module.
  std::map<std::string, std::string> modules;

  bool equal(const std::string& a, const std::string& b) const override {
    if (d_.type == ValueType::Enum) return trim(a) == trim(b);
    auto wa = split_ws(a), wb = split_ws(b);
    if (wa.size() != wb.size()) return false;
    for (size_t i = 0; i < wa.size(); ++i) {
      int64_t x = 0, y = 0;
      try {
        x = std::stoll(wa[i]);
        y = std::stoll(wb[i]);
      } catch (...) {
        return false;
      }
      if (d_.id == "net.core.rps_sock_flow_entries") x = kernel_rounded(x), y = kernel_rounded(y);
      if (x != y) return false;
    }
    return true;
  }

 private:
  // `modprobe tcp_bbr` before the kernel is asked for bbr, unless it has it by now. A module stays
  // loaded after a rollback: that is reported, as a warning and in the transaction's notes.
  void load_module_for(const std::string& value) {
    auto m = modules.find(trim(value));
    if (m == modules.end()) return;
    auto available = split_ws(host_.files->read("/proc/sys/net/ipv4/tcp_available_congestion_control").value_or(""));
    if (std::find(available.begin(), available.end(), m->first) != available.end()) return;
    run_or_throw(host_, {"modprobe", m->second}, d_.id, value);
    notes_.push_back(fmt::format("loaded kernel module {} for {}={}; a rollback does not unload it (rmmod {} does, once "
                                 "no socket uses it)", m->second, d_.id, m->first, m->second));
    spdlog::warn("{}", notes_.back());
  }
  std::string path_;
  bool global_only_;
  std::vector<std::string> notes_;
};

std::vector<std::string> words_of(const Host& host, const std::string& path) {
  auto c = host.files->read(path);
  return c ? split_ws(*c) : std::vector<std::string>{};
}

}  // namespace

std::vector<std::string> sysctl_names() {
  std::vector<std::string> out;
  for (const auto& s : kSpecs) out.push_back(s.name);
  return out;
}

std::optional<SysctlKind> sysctl_kind(const std::string& name) {
  for (const auto& s : kSpecs) {
    if (name == s.name) return SysctlKind{s.type, s.global_only, s.order};
  }
  return std::nullopt;
}

KnobPtr make_sysctl_knob(const Host& host, const std::string& name, const std::vector<std::string>& qdiscs) {
  const SysctlSpec* spec = nullptr;
  for (const auto& s : kSpecs) {
    if (name == s.name) spec = &s;
  }
  if (!spec) return nullptr;
  Descriptor d = descriptor_for(spec->name);  // kind, scope, type, order (knob_kinds.hpp, from kSpecs)
  d.domain.min = spec->min;
  d.domain.max = spec->max;
  d.domain.pow2 = spec->pow2;
  d.domain.zero_off = spec->pow2 && spec->min == 0;  // rps_sock_flow_entries: 0 = RFS off
  d.domain.log = spec->log;
  d.reason = spec->reason;
  const std::string path = sysctl_path(d.id);
  auto current = host.files->read(path);
  std::map<std::string, std::string> loadable;  // module -> congestion control it adds
  if (d.id == "net.core.default_qdisc") {
    for (const auto& q : qdiscs) {  // only what the kernel attaches with no parameters
      if (!refused_as_default_qdisc(q)) d.domain.choices.push_back(q);
    }
  } else if (d.id == "net.ipv4.tcp_congestion_control") {
    // A child namespace may only pick algorithms the host allows (the kernel answers EPERM). A wgopt
    // started inside one (a peer's agent under `ip netns exec`, a container) has Place::host() too:
    // there net.core.rmem_max, a sysctl of the initial namespace only, is read-only (found by an
    // exploratory test: the peer's space offered cubic, and every trial that drew it was infeasible).
    // Only root can tell by it: for anyone else no sysctl is writable (and nothing is tuned either).
    const bool child = !host.place.is_host() || (running_as_root() && host.files->exists("/proc/sys/net/core/rmem_max") &&
                                                 !host.files->writable("/proc/sys/net/core/rmem_max"));
    auto available = words_of(host, "/proc/sys/net/ipv4/tcp_available_congestion_control");
    auto allowed = words_of(host, "/proc/sys/net/ipv4/tcp_allowed_congestion_control");
    for (const auto& a : available) {
      if (!child || allowed.empty() || std::find(allowed.begin(), allowed.end(), a) != allowed.end())
        d.domain.choices.push_back(a);
    }
    // BBR (the guide's §4.8) is offered on the host when its module can be loaded; a child
    // namespace cannot load modules and may only pick what the host allows.
    if (!child) {
      for (const std::string cc : {"bbr"}) {
        if (std::find(d.domain.choices.begin(), d.domain.choices.end(), cc) != d.domain.choices.end()) continue;
        const auto state = kernel_module_state(host, "tcp_" + cc);
        if (state == ModuleState::Absent) continue;
        d.domain.choices.push_back(cc);
        if (state == ModuleState::Loadable) loadable["tcp_" + cc] = cc;
      }
    }
  }
  if (current) {
    auto words = split_ws(*current);
    if (d.type == ValueType::Enum && words.size() == 1 &&
        std::find(d.domain.choices.begin(), d.domain.choices.end(), words[0]) == d.domain.choices.end()) {
      d.domain.choices.push_back(words[0]);
    }
    if (d.type != ValueType::Enum) {
      for (const auto& w : words) {
        try {
          widen(d.domain, std::stoll(w));
        } catch (...) {
        }
      }
    }
  }
  auto knob = std::make_unique<SysctlKnob>(host, std::move(d), spec->global_only);
  for (const auto& [module, cc] : loadable) knob->modules[cc] = module;
  return knob;
}

}  // namespace wgopt::act

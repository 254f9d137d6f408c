// The knob kinds' static table and host-free value rules (knob_kinds.hpp). The rules were the
// export's own Checker (experiments/export/export_model.cpp) until apply and export shared them.
#include "actuators/knob_kinds.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <regex>
#include <set>

#include "actuators/cpumask.hpp"
#include "actuators/irq_placement.hpp"
#include "actuators/knobs_common.hpp"
#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::act {

namespace {

// Device knob kinds, by the kind their NAME maps to (kind_of_device()). The orders: channels first
// (RPS masks, IRQ affinity and the RSS table act on the queues it creates), rings, offloads, the RSS
// hash and table, RPS after channels (the new rx queues must exist), IRQ placement after RPS
// (off-rps reads it) and after irqbalance's stop, the qdisc, txqueuelen, MTU last (a wrong MTU can
// cut the peer off, everything else is in place by then). IRQ masks go back after the channels and
// rings that re-create IRQs (restore order 9) and resolve against the IRQs that exist when written.
// The RPS masks and flow counts, one per rx queue, go back after the channels too (restore orders
// 7, 6): restored first, they met the transaction's queue count, not the original one, and the
// originals of the queues it had removed were lost (a rollback of channels/rx=1 + rps_cpus failed,
// and its retry took its own values for someone else's). The RSS table stays before the channels:
// once set it pins the queues it spreads over, and the kernel refuses fewer channels than it uses.
const KindSpec kDeviceKinds[] = {
    {"channels", Scope::Device, ValueType::Int, 10},
    {"rings", Scope::Device, ValueType::Int, 15},
    {"offload", Scope::Device, ValueType::Bool, 20},
    {"rss_hash", Scope::Device, ValueType::Enum, 25},
    {"rss_equal", Scope::Device, ValueType::Int, 26},
    {"rps_cpus", Scope::Device, ValueType::Mask, 30, 7},
    {"rps_flow_cnt", Scope::Device, ValueType::Int, 31, 6},
    {"irq_affinity", Scope::Irq, ValueType::Enum, 32, 9, true},
    {"qdisc", Scope::Device, ValueType::Enum, 60},
    {"txqueuelen", Scope::Device, ValueType::Int, 70},
    {"mtu", Scope::Device, ValueType::Int, 90},
};
// irqbalance: stopped before IRQ masks are written, or it rewrites them.
const KindSpec kService{"service", Scope::Service, ValueType::Service, 5};

std::string kind_of_device(const std::string& name) {
  if (name.starts_with("offload/")) return "offload";
  if (name == "rss_hash_udp4") return "rss_hash";
  return name.substr(0, name.find('/'));
}

struct Checker {
  std::string id;
  std::string value;
  std::optional<int> nproc;

  UsageError bad(const std::string& rule) const {
    return UsageError(fmt::format("knob {} has value '{}': {}", id, one_line(value, 80), rule));
  }
  int64_t integer(const std::string& text, int64_t min, int64_t max) const {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
      throw bad(fmt::format("use an integer in [{}, {}]", min, max));
    }
    return v;
  }
  std::string integers(int64_t min, int64_t max) const {
    std::vector<std::string> out;
    for (const auto& w : split_ws(value)) out.push_back(std::to_string(integer(w, min, max)));
    if (out.empty()) throw bad("it is empty");
    return fmt::format("{}", fmt::join(out, " "));
  }
  std::string mask(const std::string& text) const {
    // Without the CPU count the mask is checked against 4096 CPUs; the kernel still refuses a
    // too-wide mask when it is written.
    return CpuMask::parse(text, nproc.value_or(4096), fmt::format("mask for {}", id)).canonical();
  }
  std::string masks() const {
    std::vector<std::string> out;
    for (const auto& w : split_ws(value)) out.push_back(mask(w));
    if (out.empty()) throw bad("use a CPU mask such as 3, or 0");
    return fmt::format("{}", fmt::join(out, " "));
  }
  std::string word(const std::vector<std::string>& allowed, const std::string& what) const {
    const std::string t = trim(value);
    if (std::find(allowed.begin(), allowed.end(), t) == allowed.end()) {
      throw bad(fmt::format("use {} ({})", fmt::join(allowed, ", "), what));
    }
    return t;
  }
};

std::string sysctl_value(const Checker& c, ValueType type) {
  if (c.id == "net.core.default_qdisc" && refused_as_default_qdisc(trim(c.value))) {
    throw c.bad("it needs parameters a default cannot have (devices created after would get no queue): use fq, fq_codel or pfifo_fast");
  }
  if (type == ValueType::Triple) {
    auto w = split_ws(c.value);
    if (w.size() != 3) throw c.bad("use three integers min <= default <= max, e.g. \"4096 131072 16777216\"");
    int64_t a = c.integer(w[0], 1, INT32_MAX), b = c.integer(w[1], 1, INT32_MAX), m = c.integer(w[2], 1, INT32_MAX);
    if (a > b || b > m) throw c.bad("use three integers min <= default <= max, e.g. \"4096 131072 16777216\"");
    return fmt::format("{} {} {}", a, b, m);
  }
  if (type == ValueType::Enum) {
    static const std::regex name("[a-z][a-z0-9_]{0,31}");
    // Which names a host offers is the host's (checked where the knob is written); a qdisc given as
    // the congestion control, or the reverse, is wrong on every host (found by an exploratory test:
    // an export wrote them swapped into sysctl.d, and the hint named qdiscs for either).
    static const std::set<std::string> qdiscs{"pfifo_fast", "fq", "fq_codel", "fq_pie", "cake", "sfq", "pfifo", "bfifo", "htb", "tbf",
                                              "netem", "prio", "mq", "noqueue", "pie", "red", "codel", "sch_fq"};
    static const std::set<std::string> ccs{"reno", "cubic", "bbr", "bbr2", "bbr3", "htcp", "vegas", "westwood", "dctcp", "bic",
                                           "highspeed", "hybla", "illinois", "lp", "nv", "scalable", "veno", "yeah", "cdg"};
    const bool cc = c.id == "net.ipv4.tcp_congestion_control";
    const char* hint = cc ? "use a congestion control this kernel offers, such as bbr, cubic or reno" : "use a qdisc such as fq, fq_codel or pfifo_fast";
    const std::string t = trim(c.value);
    if (!std::regex_match(t, name)) throw c.bad(hint);
    if (cc && qdiscs.count(t)) throw c.bad(fmt::format("{} is a qdisc, not a congestion control: {}", t, hint));
    if (!cc && ccs.count(t)) throw c.bad(fmt::format("{} is a congestion control, not a qdisc: {}", t, hint));
    return t;
  }
  return std::to_string(c.integer(trim(c.value), 0, INT32_MAX));
}

std::string rss_hash_value(const Checker& c) {
  static const std::string letters = "mvtsdfn";
  const std::string t = trim(c.value);
  std::string out;
  for (char l : letters) {
    if (t.find(l) != std::string::npos) out += l;
  }
  if (t.empty() || out.size() != t.size() || t.find_first_not_of(letters) != std::string::npos) {
    throw c.bad("use ethtool's field letters from mvtsdfn once each, e.g. sdfn");
  }
  return out;
}

std::string rss_equal_value(const Checker& c) {
  const std::string t = trim(c.value);
  if (!t.starts_with("weight:")) return std::to_string(c.integer(t, 1, 4096));
  std::vector<std::string> out;
  int64_t sum = 0;
  for (const auto& w : split(t.substr(7), ',')) {
    sum += c.integer(w, 0, 1 << 16);
    out.push_back(std::to_string(c.integer(w, 0, 1 << 16)));
  }
  if (sum == 0) throw c.bad("use N or weight:a,b,... with at least one weight above 0");
  return fmt::format("weight:{}", fmt::join(out, ","));
}

std::string irq_value(const Checker& c) {
  if (is_irq_placement_name(trim(c.value))) return trim(c.value);
  const std::string m = c.masks();
  for (const auto& one : split_ws(m)) {
    if (one == "0") {
      throw c.bad(fmt::format("an IRQ needs at least one CPU: use {} or masks other than 0", fmt::join(irq_placement_names(), ", ")));
    }
  }
  return m;
}

std::string device_value(const Checker& c, const std::string& kind) {
  if (kind == "mtu") return std::to_string(c.integer(trim(c.value), 68, 65535));
  if (kind == "txqueuelen") return std::to_string(c.integer(trim(c.value), 0, INT32_MAX));
  if (kind == "rps_cpus") return c.masks();
  if (kind == "rps_flow_cnt") return c.integers(0, 1 << 20);
  if (kind == "channels" || kind == "rings") return std::to_string(c.integer(trim(c.value), 1, 1 << 20));
  if (kind == "offload") {
    const std::string t = trim(c.value);
    if (t == "on" || t == "true" || t == "1") return "on";
    if (t == "off" || t == "false" || t == "0") return "off";
    throw c.bad("use on or off");
  }
  if (kind == "rss_hash") return rss_hash_value(c);
  if (kind == "rss_equal") return rss_equal_value(c);
  if (kind == "irq_affinity") return irq_value(c);
  if (kind == "qdisc") {
    // The kinds `tc` can put at the root and the defaults a deleted root gives back.
    return c.word({"pfifo_fast", "pfifo", "bfifo", "noqueue", "mq", "fq", "fq_codel", "cake", "sfq", "prio", "htb", "tbf"},
                  "a root qdisc kind");
  }
  throw Error(fmt::format("internal: knob kind {} has no value rule in actuators/knob_kinds.cpp", kind));
}

}  // namespace

bool refused_as_default_qdisc(const std::string& qdisc) {
  static const std::set<std::string> refused{"htb", "tbf", "hfsc", "cbq", "drr", "qfq", "ets", "taprio", "mqprio", "cbs", "etf",
                                             "red", "gred", "choke", "plug", "ingress", "clsact", "noqueue", "mq", "multiq"};
  return refused.count(qdisc) > 0;
}

std::optional<KindSpec> kind_spec(const std::string& id) {
  if (id == "irqbalance") return kService;
  const auto slash = id.find('/');
  if (slash == std::string::npos) {
    auto s = sysctl_kind(id);
    if (!s) return std::nullopt;
    return KindSpec{"sysctl", s->global_only ? Scope::Global : Scope::Netns, s->type, s->order};
  }
  const std::string name = id.substr(slash + 1);
  const auto names = device_knob_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) return std::nullopt;
  const std::string kind = kind_of_device(name);
  for (const auto& k : kDeviceKinds) {
    if (kind == k.kind) return k;
  }
  throw Error(fmt::format("internal: device knob {} has no kind in actuators/knob_kinds.cpp", name));
}

Descriptor descriptor_for(const std::string& id) {
  const auto spec = kind_spec(id);
  if (!spec) throw Error(fmt::format("internal: knob {} has no kind in actuators/knob_kinds.cpp", id));
  Descriptor d;
  d.id = id;
  const auto slash = id.find('/');
  if (slash != std::string::npos && id != "irqbalance") d.device = id.substr(0, slash);
  d.kind = spec->kind;
  d.scope = spec->scope;
  d.type = spec->type;
  d.order = spec->order;
  d.restore_order = spec->restore_order;
  d.resolved_when_written = spec->resolved_when_written;
  return d;
}

std::string static_canonical(const std::string& id, const std::string& value, std::optional<int> nproc) {
  const auto spec = kind_spec(id);
  if (!spec) throw UsageError(fmt::format("unknown knob '{}': run `wgopt knobs` to list them", one_line(id, 80)));
  const Checker c{id, value, nproc};
  const std::string kind = spec->kind;
  if (kind == "service") return c.word({"active", "inactive"}, "the irqbalance service");
  if (kind == "sysctl") return sysctl_value(c, spec->type);
  return device_value(c, kind);
}

}  // namespace wgopt::act

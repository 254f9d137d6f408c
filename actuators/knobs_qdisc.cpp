// IFACE/qdisc: the device's root qdisc (`tc qdisc show|replace|del dev IF root`), and which qdisc
// kinds this kernel offers.
//
// Offered kinds come from the kernel's build config, never from trying on a live device:
// /proc/config.gz (through `zcat`) or /boot/config-RELEASE; CONFIG_NET_SCH_X=y is offered,
// =m only when the module is loaded (/sys/module/sch_x) or installed (/lib/modules/RELEASE/
// kernel/net/sched/sch_x.ko*). pfifo_fast is part of the core and always offered. Without any
// config, the loaded sch_* modules are all we can vouch for.
#include <algorithm>
#include <cctype>
#include <fmt/format.h>

#include "actuators/ethtool_parse.hpp"
#include "actuators/knob_kinds.hpp"
#include "actuators/knobs_common.hpp"
#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::act {

namespace {

// Kinds worth offering as a root qdisc for throughput work, and the arguments `tc` needs to
// create one that does not shape (htb with no classes sends everything through its direct
// queue; tbf at 100 Gbit/s never throttles this machine).
const std::vector<std::pair<std::string, std::vector<std::string>>> kKinds = {
    {"fq", {}}, {"fq_codel", {}}, {"cake", {}}, {"sfq", {}}, {"prio", {}},
    {"htb", {}}, {"tbf", {"rate", "100gbit", "burst", "1mb", "latency", "10ms"}},
};

// Kinds a device gets back when its root qdisc is deleted, never created by `tc`: noqueue (devices
// without a queue: WireGuard's, veth) and mq (multi-queue NICs). A profile or the host's own
// original may name one while the device holds another kind now (a search's candidate, an
// operator's change); apply() restores it by deleting the root.
const std::vector<std::string> kDeviceDefaults = {"noqueue", "mq"};

bool listed(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

class QdiscKnob : public KnobBase {
 public:
  QdiscKnob(const Host& host, Descriptor d) : KnobBase(host, std::move(d)) {
    auto r = host_.run({"tc", "qdisc", "show", "dev", d_.device});
    if (!r.ok()) {
      presence_ = {false, false, r.not_found ? "tc not found: install iproute2" : "tc qdisc show failed: " + r.brief()};
      return;
    }
    const std::string cur = parse_root_qdisc(r.out).kind;
    if (cur.empty()) {
      presence_ = {false, false, "no root qdisc: the device is down"};
      return;
    }
    if (!listed(d_.domain.choices, cur)) d_.domain.choices.push_back(cur);
    defaults_ = device_defaults(cur);
    presence_ = running_as_root() ? Presence{true, true, ""} : not_root_presence();
    // A root qdisc the knob could not put back as it is (its value is the kind alone) is never
    // changed: a shaper restored as `tbf rate 100gbit` or an htb without its classes stops shaping.
    const auto classes = host_.run({"tc", "class", "show", "dev", d_.device});
    const auto filters = host_.run({"tc", "filter", "show", "dev", d_.device});
    const std::string why = qdisc_not_restorable(r.out, classes.ok() ? classes.out : "", filters.ok() ? filters.out : "");
    if (!why.empty()) presence_ = {true, false, why + ": wgopt could not put it back exactly, so it leaves it alone"};
  }

  Presence presence() override { return presence_; }
  std::string read() override {
    auto r = host_.run({"tc", "qdisc", "show", "dev", d_.device});
    const std::string kind = r.ok() ? parse_root_qdisc(r.out).kind : "";
    if (kind.empty()) throw Error(fmt::format("cannot read {}: `tc qdisc show dev {}` {}", d_.id, d_.device, r.ok() ? "printed no root qdisc" : r.brief()));
    return kind;
  }
  std::string validate(const std::string& value) const override {
    const std::string t = trim(value);
    if (!listed(d_.domain.choices, t) && !listed(defaults_, t)) {
      throw UsageError(fmt::format("value '{}' for {} is not offered by this kernel: use one of {}", value, d_.id,
                                   fmt::join(d_.domain.choices, ", ")));
    }
    return t;
  }
  void apply(const std::string& canonical) override {
    if (read() == canonical) return;
    // Deleting the root gives the device its default qdisc back exactly (handle 0:); that is how
    // an original pfifo_fast / noqueue / mq is restored byte-for-byte.
    host_.run({"tc", "qdisc", "del", "dev", d_.device, "root"});
    if (read() == canonical) return;
    if (listed(kDeviceDefaults, canonical) && !listed(d_.domain.choices, canonical)) {
      throw Error(fmt::format("cannot set {} to {}: it is not this device's default qdisc (deleting the root gave {}); use one of {}",
                              d_.id, canonical, read(), fmt::join(d_.domain.choices, ", ")));
    }
    std::vector<std::string> argv{"tc", "qdisc", "replace", "dev", d_.device, "root", canonical};
    for (const auto& a : qdisc_create_args(canonical)) argv.push_back(a);
    run_or_throw(host_, argv, d_.id, canonical);
  }

 private:
  // The kinds of kDeviceDefaults this device can get back by deleting its root: the one it holds
  // now; mq where it has more than one tx queue; noqueue on a device that is not a NIC (veth,
  // WireGuard's, a bridge; TUN is not noqueue and says so when tried). Refused for the others at
  // validation: a NIC's `qdisc=mq` with one tx queue deleted the root before it failed.
  std::vector<std::string> device_defaults(const std::string& cur) const {
    std::vector<std::string> out;
    if (listed(kDeviceDefaults, cur)) out.push_back(cur);
    const std::string dir = "/sys/class/net/" + d_.device;
    // The kernel attaches mq when the device was made with more than one tx queue, whatever number
    // is in use now: the queues in sysfs, else the channel maximums (a NIC at one channel of four).
    const auto queues = host_.files->list(dir + "/queues");
    bool multi = std::count_if(queues.begin(), queues.end(), [](const std::string& q) { return q.starts_with("tx-"); }) > 1;
    if (!multi && host_.files->exists(dir + "/device")) {
      const auto l = host_.run({"ethtool", "-l", d_.device});
      if (l.ok()) {
        const auto pc = parse_preset_current(l.out);
        for (const char* key : {"TX", "Combined"}) {
          if (const auto both = pc.get(key)) multi = multi || both->first > 1;
        }
      }
    }
    if (multi) out.push_back("mq");
    if (!host_.files->exists(dir + "/device")) out.push_back("noqueue");
    return out;
  }

  Presence presence_;
  std::vector<std::string> defaults_;
};

// The value after `key` among the words of a tc line ("" when absent).
std::string word_after(const std::vector<std::string>& w, const std::string& key) {
  const auto it = std::find(w.begin(), w.end(), key);
  return it != w.end() && it + 1 != w.end() ? *(it + 1) : "";
}

}  // namespace

std::string qdisc_not_restorable(const std::string& qdisc_show, const std::string& class_show, const std::string& filter_show) {
  std::vector<std::string> root;
  for (const auto& line : split_lines(qdisc_show)) {
    const auto w = split_ws(line);
    if (w.size() < 4 || w[0] != "qdisc") continue;
    if (w[3] == "root") root = w;
    // One the kernel made (per queue under mq, per band under prio) has handle 0:; one someone
    // attached has its own. ingress and clsact hang off the receive hook (parent ffff:fff1), which
    // the root's replace or delete never touches (tc-BPF, Cilium).
    else if (w[3] == "parent" && w[2] != "0:" && w[1] != "ingress" && w[1] != "clsact") {
      return fmt::format("a {} qdisc is attached under its root qdisc", w[1]);
    }
  }
  if (root.empty()) return "";
  const std::string& kind = root[1];
  const bool creatable = kind == "pfifo_fast" || listed(kDeviceDefaults, kind) ||
                         std::any_of(kKinds.begin(), kKinds.end(), [&](const auto& k) { return k.first == kind; });
  if (!creatable) return fmt::format("the root qdisc is {}, a kind wgopt does not create", kind);
  // Classes someone made: htb's (the one creatable kind whose classes are configuration). The others
  // list their own: mq its queues, prio its bands, tbf its inner class, fq_codel/sfq/cake one per
  // flow that has packets queued right now.
  if (kind == "htb") {
    for (const auto& line : split_lines(class_show)) {
      if (line.starts_with("class ")) return "the root qdisc htb has classes";
    }
  }
  if (kind == "tbf" && !word_after(root, "rate").empty() && word_after(root, "rate") != "100Gbit") {
    return fmt::format("the root qdisc tbf shapes to {}", word_after(root, "rate"));
  }
  if (kind == "htb" && !word_after(root, "r2q").empty() && word_after(root, "r2q") != "10") {
    return fmt::format("the root qdisc htb has r2q {} (wgopt's would have 10)", word_after(root, "r2q"));
  }
  if (kind == "htb" && !word_after(root, "default").empty() && word_after(root, "default") != "0") {
    return fmt::format("the root qdisc htb sends unclassified traffic to class {}", word_after(root, "default"));
  }
  if (kind == "cake" && !word_after(root, "bandwidth").empty() && word_after(root, "bandwidth") != "unlimited") {
    return fmt::format("the root qdisc cake shapes to {}", word_after(root, "bandwidth"));
  }
  if (kind == "fq" && !word_after(root, "maxrate").empty()) {
    return fmt::format("the root qdisc fq paces each flow to {}", word_after(root, "maxrate"));
  }
  // `tc filter show dev IF` lists the filters of the root qdisc (ingress/clsact ones only when asked
  // for): replacing the root drops them.
  for (const auto& line : split_lines(filter_show)) {
    if (line.starts_with("filter ")) return "filters are attached to its root qdisc";
  }
  // The kernel's own root has handle 0:, one `tc` made without a handle 8001: and up; one below
  // 8000: was chosen by hand, and scripts or filters may name it (wgopt's would get another).
  const std::string handle = root[2].substr(0, root[2].find(':'));
  if (handle != "0" && !handle.empty() && handle.size() <= 4 && handle.find_first_not_of("0123456789abcdef") == std::string::npos &&
      std::stoul(handle, nullptr, 16) < 0x8000) {
    return fmt::format("the root qdisc {} has the handle {} given by hand", kind, root[2]);
  }
  return "";
}

std::vector<std::string> qdisc_create_args(const std::string& kind) {
  for (const auto& [k, a] : kKinds) {
    if (k == kind) return a;
  }
  return {};
}

std::vector<std::string> available_qdiscs(const Host& host) {
  std::string release;
  if (auto r = host.files->read("/proc/sys/kernel/osrelease")) release = trim(*r);
  std::string config;
  if (host.files->exists("/proc/config.gz")) {
    auto r = host.run({"zcat", "/proc/config.gz"});
    if (r.ok()) config = r.out;
  }
  if (config.empty() && !release.empty()) config = host.files->read("/boot/config-" + release).value_or("");
  const auto modules = host.files->list("/lib/modules/" + release + "/kernel/net/sched");
  auto module_available = [&](const std::string& kind) {
    if (host.files->exists("/sys/module/sch_" + kind)) return true;
    return std::any_of(modules.begin(), modules.end(), [&](const std::string& m) { return m.starts_with("sch_" + kind + ".ko"); });
  };
  std::vector<std::string> out{"pfifo_fast"};
  for (const auto& [kind, args] : kKinds) {
    std::string key = "CONFIG_NET_SCH_" + kind + "=";
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::toupper(c); });
    std::string value;
    for (const auto& line : split_lines(config)) {
      if (line.starts_with(key)) value = line.substr(key.size());
    }
    const bool offered = config.empty() ? module_available(kind) : value == "y" || (value == "m" && module_available(kind));
    if (offered) out.push_back(kind);
  }
  return out;
}

KnobPtr make_qdisc_knob(const Host& host, const std::string& ifname, const std::vector<std::string>& qdiscs) {
  Descriptor d = descriptor_for(ifname + "/qdisc");  // kind, scope, type, order: knob_kinds.hpp
  d.domain.choices = qdiscs;
  d.reason = "root qdisc of the device (fq paces for BBR where the kernel has it)";
  return std::make_unique<QdiscKnob>(host, std::move(d));
}

}  // namespace wgopt::act

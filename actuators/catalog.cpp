#include "actuators/catalog.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "actuators/knob_kinds.hpp"
#include "actuators/knobs_common.hpp"
#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::act {

namespace {

// A device knob of an interface that does not exist here: listed, never readable.
class AbsentKnob : public KnobBase {
 public:
  AbsentKnob(const Host& host, Descriptor d, std::string why) : KnobBase(host, std::move(d)), why_(std::move(why)) {}
  Presence presence() override { return {false, false, why_}; }
  std::string read() override { throw Error(fmt::format("cannot read {}: {}", d_.id, why_)); }
  std::string validate(const std::string&) const override { throw UsageError(fmt::format("{}: {}", d_.id, why_)); }
  void apply(const std::string&) override { throw Error(fmt::format("cannot set {}: {}", d_.id, why_)); }

 private:
  std::string why_;
};

UsageError unknown(const std::string& id) {
  return UsageError(fmt::format("unknown knob '{}': run `wgopt knobs` to list them", one_line(id, 80)));
}

bool interface_exists(const Host& host, const std::string& ifname) {
  return host.files->exists("/sys/class/net/" + ifname + "/ifindex");
}

std::vector<std::string> all_interfaces(const Host& host) {
  std::vector<std::string> out;
  for (const auto& n : host.files->list("/sys/class/net")) {
    // bonding_masters is a file there, not an interface.
    if (n != "lo" && is_valid_ifname(n) && interface_exists(host, n)) out.push_back(n);
  }
  return out;
}

DeviceContext context_for(const Host& host, const std::string& ifname, const DiscoverOptions& o,
                          const std::vector<std::string>& qdiscs) {
  DeviceContext c;
  c.wireguard = is_wireguard_interface(host, ifname, o);
  c.allow_mtu = o.allow_underlay_mtu;
  c.qdiscs = qdiscs;
  for (const auto& other : all_interfaces(host)) {
    if (is_wireguard_interface(host, other, o)) continue;
    if (auto m = host.files->read("/sys/class/net/" + other + "/mtu")) {
      try {
        c.underlay_mtu = std::max<int64_t>(c.underlay_mtu, std::stoll(trim(*m)));
      } catch (...) {
      }
    }
  }
  return c;
}

// A namespace that is gone would otherwise list every knob as absent for the wrong reason.
void require_reachable(const Host& host) {
  if (!host.files->exists("/proc/sys/net/ipv4")) {
    throw Error(fmt::format("cannot see /proc/sys/net in {}: does `ip netns list` show it?", host.place.describe()));
  }
}

}  // namespace

bool is_wireguard_interface(const Host& host, const std::string& ifname, const DiscoverOptions& options) {
  if (std::find(options.wireguard.begin(), options.wireguard.end(), ifname) != options.wireguard.end()) return true;
  if (!is_valid_ifname(ifname)) return false;
  auto uevent = host.files->read("/sys/class/net/" + ifname + "/uevent");
  if (uevent && uevent->find("DEVTYPE=wireguard") != std::string::npos) return true;
  // wireguard-go is a tun device; its UAPI socket names it (one shared /var/run/wireguard).
  return host.files->exists("/var/run/wireguard/" + ifname + ".sock");
}

std::vector<std::string> device_knob_names() {
  return {"mtu",         "txqueuelen",   "rps_cpus",      "rps_flow_cnt", "channels/combined",
          "channels/rx", "channels/tx",  "rings/rx",      "rings/tx",     "offload/gro",
          "offload/gso", "offload/tso",  "offload/rx-udp-gro-forwarding", "offload/rx-gro-list",
          "rss_hash_udp4", "rss_equal",  "irq_affinity",  "qdisc"};
}

KnobPtr make_device_knob(const Host& host, const std::string& ifname, const std::string& name, const DeviceContext& ctx) {
  const auto names = device_knob_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) return nullptr;
  require_valid_ifname(ifname);
  if (!interface_exists(host, ifname)) {
    Descriptor d = descriptor_for(ifname + "/" + name);
    return std::make_unique<AbsentKnob>(host, std::move(d),
                                        fmt::format("no such interface {} in {}", ifname, host.place.describe()));
  }
  if (name == "mtu" || name == "txqueuelen") return make_link_knob(host, ifname, name, ctx);
  if (name == "rps_cpus" || name == "rps_flow_cnt") return make_rps_knob(host, ifname, name);
  if (name == "irq_affinity") return make_irq_affinity_knob(host, ifname);
  if (name == "qdisc") return make_qdisc_knob(host, ifname, ctx.qdiscs);
  return make_ethtool_knob(host, ifname, name);
}

std::vector<KnobPtr> discover_knobs(const Host& host, const DiscoverOptions& options) {
  require_reachable(host);
  std::vector<std::string> ifaces = options.interfaces;
  for (const auto& i : ifaces) {
    require_valid_ifname(i);
    if (!interface_exists(host, i)) {
      throw UsageError(fmt::format("interface '{}' does not exist in {}: see `ip link`", i, host.place.describe()));
    }
  }
  if (ifaces.empty()) ifaces = all_interfaces(host);
  std::sort(ifaces.begin(), ifaces.end());
  ifaces.erase(std::unique(ifaces.begin(), ifaces.end()), ifaces.end());

  const auto qdiscs = available_qdiscs(host);
  std::vector<KnobPtr> out;
  for (const auto& name : sysctl_names()) out.push_back(make_sysctl_knob(host, name, qdiscs));
  out.push_back(make_irqbalance_knob(host));
  for (const auto& i : ifaces) {
    const DeviceContext ctx = context_for(host, i, options, qdiscs);
    for (const auto& name : device_knob_names()) out.push_back(make_device_knob(host, i, name, ctx));
  }
  return out;
}

KnobPtr find_knob(const Host& host, const std::string& id, const DiscoverOptions& options) {
  if (id == "irqbalance") return make_irqbalance_knob(host);
  const auto slash = id.find('/');
  if (slash == std::string::npos) {
    const auto names = sysctl_names();
    if (std::find(names.begin(), names.end(), id) == names.end()) throw unknown(id);
    return make_sysctl_knob(host, id, id == "net.core.default_qdisc" ? available_qdiscs(host) : std::vector<std::string>{});
  }
  const std::string ifname = id.substr(0, slash);
  const std::string name = id.substr(slash + 1);
  const auto names = device_knob_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) throw unknown(id);
  require_valid_ifname(ifname);
  require_reachable(host);
  DeviceContext ctx;
  if (interface_exists(host, ifname)) {
    ctx = context_for(host, ifname, options, name == "qdisc" ? available_qdiscs(host) : std::vector<std::string>{});
  }
  return make_device_knob(host, ifname, name, ctx);
}

}  // namespace wgopt::act

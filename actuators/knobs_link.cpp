// IFACE/mtu and IFACE/txqueuelen: read from sysfs, written with `ip link set dev IF mtu|txqueuelen N`
// (rtnetlink, which the kernel validates against the device's min_mtu/max_mtu).
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actuators/knob_kinds.hpp"
#include "actuators/knobs_common.hpp"
#include "common/error.hpp"

namespace wgopt::act {

namespace {

// What a link knob accepts besides its search domain: a WireGuard MTU above what the underlay
// carries unfragmented (`fits`) is legal (the kernel takes it, and `wgopt show` saves it when the
// host has it): set, with a warning. Found by an exploratory test: a `wgopt show` file saved with the
// host's 1500 could not be applied back once the MTU was 1420 ("use an integer in [1280, 1440]").
struct LinkLimits {
  Domain legal;
  int64_t fits = 0;  // WireGuard MTU: the most the underlay carries unfragmented (0: no such limit)
  int64_t underlay = 0;
};

class LinkKnob : public KnobBase {
 public:
  LinkKnob(const Host& host, Descriptor d, std::string attr, std::string ip_word, Presence presence, LinkLimits limits)
      : KnobBase(host, std::move(d)), attr_(std::move(attr)), ip_word_(std::move(ip_word)), presence_(std::move(presence)),
        limits_(limits) {}

  Presence presence() override { return presence_; }
  std::string read() override {
    return std::to_string(parse_int_in(read_or_throw(host_, path(), d_.id), wide()));
  }
  // Checked when a value is asked for (set, apply, a candidate), never when an original is put back
  // (found in review: the warning was in apply(), which every rollback calls); said once per knob.
  std::string validate(const std::string& value) const override {
    Descriptor legal = d_;
    legal.domain = limits_.legal;
    const int64_t v = parse_int_in(value, legal);
    if (limits_.fits > 0 && v > limits_.fits && !warned_) {
      warned_ = true;
      spdlog::warn("{} {} is above the {} a {}-byte underlay carries unfragmented: the tunnel's full-size packets are fragmented "
                   "(or dropped where fragments are)",
                   d_.id, v, limits_.fits, limits_.underlay);
    }
    return std::to_string(v);
  }
  void apply(const std::string& canonical) override {
    run_or_throw(host_, {"ip", "link", "set", "dev", d_.device, ip_word_, canonical}, d_.id, canonical);
  }

 private:
  std::string path() const { return "/sys/class/net/" + d_.device + "/" + attr_; }
  // Reading never fails on range: the host's value is what it is.
  Descriptor wide() const {
    Descriptor w = d_;
    w.domain.min = 0;
    w.domain.max = INT64_MAX;
    return w;
  }
  std::string attr_, ip_word_;
  Presence presence_;
  LinkLimits limits_;
  mutable bool warned_ = false;
};

struct LinkFacts {
  int64_t min_mtu = 68, max_mtu = 65535, mtu = 0, txqlen = 0;
};

LinkFacts link_facts(const Host& host, const std::string& ifname) {
  LinkFacts f;
  auto r = host.run({"ip", "-d", "-j", "link", "show", "dev", ifname});
  if (!r.ok()) return f;
  try {
    auto j = nlohmann::json::parse(r.out);
    if (j.is_array() && !j.empty()) {
      const auto& l = j[0];
      f.min_mtu = l.value("min_mtu", f.min_mtu);
      f.max_mtu = l.value("max_mtu", f.max_mtu);
      f.mtu = l.value("mtu", int64_t{0});
      f.txqlen = l.value("txqlen", int64_t{0});
    }
  } catch (const nlohmann::json::exception&) {
  }
  return f;
}

}  // namespace

KnobPtr make_link_knob(const Host& host, const std::string& ifname, const std::string& name, const DeviceContext& ctx) {
  if (name != "mtu" && name != "txqueuelen") return nullptr;
  Descriptor d = descriptor_for(ifname + "/" + name);  // kind, scope, type, order: knob_kinds.hpp
  const LinkFacts f = link_facts(host, ifname);
  Presence p = file_presence(host, "/sys/class/net/" + ifname + (name == "mtu" ? "/mtu" : "/tx_queue_len"));
  LinkLimits limits;
  if (name == "mtu") {
    d.domain.min = std::max<int64_t>(f.min_mtu, 1280);  // IPv6 minimum, which WireGuard needs
    d.domain.max = f.max_mtu;
    limits.legal = d.domain;
    if (ctx.wireguard && ctx.underlay_mtu > 0) {
      // IPv4 outer header + UDP + WireGuard header and tag: 60 bytes (the guide's 1500 -> 1420 uses 80 for IPv6).
      d.domain.max = std::min<int64_t>(d.domain.max, ctx.underlay_mtu - 60);
      limits.fits = d.domain.max;
      limits.underlay = ctx.underlay_mtu;
    }
    if (d.domain.max < d.domain.min) d.domain.max = d.domain.min;
    d.reason = ctx.wireguard ? "MTU of the WireGuard interface: larger means fewer packets (and crypto calls) per byte"
                             : "MTU of the underlay; the tunnel's packets must fit in it";
    if (p.present && p.writable && !ctx.wireguard && !ctx.allow_mtu) {
      p.writable = false;
      p.why_not = "underlay MTU: pass --allow-underlay-mtu to tune it (a wrong value can cut the host off)";
    }
    if (f.mtu > 0) widen(d.domain, f.mtu);
    if (f.mtu > 0) widen(limits.legal, f.mtu);
  } else {
    d.domain.min = 16;
    d.domain.max = 100000;
    d.domain.log = true;
    d.reason = "length of the device's transmit queue (packets the qdisc may hold)";
    if (f.txqlen > 0 || p.present) widen(d.domain, f.txqlen);
    limits.legal = d.domain;
  }
  if (p.present && p.writable && !running_as_root()) {
    p = not_root_presence();
  }
  return std::make_unique<LinkKnob>(host, std::move(d), name == "mtu" ? "mtu" : "tx_queue_len", name, std::move(p), limits);
}

}  // namespace wgopt::act

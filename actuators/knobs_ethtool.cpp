// NIC knobs changed with ethtool: channels (-l/-L), ring sizes (-g/-G), offloads (-k/-K), the udp4
// RSS hash fields (-n/-N rx-flow-hash udp4) and an even RSS indirection table (-x/-X).
// Every knob reads back through ethtool, so the kernel's view is what is compared.
#include <algorithm>
#include <fmt/format.h>

#include "actuators/ethtool_parse.hpp"
#include "actuators/knob_kinds.hpp"
#include "actuators/knobs_common.hpp"
#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::act {

namespace {

Presence tool_failure(const CommandResult& r, const std::string& what) {
  if (r.not_found) return {false, false, "ethtool not found: install ethtool"};
  if (says_not_supported(r.err + r.out)) return {false, false, "driver does not support it (" + what + ")"};
  return {false, false, what + " failed: " + r.brief()};
}

Presence root_or(Presence p) {
  if (p.present && p.writable && !running_as_root()) {
    p = not_root_presence();
  }
  return p;
}

// channels/{combined,rx,tx} (`ethtool -l/-L`) and rings/{rx,tx} (`ethtool -g/-G`).
class CountKnob : public KnobBase {
 public:
  // flag: "-l" or "-g"; key: the row in ethtool's output ("Combined", "RX", "TX"); word: -L/-G's word.
  CountKnob(const Host& host, Descriptor d, std::string flag, std::string key, std::string word)
      : KnobBase(host, std::move(d)), flag_(std::move(flag)), key_(std::move(key)), word_(std::move(word)) {
    auto r = host_.run({"ethtool", flag_, d_.device});
    if (!r.ok()) {
      presence_ = tool_failure(r, "ethtool " + flag_);
      return;
    }
    auto pair = parse_preset_current(r.out).get(key_);
    if (!pair) {
      presence_ = {false, false, fmt::format("driver has no {} {} (n/a in ethtool {})", key_, flag_ == "-l" ? "channels" : "ring", flag_)};
      return;
    }
    d_.domain.min = 1;
    d_.domain.max = pair->first;
    widen(d_.domain, pair->second);
    presence_ = root_or({true, true, ""});
  }

  Presence presence() override { return presence_; }
  std::string read() override {
    auto r = host_.run({"ethtool", flag_, d_.device});
    auto pair = r.ok() ? parse_preset_current(r.out).get(key_) : std::nullopt;
    if (!pair) throw Error(fmt::format("cannot read {}: `ethtool {} {}` {}", d_.id, flag_, d_.device, r.ok() ? "has no " + key_ + " row" : r.brief()));
    return std::to_string(pair->second);
  }
  std::string validate(const std::string& value) const override { return std::to_string(parse_int_in(value, d_)); }
  void apply(const std::string& canonical) override {
    // ethtool -L/-G exits 1 ("no ... parameters changed") when nothing changes.
    if (read() == canonical) return;
    run_or_throw(host_, {"ethtool", flag_ == "-l" ? "-L" : "-G", d_.device, word_, canonical}, d_.id, canonical);
  }

 private:
  std::string flag_, key_, word_;
  Presence presence_;
};

std::string feature_row(const std::string& name) {
  if (name == "gro") return "generic-receive-offload";
  if (name == "gso") return "generic-segmentation-offload";
  if (name == "tso") return "tcp-segmentation-offload";
  return name;  // rx-udp-gro-forwarding, rx-gro-list print under their own names
}

class OffloadKnob : public KnobBase {
 public:
  OffloadKnob(const Host& host, Descriptor d, std::string feature) : KnobBase(host, std::move(d)), feature_(std::move(feature)) {
    d_.domain.choices = {"on", "off"};
    auto r = host_.run({"ethtool", "-k", d_.device});
    if (!r.ok()) {
      presence_ = tool_failure(r, "ethtool -k");
      return;
    }
    auto features = parse_features(r.out);
    auto it = features.find(feature_row(feature_));
    if (it == features.end()) presence_ = {false, false, "this kernel's ethtool -k has no " + feature_row(feature_)};
    else if (it->second.fixed) presence_ = {true, false, "fixed by the driver: " + std::string(it->second.on ? "on" : "off") + " [fixed]"};
    else if (it->second.refused) presence_ = {true, false, "the driver keeps it off now ([requested on] in ethtool -k)"};
    else presence_ = root_or({true, true, ""});
  }

  Presence presence() override { return presence_; }
  std::string read() override {
    auto r = host_.run({"ethtool", "-k", d_.device});
    if (!r.ok()) throw Error(fmt::format("cannot read {}: `ethtool -k {}` {}", d_.id, d_.device, r.brief()));
    auto features = parse_features(r.out);
    auto it = features.find(feature_row(feature_));
    if (it == features.end()) throw Error(fmt::format("cannot read {}: ethtool -k {} has no {}", d_.id, d_.device, feature_row(feature_)));
    return it->second.on ? "on" : "off";
  }
  std::string validate(const std::string& value) const override {
    const std::string t = trim(value);
    if (t == "on" || t == "true" || t == "1") return "on";
    if (t == "off" || t == "false" || t == "0") return "off";
    throw UsageError(fmt::format("value '{}' for {} is not legal: use on or off", value, d_.id));
  }
  void apply(const std::string& canonical) override {
    run_or_throw(host_, {"ethtool", "-K", d_.device, feature_, canonical}, d_.id, canonical);
    // ethtool -K can exit 0 while a dependent feature keeps the change from taking effect.
    if (read() != canonical) {
      throw Error(fmt::format("cannot set {} to '{}': the driver kept it {} (a feature it depends on is off?)", d_.id,
                              canonical, canonical == "on" ? "off" : "on"));
    }
  }

 private:
  std::string feature_;
  Presence presence_;
};

const std::string kHashLetters = "mvtsdfn";

class FlowHashKnob : public KnobBase {
 public:
  FlowHashKnob(const Host& host, Descriptor d) : KnobBase(host, std::move(d)) {
    d_.domain.choices = {"sd", "sdfn"};
    auto r = host_.run({"ethtool", "-n", d_.device, "rx-flow-hash", "udp4"});
    if (!r.ok()) {
      presence_ = tool_failure(r, "ethtool -n rx-flow-hash udp4");
      return;
    }
    const std::string cur = parse_flow_hash(r.out);
    if (cur.empty()) {
      // virtio_net without RSS answers "None" and refuses -N.
      presence_ = {false, false, "driver hashes udp4 on no fields (no RSS): nothing to tune"};
      return;
    }
    if (std::find(d_.domain.choices.begin(), d_.domain.choices.end(), cur) == d_.domain.choices.end())
      d_.domain.choices.push_back(cur);
    presence_ = root_or({true, true, ""});
  }
  Presence presence() override { return presence_; }
  std::string read() override {
    auto r = host_.run({"ethtool", "-n", d_.device, "rx-flow-hash", "udp4"});
    if (!r.ok()) throw Error(fmt::format("cannot read {}: `ethtool -n {} rx-flow-hash udp4` {}", d_.id, d_.device, r.brief()));
    const std::string v = parse_flow_hash(r.out);
    return v.empty() ? "none" : v;
  }
  std::string validate(const std::string& value) const override {
    const std::string t = trim(value);
    std::string out;
    for (char c : kHashLetters) {
      if (t.find(c) != std::string::npos) out += c;
    }
    if (t.empty() || out.size() != t.size() || t.find_first_not_of(kHashLetters) != std::string::npos) {
      throw UsageError(fmt::format("value '{}' for {} is not legal: use ethtool's field letters from {} once each, e.g. sdfn",
                                   value, d_.id, kHashLetters));
    }
    return out;
  }
  void apply(const std::string& canonical) override {
    run_or_throw(host_, {"ethtool", "-N", d_.device, "rx-flow-hash", "udp4", canonical}, d_.id, canonical);
  }

 private:
  Presence presence_;
};

// The indirection table as a value: "N" for the even table ethtool -X equal N writes
// (entry i = i mod N), "weight:a,b,..." for contiguous blocks (what ethtool -X weight writes),
// nullopt for anything else (which ethtool cannot write back, so wgopt leaves it alone).
std::optional<std::string> table_value(const std::vector<int>& t) {
  if (t.empty()) return std::nullopt;
  const int n = *std::max_element(t.begin(), t.end()) + 1;
  bool even = true;
  for (size_t i = 0; i < t.size(); ++i) even = even && t[i] == static_cast<int>(i % static_cast<size_t>(n));
  if (even) return std::to_string(n);
  std::vector<int> weights(static_cast<size_t>(n), 0);
  for (size_t i = 0; i < t.size(); ++i) {
    if (i > 0 && t[i] < t[i - 1]) return std::nullopt;
    weights[static_cast<size_t>(t[i])]++;
  }
  return fmt::format("weight:{}", fmt::join(weights, ","));
}

class RssEqualKnob : public KnobBase {
 public:
  RssEqualKnob(const Host& host, Descriptor d) : KnobBase(host, std::move(d)) {
    auto r = host_.run({"ethtool", "-x", d_.device});
    if (!r.ok()) {
      presence_ = tool_failure(r, "ethtool -x");
      return;
    }
    auto ind = parse_indirection(r.out);
    if (ind.rx_rings < 1 || ind.table.empty()) {
      presence_ = {false, false, "driver prints no RSS indirection table"};
      return;
    }
    d_.domain.min = 1;
    d_.domain.max = ind.rx_rings;
    if (!table_value(ind.table)) {
      presence_ = {true, false, "indirection table is neither even nor weighted: ethtool could not restore it"};
      return;
    }
    presence_ = root_or({true, true, ""});
  }
  Presence presence() override { return presence_; }
  std::string read() override {
    auto r = host_.run({"ethtool", "-x", d_.device});
    if (!r.ok()) throw Error(fmt::format("cannot read {}: `ethtool -x {}` {}", d_.id, d_.device, r.brief()));
    auto v = table_value(parse_indirection(r.out).table);
    if (!v) throw Error(fmt::format("cannot read {}: the indirection table is neither even nor weighted", d_.id));
    return *v;
  }
  std::string validate(const std::string& value) const override {
    const std::string t = trim(value);
    if (t.starts_with("weight:")) {
      std::vector<std::string> ws = split(t.substr(7), ',');
      int64_t sum = 0;
      std::vector<std::string> out;
      for (const auto& w : ws) {
        Descriptor any = d_;
        any.domain.min = 0;
        any.domain.max = 1 << 16;
        int64_t v = 0;
        try {
          v = parse_int_in(w, any);
        } catch (const UsageError&) {
          throw UsageError(fmt::format("value '{}' for {} is not legal: weights are integers, e.g. weight:1,1,2", value, d_.id));
        }
        sum += v;
        out.push_back(std::to_string(v));
      }
      if (sum == 0 || static_cast<int64_t>(ws.size()) > d_.domain.max) {
        throw UsageError(fmt::format("value '{}' for {} is not legal: at most {} weights, not all zero", value, d_.id, d_.domain.max));
      }
      return fmt::format("weight:{}", fmt::join(out, ","));
    }
    return std::to_string(parse_int_in(t, d_));
  }
  void apply(const std::string& canonical) override {
    if (canonical.starts_with("weight:")) {
      std::vector<std::string> argv{"ethtool", "-X", d_.device, "weight"};
      for (const auto& w : split(canonical.substr(7), ',')) argv.push_back(w);
      run_or_throw(host_, argv, d_.id, canonical);
    } else {
      run_or_throw(host_, {"ethtool", "-X", d_.device, "equal", canonical}, d_.id, canonical);
    }
  }

 private:
  Presence presence_;
};

}  // namespace

KnobPtr make_ethtool_knob(const Host& host, const std::string& ifname, const std::string& name) {
  if (!kind_spec(ifname + "/" + name)) return nullptr;
  // id, device, kind, scope, type, order: knob_kinds.hpp's table, which export shares.
  Descriptor d = descriptor_for(ifname + "/" + name);
  const auto slash = name.find('/');
  const std::string group = name.substr(0, slash);
  const std::string leaf = slash == std::string::npos ? "" : name.substr(slash + 1);
  if (group == "channels" && (leaf == "combined" || leaf == "rx" || leaf == "tx")) {
    d.reason = "NIC queue pairs (" + leaf + "): more queues let RSS spread receive work over CPUs";
    const std::string key = leaf == "combined" ? "Combined" : leaf == "rx" ? "RX" : "TX";
    return std::make_unique<CountKnob>(host, std::move(d), "-l", key, leaf);
  }
  if (group == "rings" && (leaf == "rx" || leaf == "tx")) {
    d.domain.pow2 = true;
    d.reason = "NIC ring size (" + leaf + "): a larger ring absorbs bursts before rx_missed/rx_no_buffer drops";
    return std::make_unique<CountKnob>(host, std::move(d), "-g", leaf == "rx" ? "RX" : "TX", leaf);
  }
  static const std::vector<std::string> offloads = {"gro", "gso", "tso", "rx-udp-gro-forwarding", "rx-gro-list"};
  if (group == "offload" && std::find(offloads.begin(), offloads.end(), leaf) != offloads.end()) {
    d.reason = leaf == "rx-udp-gro-forwarding" ? "GRO of forwarded UDP (the tunnel's packets) before they are decrypted"
               : leaf == "rx-gro-list"         ? "GRO by chaining packets (fraglist) instead of merging them"
                                               : leaf + " offload: fewer, larger packets through the stack";
    return std::make_unique<OffloadKnob>(host, std::move(d), leaf);
  }
  if (name == "rss_hash_udp4") {
    d.reason = "fields the NIC hashes UDP/IPv4 on: with ports (sdfn) several WireGuard peers spread over queues";
    return std::make_unique<FlowHashKnob>(host, std::move(d));
  }
  if (name == "rss_equal") {
    d.reason = "RSS indirection table spread evenly over the first N rx queues (ethtool -X equal N)";
    return std::make_unique<RssEqualKnob>(host, std::move(d));
  }
  return nullptr;
}

}  // namespace wgopt::act

#include "experiments/peer/ops.hpp"

#include "experiments/peer/protocol.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <set>

#include "actuators/allowlist.hpp"
#include "actuators/knob_json.hpp"
#include "common/place.hpp"
#include "probes/json.hpp"
#include "workload/iperf3_server.hpp"

namespace wgopt::peer {

using nlohmann::json;

namespace {

constexpr size_t kMaxItems = 4096;   // ids, changes, interfaces per request
constexpr size_t kMaxText = 4096;    // one id, value or name

// Refuses keys the op does not know: a controller of another build would otherwise be half-understood.
void only_keys(const json& a, std::initializer_list<const char*> keys) {
  if (!a.is_object()) throw ArgsError("args must be a JSON object");
  for (const auto& [k, v] : a.items()) {
    bool known = false;
    for (const char* key : keys) known = known || k == key;
    if (!known) throw ArgsError(fmt::format("unknown argument \"{}\"", k.substr(0, 64)));
  }
}

std::string text(const json& a, const char* key, bool required, const std::string& fallback = {}) {
  auto it = a.find(key);
  if (it == a.end()) {
    if (required) throw ArgsError(fmt::format("argument \"{}\" is missing", key));
    return fallback;
  }
  if (!it->is_string()) throw ArgsError(fmt::format("argument \"{}\" must be a string", key));
  auto s = it->get<std::string>();
  if (s.size() > kMaxText) throw ArgsError(fmt::format("argument \"{}\" is longer than {} bytes", key, kMaxText));
  return s;
}

long long integer(const json& a, const char* key, long long fallback, long long lo, long long hi) {
  auto it = a.find(key);
  if (it == a.end()) return fallback;
  if (!it->is_number_integer()) throw ArgsError(fmt::format("argument \"{}\" must be an integer", key));
  const long long v = it->get<long long>();
  if (v < lo || v > hi) throw ArgsError(fmt::format("argument \"{}\" = {} is out of range {}..{}", key, v, lo, hi));
  return v;
}

bool flag(const json& a, const char* key, bool fallback) {
  auto it = a.find(key);
  if (it == a.end()) return fallback;
  if (!it->is_boolean()) throw ArgsError(fmt::format("argument \"{}\" must be true or false", key));
  return it->get<bool>();
}

std::vector<std::string> strings(const json& a, const char* key) {
  std::vector<std::string> out;
  auto it = a.find(key);
  if (it == a.end()) return out;
  if (!it->is_array()) throw ArgsError(fmt::format("argument \"{}\" must be an array of strings", key));
  if (it->size() > kMaxItems) throw ArgsError(fmt::format("argument \"{}\" has more than {} entries", key, kMaxItems));
  for (const auto& e : *it) {
    if (!e.is_string()) throw ArgsError(fmt::format("argument \"{}\" must be an array of strings", key));
    auto s = e.get<std::string>();
    if (s.size() > kMaxText) throw ArgsError(fmt::format("an entry of \"{}\" is longer than {} bytes", key, kMaxText));
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> interfaces(const json& a, const char* key) {
  auto v = strings(a, key);
  for (const auto& name : v) {
    if (!is_valid_ifname(name)) {
      throw ArgsError(fmt::format("interface name '{}' is not valid: use 1-15 characters of [A-Za-z0-9_.-]", name.substr(0, 64)));
    }
  }
  return v;
}

void require_knob_id(const std::string& id) {
  if (auto problem = act::knob_id_problem(id)) throw ArgsError(*problem);
}

const json& sub(const json& a, const char* key) {
  static const json empty = json::object();
  auto it = a.find(key);
  if (it == a.end()) return empty;
  if (!it->is_object()) throw ArgsError(fmt::format("argument \"{}\" must be an object", key));
  return *it;
}

std::vector<act::Change> changes(const json& a) {
  auto it = a.find("changes");
  if (it == a.end() || !it->is_array()) throw ArgsError("argument \"changes\" must be an array of {id, value}");
  if (it->size() > kMaxItems) throw ArgsError(fmt::format("more than {} changes", kMaxItems));
  std::vector<act::Change> out;
  for (const auto& c : *it) {
    only_keys(c, {"id", "value"});
    act::Change ch{.id = text(c, "id", true), .value = text(c, "value", true)};
    require_knob_id(ch.id);
    out.push_back(std::move(ch));
  }
  return out;
}

json changes_json(const std::vector<act::Change>& cs) {
  json arr = json::array();
  for (const auto& c : cs) arr.push_back({{"id", c.id}, {"value", c.value}});
  return arr;
}

// An integer field of an answer, refused unless it is an integer within T's range: converting a
// float or a larger integer is undefined (fuzz_agent: a now_ms of 1.76e28).
template <class T>
T whole(const json& j) {
  if (j.is_number_unsigned()) {
    const auto u = j.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(u);
  } else if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    if (v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max()) return static_cast<T>(v);
  }
  throw Error(fmt::format("the peer's answer has {} where an integer is expected", j.dump().substr(0, 40)));
}

json optional_int(const std::optional<int>& v) { return v ? json(*v) : json(nullptr); }
std::optional<int> optional_int(const json& j) {
  if (j.is_null()) return std::nullopt;
  return whole<int>(j);
}

json record_json(const act::RestoreRecord& r) {
  return {{"at_ms", r.at_ms}, {"pid", r.pid}, {"by", r.by}, {"why", r.why}, {"report", r.report}};
}
act::RestoreRecord record_from(const json& j) {
  act::RestoreRecord r;
  r.at_ms = whole<decltype(r.at_ms)>(j.at("at_ms"));
  r.pid = whole<decltype(r.pid)>(j.at("pid"));
  j.at("by").get_to(r.by);
  j.at("why").get_to(r.why);
  j.at("report").get_to(r.report);
  return r;
}
json records_json(const std::vector<act::RestoreRecord>& rs) {
  json arr = json::array();
  for (const auto& r : rs) arr.push_back(record_json(r));
  return arr;
}
std::vector<act::RestoreRecord> records_from(const json& j) {
  std::vector<act::RestoreRecord> out;
  for (const auto& e : j) out.push_back(record_from(e));
  return out;
}

json journal_json(const JournalState& s) { return {{"entries", s.entries}, {"open", s.open}}; }
JournalState journal_from(const json& j) { return {.entries = whole<int>(j.at("entries")), .open = j.at("open").get<bool>()}; }

}  // namespace

const std::vector<std::string>& known_ops() {
  static const std::vector<std::string> ops{"hello",      "status",      "discover",   "read",          "validate",  "preview",
                                            "equal",      "apply",       "keep",       "rollback",      "rollback_all",
                                            "arm",        "disarm",      "heartbeat",  "probe_start",   "probe_stop",
                                            "iperf3_ensure", "iperf3_stop", "ping",    "bye"};
  return ops;
}

// ---- decoding args (agent side)

HelloArgs decode_hello(const json& a) {
  only_keys(a, {"protocol", "wgopt_version", "since_ms", "interfaces", "restore_open"});
  HelloArgs h;
  h.protocol = static_cast<int>(integer(a, "protocol", -1, 0, 1 << 30));
  if (h.protocol < 0) throw ArgsError("argument \"protocol\" is missing");
  h.wgopt_version = text(a, "wgopt_version", false);
  h.since_ms = integer(a, "since_ms", 0, 0, 1LL << 53);
  h.interfaces = interfaces(a, "interfaces");
  h.restore_open = flag(a, "restore_open", false);
  return h;
}

StatusArgs decode_status(const json& a) {
  only_keys(a, {"since_ms"});
  return {.since_ms = integer(a, "since_ms", 0, 0, 1LL << 53)};
}

DiscoverArgs decode_discover(const json& a) {
  only_keys(a, {"interfaces", "allow_underlay_mtu", "wireguard"});
  return {.interfaces = interfaces(a, "interfaces"),
          .allow_underlay_mtu = flag(a, "allow_underlay_mtu", false),
          .wireguard = interfaces(a, "wireguard")};
}

ReadArgs decode_read(const json& a) {
  only_keys(a, {"ids", "discover"});
  ReadArgs r{.ids = strings(a, "ids"), .discover = decode_discover(sub(a, "discover"))};
  if (r.ids.empty()) throw ArgsError("argument \"ids\" names no knob");
  for (const auto& id : r.ids) require_knob_id(id);
  return r;
}

ChangesArgs decode_changes(const json& a) {
  only_keys(a, {"changes", "discover"});
  return {.changes = changes(a), .discover = decode_discover(sub(a, "discover"))};
}

EqualArgs decode_equal(const json& a) {
  only_keys(a, {"items", "discover"});
  EqualArgs e{.discover = decode_discover(sub(a, "discover"))};
  auto it = a.find("items");
  if (it == a.end() || !it->is_array() || it->size() > kMaxItems) {
    throw ArgsError(fmt::format("argument \"items\" must be an array of at most {} {{id, a, b}}", kMaxItems));
  }
  for (const auto& i : *it) {
    only_keys(i, {"id", "a", "b"});
    EqualItem item{.id = text(i, "id", true), .a = text(i, "a", true), .b = text(i, "b", true)};
    require_knob_id(item.id);
    e.items.push_back(std::move(item));
  }
  return e;
}

ApplyArgs decode_apply(const json& a) {
  only_keys(a, {"changes", "discover", "lease_ms"});
  return {.changes = changes(a),
          .discover = decode_discover(sub(a, "discover")),
          .lease_ms = integer(a, "lease_ms", 10000, kMinLeaseMs, kMaxLeaseMs)};
}

ArmArgs decode_arm(const json& a) {
  only_keys(a, {"lease_ms"});
  return {.lease_ms = integer(a, "lease_ms", 10000, kMinLeaseMs, kMaxLeaseMs)};
}

ProbeArgs decode_probe(const json& a) {
  only_keys(a, {"interfaces", "interval_ms", "ethtool", "wireguard"});
  return {.interfaces = interfaces(a, "interfaces"),
          .interval_ms = integer(a, "interval_ms", 1000, 100, 10000),
          .ethtool = flag(a, "ethtool", true),
          .wireguard = flag(a, "wireguard", true)};
}

Iperf3Args decode_iperf3(const json& a) {
  only_keys(a, {"bind_address", "port"});
  Iperf3Args r{.bind_address = text(a, "bind_address", true), .port = static_cast<int>(integer(a, "port", 5201, 1, 65535))};
  try {
    workload::validate({.place = Place::host(), .bind_address = r.bind_address, .port = r.port});
  } catch (const UsageError& e) {
    throw ArgsError(e.what());
  }
  return r;
}

void decode_none(const json& a) { only_keys(a, {}); }

void validate_args(const std::string& op, const json& a) {
  if (op == "hello") decode_hello(a);
  else if (op == "status") decode_status(a);
  else if (op == "discover") decode_discover(a);
  else if (op == "read") decode_read(a);
  else if (op == "validate" || op == "preview") decode_changes(a);
  else if (op == "equal") decode_equal(a);
  else if (op == "apply") decode_apply(a);
  else if (op == "arm") decode_arm(a);
  else if (op == "probe_start") decode_probe(a);
  else if (op == "iperf3_ensure" || op == "iperf3_stop") decode_iperf3(a);
  else if (op == "keep" || op == "rollback" || op == "rollback_all" || op == "disarm" || op == "heartbeat" ||
           op == "probe_stop" || op == "ping" || op == "bye")
    decode_none(a);
  else throw ArgsError(fmt::format("unknown op '{}'", op.substr(0, 32)));
}

// ---- encoding args (controller side)

json encode(const HelloArgs& a) {
  return {{"protocol", a.protocol}, {"wgopt_version", a.wgopt_version}, {"since_ms", a.since_ms}, {"interfaces", a.interfaces},
          {"restore_open", a.restore_open}};
}
json encode(const StatusArgs& a) { return {{"since_ms", a.since_ms}}; }
json encode(const DiscoverArgs& a) {
  return {{"interfaces", a.interfaces}, {"allow_underlay_mtu", a.allow_underlay_mtu}, {"wireguard", a.wireguard}};
}
json encode(const ReadArgs& a) { return {{"ids", a.ids}, {"discover", encode(a.discover)}}; }
json encode(const ChangesArgs& a) { return {{"changes", changes_json(a.changes)}, {"discover", encode(a.discover)}}; }
json encode(const EqualArgs& a) {
  json items = json::array();
  for (const auto& i : a.items) items.push_back({{"id", i.id}, {"a", i.a}, {"b", i.b}});
  return {{"items", items}, {"discover", encode(a.discover)}};
}
json encode(const ApplyArgs& a) {
  return {{"changes", changes_json(a.changes)}, {"discover", encode(a.discover)}, {"lease_ms", a.lease_ms}};
}
json encode(const ArmArgs& a) { return {{"lease_ms", a.lease_ms}}; }
json encode(const ProbeArgs& a) {
  return {{"interfaces", a.interfaces}, {"interval_ms", a.interval_ms}, {"ethtool", a.ethtool}, {"wireguard", a.wireguard}};
}
json encode(const Iperf3Args& a) { return {{"bind_address", a.bind_address}, {"port", a.port}}; }

// ---- results

json encode(const HelloResult& r) {
  const auto& f = r.facts;
  return {{"protocol", r.protocol},
          {"wgopt_version", r.wgopt_version},
          {"pid", r.pid},
          {"now_ms", r.now_ms},
          {"state_dir", r.state_dir},
          {"run_dir", r.run_dir},
          {"facts",
           {{"hostname", f.hostname}, {"kernel", f.kernel}, {"sku", f.sku}, {"boot_id", f.boot_id}, {"nproc", f.nproc},
            {"irqbalance_running", f.irqbalance_running}, {"nic_driver", f.nic_driver},
            {"wireguard_mode", f.wireguard_mode}}},
          {"lock_holder", optional_int(r.lock_holder)},
          {"journal", journal_json(r.journal)},
          {"restores", records_json(r.restores)}};
}

template <>
HelloResult decode_result<HelloResult>(const json& j) {
  HelloResult r;
  // Only what every protocol version has is read before the version check; the rest after it.
  r.protocol = whole<decltype(r.protocol)>(j.at("protocol"));
  r.wgopt_version = j.value("wgopt_version", std::string());
  if (r.protocol != kProtocolVersion) return r;
  r.pid = whole<decltype(r.pid)>(j.at("pid"));
  r.now_ms = whole<decltype(r.now_ms)>(j.at("now_ms"));
  j.at("state_dir").get_to(r.state_dir);
  j.at("run_dir").get_to(r.run_dir);
  const json& f = j.at("facts");
  f.at("hostname").get_to(r.facts.hostname);
  f.at("kernel").get_to(r.facts.kernel);
  f.at("sku").get_to(r.facts.sku);
  f.at("boot_id").get_to(r.facts.boot_id);
  r.facts.nproc = whole<decltype(r.facts.nproc)>(f.at("nproc"));
  f.at("irqbalance_running").get_to(r.facts.irqbalance_running);
  f.at("nic_driver").get_to(r.facts.nic_driver);
  f.at("wireguard_mode").get_to(r.facts.wireguard_mode);
  r.lock_holder = optional_int(j.at("lock_holder"));
  r.journal = journal_from(j.at("journal"));
  r.restores = records_from(j.at("restores"));
  return r;
}

json encode(const StatusResult& r) {
  return {{"lock_holder", optional_int(r.lock_holder)}, {"journal", journal_json(r.journal)},
          {"transaction_open", r.transaction_open},    {"armed", r.armed},
          {"lease_deadline_ms", r.lease_deadline_ms},  {"restores", records_json(r.restores)}};
}

template <>
StatusResult decode_result<StatusResult>(const json& j) {
  return {.lock_holder = optional_int(j.at("lock_holder")),
          .journal = journal_from(j.at("journal")),
          .transaction_open = j.at("transaction_open").get<bool>(),
          .armed = j.at("armed").get<bool>(),
          .lease_deadline_ms = whole<long long>(j.at("lease_deadline_ms")),
          .restores = records_from(j.at("restores"))};
}

json encode(const DiscoverResult& r) {
  json arr = json::array();
  for (const auto& k : r.knobs) {
    arr.push_back({{"descriptor", k.descriptor},
                   {"presence", k.presence},
                   {"value", k.value ? json(*k.value) : json(nullptr)},
                   {"read_error", k.read_error}});
  }
  return {{"knobs", arr}};
}

template <>
DiscoverResult decode_result<DiscoverResult>(const json& j) {
  DiscoverResult r;
  for (const auto& k : j.at("knobs")) {
    KnobRow row;
    k.at("descriptor").get_to(row.descriptor);
    k.at("presence").get_to(row.presence);
    if (!k.at("value").is_null()) row.value = k.at("value").get<std::string>();
    k.at("read_error").get_to(row.read_error);
    r.knobs.push_back(std::move(row));
  }
  return r;
}

json encode(const ReadResult& r) {
  json arr = json::array();
  for (const auto& [id, v] : r.values) arr.push_back({{"id", id}, {"value", v}});
  return {{"values", arr}};
}

template <>
ReadResult decode_result<ReadResult>(const json& j) {
  ReadResult r;
  for (const auto& e : j.at("values")) r.values.emplace_back(e.at("id").get<std::string>(), e.at("value").get<std::string>());
  return r;
}

json encode(const ValidateResult& r) { return {{"canonical", r.canonical}}; }
template <>
ValidateResult decode_result<ValidateResult>(const json& j) {
  return {.canonical = j.at("canonical").get<std::vector<std::string>>()};
}

json encode(const EqualResult& r) { return {{"equal", r.equal}}; }
template <>
EqualResult decode_result<EqualResult>(const json& j) {
  return {.equal = j.at("equal").get<std::vector<bool>>()};
}

json encode(const ApplyReply& r) {
  return {{"steps", r.steps}, {"restored_first", r.restored_first}, {"lease_deadline_ms", r.lease_deadline_ms}};
}
template <>
ApplyReply decode_result<ApplyReply>(const json& j) {
  return {.steps = j.at("steps").get<std::vector<act::Step>>(),
          .restored_first = j.at("restored_first").get<act::RestoreReport>(),
          .lease_deadline_ms = whole<long long>(j.at("lease_deadline_ms"))};
}

json encode(const act::RestoreReport& r) { return {{"report", r}}; }
template <>
act::RestoreReport decode_result<act::RestoreReport>(const json& j) {
  return j.at("report").get<act::RestoreReport>();
}

json encode(const RollbackAllResult& r) { return {{"report", r.report}, {"restored_first", r.restored_first}}; }
template <>
RollbackAllResult decode_result<RollbackAllResult>(const json& j) {
  return {.report = j.at("report").get<act::RestoreReport>(),
          .restored_first = j.at("restored_first").get<act::RestoreReport>()};
}

json encode(const LeaseState& r) { return {{"armed", r.armed}, {"deadline_ms", r.deadline_ms}}; }
template <>
LeaseState decode_result<LeaseState>(const json& j) {
  return {.armed = j.at("armed").get<bool>(), .deadline_ms = whole<long long>(j.at("deadline_ms"))};
}

json encode(const ProbeResult& r) { return {{"summary", r.summary}, {"seconds", r.seconds}}; }
template <>
ProbeResult decode_result<ProbeResult>(const json& j) {
  return {.summary = j.at("summary").get<probes::Summary>(),
          .seconds = j.at("seconds").get<std::vector<probes::SecondSample>>()};
}

json encode(const Iperf3Result& r) { return {{"started", r.started}, {"listening", r.listening}, {"pid", r.pid}}; }
template <>
Iperf3Result decode_result<Iperf3Result>(const json& j) {
  return {.started = j.at("started").get<bool>(), .listening = j.at("listening").get<bool>(), .pid = whole<int>(j.at("pid"))};
}

json encode(const PingResult& r) { return {{"now_ms", r.now_ms}, {"pid", r.pid}}; }
template <>
PingResult decode_result<PingResult>(const json& j) {
  return {.now_ms = whole<long long>(j.at("now_ms")), .pid = whole<int>(j.at("pid"))};
}

}  // namespace wgopt::peer

#include "experiments/search/remote_end.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/error.hpp"
#include "experiments/search/plant_access.hpp"
#include "experiments/search/search.hpp"
#include "experiments/search/search_env.hpp"
#include "experiments/search/search_space.hpp"

namespace wgopt::experiments {

namespace {

constexpr const char* kPeerPrefix = "peer:";

class AgentLink : public PeerLink {
 public:
  explicit AgentLink(std::unique_ptr<peer::AgentClient> c) : c_(std::move(c)) {}
  std::string name() const override { return c_->peer(); }
  const peer::HelloResult& hello() const override { return c_->hello(); }
  bool lost() const override { return c_->lost(); }
  peer::DiscoverResult discover(const peer::DiscoverArgs& a) override { return c_->discover(a); }
  void apply(const std::vector<act::Change>& ch, const peer::DiscoverArgs& h) override { c_->apply(ch, h); }
  void keep() override { c_->keep(); }
  act::RestoreReport rollback() override { return c_->rollback(); }
  void probe_start(const peer::ProbeArgs& a) override { c_->probe_start(a); }
  peer::ProbeResult probe_stop() override { return c_->probe_stop(); }
  peer::Iperf3Result ensure_iperf3_server(const std::string& a, int p) override { return c_->ensure_iperf3_server(a, p); }
  void stop_iperf3_server(const std::string& a, int p) override { c_->stop_iperf3_server(a, p); }
  peer::ReconnectResult reconnect() override { return c_->reconnect(); }
  void close() override { c_->close(); }

 private:
  std::unique_ptr<peer::AgentClient> c_;
};

bool writable(const peer::KnobRow& r) { return r.presence.present && r.presence.writable && r.value.has_value(); }

}  // namespace

std::unique_ptr<PeerLink> agent_link(std::unique_ptr<peer::AgentClient> client) {
  return std::make_unique<AgentLink>(std::move(client));
}

RemoteEnd::RemoteEnd(std::unique_ptr<PeerLink> link, const SearchOptions& o, const SearchPlant& sp)
    : link_(std::move(link)), target_(o.ssh ? o.ssh->target : link_->name()), server_address_(o.peer), port_(o.port) {
  label_ = "peer " + link_->name();
  local_ifaces_ = sp.ends.front().interfaces;
  local_underlay_ = sp.plant.client_underlay;
  local_wg_ = sp.plant.client_wg;
  if (!o.peer_interfaces.empty()) {
    peer_ifaces_ = o.peer_interfaces;  // index-aligned with --interfaces (plan_search checked)
  } else {
    // Two VMs of one image: the same names on both ends, the tunnel's included.
    const auto& wg = sp.plant.client_wg;
    if (!wg.empty() && std::find(local_ifaces_.begin(), local_ifaces_.end(), wg) == local_ifaces_.end()) local_ifaces_.push_back(wg);
    peer_ifaces_ = local_ifaces_;
  }
  discover_.interfaces = o.interfaces.empty() && o.peer_interfaces.empty() ? std::vector<std::string>{} : peer_ifaces_;
  discover_.allow_underlay_mtu = o.allow_underlay_mtu;
  for (size_t i = 0; i < local_ifaces_.size(); ++i) {
    if (local_ifaces_[i] == sp.plant.client_wg) discover_.wireguard.push_back(peer_ifaces_[i]);
  }
  watch_ = peer_ifaces_;
  rows_ = link_->discover(discover_).knobs;
  mirrored_ = !o.per_end;
}

RemoteEnd::~RemoteEnd() { finish(); }

nlohmann::json RemoteEnd::facts_json() const {
  const auto& f = facts();
  nlohmann::json j = {{"ssh", target_}, {"hostname", f.hostname}, {"kernel", f.kernel}, {"nproc", f.nproc}, {"sku", f.sku}};
  // The same facts as this host's, for the peer's counterparts of this end's underlay and tunnel.
  if (auto d = f.nic_driver.find(peer_iface(local_underlay_)); !local_underlay_.empty() && d != f.nic_driver.end() && !d->second.empty()) {
    j["nic_driver"] = d->second;
  }
  if (auto m = f.wireguard_mode.find(peer_iface(local_wg_)); !local_wg_.empty() && m != f.wireguard_mode.end()) {
    j["wireguard_mode"] = m->second;
  }
  j["mode"] = mirrored_ ? "mirrored" : "per-end";
  for (size_t i = 0; i < local_ifaces_.size() && i < peer_ifaces_.size(); ++i) j["interfaces"][local_ifaces_[i]] = peer_ifaces_[i];
  return j;
}

std::string RemoteEnd::peer_iface(const std::string& local) const {
  for (size_t i = 0; i < local_ifaces_.size() && i < peer_ifaces_.size(); ++i) {
    if (local_ifaces_[i] == local) return peer_ifaces_[i];
  }
  return local;  // two VMs of one image: the same name
}

std::string RemoteEnd::param_of(const std::string& peer_id) const {
  for (const auto& [param, pid] : bindings_) {
    if (pid == peer_id) return param;
  }
  return "";
}

std::optional<std::string> RemoteEnd::value_at_discovery(const std::string& peer_id) const {
  for (const auto& r : rows_) {
    if (r.descriptor.id == peer_id) return r.value;
  }
  return std::nullopt;
}

std::string RemoteEnd::peer_id(const std::string& id) const {
  for (size_t i = 0; i < local_ifaces_.size(); ++i) {
    if (id.starts_with(local_ifaces_[i] + "/")) return peer_ifaces_[i] + id.substr(local_ifaces_[i].size());
  }
  return id;
}

std::string RemoteEnd::local_counterpart(const std::string& id) const {
  for (size_t i = 0; i < peer_ifaces_.size() && i < local_ifaces_.size(); ++i) {
    if (id.starts_with(peer_ifaces_[i] + "/")) return local_ifaces_[i] + id.substr(peer_ifaces_[i].size());
  }
  return id;
}

bool RemoteEnd::bind_mirror(const std::string& id) {
  const std::string pid = peer_id(id);
  for (const auto& r : rows_) {
    if (r.descriptor.id == pid && writable(r)) {
      bindings_[id] = pid;
      return true;
    }
  }
  return false;
}

void RemoteEnd::bind_per_end(const std::function<bool(const act::Descriptor&)>& keep, std::vector<SearchKnob>& knobs) {
  for (const auto& r : rows_) {
    if (!writable(r) || !keep(r.descriptor)) continue;
    act::Descriptor d = r.descriptor;
    d.id = kPeerPrefix + d.id;
    bindings_[d.id] = r.descriptor.id;
    knobs.push_back({d, *r.value});
  }
}

std::vector<std::pair<std::string, std::string>> RemoteEnd::peer_values(const Values& values) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [param, value] : values) {
    auto it = bindings_.find(param);
    if (it != bindings_.end()) out.emplace_back(it->second, value);
  }
  return out;
}

void RemoteEnd::apply(const Values& values) {
  std::vector<act::Change> changes;
  for (const auto& [id, value] : peer_values(values)) changes.push_back({.id = id, .value = value});
  if (changes.empty()) return;
  link_->apply(changes, discover_);
  applied_ = true;
}

std::vector<std::string> RemoteEnd::rollback() {
  std::vector<std::string> left;
  if (!applied_) return left;
  applied_ = false;
  if (link_->lost()) return left;  // the peer restores it by itself; the PeerLost that said so is on its way
  auto report = link_->rollback();
  for (const auto& item : report.items) {
    if (item.outcome == act::Outcome::Restored || item.outcome == act::Outcome::Unchanged) continue;
    left.push_back(fmt::format("{}: {}", label_, item.line()));
    spdlog::warn("{}", left.back());
  }
  return left;
}

void RemoteEnd::keep() {
  if (!applied_) return;
  applied_ = false;
  link_->keep();
}

void RemoteEnd::start() {
  if (probing_) stop();  // a measurement that threw left them running
  link_->probe_start({.interfaces = watch_});
  probing_ = true;
}

probes::Summary RemoteEnd::stop() {
  probing_ = false;
  return link_->probe_stop().summary;
}

std::string RemoteEnd::ensure_server() {
  auto r = link_->ensure_iperf3_server(server_address_, port_);
  started_server_ = started_server_ || r.started;
  if (!r.listening) {
    throw Error(fmt::format("{}: no iperf3 server listens on {}:{} there and none could be started: install iperf3 on the peer",
                            label_, server_address_, port_));
  }
  return r.started ? fmt::format("started the iperf3 server on {} again", label_) : "";
}

std::string RemoteEnd::recover() {
  applied_ = false;  // the peer restored it by itself
  probing_ = false;
  peer::ReconnectResult back;
  try {
    back = link_->reconnect();
  } catch (const Cancelled&) {  // Ctrl-C while the new session's hello was awaited: the search stops as on any Ctrl-C
    throw Interrupted{};
  } catch (const Error& e) {
    throw peer::PeerLost(fmt::format("{} is unreachable ({}): it restores its own originals by itself (at once when the "
                                     "session ended, within its lease when the link went silent)",
                                     label_, e.what()));
  }
  size_t restored = 0;
  std::string by;
  for (const auto& r : back.restores) {
    restored += r.report.items.size();
    by = r.by;
  }
  started_server_ = false;  // the old agent stopped what it started (a killed one's the new agent adopts: ensure says started)
  ensure_server();
  if (restored == 0) return "reconnected; the peer had nothing to restore";
  return fmt::format("reconnected; the peer had restored {} knob(s) by itself ({})", restored, by);
}

void RemoteEnd::finish() {
  if (finished_) return;
  finished_ = true;
  try {
    if (started_server_ && !link_->lost()) link_->stop_iperf3_server(server_address_, port_);  // a lost agent stopped it
  } catch (const std::exception& e) {
    spdlog::warn("{}: stopping the iperf3 server wgopt started there: {}", label_, e.what());
  }
  try {
    link_->close();
  } catch (const std::exception& e) {
    spdlog::warn("{}: closing the session: {}", label_, e.what());
  }
}

act::PeerProfile RemoteEnd::profile_part(const Values& values) const {
  act::PeerProfile p;
  p.knobs = peer_values(values);
  p.host = YAML::Load(facts_json().dump());
  return p;
}

std::unique_ptr<RemoteEnd> open_remote_end(const SearchOptions& o, const SearchPlant& sp, const SearchEnv& env,
                                           const std::atomic<bool>& interrupted) {
  if (!o.ssh) return nullptr;
  const nlohmann::json local_facts = env.host_facts(sp, o.sku);
  auto remote = std::make_unique<RemoteEnd>(env.connect_peer(o, sp, interrupted), o, sp);
  const auto& f = remote->facts();
  const int nproc = local_facts.value("nproc", 0);
  const std::string kernel = local_facts.value("kernel", "");
  if (remote->mirrored() && (f.nproc != nproc || f.kernel != kernel)) {
    remote->mirrored_ = false;
    remote->why_per_end_ = fmt::format("the two hosts differ (here {} CPUs, kernel {}; {}: {} CPUs, kernel {}): each end "
                                       "is searched on its own",
                                       nproc, kernel, remote->label(), f.nproc, f.kernel);
  }
  remote->ensure_server();
  return remote;
}

}  // namespace wgopt::experiments

#pragma once
// The far end of a peer-mode search reached over SSH (`wgopt search --peer ADDR --ssh [USER@]HOST`):
// the peer's own wgopt runs as an agent (experiments/peer/), and this stage object carries it
// through the pipeline.
//
//   open_remote_end   connect + hello (versions, the peer's facts), discover the peer's knobs, start
//                     the peer's iperf3 server bound to its mesh address when none listens there
//   bind_space        puts the peer's knobs in the space (RemoteEnd::bind_mirror / bind_per_end):
//                     mirrored by default when the two hosts' facts match (one parameter drives both
//                     ends, the peer's knob found under the peer's interface names), per-end with
//                     --per-end or when the facts differ (parameters "peer:ID")
//   AppliedCandidate  the peer's part of each candidate through the agent (its journal, its guardian
//                     leased over the session), kept or rolled back with the local part
//   measure           the peer's probes around each scenario (FarEndProbes)
//   persist           the peer's knobs and facts in the profile's `peer:` section
//   finish            stops the iperf3 server it started, ends the session
//
// A lost session surfaces as peer::PeerLost from whatever was talking to the peer; the peer restores
// its own originals (at once on EOF, within the lease on a silent drop). recover() reconnects and
// says what the peer restored, or throws PeerLost when the peer stays unreachable.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actuators/profile.hpp"
#include "experiments/measure/measure.hpp"
#include "experiments/peer/agent_client.hpp"

namespace wgopt::experiments {

struct SearchOptions;
struct SearchPlant;
struct SearchEnv;
struct SearchKnob;
using Values = std::map<std::string, std::string>;

// What the search needs of the agent session: AgentClient's calls, behind an interface so the
// characterization suite drives the both-ends flow with a fake peer (no ssh, no root).
class PeerLink {
 public:
  virtual ~PeerLink() = default;
  virtual std::string name() const = 0;  // "root@198.18.0.1", for messages
  virtual const peer::HelloResult& hello() const = 0;
  virtual bool lost() const = 0;  // the session died (every call throws PeerLost until reconnect())
  virtual peer::DiscoverResult discover(const peer::DiscoverArgs& args) = 0;
  virtual void apply(const std::vector<act::Change>& changes, const peer::DiscoverArgs& hints) = 0;  // arms the peer's lease
  virtual void keep() = 0;
  virtual act::RestoreReport rollback() = 0;
  virtual void probe_start(const peer::ProbeArgs& args) = 0;
  virtual peer::ProbeResult probe_stop() = 0;
  virtual peer::Iperf3Result ensure_iperf3_server(const std::string& address, int port) = 0;
  virtual void stop_iperf3_server(const std::string& address, int port) = 0;
  virtual peer::ReconnectResult reconnect() = 0;
  virtual void close() = 0;
};

// The real link: an AgentClient over ssh.
std::unique_ptr<PeerLink> agent_link(std::unique_ptr<peer::AgentClient> client);

class RemoteEnd : public FarEndProbes {
 public:
  RemoteEnd(std::unique_ptr<PeerLink> link, const SearchOptions& options, const SearchPlant& plant);
  ~RemoteEnd() override;  // finish(), errors logged

  const std::string& label() const { return label_; }  // "peer root@198.18.0.1"
  const peer::PeerFacts& facts() const { return link_->hello().facts; }
  // The peer's facts for the profile and the study, in the shape of this host's (`host:`): kernel,
  // nproc, SKU, nic_driver of the peer's underlay, wireguard_mode of its tunnel (when the peer could
  // tell), plus the ssh target, the mode (mirrored / per-end) and `interfaces` {this end's name:
  // the peer's}, which `wgopt retune --ssh` and the facts gate (host_gate.hpp) read back.
  nlohmann::json facts_json() const;
  // Mirrored unless --per-end, or the peer's nproc or kernel differ from this host's (then why_per_end says).
  bool mirrored() const { return mirrored_; }
  const std::string& why_per_end() const { return why_per_end_; }

  // Binding (stage 2). bind_mirror: the peer's counterpart of local knob `id`, bound to the same
  // parameter when it is present and writable there; false when the peer has no such knob.
  bool bind_mirror(const std::string& id);
  // bind_per_end: every writable peer knob passing `keep`, as parameters "peer:ID" (appended to `knobs`).
  void bind_per_end(const std::function<bool(const act::Descriptor&)>& keep, std::vector<SearchKnob>& knobs);
  const std::map<std::string, std::string>& bindings() const { return bindings_; }  // parameter -> peer knob id
  // This end's name for peer knob `peer_id` (the interfaces mapped back: xs-ws/mtu -> xs-wc/mtu);
  // `peer_id` itself for a knob of no mapped interface.
  std::string local_counterpart(const std::string& peer_id) const;
  // The parameter that drives peer knob `peer_id` ("" when none is bound to it).
  std::string param_of(const std::string& peer_id) const;
  // The peer's value of knob `peer_id` when it was discovered (nullopt: absent or unreadable there).
  std::optional<std::string> value_at_discovery(const std::string& peer_id) const;

  // The peer's part of a candidate: {peer knob id -> value} for the bound parameters in `values`.
  std::vector<std::pair<std::string, std::string>> peer_values(const Values& values) const;
  // One transaction on the peer, its guardian leased (nothing sent when no bound parameter is in `values`).
  void apply(const Values& values);
  // The peer's part back to its values before apply(); no-op when nothing is applied. Returns what
  // it could not put back, one line each ("peer root@10.0.0.2: ...").
  std::vector<std::string> rollback();
  void keep();      // the peer keeps it (`wgopt rollback --ssh` undoes it)
  // The session died (the peer's guardian or lease puts its originals back): until recover(), a
  // measurement in progress means nothing.
  bool lost() const { return link_->lost(); }

  // FarEndProbes: the peer's probes on its watched interfaces.
  void start() override;
  probes::Summary stop() override;

  // After PeerLost: a new session; returns what happened, one line ("reconnected; the peer had
  // restored N knob(s) by itself (by agent)"). Throws PeerLost when the peer cannot be reached again.
  std::string recover();
  // Starts the peer's iperf3 server through its agent when none listens (it died mid-search);
  // says so ("" when one did). Throws PeerLost, or Error when none can be started.
  std::string ensure_server();
  // Stops the iperf3 server this search started on the peer and ends the session. Never throws.
  void finish();

  // The profile's `peer:` section for these values (parameter ids).
  act::PeerProfile profile_part(const Values& values) const;

 private:
  friend std::unique_ptr<RemoteEnd> open_remote_end(const SearchOptions&, const SearchPlant&, const SearchEnv&, const std::atomic<bool>&);
  std::string peer_id(const std::string& local_id) const;
  std::string peer_iface(const std::string& local) const;  // the peer's counterpart of this end's interface

  std::unique_ptr<PeerLink> link_;
  std::string label_, target_;
  std::string server_address_;
  int port_ = 5201;
  peer::DiscoverArgs discover_;
  std::vector<std::string> watch_;            // the peer's interfaces its probes watch
  std::vector<std::string> local_ifaces_, peer_ifaces_;  // index-aligned name mapping (mirror)
  std::string local_underlay_, local_wg_;                // this end's underlay and tunnel (for the peer's facts)
  std::vector<peer::KnobRow> rows_;
  std::map<std::string, std::string> bindings_;
  bool mirrored_ = true;
  std::string why_per_end_;
  bool applied_ = false, probing_ = false, started_server_ = false, finished_ = false;
};

// Stage 1b: the remote end when the options ask for one (--ssh), else null. Connects through
// env.connect_peer, compares the two hosts' facts (env.host_facts here, the agent's hello there),
// discovers the peer's knobs and starts its iperf3 server. Throws UsageError/Error like
// AgentClient::connect (nothing changed on either end).
std::unique_ptr<RemoteEnd> open_remote_end(const SearchOptions& options, const SearchPlant& plant, const SearchEnv& env,
                                           const std::atomic<bool>& interrupted);

}  // namespace wgopt::experiments

#pragma once
// The controller's handle on the far end of a path: a typed client of the peer agent
// (`wgopt __agent`, experiments/peer/agent.hpp) over an ssh session (ssh_transport.hpp).
//
//   peer::SshOptions ssh{.target = "root@198.18.0.1", .identity = key, .known_hosts = kh,
//                        .peer_wgopt = "/usr/local/bin/wgopt"};
//   auto peer = peer::AgentClient::connect(ssh);          // ssh + hello: versions checked, host facts
//   auto knobs = peer->discover({.interfaces = {"wt0", "eth0"}});
//   try {
//     auto applied = peer->apply({{"net.ipv4.tcp_rmem", "4096 131072 16777216"}});  // one transaction,
//                                                        // the peer's guardian armed, heartbeats start
//     peer->ensure_iperf3_server("100.64.0.1", 5201);
//     peer->probe_start({.interfaces = {"wt0", "eth0"}});
//     ... run iperf3 from here ...
//     peer::ProbeResult far = peer->probe_stop();        // probes::Summary + per-second series
//     peer->rollback();                                  // or keep(); both disarm the lease
//   } catch (const peer::PeerLost& e) {
//     // The session died or a request timed out. The peer restores its own originals (at once on
//     // EOF, within the lease on a silent drop): mark the trial failed, then either
//     auto back = peer->reconnect();                     // new session; back.restores says what the
//                                                        // peer put back while we were away
//     // ... or end cleanly.
//   }
//   peer->close();                                       // bye: the agent rolls back anything open
//
// Errors: connect() throws UsageError (exit 2) for what the user must change (an unknown host key
// without --ssh-accept-new-host-key, an unresolvable host, a bad option) and Error (exit 1) for the
// rest (a changed host key, auth refused, connection refused or timed out, no wgopt on the peer,
// another protocol version), each ONE line naming the host and the fix; nothing was changed on
// either end. After connecting, an operation the agent refuses throws UsageError (bad id or value:
// nothing changed on the peer) or Error (a write failed: the peer's transaction restored what it
// wrote), prefixed "peer HOST: ". A lost session throws PeerLost (an Error) from the operation in
// progress and from every later one until reconnect().
//
// Threads: one caller at a time; a background thread renews the lease while a change is applied
// (armed). Every request has a timeout (ClientOptions); a request that times out ends the session.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "experiments/peer/line_process.hpp"
#include "experiments/peer/ops.hpp"
#include "experiments/peer/ssh_transport.hpp"

namespace wgopt::peer {

// The session to the peer is gone (ssh ended, a request or heartbeat timed out, the lease lapsed).
// Whatever was applied on the peer is restored by the peer itself.
class PeerLost : public Error {
 public:
  using Error::Error;
};

struct ClientOptions {
  std::chrono::milliseconds lease{10000};            // the peer restores an applied change unless renewed within this
  std::chrono::milliseconds heartbeat{2000};         // renewal period while armed (well under the lease)
  std::chrono::milliseconds hello_timeout{30000};    // spawn + connect + authenticate + hello
  std::chrono::milliseconds request_timeout{60000};  // any other request
  std::chrono::milliseconds reconnect_wait{30000};   // reconnect(): wait this long for the old agent to finish
  std::vector<std::string> fact_interfaces;          // hello reports NIC driver and WireGuard mode of these
  // Set by a signal (cli::install_interrupt_handlers): the hello's wait (connect, reconnect) and
  // reconnect's wait for the old agent end at once with Cancelled (the hello's with the ssh session
  // killed). Null: they wait their timeouts.
  const std::atomic<bool>* interrupted = nullptr;
};

// What reconnect() found.
struct ReconnectResult {
  HelloResult hello;
  // Restores the peer did by itself since the lost session started (its agent on EOF, or its
  // guardian when the lease lapsed), oldest first.
  std::vector<act::RestoreRecord> restores;
  bool old_agent_still_running = false;  // it had not finished within reconnect_wait
};

class AgentClient {
 public:
  // ssh to the peer and handshake. Throws as described above.
  static std::unique_ptr<AgentClient> connect(const SshOptions& ssh, ClientOptions options = {});
  // Any command that serves the protocol on its stdio: a local `wgopt __agent` (tests, a namespace
  // end), or a test double. `name` names it in messages.
  static std::unique_ptr<AgentClient> spawn(std::vector<std::string> argv, std::string name, ClientOptions options = {});
  ~AgentClient();  // close(), errors logged
  AgentClient(const AgentClient&) = delete;
  AgentClient& operator=(const AgentClient&) = delete;

  const std::string& peer() const { return name_; }  // the host, for messages
  const HelloResult& hello() const { return hello_; }
  // True once the session is lost (every operation throws PeerLost until reconnect()).
  bool lost() const;

  DiscoverResult discover(const DiscoverArgs& args = {});
  // Current canonical values, in the order asked. UsageError for an unknown or absent knob.
  std::vector<std::pair<std::string, std::string>> read(const std::vector<std::string>& ids, const DiscoverArgs& hints = {});
  // Canonical form of each value (nothing is written). UsageError naming the first bad one.
  std::vector<std::string> validate(const std::vector<act::Change>& changes, const DiscoverArgs& hints = {});
  std::vector<bool> equal(const std::vector<EqualItem>& items, const DiscoverArgs& hints = {});

  // One transaction on the peer (its journal, lock and guardian). The lease is armed before the
  // first write and renewed in the background until keep() or rollback().
  ApplyReply apply(const std::vector<act::Change>& changes, const DiscoverArgs& hints = {});
  // What apply() would write, checked as a transaction checks it (Transaction::preview on the peer).
  std::vector<act::Step> preview(const std::vector<act::Change>& changes, const DiscoverArgs& hints = {});
  void keep();                      // keep the values; `rollback_all` (or `wgopt rollback --ssh`) undoes them later
  act::RestoreReport rollback();    // back to the values before apply()
  RollbackAllResult rollback_all(); // every original the peer's journal holds
  // Guard the peer for a span without a change of ours open (e.g. around a measurement).
  LeaseState arm();
  LeaseState disarm();

  void probe_start(const ProbeArgs& args);
  ProbeResult probe_stop();
  // An iperf3 server bound to `address`:`port` on the peer: started unless something listens there.
  Iperf3Result ensure_iperf3_server(const std::string& address, int port = 5201);
  // Stops it only if this session's agent started it.
  Iperf3Result stop_iperf3_server(const std::string& address, int port = 5201);
  PingResult ping();
  StatusResult status(long long since_ms = 0);

  // A new session after a loss (or at any time): ends the old one, connects and handshakes again,
  // waits for the old agent to finish (its guardian may still be restoring), and reports what the
  // peer restored since the old session began. Throws like connect().
  ReconnectResult reconnect();
  // Ends the session: `bye` (the agent rolls back anything still applied, stops what it started)
  // and waits for it to exit. Idempotent; never throws.
  void close();

 private:
  using Spawn = std::function<std::unique_ptr<LineProcess>(LineProcess::Options)>;
  using Classify = std::function<SshFailure(const ExitStatus&, const std::string&)>;
  using EndReason = std::function<std::string(const ExitStatus&, const std::string&)>;  // an established session's end
  AgentClient(std::string name, Spawn spawn, Classify classify, EndReason end_reason, ClientOptions options);

  void start_session(long long since_ms, bool restore_open = false);
  nlohmann::json request(const std::string& op, const nlohmann::json& args, std::chrono::milliseconds timeout,
                         bool interruptible = false);
  // Waits for request `id`'s reply, the session's end or `timeout`; with `interruptible`, a set
  // opt_.interrupted ends the session and throws Cancelled.
  bool wait_reply(std::unique_lock<std::mutex>& lk, long long id, std::chrono::milliseconds timeout, bool interruptible,
                  const std::string& op);
  nlohmann::json request(const std::string& op, const nlohmann::json& args) { return request(op, args, opt_.request_timeout); }
  template <typename T>
  T call(const std::string& op, const nlohmann::json& args);
  [[noreturn]] void lose(const std::string& why);
  std::string exit_reason();
  void on_line(std::optional<LineFramer::Line> line);
  void start_heartbeat();
  void stop_heartbeat();
  void heartbeat_loop();
  void end_session();

  std::string name_;
  Spawn spawn_;
  Classify classify_;
  EndReason end_reason_;
  ClientOptions opt_;
  HelloResult hello_;
  std::unique_ptr<LineProcess> proc_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<long long, Reply> replies_;
  std::set<long long> pending_;
  long long next_id_ = 1;
  bool eof_ = false;
  bool lost_ = false;
  bool timed_out_ = false;  // the last request got no answer in time (lose() then killed ssh itself)
  std::string lost_reason_;

  // The lease, renewed by hb_thread_ while armed_.
  bool armed_ = false;
  bool hb_stop_ = false;
  std::chrono::steady_clock::time_point lease_safe_until_;  // the peer holds our change at least until then
  std::thread hb_thread_;
};

}  // namespace wgopt::peer

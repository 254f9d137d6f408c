#pragma once
// The peer agent: `wgopt __agent`, started by the controller over SSH on the peer. It answers the
// requests of experiments/peer/ops.hpp on stdin/stdout (protocol.hpp) by calling the same library
// the local commands use (discovery, Transaction + journal + lock, the 1 Hz Sampler, the iperf3
// server lifecycle), in its own WGOPT_STATE_DIR: the peer guards its own changes.
//
// Guarding: `apply` (and `arm`) start the peer's own guardian (`wgopt __watchdog`, own session) and
// arm its lease before anything is written. The controller's heartbeats renew the lease; they are
// answered by the reader thread even while a long request runs. If the lease runs out (controller
// hung, SSH session silently dropped, no EOF), the guardian SIGKILLs the agent and restores the
// journal. If the agent dies, the guardian restores. If stdin reaches EOF (controller exited or was
// killed, ssh ended), the agent rolls back the open transaction at once, stops the iperf3 servers
// and the sampler it started, records the restore (restore_log.hpp) and exits; should the request
// in progress not finish within 3 s, the tightened lease lets the guardian do it.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actuators/knob.hpp"
#include "actuators/restore.hpp"
#include "actuators/transaction.hpp"
#include "experiments/peer/ops.hpp"
#include "experiments/peer/protocol.hpp"
#include "actuators/watchdog.hpp"
#include "probes/sampler.hpp"
#include "workload/iperf3_server.hpp"

namespace wgopt::peer {

struct AgentOptions {
  std::string state_dir;      // journal, guardian lease, restores.jsonl
  std::string run_dir;        // the host lock, iperf3 pid files (act::run_dir())
  std::string wgopt_exe;      // the binary the guardian runs (`/proc/self/exe` resolved)
  std::string wgopt_version;  // reported in hello
  long long eof_grace_ms = 3000;  // at EOF, the guardian takes over if the request in progress lasts longer
};

class Agent {
 public:
  explicit Agent(AgentOptions options);
  ~Agent();  // finish("agent destroyed")

  // One request line -> one reply line (no '\n'). Never throws: a line that is not a request, or a
  // request that fails, gets an error reply. Not thread-safe except for heartbeat requests, which
  // the reader thread may pass here while another request runs.
  std::string handle_line(const std::string& line);
  // The reply for a line longer than kMaxRequestBytes (it was dropped unread).
  std::string oversized_reply() const;
  // True for a request line whose op is "heartbeat" (answered on the reader thread).
  static bool is_heartbeat(const std::string& line);

  // The session ended: roll back an open transaction, stop what this agent started, stop the
  // guardian (after a clean restore) and record what was restored. Idempotent.
  void finish(const std::string& why);
  // Stdin reached EOF while a request may still run: if armed, the guardian restores unless the
  // agent finishes within eof_grace_ms. Thread-safe.
  void tighten_lease();
  // After `bye`.
  bool done() const { return done_; }
  // False when finish() could not restore everything (the guardian retries after the agent exits).
  bool finished_clean() const { return finish_ok_; }

 private:
  nlohmann::json dispatch(const Request& r);
  nlohmann::json op_hello(const nlohmann::json& args);
  nlohmann::json op_status(const nlohmann::json& args);
  nlohmann::json op_discover(const nlohmann::json& args);
  nlohmann::json op_read(const nlohmann::json& args);
  nlohmann::json op_validate(const nlohmann::json& args);
  nlohmann::json op_preview(const nlohmann::json& args);
  nlohmann::json op_equal(const nlohmann::json& args);
  nlohmann::json op_apply(const nlohmann::json& args);
  nlohmann::json op_keep();
  nlohmann::json op_rollback();
  nlohmann::json op_rollback_all();
  nlohmann::json op_probe_start(const nlohmann::json& args);
  nlohmann::json op_probe_stop();
  nlohmann::json op_iperf3_ensure(const nlohmann::json& args);
  int orphan_server(const workload::ServerOptions& opts) const;
  void own_server(const workload::ServerOptions& opts);
  nlohmann::json op_iperf3_stop(const nlohmann::json& args);

  LeaseState arm(long long lease_ms);
  LeaseState disarm();
  LeaseState renew();
  act::ChangeSession& session();
  act::Host host() const;
  JournalState journal_state() const;
  std::optional<int> other_lock_holder() const;
  workload::ServerOptions iperf3_options(const Iperf3Args& a) const;

  AgentOptions opt_;
  bool done_ = false;
  bool finished_ = false;
  bool finish_ok_ = true;

  std::mutex lease_mu_;  // guards the guardian and the lease (heartbeats come from another thread)
  std::optional<act::Watchdog> guardian_;
  bool armed_ = false;
  long long lease_ms_ = 0;
  long long deadline_ms_ = 0;

  std::optional<act::ChangeSession> session_;
  act::RestoreReport restored_first_;
  struct OpenTransaction;
  std::unique_ptr<OpenTransaction> tx_;
  std::unique_ptr<probes::Sampler> sampler_;
  std::vector<workload::ServerOptions> servers_;  // the iperf3 servers this agent started
};

// `wgopt __agent`: serves requests from fd 0, replies on fd 1, until EOF or `bye`. Returns the exit
// code (0 after a clean end, 1 when finishing left something not restored).
int run_agent(AgentOptions options);

}  // namespace wgopt::peer

#pragma once
// The built-in testbed: a real two-host WireGuard path on one machine. Two network namespaces
// (P-srv, P-cli) joined by a veth underlay (P-us 198.18.0.1/24 <-> P-uc 198.18.0.2/24, MTU 1500),
// wireguard-go on each end (P-ws 100.64.0.1/10 listening on 51820, P-wc 100.64.0.2/10 on 51821,
// MTU 1420, fresh keys, one peer each with endpoint, allowed-ips and keepalive), and an iperf3
// server in P-srv bound to 100.64.0.1:5201. The names are fixed by the prefix P so that every part
// of wgopt (baseline, search, tests) can find the testbed without asking.
//
// Ownership: what `up` created is recorded in /run/wgopt/testbed-P.json (namespace inodes, daemon
// pids, boot id). Only a testbed with a matching state file is "ours"; a namespace, UAPI socket or
// process with our names but no state file is someone else's and makes `up` refuse.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/exec.hpp"
#include "common/place.hpp"
#include "probes/wireguard.hpp"
#include "workload/iperf3_server.hpp"

namespace wgopt {

// The fixed names and addresses of one testbed.
struct TestbedNames {
  std::string prefix;        // [a-z0-9]{1,6}
  std::string srv_netns;     // P-srv
  std::string cli_netns;     // P-cli
  std::string srv_underlay;  // P-us, in P-srv
  std::string cli_underlay;  // P-uc, in P-cli
  std::string srv_wg;        // P-ws, in P-srv
  std::string cli_wg;        // P-wc, in P-cli

  static constexpr const char* srv_underlay_addr = "198.18.0.1";
  static constexpr const char* cli_underlay_addr = "198.18.0.2";
  static constexpr int underlay_prefix_len = 24;
  static constexpr int underlay_mtu = 1500;
  static constexpr const char* srv_mesh_addr = "100.64.0.1";
  static constexpr const char* cli_mesh_addr = "100.64.0.2";
  static constexpr int mesh_prefix_len = 10;
  static constexpr int wg_mtu = 1420;
  static constexpr int srv_listen_port = 51820;
  static constexpr int cli_listen_port = 51821;
  static constexpr int iperf3_port = 5201;
  static constexpr int keepalive_seconds = 25;

  Place server_place() const { return Place::netns(srv_netns); }
  Place client_place() const { return Place::netns(cli_netns); }
};

// Names for `prefix`. Throws UsageError unless prefix is [a-z0-9]{1,6}.
TestbedNames testbed_names(const std::string& prefix);

// `wg show IF dump` for one interface, parsed by the probes' parser (the private key is dropped).
// Throws wgopt::Error when wg fails or prints something else.
probes::WgInterface read_wg_interface(CommandRunner& runner, const Place& place, const std::string& ifname);

// The testbed's OpenSSH server (`wgopt testbed up --ssh`): a real sshd in P-srv listening on the
// underlay address 198.18.0.1:22 with its own config, a fresh host key and a fresh client key in
// DIR = STATE_DIR/testbed-P-ssh (recorded in the state file; `down` stops sshd and removes DIR). The
// two ends share one filesystem, so the server end must act as another host: its sessions get their
// own WGOPT_STATE_DIR (DIR/peer-state: journal, lock, guardian, studies) and WGOPT_RUN_DIR
// (DIR/peer-run), set by sshd_config's SetEnv. Reach it from P-cli (the underlay lives there).
struct TestbedSsh {
  std::string dir;
  std::string target;           // root@198.18.0.1
  std::string identity;         // DIR/client_ed25519 (its .pub is the only authorized key)
  std::string known_hosts;      // DIR/known_hosts: 198.18.0.1 and the host key
  std::string host_key;         // DIR/ssh_host_ed25519_key
  std::string config;           // DIR/sshd_config
  std::string log;              // DIR/sshd.log
  std::string peer_state_dir;   // DIR/peer-state
  std::string peer_run_dir;     // DIR/peer-run
  std::string peer_wgopt;       // the wgopt binary the peer runs (this one)
  int sshd_pid = 0;             // 0: not running
  bool listening = false;       // something listens on 198.18.0.1:22 in P-srv
  // What up_ssh did: found it healthy, started a dead sshd again on its keys (the peer's state
  // kept), or made it anew (fresh keys, a fresh peer state).
  enum class Made { found, restarted, anew } made = Made::found;

  static constexpr int port = 22;
  // --ssh root@198.18.0.1 --ssh-identity ... --ssh-known-hosts ... --peer-wgopt ...
  std::vector<std::string> flags() const;
};

// What one end of the testbed looks like right now.
struct TestbedEnd {
  std::string netns;
  bool netns_present = false;
  bool underlay_up = false;  // link up with its address
  bool wg_up = false;        // wireguard interface up with its mesh address and MTU
  int wg_mtu = 0;
  int wireguard_go_pid = 0;  // 0 = no wireguard-go serving this end's interface
  std::optional<probes::WgInterface> wg;  // nullopt when `wg show` failed
};

struct TestbedStatus {
  std::string prefix;
  bool state_file = false;   // /run/wgopt/testbed-P.json exists (we built it)
  bool ours = false;         // state file matches what is there (boot id, namespace inodes)
  bool healthy = false;      // every part below is present and the client has a handshake
  std::vector<std::string> problems;  // one line each, empty when healthy
  std::size_t ssh_problems = 0;       // of them, the last ones: the sshd's (`up --ssh` repairs those alone)
  TestbedEnd server;
  TestbedEnd client;
  int iperf3_pid = 0;        // 0 = no iperf3 server listening on 100.64.0.1:5201
  std::optional<long long> handshake_age_s;  // client's peer; nullopt = never
  bool anything_present = false;  // some namespace, socket or process with our names exists
  std::optional<TestbedSsh> ssh;  // when `up --ssh` added an sshd
  std::vector<int> in_use_by;     // other processes measuring on it now (Testbed::users)

  nlohmann::json to_json() const;
};

struct UpResult {
  enum class Outcome { created, already_up, rebuilt };
  Outcome outcome = Outcome::created;
  std::string rebuilt_because;  // the problems that made us rebuild
  TestbedStatus status;
  double ping_ms = 0;           // round trip of the check ping across the tunnel
  std::optional<TestbedSsh> ssh;  // with `up --ssh`, or an sshd made whole again (sshd_repaired)
  bool sshd_repaired = false;     // the testbed was up but its sshd was not: ssh->made says how it was made whole
};

struct DownResult {
  std::vector<std::string> removed;  // "netns wgopt-srv", "wireguard-go pid 123", ...
};

class Testbed {
 public:
  // runner: every command goes through it (tests inject a failing one). state_dir holds the state
  // file; the default is the one the CLI and other commands use.
  explicit Testbed(const std::string& prefix = "wgopt",
                   std::shared_ptr<CommandRunner> runner = default_runner(),
                   std::string state_dir = "/run/wgopt");

  const TestbedNames& names() const { return names_; }
  Place client_place() const { return names_.client_place(); }
  Place server_place() const { return names_.server_place(); }
  std::string server_address() const { return TestbedNames::srv_mesh_addr; }
  int iperf3_port() const { return TestbedNames::iperf3_port; }
  std::string state_file() const;
  // The iperf3 server's place, address and port, for workload::server_state / stop_server.
  workload::ServerOptions iperf3_server() const;

  // Builds the testbed, or does nothing if ours is already healthy (a ping crosses it), or tears
  // down and rebuilds ours if it is half-broken. Returns only after the handshake completed and a
  // ping crossed the tunnel. Throws Error (not root, missing tool, a name taken by something that is
  // not ours, a step that failed); whatever this call built is torn down before it throws.
  UpResult up();

  // Adds (or finds healthy) the testbed's sshd (TestbedSsh) on a testbed that is up; `peer_wgopt` is
  // the wgopt binary peer sessions run. Idempotent. Throws Error (testbed not up, sshd or ssh-keygen
  // missing: install openssh-server; sshd does not start or listen) after removing what it made.
  TestbedSsh up_ssh(const std::string& peer_wgopt);

  // `wgopt testbed up [--ssh]`: up(), then its sshd: with `ssh` (up_ssh(self_exe)), and without it
  // when the testbed has an sshd that died (started again on its keys for the binary it ran, so a
  // plain `up` never says "healthy" of a testbed `status` calls BROKEN; found by an exploratory test).
  UpResult up_with_ssh(bool ssh, const std::string& self_exe);

  // Removes everything ours: processes in our namespaces (wireguard-go, iperf3, sshd and its
  // sessions), links, namespaces, UAPI sockets, the ssh keys and the state file. Throws Error if the
  // names are taken by something not ours, or, unless `even_in_use`, while another process holds
  // the testbed in use (hold_in_use: a search measuring on it lost its path mid-trial).
  DownResult down(bool even_in_use = false);

  // A command measuring on the testbed (search, retune, baseline) holds it in use while it runs: a
  // shared flock on STATE_DIR/testbed-P.use, dropped by the kernel when the holder exits. Null when
  // the file cannot be opened (nothing fails for it: `down` just cannot see this user).
  std::shared_ptr<const void> hold_in_use() const;
  // The pids of the other processes holding it in use now.
  std::vector<int> users() const;

  // Reads the current state; never changes anything. Needs root (wg show).
  TestbedStatus status();

 private:
  // Root, and the tools on PATH (only `ip` unless all_tools). Throws Error naming the fix.
  void check_preconditions(const std::string& action, bool all_tools);
  void build();
  void teardown(DownResult& result);
  std::string ssh_dir() const;
  TestbedSsh ssh_paths(const std::string& peer_wgopt) const;
  void read_ssh_status(const nlohmann::json& state, TestbedStatus& s);
  void remove_ssh(DownResult& result);
  // Starts sshd on the files of `ssh` (config, host key) in the server namespace and waits until it
  // listens; fills sshd_pid and listening. Throws Error naming the log.
  void start_sshd(TestbedSsh& ssh);
  std::optional<double> ping_once();

  TestbedNames names_;
  std::shared_ptr<CommandRunner> runner_;
  std::string state_dir_;
};

// Brings a testbed up for the lifetime of a scope (tests) and tears it down at the end, even when
// the scope is left by an exception. Errors from the tear-down are logged, not thrown.
class TestbedGuard {
 public:
  explicit TestbedGuard(const std::string& prefix, std::shared_ptr<CommandRunner> runner = default_runner());
  ~TestbedGuard();
  TestbedGuard(const TestbedGuard&) = delete;
  TestbedGuard& operator=(const TestbedGuard&) = delete;
  Testbed& testbed() { return testbed_; }
  const UpResult& up_result() const { return up_; }

 private:
  Testbed testbed_;
  UpResult up_;
};

}  // namespace wgopt

#pragma once
// Reaching a peer over OpenSSH: the system `ssh` client, spawned as an argv list, runs the peer's own
// wgopt as `wgopt __agent` on the session's stdin/stdout. No daemon, no port of our own.
//
// The ssh command line (ssh_argv):
//   ssh -T -a -x -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=3 -o ServerAliveCountMax=3
//       -o ClearAllForwardings=yes -o StrictHostKeyChecking=yes|accept-new [-o UserKnownHostsFile=F]
//       [-i KEY -o IdentitiesOnly=yes] [-o K=V ...] -- [USER@]HOST PEER_WGOPT __agent
// ssh joins the remote argv with spaces and hands the string to the peer user's login shell, so every
// remote word must mean the same to any shell: require_remote_safe() allows only [A-Za-z0-9_./:=,@%+-]
// (no quoting, no expansion, no word splitting) and refuses anything else with one line. "--" ends
// ssh's own options, so nothing after the destination is ever read as an ssh option.
#include <string>
#include <vector>

#include "common/place.hpp"
#include "experiments/peer/line_process.hpp"

namespace wgopt::peer {

struct SshOptions {
  std::string target;                 // [USER@]HOST as typed after --ssh
  std::string identity;               // --ssh-identity FILE (empty: ssh's defaults / agent)
  std::string known_hosts;            // --ssh-known-hosts FILE (empty: the user's ~/.ssh/known_hosts)
  bool accept_new_host_key = false;   // --ssh-accept-new-host-key: StrictHostKeyChecking=accept-new
  std::vector<std::string> options;   // --ssh-option KEY=VALUE, each passed as -o KEY=VALUE
  std::string peer_wgopt = "wgopt";   // --peer-wgopt PATH: the wgopt binary on the peer
  int connect_timeout_s = 10;
  int server_alive_interval_s = 3;    // ssh gives up on a silent server after interval x count
  int server_alive_count_max = 3;
  Place from;                         // where the ssh client runs (the testbed's client namespace)
  std::string ssh_program = "ssh";
};

// The target split: user may be empty (ssh's default user).
struct SshTarget {
  std::string user, host;
};
// [USER@]HOST: USER of [A-Za-z0-9_.-] (not starting with '-'), HOST a name of [A-Za-z0-9.-], an IPv4
// or an IPv6 literal. Throws UsageError naming the target and the rule.
SshTarget parse_ssh_target(const std::string& target);

// Checks every option before anything runs: the target, the identity file (readable), the
// known_hosts file's directory, each --ssh-option (KEY=VALUE, no control characters, and none of the
// options that run a command or that wgopt sets itself), the peer wgopt path. Throws UsageError.
void validate(const SshOptions& o);

// Throws UsageError unless `word` is non-empty and only [A-Za-z0-9_./:=,@%+-]; `what` names it.
void require_remote_safe(const std::string& word, const std::string& what);

// The argv that runs `remote` on the peer (wrapped for o.from). Calls validate(o) and
// require_remote_safe on each remote word.
std::vector<std::string> ssh_argv(const SshOptions& o, const std::vector<std::string>& remote);
// {peer_wgopt, "__agent"}: the remote argv of the agent.
std::vector<std::string> agent_remote_argv(const SshOptions& o);

// Why an ssh session ended before the agent answered, as ONE line naming the host and the fix.
struct SshFailure {
  bool usage = false;  // the user must change how wgopt is called (exit 2), else a runtime problem (1)
  std::string message;
};
// From ssh's exit status and stderr (ssh exits 255 for its own errors; otherwise the status is the
// remote command's: 127 "command not found", 126 not executable, anything else the agent's own).
SshFailure classify_ssh_failure(const SshOptions& o, const ExitStatus& status, const std::string& stderr_text);

// Why an established session ended, one line naming the host: ssh's own last message when it said
// one (the connection closed, timed out, broke), else the agent's end (its exit status; 255 with
// nothing from ssh: killed, or its sshd session ended). The stderr tail mixes the agent's log lines
// with ssh's: the connect-time classifier read the agent's last log line as ssh's error.
std::string describe_session_end(const SshOptions& o, const ExitStatus& status, const std::string& stderr_text);

}  // namespace wgopt::peer

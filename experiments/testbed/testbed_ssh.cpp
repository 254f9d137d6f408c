// The testbed's real OpenSSH server (`wgopt testbed up --ssh`, see TestbedSsh in testbed.hpp): keys,
// config, known_hosts and the daemon in the server namespace. Nothing here is reachable from the
// host: sshd listens only on the underlay address inside P-srv.
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "experiments/testbed/testbed.hpp"
#include "experiments/testbed/testbed_host.hpp"
#include "workload/iperf3_server.hpp"

namespace wgopt {

namespace th = testbed_host;
using namespace std::chrono_literals;

std::vector<std::string> TestbedSsh::flags() const {
  return {"--ssh", target, "--ssh-identity", identity, "--ssh-known-hosts", known_hosts, "--peer-wgopt", peer_wgopt};
}

std::string Testbed::ssh_dir() const { return state_dir_ + "/testbed-" + names_.prefix + "-ssh"; }

TestbedSsh Testbed::ssh_paths(const std::string& peer_wgopt) const {
  const std::string d = ssh_dir();
  return {.dir = d,
          .target = fmt::format("root@{}", TestbedNames::srv_underlay_addr),
          .identity = d + "/client_ed25519",
          .known_hosts = d + "/known_hosts",
          .host_key = d + "/ssh_host_ed25519_key",
          .config = d + "/sshd_config",
          .log = d + "/sshd.log",
          .peer_state_dir = d + "/peer-state",
          .peer_run_dir = d + "/peer-run",
          .peer_wgopt = peer_wgopt};
}

namespace {

std::string sshd_config(const TestbedSsh& s) {
  return fmt::format(
      "# wgopt testbed sshd: the server end reached as a separate host. Written by `wgopt testbed up --ssh`.\n"
      "Port {port}\n"
      "ListenAddress {addr}\n"
      "HostKey {host_key}\n"
      "PidFile {dir}/sshd.pid\n"
      "AuthorizedKeysFile {dir}/authorized_keys\n"
      "PermitRootLogin prohibit-password\n"
      "AllowUsers root\n"
      "PubkeyAuthentication yes\n"
      "PasswordAuthentication no\n"
      "KbdInteractiveAuthentication no\n"
      "UsePAM no\n"
      "PermitTTY no\n"
      "X11Forwarding no\n"
      "AllowTcpForwarding no\n"
      "AllowAgentForwarding no\n"
      "AllowStreamLocalForwarding no\n"
      "PermitTunnel no\n"
      "PermitUserEnvironment no\n"
      "PrintMotd no\n"
      "ClientAliveInterval 5\n"
      "ClientAliveCountMax 3\n"
      "# The peer's own journal, lock, guardian and studies, and its own run dir.\n"
      "SetEnv WGOPT_STATE_DIR={state} WGOPT_RUN_DIR={run}\n",
      fmt::arg("port", TestbedSsh::port), fmt::arg("addr", TestbedNames::srv_underlay_addr),
      fmt::arg("host_key", s.host_key), fmt::arg("dir", s.dir), fmt::arg("state", s.peer_state_dir),
      fmt::arg("run", s.peer_run_dir));
}

// "ssh-ed25519 AAAA..." of a .pub file (the comment dropped).
std::string public_key(const std::string& pub_path) {
  auto text = read_file(pub_path);
  auto f = split_ws(text.value_or(""));
  if (f.size() < 2) throw Error(fmt::format("{} is not an ssh public key", pub_path));
  return f[0] + " " + f[1];
}

int read_pid(const std::string& path) {
  try {
    return std::stoi(trim(read_file(path).value_or("0")));
  } catch (...) {
    return 0;
  }
}

}  // namespace

void Testbed::read_ssh_status(const nlohmann::json& state, TestbedStatus& s) {
  if (!state.contains("ssh")) return;
  TestbedSsh ssh = ssh_paths(state["ssh"].value("peer_wgopt", std::string()));
  const int pid = state["ssh"].value("sshd_pid", 0);
  ssh.sshd_pid = th::process_alive(pid) ? pid : 0;
  try {
    ssh.listening = workload::is_listening(server_place(), TestbedNames::srv_underlay_addr, TestbedSsh::port);
  } catch (const Error&) {
    ssh.listening = false;
  }
  if (ssh.sshd_pid) s.anything_present = true;
  if (!ssh.sshd_pid) s.problems.push_back(fmt::format("the testbed's sshd (pid {}) is not running", pid));
  else if (!ssh.listening) s.problems.push_back(fmt::format("nothing listens on {}:22 in {}", TestbedNames::srv_underlay_addr, names_.srv_netns));
  if (!ssh.sshd_pid || !ssh.listening) s.ssh_problems = 1;
  s.ssh = ssh;
}

void Testbed::remove_ssh(DownResult& result) {
  const std::string d = ssh_dir();
  if (!std::filesystem::exists(d)) return;
  std::error_code ec;
  std::filesystem::remove_all(d, ec);
  if (ec) throw Error(fmt::format("cannot remove the testbed's ssh keys in {}: {}", d, ec.message()));
  result.removed.push_back("ssh keys, config and peer state " + d);
}

UpResult Testbed::up_with_ssh(bool ssh, const std::string& self_exe) {
  UpResult r = up();
  const bool sshd_broken = r.outcome == UpResult::Outcome::already_up && r.status.ssh && r.status.ssh_problems > 0;
  if (!ssh && !sshd_broken) return r;
  r.ssh = up_ssh(ssh ? self_exe : r.status.ssh->peer_wgopt);
  if (sshd_broken) {
    r.sshd_repaired = true;
    r.status = status();
  }
  return r;
}

TestbedSsh Testbed::up_ssh(const std::string& peer_wgopt) {
  require_root("wgopt testbed up --ssh");
  for (const char* tool : {"sshd", "ssh-keygen", "ssh"}) {
    if (find_executable(tool).empty()) {
      throw Error(fmt::format("wgopt testbed up --ssh needs `{}`: install openssh-server and openssh-client (apt-get "
                              "install openssh-server openssh-client, or scripts/install-deps.sh)",
                              tool));
    }
  }
  th::DirLock lock(state_dir_);
  auto state = th::load_json(state_file());
  if (!state || state->value("phase", "") != "up") {
    throw Error(fmt::format("testbed {} is not up: run `wgopt testbed up --prefix {}` first", names_.prefix, names_.prefix));
  }
  TestbedStatus current;
  read_ssh_status(*state, current);
  if (current.ssh && current.ssh->sshd_pid && current.ssh->listening && current.ssh->peer_wgopt == peer_wgopt) {
    return *current.ssh;
  }
  // Only sshd died: started again on its keys, and the emulated peer's state (its journal of
  // originals) kept. It was all removed and made anew, the peer's journal with it (found by an
  // exploratory test).
  if (current.ssh && !current.ssh->sshd_pid && current.ssh->peer_wgopt == peer_wgopt &&
      std::filesystem::exists(current.ssh->host_key) && std::filesystem::exists(current.ssh->identity) &&
      std::filesystem::exists(current.ssh->config)) {
    TestbedSsh ssh = *current.ssh;
    ssh.made = TestbedSsh::Made::restarted;
    start_sshd(ssh);
    (*state)["ssh"]["sshd_pid"] = ssh.sshd_pid;
    th::save_json(state_file(), *state);
    spdlog::info("testbed {}: its sshd was not running: started it again (pid {}) on its keys, the peer's state kept", names_.prefix,
                 ssh.sshd_pid);
    return ssh;
  }
  // Half there (sshd died, another binary): start over with fresh keys.
  if (current.ssh && current.ssh->sshd_pid) th::stop_process(current.ssh->sshd_pid);
  DownResult ignored;
  remove_ssh(ignored);

  TestbedSsh ssh = ssh_paths(peer_wgopt);
  ssh.made = TestbedSsh::Made::anew;
  try {
    for (const auto& d : {ssh.dir, ssh.peer_state_dir, ssh.peer_run_dir}) {
      if (::mkdir(d.c_str(), 0700) != 0) throw Error(fmt::format("cannot create {}: {}", d, std::strerror(errno)));
    }
    auto keygen = [&](const std::string& file, const std::string& comment) {
      run_checked(*runner_, {.argv = {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file}, .timeout = 15s},
                  "cannot generate an ssh key");
    };
    keygen(ssh.host_key, "wgopt-testbed-" + names_.prefix + "-host");
    keygen(ssh.identity, "wgopt-testbed-" + names_.prefix + "-client");
    // restrict: no pty, no forwarding of any kind for this key.
    write_file_atomic(ssh.dir + "/authorized_keys", "restrict " + public_key(ssh.identity + ".pub") + "\n", 0600);
    write_file_atomic(ssh.known_hosts, fmt::format("{} {}\n", TestbedNames::srv_underlay_addr, public_key(ssh.host_key + ".pub")), 0600);
    write_file_atomic(ssh.config, sshd_config(ssh), 0600);
    start_sshd(ssh);
    (*state)["ssh"] = {{"dir", ssh.dir}, {"sshd_pid", ssh.sshd_pid}, {"peer_wgopt", peer_wgopt}};
    th::save_json(state_file(), *state);
  } catch (...) {
    if (int pid = read_pid(ssh.dir + "/sshd.pid")) th::stop_process(pid);
    DownResult cleaned;
    try {
      remove_ssh(cleaned);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
    }
    throw;
  }
  return ssh;
}

void Testbed::start_sshd(TestbedSsh& ssh) {
  ::mkdir("/run/sshd", 0755);  // sshd's privilege separation directory (Debian's unit creates it; nothing does without systemd)
  const std::string sshd = find_executable("sshd");  // sshd re-executes itself: it needs an absolute path
  run_checked(*runner_, {.argv = server_place().wrap({sshd, "-t", "-f", ssh.config}), .timeout = 15s},
              "the testbed's sshd_config does not pass `sshd -t`");
  // A killed sshd leaves its pid file: read before the new one writes its own, it named a dead
  // process (found in review).
  std::error_code ec;
  std::filesystem::remove(ssh.dir + "/sshd.pid", ec);
  // sshd daemonises (like wireguard-go): it outlives this command; its stdio must not be our pipes.
  auto started = runner_->run({.argv = server_place().wrap({sshd, "-f", ssh.config, "-E", ssh.log}), .timeout = 15s,
                               .capture_output = false});
  if (!started.ok()) throw Error(fmt::format("sshd did not start in {} ({}): see {}", names_.srv_netns, started.brief(), ssh.log));
  ssh.sshd_pid = 0;
  ssh.listening = false;
  for (int i = 0; i < 250 && !(ssh.sshd_pid && ssh.listening); ++i) {
    ssh.sshd_pid = read_pid(ssh.dir + "/sshd.pid");
    ssh.listening = workload::is_listening(server_place(), TestbedNames::srv_underlay_addr, TestbedSsh::port);
    if (!(ssh.sshd_pid && ssh.listening)) std::this_thread::sleep_for(20ms);
  }
  if (!ssh.sshd_pid || !ssh.listening) {
    throw Error(fmt::format("sshd does not listen on {}:22 in {} within 5 s: see {}", TestbedNames::srv_underlay_addr,
                            names_.srv_netns, ssh.log));
  }
}

}  // namespace wgopt

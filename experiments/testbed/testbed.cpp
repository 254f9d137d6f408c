// Building and tearing down the testbed. The order of `build` matters: state file first (so a
// crash mid-way still leaves a record `down` trusts), namespaces, underlay, WireGuard, iperf3, and
// last the proof that it works (handshake and a ping across the tunnel).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "actuators/lock.hpp"
#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/testbed/testbed.hpp"
#include "experiments/testbed/testbed_host.hpp"
#include "workload/iperf3_server.hpp"

namespace wgopt {

namespace th = testbed_host;
using namespace std::chrono_literals;

namespace {
const char* const kUapiDir = "/var/run/wireguard/";

struct Tool {
  const char* name;
  const char* package;
};
constexpr Tool kTools[] = {{"ip", "iproute2"},          {"wg", "wireguard-tools"}, {"wireguard-go", "wireguard-go"},
                           {"iperf3", "iperf3"},        {"ping", "iputils-ping"}};

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }
}  // namespace

Testbed::Testbed(const std::string& prefix, std::shared_ptr<CommandRunner> runner, std::string state_dir)
    : names_(testbed_names(prefix)), runner_(std::move(runner)), state_dir_(std::move(state_dir)) {}

workload::ServerOptions Testbed::iperf3_server() const {
  return {.place = server_place(), .bind_address = TestbedNames::srv_mesh_addr, .port = TestbedNames::iperf3_port};
}

std::string Testbed::state_file() const { return state_dir_ + "/testbed-" + names_.prefix + ".json"; }

void Testbed::check_preconditions(const std::string& action, bool all_tools) {
  require_root(action);
  for (const auto& t : kTools) {
    if (!all_tools && std::string(t.name) != "ip") continue;
    if (find_executable(t.name).empty()) {
      throw Error(fmt::format("{} needs `{}`, which is not on PATH: install it (apt-get install {}, or "
                              "scripts/install-deps.sh)",
                              action, t.name, t.package));
    }
  }
}

// Things with our names that are not ours; each one line naming the fix.
static std::vector<std::string> foreign_conflicts(const Testbed& tb, const TestbedStatus& s) {
  std::vector<std::string> out;
  const auto& n = tb.names();
  const std::string why = s.state_file ? "does not match " + tb.state_file() : "has no " + tb.state_file();
  std::vector<ino_t> our_inodes;
  for (const auto& ns : {n.srv_netns, n.cli_netns}) {
    const ino_t ino = th::netns_inode(ns);
    if (!ino) continue;
    if (s.ours) {
      our_inodes.push_back(ino);
    } else {
      out.push_back(fmt::format("network namespace '{}' already exists and is not a wgopt testbed ({}): remove "
                                "it (ip netns del {}) or choose another --prefix",
                                ns, why, ns));
    }
  }
  // A namespace of ours deleted by hand leaves its wireguard-go in the inode the state file
  // recorded: ours too, for teardown to stop (found by an exploratory test: `up` and `down` both
  // refused it as "outside this testbed" and the half-built testbed could not be repaired).
  if (s.ours) {
    if (auto state = th::load_json(tb.state_file())) {
      for (const char* key : {"srv_netns_inode", "cli_netns_inode"}) {
        if (const ino_t ino = state->value(key, 0ull)) our_inodes.push_back(ino);
      }
    }
  }
  for (const auto& ifname : {n.srv_wg, n.cli_wg}) {
    for (const auto& p : th::wireguard_go_for(ifname)) {
      if (std::find(our_inodes.begin(), our_inodes.end(), p.netns) == our_inodes.end()) {
        out.push_back(fmt::format("wireguard-go pid {} already serves an interface named '{}' outside this "
                                  "testbed: stop it or choose another --prefix",
                                  p.pid, ifname));
      }
    }
    const std::string sock = kUapiDir + ifname + ".sock";
    if (!s.ours && exists(sock)) {
      out.push_back(fmt::format("{} already exists (a wireguard-go that is not ours uses the name '{}'): stop "
                                "it and remove the socket, or choose another --prefix",
                                sock, ifname));
    }
  }
  return out;
}

std::optional<double> Testbed::ping_once() {
  auto r = runner_->run({.argv = client_place().wrap({"ping", "-n", "-q", "-c", "1", "-W", "1", server_address()}),
                         .timeout = 5s});
  if (!r.ok()) return std::nullopt;
  // "rtt min/avg/max/mdev = 0.412/0.412/0.412/0.000 ms"
  auto pos = r.out.find(" = ");
  if (pos == std::string::npos) return std::nullopt;
  auto parts = split(split_ws(r.out.substr(pos + 3)).front(), '/');
  try {
    return parts.size() >= 2 ? std::optional<double>(std::stod(parts[1])) : std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
}

namespace {

struct UseHold {
  int fd = -1;
  ~UseHold() {
    if (fd >= 0) ::close(fd);  // the flock goes with the descriptor
  }
};

std::string use_file(const std::string& state_dir, const std::string& prefix) { return state_dir + "/testbed-" + prefix + ".use"; }

std::string users_text(const std::vector<int>& pids) {
  return fmt::format("wgopt pid {}{}", pids.front(), pids.size() > 1 ? fmt::format(" and {} more", pids.size() - 1) : "");
}

}  // namespace

UpResult Testbed::up() {
  check_preconditions("wgopt testbed up", true);
  th::DirLock lock(state_dir_);
  TestbedStatus before = status();
  // A dead sshd alone is no reason to rebuild: `up --ssh` starts it again (up_ssh), the peer's state kept.
  const bool only_sshd = before.ours && before.ssh_problems > 0 && before.problems.size() == before.ssh_problems;
  if (before.healthy || only_sshd) {
    if (auto ms = ping_once()) return UpResult{.outcome = UpResult::Outcome::already_up, .status = before, .ping_ms = *ms};
    before.problems.push_back(fmt::format("no ping crosses the tunnel to {}", server_address()));
  }
  auto conflicts = foreign_conflicts(*this, before);
  if (!conflicts.empty()) throw Error(conflicts.front());

  UpResult res;
  if (before.state_file) {
    // Not rebuilt under a command measuring on it (found in review: a second search, a baseline or
    // `testbed up` during a first search's outage tore its testbed down and built another).
    if (const auto users_now = users(); !users_now.empty()) {
      throw Error(fmt::format("testbed {} is not healthy ({}) but is in use by {}: it is not rebuilt under it; let it finish or "
                              "stop it, then run `wgopt testbed up --prefix {}`",
                              names_.prefix, join(before.problems, "; "), users_text(users_now), names_.prefix));
    }
    if (before.anything_present) {
      res.outcome = UpResult::Outcome::rebuilt;
      res.rebuilt_because = join(before.problems, "; ");
      spdlog::debug("testbed {} is half-broken ({}): rebuilding it", names_.prefix, res.rebuilt_because);
    }
    DownResult ignored;
    teardown(ignored);
  }
  double ping_ms = 0;
  try {
    build();
    auto ms = ping_once();
    ping_ms = ms.value_or(0);
  } catch (...) {
    DownResult cleaned;
    try {
      teardown(cleaned);
    } catch (const std::exception& e) {
      spdlog::error("tearing down the half-built testbed {} failed too: {}", names_.prefix, e.what());
    }
    throw;
  }
  res.status = status();
  res.ping_ms = ping_ms;
  return res;
}

void Testbed::build() {
  const auto& n = names_;
  nlohmann::json state{{"prefix", n.prefix}, {"boot_id", boot_id()}, {"phase", "building"},
                       {"created_at", static_cast<long long>(std::time(nullptr))}};
  const std::string sf = state_file();
  th::save_json(sf, state);
  auto run = [&](const Place& place, std::vector<std::string> argv, const std::string& what) {
    return run_checked(*runner_, {.argv = place.wrap(argv), .timeout = 15s}, what);
  };
  const Place host = Place::host();

  for (const auto& [ns, key] : {std::pair{n.srv_netns, "srv_netns_inode"}, std::pair{n.cli_netns, "cli_netns_inode"}}) {
    run(host, {"ip", "netns", "add", ns}, "cannot create network namespace " + ns);
    state[key] = static_cast<unsigned long long>(th::netns_inode(ns));
    th::save_json(sf, state);
    run(Place::netns(ns), {"ip", "link", "set", "lo", "up"}, "cannot bring up loopback in " + ns);
  }
  // Created straight inside the namespaces, so the host never sees these names.
  run(host, {"ip", "link", "add", n.srv_underlay, "netns", n.srv_netns, "type", "veth", "peer", "name",
             n.cli_underlay, "netns", n.cli_netns},
      "cannot create the veth underlay");

  struct End {
    Place place;
    std::string underlay, underlay_addr, wg, mesh_addr, peer_mesh_addr, peer_underlay_addr;
    int port, peer_port;
    const char* pid_key;
    std::string private_key, public_key;
  };
  End ends[] = {
      {server_place(), n.srv_underlay, TestbedNames::srv_underlay_addr, n.srv_wg, TestbedNames::srv_mesh_addr,
       TestbedNames::cli_mesh_addr, TestbedNames::cli_underlay_addr, TestbedNames::srv_listen_port,
       TestbedNames::cli_listen_port, "srv_wireguard_go_pid", {}, {}},
      {client_place(), n.cli_underlay, TestbedNames::cli_underlay_addr, n.cli_wg, TestbedNames::cli_mesh_addr,
       TestbedNames::srv_mesh_addr, TestbedNames::srv_underlay_addr, TestbedNames::cli_listen_port,
       TestbedNames::srv_listen_port, "cli_wireguard_go_pid", {}, {}},
  };
  for (auto& e : ends) {
    run(e.place, {"ip", "addr", "add", fmt::format("{}/{}", e.underlay_addr, TestbedNames::underlay_prefix_len), "dev", e.underlay},
        "cannot address the underlay " + e.underlay);
    run(e.place, {"ip", "link", "set", e.underlay, "mtu", std::to_string(TestbedNames::underlay_mtu), "up"},
        "cannot bring up the underlay " + e.underlay);
    e.private_key = trim(run_checked(*runner_, {.argv = {"wg", "genkey"}}, "cannot generate a WireGuard key").out);
    e.public_key = trim(run_checked(*runner_, {.argv = {"wg", "pubkey"}, .stdin_data = e.private_key + "\n"},
                                    "cannot derive a WireGuard public key")
                            .out);
  }

  for (size_t i = 0; i < 2; ++i) {
    End& e = ends[i];
    const End& peer = ends[1 - i];
    const ino_t ino = th::netns_inode(e.place.netns_name());
    // wireguard-go daemonises; its stdio must not be our pipes or we would wait on it forever, and it
    // outlives this wgopt on purpose (`wgopt testbed down` stops it).
    auto started = runner_->run({.argv = e.place.wrap({"wireguard-go", e.wg}),
                                 .timeout = 15s,
                                 .capture_output = false,
                                 .dies_with_wgopt = false});
    if (!started.ok()) {
      throw Error(fmt::format("wireguard-go could not create {} in {} ({}): run `ip netns exec {} wireguard-go -f {}` "
                              "by hand to see why (is /dev/net/tun there?)",
                              e.wg, e.place.netns_name(), started.brief(), e.place.netns_name(), e.wg));
    }
    int pid = 0;
    for (int tries = 0; tries < 150 && pid == 0; ++tries) {
      for (const auto& p : th::wireguard_go_for(e.wg)) {
        if (p.netns == ino) pid = p.pid;
      }
      if (pid == 0) std::this_thread::sleep_for(20ms);
    }
    if (pid == 0) throw Error(fmt::format("wireguard-go for {} exited right after starting: run `ip netns exec {} wireguard-go -f {}` by hand to see why", e.wg, e.place.netns_name(), e.wg));
    state[e.pid_key] = pid;
    th::save_json(sf, state);

    {
      // The private key reaches `wg` only through a 0600 file that lives for this one command.
      const std::string key_file = state_dir_ + "/" + e.wg + ".key";
      ::unlink(key_file.c_str());
      th::write_secret_file(key_file, e.private_key + "\n");
      th::FileRemover remove_key(key_file);
      run(e.place,
          {"wg", "set", e.wg, "listen-port", std::to_string(e.port), "private-key", key_file, "peer", peer.public_key,
           "endpoint", fmt::format("{}:{}", e.peer_underlay_addr, e.peer_port),
           "allowed-ips", e.peer_mesh_addr + "/32", "persistent-keepalive", std::to_string(TestbedNames::keepalive_seconds)},
          "cannot configure WireGuard on " + e.wg);
    }
    run(e.place, {"ip", "addr", "add", fmt::format("{}/{}", e.mesh_addr, TestbedNames::mesh_prefix_len), "dev", e.wg},
        "cannot address " + e.wg);
    run(e.place, {"ip", "link", "set", e.wg, "mtu", std::to_string(TestbedNames::wg_mtu), "up"}, "cannot bring up " + e.wg);
  }

  // The workload's server lifecycle: it checks the address, starts `iperf3 -s -D -I PIDFILE` and
  // waits until the port listens.
  const int iperf_pid = workload::start_server(iperf3_server(), *runner_).pid;
  state["iperf3_pid"] = iperf_pid;
  th::save_json(sf, state);

  // Proof: a ping crosses the tunnel and the client has a completed handshake.
  bool pinged = false, handshake = false;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline && !(pinged && handshake)) {
    pinged = pinged || ping_once().has_value();
    auto d = read_wg_interface(*runner_, client_place(), n.cli_wg);
    handshake = !d.peers.empty() && d.peers[0].latest_handshake > 0;
    if (!(pinged && handshake)) std::this_thread::sleep_for(200ms);
  }
  if (!handshake) throw Error(fmt::format("no WireGuard handshake between {} and {} within 15 s: check `ip netns exec {} wg show`", n.cli_wg, n.srv_wg, n.cli_netns));
  if (!pinged) throw Error(fmt::format("no ping crosses the tunnel from {} to {} within 15 s", n.cli_netns, server_address()));
  state["phase"] = "up";
  th::save_json(sf, state);
}

void Testbed::teardown(DownResult& result) {
  const auto& n = names_;
  auto state = th::load_json(state_file());
  std::vector<ino_t> inodes;
  for (const auto& ns : {n.srv_netns, n.cli_netns}) {
    if (ino_t ino = th::netns_inode(ns)) inodes.push_back(ino);
  }
  if (state) {
    for (const char* key : {"srv_netns_inode", "cli_netns_inode"}) {
      if (ino_t ino = state->value(key, 0ull)) inodes.push_back(ino);
    }
  }
  // Everything living in our namespaces is ours: wireguard-go, the iperf3 server, any client.
  for (const auto& p : th::list_processes()) {
    if (p.pid == ::getpid() || std::find(inodes.begin(), inodes.end(), p.netns) == inodes.end()) continue;
    if (th::stop_process(p.pid)) {
      result.removed.push_back(fmt::format("process {} ({})", p.pid, join(p.argv, " ")));
    } else {
      throw Error(fmt::format("process {} ({}) in testbed {} survived SIGKILL: stop it by hand, then run `wgopt "
                              "testbed down` again",
                              p.pid, p.program(), n.prefix));
    }
  }
  const std::string pidfile = workload::default_pidfile(iperf3_server());
  if (exists(pidfile) && ::unlink(pidfile.c_str()) == 0) result.removed.push_back("pid file " + pidfile);
  for (const auto& ns : {n.srv_netns, n.cli_netns}) {
    if (!th::netns_inode(ns)) continue;
    // Deleting the namespace destroys the veth pair and any tun device left in it.
    run_checked(*runner_, {.argv = {"ip", "netns", "del", ns}, .timeout = 15s}, "cannot delete network namespace " + ns);
    result.removed.push_back("network namespace " + ns);
  }
  for (const auto& ifname : {n.srv_wg, n.cli_wg}) {
    const std::string sock = kUapiDir + ifname + ".sock";
    if (exists(sock) && ::unlink(sock.c_str()) == 0) result.removed.push_back("socket " + sock);
    const std::string key = state_dir_ + "/" + ifname + ".key";
    if (exists(key) && ::unlink(key.c_str()) == 0) result.removed.push_back("key file " + key);
  }
  remove_ssh(result);  // sshd and its sessions lived in the server namespace: stopped above
  for (const auto& f : {state_file() + ".tmp", state_file()}) {
    if (exists(f) && ::unlink(f.c_str()) == 0) result.removed.push_back("state file " + f);
  }
}


std::shared_ptr<const void> Testbed::hold_in_use() const {
  const std::string path = use_file(state_dir_, names_.prefix);
  ::mkdir(state_dir_.c_str(), 0755);  // taken before `up` builds the testbed (and its state dir)
  auto hold = std::make_shared<UseHold>();
  hold->fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (hold->fd < 0 || ::flock(hold->fd, LOCK_SH | LOCK_NB) != 0) {
    spdlog::debug("cannot hold testbed {} in use ({}): {}", names_.prefix, path, std::strerror(errno));
    return nullptr;
  }
  return hold;
}

std::vector<int> Testbed::users() const {
  std::vector<int> pids;
  const int fd = ::open(use_file(state_dir_, names_.prefix).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return pids;
  for (int pid : act::flock_holders(fd)) {
    if (pid != ::getpid() && std::find(pids.begin(), pids.end(), pid) == pids.end()) pids.push_back(pid);
  }
  ::close(fd);
  return pids;
}

DownResult Testbed::down(bool even_in_use) {
  check_preconditions("wgopt testbed down", false);
  th::DirLock lock(state_dir_);  // then the users: a search that held it while `up` rebuilt it is seen
  if (const auto users_now = users(); !users_now.empty() && !even_in_use) {
    throw Error(fmt::format("testbed {} is in use by {}: let it finish or stop it (Ctrl-C puts its values back), or take the "
                            "testbed down anyway with --force",
                            names_.prefix, users_text(users_now)));
  }
  TestbedStatus s = status();
  auto conflicts = foreign_conflicts(*this, s);
  if (!conflicts.empty()) throw Error(conflicts.front());
  DownResult res;
  teardown(res);
  // The use file stays (an empty file in /run): unlinked, a command taking its hold meanwhile would
  // lock a file no later `down` or `status` sees (found in review). A user --force left drives the
  // same names, so it is a user of the testbed built next too.
  return res;
}

TestbedGuard::TestbedGuard(const std::string& prefix, std::shared_ptr<CommandRunner> runner)
    : testbed_(prefix, std::move(runner)), up_(testbed_.up()) {}

TestbedGuard::~TestbedGuard() {
  try {
    testbed_.down();
  } catch (const std::exception& e) {
    spdlog::error("tearing down testbed {}: {}", testbed_.names().prefix, e.what());
  }
}

}  // namespace wgopt

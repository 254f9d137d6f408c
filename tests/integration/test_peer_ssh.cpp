// The peer over a real OpenSSH server (issue 11): `wgopt testbed up --ssh` runs sshd in the server
// namespace of testbed wgtssh; the controller (this test, or the wgopt CLI) runs ssh from the client
// namespace. Checked: connect + hello; set then rollback over ssh restores byte-for-byte; an unknown
// host key, a changed host key, a refused login, a peer without wgopt, another agent version: one
// line, non-zero exit, nothing changed on either end; the session cut mid-change (sshd session child
// killed; TCP 22 black-holed with `ip rule ... blackhole`, no EOF ever arrives; the controller
// SIGKILLed) -> the peer restores by itself within 15 s, and each restore time is printed.
// Needs root; a run without root fails with a message (it does not pass silently).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include "cli_helpers.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "experiments/peer/agent_client.hpp"
#include "experiments/testbed/testbed.hpp"
#include "actuators/watchdog.hpp"
#include "workload/iperf3_server.hpp"

using namespace wgopt;
using namespace wgopt::itest;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kPrefix = "wgtssh";
const std::string kSrvNs = "wgtssh-srv", kCliNs = "wgtssh-cli", kSrvWg = "wgtssh-ws", kCliWg = "wgtssh-wc";

void require_root() {
  if (::geteuid() != 0) FAIL("this test needs root: it builds testbed " << kPrefix << " and runs sshd in a namespace");
}

// The testbed with its sshd, shared by the cases and torn down when the program exits.
const TestbedSsh& testbed_ssh() {
  static TestbedGuard guard(kPrefix);
  static TestbedSsh ssh = guard.testbed().up_ssh(WGOPT_BINARY);
  guard.testbed().up();
  ssh = guard.testbed().up_ssh(WGOPT_BINARY);  // (re)starts sshd if an earlier case left it down
  return ssh;
}

peer::SshOptions ssh_options(const TestbedSsh& s) {
  return {.target = s.target, .identity = s.identity, .known_hosts = s.known_hosts, .peer_wgopt = WGOPT_BINARY,
          .from = Place::netns(kCliNs)};
}

// The exact bytes of what the cases change on the server end, and the client end's counterparts.
std::map<std::string, std::string> both_ends() {
  auto cat = [](const std::string& ns, const std::string& path) { return in_ns(ns, {"cat", path}); };
  return {{"srv tcp_rmem", cat(kSrvNs, "/proc/sys/net/ipv4/tcp_rmem")},
          {"srv mtu", cat(kSrvNs, "/sys/class/net/" + kSrvWg + "/mtu")},
          {"srv txqueuelen", cat(kSrvNs, "/sys/class/net/" + kSrvWg + "/tx_queue_len")},
          {"cli tcp_rmem", cat(kCliNs, "/proc/sys/net/ipv4/tcp_rmem")},
          {"cli mtu", cat(kCliNs, "/sys/class/net/" + kCliWg + "/mtu")},
          {"cli txqueuelen", cat(kCliNs, "/sys/class/net/" + kCliWg + "/tx_queue_len")}};
}

// wgopt run as the controller, in the client namespace, with its own state dir.
CommandResult controller(const std::string& state, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip", "netns", "exec", kCliNs};
  auto w = wgopt_argv(state, args);
  argv.insert(argv.end(), w.begin(), w.end());
  return run(argv, std::chrono::seconds(120));
}

std::vector<std::string> with_flags(std::vector<std::string> args, const std::vector<std::string>& flags) {
  args.insert(args.end(), flags.begin(), flags.end());
  return args;
}

// Replaces the value of `flag` in a flags list.
std::vector<std::string> replace_flag(std::vector<std::string> flags, const std::string& flag, const std::string& value) {
  for (size_t i = 0; i + 1 < flags.size(); ++i) {
    if (flags[i] == flag) flags[i + 1] = value;
  }
  return flags;
}

int line_count(const std::string& s) { return static_cast<int>(split_lines(trim(s)).size()); }

// Nothing journaled by anyone on either end.
void check_no_journal(const TestbedSsh& s, const StateDir& local) {
  CHECK_FALSE(fs::exists(s.peer_state_dir + "/journal.json"));
  CHECK_FALSE(fs::exists(local / "journal.json"));
}

// A refused command: exit `code`, ONE line on stderr that `mentions` it, nothing changed on either end.
template <typename Matcher>
void check_refused(const CommandResult& r, int code, const Matcher& mentions, const std::map<std::string, std::string>& original,
                   const TestbedSsh& s, const StateDir& local) {
  INFO(r.out << r.err);
  CHECK(r.exit_code == code);
  CHECK(line_count(r.err) == 1);
  CHECK_THAT(r.err, mentions);
  CHECK(both_ends() == original);
  check_no_journal(s, local);
}

// Seconds until both_ends() equals `original`, polling every 100 ms, or nullopt after `limit`.
std::optional<double> seconds_until_restored(const std::map<std::string, std::string>& original, Clock::time_point t0,
                                             std::chrono::seconds limit = std::chrono::seconds(15)) {
  while (Clock::now() - t0 < limit) {
    if (both_ends() == original) return std::chrono::duration<double>(Clock::now() - t0).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::nullopt;
}

const std::vector<act::Change> kChanges{{.id = kSrvWg + "/mtu", .value = "1380"},
                                        {.id = "net.ipv4.tcp_rmem", .value = "4096 65536 1048576"},
                                        {.id = kSrvWg + "/txqueuelen", .value = "77"}};

int parent_of(int pid) {
  auto stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  auto fields = split_ws(stat.substr(stat.rfind(')') + 1));
  return std::stoi(fields.at(1));
}

std::string comm_of(int pid) { return trim(slurp("/proc/" + std::to_string(pid) + "/comm")); }

}  // namespace

TEST_CASE("peer ssh: connect and hello through the real sshd; the peer has its own state", "[peer-ssh][root]") {
  require_root();
  const auto& s = testbed_ssh();
  auto client = peer::AgentClient::connect(ssh_options(s), {.fact_interfaces = {kSrvWg}});
  const auto& h = client->hello();
  CHECK(h.protocol == peer::kProtocolVersion);
  CHECK(h.state_dir == s.peer_state_dir);
  CHECK(h.run_dir == s.peer_run_dir);
  CHECK(h.facts.nproc > 0);
  CHECK_FALSE(h.facts.kernel.empty());
  CHECK(h.facts.wireguard_mode.at(kSrvWg) == "userspace");
  CHECK(h.journal.entries == 0);
  CHECK_FALSE(h.lock_holder);
  // The agent runs in the server namespace: it reads the server end's values.
  const auto rmem = split_ws(in_ns(kSrvNs, {"cat", "/proc/sys/net/ipv4/tcp_rmem"}));  // the kernel separates with tabs
  CHECK(client->read({"net.ipv4.tcp_rmem"}).at(0).second == rmem.at(0) + " " + rmem.at(1) + " " + rmem.at(2));
  CHECK(client->ping().pid == h.pid);

  // iperf3: the testbed's own server on 5201 is left alone; one on 5202 is started and stopped.
  auto kept = client->ensure_iperf3_server("100.64.0.1", 5201);
  CHECK_FALSE(kept.started);
  CHECK(kept.listening);
  auto started = client->ensure_iperf3_server("100.64.0.1", 5202);
  CHECK(started.started);
  CHECK(started.pid > 0);
  CHECK(workload::is_listening(Place::netns(kSrvNs), "100.64.0.1", 5202));
  CHECK_FALSE(client->stop_iperf3_server("100.64.0.1", 5201).started);  // not ours: untouched
  CHECK(workload::is_listening(Place::netns(kSrvNs), "100.64.0.1", 5201));
  CHECK(client->stop_iperf3_server("100.64.0.1", 5202).started);
  CHECK_FALSE(workload::is_listening(Place::netns(kSrvNs), "100.64.0.1", 5202));

  // The probes run on the peer, over its own interfaces, while traffic crosses the tunnel.
  client->probe_start({.interfaces = {kSrvWg, "wgtssh-us"}});
  in_ns(kCliNs, {"ping", "-q", "-c", "20", "-i", "0.1", "100.64.0.1"});
  auto far = client->probe_stop();
  CHECK(far.summary.samples >= 1);
  REQUIRE(far.summary.ifaces.size() == 2);
  CHECK(far.summary.ifaces[0].iface.name == kSrvWg);
  CHECK(far.summary.ifaces[0].delta.rx_packets >= 20);
  CHECK_FALSE(far.summary.wg_peers.empty());
  client->close();

  StateDir local;
  auto r = controller(local.path, with_flags({"get", kSrvWg + "/mtu"}, s.flags()));
  INFO(r.out << r.err);
  REQUIRE(r.ok());
  CHECK(trim(r.out) == kSrvWg + "/mtu: " + in_ns(kSrvNs, {"cat", "/sys/class/net/" + kSrvWg + "/mtu"}));
}

TEST_CASE("peer ssh: a dead sshd is started again on its keys; the testbed and the peer's state are kept", "[peer-ssh][root]") {
  // Found by an exploratory test: with only sshd dead, `testbed up --ssh` rebuilt the whole testbed
  // and made new keys, and the emulated peer's state dir (its journal of originals) went with it.
  require_root();
  const TestbedSsh before = testbed_ssh();
  const std::string marker = before.peer_state_dir + "/marker";
  write_file_atomic(marker, "journal stand-in\n");
  const auto identity = read_file(before.identity);
  const std::string ifindex = in_ns(kSrvNs, {"cat", "/sys/class/net/" + kSrvWg + "/ifindex"});
  REQUIRE(::kill(before.sshd_pid, SIGTERM) == 0);
  for (int i = 0; i < 100 && ::kill(before.sshd_pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(::kill(before.sshd_pid, 0) != 0);

  // A plain `up` (no --ssh) starts it again too: it said "already up and healthy" of a testbed
  // `status` called BROKEN (found by an exploratory test).
  Testbed tb(kPrefix);
  const UpResult up = tb.up_with_ssh(false, "/not/this/binary");
  CHECK(up.outcome == UpResult::Outcome::already_up);  // not rebuilt
  CHECK(up.sshd_repaired);
  CHECK(up.status.healthy);
  REQUIRE(up.ssh);
  const TestbedSsh after = *up.ssh;
  CHECK(after.made == TestbedSsh::Made::restarted);
  CHECK(after.peer_wgopt == before.peer_wgopt);  // the binary it ran, not the caller's
  CHECK(after.sshd_pid > 0);
  CHECK(after.sshd_pid != before.sshd_pid);
  CHECK(after.listening);
  CHECK(read_file(after.identity) == identity);  // the same keys: known_hosts and the client's key still hold
  CHECK(read_file(marker) == std::string("journal stand-in\n"));
  CHECK(in_ns(kSrvNs, {"cat", "/sys/class/net/" + kSrvWg + "/ifindex"}) == ifindex);  // the same interface, not rebuilt
  auto client = peer::AgentClient::connect(ssh_options(after));
  CHECK(client->hello().state_dir == after.peer_state_dir);
  client->close();
  fs::remove(marker);
}

TEST_CASE("peer ssh: set over ssh, then rollback over ssh restores byte-for-byte", "[peer-ssh][root]") {
  require_root();
  const auto& s = testbed_ssh();
  StateDir local;
  const auto original = both_ends();
  auto r = controller(local.path, with_flags({"set", kSrvWg + "/mtu=1380", "net.ipv4.tcp_rmem=4096 65536 1048576",
                                              kSrvWg + "/txqueuelen=77"},
                                             s.flags()));
  INFO(r.out << r.err);
  REQUIRE(r.ok());
  CHECK_THAT(r.out, Catch::Contains("changed 3 knob(s) in peer 198.18.0.1"));
  auto now = both_ends();
  CHECK(now.at("srv mtu") == "1380");
  CHECK(now.at("srv tcp_rmem") == "4096\t65536\t1048576");
  CHECK(now.at("srv txqueuelen") == "77");
  // The client end is untouched, and the journal is the peer's, not the controller's.
  CHECK(now.at("cli mtu") == original.at("cli mtu"));
  CHECK(now.at("cli tcp_rmem") == original.at("cli tcp_rmem"));
  CHECK(fs::exists(s.peer_state_dir + "/journal.json"));
  CHECK_FALSE(fs::exists(local / "journal.json"));

  auto rb = controller(local.path, with_flags({"rollback"}, s.flags()));
  INFO(rb.out << rb.err);
  REQUIRE(rb.ok());
  CHECK_THAT(rb.out, Catch::Contains("rolled back"));
  CHECK(both_ends() == original);
  check_no_journal(s, local);
}

TEST_CASE("peer ssh: apply --dry-run over ssh previews the peer's part of a profile and changes nothing", "[peer-ssh][root]") {
  require_root();
  const auto& s = testbed_ssh();
  StateDir local;
  const auto original = both_ends();
  // A both-ends profile: its peer: part is the server end's (the knobs: part names the client's).
  const std::string profile = local / "both.yaml";
  write_text(profile, "knobs:\n  " + kCliWg + "/mtu: 1400\npeer:\n  knobs:\n    " + kSrvWg + "/txqueuelen: 77\n    " + kSrvWg +
                          "/mtu: \"" + original.at("srv mtu") + "\"\n");
  auto r = controller(local.path, with_flags({"apply", "--dry-run", profile}, s.flags()));
  INFO(r.out << r.err);
  REQUIRE(r.ok());
  CHECK_THAT(r.out, Catch::Contains(kSrvWg + "/txqueuelen") && Catch::Contains("77"));
  CHECK_THAT(r.out, !Catch::Contains(kCliWg));
  CHECK(both_ends() == original);
  check_no_journal(s, local);
  auto j = controller(local.path, with_flags({"apply", "--dry-run", "--json", profile}, s.flags()));
  INFO(j.out << j.err);
  REQUIRE(j.ok());
  const auto steps = nlohmann::json::parse(j.out)["steps"];
  REQUIRE(steps.size() == 2);
  CHECK(steps[0]["id"] == kSrvWg + "/txqueuelen");  // in the order a transaction writes them: MTU last
  CHECK(steps[0]["would_change"] == true);
  CHECK(steps[0]["written"] == false);  // a dry-run writes nothing
  CHECK(steps[1]["id"] == kSrvWg + "/mtu");
  CHECK(steps[1]["would_change"] == false);  // already that value
  // The peer checks it as an apply does: a mask wider than its CPUs is refused, exit 2.
  write_text(profile, "knobs:\n  " + kCliWg + "/mtu: 1400\npeer:\n  knobs:\n    " + kSrvWg + "/rps_cpus: \"ff\"\n");
  auto wide = controller(local.path, with_flags({"apply", "--dry-run", profile}, s.flags()));
  INFO(wide.out << wide.err);
  CHECK(wide.exit_code == 2);
  CHECK_THAT(wide.err, Catch::Contains("rps_cpus"));
  CHECK(both_ends() == original);
}

TEST_CASE("peer ssh: bad input over ssh is one line, exit 2, nothing changed on either end", "[peer-ssh][root]") {
  require_root();
  const auto& s = testbed_ssh();
  StateDir local;
  const auto original = both_ends();
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  for (const auto& c : {Case{{"set", kSrvWg + "/mtu=99999999", "net.ipv4.tcp_rmem=4096 65536 1048576"}, "peer 198.18.0.1"},
                        Case{{"set", "net.ipv4.no_such_knob=1"}, "no_such_knob"},
                        Case{{"set", "eth0;reboot/mtu=1400"}, "eth0;reboot"},
                        Case{{"get", "wgtssh-zz/mtu"}, "wgtssh-zz"},
                        Case{{"set", "--ssh-option", "ProxyCommand=sh -c id", kSrvWg + "/mtu=1380"}, "ProxyCommand"},
                        Case{{"set", "--netns", kCliNs, kSrvWg + "/mtu=1380"}, "--netns and --ssh"}}) {
    INFO(render_argv(c.args));
    auto r = controller(local.path, with_flags(c.args, s.flags()));
    check_refused(r, 2, Catch::Contains(c.mentions), original, s, local);
  }
  auto r = controller(local.path, {"set", "--ssh-identity", s.identity, kSrvWg + "/mtu=1380"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("only applies with --ssh"));
}

TEST_CASE("peer ssh: unknown and changed host keys, refused login: one line, nothing changed", "[peer-ssh][root]") {
  require_root();
  const auto& s = testbed_ssh();
  StateDir local;
  const auto original = both_ends();
  const std::vector<std::string> set_args{"set", kSrvWg + "/mtu=1380"};

  SECTION("unknown host key: exit 2 and the flag that accepts it; with the flag it is recorded") {
    const std::string empty_kh = local / "known_hosts";
    write_text(empty_kh, "");
    auto r = controller(local.path, with_flags(set_args, replace_flag(s.flags(), "--ssh-known-hosts", empty_kh)));
    check_refused(r, 2, Catch::Contains("host key of 198.18.0.1 is not in " + empty_kh) &&
                          Catch::Contains("--ssh-accept-new-host-key"), original, s, local);
    auto ok = controller(local.path, with_flags({"get", kSrvWg + "/mtu", "--ssh-accept-new-host-key"},
                                                replace_flag(s.flags(), "--ssh-known-hosts", empty_kh)));
    INFO(ok.err);
    CHECK(ok.ok());
    CHECK_THAT(slurp(empty_kh), Catch::Contains("ssh-ed25519"));
  }
  SECTION("a login the peer refuses: exit 1, names the fix") {
    const std::string key = local / "stranger";
    REQUIRE(run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key}).ok());
    auto r = controller(local.path, with_flags(set_args, replace_flag(s.flags(), "--ssh-identity", key)));
    check_refused(r, 1, Catch::Contains("198.18.0.1 refused the ssh login") && Catch::Contains("authorized_keys"), original, s, local);
  }
  SECTION("changed host key: exit 1, CHANGED, and how to remove the stale key") {
    // A reinstalled peer: a new host key under the same address; sshd re-reads it on SIGHUP.
    fs::remove(s.host_key);
    fs::remove(s.host_key + ".pub");
    REQUIRE(run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", s.host_key}).ok());
    REQUIRE(::kill(s.sshd_pid, SIGHUP) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto r = controller(local.path, with_flags(set_args, s.flags()));
    check_refused(r, 1, Catch::Contains("host key of 198.18.0.1 has CHANGED") && Catch::Contains("ssh-keygen -R 198.18.0.1"), original, s, local);
    // Trust the new key again for the cases that follow.
    auto pub = split_ws(slurp(s.host_key + ".pub"));
    write_text(s.known_hosts, "198.18.0.1 " + pub.at(0) + " " + pub.at(1) + "\n");
    CHECK(controller(local.path, with_flags({"get", kSrvWg + "/mtu"}, s.flags())).ok());
  }
}

TEST_CASE("peer ssh: a peer without wgopt, and one speaking another protocol: one line, nothing changed", "[peer-ssh][root]") {
  require_root();
  const auto& s = testbed_ssh();
  StateDir local;
  const auto original = both_ends();
  const std::vector<std::string> set_args{"set", kSrvWg + "/mtu=1380"};

  auto r = controller(local.path, with_flags(set_args, replace_flag(s.flags(), "--peer-wgopt", "/nonexistent/wgopt")));
  check_refused(r, 1, Catch::Contains("peer 198.18.0.1 has no wgopt at '/nonexistent/wgopt'") && Catch::Contains("install wgopt"), original, s, local);

  // A fake agent (the peer's filesystem is this one) that answers hello as protocol 99 would.
  const std::string fake = local / "fake-agent";
  write_text(fake, "#!/bin/sh\nread line\n"
                   "echo '{\"id\":1,\"ok\":true,\"result\":{\"protocol\":99,\"wgopt_version\":\"9.9.9\"}}'\n"
                   "read line\n");
  fs::permissions(fake, fs::perms::owner_all);
  r = controller(local.path, with_flags(set_args, replace_flag(s.flags(), "--peer-wgopt", fake)));
  check_refused(r, 1, Catch::Contains("wgopt 9.9.9 speaking agent protocol 99") && Catch::Contains("install the same wgopt"), original, s, local);
}

TEST_CASE("peer ssh: the sshd session child killed mid-change: the peer restores by itself", "[peer-ssh][root]") {
  require_root();
  const auto& s = testbed_ssh();
  const auto original = both_ends();
  auto client = peer::AgentClient::connect(ssh_options(s));
  client->apply(kChanges);
  REQUIRE(both_ends() != original);
  const int agent = client->hello().pid;
  const int session = parent_of(agent);
  INFO("agent " << agent << " parent " << session << " (" << comm_of(session) << ")");
  REQUIRE(comm_of(session) == "sshd");
  REQUIRE(::kill(session, SIGKILL) == 0);
  const auto t0 = Clock::now();
  auto restored = seconds_until_restored(original, t0);
  INFO("peer journal: " << slurp(s.peer_state_dir + "/journal.json") << "\nguardian: " << slurp(s.peer_state_dir + "/watchdog.log"));
  REQUIRE(restored);
  std::printf("peer ssh: sshd session child SIGKILLed -> the peer restored its originals in %.2f s\n", *restored);
  CHECK(*restored < 15);

  // The controller notices, and a new session learns what the peer restored.
  CHECK_THROWS_AS(client->ping(), peer::PeerLost);
  CHECK(client->lost());
  auto back = client->reconnect();
  REQUIRE_FALSE(back.restores.empty());
  CHECK(back.restores.back().by == "agent");
  CHECK(back.restores.back().report.items.size() == 3);
  CHECK(back.hello.journal.entries == 0);
  CHECK(client->ping().pid == back.hello.pid);
  client->close();
  CHECK(both_ends() == original);
}

TEST_CASE("peer ssh: TCP 22 black-holed mid-change (no EOF ever arrives): the lease lapses, the guardian restores",
          "[peer-ssh][root]") {
  require_root();
  const auto& s = testbed_ssh();
  const auto original = both_ends();
  auto client = peer::AgentClient::connect(ssh_options(s));
  client->apply(kChanges);
  REQUIRE(both_ends() != original);
  SshBlackHole unblock(kSrvNs, kCliNs);  // no RST, no FIN: the session just goes silent
  const auto t0 = Clock::now();
  auto restored = seconds_until_restored(original, t0);
  INFO("guardian: " << slurp(s.peer_state_dir + "/watchdog.log"));
  REQUIRE(restored);
  std::printf("peer ssh: TCP 22 black-holed -> the peer's guardian restored its originals in %.2f s (lease %lld ms)\n",
              *restored, static_cast<long long>(peer::ClientOptions{}.lease.count()));
  CHECK(*restored < 15);
  // The controller's heartbeats found the peer gone within the lease.
  for (auto end = t0 + std::chrono::seconds(15); Clock::now() < end && !client->lost();) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(client->lost());
  std::printf("peer ssh: TCP 22 black-holed -> the controller marked the peer lost after %.2f s\n",
              std::chrono::duration<double>(Clock::now() - t0).count());
  CHECK_THROWS_AS(client->ping(), peer::PeerLost);
  unblock.lift();
  auto back = client->reconnect();
  REQUIRE_FALSE(back.restores.empty());
  CHECK(back.restores.back().by == "guardian");
  CHECK_THAT(back.restores.back().why, Catch::Contains("lease"));
  CHECK_FALSE(back.old_agent_still_running);
  client->close();
  CHECK(both_ends() == original);
}

TEST_CASE("peer ssh: kill -9 of the controller mid-change: the peer restores by itself", "[peer-ssh][root]") {
  require_root();
  const auto& s = testbed_ssh();
  StateDir local;
  const auto original = both_ends();
  // The controller is this test program again, running the hidden case below.
  const std::string log = local / "child.log";
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::setenv("WGOPT_PEER_CHILD", "1", 1);
    const std::string exe = act::self_exe_path();
    ::execl(exe.c_str(), exe.c_str(), "peer ssh child: a controller that applies and waits", nullptr);
    ::_exit(127);
  }
  bool applied = false;
  for (auto end = Clock::now() + std::chrono::seconds(60); Clock::now() < end && !applied;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) FAIL("the controller ended before applying:\n" << slurp(log));
    applied = slurp(log).find("APPLIED") != std::string::npos;
    if (!applied) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(applied);
  REQUIRE(both_ends() != original);
  REQUIRE(::kill(pid, SIGKILL) == 0);
  const auto t0 = Clock::now();
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  auto restored = seconds_until_restored(original, t0);
  INFO(slurp(log));
  REQUIRE(restored);
  std::printf("peer ssh: controller SIGKILLed -> the peer restored its originals in %.2f s\n", *restored);
  CHECK(*restored < 15);
  auto records = slurp(s.peer_state_dir + "/restores.jsonl");
  CHECK_THAT(records, Catch::Contains("EOF on stdin"));
}

// Run only by the case above (as a separate process it can SIGKILL).
TEST_CASE("peer ssh child: a controller that applies and waits", "[.peer-ssh-child]") {
  if (!std::getenv("WGOPT_PEER_CHILD")) FAIL("run only by the kill -9 case of test_peer_ssh.cpp");
  const auto& s = testbed_ssh();
  auto client = peer::AgentClient::connect(ssh_options(s));
  client->apply(kChanges);
  std::printf("APPLIED\n");
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(120));
}

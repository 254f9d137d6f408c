// `wgopt search --peer ADDR --ssh ...` (issue 11 item 3): BOTH ends tuned, the server end only
// through the real sshd of testbed wgtbe (`testbed up --ssh`) and the peer's own `wgopt __agent`,
// whose journal and guardian live in the server's own state dir. The controller runs in the client
// namespace with its own WGOPT_STATE_DIR. Checked: the winner is applied on both ends and `rollback`
// here plus `rollback --ssh` there restore every original byte for byte; the agent starts an iperf3
// server on a free port and stops it again; the sshd session child killed mid-trial -> the server
// end restores itself within 15 s, the search reconnects, goes on and says so; TCP 22 black-holed
// mid-trial -> the search ends (exit 1, says so) with both ends restored, and `--resume STUDY`
// alone continues it over ssh; kill -9 of the controller
// mid-trial -> both ends restored (the local guardian, the peer's agent on EOF). Restore times are
// printed. Needs root: without it each case fails saying so.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "actuators/profile.hpp"
#include "cli_helpers.hpp"
#include "experiments/study/study_store.hpp"
#include "experiments/testbed/testbed.hpp"
#include "workload/iperf3_server.hpp"

using namespace wgopt;
using namespace wgopt::itest;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kPrefix = "wgtbe";
const std::string kSrvNs = "wgtbe-srv", kCliNs = "wgtbe-cli";
const std::string kSrvWg = "wgtbe-ws", kCliWg = "wgtbe-wc", kSrvUl = "wgtbe-us", kCliUl = "wgtbe-uc";
// The port the agent serves iperf3 on: not the testbed's 5201, so the agent must start its own.
const std::string kPort = "5207";
// The receiving end starts poor: a 4 KiB receive buffer caps the window (~20 vs ~180 Mbit/s here).
const std::string kPoorRmem = "4096 4096 4096";

const TestbedSsh& testbed_ssh() {
  static TestbedGuard guard(kPrefix);
  guard.testbed().up();
  static TestbedSsh ssh = guard.testbed().up_ssh(WGOPT_BINARY);
  ssh = guard.testbed().up_ssh(WGOPT_BINARY);  // (re)starts sshd if an earlier case left it down
  return ssh;
}

// The exact bytes of every knob the searches below may change, on both ends.
std::map<std::string, std::string> both_ends() {
  std::map<std::string, std::string> m;
  for (const auto& [ns, wg] : {std::pair{kSrvNs, kSrvWg}, {kCliNs, kCliWg}}) {
    const std::string end = ns == kSrvNs ? "srv " : "cli ";
    m[end + "tcp_rmem"] = in_ns(ns, {"cat", "/proc/sys/net/ipv4/tcp_rmem"});
    m[end + "tcp_wmem"] = in_ns(ns, {"cat", "/proc/sys/net/ipv4/tcp_wmem"});
    m[end + "txqueuelen"] = in_ns(ns, {"cat", "/sys/class/net/" + wg + "/tx_queue_len"});
  }
  return m;
}

// Sets the server end's receive buffers poor (the start of every case) and puts them back after.
struct PoorReceiver {
  std::string was;
  PoorReceiver() {
    was = in_ns(kSrvNs, {"cat", "/proc/sys/net/ipv4/tcp_rmem"});
    in_ns(kSrvNs, {"sysctl", "-q", "-w", "net.ipv4.tcp_rmem=" + kPoorRmem});
  }
  ~PoorReceiver() { run(Place::netns(kSrvNs).wrap({"sysctl", "-q", "-w", "net.ipv4.tcp_rmem=" + was})); }
};

// `wgopt ARGS... --ssh ...` (the testbed's ssh flags appended) in the client namespace, as an argv.
std::vector<std::string> in_client(const TestbedSsh& s, const std::string& state, std::vector<std::string> args) {
  auto f = s.flags();
  args.insert(args.end(), f.begin(), f.end());
  std::vector<std::string> argv{"ip", "netns", "exec", kCliNs};
  auto w = wgopt_argv(state, args);
  argv.insert(argv.end(), w.begin(), w.end());
  return argv;
}

// `wgopt search` from the client namespace to the server end over ssh; `more` adds options.
std::vector<std::string> search_argv(const TestbedSsh& s, const std::string& state, std::vector<std::string> more) {
  std::vector<std::string> a{"search", "--peer", "100.64.0.1", "--port", kPort, "--interfaces", kCliWg + "," + kCliUl,
                             "--peer-interfaces", kSrvWg + "," + kSrvUl, "--knobs",
                             "net.ipv4.tcp_rmem,net.ipv4.tcp_wmem," + kCliWg + "/txqueuelen",
                             "--baseline-rounds", "2", "--confirm-rounds", "3", "--settle-ms", "200", "--quiet",
                             "--study", state + "/study.sqlite", "--profile", state + "/profile.yaml"};
  a.insert(a.end(), more.begin(), more.end());
  return in_client(s, state, a);
}

CommandResult controller(const TestbedSsh& s, const std::string& state, std::vector<std::string> args) {
  return run(in_client(s, state, std::move(args)), std::chrono::seconds(120));
}

// Waits until the peer's journal holds an open transaction (a candidate applied there) while the
// search `pid` runs; false after `limit`.
bool wait_peer_applied(const TestbedSsh& s, pid_t pid, const std::string& log, std::chrono::seconds limit = std::chrono::seconds(150)) {
  for (auto end = Clock::now() + limit; Clock::now() < end;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) FAIL("wgopt search ended before a candidate was applied:\n" << slurp(log));
    if (slurp(s.peer_state_dir + "/journal.json").find("\"open\": true") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// The wait status of `pid` once it exits; killed (and reaped) when it is still running after `limit`.
int wait_exit(pid_t pid, std::chrono::seconds limit) {
  int status = 0;
  for (auto end = Clock::now() + limit; Clock::now() < end;) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return status;
}

// The agent serving the search on the peer: a `wgopt __agent` whose parent is sshd.
std::optional<pid_t> agent_pid() {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = slurp(e.path().string() + "/cmdline");
    if (cmd.find("__agent") == std::string::npos) continue;
    const std::string stat = slurp(e.path().string() + "/stat");
    const auto fields = split_ws(stat.substr(stat.rfind(')') + 1));
    const int ppid = std::stoi(fields.at(1));
    if (trim(slurp("/proc/" + std::to_string(ppid) + "/comm")) == "sshd") return std::stoi(name);
  }
  return std::nullopt;
}

int parent_of(int pid) {
  auto stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  return std::stoi(split_ws(stat.substr(stat.rfind(')') + 1)).at(1));
}

// Seconds until the server end's knobs equal `original` (polling 100 ms), or nullopt after `limit`.
std::optional<double> srv_restored_after(const std::map<std::string, std::string>& original, Clock::time_point t0,
                                         std::chrono::seconds limit = std::chrono::seconds(15)) {
  auto srv = [](const std::map<std::string, std::string>& m) {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : m) {
      if (k.starts_with("srv ")) out[k] = v;
    }
    return out;
  };
  while (Clock::now() - t0 < limit) {
    if (srv(both_ends()) == srv(original)) return std::chrono::duration<double>(Clock::now() - t0).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::nullopt;
}

std::string tcp_rmem_tabs(const std::string& v) {
  auto f = split_ws(v);
  return f.size() == 3 ? f[0] + "\t" + f[1] + "\t" + f[2] : v;
}

}  // namespace

TEST_CASE("search over ssh tunes both ends; the winner stays on both; rollback on both restores byte for byte",
          "[search-ssh][root]") {
  need_root();
  const auto& s = testbed_ssh();
  PoorReceiver poor;
  StateDir state;
  const auto original = both_ends();
  REQUIRE_FALSE(workload::is_listening(Place::netns(kSrvNs), "100.64.0.1", std::stoi(kPort)));

  auto r = run(search_argv(s, state.path, {"--trials", "4", "--duration", "2", "--json"}), std::chrono::seconds(400));
  INFO(r.out << r.err);
  REQUIRE(r.ok());
  auto j = nlohmann::json::parse(r.out);
  std::printf("search over ssh: outcome %s, baseline %.1f -> winner %.1f (%+.1f%%), %d trials\n",
              j["outcome"].get<std::string>().c_str(), j["baseline_score"].get<double>(), j["winner_score"].get<double>(),
              j["gain_pct"].get<double>(), j["trials"]["total"].get<int>());
  INFO("trials: " << run({"sqlite3", state / "study.sqlite", "select number, state, score, params_json from trials"}).out);
  REQUIRE(j["outcome"] == "promoted");
  REQUIRE(j["applied"] == true);

  // The profile holds both ends: this end's knobs and the peer's, each under its own ids.
  auto p = act::load_profile(state / "profile.yaml");
  REQUIRE(p.peer);
  CHECK(p.peer->host["ssh"].as<std::string>() == s.target);
  CHECK(p.peer->host["mode"].as<std::string>() == "mirrored");
  std::map<std::string, std::string> local(p.knobs.begin(), p.knobs.end()), peer(p.peer->knobs.begin(), p.peer->knobs.end());
  REQUIRE(local.count("net.ipv4.tcp_rmem"));
  REQUIRE(peer.count(kSrvWg + "/txqueuelen"));
  CHECK(peer.at(kSrvWg + "/txqueuelen") == local.at(kCliWg + "/txqueuelen"));
  // Both ends are on the winner now, read the way an admin would.
  auto now = both_ends();
  CHECK(now.at("srv tcp_rmem") == tcp_rmem_tabs(peer.at("net.ipv4.tcp_rmem")));
  CHECK(now.at("cli tcp_rmem") == tcp_rmem_tabs(local.at("net.ipv4.tcp_rmem")));
  CHECK(now.at("srv txqueuelen") == peer.at(kSrvWg + "/txqueuelen"));
  CHECK(now.at("srv tcp_rmem") != original.at("srv tcp_rmem"));
  // The agent stopped the iperf3 server it started.
  CHECK_FALSE(workload::is_listening(Place::netns(kSrvNs), "100.64.0.1", std::stoi(kPort)));
  // The originals are in each end's own journal. This end has one only when the winner changed it:
  // the start, this end's own values, can win (the ends started apart, so it still changes the
  // peer), and then nothing here was written.
  CHECK(fs::exists(s.peer_state_dir + "/journal.json"));
  bool this_end_changed = false;
  for (const auto& key : {"cli tcp_rmem", "cli tcp_wmem", "cli txqueuelen"}) this_end_changed |= now.at(key) != original.at(key);
  CHECK(fs::exists(state / "journal.json") == this_end_changed);

  // `wgopt export --host peer` renders the peer's part.
  auto ex = run_wgopt(state.path, {"export", state / "profile.yaml", "--format", "sysctl", "--host", "peer"});
  INFO(ex.out << ex.err);
  CHECK(ex.ok());
  CHECK_THAT(ex.out, Catch::Contains("net.ipv4.tcp_rmem"));

  auto rb_peer = controller(s, state.path, {"rollback"});  // --ssh: the peer's journal, by the peer's wgopt
  INFO(rb_peer.out << rb_peer.err);
  CHECK(rb_peer.ok());
  CHECK(both_ends().at("srv tcp_rmem") == original.at("srv tcp_rmem"));
  auto rb_local = run(Place::netns(kCliNs).wrap(wgopt_argv(state.path, {"rollback"})));
  INFO(rb_local.out << rb_local.err);
  CHECK(rb_local.ok());
  CHECK(both_ends().at("cli tcp_rmem") == original.at("cli tcp_rmem"));
  CHECK(both_ends() == original);
}

TEST_CASE("search over ssh: apply --ssh of a profile's peer part, rollback --ssh restores it", "[search-ssh][root]") {
  need_root();
  const auto& s = testbed_ssh();
  StateDir state;
  const auto original = both_ends();
  write_text(state / "p.yaml", "knobs:\n  " + kCliWg + "/txqueuelen: 700\npeer:\n  host: {ssh: " + s.target +
                                   "}\n  knobs:\n    " + kSrvWg + "/txqueuelen: 600\n");
  auto a = controller(s, state.path, {"apply", state / "p.yaml"});
  INFO(a.out << a.err);
  REQUIRE(a.ok());
  CHECK(both_ends().at("srv txqueuelen") == "600");
  CHECK(both_ends().at("cli txqueuelen") == original.at("cli txqueuelen"));  // only the peer's part went there
  auto rb = controller(s, state.path, {"rollback"});
  INFO(rb.out << rb.err);
  REQUIRE(rb.ok());
  CHECK(both_ends() == original);

  // The peer part records another kind of host (this end's host: matches, the peer's does not):
  // refused naming the peer's fact, nothing changed there.
  write_text(state / "q.yaml", "host: {nproc: " + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + "}\nknobs:\n  " + kCliWg +
                                   "/txqueuelen: 700\npeer:\n  host: {ssh: " + s.target + ", nproc: 99}\n  knobs:\n    " + kSrvWg +
                                   "/txqueuelen: 600\n");
  auto q = controller(s, state.path, {"apply", state / "q.yaml"});
  INFO(q.out << q.err);
  CHECK(q.exit_code == 2);
  CHECK_THAT(q.err, Catch::Contains("(its peer: part) was made on another kind of host (nproc: profile 99"));
  CHECK(both_ends() == original);
}

TEST_CASE("search over ssh: the sshd session child killed mid-trial; the peer restores itself, the search goes on",
          "[search-ssh][root]") {
  need_root();
  const auto& s = testbed_ssh();
  PoorReceiver poor;
  StateDir state;
  const auto original = both_ends();
  const std::string log = state / "search.log";
  pid_t pid = spawn(search_argv(s, state.path, {"--trials", "3", "--no-apply", "--duration", "4", "--keep-whole-winner"}), log);
  REQUIRE(wait_peer_applied(s, pid, log));
  REQUIRE(both_ends() != original);
  auto agent = agent_pid();
  REQUIRE(agent);
  const int session = parent_of(*agent);
  REQUIRE(::kill(session, SIGKILL) == 0);
  const auto t0 = Clock::now();
  auto restored = srv_restored_after(original, t0);
  INFO("peer watchdog: " << slurp(s.peer_state_dir + "/watchdog.log") << "\nsearch: " << slurp(log));
  REQUIRE(restored);
  std::printf("search over ssh: sshd session child SIGKILLed mid-trial -> the server end restored itself in %.2f s\n", *restored);
  CHECK(*restored < 15);

  const int status = wait_exit(pid, std::chrono::seconds(300));
  INFO(slurp(log));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(slurp(log), Catch::Contains("peer lost") && Catch::Contains("reconnected") && Catch::Contains("the search goes on"));
  CHECK(both_ends() == original);  // --no-apply: both ends as found
}

TEST_CASE("search over ssh: TCP 22 black-holed mid-trial; the search ends, says so, both ends restored", "[search-ssh][root]") {
  need_root();
  const auto& s = testbed_ssh();
  PoorReceiver poor;
  StateDir state;
  const auto original = both_ends();
  const std::string log = state / "search.log";
  pid_t pid = spawn(search_argv(s, state.path, {"--trials", "5", "--duration", "4"}), log);
  REQUIRE(wait_peer_applied(s, pid, log));
  SshBlackHole unblock(kSrvNs, kCliNs);
  const auto t0 = Clock::now();
  auto restored = srv_restored_after(original, t0);
  INFO("peer watchdog: " << slurp(s.peer_state_dir + "/watchdog.log") << "\nsearch: " << slurp(log));
  REQUIRE(restored);
  std::printf("search over ssh: TCP 22 black-holed mid-trial -> the server end's guardian restored it in %.2f s\n", *restored);
  CHECK(*restored < 15);

  const int status = wait_exit(pid, std::chrono::seconds(180));
  INFO(slurp(log));
  REQUIRE(WIFEXITED(status));
  std::printf("search over ssh: the search ended %.1f s after the black-hole\n", std::chrono::duration<double>(Clock::now() - t0).count());
  CHECK(WEXITSTATUS(status) == 1);
  CHECK_THAT(slurp(log), Catch::Contains("not reachable again: the search ends") && Catch::Contains("--resume"));
  unblock.lift();
  CHECK(both_ends() == original);

  // `wgopt search --resume STUDY` alone (no --peer, no --ssh options) continues over ssh on the
  // plant, the ssh options and the --confirm-rounds the study recorded.
  std::vector<std::string> resume{"ip", "netns", "exec", kCliNs};
  for (auto& a : wgopt_argv(state.path, {"search", "--resume", state / "study.sqlite", "--no-apply", "--quiet"})) resume.push_back(a);
  auto r = run(resume, std::chrono::seconds(400));
  INFO(r.out << r.err);
  CHECK(r.ok());
  CHECK_THAT(r.err, Catch::Contains("resuming on the study's own plant: peer 100.64.0.1 over ssh " + s.target) &&
                        Catch::Contains("resuming with the study's own --confirm-rounds 3") &&
                        Catch::Contains("of its knobs in the space, mirrored"));
  CHECK(experiments::StudyStore::open_read_only(state / "study.sqlite").info().status == "finished");
  CHECK(both_ends() == original);  // --no-apply
}

TEST_CASE("search over ssh: kill -9 of the controller mid-trial; both ends restored", "[search-ssh][root]") {
  need_root();
  const auto& s = testbed_ssh();
  PoorReceiver poor;
  StateDir state;
  const auto original = both_ends();
  const std::string log = state / "search.log";
  pid_t pid = spawn(search_argv(s, state.path, {"--trials", "5", "--duration", "4"}), log);
  REQUIRE(wait_peer_applied(s, pid, log));
  REQUIRE(both_ends() != original);
  REQUIRE(::kill(pid, SIGKILL) == 0);  // `ip netns exec` execs wgopt: this is the controller itself
  const auto t0 = Clock::now();
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  std::optional<double> both;
  while (Clock::now() - t0 < std::chrono::seconds(15)) {
    if (both_ends() == original) {
      both = std::chrono::duration<double>(Clock::now() - t0).count();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO("local watchdog: " << slurp(state / "watchdog.log") << "\npeer watchdog: " << slurp(s.peer_state_dir + "/watchdog.log")
                          << "\nsearch: " << slurp(log));
  REQUIRE(both);
  std::printf("search over ssh: controller SIGKILLed mid-trial -> both ends restored in %.2f s\n", *both);
  CHECK(*both < 15);
}

namespace {

// A both-ends profile as `wgopt search --ssh` writes it (mirrored, the peer's names recorded), for
// the testbed's two ends: tcp_rmem and the tunnel's txqueuelen on each. `peer_facts` is the
// peer's recorded facts (YAML flow map entries); the evidence says where and how it was measured.
void write_both_ends_profile(const std::string& path, const TestbedSsh& s, const std::string& rmem, const std::string& txq,
                             double recorded, const std::string& peer_facts) {
  write_text(path, "knobs:\n  net.ipv4.tcp_rmem: \"" + rmem + "\"\n  " + kCliWg + "/txqueuelen: " + txq +
                       "\nevidence:\n  plant: {peer: 100.64.0.1, port: " + kPort + ", ssh: \"" + s.target +
                       "\"}\n  objective: \"duration: 2s\\nscenarios:\\n  - name: tcp\\n    weight: 1\\n\"\n  winner: {score: " +
                       std::to_string(recorded) + "}\npeer:\n  host: {ssh: \"" + s.target + "\", mode: mirrored, " + peer_facts +
                       ", interfaces: {" + kCliWg + ": " + kSrvWg + ", " + kCliUl + ": " + kSrvUl + "}}\n  knobs:\n" +
                       "    net.ipv4.tcp_rmem: \"" + rmem + "\"\n    " + kSrvWg + "/txqueuelen: " + txq + "\n");
}

// `wgopt retune --profile P --ssh ...` from the client namespace (each run its own study,
// STATE/retune-N.sqlite); its exit code and output.
CommandResult retune(const TestbedSsh& s, const std::string& state, const std::string& profile, std::vector<std::string> more) {
  static int runs = 0;
  std::vector<std::string> a{"retune", "--profile", profile, "--json", "--baseline-rounds", "2", "--confirm-rounds", "3",
                             "--duration", "2", "--budget", "6m", "--study", state + "/retune-" + std::to_string(++runs) + ".sqlite"};
  a.insert(a.end(), more.begin(), more.end());
  return run(in_client(s, state, a), std::chrono::seconds(400));
}

std::string this_kernel() { return trim(in_ns(kSrvNs, {"uname", "-r"})); }
std::string this_nproc() { return std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)); }

}  // namespace

TEST_CASE("retune over ssh: a peer of another kind is refused; drift on the peer is put back; a regression re-tunes both ends",
          "[search-ssh][retune][root]") {
  need_root();
  const auto& s = testbed_ssh();
  StateDir state;
  const auto original = both_ends();
  const std::string p = state / "both.yaml";
  const std::string good_facts = "kernel: " + this_kernel() + ", nproc: " + this_nproc();

  // 1. The profile's peer part was made on a 99-CPU host: refused, nothing changed on either end.
  write_both_ends_profile(p, s, "4096 131072 6291456", "700", 1, "kernel: " + this_kernel() + ", nproc: 99");
  auto refused = retune(s, state.path, p, {});
  INFO(refused.out << refused.err);
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("its peer: part") && Catch::Contains("nproc: profile 99") && Catch::Contains("--force"));
  CHECK(both_ends() == original);

  // 2. Both ends drifted from the profile (txqueuelen 700 there; a TUN device starts at 500): put
  //    back on both, the peer's through its own agent and journal; the score holds (recorded 1): exit 11.
  write_both_ends_profile(p, s, "4096 131072 6291456", "700", 1, good_facts);
  auto rolled = retune(s, state.path, p, {});
  INFO(rolled.out << rolled.err);
  REQUIRE(rolled.exit_code == 11);
  auto j = nlohmann::json::parse(rolled.out);
  CHECK(j["outcome"] == "rolled-back");
  CHECK(j["exit_code"] == 11);
  CHECK_THAT(j["drifted"].dump(), Catch::Contains(kSrvWg + "/txqueuelen (peer ") && Catch::Contains(kCliWg + "/txqueuelen: "));
  CHECK(both_ends().at("srv txqueuelen") == "700");
  CHECK(both_ends().at("cli txqueuelen") == "700");
  CHECK(slurp(s.peer_state_dir + "/journal.json").find(kSrvWg) != std::string::npos);  // the peer's own journal

  // 3. The receiving end is poor and the profile holds it so, but recorded far more than it gives:
  //    a regression. Both ends are searched again (mirrored, as the profile says); the confirmed
  //    winner is applied on both, and the profile is rewritten with its peer part: exit 10.
  {
    write_both_ends_profile(p, s, kPoorRmem, "700", 100000, good_facts);
    for (const auto& ns : {kSrvNs, kCliNs}) in_ns(ns, {"sysctl", "-q", "-w", "net.ipv4.tcp_rmem=" + kPoorRmem});
    auto retuned = retune(s, state.path, p, {"--trials", "4"});
    INFO(retuned.out << retuned.err);
    REQUIRE(retuned.exit_code == 10);
    auto r = nlohmann::json::parse(retuned.out);
    std::printf("retune over ssh: regressed profile -> re-tuned, %.1f -> %.1f Mbit/s score, %d trials, %.0f s\n",
                r["baseline_score"].get<double>(), r["winner_score"].get<double>(), r["trials"]["total"].get<int>(),
                r["elapsed_s"].get<double>());
    auto np = act::load_profile(p);
    REQUIRE(np.peer);
    CHECK(np.peer->host["mode"].as<std::string>() == "mirrored");
    CHECK(np.peer->host["interfaces"][kCliWg].as<std::string>() == kSrvWg);
    CHECK(fs::exists(p + ".prev"));
    std::map<std::string, std::string> peer(np.peer->knobs.begin(), np.peer->knobs.end());
    REQUIRE(peer.count("net.ipv4.tcp_rmem"));
    REQUIRE(peer.count(kSrvWg + "/txqueuelen"));
    // The peer's kernel holds the new profile's peer part, read the way an admin would.
    auto now = both_ends();
    CHECK(now.at("srv tcp_rmem") == tcp_rmem_tabs(peer.at("net.ipv4.tcp_rmem")));
    CHECK(now.at("srv txqueuelen") == peer.at(kSrvWg + "/txqueuelen"));
    CHECK(now.at("srv tcp_rmem") != tcp_rmem_tabs(kPoorRmem));
    // The study records the peer's facts.
    auto st = run_wgopt(state.path, {"report", state / "retune-3.sqlite", "--json"});
    INFO(st.out << st.err);
    CHECK_THAT(st.out, Catch::Contains("\"peer\"") && Catch::Contains(s.target));

    auto rb_peer = controller(s, state.path, {"rollback"});
    INFO(rb_peer.out << rb_peer.err);
    CHECK(rb_peer.ok());
  }
  auto rb_local = run(Place::netns(kCliNs).wrap(wgopt_argv(state.path, {"rollback"})));
  INFO(rb_local.out << rb_local.err);
  CHECK(rb_local.ok());
  // Both ends' tcp_rmem were made poor by hand above (not journaled): when step 2 found them at the
  // profile's value already, the journals give back the poor one.
  in_ns(kCliNs, {"sysctl", "-q", "-w", "net.ipv4.tcp_rmem=" + original.at("cli tcp_rmem")});
  in_ns(kSrvNs, {"sysctl", "-q", "-w", "net.ipv4.tcp_rmem=" + original.at("srv tcp_rmem")});
  CHECK(both_ends() == original);
}

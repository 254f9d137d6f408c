// THE CRASH TEST (issue 3, "Done means"): the real `wgopt` binary changes real sysctls and a
// veth inside a scratch network namespace, and is SIGKILLed right after its k-th write for every
// k. The next wgopt start must put every original back byte-for-byte. Uses the test-only hook
// WGOPT_TEST_KILL_AFTER_WRITES (actuators/restore.hpp) and its own WGOPT_STATE_DIR, so it never
// meets a real journal. Needs root.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "actuators/lock.hpp"
#include "common/exec.hpp"
#include "common/files.hpp"
#include "common/place.hpp"
#include "common/util.hpp"
#include "cli_helpers.hpp"

using namespace wgopt;
using wgopt::itest::need_root;

namespace {
const std::string kNetns = "wgtcrash";
const std::string kVeth = "wgtcr0";
const std::string kPeer = "wgtcr1";

CommandResult run(const std::vector<std::string>& argv) {
  ProcessRunner r;
  return r.run(Command{.argv = argv, .timeout = std::chrono::seconds(120)});
}

// wgopt with env overrides; argv goes through `env` so nothing leaks into this process.
CommandResult run_wgopt(const std::string& state, const std::vector<std::string>& args, const std::string& kill_after = "") {
  std::vector<std::string> argv{"env", "WGOPT_STATE_DIR=" + state};
  if (!kill_after.empty()) argv.push_back("WGOPT_TEST_KILL_AFTER_WRITES=" + kill_after);
  argv.push_back(WGOPT_BINARY);
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

std::string in_ns_cat(const std::string& path) {
  auto r = run(Place::netns(kNetns).wrap({"cat", path}));
  REQUIRE(r.ok());
  return r.out;
}

// The exact bytes of everything the crash test writes, read the way an admin would.
std::map<std::string, std::string> snapshot() {
  return {{"tcp_rmem", in_ns_cat("/proc/sys/net/ipv4/tcp_rmem")},
          {"tcp_wmem", in_ns_cat("/proc/sys/net/ipv4/tcp_wmem")},
          {"tcp_congestion_control", in_ns_cat("/proc/sys/net/ipv4/tcp_congestion_control")},
          {"mtu", in_ns_cat("/sys/class/net/" + kVeth + "/mtu")},
          {"txqueuelen", in_ns_cat("/sys/class/net/" + kVeth + "/tx_queue_len")},
          {"ip_link", run({"ip", "-n", kNetns, "-o", "link", "show", kVeth}).out}};
}

struct ScratchNetns {
  std::string state;
  ScratchNetns() {
    run({"ip", "netns", "del", kNetns});  // a leftover from an interrupted run
    REQUIRE(run({"ip", "netns", "add", kNetns}).ok());
    REQUIRE(run({"ip", "link", "add", kVeth, "netns", kNetns, "type", "veth", "peer", "name", kPeer, "netns", kNetns}).ok());
    char tmpl[] = "/tmp/wgopt-crash-XXXXXX";
    state = ::mkdtemp(tmpl);
  }
  ~ScratchNetns() {
    run({"ip", "netns", "del", kNetns});
    std::filesystem::remove_all(state);
  }
};

std::string other_congestion_control(const std::string& current) {
  auto allowed = split_ws(read_file("/proc/sys/net/ipv4/tcp_allowed_congestion_control").value_or(""));
  for (const auto& a : allowed) {
    if (a != trim(current)) return a;
  }
  return {};
}
}  // namespace

TEST_CASE("wgopt killed after each write: the next start restores every original byte-for-byte", "[crash][root]") {
  need_root();
  ScratchNetns ns;
  const auto original = snapshot();
  const std::string cc = other_congestion_control(original.at("tcp_congestion_control"));
  REQUIRE_FALSE(cc.empty());
  const std::vector<std::string> set_args{"set",
                                          "--netns",
                                          kNetns,
                                          "--allow-underlay-mtu",
                                          "net.ipv4.tcp_rmem=4096 65536 4194304",
                                          "net.ipv4.tcp_wmem=4096 32768 2097152",
                                          "net.ipv4.tcp_congestion_control=" + cc,
                                          kVeth + "/txqueuelen=321",
                                          kVeth + "/mtu=1333"};
  const int writes = 5;

  for (int k = 1; k <= writes; ++k) {
    INFO("killed after write " << k);
    auto killed = run_wgopt(ns.state, set_args, std::to_string(k));
    REQUIRE(killed.signal == SIGKILL);
    CHECK(snapshot() != original);  // the crash really left the namespace changed
    REQUIRE(std::filesystem::exists(ns.state + "/journal.json"));

    CommandResult next;
    if (k % 2 == 1) {
      next = run_wgopt(ns.state, {"rollback"});
    } else {
      // Any command that changes the host restores first; this one then has nothing to write.
      next = run_wgopt(ns.state, {"set", "--netns", kNetns, "net.ipv4.tcp_rmem=" + trim(original.at("tcp_rmem"))});
      CHECK_THAT(next.err, Catch::Contains("did not finish its change; restored it first"));
      CHECK_THAT(next.out, Catch::Contains("nothing to change"));
    }
    INFO(next.out << next.err);
    REQUIRE(next.ok());
    CHECK(snapshot() == original);
    CHECK_FALSE(std::filesystem::exists(ns.state + "/journal.json"));
  }

  SECTION("a crash during recovery itself is recovered by the next start") {
    REQUIRE(run_wgopt(ns.state, set_args, "4").signal == SIGKILL);
    REQUIRE(run_wgopt(ns.state, {"rollback"}, "2").signal == SIGKILL);  // dies after restoring 2 of 4
    auto r = run_wgopt(ns.state, {"rollback"});
    INFO(r.out << r.err);
    REQUIRE(r.ok());
    CHECK(snapshot() == original);
  }

  SECTION("without a crash the change is kept until wgopt rollback") {
    auto r = run_wgopt(ns.state, set_args);
    INFO(r.out << r.err);
    REQUIRE(r.ok());
    CHECK(trim(in_ns_cat("/proc/sys/net/ipv4/tcp_rmem")) == "4096\t65536\t4194304");
    CHECK(trim(in_ns_cat("/sys/class/net/" + kVeth + "/mtu")) == "1333");
    CHECK_THAT(run({"ip", "-n", kNetns, "-o", "link", "show", kVeth}).out,
               Catch::Contains("mtu 1333") && Catch::Contains("qlen 321"));
    auto rb = run_wgopt(ns.state, {"rollback"});
    INFO(rb.out << rb.err);
    REQUIRE(rb.ok());
    CHECK(snapshot() == original);
  }
}

TEST_CASE("wgopt set refuses bad input with one line per problem and writes nothing", "[crash][root]") {
  need_root();
  ScratchNetns ns;
  const auto original = snapshot();
  auto r = run_wgopt(ns.state, {"set", "--netns", kNetns, "net.ipv4.tcp_rmem=4096 65536 4194304", "net.ipv4.tcp_wmem=lots",
                            "kernel.core_pattern=x", "eth0;x/mtu=1"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("3 problems, nothing was changed") && Catch::Contains("net.ipv4.tcp_wmem") &&
                        Catch::Contains("outside the allowlist") && Catch::Contains("'eth0;x' is not valid"));
  CHECK(snapshot() == original);
  CHECK_FALSE(std::filesystem::exists(ns.state + "/journal.json"));
}

TEST_CASE("wgopt show > p.yaml, change, wgopt apply p.yaml restores the namespace", "[crash][root]") {
  need_root();
  ScratchNetns ns;
  const auto original = snapshot();
  auto shown = run_wgopt(ns.state, {"show", "--netns", kNetns, "-i", kVeth});
  INFO(shown.err);
  REQUIRE(shown.ok());
  CHECK_THAT(shown.out, Catch::Contains("net.ipv4.tcp_rmem:") && Catch::Contains(kVeth + "/mtu: 1500"));
  const std::string profile = ns.state + "/p.yaml";
  { std::ofstream(profile) << shown.out; }

  auto set = run_wgopt(ns.state, {"set", "--netns", kNetns, "--allow-underlay-mtu", "net.ipv4.tcp_wmem=4096 32768 2097152",
                              kVeth + "/txqueuelen=321"});
  INFO(set.out << set.err);
  REQUIRE(set.ok());
  REQUIRE(snapshot() != original);
  auto applied = run_wgopt(ns.state, {"apply", "--netns", kNetns, profile});
  INFO(applied.out << applied.err);
  REQUIRE(applied.ok());
  CHECK_THAT(applied.out, Catch::Contains("changed 2 knob(s)"));
  CHECK(snapshot() == original);
}

TEST_CASE("a second wgopt that wants to change the host is told who holds the lock", "[crash][root]") {
  need_root();
  ScratchNetns ns;
  const auto original = snapshot();
  auto held = act::HostLock::acquire(act::run_dir());  // this test process plays the first wgopt
  auto r = run_wgopt(ns.state, {"set", "--netns", kNetns, "net.ipv4.tcp_wmem=4096 32768 2097152"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("another wgopt (pid " + std::to_string(::getpid()) + ") is changing this host"));
  CHECK(snapshot() == original);
}

TEST_CASE("apply --dry-run after a killed wgopt lists what the real apply would restore first, writing nothing", "[crash][root]") {
  // Found by an exploratory test: the dry-run showed the profile's own change only, while the real
  // apply first rewrote every knob the killed wgopt had written. As non-root the dry-run works too
  // (its help says so): it was refused "not root" for a host-wide knob.
  need_root();
  ScratchNetns ns;
  const auto original = snapshot();
  auto killed = run_wgopt(ns.state, {"set", "--netns", kNetns, "net.ipv4.tcp_rmem=4096 65536 4194304", "net.ipv4.tcp_wmem=4096 32768 2097152",
                                     kVeth + "/txqueuelen=321"},
                          "2");
  REQUIRE(killed.signal == SIGKILL);
  const auto left = snapshot();
  REQUIRE(left != original);
  const std::string profile = ns.state + "/p.yaml";
  std::ofstream(profile) << "knobs:\n  " << kVeth << "/txqueuelen: 555\n";
  auto dry = run_wgopt(ns.state, {"apply", "--dry-run", "--netns", kNetns, "--force", profile});
  INFO(dry.out << dry.err);
  REQUIRE(dry.ok());
  CHECK_THAT(dry.out, Catch::Contains("first, the unfinished change of a wgopt that stopped would be undone (3 knob(s))") &&
                          Catch::Contains("net.ipv4.tcp_rmem in netns " + kNetns + ": back to '4096 ") &&
                          Catch::Contains(kVeth + "/txqueuelen: "));
  auto json = run_wgopt(ns.state, {"apply", "--dry-run", "--json", "--netns", kNetns, "--force", profile});
  REQUIRE(json.ok());
  const auto j = nlohmann::json::parse(json.out);
  CHECK(j["would_restore_first"].size() == 3);  // the knob not yet written too: its restore finds it unchanged
  CHECK(j["steps"][0]["written"] == false);
  CHECK(j["steps"][0]["would_change"] == true);
  CHECK(snapshot() == left);  // nothing written, the journal still open for the real apply
  // A both-ends profile without --ssh: its peer: part is said to be left to the peer.
  std::ofstream(profile) << "knobs:\n  " << kVeth << "/txqueuelen: 555\npeer:\n  knobs:\n    wg0/mtu: 1380\n";
  auto both = run_wgopt(ns.state, {"apply", "--dry-run", "--netns", kNetns, "--force", profile});
  INFO(both.out << both.err);
  CHECK(both.ok());
  CHECK_THAT(both.err, Catch::Contains("holds a peer: part (1 knob(s)) for the other end: this applies its knobs: part here only"));
  REQUIRE(std::filesystem::exists(ns.state + "/journal.json"));
  // As nobody: the journal unreadable (a warning), the knobs previewed, the root check named.
  const std::string host_profile = "/tmp/wgopt-crash-nobody-" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(host_profile) << "knobs:\n  net.core.netdev_max_backlog: 5000\n";
  std::filesystem::permissions(host_profile, std::filesystem::perms::owner_read | std::filesystem::perms::others_read);
  auto nobody = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "WGOPT_STATE_DIR=" + ns.state,
                     "WGOPT_RUN_DIR=" + ns.state + "/run", WGOPT_BINARY, "apply", "--dry-run", host_profile});
  std::filesystem::remove(host_profile);
  INFO(nobody.out << nobody.err);
  CHECK(nobody.ok());
  CHECK_THAT(nobody.out, Catch::Contains("net.core.netdev_max_backlog") && Catch::Contains("(would change)") &&
                             Catch::Contains("not root: whether each knob can be written is checked when it is applied, as root"));
  REQUIRE(run_wgopt(ns.state, {"rollback"}).ok());
  CHECK(snapshot() == original);
}

TEST_CASE("rollback --json: a knob left alone says it was not restored", "[crash][root]") {
  // Found by an exploratory test: an item left alone (changed by someone else) carried
  // "restored_to" like a restored one.
  need_root();
  ScratchNetns ns;
  const auto original = snapshot();
  REQUIRE(run_wgopt(ns.state, {"set", "--netns", kNetns, kVeth + "/txqueuelen=321"}).ok());
  REQUIRE(run({"ip", "-n", kNetns, "link", "set", kVeth, "txqueuelen", "400"}).ok());  // someone else
  auto rb = run_wgopt(ns.state, {"rollback", "--json"});
  INFO(rb.out << rb.err);
  const auto items = nlohmann::json::parse(rb.out)["rollback"]["items"];
  REQUIRE(items.size() == 1);
  CHECK(items[0]["outcome"] == "changed-by-other");
  CHECK(items[0]["restored_to"].is_null());
  CHECK(items[0]["goal"] == trim(original.at("txqueuelen")));
  CHECK(in_ns_cat("/sys/class/net/" + kVeth + "/tx_queue_len") == "400\n");
}

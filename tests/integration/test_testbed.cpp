// The real testbed (root): two namespaces, veth, wireguard-go, iperf3. Each test uses prefix
// "wgt1" so it never collides with a user's testbed ("wgopt") or another test's.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/exec.hpp"
#include "experiments/testbed/testbed.hpp"
#include "test_testbed_checks.hpp"

using namespace wgopt;
using namespace std::chrono_literals;

namespace {
const std::string kPrefix = "wgt1";

bool alive(int pid) {
  auto c = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  return pid > 0 && c && !c->empty();
}

// Leaves no testbed from an earlier, interrupted run behind.
void start_clean() {
  Testbed(kPrefix).down();
  REQUIRE(testcheck::testbed_leftovers(kPrefix).empty());
}

// Delegates to the real runner but fails every command whose argv contains `poison`, to make `up`
// fail half-way.
class PoisonedRunner : public CommandRunner {
 public:
  explicit PoisonedRunner(std::string poison) : poison_(std::move(poison)) {}
  CommandResult run(const Command& cmd) override {
    for (const auto& a : cmd.argv) {
      if (a == poison_) {
        CommandResult r;
        r.exit_code = 1;
        r.err = "injected failure";
        return r;
      }
    }
    return real_.run(cmd);
  }

 private:
  std::string poison_;
  ProcessRunner real_;
};
}  // namespace

TEST_CASE("testbed up builds a working tunnel, a second up changes nothing, down leaves nothing", "[testbed][root]") {
  start_clean();
  Testbed tb(kPrefix);
  UpResult first = tb.up();
  CHECK(first.outcome == UpResult::Outcome::created);
  const TestbedStatus& s = first.status;
  REQUIRE(s.healthy);
  INFO(s.to_json().dump(2));
  REQUIRE(s.handshake_age_s.has_value());
  CHECK(*s.handshake_age_s >= 0);
  CHECK(*s.handshake_age_s < 180);
  CHECK(s.server.wg_mtu == 1420);
  REQUIRE(s.client.wg.has_value());
  REQUIRE(s.client.wg->peers.size() == 1);
  CHECK(s.client.wg->peers[0].endpoint == "198.18.0.1:51820");
  CHECK(s.client.wg->peers[0].allowed_ips == std::vector<std::string>{"100.64.0.1/32"});
  CHECK(s.client.wg->peers[0].persistent_keepalive == 25);
  CHECK(s.server.wg->listen_port == 51820);

  // A ping crosses the tunnel from the client namespace to the server's mesh address.
  ProcessRunner runner;
  auto ping = runner.run({.argv = tb.client_place().wrap({"ping", "-c", "2", "-W", "2", "100.64.0.1"}), .timeout = 10s});
  CHECK(ping.ok());
  // And the iperf3 server answers through it.
  auto iperf = runner.run({.argv = tb.client_place().wrap({"iperf3", "-c", "100.64.0.1", "-t", "1", "-J"}), .timeout = 30s});
  REQUIRE(iperf.ok());
  auto j = nlohmann::json::parse(iperf.out);
  CHECK_FALSE(j.contains("error"));
  CHECK(j["end"]["sum_received"]["bytes"].get<double>() > 0);

  // The CLI sees the same testbed, healthy, as JSON.
  auto st = runner.run({.argv = {WGOPT_BINARY, "testbed", "status", "--prefix", kPrefix, "--json"}});
  CHECK(st.exit_code == 0);
  auto sj = nlohmann::json::parse(st.out);
  CHECK(sj["healthy"] == true);
  CHECK(sj["client"]["wireguard_go_pid"] == s.client.wireguard_go_pid);
  CHECK(sj.dump().find("private") == std::string::npos);

  UpResult second = tb.up();
  CHECK(second.outcome == UpResult::Outcome::already_up);
  CHECK(second.status.server.wireguard_go_pid == s.server.wireguard_go_pid);
  CHECK(second.status.client.wireguard_go_pid == s.client.wireguard_go_pid);
  CHECK(second.status.iperf3_pid == s.iperf3_pid);

  // Half-broken: the client's wireguard-go dies. `up` rebuilds it.
  REQUIRE(::kill(s.client.wireguard_go_pid, SIGKILL) == 0);
  for (int i = 0; i < 100 && alive(s.client.wireguard_go_pid); ++i) usleep(20000);
  CHECK_FALSE(tb.status().healthy);
  UpResult third = tb.up();
  CHECK(third.outcome == UpResult::Outcome::rebuilt);
  CHECK(third.rebuilt_because.find("wgt1-wc") != std::string::npos);
  REQUIRE(third.status.healthy);

  const std::vector<int> pids{third.status.server.wireguard_go_pid, third.status.client.wireguard_go_pid,
                              third.status.iperf3_pid};
  DownResult down = tb.down();
  CHECK(down.removed.size() >= 6);
  for (int pid : pids) CHECK_FALSE(alive(pid));
  CHECK_FALSE(alive(s.iperf3_pid));
  auto left = testcheck::testbed_leftovers(kPrefix);
  INFO("left: " << (left.empty() ? "" : left.front()));
  CHECK(left.empty());
  CHECK(tb.down().removed.empty());  // a second down finds nothing to do
  CHECK_FALSE(tb.status().anything_present);
}

TEST_CASE("testbed up refuses a namespace that is not ours and builds nothing", "[testbed][root]") {
  start_clean();
  ProcessRunner runner;
  REQUIRE(runner.run({.argv = {"ip", "netns", "add", "wgt1-srv"}}).ok());
  Testbed tb(kPrefix);
  try {
    tb.up();
    FAIL("up succeeded over a foreign namespace");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("wgt1-srv") != std::string::npos);
    CHECK(msg.find("ip netns del wgt1-srv") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
  CHECK_THROWS_AS(tb.down(), Error);  // and down will not remove what is not ours
  CHECK(::access("/run/netns/wgt1-srv", F_OK) == 0);
  CHECK(::access("/run/netns/wgt1-cli", F_OK) != 0);
  CHECK(::access(tb.state_file().c_str(), F_OK) != 0);

  // Through the CLI: one line on stderr, exit 1.
  auto cli = runner.run({.argv = {WGOPT_BINARY, "testbed", "up", "--prefix", kPrefix}});
  CHECK(cli.exit_code == 1);
  CHECK(cli.err.rfind("wgopt: error: network namespace 'wgt1-srv' already exists", 0) == 0);
  CHECK(split_lines(cli.err).size() == 1);

  REQUIRE(runner.run({.argv = {"ip", "netns", "del", "wgt1-srv"}}).ok());
  CHECK(testcheck::testbed_leftovers(kPrefix).empty());
}

TEST_CASE("testbed: a namespace of ours deleted by hand leaves a wireguard-go that up and down treat as ours", "[testbed][root]") {
  // Found by an exploratory test: with wgt1-cli deleted by hand, its wireguard-go kept running in
  // the namespace's recorded inode, and both `up` and `down` refused it as "outside this testbed".
  start_clean();
  ProcessRunner runner;
  Testbed tb(kPrefix);
  tb.up();
  const int orphan = tb.status().client.wireguard_go_pid;
  REQUIRE(orphan > 0);
  REQUIRE(runner.run({.argv = {"ip", "netns", "del", "wgt1-cli"}}).ok());
  REQUIRE(alive(orphan));
  const auto up = tb.up();
  CHECK(up.outcome == UpResult::Outcome::rebuilt);
  CHECK_FALSE(alive(orphan));
  CHECK(tb.status().healthy);
  const int again = tb.status().client.wireguard_go_pid;
  REQUIRE(runner.run({.argv = {"ip", "netns", "del", "wgt1-cli"}}).ok());  // and again, for down
  REQUIRE(alive(again));
  tb.down();
  CHECK_FALSE(alive(again));
  CHECK(testcheck::testbed_leftovers(kPrefix).empty());
}

TEST_CASE("testbed up names a missing tool and builds nothing", "[testbed][root]") {
  start_clean();
  const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  // ip lives in /usr/sbin, wg / wireguard-go / iperf3 / ping in /usr/bin.
  ::setenv("PATH", "/usr/sbin:/sbin", 1);
  std::string msg;
  try {
    Testbed(kPrefix).up();
  } catch (const Error& e) {
    msg = e.what();
  }
  ::setenv("PATH", saved.c_str(), 1);
  CHECK(msg.find("needs `wg`, which is not on PATH") != std::string::npos);
  CHECK(msg.find("apt-get install wireguard-tools") != std::string::npos);
  CHECK(testcheck::testbed_leftovers(kPrefix).empty());
}

TEST_CASE("testbed up that fails half-way tears down what it built", "[testbed][root]") {
  start_clean();
  // iperf3 is the last daemon started: namespaces, veth and both wireguard-go are up by then.
  Testbed tb(kPrefix, std::make_shared<PoisonedRunner>("iperf3"));
  try {
    tb.up();
    FAIL("up succeeded with a failing iperf3");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("iperf3") != std::string::npos);
  }
  auto left = testcheck::testbed_leftovers(kPrefix);
  INFO("left: " << (left.empty() ? "" : left.front()));
  CHECK(left.empty());
}

TEST_CASE("testbed commands need root", "[testbed][root]") {
  ProcessRunner runner;
  // A copy in /tmp: the build tree may sit under a directory (/root) that nobody cannot enter.
  const std::string copy = "/tmp/wgopt-nobody-" + std::to_string(::getpid());
  REQUIRE(runner.run({.argv = {"install", "-m", "0755", WGOPT_BINARY, copy}}).ok());
  auto r = runner.run({.argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", copy, "testbed", "up",
                                "--prefix", kPrefix}});
  ::unlink(copy.c_str());
  CHECK(r.exit_code == 1);
  CHECK(r.err == "wgopt: error: wgopt testbed up needs root: re-run as root (sudo wgopt ...)\n");
  CHECK(testcheck::testbed_leftovers(kPrefix).empty());
}

TEST_CASE("testbed prefixes are validated before anything runs", "[testbed]") {
  CHECK_THROWS_AS(testbed_names("Bad"), UsageError);
  CHECK_THROWS_AS(testbed_names("toolong7"), UsageError);
  CHECK_THROWS_AS(testbed_names("a;b"), UsageError);
  CHECK_THROWS_AS(testbed_names(""), UsageError);
  auto n = testbed_names("wgt1");
  CHECK(n.srv_netns == "wgt1-srv");
  CHECK(n.cli_wg == "wgt1-wc");
  CHECK(n.srv_underlay == "wgt1-us");
}

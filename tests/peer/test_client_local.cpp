// The client against real agents without ssh: the built `wgopt __agent` run locally (read-only ops,
// in a temporary WGOPT_STATE_DIR), and small shell stand-ins for what cannot be staged otherwise
// (an agent of another protocol version, one that dies, one that hangs). The ssh path itself is
// tested on the testbed's real sshd (tests/integration/test_peer_ssh.cpp).
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <thread>

#include "common/error.hpp"
#include "common/files.hpp"
#include "actuators/journal.hpp"
#include "common/exec.hpp"
#include "common/util.hpp"
#include "experiments/peer/agent_client.hpp"
#include "workload/iperf3_server.hpp"
#include "workload/pidfile.hpp"

using namespace wgopt;
using namespace wgopt::peer;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/wgopt-peer-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::unique_ptr<AgentClient> local_agent(const TempDir& state, ClientOptions o = {}) {
  return AgentClient::spawn({"env", "WGOPT_STATE_DIR=" + state.path, "WGOPT_RUN_DIR=" + state.path + "/run", WGOPT_BINARY, "__agent"},
                            "local agent", std::move(o));
}

std::string script(const TempDir& dir, const std::string& name, const std::string& body) {
  const std::string path = dir.path + "/" + name;
  std::ofstream(path) << "#!/bin/sh\n" << body;
  fs::permissions(path, fs::perms::owner_all);
  return path;
}

// What a current agent answers to hello, for a stand-in that then misbehaves.
std::string hello_line() {
  HelloResult h{.protocol = kProtocolVersion, .wgopt_version = "test", .pid = 1, .state_dir = "/x", .run_dir = "/y"};
  return encode_reply({.id = 1, .ok = true, .result = encode(h)});
}

}  // namespace

TEST_CASE("client: hello, read-only operations and a clean close against the real agent", "[peer][client]") {
  TempDir state;
  auto c = local_agent(state, {.fact_interfaces = {"lo"}});
  const auto& h = c->hello();
  CHECK(h.protocol == kProtocolVersion);
  CHECK(h.wgopt_version == WGOPT_VERSION);
  CHECK(h.state_dir == state.path);
  CHECK(h.run_dir == state.path + "/run");
  CHECK(h.facts.nproc == ::sysconf(_SC_NPROCESSORS_ONLN));
  CHECK(h.facts.wireguard_mode.at("lo") == "not-wireguard");
  CHECK(h.restores.empty());
  CHECK(c->ping().pid == h.pid);

  auto rows = c->discover({.interfaces = {"lo"}});
  bool has_lo_mtu = false;
  for (const auto& r : rows.knobs) {
    if (r.descriptor.id == "lo/mtu") {
      has_lo_mtu = true;
      CHECK(r.presence.present);
      CHECK(r.value);
    }
  }
  CHECK(has_lo_mtu);
  const auto values = c->read({"net.core.netdev_max_backlog"});
  REQUIRE(values.size() == 1);
  CHECK(values[0].second == std::to_string(std::stoi(*read_file("/proc/sys/net/core/netdev_max_backlog"))));
  CHECK(c->validate({{.id = "net.ipv4.tcp_rmem", .value = "4096   131072 6291456"}}).at(0) == "4096 131072 6291456");
  CHECK(c->equal({{.id = "net.ipv4.tcp_rmem", .a = "4096 1 2", .b = "4096 1 2"}}).at(0));

  // Refusals are UsageError naming the peer; the session goes on.
  CHECK_THROWS_AS(c->validate({{.id = "net.core.netdev_max_backlog", .value = "lots"}}), UsageError);
  CHECK_THROWS_WITH(c->read({"net.ipv4.no_such"}), Catch::StartsWith("peer local agent: "));
  CHECK_THROWS_AS(c->keep(), UsageError);
  CHECK_THROWS_AS(c->probe_stop(), UsageError);
  CHECK_FALSE(c->lost());
  auto st = c->status();
  CHECK_FALSE(st.transaction_open);
  CHECK_FALSE(st.armed);

  // The probes run on the agent's side and come back as probes types.
  c->probe_start({.interfaces = {"lo"}, .interval_ms = 200, .ethtool = false, .wireguard = false});
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto probes = c->probe_stop();
  CHECK(probes.summary.samples >= 2);
  CHECK(probes.seconds.size() == probes.summary.samples);
  REQUIRE(probes.summary.ifaces.size() == 1);
  CHECK(probes.summary.ifaces[0].iface.name == "lo");
  c->close();
  CHECK_THROWS_AS(c->ping(), PeerLost);
}

TEST_CASE("client: another protocol version, an agent that dies, one that hangs", "[peer][client]") {
  TempDir dir;
  SECTION("the agent answers hello as protocol 99: one line saying to install the same version") {
    auto fake = script(dir, "v99", "read l\necho '{\"id\":1,\"ok\":true,\"result\":{\"protocol\":99,\"wgopt_version\":\"9.9\"}}'\n");
    try {
      AgentClient::spawn({fake}, "fake");
      FAIL("connected");
    } catch (const PeerLost&) {
      FAIL("a version mismatch is not a lost peer");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("protocol 99") && Catch::Contains("install the same wgopt version"));
    }
  }
  SECTION("the agent refuses our protocol version (its Version error) ") {
    auto fake = script(dir, "refuse",
                       "read l\necho '{\"id\":1,\"ok\":false,\"error\":{\"kind\":\"version\",\"message\":\"speaks 7\"}}'\n");
    CHECK_THROWS_WITH(AgentClient::spawn({fake}, "fake"), Catch::Contains("peer fake: speaks 7"));
  }
  SECTION("the agent exits before answering: its status and last stderr line") {
    auto fake = script(dir, "dies", "echo 'wgopt: error: no such command __agent' >&2\nexit 2\n");
    CHECK_THROWS_WITH(AgentClient::spawn({fake}, "fake"), Catch::Contains("exited 2") && Catch::Contains("no such command"));
  }
  SECTION("the agent never answers hello: said as silence, not as the SIGKILL this end sent it") {
    auto fake = script(dir, "silent", "sleep 30\n");
    try {
      AgentClient::spawn({fake}, "fake", {.hello_timeout = std::chrono::milliseconds(500)});
      FAIL("connected");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("did not answer within") && Catch::Contains("__agent"));
      CHECK_THAT(e.what(), !Catch::Contains("signal"));
    }
  }
  SECTION("Ctrl-C while the hello is awaited: Cancelled at once, not the timeout's Error") {
    // Found by an exploratory test: an unreachable peer kept `wgopt search --ssh` deaf to Ctrl-C for
    // the hello's 30 s, and it then exited 1 for the timeout, not 130.
    auto fake = script(dir, "silent", "sleep 30\n");
    std::atomic<bool> interrupted{false};
    std::thread signal([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      interrupted = true;
    });
    struct Join {
      std::thread& t;
      ~Join() { t.join(); }
    } join{signal};  // a FAIL below throws: the thread is joined all the same
    try {
      AgentClient::spawn({fake}, "fake", {.hello_timeout = std::chrono::milliseconds(60000), .interrupted = &interrupted});
      FAIL("connected");
    } catch (const Cancelled& e) {
      CHECK_THAT(e.what(), Catch::Contains("while waiting for peer fake to answer `hello`"));
    } catch (const Error& e) {
      FAIL(std::string("not Cancelled: ") + e.what());
    }
  }
  SECTION("a login script prints before the agent answers: the noise is skipped") {
    auto fake = script(dir, "noisy", "echo 'Welcome!'\nread l\necho '" + hello_line() + "'\nread l\n");
    auto c = AgentClient::spawn({fake}, "fake");
    CHECK(c->hello().wgopt_version == "test");
  }
  SECTION("a peer of another wgopt version speaking this protocol goes on, with a warning naming both versions") {
    auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
    auto fake = script(dir, "older", "read l\necho '" + hello_line() + "'\nread l\n");
    std::string warned;
    {
      auto c = AgentClient::spawn({fake}, "fake");
      CHECK(c->hello().wgopt_version == "test");
      for (const auto& line : sink->last_formatted()) warned += line;
    }
    spdlog::set_default_logger(previous);
    CHECK_THAT(warned, Catch::Contains(std::string("peer fake runs wgopt test, this host ") + WGOPT_VERSION));
  }
  SECTION("a request that is never answered ends the session: PeerLost now and after") {
    auto fake = script(dir, "hangs", "read l\necho '" + hello_line() + "'\nsleep 30\n");
    auto c = AgentClient::spawn({fake}, "fake", {.request_timeout = std::chrono::milliseconds(300)});
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(c->ping(), Catch::Contains("did not answer `ping`"));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    CHECK(c->lost());
    CHECK_THROWS_AS(c->status(), PeerLost);
  }
  SECTION("a missing agent program is an Error naming it") {
    CHECK_THROWS_WITH(AgentClient::spawn({"/nonexistent/agent"}, "fake"), Catch::Contains("/nonexistent/agent"));
  }
}

TEST_CASE("agent: a change its dead predecessor left open is restored at hello, and said in the restores", "[peer][client]") {
  // Found by an exploratory test: with the agent and its guardian both killed mid-change, the next
  // agent restored the change only at its first apply, silently, and the search said "the peer
  // had nothing to restore" (and a baseline measured before that apply would have run on it).
  TempDir state;
  const std::string id = "net.core.netdev_max_backlog";
  const std::string now = trim(*read_file("/proc/sys/net/core/netdev_max_backlog"));
  act::Journal j(state.path);
  j.data().boot_id = wgopt::boot_id();
  j.data().pid = 999999;  // gone
  j.data().open = true;
  j.data().entries.push_back({.id = id, .place = Place::host(), .original = now, .before = now, .target = now,
                              .state = act::EntryState::Written});
  j.save();
  {
    // A plain hello (a dry run, show, facts over ssh) writes nothing (found in review).
    auto plain = local_agent(state);
    CHECK(plain->hello().journal.open);
    CHECK(plain->hello().restores.empty());
    plain->close();
  }
  // A reconnect's hello restores it.
  auto c = local_agent(state);
  c->reconnect();
  const auto& h = c->hello();
  CHECK_FALSE(h.journal.open);
  REQUIRE(h.restores.size() == 1);
  CHECK(h.restores[0].by == "agent at its start");
  CHECK(h.restores[0].report.items.size() == 1);
  CHECK(h.restores[0].report.items[0].id == id);
  c->close();
}

TEST_CASE("agent: an iperf3 server a killed agent started is the next agent's, stopped at its end", "[peer][client]") {
  // Found by an exploratory test: kill -9 of the peer's agent left its iperf3 server running, and
  // every later agent took it for someone else's and left it running for good.
  if (find_executable("iperf3").empty()) FAIL("iperf3 is not installed: apt-get install iperf3");
  TempDir state;
  const int port = 20000 + ::getpid() % 20000;
  auto first = local_agent(state);
  const int first_pid = first->hello().pid;
  const auto started = first->ensure_iperf3_server("127.0.0.1", port);
  REQUIRE(started.started);
  REQUIRE(::kill(first_pid, SIGKILL) == 0);
  for (int i = 0; i < 100 && workload::process_alive(first_pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(workload::is_listening(Place::host(), "127.0.0.1", port));  // the dead agent's server serves on
  auto next = local_agent(state);
  const auto adopted = next->ensure_iperf3_server("127.0.0.1", port);
  CHECK(adopted.started);  // the controller stops it as its own
  CHECK(adopted.pid == started.pid);
  // A second ensure in the same session: its own server, not started (nor adopted) again (found in review).
  const auto again = next->ensure_iperf3_server("127.0.0.1", port);
  CHECK(again.listening);
  CHECK_FALSE(again.started);
  next->close();
  for (int i = 0; i < 100 && workload::is_listening(Place::host(), "127.0.0.1", port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(workload::is_listening(Place::host(), "127.0.0.1", port));
  CHECK_FALSE(workload::process_alive(started.pid));
  first.reset();
}

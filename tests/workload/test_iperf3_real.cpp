// Real processes on loopback: our server helper starts a real iperf3 -s, the client measures
// against it, early stop really interrupts it, and stop leaves nothing behind. Never asserts speed:
// the machine is shared.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fmt/format.h>

#include "common/error.hpp"
#include "common/exec.hpp"
#include "workload/iperf3_client.hpp"
#include "workload/iperf3_server.hpp"

using namespace wgopt;
using namespace wgopt::workload;
using namespace std::chrono_literals;

namespace {

// A port of our own, so parallel test runs and a user's iperf3 on 5201 never meet.
int test_port(int offset) { return 40000 + static_cast<int>(::getpid() % 10000) * 2 + offset; }

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/wgopt-test-workload-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// Stops the server even when a REQUIRE leaves the test early.
struct ServerGuard {
  ServerOptions opts;
  ~ServerGuard() { stop_server(opts); }
};

}  // namespace

TEST_CASE("a real loopback server: start, measure, stop early, stop") {
  TempDir dir;
  ServerGuard guard{{.bind_address = "127.0.0.1", .port = test_port(0), .pidfile = dir.path + "/srv.pid"}};
  const ServerOptions& opts = guard.opts;
  ProcessRunner runner;

  CHECK_FALSE(server_state(opts).running());
  const ServerState started = start_server(opts, runner);
  REQUIRE(started.running());
  CHECK(is_listening(Place::host(), "127.0.0.1", opts.port));
  // Idempotent: the same server, not a second one.
  CHECK(start_server(opts, runner).pid == started.pid);

  const ClientOptions client{.server = "127.0.0.1", .port = opts.port, .duration = 1s};
  const RunResult single = run_scenario(find_scenario("single"), client, Place::host(), runner);
  INFO(single.message);
  REQUIRE(single.status == RunStatus::ok);
  REQUIRE(single.summary);
  CHECK(single.summary->received_bps > 0);
  CHECK(single.summary->received_bytes > 0);
  CHECK_FALSE(single.intervals.empty());
  CHECK(single.parallel == 1);

  // Early stop: a 60 s run asked to stop after about a second ends as stopped_early, without
  // invented totals, and leaves the server ready for the next run.
  const auto t0 = std::chrono::steady_clock::now();
  RunControl control{.should_stop = [&] { return std::chrono::steady_clock::now() - t0 > 1500ms; }};
  const RunResult stopped = run_scenario(find_scenario("tcp"), {.server = "127.0.0.1", .port = opts.port, .duration = 60s},
                                         Place::host(), runner, control);
  INFO(stopped.message);
  CHECK(stopped.status == RunStatus::stopped_early);
  CHECK_FALSE(stopped.summary);
  for (const auto& i : stopped.intervals) CHECK(i.seconds > 0);
  CHECK(stopped.wall_seconds < 60);

  const RunResult after = run_scenario(find_scenario("udp"), client, Place::host(), runner);
  INFO(after.message);
  CHECK(after.status == RunStatus::ok);
  REQUIRE(after.summary);
  CHECK(after.summary->loss_percent.has_value());

  CHECK(stop_server(opts));
  CHECK_FALSE(server_state(opts).running());
  CHECK_FALSE(is_listening(Place::host(), "127.0.0.1", opts.port));
  CHECK_FALSE(std::filesystem::exists(opts.pidfile));
  CHECK_FALSE(stop_server(opts));  // idempotent
}

TEST_CASE("a real client against a closed port reports connect_failed") {
  ProcessRunner runner;
  const RunResult r = run_scenario(find_scenario("single"), {.server = "127.0.0.1", .port = test_port(1), .duration = 1s},
                                   Place::host(), runner);
  CHECK(r.status == RunStatus::connect_failed);
  CHECK(r.iperf3_error.find("Connection refused") != std::string::npos);
}

TEST_CASE("a server that cannot bind says why and leaves nothing running") {
  TempDir dir;
  ProcessRunner runner;
  // 198.51.100.1 (TEST-NET-2) is assigned nowhere here; nothing is sent to it.
  CHECK_FALSE(is_local_address(Place::host(), "198.51.100.1"));
  CHECK(is_local_address(Place::host(), "127.0.0.1"));
  CHECK(is_local_address(Place::host(), "127.0.0.2"));  // inside the local route 127.0.0.0/8
  CHECK(is_local_address(Place::host(), "::1"));
  const ServerOptions opts{.bind_address = "198.51.100.1", .port = test_port(1), .pidfile = dir.path + "/bad.pid"};
  try {
    start_server(opts, runner, 5s);
    FAIL("expected the start to fail");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what == fmt::format("cannot start the iperf3 server 198.51.100.1:{} in host: the address is not "
                              "assigned there: assign it (ip address add) or bind to an address that is",
                              opts.port));
  }
  CHECK(server_state(opts).pid == 0);
  stop_server(opts);
}

namespace {
// A plain listening socket of this test process on address:port; closed by the destructor.
struct Listener {
  int fd = -1;
  Listener(std::uint32_t address, int port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(address);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 1) == 0);
  }
  ~Listener() { ::close(fd); }
};
}  // namespace

TEST_CASE("a port taken by another program is refused, not shared") {
  TempDir dir;
  ProcessRunner runner;
  const int port = test_port(1);
  const ServerOptions opts{.bind_address = "127.0.0.1", .port = port, .pidfile = dir.path + "/taken.pid"};
  {
    Listener same(INADDR_LOOPBACK, port);
    CHECK(is_listening(Place::host(), "127.0.0.1", port));
    CHECK_THROWS_WITH(start_server(opts, runner), Catch::Contains("already taken by another program"));
  }
  {
    Listener wildcard(INADDR_ANY, port);  // 0.0.0.0:port blocks a bind to 127.0.0.1:port too
    CHECK_FALSE(is_listening(Place::host(), "127.0.0.1", port));
    CHECK_THROWS_WITH(start_server(opts, runner), Catch::Contains("already taken by another program"));
  }
  CHECK(server_state(opts).pid == 0);
}

TEST_CASE("server options are validated") {
  CHECK_THROWS_AS(validate(ServerOptions{.bind_address = "localhost"}), UsageError);
  CHECK_THROWS_AS(validate(ServerOptions{.port = 70000}), UsageError);
  CHECK_THROWS_AS(validate(ServerOptions{.pidfile = "relative.pid"}), UsageError);
  CHECK(default_pidfile({.place = Place::netns("wgt1-srv"), .bind_address = "100.64.0.1", .port = 5201}) ==
        "/run/wgopt/iperf3-wgt1-srv-100.64.0.1-5201.pid");
  CHECK(default_pidfile({.bind_address = "fd00::1", .port = 5201}) == "/run/wgopt/iperf3-host-fd00__1-5201.pid");
}

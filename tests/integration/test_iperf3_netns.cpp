// The iperf3 server helper and client inside a scratch network namespace (root): the namespace's
// own loopback, a real server started and stopped there, a real reverse measurement.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "common/exec.hpp"
#include "tests/scratch_dir.hpp"
#include "workload/iperf3_client.hpp"
#include "workload/iperf3_server.hpp"

using namespace wgopt;
using namespace wgopt::workload;
using namespace std::chrono_literals;

namespace {

// Stops the server even when a REQUIRE leaves the test early.
struct ServerGuard {
  ServerOptions opts;
  ~ServerGuard() { stop_server(opts); }
};

}  // namespace

TEST_CASE("iperf3 server and client in a network namespace", "[workload][root]") {
  test::ScratchDir dir("wgopt-test-workload");
  ProcessRunner runner;
  const std::string ns = fmt::format("wgtw{}-t", ::getpid() % 100000);
  run_checked(runner, {.argv = {"ip", "netns", "add", ns}}, "creating a scratch namespace");
  struct NsGuard {
    ProcessRunner& runner;
    std::string ns;
    ~NsGuard() { runner.run({.argv = {"ip", "netns", "del", ns}}); }
  } ns_guard{runner, ns};
  run_checked(runner, {.argv = {"ip", "-n", ns, "link", "set", "lo", "up"}}, "bringing lo up");

  const Place place = Place::netns(ns);
  ServerGuard guard{{.place = place, .bind_address = "127.0.0.1", .port = 5201, .pidfile = dir.path + "/ns.pid"}};
  // The namespace has its own loopback: 127.0.0.1 is local there, and 10.0.0.1 is not.
  CHECK(is_local_address(place, "127.0.0.1"));
  CHECK_FALSE(is_local_address(place, "10.0.0.1"));
  REQUIRE(start_server(guard.opts, runner).running());
  CHECK(is_listening(place, "127.0.0.1", 5201));

  const RunResult r = run_scenario(find_scenario("tcp-rev"), {.server = "127.0.0.1", .port = 5201, .duration = 1s,
                                                              .parallel = 2},
                                   place, runner);
  INFO(r.message);
  REQUIRE(r.status == RunStatus::ok);
  CHECK(r.reverse);
  CHECK(r.parallel == 2);
  CHECK(r.summary->received_bps > 0);

  CHECK(stop_server(guard.opts));
  CHECK_FALSE(is_listening(place, "127.0.0.1", 5201));
}

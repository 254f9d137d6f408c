// The command runner is what every actuator, probe and workload call goes through: argv lists,
// timeouts that kill, stdin delivery, and distinct outcomes a caller can tell apart.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/exec.hpp"

using namespace wgopt;
using namespace std::chrono_literals;

TEST_CASE("ProcessRunner captures stdout, stderr and the exit code") {
  ProcessRunner r;
  auto res = r.run({.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}});
  CHECK(res.exit_code == 3);
  CHECK(res.out == "out\n");
  CHECK(res.err == "err\n");
  CHECK_FALSE(res.ok());
  CHECK(res.brief() == "exit 3: err");
}

TEST_CASE("ProcessRunner passes arguments verbatim, never through a shell") {
  ProcessRunner r;
  auto res = r.run({.argv = {"printf", "%s|", "a b", "$(id)", ";rm -rf /"}});
  REQUIRE(res.ok());
  CHECK(res.out == "a b|$(id)|;rm -rf /|");
}

TEST_CASE("ProcessRunner feeds stdin") {
  ProcessRunner r;
  auto res = r.run({.argv = {"cat"}, .stdin_data = "hello\nworld"});
  REQUIRE(res.ok());
  CHECK(res.out == "hello\nworld");
}

TEST_CASE("ProcessRunner kills a hung child at its timeout") {
  ProcessRunner r;
  auto res = r.run({.argv = {"sleep", "30"}, .timeout = 300ms});
  CHECK(res.timed_out);
  CHECK_FALSE(res.ok());
  CHECK(res.seconds < 10);
}

TEST_CASE("ProcessRunner stops a child when asked") {
  ProcessRunner r;
  int polls = 0;
  auto res = r.run({.argv = {"sleep", "30"}, .should_stop = [&] { return ++polls > 3; }});
  CHECK(res.stopped);
  CHECK_FALSE(res.timed_out);
}

TEST_CASE("ProcessRunner reports a missing program distinctly") {
  ProcessRunner r;
  auto res = r.run({.argv = {"wgopt-no-such-program-xyz"}});
  CHECK(res.not_found);
  CHECK(res.brief() == "not found on PATH");
  CHECK_THROWS_AS(run_checked(r, {.argv = {"false"}}, "running false"), Error);
}

TEST_CASE("render_argv quotes what a shell would split") {
  CHECK(render_argv({"ip", "link", "set", "wg0", "mtu", "1420"}) == "ip link set wg0 mtu 1420");
  CHECK(render_argv({"echo", "a b", "it's"}) == "echo 'a b' 'it'\\''s'");
}

// The guardian's second line against leftovers (issue 14, item 2): when wgopt dies, the children it
// listed (common/exec.hpp list_long_children_in) that still run are killed, and a pid that now
// belongs to another process is left alone.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/exec.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "actuators/watchdog.hpp"
#include "tests/process_helpers.hpp"
#include "tests/scratch_dir.hpp"

using namespace wgopt;
using namespace wgopt::act;
using namespace std::chrono_literals;

TEST_CASE("the guardian ends a child wgopt listed and left running, then restores", "[watchdog][faults]") {
  testproc::Subreaper adopt;
  test::ScratchDir dir("wgopt-guardian");
  const std::string state = dir / "state", run = dir / "run", children = state + "/watchdog.children";
  std::filesystem::create_directories(state);
  write_file_atomic(state + "/watchdog.lease", "idle\n");
  // Plays wgopt with a child PR_SET_PDEATHSIG does not reach (here: started without it).
  const auto [wgopt_like, leftover] = testproc::fork_with_child([&](int fd) {
    list_long_children_in(children);
    ProcessRunner().run({.argv = testproc::pid_reporting_sleeper(fd), .timeout = 600s, .dies_with_wgopt = false});
  });
  REQUIRE(leftover > 0);
  const long long wgopt_start = process_start_time(wgopt_like);
  // Listed once it has run a second.
  for (auto end = std::chrono::steady_clock::now() + 5s;
       std::chrono::steady_clock::now() < end && read_children_list(children).empty();) {
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(read_children_list(children).size() == 1);
  // A stale entry: a live process (this one) under a start time it does not have.
  {
    auto text = read_file(children).value_or("");
    write_file_atomic(children, text + std::to_string(::getpid()) + " 1\n");
  }
  REQUIRE(::kill(wgopt_like, SIGKILL) == 0);
  REQUIRE(::waitpid(wgopt_like, nullptr, 0) == wgopt_like);
  REQUIRE_FALSE(testproc::gone_within(leftover, 300ms));  // nothing else ends it

  const int rc = run_guardian({.parent_pid = wgopt_like, .parent_start_time = wgopt_start,
                               .lease_path = state + "/watchdog.lease", .state_dir = state, .run_dir = run,
                               .children_path = children});
  CHECK(rc == 0);
  const bool ended = testproc::gone_within(leftover, 2s);
  if (!ended) testproc::kill_leftovers({leftover});
  CHECK(ended);
  const std::string log = read_file(state + "/watchdog.log").value_or("");
  CHECK_THAT(log, Catch::Contains("ended sleep (pid " + std::to_string(leftover) + ") that wgopt left running") &&
                      Catch::Contains("nothing was applied"));
  CHECK_FALSE(std::filesystem::exists(children));
}

// Found by an exploratory test: after `kill -9` of the guardian, a search applied every candidate
// with nothing left to restore the host had wgopt died too.
TEST_CASE("a guardian that is gone is replaced before a candidate is armed", "[watchdog][faults]") {
  test::ScratchDir dir("wgopt-guardian-gone");
  Watchdog w = Watchdog::start(WGOPT_BINARY, dir.path);
  const int first = w.pid();
  REQUIRE(first > 0);
  REQUIRE(::kill(first, SIGKILL) == 0);
  for (int i = 0; i < 100 && ::waitpid(first, nullptr, WNOHANG) == 0; ++i) std::this_thread::sleep_for(20ms);
  w.arm(10s);
  CHECK(w.pid() != first);
  CHECK(w.pid() > 0);
  CHECK(::kill(w.pid(), 0) == 0);  // it runs
  CHECK(read_file(w.lease_path()).value_or("").starts_with("armed "));
  const int second = w.pid();
  w.disarm();
  w.stop();
  CHECK(testproc::gone_within(second, 3s));
}

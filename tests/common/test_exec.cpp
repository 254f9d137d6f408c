// The command runner is what every actuator, probe and workload call goes through: argv lists,
// timeouts that kill, stdin delivery, and distinct outcomes a caller can tell apart.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <filesystem>
#include <thread>

#include "common/error.hpp"
#include "common/exec.hpp"
#include "common/signals.hpp"
#include "tests/process_helpers.hpp"
#include "tests/scratch_dir.hpp"

using namespace wgopt;
using namespace std::chrono_literals;
using wgopt::testproc::gone_within;

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

// `wgopt optimize --timeout 2562048h` (found by an exploratory test): the deadline overflowed into
// the past and the child was killed at once as timed out.
TEST_CASE("ProcessRunner: a huge timeout is a long one, never an instant one") {
  ProcessRunner r;
  auto res = r.run({.argv = {"sh", "-c", "sleep 0.3; echo done"}, .timeout = std::chrono::hours(2562048)});
  CHECK(res.ok());
  CHECK_FALSE(res.timed_out);
  CHECK(res.out == "done\n");
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

TEST_CASE("a child started from a worker thread dies when wgopt is killed (SIGKILL)", "[exec][pdeathsig]") {
  // This test process adopts orphans (subreaper), so the grandchild's fate is ours to see.
  testproc::Subreaper adopt;
  // Plays wgopt: a sampler-like thread runs a long child, and the process is then SIGKILLed.
  const auto [wgopt_like, sleeper] = testproc::fork_with_child([](int fd) {
    std::thread worker([fd] { ProcessRunner().run({.argv = testproc::pid_reporting_sleeper(fd), .timeout = 600s}); });
    worker.join();
  });
  REQUIRE(sleeper > 0);
  REQUIRE(::kill(wgopt_like, SIGKILL) == 0);
  REQUIRE(::waitpid(wgopt_like, nullptr, 0) == wgopt_like);
  const bool died = gone_within(sleeper, 3s);
  if (!died) testproc::kill_leftovers({sleeper});
  CHECK(died);
}

TEST_CASE("a child that exits while a process it left behind holds stdout returns at once", "[exec]") {
  ProcessRunner r;
  auto res = r.run({.argv = {"sh", "-c", "sleep 30 & echo $!"}, .timeout = 10s});
  const pid_t leftover = std::atoi(res.out.c_str());
  if (leftover > 0) ::kill(leftover, SIGKILL);
  CHECK(res.ok());
  CHECK_FALSE(res.timed_out);
  CHECK(res.seconds < 5);
  CHECK(leftover > 0);
}

TEST_CASE("a daemon started with dies_with_wgopt = false outlives wgopt", "[exec][pdeathsig]") {
  testproc::Subreaper adopt;
  const auto [wgopt_like, daemon] = testproc::fork_with_child([](int fd) {
    ProcessRunner().run({.argv = testproc::pid_reporting_sleeper(fd), .timeout = 600s, .capture_output = false,
                         .dies_with_wgopt = false});
  });
  REQUIRE(daemon > 0);
  REQUIRE(::kill(wgopt_like, SIGKILL) == 0);
  REQUIRE(::waitpid(wgopt_like, nullptr, 0) == wgopt_like);
  CHECK_FALSE(gone_within(daemon, 1s));
  testproc::kill_leftovers({daemon});
}

TEST_CASE("a daemon starts in a session of its own: the terminal's Ctrl-C to wgopt's group does not reach it", "[exec]") {
  // /proc/PID/stat fields 5 and 6: the process group and the session, of the shell itself.
  const std::vector<std::string> ids{"sh", "-c", "echo $$ $(cut -d' ' -f5,6 /proc/$$/stat)"};
  auto daemon = ProcessRunner().run({.argv = ids, .timeout = 10s, .dies_with_wgopt = false});
  REQUIRE(daemon.ok());
  int pid = 0, pgrp = 0, sid = 0;
  REQUIRE(std::sscanf(daemon.out.c_str(), "%d %d %d", &pid, &pgrp, &sid) == 3);
  CHECK(sid == pid);
  CHECK(pgrp == pid);
  CHECK(sid != ::getsid(0));
  auto plain = ProcessRunner().run({.argv = ids, .timeout = 10s});
  REQUIRE(plain.ok());
  REQUIRE(std::sscanf(plain.out.c_str(), "%d %d %d", &pid, &pgrp, &sid) == 3);
  CHECK(sid == ::getsid(0));  // an ordinary command stays in wgopt's session and group
  CHECK(pgrp == ::getpgrp());
}

TEST_CASE("own_process_group: a timeout, a stop and a clean exit each end everything the child started", "[exec]") {
  testproc::Subreaper adopt;
  ProcessRunner r;
  // The helper's pid comes out on stderr at once; stdout is closed so only the child's exit counts.
  const std::vector<std::string> hang{"sh", "-c", "sleep 300 >/dev/null & echo $! >&2; exec sleep 300"};
  auto timed = r.run({.argv = hang, .timeout = 500ms, .own_process_group = true});
  CHECK(timed.timed_out);
  auto stopped = r.run({.argv = hang, .should_stop = [n = 0]() mutable { return ++n > 4; }, .own_process_group = true});
  CHECK(stopped.stopped);
  auto clean = r.run({.argv = {"sh", "-c", "sleep 300 & echo $! >&2; echo done"}, .own_process_group = true});
  CHECK(clean.ok());
  CHECK(clean.out == "done\n");
  CHECK(clean.seconds < 5);
  for (const auto* res : {&timed, &stopped, &clean}) {
    const pid_t helper = std::atoi(res->err.c_str());
    INFO(res->err);
    REQUIRE(helper > 0);
    CHECK(gone_within(helper, 2s));
    testproc::kill_leftovers({helper});
  }
}

TEST_CASE("keep_bytes keeps the last bytes of a flood while on_stdout sees all of it", "[exec]") {
  ProcessRunner r;
  std::size_t seen = 0;
  std::string tail_seen;
  auto res = r.run({.argv = {"sh", "-c", "head -c 50000000 /dev/zero | tr '\\0' x; echo; echo last line; "
                                         "head -c 3000000 /dev/zero >&2"},
                    .keep_bytes = 64 * 1024,
                    .on_stdout = [&](std::string_view s) {
                      seen += s.size();
                      tail_seen = std::string(s.substr(s.size() > 32 ? s.size() - 32 : 0));
                    }});
  REQUIRE(res.ok());
  CHECK(res.out.size() == 64 * 1024);
  CHECK(res.out.ends_with("xx\nlast line\n"));
  CHECK(res.out_dropped == 50000000 + 1 + 10 - 64 * 1024);
  CHECK(res.err.size() == 64 * 1024);
  CHECK(res.err_dropped == 3000000 - 64 * 1024);
  CHECK(seen == 50000000 + 1 + 10);  // the x flood, "\n", "last line\n"
  CHECK(tail_seen.ends_with("last line\n"));
}

TEST_CASE("a child that runs a second or more is listed for the guardian until it ends", "[exec]") {
  test::ScratchDir dir("wgopt-exec");
  const std::string list = dir / "children";
  list_long_children_in(list);
  ProcessRunner r;
  auto quick = r.run({.argv = {"true"}});
  CHECK(quick.ok());
  CHECK(read_children_list(list).empty());  // short commands never touch the list
  std::vector<std::pair<int, long long>> seen;
  auto slow = r.run({.argv = {"sleep", "3"}, .should_stop = [&] {
                       if (seen.empty()) seen = read_children_list(list);
                       return false;
                     }});
  CHECK(slow.ok());
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].second > 0);
  CHECK(read_children_list(list).empty());  // gone from the list once it ended
  list_long_children_in("");
  CHECK_FALSE(std::filesystem::exists(list));
}

TEST_CASE("a stop signal held during a change acts once the change is done", "[exec][signals]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    ::signal(SIGTERM, SIG_DFL);  // wgopt's set/apply keep the default action; Catch installs its own
    {
      DeferStopSignals hold;
      ::raise(SIGTERM);  // arrives mid-change
      const char done = 'x';
      if (::write(fds[1], &done, 1) != 1) ::_exit(3);  // the change completes
    }
    ::_exit(0);  // not reached: the held SIGTERM acts here
  }
  ::close(fds[1]);
  char got = 0;
  CHECK(::read(fds[0], &got, 1) == 1);
  CHECK(got == 'x');
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
}

// Bits of a /proc/PID/status mask line ("SigBlk:\t0000000000004000") as a number.
unsigned long long status_mask(const std::string& status, const std::string& key) {
  const auto at = status.find(key + ":");
  REQUIRE(at != std::string::npos);
  return std::stoull(status.substr(at + key.size() + 1), nullptr, 16);
}

TEST_CASE("a command never inherits wgopt's held or ignored signals, and ignores the terminal's during a change",
          "[exec][signals]") {
  auto bit = [](int sig) { return 1ULL << (sig - 1); };
  ProcessRunner r;
  CommandResult held, free;
  {
    DeferStopSignals hold;  // and run() ignores SIGPIPE in wgopt itself
    held = r.run({.argv = {"cat", "/proc/self/status"}, .timeout = 10s});
  }
  free = r.run({.argv = {"cat", "/proc/self/status"}, .timeout = 10s});
  REQUIRE(held.ok());
  REQUIRE(free.ok());
  CHECK(status_mask(held.out, "SigBlk") == 0);
  CHECK((status_mask(held.out, "SigIgn") & bit(SIGPIPE)) == 0);
  // A Ctrl-C to the foreground group must not kill the `tc` writing a knob mid-change.
  CHECK((status_mask(held.out, "SigIgn") & (bit(SIGINT) | bit(SIGQUIT) | bit(SIGHUP))) == (bit(SIGINT) | bit(SIGQUIT) | bit(SIGHUP)));
  CHECK((status_mask(held.out, "SigIgn") & bit(SIGTERM)) == 0);
  CHECK(status_mask(free.out, "SigBlk") == 0);
  CHECK((status_mask(free.out, "SigIgn") & (bit(SIGINT) | bit(SIGPIPE))) == 0);
}

TEST_CASE("a change that fails keeps the held signal held: its error is printed, its exit code said", "[exec][signals]") {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGTERM, SIG_DFL);
    try {
      DeferStopSignals hold;
      ::raise(SIGTERM);
      throw std::runtime_error("the change was undone");
    } catch (const std::exception&) {
      ::_exit(7);  // main printed the error and returns its code
    }
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);
}

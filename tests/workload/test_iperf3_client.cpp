// The client wrapper against a fake CommandRunner: the argv it runs and where, and how every way a
// process can end (missing, hung, silent, killed, refused with exit 0) becomes a distinct status.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/files.hpp"
#include "workload/iperf3_client.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/scratch_dir.hpp"

using namespace wgopt;
using namespace wgopt::workload;
using namespace std::chrono_literals;

namespace {

// Records the command and answers with a scripted result. If `polls` > 0 it calls should_stop
// that many times first (as ProcessRunner does every 50 ms) and reports `stopped` if one said yes.
class FakeRunner : public CommandRunner {
 public:
  CommandResult result;
  std::vector<CommandResult> first;  // answered before `result`, in order
  int polls = 0;
  std::vector<Command> seen;

  CommandResult run(const Command& cmd) override {
    seen.push_back(cmd);
    CommandResult r = result;
    if (seen.size() <= first.size()) r = first[seen.size() - 1];
    for (int i = 0; i < polls && cmd.should_stop; ++i) {
      if (cmd.should_stop()) {
        r.stopped = true;
        r.exit_code = -1;
        break;
      }
    }
    return r;
  }
};

std::string fixture(const std::string& name) {
  auto text = read_file(std::string(WGOPT_FIXTURES_DIR) + "/iperf3/" + name);
  REQUIRE(text);
  return *text;
}

const ClientOptions kOpts{.server = "100.64.0.1", .port = 5201, .duration = 10s};

}  // namespace

TEST_CASE("the client runs in its namespace with a hard timeout of duration + connect + margin") {
  FakeRunner fake;
  fake.result = {.exit_code = 0, .out = fixture("tcp.json")};
  const RunResult r = run_scenario(find_scenario("tcp"), kOpts, Place::netns("wgt1-cli"), fake);
  REQUIRE(fake.seen.size() == 1);
  const auto& argv = fake.seen[0].argv;
  REQUIRE(argv.size() > 6);
  CHECK(std::vector<std::string>(argv.begin(), argv.begin() + 7) ==
        std::vector<std::string>{"ip", "netns", "exec", "wgt1-cli", "iperf3", "-c", "100.64.0.1"});
  CHECK(fake.seen[0].timeout == 10s + 5s + 15s);
  CHECK(fake.seen[0].capture_output);
  CHECK_FALSE(fake.seen[0].should_stop);  // no hook asked for, no -I pid file either
  CHECK(std::find(argv.begin(), argv.end(), "-I") == argv.end());
  CHECK(r.status == RunStatus::ok);
  CHECK(r.scenario == "tcp");
  CHECK(r.summary->received_bps > 0);
  CHECK(describe_target(kOpts, Place::netns("wgt1-cli")) == "100.64.0.1:5201 from netns wgt1-cli");
}

TEST_CASE("the JSON error key decides even when iperf3 exits 0") {
  FakeRunner fake;
  fake.result = {.exit_code = 0, .out = fixture("refused.json")};
  const RunResult r = run_scenario(find_scenario("single"), kOpts, Place::host(), fake);
  CHECK(r.status == RunStatus::connect_failed);
  CHECK(r.message.find("100.64.0.1:5201 from host") != std::string::npos);
  CHECK_THROWS_AS(throw_if_failed(r), Error);
}

TEST_CASE("a missing iperf3 binary is its own status, on the host and in a namespace") {
  FakeRunner fake;
  fake.result = {.not_found = true};
  RunResult r = run_scenario(find_scenario("tcp"), kOpts, Place::host(), fake);
  CHECK(r.status == RunStatus::missing_binary);
  CHECK(r.message == "iperf3 is not installed (host not found on PATH): install it with apt-get install iperf3 "
                     "(scripts/install-deps.sh does)");

  // `ip netns exec` itself runs; it is the exec of iperf3 inside that fails (captured on this VM).
  fake.result = {.exit_code = 1, .err = "exec of \"iperf3\" failed: No such file or directory\n"};
  r = run_scenario(find_scenario("tcp"), kOpts, Place::netns("wgt1-cli"), fake);
  CHECK(r.status == RunStatus::missing_binary);
  CHECK(r.message.find("netns wgt1-cli") != std::string::npos);
}

TEST_CASE("a hung client killed at the timeout is timed_out, with no summary") {
  FakeRunner fake;
  fake.result = {.exit_code = -1, .signal = 9, .timed_out = true, .seconds = 30};
  const RunResult r = run_scenario(find_scenario("udp"), kOpts, Place::host(), fake);
  CHECK(r.status == RunStatus::timed_out);
  CHECK_FALSE(r.summary);
  CHECK(r.message == "iperf3 against 100.64.0.1:5201 from host did not finish within 30 s and was killed: check "
                     "that the server answers and the path is not stalled");
  CHECK(r.wall_seconds == 30);
}

TEST_CASE("no output at all is empty_output, naming the exit status") {
  FakeRunner fake;
  fake.result = {.exit_code = 0};
  CHECK(run_scenario(find_scenario("tcp"), kOpts, Place::host(), fake).status == RunStatus::empty_output);
  fake.result = {.exit_code = 1};
  const RunResult r = run_scenario(find_scenario("tcp"), kOpts, Place::host(), fake);
  CHECK(r.status == RunStatus::empty_output);
  CHECK(r.message.find("exit 1") != std::string::npos);
}

TEST_CASE("a parameter error iperf3 prints on stderr (not in the JSON) keeps its text") {
  FakeRunner fake;
  fake.result = {.exit_code = 1, .out = "Usage: iperf3 [-s|-c host] [options]\n", .err = fixture("param-error.stderr")};
  const RunResult r = run_scenario(find_scenario("tcp"), kOpts, Place::host(), fake);
  CHECK(r.status == RunStatus::iperf3_error);
  CHECK(r.iperf3_error == "parameter error - number of parallel streams too large (maximum = 128)");
}

TEST_CASE("truncated output is invalid_json, not a result") {
  FakeRunner fake;
  fake.result = {.exit_code = 0, .out = fixture("truncated.json")};
  const RunResult r = run_scenario(find_scenario("tcp"), kOpts, Place::host(), fake);
  CHECK(r.status == RunStatus::invalid_json);
  CHECK_FALSE(r.summary);
}

TEST_CASE("should_stop reaches the runner; a run stopped before iperf3 wrote its pid is killed") {
  FakeRunner fake;
  fake.result = {.exit_code = 0, .out = fixture("tcp.json")};
  fake.polls = 10;
  int asked = 0;
  RunControl control{.should_stop = [&] { return ++asked >= 3; }};
  const RunResult r = run_scenario(find_scenario("tcp"), kOpts, Place::host(), fake, control);
  REQUIRE(fake.seen.size() == 1);
  const auto& argv = fake.seen[0].argv;
  auto it = std::find(argv.begin(), argv.end(), "-I");
  REQUIRE(it != argv.end());
  CHECK((it + 1)->rfind("/tmp/wgopt-iperf3-client-", 0) == 0);
  CHECK(fake.seen[0].timeout == 10s + 5s + 15s + 3s);
  CHECK(asked == 3);
  CHECK(r.status == RunStatus::stopped_early);
  CHECK_FALSE(r.summary);  // even though the fake printed a full report, a killed run has none
  CHECK(r.usable());
  CHECK_NOTHROW(throw_if_failed(r));
}

TEST_CASE("a run whose stop hook never fires finishes normally") {
  FakeRunner fake;
  fake.result = {.exit_code = 0, .out = fixture("single.json")};
  fake.polls = 5;
  RunControl control{.should_stop = [] { return false; }};
  const RunResult r = run_scenario(find_scenario("single"), kOpts, Place::host(), fake, control);
  CHECK(r.status == RunStatus::ok);
  CHECK(r.summary);
}

// Found by an exploratory test: each search killed with SIGKILL left its client's pid file.
TEST_CASE("a stoppable run removes the pid files of wgopts that are gone, never a live one's") {
  test::ScratchDir dir("wgopt-pidfiles");
  const pid_t gone = ::fork();  // a pid known to be dead: a child that exited and was reaped
  if (gone == 0) ::_exit(0);
  REQUIRE(gone > 0);
  REQUIRE(::waitpid(gone, nullptr, 0) == gone);
  const std::string dead = dir / ("wgopt-iperf3-client-" + std::to_string(gone) + "-0.pid");
  const std::string mine = dir / ("wgopt-iperf3-client-" + std::to_string(::getppid()) + "-3.pid");  // a live process
  const std::string other = dir / "notes.pid";
  for (const auto& f : {dead, mine, other}) std::ofstream(f) << "1\n";
  FakeRunner fake;
  fake.result = {.exit_code = 0, .out = fixture("single.json")};
  RunControl control{.should_stop = [] { return false; }, .pidfile_dir = dir.path};
  CHECK(run_scenario(find_scenario("single"), kOpts, Place::host(), fake, control).status == RunStatus::ok);
  CHECK_FALSE(std::filesystem::exists(dead));
  CHECK(std::filesystem::exists(mine));
  CHECK(std::filesystem::exists(other));
}

TEST_CASE("invalid options throw before the runner is called") {
  FakeRunner fake;
  CHECK_THROWS_AS(run_scenario(find_scenario("tcp"), {.server = "--help"}, Place::host(), fake), UsageError);
  CHECK(fake.seen.empty());
}

TEST_CASE("a busy server is retried, and reported once the retries are spent") {
  FakeRunner fake;
  fake.first = {{.exit_code = 0, .out = fixture("busy.json")}};
  fake.result = {.exit_code = 0, .out = fixture("single.json")};
  const RunControl quick{.busy_retries = 2, .busy_wait = 10ms};
  RunResult r = run_scenario(find_scenario("single"), kOpts, Place::host(), fake, quick);
  CHECK(r.status == RunStatus::ok);
  CHECK(fake.seen.size() == 2);

  FakeRunner always_busy;
  always_busy.result = {.exit_code = 0, .out = fixture("busy.json")};
  r = run_scenario(find_scenario("single"), kOpts, Place::host(), always_busy, quick);
  CHECK(r.status == RunStatus::server_busy);
  CHECK(always_busy.seen.size() == 3);
}

TEST_CASE("a refused connection is retried briefly: iperf3 has no listener between two tests") {
  FakeRunner fake;
  fake.first = {{.exit_code = 0, .out = fixture("refused.json")}};
  fake.result = {.exit_code = 0, .out = fixture("single.json")};
  int retried = 0;
  const RunControl quick{.refused_retries = 2, .refused_wait = 10ms, .on_retry = [&](bool busy) { retried += busy ? 100 : 1; }};
  RunResult r = run_scenario(find_scenario("single"), kOpts, Place::host(), fake, quick);
  CHECK(r.status == RunStatus::ok);
  CHECK(fake.seen.size() == 2);
  CHECK(retried == 1);

  FakeRunner down;
  down.result = {.exit_code = 0, .out = fixture("refused.json")};
  r = run_scenario(find_scenario("single"), kOpts, Place::host(), down, quick);
  CHECK(r.status == RunStatus::connect_failed);
  CHECK(down.seen.size() == 3);

  // Only a refusal: a connect that times out (no route, a black hole) is not tried again.
  FakeRunner unreachable;
  unreachable.result = {.exit_code = 0, .out = R"({"start":{},"intervals":[],"end":{},)"
                                                R"("error":"unable to connect to server: No route to host"})"};
  r = run_scenario(find_scenario("single"), kOpts, Place::host(), unreachable, quick);
  CHECK(r.status == RunStatus::connect_failed);
  CHECK(unreachable.seen.size() == 1);
}

// End to end: `wgopt optimize` runs the evaluator script of tests/fixtures/optimize through the
// protocol of issue 4, survives its failing, silent and hanging trials, and rejects a bad space.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "common/exec.hpp"
#include "tests/process_helpers.hpp"
#include "tests/scratch_dir.hpp"

using json = nlohmann::json;

namespace {

const std::string kDir = std::string(WGOPT_FIXTURES_DIR) + "/optimize/";

wgopt::CommandResult wgopt_run(std::vector<std::string> args) {
  args.insert(args.begin(), WGOPT_BINARY);
  wgopt::ProcessRunner runner;
  return runner.run({.argv = args, .timeout = std::chrono::seconds(300)});
}

}  // namespace

TEST_CASE("wgopt optimize runs the protocol and records failed trials", "[cmd_optimize]") {
  auto r = wgopt_run({"optimize", "--space", kDir + "space_mixed.yaml", "--eval", "python3 '" + kDir + "eval_mixed.py'",
                      "--trials", "16", "--seed", "3", "--timeout", "3s", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json out = json::parse(r.out);
  REQUIRE(out["trials"].size() == 16);
  CHECK(out["objective"] == "maximize");

  std::set<int> failed;
  for (const auto& t : out["trials"]) {
    const auto& p = t["params"];
    // Types on the wire follow the space: real -> float, int/pow2/mask -> integer, bool, string.
    CHECK(p["x"].is_number_float());
    CHECK(p["mtu"].is_number_integer());
    CHECK(p["ring"].is_number_integer());
    CHECK(p["gro"].is_boolean());
    CHECK(p["cc"].is_string());
    CHECK(p.contains("rfs") == (p["rps"].get<int>() != 0));  // the condition holds on the wire
    bool reno = p["cc"] == "reno";
    int n = t["trial"];
    if (t["state"] == "failed") {
      failed.insert(n);
      CHECK(t["value"].is_null());
      CHECK(t["note"].is_string());  // why, as the text run prints it
      if (reno) CHECK_THAT(t["note"].get<std::string>(), Catch::Contains("exit 3"));
    } else {
      CHECK(t["state"] == "complete");
      CHECK(t["value"].is_number());
      CHECK_FALSE(reno);  // reno always exits 3
    }
    if (reno) CHECK(failed.count(n));
  }
  // Trial 0 is the `current:` configuration from SPACE.yaml.
  CHECK(out["trials"][0]["params"] == json({{"x", 0.2}, {"mtu", 1420}, {"ring", 256}, {"cc", "cubic"},
                                             {"gro", false}, {"rps", 0}}));
  CHECK(out["trials"][0]["value"].get<double>() == Approx(75.0));
  CHECK(failed.count(2));  // printed no value
  CHECK(failed.count(4));  // hung, killed by --timeout 3s
  // best: the recommendation, never a failed configuration, close to what was measured for it.
  const auto& best = out["best"];
  REQUIRE(best.is_object());
  CHECK(best["params"]["cc"] != "reno");
  CHECK(best["value"].get<double>() > 75.0);
  CHECK(best["value"].get<double>() == Approx(best["measured"].get<double>()).margin(5.0));
}

TEST_CASE("wgopt optimize prints progress and a summary without --json", "[cmd_optimize]") {
  auto r = wgopt_run({"optimize", "--space", kDir + "space_mixed.yaml", "--eval", "python3 " + kDir + "eval_mixed.py",
                      "--trials", "3", "--strategy", "coordinate", "--timeout", "3s"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("[1/3] trial 0  value 75  best 75 (trial 0)") != std::string::npos);
  CHECK(r.err.find("[3/3] trial 2  failed: no JSON line") != std::string::npos);
  CHECK(r.out.find("recommended (coordinate, 2 of 3 trials complete):") != std::string::npos);
  CHECK_THAT(r.out, Catch::Contains("expected value ") && Catch::Contains("(measured "));
  // bo's sd is its model's, named as such (a constant evaluator read "+- 0.80" as measured noise).
  r = wgopt_run({"optimize", "--space", kDir + "space_mixed.yaml", "--eval", "python3 " + kDir + "eval_mixed.py", "--trials", "8",
                 "--strategy", "bo", "--timeout", "3s"});
  INFO(r.out << r.err);
  CHECK_THAT(r.out, Catch::Contains(" (model sd ") && !Catch::Contains("+-"));
}

TEST_CASE("wgopt optimize: a value of NaN or beyond a double's range is named as not JSON, not as no line", "[cmd_optimize]") {
  for (const std::string value : {"NaN", "1e999", "Infinity"}) {
    auto r = wgopt_run({"optimize", "--space", kDir + "space_one.yaml", "--eval", "echo '{\"value\": " + value + "}'", "--trials", "1"});
    INFO(r.err);
    CHECK_THAT(r.err, Catch::Contains("failed: the line {\"value\": " + value + "} is not JSON: print one JSON object with a finite "
                                      "number, e.g. {\"value\": 12.5} (NaN, Infinity and numbers beyond a double's range are not JSON)"));
  }
  // A good line is the value, before or after a bad one (a value line followed by other output stays
  // the value, as it always was).
  for (const std::string out : {"{\"value\": NaN}\\n{\"value\": 3}\\n", "{\"value\": 3}\\n{\"value\": NaN}\\n"}) {
    auto r = wgopt_run({"optimize", "--space", kDir + "space_one.yaml", "--eval", "printf '" + out + "'", "--trials", "1", "--json"});
    INFO(out << r.err);
    CHECK(json::parse(r.out)["trials"][0]["value"] == 3);
  }
}

TEST_CASE("wgopt optimize: a --timeout past 7 days and a --remeasure below -1 or of every trial are refused", "[cmd_optimize]") {
  // 2562048h overflowed the deadline into the past: every trial "timed out after 0 s". A --remeasure
  // of --trials or more was cut to --trials - 1 without a word.
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--timeout", "2562048h", "must be"}, {"--remeasure", "-5", "must be"},
        {"--remeasure", "2", "leaves no trial to find candidates in --trials 2: use 0..1"}}) {
    std::vector<std::string> args{"optimize", "--space", kDir + "space_one.yaml", "--eval", "true", "--trials", "2", bad[0], bad[1]};
    auto r = wgopt_run(args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::Contains(bad[0] + " ") && Catch::Contains(bad[2]));
  }
}

TEST_CASE("wgopt optimize rejects a bad SPACE.yaml naming the entry, exit 2", "[cmd_optimize]") {
  auto r = wgopt_run({"optimize", "--space", kDir + "bad_pow2.yaml", "--eval", "python3 " + kDir + "eval_mixed.py",
                      "--trials", "3"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "wgopt: error: " + kDir + "bad_pow2.yaml params[2] 'ring': pow2 min 300 is neither 0 nor a power of two\n");
  CHECK(r.out.empty());

  auto q = wgopt_run({"optimize", "--space", kDir + "space_mixed.yaml", "--eval", "python3 'unclosed", "--trials", "3"});
  CHECK(q.exit_code == 2);
  CHECK(q.err == "wgopt: error: --eval: unclosed single quote: close it or drop it\n");

  auto s = wgopt_run({"optimize", "--space", kDir + "space_mixed.yaml", "--eval", "python3 x.py", "--trials", "3",
                      "--strategy", "tpe"});
  CHECK(s.exit_code == 2);
  CHECK(s.err == "wgopt: error: strategy 'tpe' is unknown: use bo, random or coordinate\n");
}

TEST_CASE("wgopt optimize: a timed-out trial takes everything its evaluator started with it", "[cmd_optimize][faults]") {
  wgopt::testproc::Subreaper adopt;  // the evaluator's orphans come to us, so their end is visible
  wgopt::test::ScratchDir dir("wgopt-opt");
  auto r = wgopt_run({"optimize", "--space", kDir + "space_one.yaml", "--eval",
                      "sh " + kDir + "eval_hang_with_child.sh " + (dir / "pids"), "--trials", "2", "--timeout", "1s"});
  INFO(r.err);
  CHECK(r.exit_code == 1);  // every trial failed (timed out), and the run said so
  CHECK_THAT(r.err, Catch::Contains("timed out"));
  const auto pids = wgopt::testproc::pids_in((dir / "pids"));
  REQUIRE(pids.size() == 2);
  CHECK(wgopt::testproc::all_gone_within(pids, std::chrono::seconds(2)));
  wgopt::testproc::kill_leftovers(pids);
}

TEST_CASE("wgopt optimize: a value printed before a clean exit counts even if a helper keeps stdout open",
          "[cmd_optimize][faults]") {
  wgopt::testproc::Subreaper adopt;
  wgopt::test::ScratchDir dir("wgopt-opt");
  const auto t0 = std::chrono::steady_clock::now();
  auto r = wgopt_run({"optimize", "--space", kDir + "space_one.yaml", "--eval",
                      "sh " + kDir + "eval_background.sh " + (dir / "pids"), "--trials", "2", "--timeout", "20s",
                      "--json"});
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json out = json::parse(r.out);
  for (const auto& t : out["trials"]) CHECK(t["state"] == "complete");
  CHECK(took < 15);  // not one --timeout per trial
  // The trial is over when its evaluator exits: the helper it left behind is ended with it.
  const auto pids = wgopt::testproc::pids_in((dir / "pids"));
  REQUIRE(pids.size() == 2);
  CHECK(wgopt::testproc::all_gone_within(pids, std::chrono::seconds(2)));
  wgopt::testproc::kill_leftovers(pids);
}

TEST_CASE("wgopt optimize: 600 MB of evaluator output under a memory limit fails no trial and not the run",
          "[cmd_optimize][faults]") {
  // 512 MiB of address space for wgopt and its evaluator: holding 600 MB of output cannot fit.
  std::vector<std::string> argv{"prlimit", "--as=536870912", WGOPT_BINARY, "optimize", "--space",
                                kDir + "space_one.yaml", "--eval", "sh " + kDir + "eval_flood.sh 600000000",
                                "--trials", "2", "--timeout", "120s", "--json"};
  wgopt::ProcessRunner runner;
  auto r = runner.run({.argv = argv, .timeout = std::chrono::seconds(300)});
  INFO(r.err.substr(0, 2000));
  REQUIRE(r.exit_code == 0);
  json out = json::parse(r.out);
  REQUIRE(out["trials"].size() == 2);
  for (const auto& t : out["trials"]) {
    CHECK(t["state"] == "complete");
    CHECK(t["value"] == 2);
  }
}

// `wgopt optimize` whose evaluator starts a helper in the background (its pid in DIR/pids) and
// hangs; returns once that helper runs, with stdout and stderr in DIR/log.
static pid_t start_hanging_run(const wgopt::test::ScratchDir& dir) {
  const pid_t pid = wgopt::testproc::spawn({WGOPT_BINARY, "optimize", "--space", kDir + "space_one.yaml", "--eval",
                                            "sh " + kDir + "eval_hang_with_child.sh " + (dir / "pids"), "--trials", "2",
                                            "--timeout", "60s"},
                                           dir / "log");
  REQUIRE(pid > 0);
  for (int i = 0; i < 200 && wgopt::testproc::pids_in(dir / "pids").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  REQUIRE(wgopt::testproc::pids_in(dir / "pids").size() == 1);  // the evaluator runs
  return pid;
}

// SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal or the ssh session closed) all stop a long run
// the same clean way: the evaluator and what it started are ended, exit 130, the reason said. The
// handler is the one search and retune install (cli/interrupt.hpp).
TEST_CASE("wgopt optimize: SIGINT, SIGTERM and SIGHUP stop the run cleanly with everything it started",
          "[cmd_optimize][faults]") {
  const int sig = GENERATE(SIGINT, SIGTERM, SIGHUP);
  INFO("signal " << sig);
  wgopt::testproc::Subreaper adopt;
  wgopt::test::ScratchDir dir("wgopt-opt");
  const pid_t pid = start_hanging_run(dir);
  REQUIRE(::kill(pid, sig) == 0);
  int status = 0;
  REQUIRE(wgopt::testproc::wait_exit(pid, std::chrono::seconds(20), status));
  std::ifstream log_in(dir / "log");
  const std::string log((std::istreambuf_iterator<char>(log_in)), std::istreambuf_iterator<char>());
  INFO(log);
  REQUIRE(WIFEXITED(status));  // not killed by the signal
  CHECK(WEXITSTATUS(status) == 130);
  CHECK_THAT(log, Catch::Contains("interrupted"));
  const auto pids = wgopt::testproc::pids_in(dir / "pids");
  CHECK(wgopt::testproc::all_gone_within(pids, std::chrono::seconds(2)));
  wgopt::testproc::kill_leftovers(pids);
}

// SIGKILL (or the OOM killer) gives wgopt no chance to end anything: PR_SET_PDEATHSIG ends the
// evaluator itself, and the group reaper (common/exec.cpp) what the evaluator started in the
// background. Without it the helper `sleep 1000` of this fixture ran on (found by an exploratory test).
TEST_CASE("wgopt optimize: killed with SIGKILL, it still takes everything its evaluator started with it",
          "[cmd_optimize][faults]") {
  wgopt::testproc::Subreaper adopt;
  wgopt::test::ScratchDir dir("wgopt-opt-kill");
  const pid_t pid = start_hanging_run(dir);
  const auto pids = wgopt::testproc::pids_in(dir / "pids");  // the evaluator's helper, in the background
  REQUIRE(::kill(pid, SIGKILL) == 0);
  int status = 0;
  REQUIRE(wgopt::testproc::wait_exit(pid, std::chrono::seconds(5), status));
  CHECK(wgopt::testproc::all_gone_within(pids, std::chrono::seconds(3)));
  wgopt::testproc::kill_leftovers(pids);
}

// Found by an exploratory test: an interrupted --json run printed nothing, and the trials that had
// finished were lost.
TEST_CASE("wgopt optimize --json: interrupted, it still prints the trials that finished", "[cmd_optimize][faults]") {
  wgopt::testproc::Subreaper adopt;
  wgopt::test::ScratchDir dir("wgopt-opt-json");
  const pid_t pid = wgopt::testproc::spawn({WGOPT_BINARY, "optimize", "--space", kDir + "space_one.yaml", "--eval",
                                            "sh " + kDir + "eval_hang_after_first.sh " + (dir / "pids"), "--trials", "3",
                                            "--timeout", "60s", "--json"},
                                           dir / "log");
  REQUIRE(pid > 0);
  for (int i = 0; i < 400 && wgopt::testproc::pids_in(dir / "pids").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  REQUIRE(wgopt::testproc::pids_in(dir / "pids").size() == 1);  // trial 0 done, trial 1 hangs
  REQUIRE(::kill(pid, SIGINT) == 0);
  int status = 0;
  REQUIRE(wgopt::testproc::wait_exit(pid, std::chrono::seconds(20), status));
  std::ifstream log_in(dir / "log");
  const std::string log((std::istreambuf_iterator<char>(log_in)), std::istreambuf_iterator<char>());
  INFO(log);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  const auto at = log.find("{\"");
  REQUIRE(at != std::string::npos);
  const json out = json::parse(log.substr(at, log.find('\n', at) - at));
  CHECK(out["interrupted"] == true);
  REQUIRE(out["trials"].size() == 1);
  CHECK(out["trials"][0]["value"] == 7);
  CHECK(out["best_seen"]["value"] == 7);
  wgopt::testproc::kill_leftovers(wgopt::testproc::pids_in(dir / "pids"));
}

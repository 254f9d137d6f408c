// `wgopt search`'s free-text options (issue 14, item 1, at the source): --sku goes into the
// profile's host facts and --study/--profile/--resume name the files whose names the profile and
// every export header carry. A control character or an overlong value is refused with one line and
// exit 2 before anything runs: no testbed, no state, no study file.
#include <catch2/catch.hpp>
#include <fstream>

#include <unistd.h>

#include <filesystem>

#include "common/exec.hpp"
#include "common/util.hpp"
#include "experiments/search/search_plan.hpp"

using namespace wgopt;
using namespace std::string_literals;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path dir = fs::temp_directory_path() / ("wgopt-search-options-" + std::to_string(::getpid()));
  TempDir() {
    fs::remove_all(dir);
    fs::create_directories(dir / "state");
  }
  ~TempDir() { fs::remove_all(dir); }
};

// `--trials -1` is refused right after the free-text options are checked, so no case here can
// start a search, whatever the check does; the testbed prefix "wga" is this test's own anyway.
CommandResult search(const TempDir& tmp, const std::vector<std::string>& extra) {
  std::vector<std::string> argv{"env", "WGOPT_STATE_DIR=" + (tmp.dir / "state").string(), WGOPT_BINARY, "search", "--testbed",
                                "--prefix", "wga", "--budget", "1s", "--no-watchdog", "--quiet", "--trials", "-1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ProcessRunner r;
  return r.run({.argv = argv, .timeout = std::chrono::seconds(30)});
}

bool netns_exists(const std::string& name) { return fs::exists("/run/netns/" + name); }

}  // namespace

TEST_CASE("search: --sku, --study, --profile and --resume with control characters or too long are refused first", "[search_options]") {
  TempDir tmp;
  const std::string dir = tmp.dir.string() + "/";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--sku", "vm\ntouch /tmp/x"}, "--sku"},
      {{"--sku", "vm\rx"}, "--sku"},
      {{"--sku", "vm\x1b[2J"}, "--sku"},
      {{"--sku", "vm $(id)"}, "--sku"},
      {{"--sku", "vm`id`"}, "--sku"},
      {{"--sku", "vm;id"}, "--sku"},
      {{"--sku", "vm %h"}, "--sku"},
      {{"--sku", "vm\xe2\x80\xa8x"}, "--sku"},
      {{"--sku", std::string(129, 'a')}, "--sku"},
      {{"--sku", "   "}, "--sku"},  // blank: the profile would record "" and its own readers refuse it
      {{"--study", dir + "s\n$(touch " + dir + "y).sqlite"}, "--study"},
      {{"--study", dir + "s\r.sqlite"}, "--study"},
      {{"--study", dir + std::string(4096, 'a')}, "--study"},
      {{"--profile", dir + "p\n.yaml"}, "--profile"},
      {{"--profile", dir + "p\x7f.yaml"}, "--profile"},
      {{"--resume", dir + "s\n.sqlite"}, "--resume"},
  };
  const bool had_netns = netns_exists("wga-cli");
  for (const auto& [args, option] : cases) {
    INFO(option << " " << args[1].substr(0, 80));
    auto r = search(tmp, args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("wgopt: error: " + option + " "));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find('\r') == std::string::npos);
    CHECK(r.err.find('\x1b') == std::string::npos);
    // Nothing ran: no state, no study or profile file, no testbed.
    CHECK(fs::is_empty(tmp.dir / "state"));
    for (const auto& e : fs::directory_iterator(tmp.dir)) CHECK(e.path().filename() == "state");
    CHECK(netns_exists("wga-cli") == had_netns);
  }
}

TEST_CASE("search: an ordinary SKU and paths pass the check", "[search_options]") {
  // The check passes and the next one refuses (--trials -1).
  TempDir tmp;
  auto r = search(tmp, {"--sku", "Standard_D4s_v5 (gen2) m5.xlarge/HVM, rev:1+2", "--study", tmp.dir.string() + "/s t.sqlite",
                        "--profile", tmp.dir.string() + "/p-1_2.yaml"});
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(trim(r.err) == "wgopt: error: --trials -1 is not a number of trials: give 1 or more, or leave it out to let --budget bound "
                       "the search");
}

TEST_CASE("search: an empty --knobs or --exclude, --study with --resume and --trials 0 are refused before anything runs",
          "[search_options]") {
  // Found by an exploratory test: --knobs '' searched every knob, --study beside --resume was
  // ignored (the trials went into the resumed study) and --trials 0 meant "no cap".
  TempDir tmp;
  const std::string study = tmp.dir.string() + "/s.sqlite";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--knobs", ""}, "--knobs is empty: give knob ids or patterns (see `wgopt knobs`), or leave it out to search every writable knob"},
      {{"--knobs", " "}, "--knobs is empty"},
      {{"--exclude", ""}, "--exclude is empty: give knob ids or patterns (see `wgopt knobs`), or leave it out"},
      {{"--resume", study, "--study", tmp.dir.string() + "/other.sqlite"}, "--study and --resume both name the study"},
  };
  for (const auto& [args, message] : cases) {
    INFO(args[0] << " " << args[1]);
    auto r = search(tmp, args);  // with the --trials -1 that would refuse next
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("wgopt: error: " + message));
    CHECK(fs::is_empty(tmp.dir / "state"));
  }
  // --trials 0 alone, with no --budget: had it been taken as "no cap", "give a budget" would refuse it.
  ProcessRunner runner;
  auto r = runner.run({.argv = {"env", "WGOPT_STATE_DIR=" + (tmp.dir / "state").string(), WGOPT_BINARY, "search", "--testbed", "--prefix",
                                "wga", "--no-watchdog", "--quiet", "--trials", "0"},
                       .timeout = std::chrono::seconds(30)});
  CHECK(r.exit_code == 2);
  CHECK(trim(r.err) == "wgopt: error: --trials 0 is not a number of trials: give 1 or more, or leave it out to let --budget bound the search");
  // Both plants given is said so (it read as if neither was).
  wgopt::experiments::SearchOptions both;
  both.testbed = true;
  both.peer = "100.64.0.1";
  both.trials = 1;
  CHECK_THROWS_WITH(wgopt::experiments::plan_search(both), Contains("--peer ADDR of a host running `iperf3 -s`, not both"));
}

TEST_CASE("search --ssh: the combinations that cannot work are refused before anything runs", "[search_options]") {
  using wgopt::experiments::SearchOptions;
  auto refused = [](SearchOptions o, const std::string& needle) {
    o.trials = 1;
    CHECK_THROWS_WITH(wgopt::experiments::plan_search(o), Contains(needle));
  };
  SearchOptions peer;
  peer.peer = "100.64.0.1";
  SearchOptions ssh = peer;
  ssh.ssh = wgopt::peer::SshOptions{.target = "root@10.0.0.2"};
  SearchOptions testbed;
  testbed.testbed = true;
  testbed.ssh = ssh.ssh;
  refused(testbed, "not --testbed");
  SearchOptions per_end = peer;
  per_end.per_end = true;
  refused(per_end, "--per-end only applies with --ssh");
  SearchOptions ifaces = ssh;
  ifaces.interfaces = {"wt0", "eth0"};
  ifaces.peer_interfaces = {"wt0"};
  refused(ifaces, "--peer-interfaces names 1 interface(s) but --interfaces 2");
  ifaces.peer_interfaces = {"wt0", "eth0;reboot"};
  refused(ifaces, "eth0;reboot");
  // retune --ssh holds a both-ends profile: one of this host only is refused.
  TempDir tmp;
  const std::string one_host = tmp.dir.string() + "/p.yaml";
  std::ofstream(one_host) << "knobs:\n  net.ipv4.tcp_rmem: \"4096 131072 6291456\"\nevidence: {plant: {peer: 100.64.0.1}}\n";
  SearchOptions retune = ssh;
  retune.retune_profile = one_host;
  refused(retune, "holds this host's knobs only (no peer: section): retune it without --ssh");
  // A retune's --study in a missing directory is bad input, refused before anything runs (it
  // failed after the wait, exit 1, found by an exploratory test).
  SearchOptions retune_here = peer;
  retune_here.retune_profile = one_host;
  retune_here.study_path = tmp.dir.string() + "/no-such-dir/r.sqlite";
  refused(retune_here, "--study " + retune_here.study_path + ": directory " + tmp.dir.string() + "/no-such-dir does not exist");
  ssh.trials = 1;
  CHECK_NOTHROW(wgopt::experiments::plan_search(ssh));
}

TEST_CASE("search: new candidates are screened at half the duration unless --screen says otherwise", "[search_options]") {
  using wgopt::experiments::SearchOptions;
  SearchOptions o;
  o.peer = "100.64.0.1";
  o.trials = 1;
  auto plan = wgopt::experiments::plan_search(o);
  CHECK(plan.objective.duration == std::chrono::seconds(10));
  CHECK(plan.screen.duration == std::chrono::seconds(5));
  CHECK(plan.screening());
  // The winner simplification's checks: the screening length, never under half the duration.
  CHECK(plan.check.duration == std::chrono::seconds(5));
  CHECK(plan.check_measure_s(10.1) == Approx(5.1));
  o.screen_s = 0;
  CHECK_FALSE(wgopt::experiments::plan_search(o).screening());
  CHECK(wgopt::experiments::plan_search(o).check.duration == std::chrono::seconds(10));
  o.screen_s = 3;
  CHECK(wgopt::experiments::plan_search(o).screen.duration == std::chrono::seconds(3));
  CHECK(wgopt::experiments::plan_search(o).check.duration == std::chrono::seconds(5));
  o.screen_s = 8;
  CHECK(wgopt::experiments::plan_search(o).check.duration == std::chrono::seconds(8));
  o.screen_s = 11;
  CHECK_THROWS_WITH(wgopt::experiments::plan_search(o), Contains("--screen 11 is out of range: use 2..10 seconds"));
  o.screen_s.reset();
  o.duration_s = 4;
  CHECK_FALSE(wgopt::experiments::plan_search(o).screening());
  CHECK(wgopt::experiments::plan_search(o).check.duration == std::chrono::seconds(4));
  // On the command line: a negative length is named.
  TempDir tmp;
  auto r = search(tmp, {"--screen", "-3"});
  CHECK(r.exit_code == 2);
  CHECK(trim(r.err) == "wgopt: error: --screen -3 is negative: give seconds, or 0 to measure every trial at full length");
}

TEST_CASE("search: the confirmation measures more rounds when several simplification checks chain through it", "[search_options]") {
  using wgopt::experiments::SearchOptions;
  SearchOptions o;
  o.peer = "100.64.0.1";
  auto rounds = [&](const std::string& budget) {
    o.budget = budget;
    return wgopt::experiments::plan_search(o);
  };
  CHECK(rounds("10m").confirm_rounds == 4);  // one check planned
  CHECK(rounds("20m").confirm_rounds == 6);
  CHECK(rounds("39m").confirm_rounds == 6);
  CHECK(rounds("40m").confirm_rounds == 8);
  CHECK(rounds("2h").confirm_rounds == 8);
  CHECK(rounds("2h").rounds_asked == 4);  // the checks plan from the rounds asked for, not the confirmation's extra
  // The reserve holds the extra rounds: 2 more rounds of 2 nominal (14 s) measurements at 20 minutes.
  CHECK(rounds("20m").limits.reserve == std::chrono::milliseconds(290000 + 2 * 2 * 14000));
  o.budget.clear();
  // No wall budget: one check per 10 minutes of the capped trials' nominal time (14 s a trial at
  // the default 10 s), as a wall budget plans them (found by an exploratory test: `--trials 3
  // --duration 3` made 16 checks, over 12 minutes, after 23 s of trials).
  o.trials = 50;
  CHECK(wgopt::experiments::plan_search(o).max_checks == 1);
  CHECK(wgopt::experiments::plan_search(o).confirm_rounds == 4);
  o.trials = 100;  // 23 minutes of trials: 2 checks, chained through 6 rounds
  CHECK(wgopt::experiments::plan_search(o).max_checks == 2);
  CHECK(wgopt::experiments::plan_search(o).confirm_rounds == 6);
  o.trials = 3000;  // at most the most a search makes
  CHECK(wgopt::experiments::plan_search(o).max_checks == wgopt::experiments::kMaxSimplificationChecks);
  CHECK(wgopt::experiments::plan_search(o).confirm_rounds == 8);
  o.max_checks = 5;  // --max-checks: as given
  CHECK(wgopt::experiments::plan_search(o).max_checks == 5);
  CHECK(wgopt::experiments::plan_search(o).confirm_rounds == 8);
  o.max_checks.reset();
  o.trials.reset();
  CHECK(rounds("2h").max_checks == wgopt::experiments::kMaxSimplificationChecks);  // a wall budget: its time decides
  // --max-checks under a wall budget: the reserve and the rounds plan that many, not the budget's 12
  // (found in review: --budget 2h --max-checks 1 held back time for 12 checks).
  o.max_checks = 1;
  CHECK(rounds("2h").confirm_rounds == 4);
  CHECK(rounds("2h").limits.reserve < rounds("20m").limits.reserve + std::chrono::minutes(1));
  CHECK_THAT(rounds("2h").max_checks_why, Catch::Contains("1 check(s) are the most this search makes (--max-checks)"));
  o.max_checks.reset();
  o.simplify = false;  // --keep-whole-winner: nothing chains through the confirmation
  CHECK(rounds("2h").confirm_rounds == 4);
  o.simplify = true;
  o.confirm_rounds = 5;  // given: as given, whatever the budget
  CHECK(rounds("2h").confirm_rounds == 5);
  CHECK(rounds("2h").rounds_asked == 5);
  o.confirm_rounds = 1;
  CHECK_THROWS_WITH(rounds("2h"), Contains("--confirm-rounds must be at least 2"));
}

TEST_CASE("retune --metrics naming a directory is refused before anything runs", "[search_options]") {
  // Found by an exploratory test: the run measured, then failed writing the directory as the
  // file, and its result was lost.
  TempDir tmp;
  const std::string profile = tmp.dir.string() + "/p.yaml";
  std::ofstream(profile) << "knobs:\n  net.ipv4.tcp_rmem: \"4096 131072 6291456\"\nevidence: {plant: {testbed: wga}}\n";
  ProcessRunner runner;
  auto r = runner.run({.argv = {"env", "WGOPT_STATE_DIR=" + (tmp.dir / "state").string(), WGOPT_BINARY, "retune", "--profile", profile,
                                "--metrics", tmp.dir.string()},
                       .timeout = std::chrono::seconds(30)});
  CHECK(r.exit_code == 2);
  CHECK(trim(r.err) == "wgopt: error: --metrics " + tmp.dir.string() + " is a directory: give the file to write in it, e.g. " +
                           tmp.dir.string() + "/wgopt.prom");
  CHECK(fs::is_empty(tmp.dir / "state"));
}

TEST_CASE("search and retune --duration read as baseline's (10, 30s, 1m), whole seconds in 2..3600", "[search_options]") {
  using wgopt::experiments::measurement_seconds;
  CHECK(measurement_seconds("10") == 10);
  CHECK(measurement_seconds("30s") == 30);
  CHECK(measurement_seconds("1m") == 60);
  CHECK(measurement_seconds("1h") == 3600);
  // Found by an exploratory test: `--duration 30s` was refused by the parser while `baseline`
  // took it. Outside the range, a fraction, or not a duration: one message naming the range.
  for (const std::string bad : {"1", "0", "-5", "61m", "3601", "0s", "-5s", "0m"}) {
    CHECK_THROWS_WITH(measurement_seconds(bad), Contains("--duration '" + bad + "' is out of range: use 2..3600 whole seconds"));
  }
  for (const std::string bad : {"2.5s", "2.5", "ten", "", "10x", "1e3", "inf", "0x10"}) {
    CHECK_THROWS_WITH(measurement_seconds(bad), Contains("--duration '" + bad + "' is not a whole number of seconds: use 2..3600"));
  }
}

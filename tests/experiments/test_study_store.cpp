#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <sys/wait.h>
#include <csignal>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "experiments/study/study_store.hpp"
#include "tests/scratch_dir.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test case (unique: two runs at once never meet), removed afterwards.
struct TempDir : test::ScratchDir {
  explicit TempDir(const std::string& name) : ScratchDir("wgopt-study-" + name) {}
};

StudyInfo sample_info() {
  StudyInfo i;
  i.host = {{"kernel", "6.18.0"}, {"nproc", 2}, {"wireguard", "wireguard-go"}, {"sku", "firecracker-2c"}};
  i.space = {{"mtu", {{"type", "int"}, {"low", 1280}, {"high", 1420}}}};
  i.objective_yaml = "duration: 10s\n";
  i.seed = 0xfeedfacecafebeefULL;  // above INT64_MAX: stored as the same 64 bits
  i.strategy = "bo";
  i.budget = "5m";
  i.max_trials = 40;
  return i;
}

}  // namespace

TEST_CASE("a study round-trips: metadata, trials, baseline, confirmation, result") {
  TempDir tmp("roundtrip");
  const std::string path = tmp.file("s.db");
  {
    StudyStore s = StudyStore::create(path, sample_info());
    CHECK(s.recovered_trials().empty());
    s.add_baseline({.round = 1, .score = 1000.5, .metrics = {{"tcp", 1000.5}}, .measured_at = 10});
    s.add_baseline({.round = 2, .score = 990.0, .metrics = {{"tcp", 990.0}}, .measured_at = 20});
    int t1 = s.begin_trial({{"mtu", "1420"}}, 30);
    int t2 = s.begin_trial({{"mtu", "1280"}}, 40);
    CHECK(t1 == 1);
    CHECK(t2 == 2);
    TrialRecord r1{.number = t1, .params = {{"mtu", "1420"}}, .state = TrialState::Complete, .score = 1250.25,
                   .metrics = {{"throughput", 1260}}, .probes = {{"softnet_drops", 0}}, .note = "",
                   .timings = {.started_at = 30, .applied_s = 0.4, .settled_s = 2, .measured_s = 10}};
    s.finish_trial(r1);
    s.finish_trial({.number = t2, .params = {{"mtu", "1280"}}, .state = TrialState::Pruned, .score = 700,
                    .note = "upper bound 720 < 950", .timings = {.started_at = 40, .measured_s = 4}});
    s.add_confirmation({.round = 1, .arm = "baseline", .trial = 1, .score = 1001, .measured_at = 50});
    s.add_confirmation({.round = 1, .arm = "candidate", .trial = 1, .score = 1249, .measured_at = 60});
    s.set_result({.outcome = SearchOutcome::Promoted, .winner_trial = 1, .params = {{"mtu", "1420"}},
                  .evidence = {{"gain", 0.24}}, .profile_path = "/var/lib/wgopt/profile.yaml", .finished_at = 70});
  }
  StudyStore s = StudyStore::open(path);
  StudyInfo i = s.info();
  CHECK(i.host == sample_info().host);
  CHECK(i.space == sample_info().space);
  CHECK(i.objective_yaml == "duration: 10s\n");
  CHECK(i.seed == 0xfeedfacecafebeefULL);
  CHECK(i.strategy == "bo");
  CHECK(i.budget == "5m");
  CHECK(i.max_trials == 40);
  CHECK(i.status == "finished");  // set_result finishes the study
  CHECK(i.created.size() == 20);  // 2026-11-26T10:45:00Z
  auto trials = s.trials();
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].number == 1);
  CHECK(trials[0].state == TrialState::Complete);
  CHECK(trials[0].score == 1250.25);
  CHECK(trials[0].metrics["throughput"] == 1260);
  CHECK(trials[0].probes["softnet_drops"] == 0);
  CHECK(trials[0].timings.applied_s == 0.4);
  CHECK(trials[0].timings.measured_s == 10);
  CHECK(trials[1].state == TrialState::Pruned);
  CHECK(trials[1].note == "upper bound 720 < 950");
  CHECK(trials[1].params["mtu"] == "1280");
  auto base = s.baselines();
  REQUIRE(base.size() == 2);
  CHECK(base[1].score == 990.0);
  CHECK(base[0].metrics["tcp"] == 1000.5);
  auto conf = s.confirmations();
  REQUIRE(conf.size() == 2);
  CHECK(conf[1].arm == "candidate");
  CHECK(conf[1].score == 1249);
  auto res = s.result();
  REQUIRE(res);
  CHECK(res->outcome == SearchOutcome::Promoted);
  CHECK(res->winner_trial == 1);
  CHECK(res->params["mtu"] == "1420");
  CHECK(res->profile_path == "/var/lib/wgopt/profile.yaml");
}

TEST_CASE("resume after a crash: a trial left running is marked failed with a note") {
  TempDir tmp("crash");
  const std::string path = tmp.file("s.db");
  {
    StudyStore s = StudyStore::create(path, sample_info());
    int t1 = s.begin_trial({{"mtu", "1420"}}, 1);
    s.finish_trial({.number = t1, .params = {{"mtu", "1420"}}, .state = TrialState::Complete, .score = 1200});
    s.begin_trial({{"mtu", "1380"}}, 2);  // wgopt dies here, with the candidate applied
  }
  StudyStore s = StudyStore::open(path);
  CHECK(s.recovered_trials() == std::vector<int>{2});
  auto trials = s.trials();
  REQUIRE(trials.size() == 2);
  CHECK(trials[0].state == TrialState::Complete);  // finished work is kept
  CHECK(trials[1].state == TrialState::Failed);
  CHECK_THAT(trials[1].note, Contains("interrupted"));
  CHECK_FALSE(trials[1].score);
  CHECK(s.info().status == "running");
  // The study goes on with the next number, and the recovered trial cannot be finished late.
  CHECK(s.begin_trial({{"mtu", "1400"}}, 3) == 3);
  CHECK_THROWS_WITH(s.finish_trial({.number = 2, .state = TrialState::Complete}), Contains("not running"));
  // A study being written is not opened again (its trial 3 is a live search's, not a crashed one's),
  // and StudyStore::writer names the writer.
  CHECK(StudyStore::writer(path) == ::getpid());
  CHECK_THROWS_WITH(StudyStore::open(path), Contains(fmt::format("is being written by another wgopt (pid {})", ::getpid())));
  CHECK(s.trials()[2].state == TrialState::Running);
  s = StudyStore::open_read_only(path);  // the writer closes
  CHECK_FALSE(StudyStore::writer(path));
  CHECK(StudyStore::open(path).recovered_trials().size() == 1);  // trial 3, left running
}

TEST_CASE("a study survives the process being killed mid-write (committed records only)") {
  TempDir tmp("kill");
  const std::string path = tmp.file("s.db");
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child writes a study and is killed without closing anything.
    StudyStore s = StudyStore::create(path, sample_info());
    s.add_baseline({.round = 1, .score = 5, .measured_at = 1});
    s.begin_trial({{"mtu", "1420"}}, 1);
    raise(SIGKILL);
    _exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  StudyStore s = StudyStore::open(path);
  CHECK(s.baselines().size() == 1);
  CHECK(s.recovered_trials() == std::vector<int>{1});
}

TEST_CASE("files that are not wgopt studies are refused with one clear line") {
  TempDir tmp("bad");
  const std::string text = tmp.file("notes.txt");
  { std::ofstream(text) << "this is not a database, just some text that is long enough to look like a header\n"; }
  CHECK_THROWS_WITH(StudyStore::open(text), Contains(text) && Contains("not a wgopt study"));
  CHECK_THROWS_AS(StudyStore::open(text), UsageError);

  const std::string other = tmp.file("other.db");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(other.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  CHECK_THROWS_WITH(StudyStore::open(other), Contains("another program"));

  CHECK_THROWS_WITH(StudyStore::open(tmp.file("missing.db")), Contains("does not exist") && Contains("--resume"));

  const std::string study = tmp.file("s.db");
  StudyStore::create(study, sample_info());
  CHECK_THROWS_WITH(StudyStore::create(study, sample_info()), Contains("already exists") && Contains("--resume"));
  // Invalid metadata is refused before any file is written; an unwritable path is an Error.
  StudyInfo bad = sample_info();
  bad.status = "done";
  CHECK_THROWS_WITH(StudyStore::create(tmp.file("n.db"), bad), Contains("'done'"));
  CHECK_FALSE(fs::exists(tmp.file("n.db")));
  CHECK_THROWS_AS(StudyStore::create(tmp.file("no/such/dir/s.db"), sample_info()), Error);
  CHECK_THROWS_AS(StudyStore::open(study).set_status("paused"), Error);
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(study.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  CHECK_THROWS_WITH(StudyStore::open(study), Contains("schema version 99") && Contains("upgrade wgopt"));
}

TEST_CASE("trial states have stable names") {
  for (auto s : {TrialState::Running, TrialState::Complete, TrialState::Pruned, TrialState::Failed,
                 TrialState::Infeasible}) {
    CHECK(parse_trial_state(to_string(s)) == s);
  }
  CHECK(to_string(TrialState::Infeasible) == "infeasible");
  CHECK_FALSE(parse_trial_state("done"));
}

TEST_CASE("a finished study is one self-contained file; reading it read-only writes nothing") {
  TempDir tmp("one-file");
  const std::string path = (tmp.dir / "s.sqlite").string();
  {
    auto s = StudyStore::create(path, {.seed = 1, .strategy = "bo"});
    int n = s.begin_trial({{"mtu", "1420"}}, 1.0);
    s.finish_trial({.number = n, .params = {{"mtu", "1420"}}, .state = TrialState::Complete, .score = 5.0});
    CHECK(fs::exists(path + "-wal"));  // while running: WAL, so readers never block the loop
    s.set_result({.outcome = SearchOutcome::KeptBaseline});
  }
  CHECK_FALSE(fs::exists(path + "-wal"));
  CHECK_FALSE(fs::exists(path + "-shm"));
  {
    auto r = StudyStore::open_read_only(path);
    CHECK(r.trials().size() == 1);
    CHECK(r.result()->outcome == SearchOutcome::KeptBaseline);
  }
  CHECK_FALSE(fs::exists(path + "-wal"));
  CHECK_FALSE(fs::exists(path + "-shm"));
}

// `wgopt report` on a study Ctrl-C or an error stopped left -wal and -shm beside it.
TEST_CASE("an interrupted or failed study is one file too, and --resume's writes work after it") {
  const std::string status = GENERATE("interrupted", "failed");
  TempDir tmp("one-file-stopped");
  const std::string path = (tmp.dir / "s.sqlite").string();
  {
    auto s = StudyStore::create(path, {.seed = 1, .strategy = "bo"});
    s.begin_trial({{"mtu", "1420"}}, 1.0);
    CHECK(fs::exists(path + "-wal"));
    s.set_status(status);
  }
  CHECK_FALSE(fs::exists(path + "-wal"));
  CHECK_FALSE(fs::exists(path + "-shm"));
  {
    auto r = StudyStore::open_read_only(path);
    CHECK(r.info().status == status);
  }
  CHECK_FALSE(fs::exists(path + "-wal"));
  CHECK_FALSE(fs::exists(path + "-shm"));
  // The running trial was marked interrupted when the study stopped, not found running by the resume.
  auto resumed = StudyStore::open(path);
  CHECK(resumed.recovered_trials().empty());
  REQUIRE(resumed.trials().size() == 1);
  CHECK(resumed.trials()[0].interrupted());
  CHECK(resumed.trials()[0].note == kStoppedTrialNote);
  resumed.set_status("running");
  CHECK(resumed.begin_trial({{"mtu", "1400"}}, 2.0) == 2);
}

TEST_CASE("an empty file is called empty, not another program's database", "[faults]") {
  TempDir tmp("empty");
  const std::string empty = tmp.file("empty.sqlite");
  { std::ofstream touch(empty); }
  CHECK_THROWS_WITH(StudyStore::open(empty), Contains(empty) && Contains("is empty") && !Contains("another program"));
  CHECK_THROWS_WITH(StudyStore::open_read_only(empty), Contains("is empty"));
}

TEST_CASE("every search outcome has one spelling that parses back, and an unknown one is refused") {
  for (auto o : {SearchOutcome::Promoted, SearchOutcome::KeptBaseline, SearchOutcome::NoTrials, SearchOutcome::Interrupted,
                 SearchOutcome::Holds, SearchOutcome::Retuned, SearchOutcome::RolledBack, SearchOutcome::Degraded}) {
    CHECK(parse_search_outcome(to_string(o)) == o);
  }
  CHECK(to_string(SearchOutcome::KeptBaseline) == "kept-baseline");
  CHECK(to_string(SearchOutcome::RolledBack) == "rolled-back");
  CHECK_FALSE(parse_search_outcome("Promoted").has_value());
  CHECK_FALSE(parse_search_outcome("").has_value());
}

TEST_CASE("verify: a sound study passes; a dropped table or column is named; nothing is written", "[study][resume]") {
  TempDir tmp("verify");
  const std::string path = tmp.file("s.sqlite");
  {
    auto info = sample_info();
    info.search = {{"plant", {{"testbed", "wgt1"}}}};
    auto s = StudyStore::create(path, info);
    s.set_status("interrupted");
  }
  {
    auto r = StudyStore::open_read_only(path);
    CHECK_NOTHROW(r.verify());
    CHECK(r.info().search.at("plant").at("testbed") == "wgt1");
  }
  auto drop = [&](const char* statement) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, statement, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  };
  drop("DROP TABLE result");
  CHECK_THROWS_WITH(StudyStore::open_read_only(path).verify(), Contains(path) && Contains("is damaged (table 'result' is missing)"));
  drop("ALTER TABLE trials DROP COLUMN probes_json");
  CHECK_THROWS_WITH(StudyStore::open_read_only(path).verify(), Contains("is damaged (table 'trials' has no column 'probes_json')"));
}

TEST_CASE("a schema 1 study (before the search record) is still read", "[study][resume]") {
  auto s = StudyStore::open_read_only(std::string(WGOPT_FIXTURES_DIR) + "/report/study-wgt7.sqlite");
  CHECK_NOTHROW(s.verify());
  CHECK(s.info().search == nlohmann::json::object());
  CHECK_FALSE(s.trials().empty());
}

TEST_CASE("a withdrawn result leaves the study failed or interrupted, with no result, in one step") {
  TempDir tmp("withdraw");
  const std::string path = (tmp.dir / "s.sqlite").string();
  auto s = StudyStore::create(path, {.seed = 1, .strategy = "bo"});
  const int n = s.begin_trial({{"mtu", "1420"}}, 1.0);
  s.finish_trial({.number = n, .params = {{"mtu", "1420"}}, .state = TrialState::Complete, .score = 5.0});
  s.set_result({.outcome = SearchOutcome::Promoted, .winner_trial = n, .params = {{"mtu", "1420"}}});
  REQUIRE(s.result());
  CHECK_THROWS_WITH(s.withdraw_result("finished"), Catch::Contains("interrupted or failed, not 'finished'"));
  CHECK_THROWS_WITH(s.withdraw_result("running"), Catch::Contains("not 'running'"));
  CHECK(s.result());  // a refused withdrawal changes nothing
  CHECK(s.info().status == "finished");
  s.withdraw_result("failed");
  CHECK_FALSE(s.result());
  CHECK(s.info().status == "failed");
  CHECK(s.trials().size() == 1);  // the trials stay: a resume learns from them
}

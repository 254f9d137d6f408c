// `wgopt search --resume S` (issue 14 item 8), driven through run_search on the SearchWorld of the
// characterization suite (no root): the documented form alone continues the study on its own
// plant; a damaged, finished or incomplete study is refused before the study file or the host is
// changed.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "actuators/profile.hpp"
#include "common/error.hpp"
#include "experiments/report/report_data.hpp"
#include "experiments/search/study_open.hpp"
#include "experiments/study/study_store.hpp"
#include "tests/experiments/search_world.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using wgopt::test::Script;
using wgopt::test::SearchWorld;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void sql(const std::string& path, const char* statement) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, statement, nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

// A study interrupted by Ctrl-C during its 7th measurement (a trial), the host restored.
std::string interrupted_study(SearchWorld& w, SearchOptions o) {
  w.start_poor();
  REQUIRE(w.run(o).outcome == SearchOutcome::Interrupted);
  w.script = Script{};
  w.interrupted = false;
  REQUIRE(StudyStore::open_read_only(o.study_path).info().status == "interrupted");
  return o.study_path;
}

std::string interrupted_study(SearchWorld& w) { return interrupted_study(w, w.options()); }

// Only what `wgopt search --resume S` gives.
SearchOptions documented_form(const std::string& study) {
  SearchOptions o;
  o.resume = study;
  o.quiet = true;
  return o;
}

// The resume is refused with `what`, and neither the study file nor the host saw a change: the
// plant was never set up (no "plant:" event) and nothing was applied or armed.
void refused_untouched(SearchWorld& w, const std::string& study, const std::string& what) {
  const std::string before = bytes_of(study);
  const size_t events = w.log.size();
  CHECK_THROWS_WITH(w.run(documented_form(study)), Contains(study) && Contains(what));
  CHECK(bytes_of(study) == before);
  CHECK_FALSE(fs::exists(study + "-wal"));
  for (size_t i = events; i < w.log.size(); ++i) {
    INFO(w.log[i]);
    CHECK(w.log[i].find("plant:") == std::string::npos);
    CHECK(w.log[i].find("apply") == std::string::npos);
    CHECK(w.log[i].find("arm") == std::string::npos);
  }
}

// A study interrupted with `first`'s options, edited by `statement`: its resume is refused with
// `what`, nothing changed.
void refused_when_edited(SearchOptions (SearchWorld::*first)() const, const std::string& statement, const std::string& what) {
  SearchWorld w(Script{.interrupt_at_measure = 7});
  const std::string study = interrupted_study(w, (w.*first)());
  sql(study, (statement + "; PRAGMA journal_mode=DELETE;").c_str());
  refused_untouched(w, study, what);
}

}  // namespace

TEST_CASE("search --resume STUDY alone continues on the plant the study recorded", "[search-resume]") {
  SearchWorld w(Script{.interrupt_at_measure = 7});
  const std::string study = interrupted_study(w);
  const size_t trials_before = StudyStore::open_read_only(study).trials().size();
  const size_t events = w.log.size();
  SearchReport r;
  REQUIRE_NOTHROW(r = w.run(documented_form(study)));
  CHECK(r.outcome == SearchOutcome::Promoted);
  CHECK(r.study_path == study);
  CHECK(r.profile_path == w.dir() + "/profile.yaml");  // the first run's --profile
  bool plant_seen = false;
  for (size_t i = events; i < w.log.size(); ++i) plant_seen = plant_seen || w.log[i].find("plant: testbed trace") != std::string::npos;
  CHECK(plant_seen);
  auto store = StudyStore::open_read_only(study);
  CHECK(store.info().status == "finished");
  CHECK(store.trials().size() > trials_before);
  // The first run's knob selection, not every knob of the world.
  for (const auto& t : store.trials()) CHECK(t.params.size() == 4);
  // The profile counts the study's trials, the first run's too (it said this run's alone), but not
  // the one Ctrl-C stopped before its measurement: it is not a trial of the cap either (found by an
  // exploratory test: resumes used up --trials with trials never measured).
  const auto rows = store.trials();
  const auto measured = std::count_if(rows.begin(), rows.end(), [](const auto& t) { return !t.interrupted(); });
  CHECK(measured == rows.size() - 1);
  CHECK(measured == 8);  // the cap, all measured
  CHECK(act::load_profile(r.profile_path).evidence["trials"].as<int>() == static_cast<int>(measured));
}

TEST_CASE("search --resume refuses a study that fails PRAGMA integrity_check, writing nothing", "[search-resume]") {
  SearchWorld w(Script{.interrupt_at_measure = 7});
  const std::string study = interrupted_study(w);
  // An index whose entries disagree with its table: what a torn write or a bad disk leaves, made
  // by rewriting the index's definition behind SQLite's back (the file still opens and reads).
  sql(study,
      "CREATE INDEX baseline_round ON baseline(round);"
      "PRAGMA writable_schema=ON;"
      "UPDATE sqlite_master SET sql = 'CREATE INDEX baseline_round ON baseline(score DESC)' WHERE name = 'baseline_round';"
      "PRAGMA writable_schema=OFF; PRAGMA journal_mode=DELETE;");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(study.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK);
    const int rc = sqlite3_step(st);
    const std::string first = rc == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(st, 0)) : "error";
    sqlite3_finalize(st);
    sqlite3_close(db);
    REQUIRE(first != "ok");  // the file really is damaged
  }
  refused_untouched(w, study, "integrity_check");
}

TEST_CASE("search --resume refuses a study with a dropped table before anything changes", "[search-resume]") {
  refused_when_edited(&SearchWorld::options, "DROP TABLE confirmation", "table 'confirmation' is missing");
}

TEST_CASE("search --resume refuses a finished study with a clear line", "[search-resume]") {
  SearchWorld w;
  w.start_poor();
  auto o = w.options();
  REQUIRE(w.run(o).outcome == SearchOutcome::Promoted);
  refused_untouched(w, o.study_path, "is finished (outcome promoted");
}

TEST_CASE("search --resume of a study without a recorded plant asks for it", "[search-resume]") {
  refused_when_edited(&SearchWorld::options, "UPDATE study SET search_json = '{}'", "does not record its plant");
}

TEST_CASE("search --resume STUDY alone keeps the first run's confirmation, screening, early stopping and simplification",
          "[search-resume]") {
  SearchWorld w(Script{.interrupt_at_measure = 7});
  auto first = w.options();
  first.confirm_rounds = 5;
  first.screen_s = 0;
  first.second_look = false;
  first.prune = false;
  first.simplify = false;
  first.max_checks = 3;
  const std::string study = interrupted_study(w, first);
  const SearchOptions taken = resume_options(documented_form(study));
  CHECK(taken.confirm_rounds == 5);
  CHECK(taken.max_checks == 3);  // found in review: a resume forgot --max-checks
  CHECK(taken.screen_s == 0);
  CHECK_FALSE(taken.second_look);
  CHECK_FALSE(taken.prune);
  CHECK_FALSE(taken.simplify);
  // An option given again wins over the record.
  auto given = documented_form(study);
  given.confirm_rounds = 3;
  given.screen_s = 4;
  CHECK(resume_options(given).confirm_rounds == 3);
  CHECK(resume_options(given).screen_s == 4);
  // The resumed run confirms in the first run's 5 rounds (before: the budget's planned rounds).
  SearchReport r;
  REQUIRE_NOTHROW(r = w.run(documented_form(study)));
  CHECK(r.outcome == SearchOutcome::Promoted);
  CHECK(StudyStore::open_read_only(study).confirmations().size() == 2 * 5);
}

TEST_CASE("search --resume STUDY alone keeps a search's defaults as defaults", "[search-resume]") {
  SearchWorld w(Script{.interrupt_at_measure = 7});
  auto first = w.options();
  first.confirm_rounds.reset();
  first.simplify = true;
  const SearchOptions taken = resume_options(documented_form(interrupted_study(w, first)));
  CHECK_FALSE(taken.confirm_rounds);  // the resumed budget plans them again
  CHECK(taken.max_checks == first.max_checks);  // the world's, as recorded
  CHECK_FALSE(taken.screen_s);
  CHECK(taken.second_look);
  CHECK(taken.prune);
  CHECK(taken.simplify);
}

TEST_CASE("search --resume STUDY alone of a search over ssh continues over ssh with both ends' knobs", "[search-resume][peer]") {
  SearchWorld w(Script{.interrupt_at_measure = 7});
  auto first = w.ssh_options();
  first.per_end = true;
  first.peer_interfaces = {"wg0", "veth0"};
  first.ssh->options = {"IPQoS=throughput"};
  first.ssh->peer_wgopt = "/usr/local/bin/wgopt";
  const std::string study = interrupted_study(w, first);
  const SearchOptions taken = resume_options(documented_form(study));
  REQUIRE(taken.ssh);
  CHECK(taken.ssh->target == "root@peer.test");
  CHECK(taken.ssh->options == std::vector<std::string>{"IPQoS=throughput"});
  CHECK(taken.ssh->peer_wgopt == "/usr/local/bin/wgopt");
  CHECK(taken.peer == "100.64.0.1");
  CHECK(taken.per_end);
  CHECK(taken.peer_interfaces == std::vector<std::string>{"wg0", "veth0"});
  const size_t params = StudyStore::open_read_only(study).trials().front().params.size();
  SearchReport r;
  REQUIRE_NOTHROW(r = w.run(documented_form(study)));
  CHECK(r.outcome == SearchOutcome::Promoted);
  // Every trial, before and after the resume, searched both ends' knobs, each its own parameter.
  for (const auto& t : StudyStore::open_read_only(study).trials()) CHECK(t.params.size() == params);
  CHECK(params == 8);
}

TEST_CASE("search --resume refuses a study whose recorded ssh options are damaged, writing nothing", "[search-resume][peer]") {
  refused_when_edited(&SearchWorld::ssh_options,
                      "UPDATE study SET search_json = json_set(search_json, '$.plant.ssh.options', json_array('ProxyCommand=sh'))",
                      "ProxyCommand");
}

TEST_CASE("search --resume refuses a study whose recorded confirmation rounds are damaged, writing nothing", "[search-resume]") {
  refused_when_edited(&SearchWorld::options, "UPDATE study SET search_json = json_set(search_json, '$.confirm_rounds', 1)",
                      "confirm_rounds 1 is below 2");
}

TEST_CASE("search --resume with a plant given still keeps the first run's policies", "[search-resume]") {
  SearchWorld w(Script{.interrupt_at_measure = 7});
  auto first = w.options();
  first.confirm_rounds = 5;
  first.second_look = false;
  auto given = documented_form(interrupted_study(w, first));
  given.testbed = true;
  given.testbed_prefix = "trace";
  const SearchOptions taken = resume_options(given);
  CHECK(taken.confirm_rounds == 5);
  CHECK_FALSE(taken.second_look);
  CHECK(taken.include.empty());  // the knob selection goes with the plant: given a plant, not taken
}

TEST_CASE("search --resume: a new --duration drops the recorded --screen; a recorded --screen out of range is refused",
          "[search-resume]") {
  SearchWorld w(Script{.interrupt_at_measure = 7});
  auto first = w.options();
  first.screen_s = 4;
  const std::string study = interrupted_study(w, first);
  CHECK(resume_options(documented_form(study)).screen_s == 4);
  auto given = documented_form(study);
  given.duration_s = 3;
  CHECK_FALSE(resume_options(given).screen_s);  // the default for 3 s, not 4 s of 3
  sql(study, "UPDATE study SET search_json = json_set(search_json, '$.screen', 1); PRAGMA journal_mode=DELETE;");
  refused_untouched(w, study, "--screen 1 is out of range");
}

TEST_CASE("search --resume of a search over ssh: ssh options given again win, and --interfaces given keeps the peer's too",
          "[search-resume][peer]") {
  SearchWorld w(Script{.interrupt_at_measure = 7});
  auto first = w.ssh_options();
  first.peer_interfaces = {"wg0", "veth0"};
  const std::string study = interrupted_study(w, first);
  auto given = documented_form(study);
  given.ssh = peer::SshOptions{.target = "admin@peer2.test"};
  given.interfaces = {"wg0"};
  const SearchOptions taken = resume_options(given);
  REQUIRE(taken.ssh);
  CHECK(taken.ssh->target == "admin@peer2.test");
  CHECK(taken.interfaces == std::vector<std::string>{"wg0"});
  CHECK(taken.peer_interfaces.empty());  // not the record's two beside one interface given
  CHECK(taken.peer == "100.64.0.1");
}

TEST_CASE("search --resume refuses a both-ends study an older wgopt wrote without its ssh options, writing nothing",
          "[search-resume][peer]") {
  refused_when_edited(&SearchWorld::ssh_options, "UPDATE study SET search_json = json_remove(search_json, '$.plant.ssh')",
                      "tuned both ends over ssh and does not record the ssh options");
}

TEST_CASE("search --resume refuses a record whose confirmation rounds are not a number, writing nothing", "[search-resume]") {
  refused_when_edited(&SearchWorld::options, "UPDATE study SET search_json = json_set(search_json, '$.confirm_rounds', 'x')",
                      "damaged search record");
}

TEST_CASE("search --resume refuses a retune's study, naming the retune to run again, writing nothing", "[search-resume][retune]") {
  SearchWorld w;
  auto o = w.options();
  CHECK(search_record(o)["retune"] == "");
  o.retune_profile = "/etc/wgopt/p.yaml";
  CHECK(search_record(o)["retune"] == "/etc/wgopt/p.yaml");  // what a retune's study records
  refused_when_edited(&SearchWorld::options, "UPDATE study SET search_json = json_set(search_json, '$.retune', '/etc/wgopt/p.yaml')",
                      "is a retune of /etc/wgopt/p.yaml: a retune is not resumed; run `wgopt retune /etc/wgopt/p.yaml` again");
}

TEST_CASE("search --resume after a Ctrl-C in the confirmation: the report shows the resumed run's rounds alone",
          "[search-resume][report]") {
  SearchWorld w(Script{.interrupt_at_measure = 13});  // the confirmation's third measurement
  const std::string study = interrupted_study(w);
  REQUIRE(StudyStore::open_read_only(study).confirmations().size() == 2);
  SearchReport r;
  REQUIRE_NOTHROW(r = w.run(documented_form(study)));
  CHECK(r.outcome == SearchOutcome::Promoted);
  CHECK(StudyStore::open_read_only(study).confirmations().size() == 2 + 2 * 3);
  CHECK(StudyStore::open_read_only(study).baselines().size() == 2 * 3);
  const ReportData d = load_report(study);
  CHECK(d.rounds_baseline == 3);
  std::vector<std::string> rows;
  for (const auto& row : d.table_rows) rows.push_back(row.config);
  INFO(Catch::Detail::stringify(rows));
  CHECK(std::count(rows.begin(), rows.end(), "baseline (3 rounds)") == 1);
  CHECK(std::count(rows.begin(), rows.end(), "confirm: baseline (3 rounds)") == 1);
  const auto candidate_rows = std::count_if(rows.begin(), rows.end(), [](const std::string& c) { return c.starts_with("confirm: trial "); });
  const auto of_three = std::count_if(rows.begin(), rows.end(), [](const std::string& c) {
    return c.starts_with("confirm: trial ") && c.ends_with(" (3 rounds)");
  });
  CHECK(candidate_rows == 1);
  CHECK(of_three == 1);
}

TEST_CASE("search --resume refuses a plant or --knobs whose knobs are not the study's, writing nothing", "[search-resume]") {
  // Found by an exploratory test: a testbed study resumed with --peer replayed its trials into the
  // root namespace's knobs (the model learnt each as the host's own configuration) and measured on
  // there. The study's trials name the knobs they set; a search of other knobs is refused.
  SearchWorld w(Script{.interrupt_at_measure = 7});
  const std::string study = interrupted_study(w);
  const std::string before = bytes_of(study);
  const size_t events = w.log.size();
  SearchOptions o = documented_form(study);
  o.include = {"wg0/mtu"};
  CHECK_THROWS_WITH(w.run(o), Contains("study '" + study + "' searched other knobs: this search does not have "
                                       "(net.ipv4.tcp_congestion_control, net.ipv4.tcp_rmem, wg0/txqueuelen)") &&
                                  Contains("`wgopt search --resume " + study + "` with no plant or --knobs given"));
  o.include = {"wg0/mtu", "wg0/txqueuelen", "net.ipv4.tcp_rmem", "net.ipv4.tcp_congestion_control", "wg0/offload/gro"};
  CHECK_THROWS_WITH(w.run(o), Contains("this search has knobs it did not search (wg0/offload/gro)"));
  CHECK(bytes_of(study) == before);
  for (size_t i = events; i < w.log.size(); ++i) {
    INFO(w.log[i]);
    CHECK(w.log[i].find("apply") == std::string::npos);
    CHECK(w.log[i].find("arm") == std::string::npos);
  }
  // The study's own knobs, given again, resume.
  o.include = {"wg0/mtu", "wg0/txqueuelen", "net.ipv4.tcp_rmem", "net.ipv4.tcp_congestion_control"};
  CHECK(w.run(o).outcome == SearchOutcome::Promoted);
}

TEST_CASE("search --resume of a space with a conditional knob inactive in the first trial resumes", "[search-resume]") {
  // Found in review: the first trial (the host's own configuration, rps_cpus 0) leaves out
  // rps_flow_cnt, which is inactive there; comparing its keys refused every resume of such a space.
  SearchWorld w(Script{.interrupt_at_measure = 7});
  auto o = w.options();
  o.include = {"wg0/mtu", "*/rps_cpus", "*/rps_flow_cnt"};
  const std::string study = interrupted_study(w, o);
  const auto trials = StudyStore::open_read_only(study).trials();
  REQUIRE_FALSE(trials.empty());
  bool conditional = false;
  for (const auto& p : StudyStore::open_read_only(study).info().space) conditional = conditional || p.contains("active_when");
  REQUIRE(conditional);  // the case is what it says: a parameter active only for some values of another
  CHECK(trials.front().params.size() < StudyStore::open_read_only(study).info().space.size());
  CHECK_NOTHROW(w.run(documented_form(study)));
}

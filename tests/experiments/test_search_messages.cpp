// Issue 14, "Confusing messages", the cases of `wgopt search` driven through run_search on the
// characterization suite's SearchWorld (no root): a bad peer is one wgopt line before anything
// runs; an interrupted search names no profile it did not write and prints no empty verdict.
#include <catch2/catch.hpp>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "common/error.hpp"
#include "experiments/report/report_data.hpp"
#include "experiments/search/search_summary.hpp"
#include "experiments/study/study_store.hpp"
#include "tests/experiments/search_world.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using wgopt::test::Script;
using wgopt::test::SearchWorld;
using Catch::Contains;
using Catch::StartsWith;
namespace fs = std::filesystem;

TEST_CASE("a peer that is not an IP address is refused by wgopt in one line, before the plant is set up", "[search-messages]") {
  SearchWorld w;
  w.start_poor();
  for (const char* peer : {"100.64.0.1;id", "100.64.0.1 -R", "$(id)", "-f"}) {
    INFO(peer);
    auto o = w.options();
    o.testbed = false;
    o.peer = peer;
    const size_t events = w.log.size();
    CHECK_THROWS_MATCHES(w.run(o), UsageError,
                         Catch::Message(fmt::format("peer address '{}' is not an IP address: give the peer's mesh address, "
                                                    "e.g. --peer 100.64.0.1",
                                                    peer)));
    for (size_t i = events; i < w.log.size(); ++i) CHECK(w.log[i].find("plant:") == std::string::npos);
  }
  auto o = w.options();
  o.testbed = false;
  o.peer = "100.64.0.1";
  o.port = 70000;
  CHECK_THROWS_WITH(w.run(o), "--port 70000 is not a port: use 1..65535");
}

TEST_CASE("an interrupted search names no profile it never wrote and prints no empty verdict", "[search-messages]") {
  SearchWorld w(Script{.interrupt_at_measure = 7});
  w.start_poor();
  auto o = w.options();
  const auto r = w.run(o);
  REQUIRE(r.outcome == SearchOutcome::Interrupted);
  REQUIRE_FALSE(fs::exists(o.profile_path));
  CHECK(r.profile_path.empty());
  CHECK(r.to_json().at("profile") == "");
  // No winner, and the baseline its rounds measured (it read 0.0 for both).
  CHECK(r.to_json().at("winner_score").is_null());
  CHECK(r.to_json().at("gain_pct").is_null());
  CHECK(r.to_json().at("winner_throughput_mbps").is_null());
  CHECK(r.to_json().at("baseline_score").get<double>() > 250);
  const std::string text = search_summary(r);
  CHECK_THAT(text, !Contains("baseline kept") && !Contains("winner confirmed") && !Contains("profile:") &&
                       !Contains("wgopt export"));
  CHECK_THAT(text, Contains("search interrupted: the host is on its original values") && Contains("study:   " + o.study_path) &&
                       Contains("wgopt search --resume " + o.study_path));
  // The trial Ctrl-C stopped is counted, and the study says so at once, not at the resume (found by
  // an exploratory test: `wgopt report` listed it "running" in an interrupted study).
  CHECK_THAT(text, Contains(" infeasible, 1 interrupted)"));
  const auto trials = StudyStore::open_read_only(o.study_path).trials();
  REQUIRE_FALSE(trials.empty());
  CHECK(trials.back().interrupted());
  CHECK_THAT(trial_count_text(load_report(o.study_path)), Contains("1 interrupted") && !Contains("running"));
}

TEST_CASE("a search that lost its peer says so, names no profile and says how to resume", "[search-messages]") {
  SearchReport r;
  r.outcome = SearchOutcome::PeerLost;
  r.confirmation = "the peer was lost: 198.18.0.1 is unreachable (timeout)";
  r.study_path = "/var/lib/wgopt/studies/s.sqlite";
  r.trials = 2;
  r.peer_events = {"trial 2: peer lost and not reachable again: the search ends; this end is restored; timeout"};
  r.ssh_target = "root@198.18.0.1";
  const std::string text = search_summary(r);
  CHECK_THAT(text, StartsWith("\nsearch ended, the peer was lost: 198.18.0.1 is unreachable (timeout)\nthis host is on its original "
                              "values (the peer restores its own by itself)\n"));
  CHECK_THAT(text, !Contains("profile:") && !Contains("wgopt export") && !Contains("baseline kept"));
  CHECK_THAT(text, Contains("wgopt search --resume /var/lib/wgopt/studies/s.sqlite"));
  CHECK_THAT(text, Contains("\npeer: trial 2: peer lost and not reachable again: the search ends"));
  // Lost during the final apply: the study is finished (its result stands), so no --resume; the
  // profile holds the winner and the commands that apply it are named (found in review).
  r.unapplied_winner = true;
  r.profile_path = "/var/lib/wgopt/studies/s.yaml";
  r.apply_hint = "wgopt apply P and wgopt apply --ssh root@198.18.0.1 P";
  const std::string lost_at_apply = search_summary(r);
  CHECK_THAT(lost_at_apply, !Contains("--resume") && Contains("profile: /var/lib/wgopt/studies/s.yaml\n") &&
                                Contains("the profile holds the confirmed winner, not applied: once the peer is back, wgopt apply P and "
                                         "wgopt apply --ssh root@198.18.0.1 P\n"));
}

TEST_CASE("--json of a kept baseline gives the winner the baseline's throughput with its score", "[search-messages]") {
  SearchReport r;
  r.outcome = SearchOutcome::KeptBaseline;
  r.baseline_score = r.winner_score = 430.8;
  r.baseline_throughput_mbps = 535.7;
  CHECK(r.to_json().at("winner_throughput_mbps") == 535.7);
  r.outcome = SearchOutcome::Promoted;  // a promoted winner has its own, even when not measured here
  r.winner_score = 450;
  CHECK(r.to_json().at("winner_throughput_mbps") == 0.0);
}

TEST_CASE("a finished search's summary keeps its verdict, profile and next steps", "[search-messages]") {
  SearchWorld w;
  w.start_poor();
  auto o = w.options();
  const auto r = w.run(o);
  REQUIRE(r.outcome == SearchOutcome::Promoted);
  const std::string text = search_summary(r);
  CHECK_THAT(text, Contains("winner confirmed: score") && Contains("profile: " + o.profile_path) &&
                       Contains("wgopt export " + o.profile_path) && Contains("the host is on the winner now"));
}

TEST_CASE("a finished search's summary lists each change once: in the changes table, or as a list without one", "[search-messages]") {
  auto promoted = [](bool simplify) {  // simplify false: --keep-whole-winner, no changes table
    SearchWorld w(Script{.inert = {"txqueuelen"}});
    w.start_poor();
    auto o = w.options();
    o.simplify = simplify;
    o.trials = 12;
    const auto r = w.run(o);
    REQUIRE(r.outcome == SearchOutcome::Promoted);
    REQUIRE_FALSE(r.changed.empty());
    // The summary's support line is the one `wgopt report` reads from the study's evidence.
    CHECK(load_report(r.study_path).support == r.support);
    return r;
  };
  const auto tabled = promoted(true);
  REQUIRE(tabled.changes_tabled);
  REQUIRE_FALSE(tabled.returned.empty());  // the table lists a returned change, which the list would repeat
  CHECK_THAT(search_summary(tabled), Contains("in the profile") && !Contains(", contributes ") &&
                                         !Contains("returned to the host's value (knobs"));
  // Under the table, one line says what the kept changes rest on (support_line).
  CHECK_THAT(tabled.support, StartsWith("support: ") && Contains("kept change"));
  CHECK_THAT(search_summary(tabled), Contains("\n" + tabled.support + "\n"));
  const auto whole = promoted(false);
  CHECK_FALSE(whole.changes_tabled);
  const std::string listed = search_summary(whole);
  CHECK_THAT(listed, !Contains("in the profile") && !Contains("support: "));
  for (const auto& c : whole.changed) CHECK_THAT(listed, Contains("  " + c + "\n"));
}

TEST_CASE("a search with a trial cap and no --budget says up front what runs after the trials", "[search-messages]") {
  // Found by an exploratory test: `--trials 3 --duration 3` ran 15 minutes, 0.4 of them trials,
  // the rest the confirmation's 8 rounds and the simplification's checks, unannounced.
  auto said = [](const SearchOptions& o, SearchWorld& w) {
    std::string text;
    w.run_saying(o, text);
    return text;
  };
  SearchWorld w;
  w.start_poor();
  auto o = w.options();
  o.simplify = true;
  o.confirm_rounds.reset();  // the default with no budget: 8, for the 12 checks' chain (--max-checks 12)
  CHECK_THAT(said(o, w), Contains("no --budget: after the trials, the confirmation (8 rounds: 16 measurements) and the winner's simplification (up to 12 "
                                  "check(s) on the plant) run to their end, up to ~") &&
                             Contains("give --budget (e.g. --budget 10m) to bound the whole search, or --keep-whole-winner"));
  SearchWorld bounded;
  bounded.start_poor();
  o = bounded.options();
  o.budget = "20m";
  CHECK_THAT(said(o, bounded), !Contains("no --budget"));
  // Without --max-checks, 8 trials of ~14 s plan one check, and the confirmation's default rounds.
  SearchWorld capped;
  capped.start_poor();
  o = capped.options();
  o.simplify = true;
  o.confirm_rounds.reset();
  o.max_checks.reset();
  CHECK_THAT(said(o, capped), Contains("no --budget: after the trials, the confirmation (4 rounds: 8 measurements) and the winner's simplification (up to 1 "
                                       "check(s) on the plant) run to their end, up to ~5 min"));
}

TEST_CASE("search: --knobs naming only knobs that need a flag names them and the flag", "[search-messages]") {
  // Found by an exploratory test: --knobs xb-uc/mtu and --knobs net.core.rmem_max were refused with
  // "no searchable knob is left", naming neither the knob nor the flag it needs.
  SearchWorld w;
  w.start_poor();
  auto o = w.options();
  o.include = {"net.core.netdev_max_backlog"};
  CHECK_THROWS_WITH(w.run(o), "no searchable knob is left after --knobs/--exclude: net.core.netdev_max_backlog (host-wide: pass "
                              "--allow-global to search it)");
}

TEST_CASE("a knob someone else changed during a trial is left as found, and the summary does not call it original",
          "[search-messages]") {
  // Found by reading (after the interface-recreation work): a trial's rollback that left a knob
  // alone only warned in the log, and the summary still said "the host is on its original values".
  SearchWorld w(Script{.other_sets_txqueuelen_at_measure = 5});
  w.start_poor();
  auto o = w.options();
  o.no_apply = true;
  const auto r = w.run(o);
  REQUIRE(w.values(false).txqueuelen == 777);  // left as found: someone else's value
  REQUIRE(r.left_alone.size() == 1);
  CHECK_THAT(r.left_alone[0], Contains("tx_queue_len") || Contains("txqueuelen"));
  CHECK_THAT(search_summary(r), Contains("the host is on its original values, except 1 knob(s) a trial's rollback left as it found them:\n  " +
                                         r.left_alone[0] + "\n"));
  CHECK(r.to_json()["left_alone"] == nlohmann::json(r.left_alone));
  // Without one the line is as it was, and --json says none.
  SearchWorld quiet;
  quiet.start_poor();
  auto q = quiet.options();
  q.no_apply = true;
  const auto plain = quiet.run(q);
  CHECK(plain.left_alone.empty());
  CHECK_THAT(search_summary(plain), Contains("the host is on its original values\n"));
  CHECK(plain.to_json()["left_alone"].empty());
}

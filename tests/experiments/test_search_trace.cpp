// Characterization of `wgopt search` (issue 10): the whole loop, driven without root through its
// seams (experiments/search_env.hpp) in a SearchWorld (two fake hosts, a scripted plant, a
// recording guardian, a fake clock). Each case records every apply the plant saw, the guardian's
// calls, the tunnel checks, the study's rows, the report and the profile, and compares them with
// tests/fixtures/search_trace/CASE.txt. The engine is deterministic, so a change that keeps the
// loop's behaviour keeps every trace byte for byte; a change of behaviour shows as a diff of the
// trace, reviewed and committed with it (WGOPT_UPDATE_TRACES=1 rewrites them).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "actuators/profile.hpp"
#include "experiments/search/retune.hpp"
#include "tests/experiments/search_world.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using wgopt::test::Script;
using wgopt::test::SearchWorld;

namespace {

std::string run_case(SearchWorld& w, const SearchOptions& o) {
  auto report = w.run(o);
  return w.trace(report, o.study_path, o.profile_path);
}

// A profile for retune, written by hand: these knob values, this recorded score, the world's
// testbed as its plant, the default objective.
std::string write_profile(SearchWorld& w, const std::string& name, const std::vector<std::pair<std::string, std::string>>& knobs,
                          double recorded, const std::string& study = "") {
  act::Profile p;
  p.knobs = knobs;
  p.host = YAML::Load("{kernel: 6.18.0-world, nproc: 2, sku: world-sku}");
  YAML::Node ev;
  ev["plant"]["testbed"] = "trace";
  ev["objective"] = objective_to_yaml(Objective{});
  ev["winner"]["score"] = recorded;
  if (!study.empty()) ev["study"] = study;
  p.evidence = ev;
  const std::string path = w.dir() + "/" + name + ".yaml";
  std::ofstream(path) << act::dump_profile(p);
  return path;
}

ino_t file_inode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

SearchOptions retune_options(SearchWorld& w, const std::string& profile) {
  RetuneOptions r;
  r.profile = profile;
  r.budget = "";
  r.trials = 6;
  r.seed = 7;
  r.confirm_rounds = 3;
  r.study_path = w.dir() + "/retune.sqlite";
  r.quiet = true;
  auto o = retune_search_options(r, act::load_profile(profile));
  o.profile_path = profile;
  return o;
}

const std::vector<std::pair<std::string, std::string>> kPoorKnobs = {{"wg0/mtu", "1280"},
                                                                      {"wg0/txqueuelen", "100"},
                                                                      {"net.ipv4.tcp_rmem", "4096 16384 16384"},
                                                                      {"net.ipv4.tcp_congestion_control", "reno"}};

}  // namespace

TEST_CASE("search from a poor start promotes a confirmed winner and stays on it", "[search-trace]") {
  SearchWorld w;
  w.start_poor();
  test::check_trace("promoted", run_case(w, w.options()));
}

TEST_CASE("search on a flat plant keeps the baseline", "[search-trace]") {
  SearchWorld w(Script{.flat = true});
  w.start_poor();
  test::check_trace("kept-baseline", run_case(w, w.options()));
}

TEST_CASE("search from a good start stops poor candidates early and fails a broken one", "[search-trace]") {
  SearchWorld w(Script{.fail_below_txqueuelen = 400});
  w.start_good();
  auto o = w.options();
  o.trials = 10;
  o.seed = 3;
  test::check_trace("pruned-and-failed", run_case(w, o));
}

TEST_CASE("search with --no-prune and --no-apply measures every candidate fully and restores the host", "[search-trace]") {
  SearchWorld w;
  w.start_poor();
  auto o = w.options();
  o.prune = false;
  o.no_apply = true;
  test::check_trace("no-prune-no-apply", run_case(w, o));
}

TEST_CASE("search with a wall budget fits confirmation into the time left", "[search-trace]") {
  SearchWorld w;
  w.start_poor();
  auto o = w.options();
  o.trials.reset();
  o.budget = "3m";
  o.confirm_rounds = 6;
  test::check_trace("wall-budget", run_case(w, o));
}

TEST_CASE("search interrupted in each stage restores the host and says so", "[search-trace]") {
  struct Case {
    const char* name;
    Script script;
  };
  const Case cases[] = {
      {"interrupted-baseline", Script{.interrupt_at_measure = 2}},
      {"interrupted-apply", Script{.interrupt_at_arm = 2}},
      {"interrupted-settle", Script{.interrupt_at_sleep = 30}},
      {"interrupted-trial-measure", Script{.interrupt_at_measure = 6}},
      {"interrupted-confirmation", Script{.interrupt_at_measure = 13}},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      SearchWorld w(c.script);
      w.start_poor();
      test::check_trace(c.name, run_case(w, w.options()));
    }
  }
}

TEST_CASE("search: a confirmation round whose tunnel dies is skipped with the guardian disarmed", "[search-trace]") {
  SearchWorld w(Script{.dead_at_check = 10});
  w.start_poor();
  test::check_trace("confirmation-tunnel-dies", run_case(w, w.options()));
}

TEST_CASE("search: lost confirmation measurements never pair one round's baseline with another's candidate", "[search-trace]") {
  // Round 1's baseline (measurement 10) and round 2's candidate (13) fail: rounds 3 and 4 are paired.
  SearchWorld w(Script{.fail_measures = {10, 13}});
  w.start_poor();
  auto o = w.options();
  o.confirm_rounds = 4;
  test::check_trace("confirmation-rounds-lost", run_case(w, o));
}

TEST_CASE("search: Ctrl-C during a confirmation round's settle wait stops at once", "[search-trace]") {
  SearchWorld w(Script{.interrupt_at_sleep = 125});
  w.start_poor();
  test::check_trace("interrupted-confirmation-settle", run_case(w, w.options()));
}

TEST_CASE("search resumed after Ctrl-C replays the study and finishes it", "[search-trace]") {
  SearchWorld w(Script{.interrupt_at_measure = 7});
  w.start_poor();
  auto o = w.options();
  auto first = w.run(o);
  REQUIRE(first.outcome == "interrupted");
  w.script = Script{};
  w.interrupted = false;  // the Ctrl-C was the first run's: the resumed one must run, not stop at once
  auto resumed = o;
  resumed.resume = o.study_path;
  resumed.study_path.clear();
  test::check_trace("resume", run_case(w, resumed));
}

TEST_CASE("search warm-started from another study primes the engine first", "[search-trace]") {
  SearchWorld w;
  w.start_poor();
  auto o = w.options();
  o.no_apply = true;
  w.run(o);
  auto warm = o;
  warm.warm_start = o.study_path;
  warm.study_path = w.dir() + "/warm.sqlite";
  warm.profile_path = w.dir() + "/warm.yaml";
  warm.trials = 4;
  test::check_trace("warm-start", run_case(w, warm));
}

TEST_CASE("retune: the four outcomes", "[search-trace]") {
  SECTION("holds: nothing drifted, the score is what the profile recorded") {
    SearchWorld w;
    w.start_poor();
    auto p = write_profile(w, "p", kPoorKnobs, 280);
    test::check_trace("retune-holds", run_case(w, retune_options(w, p)));
  }
  SECTION("rolled-back: a drifted knob is put back, the score holds") {
    SearchWorld w;
    w.start_poor();
    auto p = write_profile(w, "p", kPoorKnobs, 280);
    w.write(true, "/sys/class/net/wg0/tx_queue_len", "200");  // someone changed the server end
    test::check_trace("retune-rolled-back", run_case(w, retune_options(w, p)));
  }
  SECTION("retuned: the profile regressed and a better configuration is confirmed") {
    SearchWorld w;
    w.start_poor();
    auto p = write_profile(w, "p", kPoorKnobs, 600);
    const auto inode = std::filesystem::status(p).type() == std::filesystem::file_type::regular ? file_inode(p) : 0;
    test::check_trace("retune-retuned", run_case(w, retune_options(w, p)));
    // The profile a boot unit reads was replaced by a rename, never rewritten in place.
    CHECK(file_inode(p) != inode);
  }
  SECTION("degraded: the profile regressed and nothing better is found") {
    SearchWorld w(Script{.flat = true});
    w.start_poor();
    auto p = write_profile(w, "p", kPoorKnobs, 600);
    test::check_trace("retune-degraded", run_case(w, retune_options(w, p)));
  }
}

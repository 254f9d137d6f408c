// `wgopt retune` on the real testbed (prefix wgt8), the three outcomes a nightly timer sees:
// the profile holds (exit 0, no trials); a knob drifted and is put back (exit 11); the profile is
// poor and a warm-started search replaces it with a confirmed winner (exit 10, old kept as .prev),
// and the boot files exported next to it carry the new values (issue 12). Also: a retune that finds
// the iperf3 server busy with another host's test waits for it instead of failing.
//
// The objective is the guide's `single` scenario (one TCP flow) for 3 s: one flow is bounded by the
// receive window, so a 4 KiB tcp_rmem is an injected regression no amount of machine noise hides
// (measured here: ~60 Mbit/s against ~600 with the default). Needs root.
#include <catch2/catch.hpp>
#include <future>
#include <thread>
#include <map>
#include <nlohmann/json.hpp>

#include "actuators/profile.hpp"
#include "cli_helpers.hpp"
#include "experiments/testbed/testbed.hpp"

using namespace wgopt;
using namespace wgopt::itest;

namespace {

const std::string kPrefix = "wgt8";
const std::string kCliNs = "wgt8-cli", kSrvNs = "wgt8-srv";
const std::string kRmem = "net.ipv4.tcp_rmem";
const std::string kTiny = "4096 4096 4096";

std::string rmem(const std::string& ns) {
  std::string out;
  for (const auto& f : split_ws(in_ns(ns, {"cat", "/proc/sys/net/ipv4/tcp_rmem"}))) out += (out.empty() ? "" : " ") + f;
  return out;
}

std::map<std::string, std::string> knobs_of(const std::string& path) {
  auto p = act::load_profile(path);
  return {p.knobs.begin(), p.knobs.end()};
}

std::vector<std::string> retune_args(const std::string& profile, std::vector<std::string> more, const std::string& rounds = "2",
                                     const std::string& tolerance = "50") {
  std::vector<std::string> a{"retune", "--profile", profile, "--tolerance", tolerance, "--baseline-rounds", rounds, "--confirm-rounds",
                             "3",      "--json"};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

// The cases where the profile must hold: a 75% tolerance (the injected 4 KiB regression is ~90%),
// because the machine's load can halve a 3 s measurement (CI measured 473 -> under 237 once, with
// the fuzz smoke compiling beside the suite); and one trial, so that a load-made "regression" ends
// in seconds with its outcome in the failure instead of a 20-minute search the harness kills.
std::vector<std::string> holding_args(const std::string& profile, std::vector<std::string> more = {}) {
  more.insert(more.end(), {"--trials", "1"});
  return retune_args(profile, std::move(more), "2", "75");
}

}  // namespace

TEST_CASE("retune: holds, rolls a drifted knob back, re-tunes a poor profile", "[retune][root]") {
  need_root();
  TestbedGuard guard(kPrefix);
  StateDir state;
  const std::string study = state / "study.sqlite", profile = state / "profile.yaml", objective = state / "single.yaml";
  write_text(objective, "duration: 3s\nscenarios:\n  - name: single\n");

  // A real profile from a real search over tcp_rmem on both ends.
  auto s = run_wgopt(state.path, {"search", "--testbed", "--prefix", kPrefix, "--knobs", kRmem, "--objective", objective, "--trials",
                                  "2", "--baseline-rounds", "2", "--confirm-rounds", "2", "--settle-ms", "200", "--study", study,
                                  "--profile", profile, "--json"});
  INFO(s.out << s.err);
  REQUIRE(s.ok());
  const auto held = knobs_of(profile).at(kRmem);
  REQUIRE(rmem(kSrvNs) == held);  // the search left the host on its profile (winner or baseline)

  {  // The profile holds: exit 0 after the baseline rounds, nothing searched.
    auto r = run_wgopt(state.path, holding_args(profile));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["outcome"] == "holds");
    CHECK(j["trials"]["total"] == 0);
    CHECK(j["exit_code"] == 0);
    CHECK(rmem(kSrvNs) == held);
    CHECK(rmem(kCliNs) == held);
  }

  {  // The server is busy with another host's test: the retune waits (backoff) and then holds.
    auto busy = std::async(std::launch::async, [] {
      return run(Place::netns(kCliNs).wrap({"iperf3", "-c", "100.64.0.1", "-p", "5201", "-t", "10", "-J"}), std::chrono::seconds(60));
    });
    std::this_thread::sleep_for(std::chrono::seconds(2));
    auto r = run_wgopt(state.path, holding_args(profile));
    INFO(r.out << r.err);
    CHECK_THAT(r.err, Catch::Contains("iperf3 server 100.64.0.1:5201 is busy (another host measuring?): waiting"));
    REQUIRE(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out)["outcome"] == "holds");
    auto b = busy.get();
    CHECK(b.ok());  // the other host's test ran undisturbed
  }

  {  // A knob changed behind wgopt's back is put back: exit 11.
    in_ns(kSrvNs, {"sysctl", "-qw", kRmem + "=" + kTiny});
    const std::string metrics = state / "wgopt.prom";
    auto r = run_wgopt(state.path, holding_args(profile, {"--metrics", metrics}));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 11);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["outcome"] == "rolled-back");
    CHECK(rmem(kSrvNs) == held);
    auto prom = slurp(metrics);
    CHECK_THAT(prom, Catch::Contains("outcome=\"rolled-back\"} 1\n"));
    CHECK_THAT(prom, Catch::Contains("wgopt_retune_regressions_rolled_back_total{profile=\"" + profile + "\"} 1\n"));
    // The profile itself is untouched: it was right, the host was wrong.
    CHECK(knobs_of(profile).at(kRmem) == held);
  }

  {  // A poor profile (4 KiB receive buffer) is re-tuned from its study: exit 10, P.prev kept.
    // The same evidence (what this path reached), but the profile now says 4 KiB: it drifted from
    // the host, is applied, measures far below its evidence, and the search must beat it.
    auto p = act::load_profile(profile);
    for (auto& [id, v] : p.knobs) {
      if (id == kRmem) v = kTiny;
    }
    // Installed under ROOT/etc/wgopt with the boot files `--format all` exports beside it.
    const std::string root = state / "root";
    std::filesystem::create_directories(root + "/etc/wgopt");
    const std::string poor = root + "/etc/wgopt/profile.yaml";
    write_text(poor, act::dump_profile(p));
    auto x = run_wgopt(state.path, {"export", poor, "--format", "all", "--out", root});
    INFO(x.out << x.err);
    REQUIRE(x.ok());
    const std::string sysctl_d = root + "/etc/sysctl.d/99-wgopt.conf";
    REQUIRE_THAT(slurp(sysctl_d), Catch::Contains("\nnet.ipv4.tcp_rmem = " + kTiny + "\n"));
    // A profile of sysctls has no tuning unit or script (nothing for them to do); TuneD's child
    // profile holds its sysctls too.
    CHECK_FALSE(std::filesystem::exists(root + "/usr/local/sbin/wgopt-tuning.sh"));
    const std::string tuned_conf = root + "/etc/tuned/profiles/wgopt/tuned.conf";
    const std::string tuned_before = slurp(tuned_conf);
    REQUIRE_THAT(tuned_before, Catch::Contains("net.ipv4.tcp_rmem=\"" + kTiny + "\""));
    auto r = run_wgopt(state.path, retune_args(poor, {"--trials", "4"}, "3"));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 10);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["outcome"] == "retuned");
    CHECK(j["winner_score"].get<double>() > j["baseline_score"].get<double>());
    const auto now = knobs_of(poor).at(kRmem);
    CHECK(now != kTiny);
    CHECK(knobs_of(poor + ".prev").at(kRmem) == kTiny);
    CHECK(rmem(kSrvNs) == now);  // the host is on the new profile
    CHECK(rmem(kCliNs) == now);
    // The new profile is itself retunable: evidence names this run's study and the same plant.
    auto np = act::load_profile(poor);
    CHECK(np.evidence["plant"]["testbed"].as<std::string>() == kPrefix);
    CHECK(np.evidence["outcome"].as<std::string>() == "retuned");
    // A reboot applies the new winner: the boot files were rendered again from the new profile,
    // the old ones kept beside P.prev.
    CHECK_THAT(r.err, Catch::Contains("wgopt retune: rewrote " + sysctl_d));
    CHECK_THAT(slurp(sysctl_d), Catch::Contains("\nnet.ipv4.tcp_rmem = " + now + "\n"));
    CHECK_THAT(slurp(poor + ".prev-files/etc/sysctl.d/99-wgopt.conf"), Catch::Contains("\nnet.ipv4.tcp_rmem = " + kTiny + "\n"));
    const std::string tuned_after = slurp(tuned_conf);
    CHECK_THAT(tuned_after, Catch::Contains("outcome retuned"));  // its header names the new profile's outcome
    CHECK_THAT(tuned_after, Catch::Contains("net.ipv4.tcp_rmem=\"" + now + "\""));
    CHECK(slurp(poor + ".prev-files/etc/tuned/profiles/wgopt/tuned.conf") == tuned_before);
  }

  // Leave the journal empty: every retune kept its changes, rollback restores the testbed's originals.
  auto rb = run_wgopt(state.path, {"rollback"});
  INFO(rb.out << rb.err);
  CHECK(rb.ok());
}

TEST_CASE("retune: bad input is one line, exit 2, and changes nothing", "[retune]") {
  StateDir state;
  auto missing = run_wgopt(state.path, {"retune", "--profile", state / "nope.yaml"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("nope.yaml"));
  write_text(state / "hand.yaml", "knobs:\n  wgt8-wc/mtu: 1380\n");
  auto hand = run_wgopt(state.path, {"retune", "--profile", state / "hand.yaml"});
  CHECK(hand.exit_code == 2);
  CHECK_THAT(hand.err, Catch::Contains("has no evidence"));
  auto tol = run_wgopt(state.path, {"retune", "--profile", state / "hand.yaml", "--tolerance", "120"});
  CHECK(tol.exit_code == 2);
  CHECK_THAT(tol.err, Catch::Contains("--tolerance"));
}

// The pure parts of `wgopt retune`: options from a profile, exit codes, the summary line and the
// Prometheus textfile (format per node_exporter's textfile collector; counters continue).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "actuators/profile.hpp"
#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/export/export.hpp"
#include "experiments/search/retune.hpp"
#include "experiments/search/retune_boot_files.hpp"
#include "common/files.hpp"
#include "tests/scratch_dir.hpp"

using namespace wgopt;
using namespace wgopt::experiments;

namespace {

act::Profile profile_from(const std::string& yaml) { return act::parse_profile(yaml, "p.yaml"); }

const char* kTestbedProfile = R"(host:
  kernel: 6.18.0
  sku: test-sku
knobs:
  net.ipv4.tcp_rmem: "4096 131072 6291456"
  wgt8-wc/txqueuelen: 1000
evidence:
  study: /var/lib/wgopt/studies/study-1.sqlite
  outcome: promoted
  objective: "duration: 3s\nscenarios:\n  - name: single\n"
  plant: {testbed: wgt8}
  winner: {score: 612.5}
)";

}  // namespace

TEST_CASE("retune options come from the profile: plant, objective, knobs, warm start", "[retune]") {
  RetuneOptions r;
  r.profile = "/etc/wgopt/profile.yaml";
  r.budget = "10m";
  r.tolerance = 0.2;
  auto o = retune_search_options(r, profile_from(kTestbedProfile));
  CHECK(o.testbed);
  CHECK(o.testbed_prefix == "wgt8");
  CHECK(o.include == std::vector<std::string>{"net.ipv4.tcp_rmem", "wgt8-wc/txqueuelen"});
  CHECK(o.objective_text.find("single") != std::string::npos);
  CHECK(o.warm_start == "/var/lib/wgopt/studies/study-1.sqlite");
  CHECK(o.retune_profile == "/etc/wgopt/profile.yaml");
  CHECK(o.retune_tolerance == Approx(0.2));
  CHECK(o.budget == "10m");
  // --confirm-rounds not given: the search's default for the budget (policies.hpp default_confirm_rounds).
  CHECK_FALSE(o.confirm_rounds.has_value());
  r.confirm_rounds = 5;
  CHECK(retune_search_options(r, profile_from(kTestbedProfile)).confirm_rounds == 5);
  r.confirm_rounds.reset();

  auto peer = profile_from(R"(knobs:
  wt0/mtu: 1380
  eth0/rps_cpus: "3"
  net.core.netdev_budget: 600
evidence:
  objective: "duration: 10s\n"
  plant: {peer: 100.64.0.7, port: 5202, netns: tenant}
)");
  auto p = retune_search_options(r, peer);
  CHECK_FALSE(p.testbed);
  CHECK(p.peer == "100.64.0.7");
  CHECK(p.port == 5202);
  CHECK(p.netns == "tenant");
  CHECK(p.interfaces == std::vector<std::string>{"wt0", "eth0"});
  CHECK(p.allow_global);  // the profile holds a host-wide sysctl, so the search that made it was allowed
  CHECK(p.warm_start.empty());
}

TEST_CASE("retune refuses a profile that no search wrote, naming what is missing", "[retune]") {
  RetuneOptions r;
  r.profile = "hand.yaml";
  auto msg = [&](const std::string& yaml) {
    try {
      retune_search_options(r, profile_from(yaml));
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(msg("knobs:\n  wt0/mtu: 1380\n"), Catch::Contains("hand.yaml has no evidence"));
  CHECK_THAT(msg("knobs:\n  wt0/mtu: 1380\nevidence:\n  objective: 'duration: 3s'\n"), Catch::Contains("evidence.plant is missing"));
  CHECK_THAT(msg("knobs:\n  wt0/mtu: 1380\nevidence:\n  plant: {testbed: x}\n"), Catch::Contains("evidence.objective is missing"));
  CHECK_THAT(msg("knobs: {}\nevidence:\n  plant: {testbed: x}\n"), Catch::Contains("names no knobs"));
  // A peer's part exported as a profile (export --host peer) keeps only the plant's port: its retune
  // is told its own peer (found by an exploratory test: it measured itself over loopback).
  const std::string exported = "knobs:\n  wt0/mtu: 1380\nevidence:\n  objective: 'duration: 3s'\n  plant: {port: 5202}\n";
  CHECK_THAT(msg(exported), Catch::Contains("evidence.plant names neither a testbed nor a peer (a profile exported with --host peer "
                                            "names none): pass --peer ADDRESS"));
  r.peer = "100.64.0.2";
  const auto o = retune_search_options(r, profile_from(exported));
  CHECK(o.peer == "100.64.0.2");
  CHECK(o.port == 5202);
}

TEST_CASE("retune exit codes are the ones the timer unit and cron act on", "[retune]") {
  CHECK(retune_exit_code(SearchOutcome::Holds) == 0);
  CHECK(retune_exit_code(SearchOutcome::Retuned) == 10);
  CHECK(retune_exit_code(SearchOutcome::RolledBack) == 11);
  CHECK(retune_exit_code(SearchOutcome::Degraded) == 12);
  CHECK(retune_exit_code(SearchOutcome::Interrupted) == 130);
  CHECK(retune_exit_code(SearchOutcome::Promoted) == 1);  // a search outcome is not a retune outcome
}

TEST_CASE("retune metrics are node_exporter textfile format and counters continue across runs", "[retune]") {
  SearchReport r;
  r.outcome = SearchOutcome::RolledBack;
  r.baseline_score = 580.25;
  r.recorded_score = 600;
  r.baseline_throughput_mbps = 590.5;
  r.trials = 0;
  r.drifted = {"net.ipv4.tcp_rmem: 4096 4096 4096 -> 4096 131072 6291456"};
  const std::string profile = "/etc/wgopt/\"p\".yaml";
  auto first = retune_metrics(&r, profile, 1790000000.7, "");
  const std::string lbl = R"(profile="/etc/wgopt/\"p\".yaml")";
  CHECK_THAT(first, Catch::Contains("# TYPE wgopt_throughput_mbps gauge\nwgopt_throughput_mbps{" + lbl + "} 590.5\n"));
  CHECK_THAT(first, Catch::Contains("wgopt_retune_last_run_timestamp_seconds{" + lbl + "} 1790000000\n"));
  CHECK_THAT(first, Catch::Contains("wgopt_retune_outcome{" + lbl + ",outcome=\"rolled-back\"} 1\n"));
  CHECK_THAT(first, Catch::Contains("wgopt_retune_outcome{" + lbl + ",outcome=\"holds\"} 0\n"));
  CHECK_THAT(first, Catch::Contains("# TYPE wgopt_retune_regressions_rolled_back_total counter\n"
                                    "wgopt_retune_regressions_rolled_back_total{" + lbl + "} 1\n"));
  CHECK_THAT(first, Catch::Contains("wgopt_retune_runs_total{" + lbl + "} 1\n"));

  // Every sample line is NAME{LABELS} VALUE, every metric has HELP and TYPE before its samples.
  for (const auto& line : wgopt::split_lines(first)) {
    if (line.starts_with("#")) {
      CHECK((line.starts_with("# HELP wgopt_") || line.starts_with("# TYPE wgopt_")));
      continue;
    }
    INFO(line);
    auto brace = line.find('{'), close = line.rfind("} ");
    CHECK(brace != std::string::npos);
    CHECK(close != std::string::npos);
    CHECK_NOTHROW(std::stod(line.substr(close + 2)));
  }

  // The next night: the host held, a search ran 5 trials earlier... counters add up.
  r.outcome = SearchOutcome::Retuned;
  r.drifted.clear();
  r.trials = 5;
  r.winner_score = 700;
  r.winner_throughput_mbps = 705;
  auto second = retune_metrics(&r, profile, 1790086400, first);
  CHECK_THAT(second, Catch::Contains("wgopt_retune_runs_total{" + lbl + "} 2\n"));
  CHECK_THAT(second, Catch::Contains("wgopt_retune_regressions_rolled_back_total{" + lbl + "} 1\n"));
  CHECK_THAT(second, Catch::Contains("wgopt_retune_trials_total{" + lbl + "} 5\n"));
  CHECK_THAT(second, Catch::Contains("wgopt_throughput_mbps{" + lbl + "} 705\n"));  // the host is on the winner
  CHECK_THAT(second, Catch::Contains("wgopt_score{" + lbl + "} 700\n"));
  CHECK_THAT(second, Catch::Contains("wgopt_retune_outcome{" + lbl + ",outcome=\"error\"} 0\n"));

  // The third night fails (exit 1): its time and outcome are written, the counters go on, and no
  // measurement of the night before is left to look current.
  auto third = retune_metrics(nullptr, profile, 1790172800, second);
  CHECK_THAT(third, Catch::Contains("wgopt_retune_last_run_timestamp_seconds{" + lbl + "} 1790172800\n"));
  CHECK_THAT(third, Catch::Contains("wgopt_retune_outcome{" + lbl + ",outcome=\"error\"} 1\n"));
  CHECK_THAT(third, Catch::Contains("wgopt_retune_outcome{" + lbl + ",outcome=\"retuned\"} 0\n"));
  CHECK_THAT(third, Catch::Contains("wgopt_retune_failures_total{" + lbl + "} 1\n"));
  CHECK_THAT(third, Catch::Contains("wgopt_retune_runs_total{" + lbl + "} 3\n"));
  CHECK_THAT(third, Catch::Contains("wgopt_retune_trials_total{" + lbl + "} 5\n"));
  CHECK_THAT(third, !Catch::Contains("wgopt_score{"));

  // The fourth night loses its peer (exit 1, with a report): a failure too, never a clean night.
  SearchReport lost;
  lost.outcome = SearchOutcome::PeerLost;
  lost.trials = 2;
  auto fourth = retune_metrics(&lost, profile, 1790259200, third);
  CHECK_THAT(fourth, Catch::Contains("wgopt_retune_outcome{" + lbl + ",outcome=\"peer-lost\"} 1\n"));
  CHECK_THAT(fourth, Catch::Contains("wgopt_retune_failures_total{" + lbl + "} 2\n"));
  CHECK_THAT(fourth, Catch::Contains("wgopt_retune_trials_total{" + lbl + "} 7\n"));
  CHECK_THAT(fourth, !Catch::Contains("wgopt_score{") && !Catch::Contains("wgopt_throughput_mbps{"));

  // The fifth is interrupted (the timer stopped at shutdown, exit 130): not a failure, and no gauge
  // of a measurement it did not finish (found by an exploratory test: they read 0).
  SearchReport stopped;
  stopped.outcome = SearchOutcome::Interrupted;
  stopped.recorded_score = 598.1;
  auto fifth = retune_metrics(&stopped, profile, 1790345600, fourth);
  CHECK_THAT(fifth, Catch::Contains("wgopt_retune_outcome{" + lbl + ",outcome=\"interrupted\"} 1\n"));
  CHECK_THAT(fifth, Catch::Contains("wgopt_retune_failures_total{" + lbl + "} 2\n"));
  CHECK_THAT(fifth, !Catch::Contains("wgopt_score{") && !Catch::Contains("wgopt_throughput_mbps{") &&
                        !Catch::Contains("wgopt_recorded_score{"));
}

TEST_CASE("the retune summary is one line with the outcome, the scores and what happened", "[retune]") {
  SearchReport r;
  r.outcome = SearchOutcome::Holds;
  r.baseline_score = 612.3;
  r.recorded_score = 598.1;
  r.elapsed_s = 31;
  auto s = retune_summary(r);
  CHECK(s.find('\n') == std::string::npos);
  CHECK(s == "wgopt retune: holds: score 612.3 (recorded 598.1, profile now +2.4%), 0 trials, 31s");
  r.outcome = SearchOutcome::Retuned;
  r.winner_score = 700;
  r.gain_pct = 14.3;
  r.kernel_was = "6.1.0";
  r.kernel_now = "6.18.0";
  r.trials = 8;
  CHECK(retune_summary(r) ==
        "wgopt retune: retuned: score 700.0 (recorded 598.1, profile now +2.4%), kernel 6.1.0 -> 6.18.0, new winner +14.3% over "
        "the profile, 8 trials, 31s");
  SearchReport stopped;  // Ctrl-C before the baseline rounds: no score to show
  stopped.outcome = SearchOutcome::Interrupted;
  stopped.drifted = {"wgt8-wc/mtu: 1400 -> 1420"};
  stopped.elapsed_s = 3;
  CHECK(retune_summary(stopped) == "wgopt retune: interrupted before the host's baseline rounds ended, 1 drifted knob(s) put back to the "
                                   "profile's values (kept; `wgopt rollback` undoes them), 0 trials, 3s");
  SearchReport lost;  // the peer gone (retune --ssh): no score to show either
  lost.outcome = SearchOutcome::PeerLost;
  lost.confirmation = "the peer was lost: 198.18.0.1 is unreachable";
  lost.trials = 2;
  lost.elapsed_s = 40;
  CHECK(retune_summary(lost) == "wgopt retune: peer-lost: the peer was lost: 198.18.0.1 is unreachable; this end is back on the "
                                "profile's values, the peer restores its own by itself, 2 trials, 40s");
  // A knob a trial's rollback left as found is said on every line, the early ones too (found in review).
  lost.left_alone = {"netns tcli: wg0/txqueuelen left alone: someone else changed it"};
  CHECK_THAT(retune_summary(lost), Catch::EndsWith("2 trials, 40s; 1 knob(s) a trial's rollback left as it found them: netns tcli: "
                                                   "wg0/txqueuelen left alone: someone else changed it"));
  stopped.left_alone = lost.left_alone;
  CHECK_THAT(retune_summary(stopped), Catch::Contains("0 trials, 3s; 1 knob(s) a trial's rollback left as it found them"));
}

TEST_CASE("a profile's plant.port that is not a port is named, not an internal error", "[retune][faults]") {
  RetuneOptions r;
  r.profile = "p.yaml";
  auto msg = [&](const std::string& port) {
    try {
      retune_search_options(r, profile_from("knobs:\n  wt0/mtu: 1380\nevidence:\n  objective: 'duration: 3s'\n"
                                            "  plant: {peer: 100.64.0.7, port: " + port + "}\n"));
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(msg("abc") == "p.yaml: evidence.plant.port 'abc' is not a port: use a number 1..65535");
  CHECK(msg("70000") == "p.yaml: evidence.plant.port '70000' is not a port: use a number 1..65535");
  CHECK(msg("99999999999999999999") != "no error");
  CHECK(msg("5202") == "no error");
}

TEST_CASE("retune --json lists the drifted knobs the text output prints", "[retune]") {
  SearchReport r;
  r.outcome = SearchOutcome::RolledBack;
  r.drifted = {"wg0/txqueuelen (server): 200 -> 100"};
  r.recorded_score = 280;
  const auto j = retune_json(r);
  REQUIRE(j.contains("drifted"));
  CHECK(j["drifted"] == nlohmann::json::array({"wg0/txqueuelen (server): 200 -> 100"}));
  CHECK(j["exit_code"] == kRetuneRolledBack);
  CHECK(j["recorded_score"] == 280.0);
  CHECK_FALSE(j.contains("kernel"));
}

TEST_CASE("retune refuses a profile whose recorded score is not finite, naming the field (issue 14 item 6)", "[retune][faults]") {
  RetuneOptions r;
  r.profile = "p.yaml";
  auto msg = [&](const std::string& evidence) {
    try {
      retune_search_options(r, profile_from("knobs:\n  wt0/mtu: 1380\nevidence:\n  objective: 'duration: 3s'\n"
                                            "  plant: {testbed: wgt8}\n" + evidence));
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(msg("  winner: {score: .nan}\n"), Catch::StartsWith("p.yaml: evidence.winner.score '.nan' is not a finite number"));
  CHECK_THAT(msg("  winner: {score: nan}\n"), Catch::StartsWith("p.yaml: evidence.winner.score 'nan' is not a finite number"));
  CHECK_THAT(msg("  baseline: {score: inf}\n"), Catch::StartsWith("p.yaml: evidence.baseline.score 'inf' is not a finite number"));
  CHECK_THAT(msg("  baseline: {score: 1e999}\n"), Catch::Contains("evidence.baseline.score"));
  CHECK_THAT(msg("  winner: {score: 612.5, ci95: [600, .nan]}\n"), Catch::Contains("evidence.winner.ci95.high"));
  CHECK(msg("  winner: {score: 612.5}\n") == "no error");
}

TEST_CASE("retune's boot files: TuneD's profile rewritten where installed, a format with nothing left removed, old ones kept",
          "[retune][fleet]") {
  namespace fs = std::filesystem;
  const test::ScratchDir scratch("wgopt-boot-files");
  const fs::path root = scratch.dir;
  const std::string fixture = std::string(WGOPT_FIXTURES_DIR) + "/export/profile.yaml";
  // As `wgopt export --format all --out ROOT` and the Ansible role leave a host: the files, the
  // manifest, the profile, and TuneD's child profile (an older TuneD: etc/tuned/wgopt/) with the
  // host's own parent.
  ExportOptions o;
  o.profile_label = "/etc/wgopt/profile.yaml";
  std::vector<FileToWrite> tree;
  for (const auto& f : render_export(act::load_profile(fixture), "all", o)) {
    if (!f.path.starts_with("etc/tuned/")) tree.push_back({(root / f.path).string(), f.content, f.mode});
  }
  tree.push_back({(root / "etc/tuned/wgopt/tuned.conf").string(), "[main]\ninclude=virtual-guest\n[net]\nmtu=1500\n", 0644});
  // The retune's new winner: no sysctl knob, no tunnel MTU, another txqueuelen.
  auto p = act::load_profile(fixture);
  std::erase_if(p.knobs, [](const auto& k) { return k.first.starts_with("net.") || k.first == "wt0/mtu"; });
  for (auto& [id, v] : p.knobs) {
    if (id == "wt0/txqueuelen") v = "3000";
  }
  tree.push_back({(root / "etc/wgopt/profile.yaml").string(), act::dump_profile(p), 0644});
  write_files_all_or_nothing(tree);
  const std::string old_sysctl = *read_file((root / "etc/sysctl.d/99-wgopt.conf").string());

  const BootFilesUpdate u = update_boot_files((root / "etc/wgopt/profile.yaml").string());
  CHECK(u.removed == std::vector<std::string>{(root / "etc/sysctl.d/99-wgopt.conf").string(), (root / "etc/wgopt/netbird-mtu.env").string()});
  CHECK_FALSE(fs::exists(root / "etc/sysctl.d/99-wgopt.conf"));  // its old values would come back at boot
  CHECK_FALSE(fs::exists(root / "etc/wgopt/netbird-mtu.env"));
  CHECK(read_file((root / "etc/wgopt/profile.yaml.prev-files/etc/sysctl.d/99-wgopt.conf").string()) == old_sysctl);
  const std::string tuned = read_file((root / "etc/tuned/wgopt/tuned.conf").string()).value_or("");
  CHECK_THAT(tuned, Catch::Contains("\ninclude=virtual-guest\n") && Catch::Contains("txqueuelen=3000"));
  CHECK_FALSE(fs::exists(root / "etc/tuned/profiles"));  // where it is installed, not where the export would put it
  CHECK(std::find(u.written.begin(), u.written.end(), (root / "etc/tuned/wgopt/tuned.conf").string()) != u.written.end());
  CHECK_THAT(read_file((root / "usr/local/sbin/wgopt-tuning.sh").string()).value_or(""), Catch::Contains("txqueuelen '3000'"));
}

TEST_CASE("retune's boot files: a removed unit's enablement link goes with it", "[retune][fleet]") {
  // Found in review: a new winner with nothing for the tuning unit to hold removed the unit but left
  // multi-user.target.wants/ naming it (systemd logs a missing unit at every boot), and nothing
  // told systemd. A profile whose one device has no role the export infers (ens5, a txqueuelen)
  // and whose new winner keeps only its sysctl.
  namespace fs = std::filesystem;
  const test::ScratchDir scratch("wgopt-boot-links");
  const fs::path root = scratch.dir;
  const std::string fixture = std::string(WGOPT_FIXTURES_DIR) + "/export/profile.yaml";
  auto old_profile = act::load_profile(fixture);
  old_profile.knobs = {{"net.core.netdev_budget", "600"}, {"ens5/txqueuelen", "2000"}};
  ExportOptions o;
  o.profile_label = "/etc/wgopt/profile.yaml";
  std::vector<FileToWrite> tree;
  std::vector<std::string> units;
  for (const auto& f : render_export(old_profile, "all", o)) {
    if (f.path.starts_with("etc/tuned/")) continue;
    tree.push_back({(root / f.path).string(), f.content, f.mode});
    if (f.path.starts_with("etc/systemd/system/wgopt-tuning") && f.path.ends_with(".service")) units.push_back(f.path);
  }
  REQUIRE(units == std::vector<std::string>{"etc/systemd/system/wgopt-tuning.service"});
  auto p = old_profile;
  p.knobs = {{"net.core.netdev_budget", "900"}};
  tree.push_back({(root / "etc/wgopt/profile.yaml").string(), act::dump_profile(p), 0644});
  write_files_all_or_nothing(tree);
  // As `systemctl enable` leaves it; an unrelated unit's link stays.
  fs::create_directories(root / "etc/systemd/system/multi-user.target.wants");
  const fs::path link = root / "etc/systemd/system/multi-user.target.wants/wgopt-tuning.service";
  fs::create_symlink("/etc/systemd/system/wgopt-tuning.service", link);
  fs::create_symlink("/lib/systemd/system/ssh.service", root / "etc/systemd/system/multi-user.target.wants/ssh.service");

  const BootFilesUpdate u = update_boot_files((root / "etc/wgopt/profile.yaml").string());
  CHECK(u.units_changed);
  CHECK(u.disabled == std::vector<std::string>{link.string()});
  CHECK_FALSE(fs::is_symlink(link));
  CHECK_FALSE(fs::exists(root / "etc/systemd/system/wgopt-tuning.service"));
  CHECK_FALSE(fs::exists(root / "usr/local/sbin/wgopt-tuning.sh"));
  CHECK(fs::is_symlink(root / "etc/systemd/system/multi-user.target.wants/ssh.service"));
  CHECK_THAT(read_file((root / "etc/sysctl.d/99-wgopt.conf").string()).value_or(""), Catch::Contains("net.core.netdev_budget = 900"));

  // Run again: nothing left to remove, no unit changed (nothing to reload).
  const BootFilesUpdate again = update_boot_files((root / "etc/wgopt/profile.yaml").string());
  CHECK_FALSE(again.units_changed);
  CHECK(again.disabled.empty());

  // The next winner has a device setting again (found in review: the unit came back without its
  // link, so its settings never ran at boot): the unit is written and enabled as before.
  write_files_all_or_nothing({{(root / "etc/wgopt/profile.yaml").string(), act::dump_profile(old_profile), 0644}});
  const BootFilesUpdate back = update_boot_files((root / "etc/wgopt/profile.yaml").string());
  CHECK(back.units_changed);
  CHECK(back.enabled == std::vector<std::string>{link.string()});
  CHECK(fs::read_symlink(link) == "/etc/systemd/system/wgopt-tuning.service");
  CHECK(fs::exists(root / "etc/systemd/system/wgopt-tuning.service"));
  CHECK(fs::exists(root / "usr/local/sbin/wgopt-tuning.sh"));
}

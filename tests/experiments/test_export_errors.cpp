// `wgopt export`: what a bad profile or option does (one line naming the entry, exit 2, nothing
// written), how the underlay and WireGuard interface are chosen, `--format all` leaving out what
// has nothing to hold, and the CLI's writing rules (--out tree and modes, no overwrite without
// --force, --json).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.hpp"
#include "common/exec.hpp"
#include "common/files.hpp"
#include "tests/wgopt_cli.hpp"
#include "experiments/export/export.hpp"
#include "tests/scratch_dir.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

act::Profile profile(const std::string& knobs, const std::string& extra = "") {
  return act::parse_profile("knobs:\n" + knobs + extra, "p.yaml");
}

ExportOptions opts() {
  ExportOptions o;
  o.profile_label = "p.yaml";
  return o;
}

// A fresh directory per test case (unique: two runs at once never meet), removed afterwards.
struct TempDir : test::ScratchDir {
  explicit TempDir(const std::string& name) : ScratchDir("wgopt-export-cli-" + name) {}
};

using wgopt::test::wgopt_cli;

}  // namespace

TEST_CASE("export: a bad value is refused with one line naming the knob and the fix", "[export]") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"  net.ipv4.tcp_rmem: \"4096 131072\"\n", "knob net.ipv4.tcp_rmem has value '4096 131072': use three integers"},
      {"  net.ipv4.tcp_rmem: \"9 8 7\"\n", "min <= default <= max"},
      {"  net.core.netdev_max_backlog: -5\n", "use an integer in [0,"},
      {"  net.ipv4.tcp_congestion_control: \"bbr; reboot\"\n", "use a congestion control this kernel offers"},
      {"  eth0/mtu: 99999\n", "knob eth0/mtu has value '99999': use an integer in [68, 65535]"},
      {"  eth0/offload/gro: maybe\n", "use on or off"},
      {"  eth0/qdisc: \"fq'\"\n", "a root qdisc kind"},
      {"  eth0/rss_hash_udp4: sdx\n", "field letters"},
      {"  eth0/irq_affinity: \"0\"\n", "an IRQ needs at least one CPU"},
      {"  irqbalance: off\n", "use active, inactive"},
      {"  net.ipv4.ip_forward: 1\n", "unknown knob 'net.ipv4.ip_forward'"},
      {"  eth0/speed: 1000\n", "unknown knob 'eth0/speed'"},
  };
  for (const auto& [knobs, message] : bad) {
    INFO(knobs);
    CHECK_THROWS_AS(render_export(profile(knobs), "sysctl", opts()), UsageError);
    CHECK_THROWS_WITH(render_export(profile(knobs), "all", opts()), Contains(message));
  }
}

TEST_CASE("export: masks are checked against the profile's CPU count", "[export]") {
  const std::string host = "host: {nproc: 2}\n";
  CHECK_THROWS_WITH(render_export(profile("  eth0/rps_cpus: \"f\"\n", host), "systemd", opts()), Contains("too wide"));
  auto files = render_export(profile("  eth0/rps_cpus: \"00000003\"\n", host), "systemd", opts());
  CHECK_THAT(files[1].content, Contains("set_rx_queues 'eth0' rps_cpus '3'"));
  // Per-queue values stay per queue, in rx-N order.
  files = render_export(profile("  eth0/rps_cpus: \"1 2\"\n", host), "systemd", opts());
  CHECK_THAT(files[1].content, Contains("set_rx_queues 'eth0' rps_cpus '1' '2'"));
}

TEST_CASE("export: a profile captured in a namespace says, in every boot file, where it acts and how to apply it there", "[export]") {
  // Found in review: only sysctl.d's file said so; the unit, the .link and TuneD's profile acted on
  // the root namespace without a word.
  const auto p = profile("  lead-uc/mtu: 1500\n  lead-uc/offload/gro: \"on\"\n  lead-wc/mtu: 1420\n  net.ipv4.tcp_rmem: 4096 131072 6291456\n",
                         "host: {place: netns lead-cli}\n");
  const auto files = render_export(p, "all", opts());
  int noted = 0;
  for (const auto& f : files) {
    INFO(f.path);
    if (f.path.find("sysctl.d") == std::string::npos && f.path.find(".link") == std::string::npos &&
        f.path.find("tuned") == std::string::npos && f.path.find("wgopt-tuning") == std::string::npos) {
      continue;
    }
    CHECK_THAT(f.content, Contains("# Captured in netns lead-cli: installed on a host, this file acts in its root namespace; "));
    ++noted;
  }
  CHECK(noted == 6);  // sysctl.d, the unit and its script, the tunnel's re-apply unit, the .link, TuneD's profile
  auto on_eth0 = opts();
  on_eth0.underlay = "eth0";
  const auto host = render_export(profile("  eth0/mtu: 1500\n", "host: {place: host}\n"), "networkd", on_eth0);
  CHECK_THAT(host.at(0).content, !Contains("Captured in"));
  // A peer's knobs saved over ssh (`knobs --ssh --save`: place "peer NAME") are that host's own.
  const auto peer = render_export(profile("  eth0/mtu: 1500\n", "host: {place: peer gw1}\n"), "networkd", on_eth0);
  CHECK_THAT(peer.at(0).content, !Contains("Captured in"));
}

TEST_CASE("export: the underlay and the WireGuard interface are chosen by the documented rule", "[export]") {
  // NIC knobs mark the underlay; the other one is the tunnel.
  auto r = export_roles(profile("  ens5/rings/rx: 1024\n  nbx/mtu: 1400\n"), opts());
  CHECK(r.underlay == "ens5");
  CHECK(r.wireguard == "nbx");
  // NetBird's wt0 is the tunnel; the other one is the underlay.
  r = export_roles(profile("  wt0/mtu: 1420\n  eth1/mtu: 1500\n"), opts());
  CHECK(r.wireguard == "wt0");
  CHECK(r.underlay == "eth1");
  // The testbed names them, from the evidence's plant or from the place (older profiles).
  r = export_roles(profile("  wgt6-uc/rps_cpus: 0\n  wgt6-wc/offload/gro: \"on\"\n", "evidence: {plant: {testbed: wgt6}}\n"), opts());
  CHECK(r.underlay == "wgt6-uc");
  CHECK(r.wireguard == "wgt6-wc");
  r = export_roles(profile("  lead-uc/rps_cpus: 0\n  lead-wc/mtu: 1420\n", "host: {place: netns lead-cli}\n"), opts());
  CHECK(r.underlay == "lead-uc");
  // The interfaces the search recorded its facts on (found by an exploratory test: a two-host
  // profile naming wireguard: xe-wc could not be exported as NB_MTU without --wireguard).
  r = export_roles(profile("  xe-wc/mtu: 1400\n  xe-wc/txqueuelen: 2000\n", "host: {underlay: xe-uc, wireguard: xe-wc}\n"), opts());
  CHECK(r.wireguard == "xe-wc");
  CHECK(r.underlay.empty());  // xe-uc has no knob here
  r = export_roles(profile("  a0/mtu: 1420\n  b0/mtu: 1500\n", "host: {underlay: b0, wireguard: a0}\n"), opts());
  CHECK(r.underlay == "b0");
  CHECK(r.wireguard == "a0");
  // Options win; a name without knobs is refused.
  ExportOptions o = opts();
  o.underlay = "wt0";
  r = export_roles(profile("  wt0/mtu: 1420\n  eth1/mtu: 1500\n"), o);
  CHECK(r.underlay == "wt0");
  CHECK(r.wireguard == "eth1");
  o.underlay = "eth9";
  CHECK_THROWS_WITH(export_roles(profile("  wt0/mtu: 1420\n"), o), Contains("interface eth9 has no knob in profile p.yaml"));
  o.underlay = "eth0;rm";
  CHECK_THROWS_AS(export_roles(profile("  wt0/mtu: 1420\n"), o), UsageError);
  // Undecidable: networkd asks for --underlay instead of guessing.
  CHECK_THROWS_WITH(render_export(profile("  a0/mtu: 1420\n  b0/mtu: 1500\n"), "networkd", opts()),
                    Contains("cannot tell which of a0, b0 is the underlay in profile p.yaml: pass --underlay IF"));
  // With --format all, the rest is still written and the question is passed on.
  std::vector<std::string> skipped;
  auto files = render_export(profile("  a0/mtu: 1420\n  b0/mtu: 1500\n"), "all", opts(), &skipped);
  CHECK(files.size() == 4);  // sysctl has nothing; systemd (2), tuned, boot-files.yaml; no evidence: no timer
  REQUIRE(skipped.size() == 4);
  CHECK_THAT(skipped[1], Contains("pass --underlay IF"));
  CHECK_THAT(skipped[2], Contains("pass --wireguard IF"));
  CHECK_THAT(skipped[3], Contains("timer: profile p.yaml has no evidence"));
  // The underlay the search recorded, without a knob of it: said so, not asked for (found by an
  // exploratory test: --underlay xrp-uc then failed "has no knob").
  act::Profile recorded = profile("  xrp-wc/mtu: 1342\n");
  recorded.host = YAML::Load("{place: netns xrp-cli, underlay: xrp-uc}");
  CHECK_THROWS_WITH(render_export(recorded, "networkd", opts()),
                    Contains("networkd: profile p.yaml has no knob of its underlay xrp-uc: nothing for a .link file to hold"));
}

TEST_CASE("export: a format with nothing to hold is an error by name and left out of all", "[export]") {
  const auto p = profile("  net.ipv4.tcp_congestion_control: bbr\n");
  CHECK_THROWS_WITH(render_export(p, "networkd", opts()), Contains("has no interface knob"));
  CHECK_THROWS_WITH(render_export(p, "netbird", opts()), Contains("has no MTU knob"));
  // A unit and script that set nothing would run at every boot and say "applied 0 setting(s)".
  CHECK_THROWS_WITH(render_export(p, "systemd", opts()), Contains("has only sysctls, which --format sysctl holds"));
  CHECK_THROWS_WITH(render_export(p, "yaml", opts()), Contains("unknown export format 'yaml': use one of sysctl, systemd"));
  std::vector<std::string> skipped;
  auto files = render_export(p, "all", opts(), &skipped);
  CHECK(skipped.size() == 4);
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(f.path);
  CHECK(paths == std::vector<std::string>{"etc/sysctl.d/99-wgopt.conf", "etc/tuned/profiles/wgopt/tuned.conf", "etc/wgopt/boot-files.yaml"});
  // A search's profile (with evidence) has its timer.
  auto searched = p;
  searched.evidence = YAML::Load("{outcome: promoted, plant: {peer: 100.64.0.1}, objective: \"duration: 3s\"}");
  skipped.clear();
  paths.clear();
  for (const auto& f : render_export(searched, "all", opts(), &skipped)) paths.push_back(f.path);
  CHECK(skipped.size() == 3);
  CHECK(paths == std::vector<std::string>{"etc/sysctl.d/99-wgopt.conf", "etc/tuned/profiles/wgopt/tuned.conf",
                                          "etc/systemd/system/wgopt-retune.service", "etc/systemd/system/wgopt-retune.timer",
                                          "etc/wgopt/boot-files.yaml"});
}

TEST_CASE("export: no nightly timer for a profile retune refuses, and the peer's timer installs the peer's profile", "[export]") {
  // Found by an exploratory test: `wgopt show > p.yaml` exported a timer (and an Ansible role that
  // enabled it) whose `wgopt retune` failed every night with "has no evidence".
  const auto shown = profile("  net.ipv4.tcp_congestion_control: bbr\n");
  CHECK_THROWS_WITH(render_export(shown, "timer", opts()),
                    Contains("timer: profile p.yaml has no evidence (it was not written by `wgopt search`), and the nightly `wgopt "
                             "retune` refuses such a profile"));
  std::string defaults;
  for (const auto& f : render_export(shown, "ansible", opts())) {
    CHECK_FALSE(f.path.ends_with("wgopt-retune.timer"));
    if (f.path.ends_with("defaults/main.yml")) defaults = f.content;
  }
  CHECK_THAT(defaults, Contains("\nwgopt_retune_timer: false\n") && !Contains("wgopt_retune_timer: true"));
  // Evidence retune cannot measure from is no better (found in review: no objective, no plant).
  auto no_objective = shown;
  no_objective.evidence = YAML::Load("{outcome: promoted, plant: {peer: 100.64.0.1}}");
  CHECK_THROWS_WITH(render_export(no_objective, "timer", opts()), Contains("has no evidence.objective (what to measure)"));
  auto no_plant = shown;
  no_plant.evidence = YAML::Load("{outcome: promoted, objective: \"duration: 3s\"}");
  CHECK_THROWS_WITH(render_export(no_plant, "timer", opts()), Contains("has no evidence.plant (where to measure)"));
  // --host peer: the peer's part is no file of its own, so its tree holds it where the timer's
  // install line takes it from (it installed the whole both-ends profile, this end's at its top).
  auto peer = shown;
  peer.evidence = YAML::Load("{outcome: promoted, plant: {port: 5201}, objective: \"duration: 3s\"}");
  ExportOptions o = opts();
  o.timer_writes_profile = true;
  const auto files = render_export(peer, "timer", o);
  REQUIRE(files.size() == 3);
  CHECK_THAT(files[1].content, Contains("install -D -m 0644 ../../../etc/wgopt/profile.yaml /etc/wgopt/profile.yaml"));
  CHECK(files[2].path == "etc/wgopt/profile.yaml");
  CHECK(act::parse_profile(files[2].content, "x").knobs == peer.knobs);
}

TEST_CASE("export CLI: writes the tree with modes, refuses to overwrite, --force and --json", "[export]") {
  TempDir tmp("tree");
  const std::string fixture = std::string(WGOPT_FIXTURES_DIR) + "/export/profile.yaml";
  const std::string out = (tmp.dir / "out").string();
  auto r = wgopt_cli({"export", fixture, "--format", "all", "--out", out, "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["files"].size() == 10);  // the eight of before, wgopt-tuning-wt0.service and boot-files.yaml
  CHECK(j["skipped"].empty());
  struct stat st {};
  REQUIRE(::stat((tmp.dir / "out/usr/local/sbin/wgopt-tuning.sh").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);
  REQUIRE(::stat((tmp.dir / "out/etc/sysctl.d/99-wgopt.conf").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);

  // A second export refuses before writing anything, naming the file and the fix.
  std::ofstream(tmp.dir / "out/etc/sysctl.d/99-wgopt.conf") << "mine\n";
  r = wgopt_cli({"export", fixture, "--format", "sysctl", "--out", out});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("99-wgopt.conf already exists: pass --force to overwrite"));
  CHECK(r.out.empty());
  // With --json the refusal is JSON on stdout too (found by an exploratory test: a script parsing
  // a failed command's --json got nothing).
  r = wgopt_cli({"export", fixture, "--format", "sysctl", "--out", out, "--json"});
  CHECK(r.exit_code == 2);
  const auto refused = nlohmann::json::parse(r.out);
  CHECK(refused["exit_code"] == 2);
  CHECK_THAT(refused["error"].get<std::string>(), Contains("99-wgopt.conf already exists: pass --force to overwrite"));
  CHECK_THAT(r.err, Contains("99-wgopt.conf already exists"));
  std::ifstream kept(tmp.dir / "out/etc/sysctl.d/99-wgopt.conf");
  std::string line;
  std::getline(kept, line);
  CHECK(line == "mine");
  // A dangling symlink at a target is a file there too: refused, the link left as it was.
  TempDir other("dangling");
  const std::string out2 = (other.dir / "out").string();
  std::filesystem::create_directories(other.dir / "out/etc/sysctl.d");
  std::filesystem::create_symlink(other.dir / "nowhere.conf", other.dir / "out/etc/sysctl.d/99-wgopt.conf");
  r = wgopt_cli({"export", fixture, "--format", "sysctl", "--out", out2});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("99-wgopt.conf already exists: pass --force to overwrite"));
  CHECK(std::filesystem::is_symlink(other.dir / "out/etc/sysctl.d/99-wgopt.conf"));
  CHECK_FALSE(std::filesystem::exists(other.dir / "nowhere.conf"));
  // --force of one format into an `--format all` tree whose file it would change: refused (the
  // tree's manifest and other files stay one profile's); --format all puts it back.
  r = wgopt_cli({"export", fixture, "--format", "sysctl", "--out", out, "--force"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("export --format all over it, or choose another --out"));
  r = wgopt_cli({"export", fixture, "--format", "all", "--out", out, "--force"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("wrote " + out + "/etc/sysctl.d/99-wgopt.conf"));
  r = wgopt_cli({"export", fixture, "--format", "sysctl", "--out", out, "--force"});  // the same file again
  CHECK(r.exit_code == 0);
  // --out onto a file: a usage error naming it, exit 2 (it was 1, "cannot create").
  r = wgopt_cli({"export", fixture, "--format", "sysctl", "--out", out + "/etc/sysctl.d/99-wgopt.conf", "--force"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("99-wgopt.conf is not a directory: give a directory"));

  // Without --out: printed with separators.
  r = wgopt_cli({"export", fixture, "--format", "netbird"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.starts_with("# --- etc/wgopt/netbird-mtu.env ---\n# Generated by `wgopt export` from profile " + fixture));
}

TEST_CASE("export CLI: --force over an earlier export removes the boot files the new profile no longer has", "[export]") {
  TempDir tmp("stale");
  const std::string fixture = std::string(WGOPT_FIXTURES_DIR) + "/export/profile.yaml";
  const std::string out = (tmp.dir / "out").string();
  REQUIRE(wgopt_cli({"export", fixture, "--format", "all", "--out", out}).exit_code == 0);
  REQUIRE(fs::exists(tmp.dir / "out/etc/systemd/network/10-wgopt-eth0.link"));
  REQUIRE(fs::exists(tmp.dir / "out/usr/local/sbin/wgopt-tuning.sh"));
  std::ofstream(tmp.dir / "out/etc/wgopt/mine.conf") << "not wgopt's\n";
  // The next winner holds sysctls only: the .link, the tuning script and units and NB_MTU of the
  // first would put its values back at the next boot (TuneD's profile holds sysctls: rewritten).
  const std::string next = (tmp.dir / "next.yaml").string();
  std::ofstream(next) << "knobs:\n  net.core.netdev_max_backlog: 5000\n";
  auto r = wgopt_cli({"export", next, "--format", "all", "--out", out, "--force", "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  std::set<std::string> removed;
  for (const auto& p : j["removed"]) removed.insert(fs::path(p.get<std::string>()).lexically_relative(out).string());
  CHECK(removed == std::set<std::string>{"etc/systemd/network/10-wgopt-eth0.link", "usr/local/sbin/wgopt-tuning.sh",
                                         "etc/systemd/system/wgopt-tuning.service", "etc/systemd/system/wgopt-tuning-wt0.service",
                                         "etc/wgopt/netbird-mtu.env"});
  for (const auto& p : removed) CHECK_FALSE(fs::exists(fs::path(out) / p));
  CHECK(fs::exists(tmp.dir / "out/etc/wgopt/mine.conf"));  // only what a manifest listed goes
  CHECK_THAT(read_file((tmp.dir / "out/etc/sysctl.d/99-wgopt.conf").string()).value_or(""), Contains("net.core.netdev_max_backlog = 5000"));
  const auto manifest = read_file((tmp.dir / "out/etc/wgopt/boot-files.yaml").string()).value_or("");
  CHECK_THAT(manifest, Contains("etc/sysctl.d/99-wgopt.conf"));
  CHECK_THAT(manifest, !Contains(".link"));

  // Text output names each removed file; a third export has nothing more to remove.
  r = wgopt_cli({"export", fixture, "--format", "all", "--out", out, "--force"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, !Contains("removed "));
  r = wgopt_cli({"export", next, "--format", "all", "--out", out, "--force"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("removed " + out + "/etc/systemd/network/10-wgopt-eth0.link (an earlier export's; this profile has "
                             "nothing for it)\n"));

  // One format over that tree (found by an exploratory test: the earlier profile's unit for wt0
  // stayed beside a script for wg0, and the manifest kept naming wt0): refused, nothing written.
  // The tree holds `next` now; the same format of the same profile again is fine.
  const std::string before = read_file((tmp.dir / "out/etc/sysctl.d/99-wgopt.conf").string()).value_or("");
  for (const char* format : {"systemd", "sysctl"}) {
    r = wgopt_cli({"export", fixture, "--format", format, "--out", out, "--force"});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("--out " + out + " holds an `--format all` export (" + out + "/etc/wgopt/boot-files.yaml lists its "
                               "files) of another profile or other options: --format " + format + " would change "));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK(read_file((tmp.dir / "out/etc/sysctl.d/99-wgopt.conf").string()).value_or("") == before);
  CHECK_FALSE(fs::exists(tmp.dir / "out/usr/local/sbin/wgopt-tuning.sh"));
  r = wgopt_cli({"export", next, "--format", "sysctl", "--out", out, "--force"});
  CHECK(r.exit_code == 0);
}

TEST_CASE("export CLI: a bad profile writes nothing and exits 2 with one line", "[export]") {
  TempDir tmp("bad");
  std::ofstream(tmp.dir / "p.yaml") << "knobs:\n  net.ipv4.tcp_rmem: \"1 2\"\n  wt0/mtu: 1420\n";
  auto r = wgopt_cli({"export", (tmp.dir / "p.yaml").string(), "--format", "all", "--out", (tmp.dir / "out").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("knob net.ipv4.tcp_rmem has value '1 2'"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(tmp.dir / "out"));
}

TEST_CASE("export CLI: a profile with two knobs: blocks is refused as apply refuses it", "[export]") {
  TempDir tmp("twice");
  const std::string p = (tmp.dir / "p.yaml").string();
  std::ofstream(p) << "knobs:\n  net.core.rmem_max: 212992\nknobs:\n  net.core.wmem_max: 212992\n";
  const std::string expected = "wgopt: error: profile " + p + ": 'knobs' is given twice: merge them into one\n";
  auto e = wgopt_cli({"export", p, "--format", "all", "--out", (tmp.dir / "out").string()});
  CHECK(e.exit_code == 2);
  CHECK(e.err == expected);
  CHECK_FALSE(fs::exists(tmp.dir / "out"));
  // apply reads the profile before it needs root or takes the lock: the same line, nothing changed
  // (the namespace does not exist either, so no version of apply could change this host).
  auto a = wgopt_cli({"apply", "--netns", "wga-none", p});
  CHECK(a.exit_code == 2);
  CHECK(a.err == expected);
}

TEST_CASE("export CLI: a file under --out that cannot be written leaves none of the others", "[export]") {
  TempDir tmp("partial");
  const std::string fixture = std::string(WGOPT_FIXTURES_DIR) + "/export/profile.yaml";
  const fs::path out = tmp.dir / "out";
  fs::create_directories(out);
  std::ofstream(out / "usr") << "a file where the script's directory would go\n";
  auto r = wgopt_cli({"export", fixture, "--format", "all", "--out", out.string()});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("cannot create " + (out / "usr/local").string() + ": Not a directory"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  std::vector<std::string> left;
  for (const auto& e : fs::recursive_directory_iterator(out)) left.push_back(e.path().lexically_relative(out).string());
  CHECK(left == std::vector<std::string>{"usr"});  // no etc/ tree, no temporaries
}

TEST_CASE("export CLI: --on-calendar is checked by systemd's own parser where the host has it", "[export]") {
  REQUIRE_FALSE(find_executable("systemd-analyze").empty());  // Debian's systemd package (scripts/install-deps.sh)
  TempDir tmp("calendar");
  const std::string fixture = std::string(WGOPT_FIXTURES_DIR) + "/export/profile.yaml";
  for (const std::string bad : {"garbage", "99:99", "*-*-* 25:99:00"}) {
    INFO(bad);
    auto r = wgopt_cli({"export", fixture, "--format", "timer", "--on-calendar", bad, "--out", (tmp.dir / "out").string()});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("--on-calendar '" + bad + "' is not a calendar systemd can parse"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(tmp.dir / "out"));
  }
  auto ok = wgopt_cli({"export", fixture, "--format", "timer", "--on-calendar", "Mon..Fri 02:00"});
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Contains("OnCalendar=Mon..Fri 02:00\n"));
}

TEST_CASE("apply: a profile made in a namespace, applied without --netns, is refused naming the flag", "[export]") {
  TempDir tmp("netns");
  const std::string p = (tmp.dir / "p.yaml").string();
  std::ofstream(p) << "host: {nproc: 999, kernel: 1.0.0, place: netns wgopt-cli}\nknobs:\n  wgopt-wc/mtu: 1380\n";
  auto a = wgopt_cli({"apply", "--dry-run", p});
  CHECK(a.exit_code == 2);
  CHECK(a.err == "wgopt: error: profile " + p + " was made in network namespace wgopt-cli and this is host: add --netns wgopt-cli "
                 "(nothing was changed; --force applies it here)\n");
  // The facts of the same machine match: the namespace is named all the same (it listed every
  // missing knob in one 952-character line), and a profile of sysctls is not applied to the host.
  std::ofstream(p) << "host: {place: netns wgopt-cli}\nknobs:\n  net.ipv4.tcp_wmem: 4096 16384 4194304\n";
  auto same = wgopt_cli({"apply", "--dry-run", p});
  CHECK(same.exit_code == 2);
  CHECK_THAT(same.err, Contains("add --netns wgopt-cli"));
}

// `wgopt export` rendering: byte-for-byte goldens per format from one profile that holds every
// knob kind (tests/fixtures/export/profile.yaml), then the semantics each format's reader depends
// on (sysctl.d syntax, unit keys, .link keys, TuneD sections, the env file, sh syntax) checked
// with the real tools where this VM has them (sh, shellcheck, systemd-analyze verify).
//
// Goldens: tests/fixtures/export/golden/FORMAT.txt. After an intended change, rewrite them with
//   WGOPT_UPDATE_GOLDEN=1 build/test_experiments '[export]'
// and review the diff in git.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "common/error.hpp"
#include "common/exec.hpp"
#include "common/util.hpp"
#include "experiments/export/export.hpp"
#include "tests/scratch_dir.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const std::string kFixture = std::string(WGOPT_FIXTURES_DIR) + "/export/profile.yaml";

act::Profile fixture() { return act::load_profile(kFixture); }

ExportOptions options() {
  ExportOptions o;
  o.profile_label = "profile.yaml";  // not the checkout's path: goldens must not depend on it
  return o;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// How the CLI prints files without --out, plus the mode.
std::string as_text(const std::vector<ExportFile>& files) {
  std::string out;
  for (const auto& f : files) {
    std::ostringstream mode;
    mode << std::oct << f.mode;
    out += "# --- " + f.path + " (mode 0" + mode.str() + ") ---\n" + f.content;
  }
  return out;
}

// A fresh directory per test case (unique: two runs at once never meet), removed afterwards.
struct TempDir : test::ScratchDir {
  explicit TempDir(const std::string& name) : ScratchDir("wgopt-export-" + name) {}
};

const ExportFile& file_named(const std::vector<ExportFile>& files, const std::string& suffix) {
  for (const auto& f : files) {
    if (f.path.ends_with(suffix)) return f;
  }
  FAIL("no exported file ends with " << suffix);
  throw std::logic_error("unreachable");
}

// INI-like files (units, .link, tuned.conf): section -> key -> values in order, comments skipped.
std::map<std::string, std::multimap<std::string, std::string>> sections(const std::string& text) {
  std::map<std::string, std::multimap<std::string, std::string>> out;
  std::string current;
  for (const auto& raw : split_lines(text)) {
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      current = line.substr(1, line.size() - 2);
      out[current];
      continue;
    }
    const auto eq = line.find('=');
    REQUIRE(eq != std::string::npos);
    REQUIRE_FALSE(current.empty());
    out[current].emplace(trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
  }
  return out;
}

std::string one(const std::multimap<std::string, std::string>& s, const std::string& key) {
  REQUIRE(s.count(key) == 1);
  return s.find(key)->second;
}

CommandResult run(const std::vector<std::string>& argv) {
  ProcessRunner r;
  return r.run({.argv = argv, .timeout = std::chrono::seconds(60)});
}

}  // namespace

TEST_CASE("export: every format matches its golden file byte for byte", "[export]") {
  const bool update = std::getenv("WGOPT_UPDATE_GOLDEN") && std::string(std::getenv("WGOPT_UPDATE_GOLDEN")) == "1";
  const auto profile = fixture();
  for (const auto& format : export_formats()) {
    SECTION(format) {
      const fs::path golden = fs::path(WGOPT_FIXTURES_DIR) / "export" / "golden" / (format + ".txt");
      const std::string actual = as_text(render_export(profile, format, options()));
      if (update) {
        std::ofstream(golden, std::ios::binary) << actual;
        WARN("rewrote " << golden.string());
      }
      const std::string expected = slurp(golden);
      if (actual != expected) {
        const fs::path got = fs::temp_directory_path() / ("wgopt-export-" + format + ".actual");
        std::ofstream(got, std::ios::binary) << actual;
        auto a = split_lines(actual), e = split_lines(expected);
        size_t i = 0;
        while (i < a.size() && i < e.size() && a[i] == e[i]) ++i;
        FAIL("export " << format << " differs from " << golden.string() << " at line " << i + 1 << ":\n  expected: "
                       << (i < e.size() ? e[i] : "<end>") << "\n  actual:   " << (i < a.size() ? a[i] : "<end>")
                       << "\nsee `diff -u " << golden.string() << " " << got.string()
                       << "`; if the change is intended: WGOPT_UPDATE_GOLDEN=1 test_experiments '[export]'");
      }
    }
  }
}

TEST_CASE("export: every file starts with where it came from and how to install it", "[export]") {
  for (const auto& f : render_export(fixture(), "all", options())) {
    INFO(f.path);
    const std::string body = f.path.ends_with(".sh") ? f.content.substr(f.content.find('\n') + 1) : f.content;
    CHECK(body.starts_with("# Generated by `wgopt export` from profile profile.yaml"));
    CHECK_THAT(body, Contains("Study /var/lib/wgopt/studies/study-20261126-121608.sqlite, outcome promoted, created 2026-11-26T12:16:59Z."));
    CHECK_THAT(body, Contains("Score: baseline 249.1 -> winner 452.5 (+81.6%, p=0.0031)."));
    CHECK_THAT(body, Contains("\n# Install: "));
  }
}

TEST_CASE("export: a kept baseline's header gives its own throughput, never its candidate's as the profile's", "[export]") {
  auto profile = fixture();
  profile.evidence = YAML::Load(
      "{outcome: kept-baseline, baseline: {score: 397.8, throughput_mbps: 506.0}, "
      "candidate: {score: 420.4, throughput_mbps: 438.3, trial: 19}, gain: {score: 22.6, relative: 0.057}}");
  // And a profile of wgopt before 2026-12-06, which put the candidate's throughput under winner.
  auto older = fixture();
  older.evidence = YAML::Load("{outcome: kept-baseline, baseline: {score: 324.4, throughput_mbps: 506.0}, "
                              "winner: {throughput_mbps: 438.3}}");
  for (const auto* p : {&profile, &older}) {
    const std::string body = render_export(*p, "sysctl", options()).at(0).content;
    CHECK_THAT(body, Contains("no winner was confirmed, these are the host's own values."));
    CHECK_THAT(body, Contains("# Throughput: 506 Mbit/s.\n"));
    CHECK_THAT(body, !Contains("438"));
  }
}

TEST_CASE("export sysctl: sysctl.d(5) lines hold exactly the profile's sysctls; the rest is named", "[export]") {
  const auto profile = fixture();
  const auto files = render_export(profile, "sysctl", options());
  REQUIRE(files.size() == 1);
  CHECK(files[0].path == "etc/sysctl.d/99-wgopt.conf");
  std::map<std::string, std::string> written;
  const std::regex assignment(R"(([a-z0-9_.]+) = (\S.*))");
  std::string comments;
  for (const auto& line : split_lines(files[0].content)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      comments += line + "\n";
      continue;
    }
    std::smatch m;
    REQUIRE(std::regex_match(line, m, assignment));
    written[m[1]] = m[2];
  }
  for (const auto& [id, value] : profile.knobs) {
    INFO(id);
    if (id.find('/') == std::string::npos && id != "irqbalance") CHECK(written.at(id) == value);
    else CHECK_THAT(comments, Contains("#   " + id + " = "));
  }
  CHECK_THAT(comments, Contains("use --format systemd"));
}

TEST_CASE("export systemd: the oneshot unit runs the script; systemd-analyze verify accepts it", "[export]") {
  const auto files = render_export(fixture(), "systemd", options());
  const ExportFile& unit = file_named(files, "wgopt-tuning.service");
  const ExportFile& script = file_named(files, "wgopt-tuning.sh");
  CHECK(unit.path == "etc/systemd/system/wgopt-tuning.service");
  CHECK(script.mode == 0755);
  auto s = sections(unit.content);
  CHECK(one(s["Unit"], "After") == "network-online.target netbird.service irqbalance.service");
  CHECK(one(s["Unit"], "Wants") == "network-online.target");
  CHECK(one(s["Service"], "Type") == "oneshot");
  CHECK(one(s["Service"], "RemainAfterExit") == "yes");
  CHECK(one(s["Service"], "ExecStart") == "/" + script.path);
  CHECK(one(s["Install"], "WantedBy") == "multi-user.target");

  if (find_executable("systemd-analyze").empty()) {
    WARN("systemd-analyze not installed: unit keys checked only");
    return;
  }
  // verify needs ExecStart to be an executable: point it at the exported script in a temp dir.
  TempDir tmp("verify-unit");
  std::ofstream(tmp.dir / "wgopt-tuning.sh") << script.content;
  fs::permissions(tmp.dir / "wgopt-tuning.sh", fs::perms(script.mode));
  std::string content = unit.content;
  content.replace(content.find("ExecStart=/" + script.path), 11 + script.path.size(),
                  "ExecStart=" + (tmp.dir / "wgopt-tuning.sh").string());
  std::ofstream(tmp.dir / "wgopt-tuning.service") << content;
  auto r = run({"systemd-analyze", "verify", (tmp.dir / "wgopt-tuning.service").string()});
  INFO(r.out << r.err);
  CHECK(r.ok());
}

TEST_CASE("export systemd: the script is valid sh, quotes every value and checks interfaces first", "[export]") {
  const auto files = render_export(fixture(), "systemd", options());  // alive while `script` refers into it
  const ExportFile& script = file_named(files, "wgopt-tuning.sh");
  const std::string& sh = script.content;
  CHECK(sh.starts_with("#!/bin/sh\n"));
  CHECK_THAT(sh, Contains("\nset -eu\n"));
  // Interfaces are checked (waited for, bounded) before the first step.
  CHECK_THAT(sh, Contains("\ndevices=' eth0 wt0'\n"));
  const auto check = sh.find("for dev in $devices; do");
  REQUIRE(check != std::string::npos);
  CHECK(check < sh.find("run systemctl stop irqbalance"));
  // The transaction's order: channels before RPS before IRQs, qdisc, MTU last.
  CHECK(sh.find("ethtool_count 'eth0' -l Combined combined '4'") < sh.find("set_rx_queues 'eth0' rps_cpus 'f'"));
  CHECK(sh.find("set_rx_queues 'eth0' rps_cpus 'f'") < sh.find("place_irqs 'eth0' 'spread' '4'"));
  CHECK(sh.find("set_qdisc 'wt0' 'tbf' 'rate' '100gbit' 'burst' '1mb' 'latency' '10ms'") < sh.find("run ip link set dev 'wt0' mtu '1420'"));
  CHECK_THAT(sh, Contains("set_offload 'eth0' 'rx-udp-gro-forwarding' 'rx-udp-gro-forwarding' 'on'"));
  CHECK_THAT(sh, Contains("run ethtool -N 'eth0' rx-flow-hash udp4 'sdfn'"));
  CHECK_THAT(sh, Contains("run ethtool -X 'eth0' equal '4'"));
  // Sysctls are not written by the script, but named.
  CHECK_THAT(sh, Contains("#   net.ipv4.tcp_rmem = 4096 131072 16777216"));
  CHECK(sh.find("tcp_rmem'") == std::string::npos);

  TempDir tmp("script-syntax");
  std::ofstream(tmp.dir / "s.sh") << sh;
  auto r = run({"sh", "-n", (tmp.dir / "s.sh").string()});
  INFO(r.err);
  CHECK(r.ok());
  if (!find_executable("shellcheck").empty()) {
    auto c = run({"shellcheck", "-s", "sh", (tmp.dir / "s.sh").string()});
    INFO(c.out);
    CHECK(c.ok());
  }
}

TEST_CASE("export networkd: a .link for the underlay with systemd 252 keys, sorting before 99-default", "[export]") {
  const auto files = render_export(fixture(), "networkd", options());
  REQUIRE(files.size() == 1);
  CHECK(files[0].path == "etc/systemd/network/10-wgopt-eth0.link");
  CHECK(fs::path(files[0].path).filename().string() < "99-default.link");
  auto s = sections(files[0].content);
  CHECK(s.size() == 2);
  CHECK(one(s["Match"], "OriginalName") == "eth0");
  const std::set<std::string> known = {"NamePolicy", "AlternativeNamesPolicy", "MACAddressPolicy", "MTUBytes",
                                       "TransmitQueueLength", "RxBufferSize", "TxBufferSize", "CombinedChannels",
                                       "RxChannels", "TxChannels", "GenericReceiveOffload", "GenericSegmentationOffload",
                                       "TCPSegmentationOffload", "TCP6SegmentationOffload"};
  for (const auto& [key, value] : s["Link"]) CHECK(known.count(key) == 1);
  CHECK(one(s["Link"], "MTUBytes") == "1500");
  CHECK(one(s["Link"], "CombinedChannels") == "4");
  CHECK(one(s["Link"], "RxBufferSize") == "4096");
  CHECK(one(s["Link"], "GenericReceiveOffload") == "true");
  CHECK(one(s["Link"], "TransmitQueueLength") == "10000");
  // The tunnel's knobs and what .link cannot hold are named, not dropped.
  CHECK_THAT(files[0].content, Contains("#   wt0/mtu = 1420"));
  CHECK_THAT(files[0].content, Contains("#   eth0/offload/rx-udp-gro-forwarding = on"));
  CHECK_THAT(files[0].content, Contains("#   eth0/rps_cpus = f"));
}

TEST_CASE("export tuned: [main] includes network-throughput, [sysctl] and one net instance per interface", "[export]") {
  const auto files = render_export(fixture(), "tuned", options());
  REQUIRE(files.size() == 1);
  CHECK(files[0].path == "etc/tuned/profiles/wgopt/tuned.conf");  // TuneD 2.24 (the default --tuned-version)
  auto s = sections(files[0].content);
  CHECK(one(s["main"], "include") == "network-throughput");
  CHECK(one(s["sysctl"], "net.ipv4.tcp_rmem") == "\"4096 131072 16777216\"");
  CHECK(one(s["sysctl"], "net.ipv4.tcp_congestion_control") == "bbr");
  CHECK(one(s["net"], "devices") == "eth0");
  CHECK(one(s["net"], "channels") == "combined 4");
  CHECK(one(s["net"], "ring") == "rx 4096 tx 4096");
  CHECK(one(s["net"], "features") == "gro on gso on tso on rx-udp-gro-forwarding on");
  CHECK(one(s["net_wt0"], "type") == "net");
  CHECK(one(s["net_wt0"], "devices") == "wt0");
  CHECK(one(s["net_wt0"], "mtu") == "1420");
  CHECK_THAT(files[0].content, Contains("#   eth0/irq_affinity = spread"));
}

TEST_CASE("export netbird: NB_MTU of the tunnel interface, readable by sh, with the exact command", "[export]") {
  const auto files = render_export(fixture(), "netbird", options());
  REQUIRE(files.size() == 1);
  CHECK_THAT(files[0].content, Contains("#   netbird down && netbird up --mtu 1420\n"));
  CHECK_THAT(files[0].content, Contains("\"MTU\": 1420"));
  TempDir tmp("netbird");
  std::ofstream(tmp.dir / "nb.env") << files[0].content;
  auto r = run({"sh", "-c", "set -a; . \"$1\"; echo \"$NB_MTU\"", "sh", (tmp.dir / "nb.env").string()});
  CHECK(r.ok());
  CHECK(trim(r.out) == "1420");
}

TEST_CASE("export timer: nightly retune that counts 10 and 11 as success; systemd-analyze verify accepts it", "[export]") {
  const auto files = render_export(fixture(), "timer", options());
  REQUIRE(files.size() == 2);
  const ExportFile& service = file_named(files, "wgopt-retune.service");
  const ExportFile& timer = file_named(files, "wgopt-retune.timer");
  auto s = sections(service.content);
  CHECK(one(s["Service"], "ExecStart") ==
        "/usr/local/bin/wgopt retune --profile /etc/wgopt/profile.yaml --budget 20m "
        "--metrics /var/lib/prometheus/node-exporter/wgopt.prom --quiet");
  CHECK(one(s["Service"], "SuccessExitStatus") == "10 11");
  CHECK(one(s["Unit"], "After") == "network-online.target netbird.service");
  auto t = sections(timer.content);
  CHECK(one(t["Timer"], "OnCalendar") == "*-*-* 03:30:00");
  CHECK(one(t["Timer"], "Persistent") == "true");
  CHECK(one(t["Timer"], "RandomizedDelaySec") == "30min");
  CHECK(one(t["Install"], "WantedBy") == "timers.target");

  ExportOptions o = options();
  o.profile_path = "/srv/wgopt/p.yaml";
  o.budget = "45m";
  CHECK_THAT(render_export(fixture(), "timer", o)[0].content, Contains("--profile /srv/wgopt/p.yaml --budget 45m "));
  o.profile_path = "/etc/wgopt/%h.yaml";
  CHECK_THROWS_WITH(render_export(fixture(), "timer", o), Contains("--profile-path '/etc/wgopt/%h.yaml' is not usable"));

  if (find_executable("systemd-analyze").empty()) {
    WARN("systemd-analyze not installed: unit keys checked only");
    return;
  }
  TempDir tmp("verify-timer");
  ExportOptions real = options();
  real.wgopt_path = WGOPT_BINARY;  // verify wants an executable ExecStart
  for (const auto& f : render_export(fixture(), "timer", real)) {
    std::ofstream(tmp.dir / fs::path(f.path).filename()) << f.content;
  }
  auto r = run({"systemd-analyze", "verify", (tmp.dir / "wgopt-retune.timer").string(), (tmp.dir / "wgopt-retune.service").string()});
  INFO(r.out << r.err);
  CHECK(r.ok());
}

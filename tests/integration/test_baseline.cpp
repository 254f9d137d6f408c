// `wgopt baseline --testbed` end to end (root): a real testbed (prefix "wgt2"), two short
// scenarios through the CLI, the JSON file it writes, and nothing left after the testbed goes down.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/exec.hpp"
#include "experiments/measure/baseline.hpp"
#include "experiments/testbed/testbed.hpp"
#include "test_testbed_checks.hpp"

using namespace wgopt;
using nlohmann::json;

namespace {
const std::string kPrefix = "wgt2";

json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

const json* find_iface(const json& ifaces, const std::string& label) {
  for (const auto& i : ifaces) {
    if (i["interface"] == label) return &i;
  }
  return nullptr;
}
}  // namespace

TEST_CASE("baseline --testbed measures two scenarios and writes everything to JSON", "[baseline][root]") {
  Testbed tb(kPrefix);
  tb.down();  // an interrupted earlier run
  REQUIRE(testcheck::testbed_leftovers(kPrefix).empty());
  const std::string out_file = "/tmp/wgopt-test-baseline-" + std::to_string(::getpid()) + ".json";

  ProcessRunner runner;
  auto r = runner.run({.argv = {WGOPT_BINARY, "baseline", "--testbed", "--prefix", kPrefix, "--duration", "3",
                                "--scenarios", "tcp,udp", "--json", out_file},
                       .timeout = std::chrono::seconds(120)});
  INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
  CHECK(r.exit_code == 0);
  // The testbed was not up: the command says it brought it up, and shows progress on stderr.
  CHECK(r.err.find("testbed wgt2 was not up: brought it up") != std::string::npos);
  CHECK(r.err.find("[1/2] tcp") != std::string::npos);
  CHECK(r.err.find("[2/2] udp") != std::string::npos);
  // The §7.1 table on stdout: header, rule, one row per scenario.
  auto lines = split_lines(r.out);
  REQUIRE(lines.size() >= 4);
  CHECK(lines[0].find("Scenario") == 0);
  CHECK(lines[0].find("Throughput") != std::string::npos);
  CHECK(lines[0].find("softnet drops/3s") != std::string::npos);
  CHECK(lines[2].rfind("tcp ", 0) == 0);
  CHECK(lines[2].find("Mbit/s") != std::string::npos);
  CHECK(lines[2].find("retr") != std::string::npos);
  CHECK(lines[3].rfind("udp ", 0) == 0);
  CHECK(lines[3].find("% loss") != std::string::npos);

  json j = read_json(out_file);
  ::unlink(out_file.c_str());
  CHECK(j["duration_s"] == 3);
  CHECK(j["target"]["client"] == "wgt2-cli");
  CHECK(j["target"]["server"] == "100.64.0.1");
  CHECK(j["host"]["nproc"].get<int>() >= 1);
  CHECK(j["facts"]["wireguard"]["wgt2-wc"] == "userspace");
  REQUIRE(j["scenarios"].size() == 2);

  for (const auto& sc : j["scenarios"]) {
    INFO("scenario " << sc["scenario"]);
    const auto& ip = sc["iperf3"];
    REQUIRE(ip["status"] == "ok");
    const auto& sum = ip["summary"];
    const double bps = sum["received_bps"].get<double>();
    CHECK(bps > 1e6);  // at least 1 Mbit/s through the tunnel
    CHECK(ip["intervals"].size() >= 2);

    const auto& pr = sc["probes"]["summary"];
    // About one sample per second of load; never more than the run could hold.
    CHECK(pr["samples"].get<int>() >= 2);
    CHECK(pr["samples"].get<int>() <= 10);
    CHECK(sc["probes"]["seconds"].size() == pr["samples"].get<size_t>());
    for (const auto& core : pr["cores"]) {
      const double total = core["usr"].get<double>() + core["sys"].get<double>() + core["soft"].get<double>() +
                           core["irq"].get<double>() + core["iowait"].get<double>() + core["steal"].get<double>() +
                           core["idle"].get<double>();
      CHECK(total == Approx(100).margin(0.5));
    }
    CHECK(pr["top_soft"]["pct"].get<double>() >= 0);
    CHECK(pr["top_soft"]["pct"].get<double>() <= 100);
    // Packets were handled in softirq context while the load ran.
    CHECK(pr["softnet"]["processed"].get<double>() > 0);

    // The client's WireGuard interface carried what iperf3 says the receiver got: its byte counter
    // over the sampling window is at least most of iperf3's (the window covers the whole test).
    const json* wc = find_iface(pr["interfaces"], "wgt2-cli/wgt2-wc");
    REQUIRE(wc != nullptr);
    const double wc_tx = (*wc)["delta"]["tx_bytes"].get<double>();
    CHECK(wc_tx >= 0.8 * sum["received_bytes"].get<double>());
    // Encapsulated, the same traffic crossed the underlay: more bytes there than inside the tunnel.
    const json* uc = find_iface(pr["interfaces"], "wgt2-cli/wgt2-uc");
    REQUIRE(uc != nullptr);
    CHECK((*uc)["delta"]["tx_bytes"].get<double>() > wc_tx);
  }
  const auto& tcp = j["scenarios"][0];
  CHECK(tcp["scenario"] == "tcp");
  CHECK(tcp["iperf3"]["summary"]["retransmits"].is_number());
  CHECK(tcp["iperf3"]["parallel"] == 8);
  const auto& udp = j["scenarios"][1];
  CHECK(udp["scenario"] == "udp");
  CHECK(udp["iperf3"]["summary"]["loss_percent"].is_number());

  DownResult down = tb.down();
  CHECK_FALSE(down.removed.empty());
  auto left = testcheck::testbed_leftovers(kPrefix);
  INFO("left: " << (left.empty() ? "" : left.front()));
  CHECK(left.empty());
}

TEST_CASE("baseline and diagnose reject a missing or doubled target before touching anything", "[baseline]") {
  ProcessRunner runner;
  auto none = runner.run({.argv = {WGOPT_BINARY, "baseline", "--duration", "1"}});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("--testbed") != std::string::npos);
  auto both = runner.run({.argv = {WGOPT_BINARY, "diagnose", "--testbed", "--peer", "100.64.0.1"}});
  CHECK(both.exit_code == 2);
  auto bad_peer = runner.run({.argv = {WGOPT_BINARY, "diagnose", "--peer", "100.64.0.1;reboot"}});
  CHECK(bad_peer.exit_code == 2);
  CHECK(bad_peer.err.find("is not an IP address") != std::string::npos);
  auto bad_scn = runner.run({.argv = {WGOPT_BINARY, "baseline", "--testbed", "--scenarios", "tcp,bogus"}});
  CHECK(bad_scn.exit_code == 2);
  CHECK(bad_scn.err.find("bogus") != std::string::npos);
  auto bad_dur = runner.run({.argv = {WGOPT_BINARY, "baseline", "--testbed", "--duration", "0.2s"}});
  CHECK(bad_dur.exit_code == 2);
  // Checked with the others, before the testbed comes up (it came up, then --parallel was refused).
  const bool testbed_was_up = std::filesystem::exists("/run/netns/wgopt-cli");
  auto bad_par = runner.run({.argv = {WGOPT_BINARY, "baseline", "--testbed", "--parallel", "999"}});
  CHECK(bad_par.exit_code == 2);
  CHECK(bad_par.err == "wgopt: error: --parallel 999 is out of range: use 1-128 (0 = the scenario's own)\n");
  const std::string dir = std::filesystem::temp_directory_path();
  auto json_dir = runner.run({.argv = {WGOPT_BINARY, "baseline", "--testbed", "--json", dir}});
  CHECK(json_dir.exit_code == 2);
  CHECK(json_dir.err.find("--json " + dir + " is a directory: give a file name in it") != std::string::npos);
  CHECK(std::filesystem::exists("/run/netns/wgopt-cli") == testbed_was_up);
}

TEST_CASE("facts refuses a namespace or an interface that does not exist, as the gates would read the wrong place", "[baseline]") {
  ProcessRunner runner;
  auto ns = runner.run({.argv = {WGOPT_BINARY, "facts", "--netns", "wgopt-no-such-ns"}});
  CHECK(ns.exit_code == 2);
  CHECK(ns.err.find("network namespace 'wgopt-no-such-ns' does not exist") != std::string::npos);
  auto dev = runner.run({.argv = {WGOPT_BINARY, "facts", "--underlay", "nosuch0", "--json"}});
  CHECK(dev.exit_code == 2);
  CHECK(dev.err == "wgopt: error: interface 'nosuch0' does not exist in host: `ip link` lists those there are\n");
  // --json: the refusal as JSON on stdout too (82f39f4).
  CHECK(nlohmann::json::parse(dev.out)["exit_code"] == 2);
  CHECK(nlohmann::json::parse(dev.out)["error"] == "interface 'nosuch0' does not exist in host: `ip link` lists those there are");
  auto lo = runner.run({.argv = {WGOPT_BINARY, "facts", "--underlay", "lo"}});
  CHECK(lo.exit_code == 0);
}

TEST_CASE("diagnose --testbed names findings with evidence and knobs, as JSON", "[baseline][root]") {
  TestbedGuard guard("wgt2");
  ProcessRunner runner;
  auto r = runner.run({.argv = {WGOPT_BINARY, "diagnose", "--testbed", "--prefix", kPrefix, "--duration", "2", "--json"},
                       .timeout = std::chrono::seconds(90)});
  INFO("stderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["run"]["iperf3"]["status"] == "ok");
  // The testbed runs wireguard-go: the userspace rule must fire, naming the interface.
  bool userspace = false;
  for (const auto& f : j["findings"]) {
    CHECK_FALSE(f["title"].get<std::string>().empty());
    CHECK_FALSE(f["evidence"].get<std::string>().empty());
    CHECK_FALSE(f["fix"].get<std::string>().empty());
    if (f["id"].get<std::string>().find("userspace") != std::string::npos) userspace = true;
  }
  CHECK(userspace);
}

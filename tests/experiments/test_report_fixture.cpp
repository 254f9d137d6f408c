// `wgopt report` on a real study (tests/fixtures/report/study-wgt7.sqlite, see its README): the
// report agrees with what `wgopt search` itself printed at the end of that run, and reading the
// study leaves the file byte-for-byte unchanged.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/exec.hpp"
#include "experiments/report/report_data.hpp"
#include "experiments/report/report_render.hpp"

using namespace wgopt::experiments;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// Removes the directory when the test case ends, passed or failed.
struct RemoveOnExit {
  std::filesystem::path dir;
  ~RemoveOnExit() { std::filesystem::remove_all(dir); }
};

const std::string kFixture = std::string(WGOPT_FIXTURES_DIR) + "/report/study-wgt7.sqlite";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const ComparisonRow* row(const ReportData& d, const std::string& config) {
  for (const auto& r : d.table_rows) {
    if (r.config == config) return &r;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the report of a real study matches what the search printed, and leaves the file unchanged", "[report]") {
  const fs::path dir = fs::temp_directory_path() / ("wgopt-report-fixture-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  RemoveOnExit cleanup{dir};
  const std::string path = (dir / "study.sqlite").string();
  fs::copy_file(kFixture, path);
  const std::string before = slurp(path);

  ReportData d = load_report(path);
  CHECK(slurp(path) == before);

  CHECK_FALSE(d.running);
  REQUIRE(d.result);
  CHECK(d.result->outcome == SearchOutcome::Promoted);
  CHECK(d.winner_trial == 2);
  CHECK(d.info.strategy == "bo");
  CHECK(d.window_label == "3s");
  CHECK(trial_count_text(d) == "6 trials: 6 complete");
  CHECK(d.gain["p_value"].get<double>() == Approx(0.0378).epsilon(0.01));

  // The search printed "net.ipv4.tcp_congestion_control: bbr -> reno", "wgt7-wc/mtu: 1420 -> 1404",
  // "wgt7-wc/txqueuelen: 500 -> 7317".
  REQUIRE(d.moved.size() == 3);
  CHECK((d.moved[0].id == "net.ipv4.tcp_congestion_control" && d.moved[0].from == "bbr" && d.moved[0].to == "reno"));
  CHECK((d.moved[1].id == "wgt7-wc/mtu" && d.moved[1].from == "1420" && d.moved[1].to == "1404"));
  CHECK((d.moved[2].id == "wgt7-wc/txqueuelen" && d.moved[2].from == "500" && d.moved[2].to == "7317"));

  // The search's own §7.1 table came from the confirmation rounds:
  //   baseline          352.0 Mbit/s       8% (cpu1)                 0            66
  //   winner (trial 2)  320.7 Mbit/s       3% (cpu1)                 0             0
  const ComparisonRow* base = row(d, "confirm: baseline (4 rounds)");
  const ComparisonRow* win = row(d, "confirm: trial 2 (4 rounds)");
  REQUIRE(base);
  REQUIRE(win);
  CHECK(base->throughput_mbps == Approx(351.967).epsilon(1e-4));
  CHECK(std::lround(*base->top_core_soft_pct) == 8);
  CHECK(base->top_core == 1);
  CHECK(std::lround(*base->softnet_drops) == 0);
  CHECK(std::lround(*base->nic_drops) == 66);
  CHECK(win->throughput_mbps == Approx(320.675).epsilon(1e-4));
  CHECK(std::lround(*win->top_core_soft_pct) == 3);
  CHECK(std::lround(*win->nic_drops) == 0);
  CHECK(d.table_rows.front().config == "baseline (3 rounds)");

  // Per-core load on both sides, from the records' probes (2 CPUs on this VM).
  CHECK(d.cores_before.size() == 2);
  CHECK(d.cores_after.size() == 2);
  CHECK(d.cores_before_source == "baseline (3 rounds)");
  CHECK(d.cores_after_source == "trial 2 confirmation (4 rounds)");

  const std::string text = render_report_text(d);
  CHECK_THAT(text, Contains("p = 0.0378 (paired t)"));
  CHECK_THAT(text, Contains("confirm: baseline (4 rounds)  352.0 Mbit/s"));
}

TEST_CASE("wgopt report prints text, Markdown or JSON and writes HTML only where asked", "[report]") {
  const fs::path dir = fs::temp_directory_path() / ("wgopt-report-cli-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  RemoveOnExit cleanup{dir};
  const std::string path = (dir / "study.sqlite").string();
  fs::copy_file(kFixture, path);
  wgopt::ProcessRunner runner;
  auto wgopt_run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {WGOPT_BINARY, "report", path});
    return runner.run({.argv = args, .timeout = std::chrono::seconds(60)});
  };

  auto text = wgopt_run({});
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Contains("Comparison (field guide §7.1; drops per 3s measurement)"));
  CHECK_THAT(text.out, Contains("outcome:        promoted"));

  auto md = wgopt_run({"--md"});
  REQUIRE(md.exit_code == 0);
  CHECK(md.out.rfind("# wgopt report\n", 0) == 0);
  CHECK_THAT(md.out, Contains("| confirm: trial 2 (4 rounds) | 320.7 Mbit/s | 3% (cpu1) | 0 | 0 |"));

  auto js = wgopt_run({"--json"});
  REQUIRE(js.exit_code == 0);
  auto j = nlohmann::json::parse(js.out);
  CHECK(j["trials"].size() == 6);
  CHECK(j["winner"]["trial"] == 2);
  CHECK(j["moved"].size() == 3);
  CHECK(j["table"].size() == 5);  // baseline, trials 1 and 2 (new bests), the two confirmation arms

  // --html writes the page and prints nothing on stdout; a directory that does not exist is a usage error.
  const fs::path html = dir / "r.html";
  auto h = wgopt_run({"--html", html.string()});
  REQUIRE(h.exit_code == 0);
  CHECK(h.out.empty());
  CHECK(fs::file_size(html) > 10000);
  auto bad = wgopt_run({"--html", (dir / "missing" / "r.html").string()});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("cannot write the HTML report"));
  CHECK_FALSE(fs::exists(dir / "missing"));
  auto both = wgopt_run({"--md", "--json"});
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.err, Contains("pick one"));
}

// The HTML report renders in a real browser: `wgopt report --html` on the real study fixture, opened
// in headless Chromium (Debian's `chromium`), gives a full-size screenshot that is far from blank,
// and the DOM Chromium built holds the table, the four plots and the trial count. No network: the
// page is a local file with no external resources. Chromium runs as root here, so --no-sandbox.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/exec.hpp"

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

// Removes the directory when the test case ends, passed or failed.
struct RemoveOnExit {
  std::filesystem::path dir;
  ~RemoveOnExit() { std::filesystem::remove_all(dir); }
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::uint32_t be32(const std::string& s, size_t at) {
  std::uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

struct Png {
  bool valid = false;
  std::uint32_t width = 0, height = 0;
  size_t bytes = 0;
};

// Signature, then the IHDR chunk first (length 13): width and height big-endian.
Png read_png(const fs::path& path) {
  Png p;
  const std::string s = slurp(path);
  p.bytes = s.size();
  if (s.size() < 24 || s.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || s.compare(12, 4, "IHDR") != 0) return p;
  p.valid = true;
  p.width = be32(s, 16);
  p.height = be32(s, 20);
  return p;
}

struct Chromium {
  std::string exe;
  fs::path dir;  // HOME and the profile live here, so nothing of the user's is touched

  wgopt::CommandResult run(std::vector<std::string> args) const {
    std::vector<std::string> argv{"env", "HOME=" + dir.string(), exe, "--headless", "--no-sandbox", "--disable-gpu",
                                  "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
                                  "--user-data-dir=" + (dir / "profile").string(), "--window-size=1280,2400"};
    argv.insert(argv.end(), args.begin(), args.end());
    wgopt::ProcessRunner runner;
    return runner.run({.argv = argv, .timeout = std::chrono::seconds(120)});
  }
};

}  // namespace

TEST_CASE("the HTML report renders in headless Chromium", "[report][chromium]") {
  const std::string exe = wgopt::find_executable("chromium");
  if (exe.empty()) FAIL("chromium is not installed: run scripts/install-deps.sh (it installs Debian's chromium)");

  const fs::path dir = fs::temp_directory_path() / ("wgopt-report-chromium-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  RemoveOnExit cleanup{dir};
  const fs::path study = dir / "study.sqlite", html = dir / "report.html", blank = dir / "blank.html";
  fs::copy_file(std::string(WGOPT_FIXTURES_DIR) + "/report/study-wgt7.sqlite", study);
  std::ofstream(blank) << "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body></body></html>\n";

  wgopt::ProcessRunner runner;
  auto made = runner.run({.argv = {WGOPT_BINARY, "report", study.string(), "--html", html.string()},
                          .timeout = std::chrono::seconds(60)});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  REQUIRE(fs::exists(html));

  Chromium chromium{exe, dir};
  auto shot = chromium.run({"--screenshot=" + (dir / "report.png").string(), "file://" + html.string()});
  INFO(shot.brief() << "\n" << shot.err);
  REQUIRE(shot.ok());
  auto blank_shot = chromium.run({"--screenshot=" + (dir / "blank.png").string(), "file://" + blank.string()});
  REQUIRE(blank_shot.ok());
  auto dom = chromium.run({"--dump-dom", "file://" + html.string()});
  REQUIRE(dom.ok());
  std::printf("chromium: screenshot %.1f s, blank page %.1f s, dump-dom %.1f s\n", shot.seconds, blank_shot.seconds,
              dom.seconds);

  const Png png = read_png(dir / "report.png");
  const Png empty = read_png(dir / "blank.png");
  REQUIRE(png.valid);
  REQUIRE(empty.valid);
  CHECK(png.width == 1280);
  CHECK(png.height == 2400);
  // A white page compresses to almost nothing; text, tables and plots do not.
  CHECK(png.bytes > 5 * empty.bytes);

  const std::string& d = dom.out;
  CHECK_THAT(d, Contains("<table id=\"comparison-table\""));
  CHECK_THAT(d, Contains("<td>confirm: trial 2 (4 rounds)</td>"));
  CHECK_THAT(d, Contains("<table id=\"moved-knobs\""));
  CHECK_THAT(d, Contains("<table id=\"trial-list\""));
  for (const char* id : {"convergence-trials", "convergence-minutes", "knob-effect", "core-load"}) {
    CHECK_THAT(d, Contains(std::string("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"") + id + "\""));
  }
  CHECK_THAT(d, Contains("<p id=\"trial-count\">6 trials: 6 complete</p>"));
  CHECK_THAT(d, Contains("p = 0.0378 (paired t)"));
}

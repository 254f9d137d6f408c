#include <catch2/catch.hpp>

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "common/log.hpp"
#include "experiments/search/progress.hpp"
#include "experiments/search/search_progress.hpp"

using namespace wgopt::experiments;
using namespace std::chrono_literals;

namespace {

ProgressState trial7() {
  ProgressState s;
  s.step = 7;
  s.steps = 50;
  s.elapsed = 190s;
  s.budget = 300s;
  s.eta = 100s;
  s.best_score = 1843.2;
  s.baseline_score = 1640;
  s.knobs = {{"mtu", "1420"}, {"rps", "3"}, {"gro", "on"}};
  return s;
}

}  // namespace

TEST_CASE("the progress line shows trial, time, the best estimate and gain, and the candidate's knobs") {
  CHECK(render_progress(trial7()) ==
        "trial 7/50 | 3m 10s / 5m 00s, ETA 1m 40s | best est. 1843.2 (+12.4% vs baseline) | candidate mtu=1420 rps=3 gro=on");
  ProgressState early;
  early.phase = "baseline";
  early.step = 1;
  early.elapsed = 4s;
  CHECK(render_progress(early) == "baseline 1 | 4.0s | best est. -");
}

TEST_CASE("the line is cut to the terminal width") {
  std::string line = render_progress(trial7(), 40);
  CHECK(line.size() == 40);
  CHECK(line.substr(37) == "...");
}

TEST_CASE("on a terminal one line is rewritten in place; messages go above it") {
  std::ostringstream out;
  {
    ProgressPrinter p(out, ProgressPrinter::Mode::Terminal, 200);
    auto s = trial7();
    p.update(s);
    s.elapsed = 191s;
    p.update(s);
    p.message("trial 7 pruned");
  }
  std::string expect1 = render_progress(trial7());
  auto s2 = trial7();
  s2.elapsed = 191s;
  std::string expect2 = render_progress(s2);
  CHECK(out.str() == "\r" + expect1 + "\x1b[K" + "\r" + expect2 + "\x1b[K" + "\r\x1b[Ktrial 7 pruned\n" + expect2 +
                         "\x1b[K" + "\n");
}

TEST_CASE("without a terminal only changes are printed, one plain line each; quiet prints nothing") {
  std::ostringstream out;
  ProgressPrinter p(out, ProgressPrinter::Mode::Lines);
  auto s = trial7();
  p.update(s);
  s.elapsed += 1s;  // a clock tick alone is not news
  p.update(s);
  s.step = 8;
  p.update(s);
  p.message("done");
  p.finish();
  std::string text = out.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 3);
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find("trial 8/50") != std::string::npos);

  std::ostringstream quiet_out;
  ProgressPrinter q(quiet_out, ProgressPrinter::Mode::Quiet);
  q.update(trial7());
  q.message("x");
  q.finish();
  CHECK(quiet_out.str().empty());
}

TEST_CASE("a log message while the progress line is live lands on its own line, and the line comes back") {
  std::ostringstream out;
  ProgressPrinter p(out, ProgressPrinter::Mode::Terminal, 200);
  struct Line : wgopt::LiveLine {
    ProgressPrinter& p;
    explicit Line(ProgressPrinter& printer) : p(printer) {}
    void clear() override { p.clear_line(); }
    void redraw() override { p.redraw(); }
  } live(p);
  auto logger = std::make_shared<spdlog::logger>(
      "progress-test", wgopt::live_line_sink(std::make_shared<spdlog::sinks::ostream_sink_st>(out)));
  logger->set_pattern("%l: %v");
  p.update(trial7());
  wgopt::set_live_line(&live);
  logger->warn("the peer is slow");
  wgopt::set_live_line(nullptr);
  const std::string line = render_progress(trial7());
  CHECK(out.str() == "\r" + line + "\x1b[K" + "\r\x1b[K" + "warning: the peer is slow\n" + line + "\x1b[K");
}

TEST_CASE("each phase shows its own total: never the trial cap on baseline or confirmation rounds", "[progress]") {
  // Issue 14: with --trials 6 and 4 confirmation rounds the line read "confirm 8/6".
  Budget budget(BudgetLimits{.max_trials = 6});
  SearchProgress progress(budget, /*quiet=*/true);
  progress.show("baseline", 2, 3);
  CHECK_THAT(progress.line(), Catch::StartsWith("baseline 2/3 |"));
  progress.show("trial", 4, budget.limits().max_trials);
  CHECK_THAT(progress.line(), Catch::StartsWith("trial 4/6 |"));
  progress.show("confirm", 8, 8);
  CHECK_THAT(progress.line(), Catch::StartsWith("confirm 8/8 |"));
  progress.show("trial", 9, std::nullopt);  // no cap: no total
  CHECK_THAT(progress.line(), Catch::StartsWith("trial 9 |"));
}

TEST_CASE("the ETA is the whole search's end: the trials' end plus the reserve, then the budget's end", "[progress]") {
  // A 5-minute search's line read "ETA 35s" with 2m 15s to go, then "ETA 0.0s" while it confirmed.
  std::chrono::steady_clock::time_point now{};
  Budget budget(BudgetLimits{.wall = 300s, .reserve = 100s}, [&] { return now; });
  SearchProgress progress(budget, /*quiet=*/true);
  now += 165s;
  progress.show("trial", 20, std::nullopt);
  CHECK_THAT(progress.line(), Catch::Contains("2m 45s / 5m 00s, ETA 2m 15s"));
  now += 40s;
  progress.show("confirm", 1, 6);
  CHECK_THAT(progress.line(), Catch::Contains("3m 25s / 5m 00s, ETA 1m 35s"));
  // A trial cap that ended the search early: the confirmation is not tied to the budget's end.
  std::chrono::steady_clock::time_point t{};
  Budget capped(BudgetLimits{.wall = 3600s, .max_trials = 1, .reserve = 100s}, [&] { return t; });
  SearchProgress p2(capped, /*quiet=*/true);
  capped.trial_started();
  t += 20s;
  capped.trial_finished();
  p2.show("confirm", 1, 8);
  CHECK_THAT(p2.line(), !Catch::Contains("ETA"));
}

TEST_CASE("a resume whose trial cap is spent shows no ETA without a budget, not 0.0s", "[progress]") {
  Budget budget(BudgetLimits{.max_trials = 4});
  budget.add_previous_trials(4);
  SearchProgress progress(budget, /*quiet=*/true);
  progress.show("baseline", 1, 3);
  CHECK_THAT(progress.line(), !Catch::Contains("ETA"));
}

TEST_CASE("the line names the measured configuration's changes from the baseline", "[progress]") {
  const std::map<std::string, std::string> base = {{"cc", "bbr"}, {"mtu", "1420"}, {"rmem", "4096 131072 33554432"}};
  CHECK(changed_knobs({{"cc", "reno"}, {"mtu", "1420"}, {"txq", "1661"}}, base) ==
        std::vector<std::pair<std::string, std::string>>{{"cc", "reno"}, {"txq", "1661"}});
  // The confirmation shows the winner it measures, not the last trial's knobs.
  Budget budget(BudgetLimits{.max_trials = 6});
  SearchProgress progress(budget, /*quiet=*/true);
  progress.set_candidate({{"cc", "cubic"}, {"mtu", "1280"}}, base);
  progress.show("trial", 6, 6);
  progress.set_candidate({{"cc", "reno"}, {"mtu", "1420"}}, base);
  progress.show("confirm", 1, 8);
  CHECK_THAT(progress.line(), Catch::EndsWith("| candidate cc=reno"));
}

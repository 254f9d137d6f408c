#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "experiments/report/table.hpp"
#include "experiments/search/comparison_rows.hpp"

using namespace wgopt;
using namespace wgopt::experiments;

TEST_CASE("text tables align columns under a header rule, numbers to the right") {
  Table t({"Config", "Mbit/s", "note"});
  t.add_row({"Defaults", "812.4", "slow"});
  t.add_row({"+ RPS/RFS", "1630.0"});
  CHECK(t.render_text() ==
        "Config     Mbit/s  note\n"
        "---------  ------  ----\n"
        "Defaults    812.4  slow\n"
        "+ RPS/RFS  1630.0\n");
}

TEST_CASE("widths count UTF-8 characters, not bytes") {
  Table t({"a", "b"});
  t.add_row({"±5 → 7", "x"});
  t.add_row({"plain", "y"});
  CHECK(t.render_text() ==
        "a       b\n"
        "------  -\n"
        "±5 → 7  x\n"
        "plain   y\n");
  CHECK(display_width("→x") == 2);
}

TEST_CASE("markdown tables escape pipes and mark right-aligned columns") {
  Table t({"knob", "value"});
  t.add_row({"a|b", "10"});
  t.add_row({"c", "-3"});
  CHECK(t.render_markdown() ==
        "| knob | value |\n"
        "|---|---:|\n"
        "| a\\|b | 10 |\n"
        "| c | -3 |\n");
}

TEST_CASE("text from a study reaches neither the terminal's controls nor a Markdown renderer's HTML") {
  Table t({"host", "value"});
  t.add_row({"sku=D4s\x1b]0;pwned\x07\x1b[2J", "a\\b"});
  t.add_row({"<img src=x onerror=alert(1)> & co", "c\nd"});
  const std::string text = t.render_text();
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\x07') == std::string::npos);
  CHECK(text.find("sku=D4s\\x1b]0;pwned\\x07\\x1b[2J") != std::string::npos);
  CHECK(text.find("a\\b") != std::string::npos);  // plain text as it is: one backslash
  const std::string md = t.render_markdown();
  CHECK(md.find("| &lt;img src=x onerror=alert(1)&gt; &amp; co | c\\nd |") != std::string::npos);
  CHECK(md.find('\x1b') == std::string::npos);
}

TEST_CASE("forced alignment overrides detection and bad shapes are refused") {
  Table t({"a", "b"});
  t.add_row({"1", "2"}).align(0, Align::Left);
  CHECK(t.render_text() == "a  b\n-  -\n1  2\n");
  CHECK_THROWS_AS(t.add_row({"1", "2", "3"}), Error);
  CHECK_THROWS_AS(t.align(2, Align::Left), Error);
}

TEST_CASE("the field guide's 7.1 comparison table") {
  std::vector<ComparisonRow> rows = {
      {"Defaults", 812.43, 96.2, 1, 0, 0},
      {"+ RPS/RFS", 1630.0, 35.0, std::nullopt, 12453, 3},
      {"winner (trial 17)", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
  };
  CHECK(comparison_table(rows, "30s").render_text() ==
        "Config                Throughput  Top core %soft  softnet drops/30s  NIC drops/30s\n"
        "-----------------  -------------  --------------  -----------------  -------------\n"
        "Defaults            812.4 Mbit/s      96% (cpu1)                  0              0\n"
        "+ RPS/RFS          1630.0 Mbit/s             35%              12453              3\n"
        "winner (trial 17)              -               -                  -              -\n");
}

TEST_CASE("the comparison table adds UDP errors when counted and the score when known") {
  ComparisonRow base{"baseline", 840.3, 10.0, 1, 0, 83};
  base.udp_errors = 193414;
  base.score = 650.0;
  ComparisonRow win{"winner (trial 20)", 734.6, 29.0, 1, 0, 0};
  win.udp_errors = 25870;
  win.score = 706.7;
  CHECK(comparison_table({base, win}, "10s").render_text() ==
        "Config               Throughput  Top core %soft  softnet drops/10s  NIC drops/10s  UDP errors/10s  Score\n"
        "-----------------  ------------  --------------  -----------------  -------------  --------------  -----\n"
        "baseline           840.3 Mbit/s      10% (cpu1)                  0             83          193414  650.0\n"
        "winner (trial 20)  734.6 Mbit/s      29% (cpu1)                  0              0           25870  706.7\n");
  // No UDP error counted anywhere: no column for it; the score alone.
  base.udp_errors = 0;
  win.udp_errors.reset();
  const std::string text = comparison_table({base, win}, "10s").render_text();
  CHECK(text.find("UDP errors") == std::string::npos);
  CHECK(text.find("Score") != std::string::npos);
}

TEST_CASE("a search's rows count UDP receive errors and average the score; a check's counts scale to the table's length") {
  auto measured = [](double score, double mbps, std::uint64_t udp_errors) {
    Evaluation ev;
    ev.score = Score{.value = score, .throughput_mbps = mbps};
    ScenarioOutcome s;
    s.scenario = "tcp";
    s.measurement.throughput_mbps = mbps;
    s.probes.net = {probes::NetDelta{.udp = {.in_errors = udp_errors}}, probes::NetDelta{.udp = {.in_errors = 10}}};
    ev.scenarios.push_back(s);
    return ev;
  };
  Averages a;
  accumulate(a, measured(650, 840, 190000));
  accumulate(a, measured(640, 830, 180000));
  Evaluation failed;  // no score: adds nothing
  accumulate(a, failed);
  ComparisonRow r = to_row("baseline", a);
  CHECK(r.score == Approx(645));
  CHECK(r.throughput_mbps == Approx(835));
  CHECK(r.udp_errors == Approx(185010));  // both places' counters, averaged over the measurements
  scale_drops(a, 2);                        // a 5 s check's counts in "drops/10s"
  CHECK(to_row("check", a).udp_errors == Approx(370020));
  CHECK(to_row("check", a).score == Approx(645));
}
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "experiments/report/table.hpp"

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

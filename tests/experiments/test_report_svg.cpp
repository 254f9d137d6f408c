// The pieces the report's HTML is made of: the SVG writer (escaping, number format, ticks,
// tooltips) and Table::render_html.
#include <catch2/catch.hpp>

#include <cmath>

#include "experiments/report/svg.hpp"
#include "experiments/report/table.hpp"

using namespace wgopt::experiments;
using Catch::Contains;

TEST_CASE("svg escaping covers text and attribute values", "[report][svg]") {
  CHECK(svg::escape("<a href='x'>&\"") == "&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
  CHECK(svg::escape("wt0/mtu=1420 ±3") == "wt0/mtu=1420 ±3");

  svg::Canvas c(100, 50, "id\"><script>", "t<i>tle");
  c.circle(10, 20, 3, {{"fill", "#fff\" onload=\"x"}});
  c.tooltip("trial 3: a<b & c");
  c.text(5, 5, "</text><script>alert(1)</script>");
  const std::string s = c.finish();
  CHECK(s.find("<script") == std::string::npos);
  CHECK_THAT(s, Contains("id=\"id&quot;&gt;&lt;script&gt;\""));
  CHECK_THAT(s, Contains("<title>t&lt;i&gt;tle</title>"));
  CHECK_THAT(s, Contains("fill=\"#fff&quot; onload=&quot;x\""));
  // The tooltip becomes the circle's child, so the browser shows it on hover.
  CHECK_THAT(s, Contains("<circle cx=\"10\" cy=\"20\" r=\"3\" fill=\"#fff&quot; onload=&quot;x\"><title>trial 3: a&lt;b &amp; c</title></circle>"));
  CHECK(s.rfind("</svg>") == s.size() - 6);
}

TEST_CASE("svg numbers are short and stable", "[report][svg]") {
  CHECK(svg::num(1.0) == "1");
  CHECK(svg::num(2.50) == "2.5");
  CHECK(svg::num(612.3456) == "612.35");
  CHECK(svg::num(-0.001) == "0");
  CHECK(svg::num(NAN) == "0");
  CHECK(svg::num(INFINITY) == "0");
}

TEST_CASE("axis ticks are round numbers that enclose the data", "[report][svg]") {
  auto t = svg::nice_ticks({0.3, 9.2}, 5);
  CHECK(t == std::vector<double>{0, 2, 4, 6, 8, 10});
  t = svg::nice_ticks({143.3, 397.7}, 5);
  CHECK(t.front() <= 143.3);
  CHECK(t.back() >= 397.7);
  CHECK(t[1] - t[0] == Approx(100));  // 254 / 5 = 51 rounds up to the next of 1, 2, 5 x 10^k
  // A flat series (one trial, equal scores) still gets an axis around its value.
  t = svg::nice_ticks({500, 500}, 5);
  REQUIRE(t.size() >= 2);
  CHECK(t.front() < 500);
  CHECK(t.back() > 500);
  // Reversed or non-finite input does not loop or crash.
  CHECK(svg::nice_ticks({10, 0}).front() == 0);
  CHECK(svg::nice_ticks({NAN, 1}).size() >= 2);
  CHECK(svg::nice_ticks({-0.2, 0.7}, 5).front() == Approx(-0.2));
  CHECK(svg::nice_ticks({-1e308, 1e308}).size() >= 2);
}

TEST_CASE("Table renders as an escaped HTML table with numeric columns marked", "[report][svg]") {
  Table t({"knob", "value"});
  t.add_row({"wt0/<qdisc>", "12"}).add_row({"a&b", "3.5"});
  const std::string h = t.render_html("moved", "small");
  CHECK(h == "<table id=\"moved\" class=\"small\"><thead><tr><th>knob</th><th class=\"num\">value</th></tr></thead>"
             "<tbody><tr><td>wt0/&lt;qdisc&gt;</td><td class=\"num\">12</td></tr><tr><td>a&amp;b</td>"
             "<td class=\"num\">3.5</td></tr></tbody></table>\n");
  CHECK(Table({"x"}).render_html().rfind("<table><thead>", 0) == 0);
}

#pragma once
// A small SVG writer for the plots of `wgopt report`: elements appended to a string, every text and
// attribute value escaped, numbers printed with at most two decimals (so output is stable and small).
// Presentation is given as attributes (fill, stroke), not CSS, so a plot looks the same inline in
// the report's HTML and saved on its own. Pure: no I/O.
//
//   svg::Canvas c(640, 300, "convergence-trials", "Best score vs trial");
//   svg::Frame f{.left = 60, .top = 30, .width = 540, .height = 220, .x = {0, 10}, .y = {0, 900}};
//   svg::draw_axes(c, f, "trial", "score (Mbit/s)");
//   c.circle(f.px(3), f.py(512), 4, {{"fill", "#1f77b4"}});
//   std::string markup = c.finish();   // "<svg ...>...</svg>"
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wgopt::experiments::svg {

// Escapes & < > " ' for text and attribute values (HTML and SVG alike).
std::string escape(std::string_view s);

// "12", "12.5", "0.25", "-3": a coordinate or value with at most two decimals, no trailing zeros.
std::string num(double v);

using Attrs = std::vector<std::pair<std::string, std::string>>;

// One <svg> element. `id` becomes the element's id (tests and CSS find plots by it); `title` its
// accessible <title> and the heading drawn at the top.
class Canvas {
 public:
  Canvas(double width, double height, const std::string& id, const std::string& title);

  double width() const { return width_; }
  double height() const { return height_; }

  void line(double x1, double y1, double x2, double y2, const Attrs& attrs = {});
  void rect(double x, double y, double w, double h, const Attrs& attrs = {});
  void circle(double cx, double cy, double r, const Attrs& attrs = {});
  // An "x" mark of half-size r centred on (cx, cy) (failed trials).
  void cross(double cx, double cy, double r, const Attrs& attrs = {});
  void polyline(const std::vector<std::pair<double, double>>& points, const Attrs& attrs = {});
  // anchor: "start", "middle" or "end".
  void text(double x, double y, std::string_view content, const std::string& anchor = "start", const Attrs& attrs = {});
  void open_group(const Attrs& attrs);
  void close_group();
  // Gives the element just added (line, rect, circle, cross, polyline) a hover <title>.
  void tooltip(std::string_view content);

  // The complete <svg> element. The canvas is not usable afterwards.
  std::string finish();

 private:
  void element(const std::string& name, const Attrs& geometry, const Attrs& attrs);

  double width_, height_;
  std::string body_;
  std::string last_;  // name of the last self-closed element, for tooltip()
};

// A closed range [lo, hi] of data values.
struct Range {
  double lo = 0;
  double hi = 1;
};

// Round tick values covering r (about `target` of them, steps of 1, 2 or 5 x 10^k). The first and
// last tick enclose r, so use them as the axis range: r = {ticks.front(), ticks.back()}.
std::vector<double> nice_ticks(Range r, int target = 5);

// The plotting area of a chart in pixels and the data ranges it shows.
struct Frame {
  double left = 60, top = 40, width = 500, height = 200;
  Range x, y;
  double px(double v) const;  // data x -> pixel x
  double py(double v) const;  // data y -> pixel y (up is larger)
  double bottom() const { return top + height; }
  double right() const { return left + width; }
};

// Draws the frame's box, grid lines and numbered ticks at nice_ticks of each range (the frame's
// ranges should already be the outer ticks) and the axis titles. numbered_y = false leaves the y
// axis bare (rows of labelled bars, where y carries no value).
void draw_axes(Canvas& c, const Frame& f, const std::string& x_title, const std::string& y_title, bool numbered_y = true);

// A legend entry: a swatch ("dot", "ring", "cross", "line", "dash", "box", "band") in `color`.
struct LegendEntry {
  std::string label;
  std::string swatch;
  std::string color;
};
// One row of entries starting at (x, y), wrapping at max_width.
void draw_legend(Canvas& c, double x, double y, double max_width, const std::vector<LegendEntry>& entries);

}  // namespace wgopt::experiments::svg

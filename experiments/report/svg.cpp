#include "experiments/report/svg.hpp"

#include <fmt/format.h>

#include <cmath>

namespace wgopt::experiments::svg {

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  if (!std::isfinite(v)) return "0";
  std::string s = fmt::format("{:.2f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

Canvas::Canvas(double width, double height, const std::string& id, const std::string& title)
    : width_(width), height_(height) {
  body_ = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{}\" class=\"plot\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" font-family=\"sans-serif\" font-size=\"11\"><title>{}</title>",
      escape(id), num(width), num(height), num(width), num(height), escape(title));
  body_ += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>", num(width), num(height));
  body_ += fmt::format("<text x=\"{}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{}</text>",
                       num(width / 2), escape(title));
}

void Canvas::element(const std::string& name, const Attrs& geometry, const Attrs& attrs) {
  body_ += fmt::format("<{}", name);
  for (const auto* list : {&geometry, &attrs}) {
    for (const auto& [k, v] : *list) body_ += fmt::format(" {}=\"{}\"", escape(k), escape(v));
  }
  body_ += "/>";
  last_ = name;
}

void Canvas::line(double x1, double y1, double x2, double y2, const Attrs& attrs) {
  element("line", {{"x1", num(x1)}, {"y1", num(y1)}, {"x2", num(x2)}, {"y2", num(y2)}}, attrs);
}

void Canvas::rect(double x, double y, double w, double h, const Attrs& attrs) {
  element("rect", {{"x", num(x)}, {"y", num(y)}, {"width", num(std::max(0.0, w))}, {"height", num(std::max(0.0, h))}},
          attrs);
}

void Canvas::circle(double cx, double cy, double r, const Attrs& attrs) {
  element("circle", {{"cx", num(cx)}, {"cy", num(cy)}, {"r", num(r)}}, attrs);
}

void Canvas::cross(double cx, double cy, double r, const Attrs& attrs) {
  const std::string d = fmt::format("M{} {}L{} {}M{} {}L{} {}", num(cx - r), num(cy - r), num(cx + r), num(cy + r),
                                    num(cx - r), num(cy + r), num(cx + r), num(cy - r));
  element("path", {{"d", d}}, attrs);
}

void Canvas::polyline(const std::vector<std::pair<double, double>>& points, const Attrs& attrs) {
  std::string pts;
  for (const auto& [x, y] : points) pts += fmt::format("{}{},{}", pts.empty() ? "" : " ", num(x), num(y));
  element("polyline", {{"points", pts}, {"fill", "none"}}, attrs);
}

void Canvas::text(double x, double y, std::string_view content, const std::string& anchor, const Attrs& attrs) {
  body_ += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"{}\"", num(x), num(y), escape(anchor));
  for (const auto& [k, v] : attrs) body_ += fmt::format(" {}=\"{}\"", escape(k), escape(v));
  body_ += fmt::format(">{}</text>", escape(content));
  last_.clear();
}

void Canvas::open_group(const Attrs& attrs) {
  body_ += "<g";
  for (const auto& [k, v] : attrs) body_ += fmt::format(" {}=\"{}\"", escape(k), escape(v));
  body_ += ">";
  last_.clear();
}

void Canvas::close_group() {
  body_ += "</g>";
  last_.clear();
}

void Canvas::tooltip(std::string_view content) {
  // Reopen the self-closed element just written: "<circle .../>" -> "<circle ...><title>..</title></circle>".
  if (last_.empty() || body_.size() < 2 || body_.compare(body_.size() - 2, 2, "/>") != 0) return;
  body_.resize(body_.size() - 2);
  body_ += fmt::format("><title>{}</title></{}>", escape(content), last_);
  last_.clear();
}

std::string Canvas::finish() {
  body_ += "</svg>";
  return std::move(body_);
}

std::vector<double> nice_ticks(Range r, int target) {
  if (!std::isfinite(r.lo) || !std::isfinite(r.hi)) r = {0, 1};
  if (r.hi < r.lo) std::swap(r.lo, r.hi);
  if (r.hi - r.lo < 1e-9 * std::max(1.0, std::abs(r.hi))) {
    // A flat series still needs an axis: widen around the value.
    const double pad = r.hi == 0 ? 1 : std::abs(r.hi) * 0.1;
    r = {r.lo - pad, r.hi + pad};
  }
  const double raw = (r.hi - r.lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  const double first = std::floor(r.lo / step) * step;
  const double last = std::ceil(r.hi / step) * step;
  std::vector<double> ticks;
  // The cap only matters for absurd magnitudes where v + step == v; scores never get there.
  for (double v = first; v <= last + step * 1e-6 && ticks.size() < 100; v += step) {
    ticks.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  }
  if (ticks.size() < 2 || !std::isfinite(step)) return {r.lo, r.hi};
  return ticks;
}

double Frame::px(double v) const {
  const double span = x.hi - x.lo;
  return left + (span > 0 ? (v - x.lo) / span : 0.5) * width;
}

double Frame::py(double v) const {
  const double span = y.hi - y.lo;
  return top + height - (span > 0 ? (v - y.lo) / span : 0.5) * height;
}

namespace {

// Tick labels: as many decimals as the step needs (0.25 -> 2, 50 -> 0).
std::string tick_label(double v, double step) {
  int decimals = 0;
  while (decimals < 4 && std::abs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6) {
    ++decimals;
  }
  return fmt::format("{:.{}f}", v, decimals);
}

}  // namespace

void draw_axes(Canvas& c, const Frame& f, const std::string& x_title, const std::string& y_title, bool numbered_y) {
  const Attrs grid{{"stroke", "#e3e3e3"}, {"stroke-width", "1"}};
  const Attrs label{{"fill", "#333333"}};
  auto xt = nice_ticks(f.x, 8);
  auto yt = nice_ticks(f.y, 5);
  c.open_group({{"class", "axes"}});
  for (size_t i = 0; numbered_y && i < yt.size(); ++i) {
    if (yt[i] < f.y.lo - 1e-9 || yt[i] > f.y.hi + 1e-9) continue;
    const double y = f.py(yt[i]);
    c.line(f.left, y, f.right(), y, grid);
    c.text(f.left - 6, y + 4, tick_label(yt[i], yt.size() > 1 ? yt[1] - yt[0] : 1), "end", label);
  }
  for (size_t i = 0; i < xt.size(); ++i) {
    if (xt[i] < f.x.lo - 1e-9 || xt[i] > f.x.hi + 1e-9) continue;
    const double x = f.px(xt[i]);
    c.line(x, f.top, x, f.bottom(), grid);
    c.text(x, f.bottom() + 15, tick_label(xt[i], xt.size() > 1 ? xt[1] - xt[0] : 1), "middle", label);
  }
  c.rect(f.left, f.top, f.width, f.height, {{"fill", "none"}, {"stroke", "#555555"}});
  c.text(f.left + f.width / 2, f.bottom() + 32, x_title, "middle", {{"class", "axis-title"}});
  const double ty = f.top + f.height / 2;
  c.text(14, ty, y_title, "middle",
         {{"class", "axis-title"}, {"transform", fmt::format("rotate(-90 14 {})", num(ty))}});
  c.close_group();
}

void draw_legend(Canvas& c, double x, double y, double max_width, const std::vector<LegendEntry>& entries) {
  c.open_group({{"class", "legend"}});
  double cx = x, cy = y;
  for (const auto& e : entries) {
    const double w = 26 + 6.2 * static_cast<double>(e.label.size()) + 14;
    if (cx + w > x + max_width && cx > x) {
      cx = x;
      cy += 16;
    }
    const double sx = cx + 8;
    if (e.swatch == "dot") c.circle(sx, cy - 4, 4, {{"fill", e.color}});
    else if (e.swatch == "ring") c.circle(sx, cy - 4, 4, {{"fill", "#ffffff"}, {"stroke", e.color}, {"stroke-width", "1.5"}});
    else if (e.swatch == "cross") c.cross(sx, cy - 4, 4, {{"stroke", e.color}, {"stroke-width", "2"}});
    else if (e.swatch == "line") c.line(cx, cy - 4, cx + 16, cy - 4, {{"stroke", e.color}, {"stroke-width", "2"}});
    else if (e.swatch == "dash") {
      c.line(cx, cy - 4, cx + 16, cy - 4, {{"stroke", e.color}, {"stroke-width", "2"}, {"stroke-dasharray", "4 3"}});
    } else if (e.swatch == "band") c.rect(cx, cy - 9, 16, 10, {{"fill", e.color}, {"fill-opacity", "0.25"}});
    else c.rect(cx + 2, cy - 9, 12, 10, {{"fill", e.color}});
    c.text(cx + 22, cy, e.label);
    cx += w;
  }
  c.close_group();
}

}  // namespace wgopt::experiments::svg

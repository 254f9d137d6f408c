#include "experiments/report/report_plots.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "experiments/report/svg.hpp"

namespace wgopt::experiments {

namespace {

constexpr const char* kComplete = "#1f77b4";
constexpr const char* kPruned = "#ff7f0e";
constexpr const char* kFailed = "#d62728";
constexpr const char* kInfeasible = "#9467bd";
constexpr const char* kRunning = "#7f7f7f";
constexpr const char* kBaseline = "#2ca02c";
constexpr const char* kWinner = "#d4a017";

std::string main_params(const ReportTrial& t) {
  std::string s;
  for (const auto& [id, v] : t.moved) s += fmt::format("{}{}={}", s.empty() ? "" : ", ", id, v);
  return s.empty() ? "host values" : s;
}

void no_data(svg::Canvas& c, const std::string& why) {
  c.text(c.width() / 2, c.height() / 2, why, "middle", {{"class", "no-data"}, {"fill", "#777777"}});
}

}  // namespace

std::string convergence_svg(const ReportData& d, ConvergenceAxis axis) {
  const bool by_trial = axis == ConvergenceAxis::Trial;
  svg::Canvas c(600, 350, by_trial ? "convergence-trials" : "convergence-minutes",
                by_trial ? "Best score so far vs trial" : "Best score so far vs minutes since start");
  if (d.trials.empty()) {
    no_data(c, "no trials yet");
    return c.finish();
  }
  auto xval = [&](const ReportTrial& t) { return by_trial ? static_cast<double>(t.number) : t.minutes; };

  double ylo = INFINITY, yhi = -INFINITY, xhi = 0;
  for (const auto& t : d.trials) {
    xhi = std::max(xhi, xval(t));
    if (t.score) {
      ylo = std::min(ylo, *t.score);
      yhi = std::max(yhi, *t.score);
    }
  }
  if (d.baseline_mean) {
    ylo = std::min(ylo, *d.baseline_mean);
    yhi = std::max(yhi, *d.baseline_mean);
  }
  if (d.baseline_ci95) {
    ylo = std::min(ylo, d.baseline_ci95->first);
    yhi = std::max(yhi, d.baseline_ci95->second);
  }
  if (!std::isfinite(ylo)) ylo = 0, yhi = 1;
  const auto yt = svg::nice_ticks({ylo, yhi}, 5);
  const auto xt = svg::nice_ticks({by_trial ? 0.0 : 0.0, std::max(xhi, by_trial ? 1.0 : 0.1)}, 8);
  svg::Frame f{.left = 64, .top = 36, .width = 516, .height = 220, .x = {xt.front(), xt.back()}, .y = {yt.front(), yt.back()}};
  svg::draw_axes(c, f, by_trial ? "trial" : "minutes since the study began", "score (Mbit/s)");

  if (d.baseline_ci95) {
    const double top = f.py(d.baseline_ci95->second), bottom = f.py(d.baseline_ci95->first);
    c.rect(f.left, top, f.width, bottom - top, {{"class", "baseline-band"}, {"fill", kBaseline}, {"fill-opacity", "0.15"}});
  }
  if (d.baseline_mean) {
    const double y = f.py(*d.baseline_mean);
    c.line(f.left, y, f.right(), y, {{"class", "baseline"}, {"stroke", kBaseline}, {"stroke-width", "2"}, {"stroke-dasharray", "6 4"}});
    c.tooltip(fmt::format("baseline mean {:.1f}", *d.baseline_mean));
  }

  // Best so far: a step line over the complete trials, held to the last trial.
  std::vector<std::pair<double, double>> steps;
  std::optional<double> best;
  for (const auto& t : d.trials) {
    if (t.state != TrialState::Complete || !t.score) continue;
    if (best && *t.score <= *best) continue;
    if (best) steps.emplace_back(f.px(xval(t)), f.py(*best));
    best = t.score;
    steps.emplace_back(f.px(xval(t)), f.py(*best));
  }
  if (!steps.empty()) {
    steps.emplace_back(f.px(xhi), steps.back().second);
    c.polyline(steps, {{"class", "best-so-far"}, {"stroke", kComplete}, {"stroke-width", "2"}});
  }

  bool seen[5] = {};
  for (const auto& t : d.trials) {
    const double x = f.px(xval(t));
    const std::string tip = fmt::format("trial {}: {}{} — {}{}", t.number, to_string(t.state),
                                        t.score ? fmt::format(", score {:.1f}", *t.score) : "", main_params(t),
                                        t.note.empty() ? "" : " (" + t.note + ")");
    const std::string cls = fmt::format("trial {}", to_string(t.state));
    seen[static_cast<int>(t.state)] = true;
    if (t.state == TrialState::Complete && t.score) {
      c.circle(x, f.py(*t.score), 4.5, {{"class", cls}, {"fill", kComplete}});
    } else if (t.state == TrialState::Pruned && t.score) {
      c.circle(x, f.py(*t.score), 4.5, {{"class", cls}, {"fill", "#ffffff"}, {"stroke", kPruned}, {"stroke-width", "2"}});
    } else {
      const char* color = t.state == TrialState::Infeasible ? kInfeasible
                          : t.state == TrialState::Running  ? kRunning
                          : t.state == TrialState::Pruned   ? kPruned
                                                            : kFailed;
      c.cross(x, f.bottom() - 7, 5, {{"class", cls}, {"stroke", color}, {"stroke-width", "2.5"}});
    }
    c.tooltip(tip);
    if (t.winner && t.score) {
      c.circle(x, f.py(*t.score), 9, {{"class", "winner"}, {"fill", "none"}, {"stroke", kWinner}, {"stroke-width", "2.5"}});
      c.tooltip(fmt::format("{}: trial {}", d.role(), t.number));
      c.text(x + 11, f.py(*t.score) - 8, d.role(), "start", {{"fill", "#8a6d00"}});
    }
  }

  std::vector<svg::LegendEntry> legend;
  if (seen[static_cast<int>(TrialState::Complete)]) legend.push_back({"complete", "dot", kComplete});
  if (seen[static_cast<int>(TrialState::Pruned)]) legend.push_back({"pruned (estimate)", "ring", kPruned});
  if (seen[static_cast<int>(TrialState::Failed)]) legend.push_back({"failed", "cross", kFailed});
  if (seen[static_cast<int>(TrialState::Infeasible)]) legend.push_back({"infeasible", "cross", kInfeasible});
  if (seen[static_cast<int>(TrialState::Running)]) legend.push_back({"running", "cross", kRunning});
  if (!steps.empty()) legend.push_back({"best so far", "line", kComplete});
  if (d.baseline_mean) legend.push_back({"baseline mean", "dash", kBaseline});
  if (d.baseline_ci95) legend.push_back({"baseline 95% CI", "band", kBaseline});
  if (d.winner_trial) legend.push_back({d.role(), "ring", kWinner});
  svg::draw_legend(c, f.left, f.bottom() + 56, f.width, legend);
  return c.finish();
}

namespace {

// The levels a plot row group shows: all of them up to kMaxEffectLevels, else the best and the
// worst half of that many (the middle is in the text and JSON reports).
std::vector<const KnobLevel*> shown_levels(const KnobEffect& e) {
  std::vector<const KnobLevel*> out;
  const size_t n = e.levels.size(), half = kMaxEffectLevels / 2;
  for (size_t i = 0; i < n; ++i) {
    if (n <= kMaxEffectLevels || i < half || i >= n - half) out.push_back(&e.levels[i]);
  }
  return out;
}

}  // namespace

std::string knob_effect_svg(const ReportData& d) {
  constexpr size_t kMaxKnobs = 8;
  const size_t knobs = std::min(d.effects.size(), kMaxKnobs);
  size_t rows = 0;
  double lo = 0, hi = 0;
  for (size_t k = 0; k < knobs; ++k) {
    auto levels = shown_levels(d.effects[k]);
    rows += 1 + levels.size();
    for (const KnobLevel* l : levels) {
      lo = std::min(lo, l->delta);
      hi = std::max(hi, l->delta);
    }
  }
  const double row_h = 18;
  svg::Canvas c(640, 110 + static_cast<double>(rows) * row_h + 20, "knob-effect", "Per-knob effect on the score");
  c.text(320, 34, "method: mean score of complete trials at each value minus the reference (n = trials)", "middle",
         {{"class", "method"}, {"fill", "#555555"}});
  if (rows == 0) {
    no_data(c, "no complete trials: nothing to compare");
    return c.finish();
  }
  const auto xt = svg::nice_ticks({lo, hi}, 6);
  svg::Frame f{.left = 250, .top = 50, .width = 370, .height = static_cast<double>(rows) * row_h, .x = {xt.front(), xt.back()}, .y = {0, 1}};
  svg::draw_axes(c, f, "score difference vs reference (Mbit/s)", "", false);
  c.line(f.px(0), f.top, f.px(0), f.bottom(), {{"stroke", "#333333"}, {"stroke-width", "1.5"}});
  double y = f.top;
  for (size_t k = 0; k < knobs; ++k) {
    const auto& e = d.effects[k];
    const auto levels = shown_levels(e);
    std::string heading = e.id;
    if (e.binned) heading += " (ranges of values)";
    else if (levels.size() < e.levels.size()) heading += fmt::format(" (best and worst {} of {} values)", levels.size(), e.levels.size());
    c.text(8, y + 13, heading, "start", {{"font-weight", "bold"}, {"class", "knob"}});
    y += row_h;
    for (const KnobLevel* lv : levels) {
      c.text(f.left - 6, y + 13, fmt::format("{} (n={})", lv->value, lv->n), "end");
      const double x0 = f.px(std::min(0.0, lv->delta)), x1 = f.px(std::max(0.0, lv->delta));
      c.rect(x0, y + 3, std::max(1.0, x1 - x0), row_h - 6,
             {{"class", "effect-bar"}, {"fill", lv->delta >= 0 ? kComplete : kFailed}});
      c.tooltip(fmt::format("{} = {}: mean {:.1f} over {} trial(s), {:+.1f} vs reference", e.id, lv->value, lv->mean, lv->n, lv->delta));
      y += row_h;
    }
  }
  if (d.effects.size() > kMaxKnobs) {
    c.text(8, f.bottom() + 48, fmt::format("{} knobs with smaller spread not shown", d.effects.size() - kMaxKnobs));
  }
  return c.finish();
}

std::string core_load_svg(const ReportData& d) {
  svg::Canvas c(640, 330, "core-load", "Per-core load: baseline vs winner");
  if (d.cores_before.empty() && d.cores_after.empty()) {
    no_data(c, "no per-core data in this study (records written before per-core probes were stored)");
    return c.finish();
  }
  std::map<int, std::pair<const CoreLoad*, const CoreLoad*>> by_cpu;
  for (const auto& l : d.cores_before) by_cpu[l.cpu].first = &l;
  for (const auto& l : d.cores_after) by_cpu[l.cpu].second = &l;
  svg::Frame f{.left = 64, .top = 36, .width = 556, .height = 200, .x = {0, static_cast<double>(by_cpu.size())}, .y = {0, 100}};
  // Only the y axis has numbers: x is categorical (one group per CPU).
  const auto yt = svg::nice_ticks(f.y, 5);
  for (double v : yt) {
    c.line(f.left, f.py(v), f.right(), f.py(v), {{"stroke", "#e3e3e3"}});
    c.text(f.left - 6, f.py(v) + 4, fmt::format("{:.0f}", v), "end");
  }
  c.rect(f.left, f.top, f.width, f.height, {{"fill", "none"}, {"stroke", "#555555"}});
  c.text(14, f.top + f.height / 2, "% of the core's time", "middle",
         {{"transform", fmt::format("rotate(-90 14 {})", svg::num(f.top + f.height / 2))}});
  const double group = f.width / static_cast<double>(by_cpu.size());
  const double bar = std::min(40.0, group * 0.35);
  const size_t label_step = (by_cpu.size() + 15) / 16;
  size_t i = 0;
  for (const auto& [cpu, pair] : by_cpu) {
    const double gx = f.left + group * static_cast<double>(i++) + group / 2;
    int side = 0;
    for (const CoreLoad* l : {pair.first, pair.second}) {
      const bool before = side++ == 0;
      if (!l) continue;
      const double x = before ? gx - bar - 2 : gx + 2;
      const char* color = before ? kBaseline : kComplete;
      const double busy = std::clamp(l->busy(), 0.0, 100.0), soft = std::clamp(l->soft, 0.0, busy);
      c.rect(x, f.py(busy), bar, f.py(0) - f.py(busy),
             {{"class", before ? "core-bar before" : "core-bar after"}, {"fill", color}, {"fill-opacity", "0.45"}});
      c.tooltip(fmt::format("cpu{} {}: busy {:.1f}% (usr {:.1f}, sys {:.1f}, soft {:.1f})", cpu, before ? "baseline" : d.role(),
                            busy, l->usr, l->sys, l->soft));
      c.rect(x, f.py(soft), bar, f.py(0) - f.py(soft), {{"class", "core-soft"}, {"fill", color}});
      if (bar >= 14) c.text(x + bar / 2, f.py(busy) - 3, fmt::format("{:.0f}%", busy), "middle", {{"font-size", "10"}});
    }
    // 64 CPUs do not fit 64 labels: every label_step-th one.
    if ((i - 1) % label_step == 0) c.text(gx, f.bottom() + 15, fmt::format("cpu{}", cpu), "middle");
  }
  std::vector<svg::LegendEntry> legend;
  if (!d.cores_before.empty()) {
    legend.push_back({"baseline busy: " + d.cores_before_source, "band", kBaseline});
    legend.push_back({"baseline %soft", "box", kBaseline});
  }
  if (!d.cores_after.empty()) {
    legend.push_back({d.role() + " busy: " + d.cores_after_source, "band", kComplete});
    legend.push_back({d.role() + " %soft", "box", kComplete});
  }
  svg::draw_legend(c, f.left, f.bottom() + 40, f.width, legend);
  if (d.cores_before.empty() || d.cores_after.empty()) {
    c.text(f.left, f.bottom() + 80, d.cores_before.empty() ? "no per-core data for the baseline in this study"
                                                           : "no per-core data for a winner in this study",
           "start", {{"fill", "#777777"}});
  }
  return c.finish();
}

}  // namespace wgopt::experiments

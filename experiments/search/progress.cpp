#include "experiments/search/progress.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <iostream>

#include "common/util.hpp"
#include "experiments/report/table.hpp"

namespace wgopt::experiments {

namespace {

std::string knob_text(const ProgressState& s) {
  std::string out;
  for (const auto& [k, v] : s.knobs) out += (out.empty() ? "" : " ") + k + "=" + v;
  return out;
}

// The model's estimate of the best configuration's score, not a measurement, and not the knobs beside
// it (found by an exploratory test: "best 360.4" read as the score of the knobs on the line).
std::string best_text(const ProgressState& s) {
  if (!s.best_score) return "best est. -";
  std::string out = fmt::format("best est. {:.1f}", *s.best_score);
  if (s.baseline_score && *s.baseline_score != 0) {
    out += fmt::format(" ({:+.1f}% vs baseline)", 100 * (*s.best_score - *s.baseline_score) / std::fabs(*s.baseline_score));
  }
  return out;
}

std::string step_text(const ProgressState& s) {
  return s.steps ? fmt::format("{} {}/{}", s.phase, s.step, *s.steps) : fmt::format("{} {}", s.phase, s.step);
}

// Cuts to `width` code points, the last three being "...".
std::string cut(const std::string& line, size_t width) {
  if (width == 0 || display_width(line) <= width) return line;
  if (width <= 3) return std::string(width, '.');
  std::string out;
  size_t points = 0;
  for (char c : line) {
    bool starts_point = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (starts_point && ++points > width - 3) break;
    out += c;
  }
  return out + "...";
}

// What Lines mode compares: the line without the clock fields, which change every tick.
std::string change_key(const ProgressState& s) {
  return step_text(s) + "|" + best_text(s) + "|" + knob_text(s);
}

}  // namespace

std::string render_progress(const ProgressState& s, size_t max_width) {
  std::string time = format_duration(s.elapsed);
  if (s.budget) time += " / " + format_duration(*s.budget);
  if (s.eta) time += ", ETA " + format_duration(*s.eta);
  std::string line = step_text(s) + " | " + time + " | " + best_text(s);
  if (!s.knobs.empty()) line += " | candidate " + knob_text(s);
  return cut(line, max_width);
}

ProgressPrinter::ProgressPrinter(std::ostream& out, Mode mode, size_t width) : out_(&out), mode_(mode), width_(width) {}

ProgressPrinter ProgressPrinter::for_stderr(bool quiet) {
  if (quiet) return ProgressPrinter(std::cerr, Mode::Quiet);
  if (!::isatty(STDERR_FILENO)) return ProgressPrinter(std::cerr, Mode::Lines);
  struct winsize ws {};
  size_t width = ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col - 1 : 79;
  return ProgressPrinter(std::cerr, Mode::Terminal, width);
}

ProgressPrinter::ProgressPrinter(ProgressPrinter&& o) noexcept
    : out_(o.out_), mode_(o.mode_), width_(o.width_), last_line_(std::move(o.last_line_)), line_open_(o.line_open_) {
  o.out_ = nullptr;  // the moved-from printer must not finish() the line again
}

ProgressPrinter::~ProgressPrinter() {
  if (out_) finish();
}

void ProgressPrinter::update(const ProgressState& state) {
  switch (mode_) {
    case Mode::Quiet:
      return;
    case Mode::Lines: {
      std::string key = change_key(state);
      if (key == last_line_) return;
      last_line_ = key;
      *out_ << render_progress(state) << '\n' << std::flush;
      return;
    }
    case Mode::Terminal: {
      last_line_ = render_progress(state, width_);
      *out_ << '\r' << last_line_ << "\x1b[K" << std::flush;
      line_open_ = true;
      return;
    }
  }
}

void ProgressPrinter::message(const std::string& line) {
  if (mode_ == Mode::Quiet) return;
  if (mode_ == Mode::Terminal && line_open_) {
    *out_ << "\r\x1b[K" << line << '\n' << last_line_ << "\x1b[K" << std::flush;
    return;
  }
  *out_ << line << '\n' << std::flush;
}

void ProgressPrinter::clear_line() {
  if (mode_ == Mode::Terminal && line_open_) *out_ << "\r\x1b[K" << std::flush;
}

void ProgressPrinter::redraw() {
  if (mode_ == Mode::Terminal && line_open_) *out_ << last_line_ << "\x1b[K" << std::flush;
}

void ProgressPrinter::finish() {
  if (mode_ == Mode::Terminal && line_open_) {
    *out_ << '\n' << std::flush;
    line_open_ = false;
  }
}

}  // namespace wgopt::experiments

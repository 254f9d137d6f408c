#pragma once
// The live progress line of `wgopt search`:
//   trial 7/50 | 3m 10s / 5m, ETA 1m 40s | best 1843.2 (+12.4% vs baseline) | mtu=1420 rps=3 gro=on
// render_progress is pure (tests compare strings); ProgressPrinter puts it on stderr, rewriting one
// line on a terminal and printing plain lines otherwise (logs, CI), or nothing with --quiet.
#include <chrono>
#include <cstdio>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace wgopt::experiments {

struct ProgressState {
  std::string phase = "trial";        // "baseline", "trial", "confirm" ...: the first word
  int step = 0;                       // trial number (or baseline / confirmation round), from 1
  std::optional<int> steps;           // the cap, if any: "7/50"
  std::chrono::milliseconds elapsed{0};
  std::optional<std::chrono::milliseconds> budget;  // wall budget: "3m 10s / 5m"
  std::optional<std::chrono::milliseconds> eta;     // time left: ", ETA 1m 40s"
  std::optional<double> best_score;                 // the model's estimate of the best so far: "best est."
  std::optional<double> baseline_score;             // gives "(+12.4% vs baseline)"
  std::vector<std::pair<std::string, std::string>> knobs;  // the candidate's main knobs, in order
};

// One line without a newline. With max_width > 0 the line is cut to that many characters (code
// points), ending in "...", so it never wraps on a terminal.
std::string render_progress(const ProgressState& state, size_t max_width = 0);

class ProgressPrinter {
 public:
  enum class Mode {
    Terminal,  // rewrite one line in place ("\r" + line + clear to end of line)
    Lines,     // one plain line per change of phase, step, best score or knobs (not per tick)
    Quiet,     // print nothing
  };

  // Writes to `out`. `width` is the terminal width used in Terminal mode (0: do not cut).
  ProgressPrinter(std::ostream& out, Mode mode, size_t width = 0);
  // For stderr: Quiet if quiet, else Terminal when stderr is a TTY (width from the terminal),
  // Lines otherwise.
  static ProgressPrinter for_stderr(bool quiet);
  ~ProgressPrinter();  // finish()

  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;
  ProgressPrinter(ProgressPrinter&& other) noexcept;
  ProgressPrinter& operator=(ProgressPrinter&&) = delete;

  // Shows the state (call it on every event and every second; Lines mode prints only changes).
  void update(const ProgressState& state);
  // Prints a message on its own line; in Terminal mode the progress line is cleared first and
  // redrawn after, so messages and the live line do not mix. Quiet prints nothing.
  void message(const std::string& line);
  // Ends the live line with a newline (Terminal mode) so later output starts on a fresh line.
  void finish();
  // Terminal mode: wipes the live line (before someone else writes a line of their own) and puts
  // it back after. No-ops in the other modes, where nothing is redrawn in place.
  void clear_line();
  void redraw();

  Mode mode() const { return mode_; }

 private:
  std::ostream* out_;
  Mode mode_;
  size_t width_;
  std::string last_line_;  // Terminal: what is on screen; Lines: the last change key printed
  bool line_open_ = false;
};

}  // namespace wgopt::experiments

#pragma once
// The live progress of one search on stderr: the progress line (experiments/search/progress.hpp)
// redrawn on every event and, unless quiet, every second by a ticker thread; messages on their own
// lines, and log messages too (it is the registered LiveLine while it lives). Thread-safe: the
// ticker, the loop and any thread that logs share it.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "experiments/search/progress.hpp"
#include "experiments/study/budget.hpp"

namespace wgopt::experiments {

// The knobs of `values` whose value differs from `baseline`'s (or that it lacks), in order: what the
// progress line names for the configuration being measured.
std::vector<std::pair<std::string, std::string>> changed_knobs(const std::map<std::string, std::string>& values,
                                                               const std::map<std::string, std::string>& baseline);

class SearchProgress : public LiveLine {
 public:
  // Counts time and the ETA from `budget` (which must outlive this object). The ETA is the whole
  // search's end: while the baseline and the trials run, the trials' end plus the reserve the
  // confirmation and the winner's checks spend (a 5-minute search's line said "ETA 35s" with 2m 15s
  // to go, then "ETA 0.0s" through its confirmation); after them, the wall budget's end.
  SearchProgress(const Budget& budget, bool quiet);
  ~SearchProgress();  // stops the ticker
  SearchProgress(const SearchProgress&) = delete;
  SearchProgress& operator=(const SearchProgress&) = delete;

  // The phase ("baseline", "trial", "re-measure", "confirm"), its step and how many steps the
  // phase has: "confirm 3/8" (nullopt: no total, "trial 7" without a cap). Each phase gives its own:
  // the trial cap is never the total of the baseline or confirmation rounds.
  void show(const std::string& phase, int step, std::optional<int> of);
  // The progress line as it would be drawn now (for tests).
  std::string line();
  // A line of its own (the progress line is cleared first and redrawn after).
  void say(const std::string& line);
  void set_knobs(std::vector<std::pair<std::string, std::string>> knobs);
  // set_knobs(changed_knobs(values, baseline)): the trial's candidate, the winner a confirmation
  // measures, the simplified winner a check measures.
  void set_candidate(const std::map<std::string, std::string>& values, const std::map<std::string, std::string>& baseline);
  void set_best(double score);
  void set_baseline(double score);
  // Ends the live line (Terminal mode), before the command prints its result.
  void finish();
  // LiveLine: a log message clears the line first and redraws it after (common/log.hpp).
  void clear() override;
  void redraw() override;

 private:
  void redraw_locked();
  std::optional<std::chrono::milliseconds> eta_locked() const;
  const Budget& budget_;
  ProgressPrinter printer_;
  std::mutex mu_;
  ProgressState state_;
  std::atomic<bool> ticking_;
  std::thread ticker_;
};

}  // namespace wgopt::experiments

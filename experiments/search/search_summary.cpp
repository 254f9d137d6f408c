#include "experiments/search/search_summary.hpp"

#include <fmt/format.h>

namespace wgopt::experiments {

namespace {

std::string trial_counts(const SearchReport& r) {
  return fmt::format("trials: {} ({} complete, {} pruned, {} failed, {} infeasible)", r.trials, r.complete, r.pruned, r.failed,
                     r.infeasible);
}

std::string interrupted_summary(const SearchReport& r) {
  std::string out = "\nsearch interrupted: the host is on its original values\n" + trial_counts(r) + "\n";
  out += "study:   " + r.study_path + "\n";
  if (!r.profile_path.empty()) out += "profile: " + r.profile_path + "\n";
  out += "next:    wgopt search --resume " + r.study_path + "   # continues this study\n";
  return out;
}

}  // namespace

std::string search_summary(const SearchReport& r) {
  if (r.outcome == "interrupted") return interrupted_summary(r);
  std::string out = "\n" + r.table;
  if (r.outcome == "promoted") {
    out += fmt::format("\nwinner confirmed: score {:.1f} vs baseline {:.1f} ({:+.1f}%): {}\n", r.winner_score, r.baseline_score,
                       r.gain_pct, r.confirmation);
  } else {
    out += "\nbaseline kept: " + r.confirmation + "\n";
  }
  for (const auto& c : r.changed) out += "  " + c + "\n";
  out += trial_counts(r) + fmt::format("; early stopping saved {:.0f}s\n", r.pruning_saved_s);
  out += r.applied ? "the host is on the winner now (`wgopt rollback` returns to the original)\n" : "the host is on its original values\n";
  out += "study:   " + r.study_path + "\nprofile: " + r.profile_path + "\n";
  out += "next:    wgopt report " + r.study_path + " --html report.html   # plots and the trial list\n" +
         "         wgopt export " + r.profile_path + " --format all --out DIR   # sysctl.d, systemd, networkd, TuneD ...\n";
  return out;
}

}  // namespace wgopt::experiments

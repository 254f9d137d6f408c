#include "experiments/search/search_summary.hpp"

#include <fmt/format.h>

namespace wgopt::experiments {

namespace {

std::string trial_counts(const SearchReport& r) {
  // A resumed study's earlier trials are said too (found by an exploratory test: "trials: 0" for a
  // resumed study whose 4 trials `wgopt report` lists).
  // A stall's void is said apart: its retry may show the stall was the values' own, not an outage.
  const int outside = r.outages - r.stalls;
  // The trial Ctrl-C stopped is one of them, in none of the states (found by an exploratory test).
  const int stopped = r.trials - r.complete - r.pruned - r.failed - r.infeasible;
  return fmt::format("trials: {} ({} complete, {} pruned, {} failed, {} infeasible{}){}{}{}{}", r.trials, r.complete, r.pruned, r.failed,
                     r.infeasible, stopped > 0 ? fmt::format(", {} interrupted", stopped) : "",
                     r.resumed_trials > 0 ? fmt::format(" in this run, after the study's {} before it", r.resumed_trials) : "",
                     outside > 0 ? fmt::format("; {} more voided by an outage outside wgopt (not counted)", outside) : "",
                     r.stalls > 0 ? fmt::format("; {} more stalled with the path up and measured again (not counted)", r.stalls) : "",
                     r.rounds_voided > 0 ? fmt::format("; {} baseline, confirmation or simplification measurement(s) voided by one and measured again", r.rounds_voided)
                                         : "");
}

// Where the ends are now: `where` ("the host is on its original values"), and the knobs a trial's
// rollback left alone, which that line is not true of (found by reading: a NetBird restart during a
// search left wt0's new MTU, and the summary still said the host was on its original values).
std::string where_ends_are(const std::string& where, const std::vector<std::string>& left_alone) {
  if (left_alone.empty()) return where + "\n";
  std::string out = fmt::format("{}, except {} knob(s) a trial's rollback left as it found them:\n", where, left_alone.size());
  for (const auto& line : left_alone) out += "  " + line + "\n";
  return out;
}

// A search that ended before its confirmation: by a signal, or with the peer lost (found by an
// exploratory test: a lost peer printed the full summary with "profile: " empty and an export
// command without a profile).
std::string ended_early_summary(const SearchReport& r, const std::string& ssh_target) {
  std::string out;
  if (r.outcome == SearchOutcome::PeerLost) {
    out = "\nsearch ended, " + r.confirmation + "\n" +
          where_ends_are("this host is on its original values (the peer restores its own by itself)", r.left_alone);
  } else {
    out = "\nsearch interrupted: " +
          where_ends_are(ssh_target.empty() ? "the host is on its original values" : "both ends are on their original values", r.left_alone);
  }
  for (const auto& e : r.peer_events) out += "peer: " + e + "\n";  // --ssh: what came of each lost session
  out += trial_counts(r) + "\n";
  out += "study:   " + r.study_path + "\n";
  if (!r.profile_path.empty()) out += "profile: " + r.profile_path + "\n";
  if (r.unapplied_winner) {  // the study is finished: nothing to resume
    out += "the profile holds the confirmed winner, not applied: " +
           (r.apply_hint.empty() ? std::string("a search applies the testbed's two ends alike") : "once the peer is back, " + r.apply_hint) + "\n";
  } else {
    out += "next:    wgopt search --resume " + r.study_path + "   # continues this study\n";
  }
  return out;
}

}  // namespace

std::string late_signal_line(const SearchReport& r, bool interrupted) {
  if (!interrupted || r.outcome == SearchOutcome::Interrupted || r.outcome == SearchOutcome::PeerLost || r.simplification_interrupted ||
      r.apply_interrupted)
    return "";
  // Found by an exploratory test: Ctrl-C or SIGTERM while the winner was applied exited 0 with no word.
  if (r.applied) {
    return fmt::format("wgopt: a signal came as the search ended, while the winner was applied for good: it stays (`wgopt rollback`{} "
                       "returns to the original)",
                       r.ssh_target.empty() ? "" : " here and `wgopt rollback --ssh " + r.ssh_target + "`");
  }
  return "wgopt: a signal came as the search ended: it had finished (" + to_string(r.outcome) + ")";
}

std::string search_summary(const SearchReport& r) {
  const std::string& ssh_target = r.ssh_target;  // a resumed two-host study's too
  if (r.outcome == SearchOutcome::Interrupted || r.outcome == SearchOutcome::PeerLost) return ended_early_summary(r, ssh_target);
  std::string out = "\n" + r.table;
  if (r.outcome == SearchOutcome::Promoted) {
    out += fmt::format("\nwinner confirmed: score {:.1f} vs baseline {:.1f} ({:+.1f}%): {}\n", r.winner_score, r.baseline_score,
                       r.gain_pct, r.confirmation);
  } else {
    out += "\nbaseline kept: " + r.confirmation + "\n";
  }
  if (!r.changes_tabled)  // else the table above lists them, each with its estimate and what stays
    for (const auto& c : r.changed) out += "  " + c + "\n";
  if (!r.simplification.empty()) out += "simplification: " + r.simplification + "\n";
  if (r.simplification_interrupted || r.apply_interrupted) {
    out += r.apply_hint.empty() ? "not applied (Ctrl-C): the profile holds the confirmed winner (the testbed's two ends are applied "
                                  "alike only by a search: no command applies it by hand)\n"
                                : "not applied (Ctrl-C): the profile holds the confirmed winner; `" + r.apply_hint + "` applies it\n";
  }
  if (!r.support.empty()) out += r.support + "\n";
  if (!r.returned.empty() && !r.changes_tabled) {
    out += "returned to the host's value (knobs that moved and did not help):\n";
    for (const auto& c : r.returned) out += "  " + c + "\n";
  }
  for (const auto& e : r.peer_events) out += "peer: " + e + "\n";
  const double saved_s = r.pruning_saved_s + r.screening_saved_s;
  const double full_s = r.measured_s + saved_s;  // full measurements of the same trials
  out += trial_counts(r) + fmt::format("; screening and early stopping saved {:.0f}s of {:.0f}s ({:.0f}% of the trials' "
                                       "measurement time: screening {:.0f}s, early stopping {:.0f}s)\n",
                                       saved_s, full_s, full_s > 0 ? 100 * saved_s / full_s : 0.0, r.screening_saved_s,
                                       r.pruning_saved_s);
  if (!ssh_target.empty()) {
    out += where_ends_are(r.applied ? "both ends are on the winner now (`wgopt rollback` here and `wgopt rollback --ssh " + ssh_target +
                                          "` return to the originals)"
                                    : "both ends are on their original values",
                          r.left_alone);
  } else {
    out += where_ends_are(r.applied ? "the host is on the winner now (`wgopt rollback` returns to the original)"
                                    : "the host is on its original values",
                          r.left_alone);
  }
  out += "study:   " + r.study_path + "\n";
  if (!r.profile_path.empty()) out += "profile: " + r.profile_path + "\n";
  out += "next:    wgopt report " + r.study_path + " --html report.html   # plots and the trial list\n";
  if (!r.profile_path.empty()) {
    out += "         wgopt export " + r.profile_path + " --format all --out DIR   # sysctl.d, systemd, networkd, TuneD ...\n";
  }
  return out;
}

}  // namespace wgopt::experiments

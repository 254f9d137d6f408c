#include "experiments/search/final_apply.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "experiments/peer/agent_client.hpp"
#include "experiments/search/policies.hpp"

namespace wgopt::experiments {

namespace {

// The winner itself broke the path (not an outage: the host's own values carry it).
class WinnerCutTunnel : public Error {
 public:
  using Error::Error;
};

// The end state: a confirmed winner stays (kept in the journal for `wgopt rollback`). Throws
// OutageEnded when the path is down with the host's own values too, WinnerCutTunnel when the
// winner cut it.
void stay_on_winner(PlantAccess& plant, OutageWatch& outages, const Values& winner) {
  AppliedCandidate applied(plant, winner, kApplyLease);
  if (!applied.alive()) {
    applied.rollback();
    // Down with the host's own values too: an outage, not the winner's doing (found in review).
    if (const auto down = outages.path_down()) {
      throw OutageEnded(fmt::format("the tunnel was down with the host's own values too ({}) when the confirmed winner was to stay: "
                                    "an outage outside wgopt; {}",
                                    *down, plant.restored("the original values are restored")));
    }
    throw WinnerCutTunnel("the confirmed winner cut the tunnel when applied for good; " +
                          plant.restored("the original values are restored") + ": " + applied.why_dead());
  }
  applied.keep();
}

// The files as they were before this run wrote them; what became of the profile (the first), for
// the error line.
std::string put_back_files(const FilesBefore& before) {
  std::string said;
  for (const auto& [path, content] : before) {
    std::string what;
    try {
      if (content) {
        write_file_atomic(path, *content);
        what = fmt::format("the profile {} is back as it was", path);
      } else {
        std::filesystem::remove(path);
        what = fmt::format("no profile is left at {}", path);
      }
    } catch (const std::exception& e) {  // Error, filesystem_error: said, and the failure reported goes on
      spdlog::error("cannot put {} back as it was ({}): it may not match the host; do not apply it", path, e.what());
      what = fmt::format("the profile {} could NOT be put back (see above)", path);
    }
    if (said.empty()) said = what;
  }
  return said;
}

// The winner did not stay: the profile and the study's result no longer name it, nor the report.
// Never throws: it runs while another exception is on its way out.
std::string withdraw_winner(const FinalApply& f, const char* status, SearchReport& report) {
  std::string said = put_back_files(f.before);
  try {
    f.store.withdraw_result(status);
    said += fmt::format(", and the study {} records no winner", f.store.path());
  } catch (const std::exception& e) {
    spdlog::error("cannot withdraw the result of study {} ({}): it names a winner the host is not on", f.store.path(), e.what());
    try {
      f.store.set_status(status);
    } catch (...) {
    }
    said += fmt::format("; the study {} could NOT be told (see above)", f.store.path());
  }
  report.changed.clear();
  report.support.clear();
  report.withdrawn = said;
  return said;
}

}  // namespace

FilesBefore files_before_profile(const std::string& profile, bool retune) {
  FilesBefore out{{profile, read_file(profile)}};
  if (retune) out.emplace_back(profile + ".prev", read_file(profile + ".prev"));  // write_profile copies the old one there
  return out;
}

void apply_for_good(const FinalApply& f, SearchReport& report) {
  try {
    stay_on_winner(f.plant, f.outages, f.winner);
    report.applied = true;
  } catch (const Interrupted&) {  // the terminal's SIGINT killed the tunnel check's ping: rolled back
    if (f.retune) {
      withdraw_winner(f, "interrupted", report);
      throw;
    }
    report.apply_interrupted = true;
    report.apply_hint = f.apply_hint;
  } catch (const OutageEnded& e) {
    if (f.retune) throw OutageEnded(fmt::format("{}; {}: the next retune measures again", e.what(), withdraw_winner(f, "failed", report)));
    const std::string way = f.apply_hint.empty() ? "on the testbed a search applies its two ends alike: search again once the path is back"
                                                 : "once the path is back, apply it: " + f.apply_hint;
    throw OutageEnded(fmt::format("{}; the profile is written and the study's result stands ({})", e.what(), way));
  } catch (const peer::PeerLost&) {  // this end is rolled back, the peer restores itself
    if (f.retune) {
      withdraw_winner(f, "interrupted", report);
    } else {  // the profile and the result stand: what applies them once the peer is back
      report.unapplied_winner = true;
      report.apply_hint = f.apply_hint;
    }
    throw;
  } catch (const WinnerCutTunnel& e) {
    throw Error(fmt::format("{}; {}", e.what(), withdraw_winner(f, "failed", report)));
  } catch (const Cancelled&) {  // a signal while waiting for the peer: as Ctrl-C in the tunnel check
    if (!f.retune) {
      report.apply_interrupted = true;
      report.apply_hint = f.apply_hint;
      return;
    }
    spdlog::error("the confirmed winner did not stay: {}", withdraw_winner(f, "interrupted", report));
    throw;
  } catch (...) {
    spdlog::error("the confirmed winner did not stay: {}", withdraw_winner(f, "failed", report));
    throw;
  }
}

}  // namespace wgopt::experiments

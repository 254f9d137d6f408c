#include "experiments/search/final_apply.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "experiments/search/policies.hpp"

namespace wgopt::experiments {

namespace {

// The end state: a confirmed winner stays (kept in the journal for `wgopt rollback`). Throws
// OutageEnded when the path is down with the host's own values too, Error when the winner cut it.
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
    throw Error("the confirmed winner cut the tunnel when applied for good; " + plant.restored("the original values are restored") + ": " +
                applied.why_dead());
  }
  applied.keep();
}

// The profile's path as it was before this run wrote it; what became of it, for the error line.
std::string put_back_profile(const FinalApply& f, const std::string& path) {
  try {
    if (f.profile_before) {
      write_file_atomic(path, *f.profile_before);
      return fmt::format("the profile {} is back as it was", path);
    }
    std::filesystem::remove(path);
    return fmt::format("no profile is left at {}", path);
  } catch (const std::exception& e) {  // Error, filesystem_error: said, and the failure reported goes on
    spdlog::error("cannot put the profile {} back as it was ({}): it names a winner the host is not on; do not apply it", path, e.what());
    return fmt::format("the profile {} could NOT be put back (see above)", path);
  }
}

// The winner did not stay: the profile and the study's result no longer name it.
std::string withdraw_winner(const FinalApply& f, const std::string& path, const char* status) {
  const std::string profile = put_back_profile(f, path);
  f.store.withdraw_result(status);
  return fmt::format("{}, and the study {} records no winner", profile, f.store.path());
}

}  // namespace

void apply_for_good(const FinalApply& f, SearchReport& report) {
  const std::string& path = report.profile_path;
  try {
    stay_on_winner(f.plant, f.outages, f.winner);
    report.applied = true;
  } catch (const Interrupted&) {  // the terminal's SIGINT killed the tunnel check's ping: rolled back
    if (f.retune) {
      withdraw_winner(f, path, "interrupted");
      throw;
    }
    report.apply_interrupted = true;
    report.apply_hint = f.apply_hint;
  } catch (const OutageEnded& e) {
    if (f.retune) throw OutageEnded(fmt::format("{}; {}: the next retune measures again", e.what(), withdraw_winner(f, path, "failed")));
    const std::string hint = f.apply_hint.empty() ? "wgopt apply " + path : f.apply_hint;
    throw OutageEnded(fmt::format("{}; the profile is written and the study's result stands: once the path is back, `{}`", e.what(), hint));
  } catch (const Error& e) {
    throw Error(fmt::format("{}; {}", e.what(), withdraw_winner(f, path, "failed")));
  }
}

}  // namespace wgopt::experiments

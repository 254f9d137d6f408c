#pragma once
// How a search or a retune ended: one enum, one spelling. The spelling is what `--json`, the study's
// result row, the Prometheus metrics and the exported files' headers show.
//
//   SearchOutcome o = SearchOutcome::Promoted;
//   to_string(o)                        -> "promoted"
//   parse_search_outcome("kept-baseline") -> SearchOutcome::KeptBaseline
//   parse_search_outcome("bogus")         -> std::nullopt
#include <optional>
#include <string>
#include <string_view>

namespace wgopt::experiments {

enum class SearchOutcome {
  Promoted,      // search: a confirmed winner is the new profile
  KeptBaseline,  // search: nothing beat the host's own values
  NoTrials,      // search: no trial completed
  Interrupted,   // search or retune: stopped by a signal; the host is restored
  Holds,         // retune: no drift, the score is within the tolerance of the evidence
  Retuned,       // retune: a confirmed winner replaced the profile
  RolledBack,    // retune: drifted knobs were put back to the profile
  Degraded,      // retune: the score regressed and nothing better was found
  PeerLost,      // search --ssh: the peer could not be reached again; this end restored, the peer restores itself
};

std::string to_string(SearchOutcome o);
std::optional<SearchOutcome> parse_search_outcome(std::string_view s);

}  // namespace wgopt::experiments

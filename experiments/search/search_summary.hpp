#pragma once
// What `wgopt search` prints on stdout when it ends (without --json): the comparison table, the
// confirmation's verdict, the knobs changed, the trial counts, where the host is, the study and the
// profile, and the next commands. An interrupted search says only what is true of it: how far it
// got, that the host is on its original values, the study and how to continue; no verdict, and no
// profile unless one was written (report.profile_path is empty then). Pure: tests compare strings.
#include <string>

#include "experiments/search/search.hpp"

namespace wgopt::experiments {

// With report.ssh_target (--ssh, or a resumed two-host study) the lines about the end state name both ends.
std::string search_summary(const SearchReport& report);

// What a signal that arrived after the search's last point of return did (`interrupted` is set,
// yet the search ended otherwise: it came while the winner was applied for good, or after): the
// stderr line, or "" when there was none or the search already said it stopped for one.
std::string late_signal_line(const SearchReport& report, bool interrupted);

}  // namespace wgopt::experiments

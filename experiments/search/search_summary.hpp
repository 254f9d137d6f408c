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

}  // namespace wgopt::experiments

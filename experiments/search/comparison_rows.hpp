#pragma once
// The §7.1 rows of a search (baseline, winner): throughput, the hottest core's %soft, softnet and
// NIC drops, averaged over the measurements of one configuration, and beside them the UDP receive
// errors and the score, which the drops charge (comparison_table shows those two when measured).
#include <string>
#include <vector>

#include "experiments/measure/measure.hpp"
#include "experiments/report/table.hpp"

namespace wgopt::experiments {

// What the probes of one end saw, summed over the measurements added.
struct EndAverages {
  double top_soft = 0, softnet = 0, nic = 0, udp_errors = 0;
  int top_core = -1;
  int n = 0;
};

struct Averages {
  double throughput = 0, score = 0;  // the path's, summed
  int n = 0;  // measurements added
  EndAverages local;  // this end's probes
  EndAverages far;  // the far end's probes (--ssh), when measured
  double mean_throughput() const { return n > 0 ? throughput / n : 0; }
  double mean_score() const { return n > 0 ? score / n : 0; }
};

// Adds one scored measurement (a failed one adds nothing).
void accumulate(Averages& a, const Evaluation& ev);

// Multiplies the drop and UDP error counts (both ends') by `factor`: measurements of another length read per
// measurement of the table's (a 5 s check's drops in "drops/10s": 2).
void scale_drops(Averages& a, double factor);

// The row for `label`; empty numbers when nothing was added.
ComparisonRow to_row(const std::string& label, const Averages& a);

// The rows of one configuration: one row, or with the far end measured one row per end ("LABEL:
// local", "LABEL: peer", the same throughput on both: it is the path's).
std::vector<ComparisonRow> end_rows(const std::string& label, const Averages& a);

}  // namespace wgopt::experiments

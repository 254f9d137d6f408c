#pragma once
// The §7.1 rows of a search (baseline, winner): throughput, the hottest core's %soft, softnet and
// NIC drops, averaged over the measurements of one configuration.
#include <string>

#include "experiments/measure/measure.hpp"
#include "experiments/report/table.hpp"

namespace wgopt::experiments {

struct Averages {
  double throughput = 0, top_soft = 0, softnet = 0, nic = 0;
  int top_core = -1;
  int n = 0;  // measurements added
  double mean_throughput() const { return n > 0 ? throughput / n : 0; }
};

// Adds one scored measurement (a failed one adds nothing).
void accumulate(Averages& a, const Evaluation& ev);

// The row for `label`; empty numbers when nothing was added.
ComparisonRow to_row(const std::string& label, const Averages& a);

}  // namespace wgopt::experiments

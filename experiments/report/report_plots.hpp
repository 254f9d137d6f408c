#pragma once
// The report's plots as inline SVG (one <svg> element each, ids fixed so tests and links find them):
//   convergence-trials   best score so far vs trial number
//   convergence-minutes  the same vs minutes since the study began
//     both: every trial a point (complete = filled, pruned = hollow ring at its estimated score,
//     failed / infeasible = x on the bottom edge), the best-so-far step line, the baseline mean as
//     a dashed line with its 95% band, the winner ringed
//   knob-effect          per-knob main effect: one bar per (knob, value), the value's mean score
//                        minus the reference, with n; the method is printed under the title
//   core-load            per CPU, busy % (usr + sys + soft) baseline vs winner, the soft part darker
// A plot without data says so inside the same <svg> (it is never silently missing).
#include <string>

#include "experiments/report/report_data.hpp"

namespace wgopt::experiments {

enum class ConvergenceAxis { Trial, Minutes };

std::string convergence_svg(const ReportData& d, ConvergenceAxis axis);
std::string knob_effect_svg(const ReportData& d);
std::string core_load_svg(const ReportData& d);

}  // namespace wgopt::experiments

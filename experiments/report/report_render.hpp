#pragma once
// `wgopt report` renderers: ReportData -> text (the terminal), Markdown, one self-contained HTML
// page (inline CSS and SVG, no scripts, no external URLs) or JSON. Pure: strings in, strings out.
// Every string that came from a study is escaped for the format it goes into.
//
// Order of every format: the header (study, host, strategy, seed, budget, status, outcome, gain
// with its interval and p-value, profile), the field guide's §7.1 table, the knobs that moved,
// the plots (HTML only; the other formats give the same numbers as tables), the trial list.
//
// HTML ids that tests and users can rely on: header, comparison-table, moved-knobs,
// convergence-trials, convergence-minutes, knob-effect, core-load, trial-count, trial-list,
// and status-running (present only while the study is running).
#include <string>

#include <nlohmann/json.hpp>

#include "experiments/report/report_data.hpp"

namespace wgopt::experiments {

std::string render_report_text(const ReportData& d);
std::string render_report_markdown(const ReportData& d);
std::string render_report_html(const ReportData& d);
nlohmann::json report_to_json(const ReportData& d);

}  // namespace wgopt::experiments

#pragma once
// `wgopt report`: reductions of a study's JSON records into the report's numbers. Internal to
// report_data.cpp (split out to keep files readable); every function tolerates missing or
// malformed keys, since older studies lack some of them.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "experiments/report/report_data.hpp"
#include "experiments/report/table.hpp"

namespace wgopt::experiments::report_reduce {

// j[key] when it is a finite number.
std::optional<double> number_at(const nlohmann::json& j, const char* key);

// j[key] when it is a CPU number (a whole number in 0..kMaxCpu); a hand-edited 1e300 or -1 is no CPU.
inline constexpr double kMaxCpu = 65535;
std::optional<int> cpu_at(const nlohmann::json& j, const char* key);

// Mean throughput over the scenarios of one record's metrics (as `wgopt search` averages them);
// the record's weighted "throughput_mbps" when no scenario has one.
std::optional<double> throughput_of(const nlohmann::json& metrics);

// The §7.1 numbers of several records (one measurement each), averaged over the records:
// throughput and score from `metrics`; top core %soft (the hottest scenario's), softnet and NIC +
// interface drops and UDP errors (mean per scenario) from `probes`, the records' probes_json()
// objects. Values without data (UDP errors in a study written before the probes counted them)
// stay unset and render as "-". `to_window` scales the drop counts to the table's window (a full
// measurement: 2 for a trial screened at half the length). A two-host study (--ssh) stored the far
// end's probes too (each scenario's "far"): two rows then, "<label>: local" and "<label>: peer",
// as the search's own table prints them, since the score charged both ends' drops.
std::vector<ComparisonRow> comparison_rows(const std::string& label, const std::vector<const nlohmann::json*>& metrics,
                                           const std::vector<const nlohmann::json*>& probes, double to_window = 1.0);

// Per-CPU usr/sys/soft averaged over every scenario of every record; empty without "cores".
std::vector<CoreLoad> core_loads(const std::vector<const nlohmann::json*>& probes);

// metrics["probes"] of a baseline or confirmation record, or null when the record has none (studies
// written before per-core probes were stored with those records).
const nlohmann::json* probes_in_metrics(const nlohmann::json& metrics);

// Per-knob main effect over the complete trials (see KnobEffect), largest spread first.
std::vector<KnobEffect> knob_effects(const std::vector<ReportTrial>& trials, double reference);

}  // namespace wgopt::experiments::report_reduce

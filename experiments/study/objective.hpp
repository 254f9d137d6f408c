#pragma once
// The objective: what "better" means for a candidate, read from a YAML file.
//
// score = sum over scenarios of weight_s * (throughput_s - drop_penalty_s - imbalance_penalty_s)
//         / sum of weights
//   drop_penalty_s      = sum over sources (softnet column 2, NIC, interface, UDP errors) of
//                         weight_source * max(0, drops_per_second - drop_allowance_per_s)
//   imbalance_penalty_s = imbalance * (busy % of the hottest core - mean busy % over all cores)
// All in Mbit/s, so a score reads as "throughput, minus what its side effects cost". The field guide
// calls a few drops per 30 s normal and thousands per second a problem (§5.3), and asks for work
// spread over the cores (§6.1, §10); the defaults encode that: a dropped packet costs about what it carried
// (0.01 Mbit/s per drop/s: a 1250-byte packet), so 1000 softnet drops/s cost 10 Mbit/s,
// one core 50 points busier than the mean costs 50 Mbit/s.
//
// The file (every key optional; these are the defaults, also in experiments/study/objective.default.yaml):
//
//   duration: 10s             # iperf3 run per scenario and measurement, whole seconds, 2s..1h
//   scenarios:                # the field guide's five: tcp, tcp-rev, udp, udp-64, single
//     - name: tcp             # iperf3 -P 8
//       weight: 1             # 0.001..1000; weights are normalised to sum 1
//       penalize_drops: true       # default false for udp and udp-64: a -b 0 flood overflows by
//                                  # design and its received rate already counts the loss
//       penalize_imbalance: true   # default false for single: one flow is one core (guide §6.2)
//   penalties:
//     drop_allowance_per_s: 3  # per source, 0..1000000; the guide's "sub-100 per 30 s test" is trivial
//     softnet_drops: 0.01      # Mbit/s per drop/s above the allowance, 0..100
//     nic_drops: 0.01          # 0..100
//     interface_drops: 0.01    # 0..100
//     udp_errors: 0.01         # 0..100
//     imbalance: 1.0           # Mbit/s per percentage point of (hottest core - mean), 0..100
// The ranges keep every score a finite number that moves with throughput: weights of 1e308 summed
// to infinity and made every score 0, and a penalty of 1e308 drowns any throughput.
//
// Inputs are plain numbers (not the probes' types): the loop maps its probe summaries onto
// Measurement.
#include <array>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace wgopt::experiments {

// The field guide's five scenarios (§2.1), by the names users type.
inline constexpr std::array<std::string_view, 5> kScenarioNames = {"tcp", "tcp-rev", "udp", "udp-64", "single"};

struct ScenarioSpec {
  std::string name;  // one of kScenarioNames
  double weight = 1;
  bool penalize_drops = true;
  bool penalize_imbalance = true;

  bool operator==(const ScenarioSpec&) const = default;
};

// The per-scenario defaults documented above (penalty switches depend on the scenario).
ScenarioSpec default_scenario_spec(const std::string& name);

struct Penalties {
  double drop_allowance_per_s = 3;
  double softnet_drops = 0.01;
  double nic_drops = 0.01;
  double interface_drops = 0.01;
  double udp_errors = 0.01;
  double imbalance = 1.0;

  bool operator==(const Penalties&) const = default;
};

struct Objective {
  std::chrono::seconds duration{10};
  std::vector<ScenarioSpec> scenarios{default_scenario_spec("tcp")};
  Penalties penalties;

  bool operator==(const Objective&) const = default;
};

// The ranges parse_objective accepts (documented above).
inline constexpr double kWeightMin = 0.001, kWeightMax = 1000;
inline constexpr double kPenaltyMax = 100;          // Mbit/s per drop/s, or per point of imbalance
inline constexpr double kDropAllowanceMax = 1e6;    // drops/s

// Parses and validates an objective. `source` names it in errors ("objective file 'x.yaml'").
// Throws UsageError naming the entry, the value and the allowed range: unknown keys, unknown or
// duplicate scenarios, weights or penalties outside their ranges or not finite, a duration that is
// not whole seconds in 2s..1h.
Objective parse_objective(const std::string& yaml_text, const std::string& source = "objective");
// Reads and parses a file; UsageError if it cannot be read.
Objective load_objective(const std::string& path);
// YAML that parse_objective turns back into an equal Objective (what the study file stores).
std::string objective_to_yaml(const Objective& objective);

// Drops per second during a measurement, by where they were counted.
struct DropRates {
  double softnet = 0;     // /proc/net/softnet_stat column 2, all CPUs
  double nic = 0;         // ethtool -S drop / miss counters of the underlay NIC
  double interface = 0;   // rx_dropped + tx_dropped of the underlay and tunnel interfaces
  double udp_errors = 0;  // /proc/net/snmp Udp InErrors (which counts RcvbufErrors too)
};

struct ScenarioMeasurement {
  double throughput_mbps = 0;         // receiver-side mean, Mbit/s
  DropRates drops_per_s;
  std::vector<double> core_busy_pct;  // mean busy % (100 - idle - iowait) per core; empty: not measured
  std::vector<double> far_core_busy_pct;  // the same on the far end (a peer over SSH); the worse end's imbalance counts
};

// By scenario name; must hold every scenario of the objective (extra ones are ignored).
using Measurement = std::map<std::string, ScenarioMeasurement>;

struct ScenarioScore {
  std::string name;
  double weight = 0;            // normalised
  double throughput_mbps = 0;
  double drop_penalty = 0;      // Mbit/s
  double imbalance_pct = 0;     // hottest core busy % - mean busy % (of the worse end when both are measured)
  double imbalance_penalty = 0; // Mbit/s
  double score = 0;             // throughput - penalties
};

struct Score {
  double value = 0;             // the number the optimizer maximises
  double throughput_mbps = 0;   // weighted mean throughput
  double drop_penalty = 0;      // weighted
  double imbalance_penalty = 0; // weighted
  std::vector<ScenarioScore> scenarios;  // in objective order
};

// Throws wgopt::Error naming the scenario when one is missing from `m` or a number is negative,
// not finite, or a busy % is above 100.
Score score(const Objective& objective, const Measurement& m);

// {"value": .., "throughput_mbps": .., "drop_penalty": .., "imbalance_penalty": .., "scenarios":
// [{"name": "tcp", "weight": .., ...}]}: the breakdown a study stores with each trial.
nlohmann::json score_to_json(const Score& s);

}  // namespace wgopt::experiments

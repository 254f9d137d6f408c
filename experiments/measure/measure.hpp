#pragma once
// One measurement of the objective on the live plant: each scenario of the objective runs as an
// iperf3 client with the probes' Sampler on, the per-second throughput feeds the pruner (early
// stopping), and the probe summaries become the plain numbers the score reads. Used by the search
// for the baseline rounds, every trial and the confirmation rounds.
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/exec.hpp"
#include "common/place.hpp"
#include "experiments/measure/plant.hpp"
#include "experiments/study/objective.hpp"
#include "experiments/study/pruner.hpp"
#include "probes/samples.hpp"
#include "workload/iperf3_result.hpp"

namespace wgopt::experiments {

// The bare connect+close of Plant::recycle_server_listener (plant.hpp), from plant.client to the server; waits up to 2 s for the
// connection and 200 ms for iperf3 to listen again. Failures are left to the measurement to report.
void recycle_server_listener(const Plant& plant);

struct ScenarioOutcome {
  std::string scenario;
  workload::RunResult run;            // iperf3's own numbers
  probes::Summary probes;             // what the sampler saw
  std::optional<probes::Summary> far_probes;  // what the far end's own probes saw (MeasureOptions::far_end)
  ScenarioMeasurement measurement;    // the numbers the score reads
  std::vector<double> series_mbps;    // per-second rate on plant.rate_iface
  double series_mean_mbps = 0;
  bool pruned = false;
  std::string prune_reason;
};

struct Evaluation {
  enum class State { Complete, Pruned, Failed, Interrupted } state = State::Complete;
  std::optional<Score> score;         // complete: the score; pruned: an estimate (see estimate_pruned)
  std::vector<ScenarioOutcome> scenarios;
  std::string note;                   // why failed / pruned
  double seconds = 0;                 // wall time measuring
  double saved_seconds = 0;           // measurement time early stopping did not spend
  // Per scenario: throughput, drops, retransmits, loss ...; with_probes adds probes_json() under
  // "probes" (baseline and confirmation records have no probes column; reports read per-core load).
  nlohmann::json metrics_json(bool with_probes = false) const;
  nlohmann::json probes_json() const;   // per scenario: top core %soft/%sys, softnet, NIC drops
};

// Reference for early stopping, per scenario: the incumbent's mean per-second rate and its noise.
using PruneReferences = std::map<std::string, PruneReference>;

// The probes of an end this process cannot see (a peer reached over SSH): started before each
// scenario's iperf3 client and stopped after it. Either may throw (a lost peer: peer::PeerLost);
// the measurement then ends with that exception.
class FarEndProbes {
 public:
  virtual ~FarEndProbes() = default;
  virtual void start() = 0;
  virtual probes::Summary stop() = 0;
};

struct MeasureOptions {
  const PruneReferences* prune = nullptr;  // null: never prune
  PrunerOptions pruner;
  const std::atomic<bool>* interrupted = nullptr;  // set by SIGINT/SIGTERM: stop now
  // True once the measurement can no longer mean anything (the peer's session is lost: the peer has
  // put its own originals back): the run stops at once and the evaluation is Failed with
  // kAbandonedNote. Null: never.
  std::function<bool()> abandoned;
  std::shared_ptr<CommandRunner> runner;  // null: the real one
  FarEndProbes* far_end = nullptr;        // null: only this end's probes
  // The leading seconds of each scenario's run that iperf3 leaves out of its summary (-O), and so
  // out of the score: slow start. A run of the objective's duration D is `-O W -t D-W` (W at most
  // D-1), so it lasts D seconds as before and a short screening run and a full one score the same
  // steady rate (bench/README: without it a 5 s run charged a slow ramp twice what a 10 s one did).
  int omit_seconds = 1;
};

inline constexpr const char* kAbandonedNote = "abandoned: the measurement no longer means anything";

Evaluation measure_objective(const Plant& plant, const Objective& objective, const MeasureOptions& options);

// The score a pruned candidate would plausibly reach: the incumbent's score scaled by the ratio of
// the candidate's rate to the incumbent's on the scenario where it was stopped. Used only to tell
// the optimizer "this region is worse", never to promote anything.
double estimate_pruned(double incumbent_score, double candidate_rate, double incumbent_rate);

// Probe summary -> the numbers the score reads. With `far` (the other end's probes), its drops add
// to this end's and its per-core load is the far end's imbalance (the score takes the worse end).
ScenarioMeasurement to_measurement(const workload::RunResult& run, const probes::Summary& s,
                                   const probes::Summary* far = nullptr);

}  // namespace wgopt::experiments

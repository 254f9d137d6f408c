#pragma once
// JSON for what the probes produce, so `wgopt baseline --json` and the study store write one
// layout: nlohmann's ADL hooks (`nlohmann::json j = summary;`). Write-only by design: a stored run
// is evidence to read, never fed back into the probes.
#include <nlohmann/json.hpp>

#include "probes/diagnosis.hpp"
#include "probes/samples.hpp"

namespace wgopt::probes {

void to_json(nlohmann::json& j, const CpuUsage& c);
void to_json(nlohmann::json& j, const IrqDelta& d);
void to_json(nlohmann::json& j, const IfaceCounters& c);
void to_json(nlohmann::json& j, const SecondSample& s);
void to_json(nlohmann::json& j, const Summary& s);
void to_json(nlohmann::json& j, const Finding& f);
void to_json(nlohmann::json& j, const HostFacts& h);

}  // namespace wgopt::probes

#pragma once
// JSON for what the probes produce, so `wgopt baseline --json`, the study store and the peer agent
// (which samples the far end of a path and sends its result over SSH) write one layout: nlohmann's
// ADL hooks (`nlohmann::json j = summary;`, `auto s = j.get<probes::Summary>();`).
// from_json reads that layout back. A Summary round-trips whole (the derived "interface_drops" is
// recomputed, not read). A SecondSample is kept lean for stored series: its per-CPU softnet rows are
// not written, and of its IRQs only the data-path ones (what early stopping and the plots read), so
// those come back empty / filtered. Places are written as "host" / "netns NAME" and interfaces as
// label() ("name" or "netns/name"); on a peer they name the peer's own places.
// from_json throws nlohmann::json::exception on a missing or mistyped field.
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

void from_json(const nlohmann::json& j, CpuUsage& c);
void from_json(const nlohmann::json& j, IrqDelta& d);
void from_json(const nlohmann::json& j, IfaceCounters& c);
void from_json(const nlohmann::json& j, SecondSample& s);
void from_json(const nlohmann::json& j, Summary& s);

// "host" -> the host, "netns NAME" -> that namespace (Place::describe() read back). Throws Error.
Place place_from_description(const std::string& text);
// label() read back: "name" on the host, "netns/name" in a namespace.
WatchedInterface watched_from_label(const std::string& label);

}  // namespace wgopt::probes

#pragma once
// The actuators' types as JSON, both ways, so a knob's descriptor, its presence, a transaction's
// steps and a restore report can cross a process boundary (the peer agent speaks them over SSH) and
// come back as the same C++ values. nlohmann's ADL hooks: `json j = descriptor; auto d = j.get<Descriptor>();`.
// from_json throws nlohmann::json::exception (type_error / out_of_range) on a missing or mistyped
// field and wgopt::Error on an unknown enum name; callers that read untrusted text catch both.
// These are wire forms; the `wgopt knobs --json` layout for people stays in cli/knob_cli.cpp.
#include <nlohmann/json.hpp>

#include "actuators/knob.hpp"
#include "actuators/restore.hpp"
#include "actuators/transaction.hpp"

namespace wgopt::act {

Scope scope_from_string(const std::string& s);          // "global" ...; throws Error
ValueType value_type_from_string(const std::string& s);  // "int" ...; throws Error
Outcome outcome_from_string(const std::string& s);       // "restored" ...; throws Error

void to_json(nlohmann::json& j, const Domain& d);
void from_json(const nlohmann::json& j, Domain& d);
void to_json(nlohmann::json& j, const Descriptor& d);
void from_json(const nlohmann::json& j, Descriptor& d);
void to_json(nlohmann::json& j, const Presence& p);
void from_json(const nlohmann::json& j, Presence& p);
void to_json(nlohmann::json& j, const Step& s);
void from_json(const nlohmann::json& j, Step& s);
// RestoreItem's place is written as place_key() ("host", "netns:NAME").
void to_json(nlohmann::json& j, const RestoreItem& i);
void from_json(const nlohmann::json& j, RestoreItem& i);
void to_json(nlohmann::json& j, const RestoreReport& r);
void from_json(const nlohmann::json& j, RestoreReport& r);

}  // namespace wgopt::act

#include "actuators/knob_json.hpp"

#include <fmt/format.h>

#include "actuators/journal.hpp"
#include "common/error.hpp"

namespace wgopt::act {

using nlohmann::json;

namespace {
template <typename E, size_t N>
E from_name(const std::string& s, const E (&all)[N], const char* what) {
  for (E e : all) {
    if (s == to_string(e)) return e;
  }
  throw Error(fmt::format("unknown {} '{}'", what, s));
}
}  // namespace

Scope scope_from_string(const std::string& s) {
  static constexpr Scope all[] = {Scope::Global, Scope::Netns, Scope::Device, Scope::Irq, Scope::Service};
  return from_name(s, all, "knob scope");
}

ValueType value_type_from_string(const std::string& s) {
  static constexpr ValueType all[] = {ValueType::Int,  ValueType::Triple, ValueType::Mask,
                                      ValueType::Bool, ValueType::Enum,   ValueType::Service};
  return from_name(s, all, "knob value type");
}

Outcome outcome_from_string(const std::string& s) {
  static constexpr Outcome all[] = {Outcome::Restored, Outcome::Unchanged, Outcome::ChangedByOther, Outcome::Gone,
                                    Outcome::Failed};
  return from_name(s, all, "restore outcome");
}

void to_json(json& j, const Domain& d) {
  j = {{"min", d.min}, {"max", d.max}, {"pow2", d.pow2}, {"log", d.log}, {"mask_bits", d.mask_bits}, {"choices", d.choices}};
}

void from_json(const json& j, Domain& d) {
  j.at("min").get_to(d.min);
  j.at("max").get_to(d.max);
  j.at("pow2").get_to(d.pow2);
  j.at("log").get_to(d.log);
  j.at("mask_bits").get_to(d.mask_bits);
  j.at("choices").get_to(d.choices);
}

void to_json(json& j, const Descriptor& d) {
  j = {{"id", d.id},         {"kind", d.kind},     {"scope", to_string(d.scope)}, {"type", to_string(d.type)},
       {"domain", d.domain}, {"order", d.order},   {"reason", d.reason},          {"device", d.device}};
}

void from_json(const json& j, Descriptor& d) {
  j.at("id").get_to(d.id);
  j.at("kind").get_to(d.kind);
  d.scope = scope_from_string(j.at("scope").get<std::string>());
  d.type = value_type_from_string(j.at("type").get<std::string>());
  j.at("domain").get_to(d.domain);
  j.at("order").get_to(d.order);
  j.at("reason").get_to(d.reason);
  j.at("device").get_to(d.device);
}

void to_json(json& j, const Presence& p) { j = {{"present", p.present}, {"writable", p.writable}, {"why_not", p.why_not}}; }

void from_json(const json& j, Presence& p) {
  j.at("present").get_to(p.present);
  j.at("writable").get_to(p.writable);
  j.at("why_not").get_to(p.why_not);
}

void to_json(json& j, const Step& s) { j = {{"id", s.id}, {"before", s.before}, {"after", s.after}, {"written", s.written}}; }

void from_json(const json& j, Step& s) {
  j.at("id").get_to(s.id);
  j.at("before").get_to(s.before);
  j.at("after").get_to(s.after);
  j.at("written").get_to(s.written);
}

void to_json(json& j, const RestoreItem& i) {
  j = {{"id", i.id},       {"place", place_key(i.place)}, {"outcome", to_string(i.outcome)},
       {"found", i.found}, {"goal", i.goal},              {"ours", i.ours},
       {"detail", i.detail}};
}

void from_json(const json& j, RestoreItem& i) {
  j.at("id").get_to(i.id);
  i.place = place_from_key(j.at("place").get<std::string>());
  i.outcome = outcome_from_string(j.at("outcome").get<std::string>());
  j.at("found").get_to(i.found);
  j.at("goal").get_to(i.goal);
  j.at("ours").get_to(i.ours);
  j.at("detail").get_to(i.detail);
}

void to_json(json& j, const RestoreReport& r) {
  j = {{"items", r.items}, {"archived", r.archived}, {"left_alone_record", r.left_alone_record}};
}

void from_json(const json& j, RestoreReport& r) {
  j.at("items").get_to(r.items);
  j.at("archived").get_to(r.archived);
  r.left_alone_record = j.value("left_alone_record", "");  // an older peer's wgopt does not send it
}

}  // namespace wgopt::act

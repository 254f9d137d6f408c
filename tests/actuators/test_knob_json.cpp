// actuators/knob_json.hpp: descriptors, presence, steps and restore reports cross the SSH session
// to and from the peer agent as JSON and come back unchanged.
#include <catch2/catch.hpp>

#include "actuators/knob_json.hpp"
#include "common/error.hpp"

using namespace wgopt;
using namespace wgopt::act;
using nlohmann::json;

TEST_CASE("knob JSON: descriptor, presence, step and restore report round-trip", "[actuators][json]") {
  Descriptor d{.id = "wge-ws/rps_cpus", .kind = "rps_cpus", .scope = Scope::Device, .type = ValueType::Mask,
               .domain = {.min = 0, .max = 3, .pow2 = false, .log = false, .mask_bits = 2, .choices = {}},
               .order = 30, .reason = "spread receive work", .device = "wge-ws"};
  const Descriptor d2 = json(d).get<Descriptor>();
  CHECK(json(d2) == json(d));
  CHECK(d2.scope == Scope::Device);
  CHECK(d2.type == ValueType::Mask);
  CHECK(d2.domain.mask_bits == 2);

  Descriptor e{.id = "net.ipv4.tcp_congestion_control", .kind = "sysctl", .type = ValueType::Enum,
               .domain = {.choices = {"reno", "cubic"}}};
  CHECK(json(json(e).get<Descriptor>()) == json(e));

  Presence p{.present = true, .writable = false, .why_not = "read-only in a child namespace"};
  CHECK(json(json(p).get<Presence>()) == json(p));
  Step s{.id = "wge-ws/mtu", .before = "1420", .after = "1380", .written = true};
  CHECK(json(json(s).get<Step>()) == json(s));

  RestoreReport r;
  r.items.push_back({.id = "net.ipv4.tcp_rmem", .place = Place::netns("wge-srv"), .outcome = Outcome::Restored,
                     .found = "4096 1 2", .goal = "4096 131072 6291456", .ours = "4096 1 2"});
  r.items.push_back({.id = "wge-ws/mtu", .place = Place::host(), .outcome = Outcome::Failed, .detail = "EBUSY"});
  const RestoreReport r2 = json(r).get<RestoreReport>();
  CHECK(json(r2) == json(r));
  CHECK(r2.items[0].place == Place::netns("wge-srv"));
  CHECK_FALSE(r2.ok());
  CHECK(r2.items[1].line() == r.items[1].line());
}

TEST_CASE("knob JSON: unknown enum names and missing fields throw", "[actuators][json]") {
  json j = Descriptor{.id = "x"};
  j["scope"] = "galaxy";
  CHECK_THROWS_AS(j.get<Descriptor>(), Error);
  j = Descriptor{.id = "x"};
  j.erase("domain");
  CHECK_THROWS(j.get<Descriptor>());
  CHECK_THROWS_AS(outcome_from_string("vanished"), Error);
}

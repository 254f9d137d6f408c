// Contract between the knobs and the exported script: every value a knob reads on this machine
// exports, and the script writes knobs in the order the transaction applies them (each knob's
// Descriptor::order). Both come from actuators/knob_kinds.hpp's table (export renders profiles on
// machines that lack the knobs, so it cannot ask them); this checks the knobs really use it.
#include <catch2/catch.hpp>
#include <map>

#include "actuators/catalog.hpp"
#include "actuators/host.hpp"
#include "actuators/knob_kinds.hpp"
#include "common/error.hpp"
#include "experiments/export/export_model.hpp"

using namespace wgopt;

TEST_CASE("export orders every knob this machine has as the transaction does, and takes every value it reads", "[export]") {
  auto host = act::make_host(Place::host());
  auto knobs = act::discover_knobs(host);
  act::Profile profile;
  std::map<std::string, int> want;
  for (const auto& k : knobs) {
    if (!k->presence().present) continue;
    std::string value;
    try {
      value = k->read();
    } catch (const Error&) {
      continue;  // present but unreadable as this user: nothing to export
    }
    profile.knobs.emplace_back(k->id(), value);
    want[k->id()] = k->descriptor().order;
  }
  REQUIRE(profile.knobs.size() >= 5);  // sysctls at least, on any Linux
  experiments::ExportOptions options;
  experiments::exportfmt::Model model;
  try {
    model = experiments::exportfmt::build_model(profile, options);
  } catch (const UsageError& e) {
    FAIL("a value a knob read here does not export: " << e.what());
  }
  REQUIRE(model.knobs.size() == profile.knobs.size());
  for (const auto& k : model.knobs) {
    INFO(k.id << " (" << k.kind << ")");
    CHECK(k.order == want.at(k.id));
  }
}

TEST_CASE("every knob this machine has is described by the kinds table", "[export][kinds]") {
  auto host = act::make_host(Place::host());
  for (const auto& k : act::discover_knobs(host)) {
    const auto& d = k->descriptor();
    INFO(d.id);
    const auto spec = act::kind_spec(d.id);
    REQUIRE(spec);
    CHECK(d.kind == spec->kind);
    CHECK(d.scope == spec->scope);
    CHECK(d.type == spec->type);
    CHECK(d.order == spec->order);
    CHECK(d.restore_order == spec->restore_order);
    CHECK(d.resolved_when_written == spec->resolved_when_written);
  }
  CHECK_FALSE(act::kind_spec("eth0/no_such_knob"));
  CHECK_FALSE(act::kind_spec("net.no.such.sysctl"));
  CHECK_THROWS_WITH(act::static_canonical("eth0/mtu", "99999", std::nullopt),
                    "knob eth0/mtu has value '99999': use an integer in [68, 65535]");
  CHECK(act::static_canonical("eth0/offload/gro", " true", std::nullopt) == "on");
  // A qdisc as the congestion control, or the reverse, is wrong on every host; each hint names its own kind
  // (found by an exploratory test: exported swapped, and the hint named qdiscs for either).
  CHECK_THROWS_WITH(act::static_canonical("net.ipv4.tcp_congestion_control", "pfifo_fast", std::nullopt),
                    Catch::Contains("pfifo_fast is a qdisc, not a congestion control: use a congestion control this kernel offers, "
                                    "such as bbr, cubic or reno"));
  CHECK_THROWS_WITH(act::static_canonical("net.core.default_qdisc", "cubic", std::nullopt),
                    Catch::Contains("cubic is a congestion control, not a qdisc: use a qdisc such as fq, fq_codel or pfifo_fast"));
  CHECK_THROWS_WITH(act::static_canonical("net.ipv4.tcp_congestion_control", "BBR!", std::nullopt),
                    Catch::Contains("use a congestion control this kernel offers, such as bbr, cubic or reno") && !Catch::Contains("fq"));
  CHECK(act::static_canonical("net.ipv4.tcp_congestion_control", "bbr", std::nullopt) == "bbr");
  CHECK(act::static_canonical("net.core.default_qdisc", "fq_codel", std::nullopt) == "fq_codel");
}

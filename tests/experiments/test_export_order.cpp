// Contract between the knobs and the exported script: every value a knob reads on this machine
// exports, and the script writes knobs in the order the transaction applies them (each knob's
// Descriptor::order), because export_model.cpp keeps its own kind -> order table (it renders
// profiles on machines that lack the knobs, so it cannot ask them).
#include <catch2/catch.hpp>
#include <map>

#include "actuators/catalog.hpp"
#include "actuators/host.hpp"
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

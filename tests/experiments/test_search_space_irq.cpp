// The optimizer's space for IRQ affinity: a categorical of placements with the host's own masks
// ("as found") first, whatever masks the IRQs have, so a NIC whose IRQs differ can be searched.
// (That the knob accepts and writes every such value: tests/actuators/test_irq_affinity.cpp.)
#include <catch2/catch.hpp>

#include "actuators/irq_placement.hpp"
#include "experiments/search/search_space.hpp"

using namespace wgopt;
using namespace wgopt::experiments;

namespace {
// The descriptor make_irq_affinity_knob gives eth0 on a 2-CPU host.
act::Descriptor irq_descriptor() {
  act::Descriptor d;
  d.id = "eth0/irq_affinity";
  d.kind = "irq_affinity";
  d.scope = act::Scope::Irq;
  d.type = act::ValueType::Enum;
  d.device = "eth0";
  d.domain.mask_bits = 2;
  d.domain.choices = act::irq_placement_names();
  return d;
}
}  // namespace

TEST_CASE("IRQ affinity with differing masks is searched as placements, the masks as found among them") {
  SearchSpace space({{irq_descriptor(), "2 1"}}, 2);
  REQUIRE(space.space().params().size() == 1);
  const auto& p = space.space().params()[0];
  CHECK(p.type == opt::ParamType::categorical);
  CHECK(p.choices == std::vector<std::string>{"2 1", "spread", "one-core", "off-rps"});
  CHECK(space.to_values(space.current_config()).at("eth0/irq_affinity") == "2 1");
  opt::Config c;
  c["eth0/irq_affinity"] = opt::Value(std::string("off-rps"));
  CHECK(space.to_values(c).at("eth0/irq_affinity") == "off-rps");
  CHECK(space.from_values({{"eth0/irq_affinity", "one-core"}}).at("eth0/irq_affinity") == opt::Value(std::string("one-core")));
  // Masks that equal no name are kept as they are; one mask for all is a value like any other.
  SearchSpace uniform({{irq_descriptor(), "3"}}, 2);
  CHECK(uniform.space().params()[0].choices == std::vector<std::string>{"3", "spread", "one-core", "off-rps"});
  CHECK(space.describe_json().find("\"choices\":[\"2 1\",\"spread\",\"one-core\",\"off-rps\"]") != std::string::npos);
}

// Space overrides (`--space FILE`) against the knobs' domains: what does not fit is named.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "experiments/search/search_space.hpp"

using namespace wgopt;
using namespace wgopt::experiments;

namespace {

SearchKnob txqueuelen() {
  SearchKnob k;
  k.descriptor.id = "wg0/txqueuelen";
  k.descriptor.type = act::ValueType::Int;
  k.descriptor.domain.min = 16;
  k.descriptor.domain.max = 100000;
  k.descriptor.domain.log = true;
  k.current = "1000";
  return k;
}

std::string refusal(long long lo, long long hi) {
  try {
    SearchSpace s({txqueuelen()}, 2, {{"wg0/txqueuelen", RangeOverride{.min = lo, .max = hi}}});
  } catch (const UsageError& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("a degenerate override range says what is wrong and how to hold a knob at one value", "[faults]") {
  // {min: 16, max: 16} was called "not inside the knob's domain 16..100000", which it is.
  CHECK(refusal(16, 16) ==
        "space override for 'wg0/txqueuelen': min 16 is not below max 16: a range needs min < max (to hold the knob "
        "at one value, `wgopt set` it before the search and leave it out with --exclude)");
  CHECK(refusal(500, 100) != "accepted");
  CHECK_THAT(refusal(8, 100), Catch::Contains("not inside the knob's domain 16..100000"));
  CHECK(refusal(16, 64) == "accepted");
}

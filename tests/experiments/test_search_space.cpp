// Space overrides (`--space FILE`) against the knobs' domains: what does not fit is named.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "experiments/search/search_space.hpp"
#include "experiments/search/space_binding.hpp"

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

// What counts as leaving a parameter as the ends found it (BoundSpace::unchanged): a per-end peer
// parameter (no knob of this end) by its words, a split mirrored one never.
TEST_CASE("bound space: unchanged by words for a peer's own parameter, never for a split one", "[search-space]") {
  wgopt::experiments::BoundSpace b;
  b.targets.push_back({"local", {}, {}});
  b.baseline = {{"peer:net.ipv4.tcp_rmem", "4096 16384 16384"}, {"net.ipv4.tcp_wmem", "4096 16384 4194304"}};
  CHECK(b.unchanged("peer:net.ipv4.tcp_rmem", "4096\t16384  16384"));
  CHECK_FALSE(b.unchanged("peer:net.ipv4.tcp_rmem", "4096 16384 131072"));
  CHECK_FALSE(b.unchanged("peer:wg0/mtu", "1420"));  // no start value
  b.split["net.ipv4.tcp_wmem"] = "peer 10.0.0.2: 4096 16384 65536";
  CHECK_FALSE(b.unchanged("net.ipv4.tcp_wmem", "4096 16384 4194304"));
  CHECK(b.start_text("net.ipv4.tcp_wmem") == "4096 16384 4194304 (peer 10.0.0.2: 4096 16384 65536)");
}

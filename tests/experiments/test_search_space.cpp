// Space overrides (`--space FILE`) against the knobs' domains: what does not fit is named.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "experiments/search/search_space.hpp"
#include "experiments/search/space_binding.hpp"

using namespace wgopt;
using namespace wgopt::experiments;

namespace {

// A knob of `type` with domain lo..hi, at `current` on the host.
SearchKnob knob(const std::string& id, act::ValueType type, long long lo, long long hi, const std::string& current) {
  SearchKnob k;
  k.descriptor.id = id;
  k.descriptor.type = type;
  k.descriptor.domain.min = lo;
  k.descriptor.domain.max = hi;
  k.current = current;
  return k;
}

SearchKnob txqueuelen() {
  SearchKnob k = knob("wg0/txqueuelen", act::ValueType::Int, 16, 100000, "1000");
  k.descriptor.domain.log = true;
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

// RFS's flow count (and the global rps_sock_flow_entries) turn RFS off at 0: the search may choose
// it, and a host at 0 can be returned to it, RPS on or off (issue 13: the returned change's estimate).
TEST_CASE("search space: a flow count searches 0 (off) below 1, and the host's 0 maps to it", "[search-space]") {
  SearchKnob rps = knob("eth0/rps_cpus", act::ValueType::Mask, 0, 3, "0");
  rps.descriptor.domain.mask_bits = 2;
  SearchKnob flows = knob("eth0/rps_flow_cnt", act::ValueType::Int, 0, 1 << 20, "0");
  flows.descriptor.domain.pow2 = true;
  flows.descriptor.domain.zero_off = true;
  flows.descriptor.domain.min_on = 2;  // as make_rps_knob sets it
  SearchSpace s({flows, rps}, 2, {});
  const auto& p = s.space().params().at(1);
  REQUIRE(p.name == "eth0/rps_flow_cnt");
  CHECK(p.type == opt::ParamType::pow2);
  CHECK(p.min == 0);
  CHECK(p.levels() == 21);  // 0, 2, 4, ..., 2^20: kernel 6.18 refuses a table of 1 (min_on 2)
  CHECK(p.first_on == 2);
  // RPS on, RFS at the host's 0: a configuration of its own, and back to the same words.
  const opt::Config c = s.from_values({{"eth0/rps_cpus", "3"}, {"eth0/rps_flow_cnt", "0"}});
  CHECK(std::get<std::int64_t>(c.at("eth0/rps_flow_cnt")) == 0);
  CHECK(s.to_values(c).at("eth0/rps_flow_cnt") == "0");
  CHECK(s.space().validate(c).empty());
  CHECK(std::get<std::int64_t>(s.from_values({{"eth0/rps_cpus", "3"}, {"eth0/rps_flow_cnt", "3000"}}).at("eth0/rps_flow_cnt")) == 4096);
  CHECK_FALSE(s.from_values({{"eth0/rps_cpus", "0"}, {"eth0/rps_flow_cnt", "0"}}).count("eth0/rps_flow_cnt"));
  // A host at 1 (an older kernel took it) is the model's least table, 2.
  CHECK(std::get<std::int64_t>(s.from_values({{"eth0/rps_cpus", "3"}, {"eth0/rps_flow_cnt", "1"}}).at("eth0/rps_flow_cnt")) == 2);
  // A ring whose driver reported 0 (a domain widened to it) is no flow table: 0 is not searched.
  SearchKnob ring = knob("eth0/rings/rx", act::ValueType::Int, 0, 4096, "0");
  ring.descriptor.domain.pow2 = true;
  CHECK(SearchSpace({ring}, 2, {}).space().params().at(0).min == 1);
}

// A TCP buffer's search range (64 KiB .. 128 MiB of the maximum) widens to the host's own maximum,
// so a poor start of 16 KiB is a value the model knows: returning to it is estimated as what it is,
// not as a return to 64 KiB (the testbed's poor start; issue 13's estimated contributions).
TEST_CASE("search space: a TCP buffer's range reaches the host's own maximum", "[search-space]") {
  auto rmem = [](const std::string& current) {
    return SearchSpace({knob("net.ipv4.tcp_rmem", act::ValueType::Triple, 4096, 1 << 30, current)}, 2, {});
  };
  const SearchSpace poor = rmem("4096 16384 16384");
  CHECK(poor.space().params().at(0).min == 16384);
  CHECK(poor.space().params().at(0).max == (1 << 27));
  CHECK(std::get<std::int64_t>(poor.current_config().at("net.ipv4.tcp_rmem")) == 16384);
  CHECK(poor.to_values(poor.current_config()).at("net.ipv4.tcp_rmem") == "4096 16384 16384");
  const SearchSpace usual = rmem("4096 131072 6291456");
  CHECK(usual.space().params().at(0).min == 65536);  // inside the range: as before
  const SearchSpace huge = rmem("4096 131072 536870912");
  CHECK(huge.space().params().at(0).max == 536870912);
  const SearchSpace odd = rmem("4096 131072 157286400");  // 150 MiB: up to 128 MiB, not 256
  CHECK(odd.space().params().at(0).max == (1 << 27));
}

// The other-tuners stage of the search (experiments/search/other_tuners.hpp) in the characterization
// world: tuners found on the host are named and the rest of the loop is untouched. The refusal
// and the held irqbalance run against a real irqbalance in tests/integration/test_search_irqs.cpp;
// the policy's cases are in tests/actuators/test_host_tuners.cpp.
#include <catch2/catch.hpp>

#include "common/util.hpp"
#include "tests/experiments/search_world.hpp"

using namespace wgopt;
using wgopt::test::Script;
using wgopt::test::SearchWorld;

TEST_CASE("other tuners are named, and a space without IRQ affinity is searched exactly as without them", "[search-trace]") {
  const act::Tuner irqbalance{.kind = act::TunerKind::Irqbalance, .name = "irqbalance", .pids = {812}, .evidence = "/proc"};
  const act::Tuner tuned{.kind = act::TunerKind::Tuned, .name = "TuneD", .pids = {901}, .profile = "throughput-performance",
                         .evidence = "tuned-adm active"};
  SearchWorld w(Script{.tuners = {irqbalance, tuned}});
  w.start_poor();
  auto o = w.options();
  o.stop_irqbalance = false;  // not needed: the world's space has no IRQ affinity to refuse
  const auto report = w.run(o);
  std::string trace = w.trace(report, o.study_path, o.profile_path);
  const std::string line = "other tuners: 2 found\n";
  const auto at = trace.find(line);
  REQUIRE(at != std::string::npos);
  trace.erase(at, line.size());
  test::check_trace("promoted", trace);  // the same search as "search from a poor start ..."
}

// The winner's simplification (experiments/search/winner_simplification.hpp): the model's proposal
// and the rounds that fit. The stage itself runs in the characterization suite (test_search_trace,
// cases "simplified" and "simplification-lost").
#include <catch2/catch.hpp>

#include "experiments/search/policies.hpp"
#include "experiments/search/winner_simplification.hpp"

using namespace wgopt::experiments;

TEST_CASE("simplification: the model's proposal returns changes that do not clearly contribute", "[simplify]") {
  auto change = [](const std::string& id, std::optional<double> gain, double sd) {
    KnobChange c{.id = id, .from = "a", .to = "b"};
    if (gain) {
      c.gain = gain;
      c.ci95 = Interval{*gain - 2 * sd, *gain + 2 * sd};
    }
    return c;
  };
  // Above its sd and above the negligible effect: stays. At or below its sd, or negligible: returns.
  const std::vector<KnobChange> changes = {change("mtu", 120, 20), change("txq", 3, 10), change("cc", 1.0, 0.1),
                                           change("rmem", std::nullopt, 0), change("gro", -5, 2)};
  CHECK(changes_to_return(changes, 2.0) == std::vector<std::string>{"txq", "cc", "gro"});
  // Nothing clearly contributes: the change with the largest estimate stays (a winner is not the baseline).
  CHECK(changes_to_return({change("a", 1, 5), change("b", 2, 5)}, 0) == std::vector<std::string>{"a"});
  CHECK(changes_to_return({change("a", std::nullopt, 0)}, 0).empty());
  CHECK(simplification_rounds_that_fit(1000, 14, 4) == 4);
  CHECK(simplification_rounds_that_fit(60, 14, 4) == 2);  // fewer than 2 fit: the check still needs 2
  CHECK(simplification_rounds_that_fit(2 * 3 * 15.5 + 1, 14, 6) == 2);
}

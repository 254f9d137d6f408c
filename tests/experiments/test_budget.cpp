#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/search/policies.hpp"
#include "experiments/study/budget.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using namespace std::chrono_literals;

namespace {

// A clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  SteadyClock fn() {
    return [this] { return now; };
  }
};

}  // namespace

TEST_CASE("budgets parse from what users type") {
  auto l = parse_budget("2h", std::nullopt);
  CHECK(l.wall == 7200s);
  CHECK_FALSE(l.max_trials);
  l = parse_budget("", 20);
  CHECK_FALSE(l.wall);
  CHECK(l.max_trials == 20);
  CHECK_THROWS_WITH(parse_budget("soon", std::nullopt), Catch::Contains("--budget") && Catch::Contains("'soon'"));
  CHECK_THROWS_WITH(parse_budget("5m", 0), Catch::Contains("--trials"));
  CHECK_THROWS_AS(parse_budget("", std::nullopt), UsageError);
}

TEST_CASE("elapsed, remaining and ETA follow the clock and the mean trial time") {
  FakeClock clk;
  Budget b({.wall = 300s, .reserve = 60s}, clk.fn());
  CHECK(b.elapsed() == 0s);
  CHECK(b.remaining() == 240s);
  CHECK_FALSE(b.mean_trial());
  b.trial_started();
  clk.now += 30s;
  b.trial_finished();
  clk.now += 2s;  // bookkeeping between trials does not count as trial time
  b.trial_started();
  clk.now += 50s;
  b.trial_finished();
  CHECK(b.elapsed() == 82s);
  CHECK(b.remaining() == 158s);
  CHECK(b.mean_trial() == 40s);
  CHECK(b.eta() == 158s);
  CHECK(b.trials() == 2);
}

TEST_CASE("a voided trial counts neither toward the cap nor in the mean trial time") {
  FakeClock clk;
  Budget b({.wall = 300s, .max_trials = 2}, clk.fn());
  b.trial_started();
  clk.now += 30s;
  b.trial_finished();
  b.trial_started();  // an outage outside wgopt voids it
  clk.now += 90s;
  b.trial_voided();
  CHECK(b.trials() == 1);
  CHECK(b.mean_trial() == 30s);
  CHECK(b.may_start_trial());  // the cap of 2 has room for the retry
  CHECK(b.elapsed() == 120s);  // its time is spent all the same
  CHECK_THROWS_AS(b.trial_voided(), Error);  // none running
}

TEST_CASE("a trial starts only when it is expected to fit, so the overrun is at most one trial") {
  FakeClock clk;
  Budget b({.wall = 100s}, clk.fn());
  const auto trial = 30s;
  std::chrono::steady_clock::duration end{};
  int count = 0;
  while (b.may_start_trial()) {
    b.trial_started();
    clk.now += trial;
    b.trial_finished();
    ++count;
    end = clk.now.time_since_epoch();
  }
  CHECK(count == 3);  // at 90 s, 10 s are left and a trial takes 30 s
  CHECK(end <= 100s);
  CHECK_THAT(b.stop_reason(), Catch::Contains("30s") && Catch::Contains("10s left"));

  // The first trial cannot be predicted: a 150 s trial overruns a 100 s budget once, never twice.
  FakeClock clk2;
  Budget slow({.wall = 100s}, clk2.fn());
  int started = 0;
  while (slow.may_start_trial()) {
    slow.trial_started();
    clk2.now += 150s;
    slow.trial_finished();
    ++started;
  }
  CHECK(started == 1);
  CHECK_THAT(slow.stop_reason(), Catch::Contains("spent"));
}

TEST_CASE("with a reserve the stop reason names the trials' share, not the whole budget, as spent") {
  // A 5-minute search said "budget 4m 59s spent" at 3m 09s, then confirmed for 1m 40s more.
  FakeClock clk;
  Budget b({.wall = 300s, .reserve = 100s}, clk.fn());
  clk.now += 200s;
  CHECK_FALSE(b.may_start_trial());
  CHECK_THAT(b.stop_reason(), Catch::StartsWith("the trials' share of the budget 5m 00s") && Catch::Contains("1m 40s held back") &&
                                  Catch::EndsWith("spent"));
  FakeClock clk2;
  Budget none({.wall = 300s}, clk2.fn());
  clk2.now += 300s;
  CHECK(none.stop_reason() == "budget 5m 00s spent");
}

TEST_CASE("the reserve given back to the trials lets them run on, and taking it back ends them") {
  // --budget 10m: 206 s held back, 84 s of them for one check of the winner's simplification.
  FakeClock clk;
  Budget b({.wall = 600s, .reserve = 206s}, clk.fn());
  clk.now += 394s;
  CHECK_FALSE(b.may_start_trial());
  b.release_reserve(84s);
  CHECK(b.released() == 84s);
  CHECK(b.limits().reserve == 122s);
  CHECK(b.remaining() == 84s);
  CHECK(b.may_start_trial());
  CHECK_THAT(b.stop_reason(), Catch::Equals(""));
  clk.now += 84s;
  CHECK_THAT(b.stop_reason(), Catch::Contains("2m 02s held back") && Catch::EndsWith("spent"));
  CHECK_FALSE(b.restored());
  b.restore_reserve();
  CHECK(b.restored());
  CHECK(b.released() == 0s);
  CHECK(b.limits().reserve == 206s);
  CHECK(b.remaining() == 0s);
  // Never more than the reserve, never negative.
  b.release_reserve(300s);
  CHECK(b.released() == 206s);
  CHECK(b.limits().reserve == 0s);
  CHECK_THROWS_AS(b.release_reserve(-1s), Error);
}

TEST_CASE("the trial cap counts trials of an earlier session and sets the ETA") {
  FakeClock clk;
  Budget b({.max_trials = 5}, clk.fn());
  b.add_previous_trials(3);
  CHECK_FALSE(b.remaining());
  CHECK_FALSE(b.eta());
  b.trial_started();
  clk.now += 20s;
  b.trial_finished();
  CHECK(b.eta() == 20s);  // one trial left
  CHECK(b.may_start_trial());
  b.trial_started();
  clk.now += 20s;
  b.trial_finished();
  CHECK_FALSE(b.may_start_trial());
  CHECK(b.stop_reason() == "trial cap of 5 reached");
  CHECK(b.eta() == 0s);
}

TEST_CASE("misuse is caught") {
  FakeClock clk;
  Budget b({.wall = 60s}, clk.fn());
  CHECK_THROWS_AS(b.trial_finished(), Error);
  b.trial_started();
  CHECK_THROWS_AS(b.trial_started(), Error);
  CHECK_THROWS_WITH(Budget({.wall = 60s, .reserve = 60s}, clk.fn()), Catch::Contains("larger budget"));
}

TEST_CASE("an absurd budget is refused in one line before anything starts", "[faults]") {
  // 99999999999999999999h overflowed into a negative wall time, and the search failed later with
  // "budget reserve is negative", leaving a study stuck at "running".
  CHECK_THROWS_WITH(parse_budget("99999999999999999999h", std::nullopt),
                    Catch::Contains("--budget '99999999999999999999h' is too long"));
  CHECK_THROWS_WITH(parse_budget("8d", std::nullopt), Catch::Contains("at most 7d"));
  CHECK_THROWS_WITH(parse_budget("0.5s", std::nullopt), Catch::Contains("--budget '0.5s'") && Catch::Contains("at least 1s"));
  CHECK(parse_budget("7d", std::nullopt).wall == std::chrono::hours(24 * 7));
  CHECK_THROWS_WITH(parse_duration("1e400s", "--timeout"), Catch::Contains("--timeout '1e400s'"));
  CHECK_THROWS_WITH(parse_duration("99999999999999999999h", "--timeout"), Catch::Contains("too long"));
}

TEST_CASE("a short budget holds back the 3 confirmation rounds a decision needs, not 2", "[budget][confirm]") {
  using namespace std::chrono_literals;
  // 2 rounds are a paired t with 1 degree of freedom: nothing short of a huge, steady gain passes it.
  CHECK(confirmation_rounds_that_fit(60, 12, 4) == 3);
  CHECK(confirmation_rounds_that_fit(1000, 12, 4) == 4);
  CHECK(confirmation_rounds_that_fit(60, 12, 2) == 2);  // the user asked for 2
  // A long budget: everything (4 rounds and the simplification's checks) as asked: one check per
  // 10 minutes, at most 12.
  // A check measures the whole and the simplified winner (2 arms; its gain over the baseline is
  // chained through the confirmation's).
  CHECK(confirmation_reserve(2h, 14, 4, true) == 1130000ms);  // 8 + 12 x 3 x 2 measurements of 14 s, and 10 s
  CHECK(confirmation_reserve(1h, 14, 4, true) == 626000ms);   // 8 + 6 x 3 x 2
  CHECK(confirmation_reserve(20min, 14, 4, true) == 290000ms);  // 8 + 2 x 3 x 2
  CHECK(confirmation_reserve(10min, 14, 4, true) == 206000ms);  // 8 + 3 x 2
  CHECK(simplification_checks_planned(9min) == 1);
  CHECK(simplification_checks_planned(30min) == 3);
  CHECK(simplification_checks_planned(1h) == 6);
  CHECK(simplification_checks_planned(2h) == kMaxSimplificationChecks);
  CHECK(simplification_checks_planned(3h) == kMaxSimplificationChecks);
  // 3 minutes: a third (60 s) would hold 2 rounds; 3 rounds (94 s) are capped at half the budget.
  CHECK(confirmation_reserve(3min, 14, 4, true) == 90000ms);
  CHECK(confirmation_reserve(60s, 14, 4, true) == 30000ms);
  CHECK(confirmation_reserve(3min, 14, 2, false) == 66000ms);  // under half: as asked
  // What a short budget's "no time left" tells the user to give: the first whole minute whose reserve
  // holds everything (8 + 6 measurements of a nominal 14 s, and 10 s: 206 s, under half of 7 min,
  // not of 6), plus one of slack.
  CHECK(simplification_budget_minutes(14, 4) == 8);
  CHECK(confirmation_reserve(7min, 14, 4, true) == 206000ms);
  CHECK(confirmation_reserve(6min, 14, 4, true) < 206000ms);
}

TEST_CASE("the confirmation's default rounds grow with the simplification checks that chain through it", "[budget][confirm]") {
  using namespace std::chrono_literals;
  CHECK(default_confirm_rounds(10min, 14, true) == kConfirmRounds);  // one check
  CHECK(default_confirm_rounds(19min, 14, true) == kConfirmRounds);
  CHECK(default_confirm_rounds(20min, 14, true) == kConfirmRounds + 2);  // 2 checks
  CHECK(default_confirm_rounds(30min, 14, true) == kConfirmRounds + 2);  // 3
  CHECK(default_confirm_rounds(40min, 14, true) == kConfirmRounds + 4);  // 4 and more
  CHECK(default_confirm_rounds(2h, 14, true) == kConfirmRounds + 4);
  CHECK(default_confirm_rounds(std::nullopt, 14, true) == kConfirmRounds + 4);  // no wall: up to the most checks
  CHECK(default_confirm_rounds(2h, 14, false) == kConfirmRounds);  // no simplification
  // --duration 30 (34 s measurements): at 20 minutes the reserve of 6 rounds and 2 checks (826 s) is
  // over half the budget, so the short-budget rule holds what fits: no extra rounds; at 2 hours they fit.
  CHECK(default_confirm_rounds(20min, 34, true) == kConfirmRounds);
  CHECK(default_confirm_rounds(2h, 34, true) == kConfirmRounds + 4);
}

TEST_CASE("the confirmation keeps time for the check only when both fit", "[budget][confirm]") {
  // A 5-minute search on the testbed (10 s measurements, rounds of ~23 s): 98 s left after the
  // trials. Keeping the check's 69 s cut the confirmation to 3 of its 4 rounds, and then the 29 s
  // left held no check: now the confirmation measures its 4 rounds and the result says there was no
  // time for the check, as it did.
  CHECK(round_seconds(10) == Approx(23));
  CHECK(simplification_minimum_s(10) == Approx(69));
  // The check measures 5 s (its 3 fewest rounds: 39 s); it keeps the time of 3 full rounds (69 s).
  CHECK(simplification_minimum_s(5) == Approx(39));
  CHECK(check_time_kept(98, 10, 5, 4) == 0);
  CHECK(confirmation_rounds_that_fit(98 - check_time_kept(98, 10, 5, 4), 10, 4) == 4);
  // 3 confirmation rounds (69 s) and the check's fewest (39 s) fit: its time is kept, and the
  // confirmation measures 3 rounds, the check what is left.
  CHECK(check_time_kept(108, 10, 5, 4) == Approx(69));
  CHECK(confirmation_rounds_that_fit(108 - check_time_kept(108, 10, 5, 4), 10, 4) == 3);
  CHECK(check_time_kept(107, 10, 5, 4) == 0);
  CHECK(check_time_kept(400, 10, 5, 4) == Approx(69));
  // --confirm-rounds 2 (the user's choice): those 2 and the check.
  CHECK(check_time_kept(85, 10, 5, 2) == Approx(69));
  CHECK(check_time_kept(84, 10, 5, 2) == 0);
}

TEST_CASE("a confirmation looks again only when the time left holds 3 more rounds, at most as many as its first", "[budget][confirm]") {
  // Rounds of ~23 s at 10 s measurements, 10 s kept for persisting: 3 rounds need 79 s.
  CHECK(second_look_rounds(78, 10, 4) == 0);
  CHECK(second_look_rounds(79, 10, 4) == 3);
  CHECK(second_look_rounds(211, 10, 4) == 4);  // the 20-minute search's unused check time: 8 in all
  CHECK(second_look_rounds(1000, 10, 8) == 8);
  // A first look of fewer than 3 rounds (--confirm-rounds 2, the user's choice) has none.
  CHECK(second_look_rounds(1000, 10, 2) == 0);
  CHECK(second_look_rounds(1000, 0, 4) == 0);
  // The first look's own pace when it was slower than the nominal 23 s a round: 4 rounds in 120 s
  // are 30 s each, so 79 s holds 2 (none), 100 s holds 3; a faster first look changes nothing.
  CHECK(second_look_rounds(79, 10, 4, 120) == 0);
  CHECK(second_look_rounds(100, 10, 4, 120) == 3);
  CHECK(second_look_rounds(79, 10, 4, 40) == 3);
}

TEST_CASE("screening measures half the duration when that leaves a steady window, and a bad length is named") {
  CHECK(screen_seconds_for(10) == 5);
  CHECK(screen_seconds_for(7) == 4);
  CHECK(screen_seconds_for(6) == 3);
  CHECK(screen_seconds_for(5) == 5);  // a shorter run would be mostly warm-up: no screening
  CHECK(screen_seconds_for(2) == 2);
  CHECK(screen_seconds(std::nullopt, 10) == 5);
  CHECK(screen_seconds(0, 10) == 10);  // 0: off, every trial at full length
  CHECK(screen_seconds(3, 10) == 3);
  CHECK(screen_seconds(10, 10) == 10);
  CHECK_THROWS_WITH(screen_seconds(11, 10), Catch::Contains("--screen 11 is out of range: use 2..10"));
  CHECK_THROWS_WITH(screen_seconds(1, 10), Catch::Contains("or 0 to measure every trial at full length"));
  CHECK_THROWS_AS(screen_seconds(1, 10), UsageError);
}

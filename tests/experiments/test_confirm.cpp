#include <catch2/catch.hpp>

#include <random>

#include "common/error.hpp"
#include "experiments/study/confirm.hpp"

using namespace wgopt;
using namespace wgopt::experiments;

namespace {

// Interleaved rounds with a shared per-round drift (the host gets slower over time), as the loop
// would measure them: round i of both arms sees the same drift.
void measure(double base, double cand, double noise, double drift_per_round, int rounds, unsigned seed,
             std::vector<double>& b, std::vector<double>& c) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, noise);
  b.clear();
  c.clear();
  for (int i = 0; i < rounds; ++i) {
    b.push_back(base - drift_per_round * i + n(rng));
    c.push_back(cand - drift_per_round * i + n(rng));
  }
}

}  // namespace

TEST_CASE("the plan interleaves the arms, baseline first") {
  using enum Arm;
  CHECK(plan_confirmation(3) == std::vector<Arm>{Baseline, Candidate, Baseline, Candidate, Baseline, Candidate});
  CHECK(plan_confirmation(4, ConfirmOrder::Balanced) ==
        std::vector<Arm>{Baseline, Candidate, Candidate, Baseline, Baseline, Candidate, Candidate, Baseline});
  CHECK_THROWS_AS(plan_confirmation(1), UsageError);
}

TEST_CASE("a clear win is promoted, with intervals for both arms and the gain") {
  std::vector<double> b = {1000, 1012, 990, 1005, 998}, c = {1200, 1195, 1210, 1190, 1204};
  auto r = decide_confirmation(b, c);
  CHECK(r.promote);
  CHECK(r.method == "paired t");
  CHECK(r.baseline_mean == Approx(1001));
  CHECK(r.candidate_mean == Approx(1199.8));
  CHECK(r.gain == Approx(198.8));
  CHECK(r.relative_gain == Approx(0.1986).epsilon(0.001));
  CHECK(r.gain_ci.low > 150);
  CHECK(r.gain_ci.high < 250);
  CHECK(r.baseline_ci.low < 1001);
  CHECK(r.baseline_ci.high > 1001);
  CHECK(r.candidate_ci.low > r.baseline_ci.high);
  CHECK(r.p_value < 0.001);
  auto j = confirmation_to_json(r);
  CHECK(j["promote"] == true);
  CHECK(j["gain_ci"][0].get<double>() == r.gain_ci.low);
  CHECK(j["baseline"]["mean"].get<double>() == Approx(1001));
  CHECK(j["method"] == "paired t");
}

TEST_CASE("a tie keeps the baseline") {
  std::vector<double> b = {1000, 1010, 995, 1003}, c = {1004, 1001, 998, 1006};
  auto r = decide_confirmation(b, c);
  CHECK_FALSE(r.promote);
  CHECK(r.gain_ci.low <= 0);
  CHECK(r.gain_ci.high >= 0);
}

TEST_CASE("a noisy small win keeps the baseline") {
  // +3 % on average, but the rounds disagree.
  std::vector<double> b = {1000, 900, 1100, 950}, c = {1100, 880, 1150, 940};
  auto r = decide_confirmation(b, c);
  CHECK(r.relative_gain > 0);
  CHECK_FALSE(r.promote);
}

TEST_CASE("a consistent win below the minimum relative gain keeps the baseline") {
  std::vector<double> b = {1000, 1001, 999, 1000}, c = {1010, 1011, 1009, 1011};
  auto r = decide_confirmation(b, c);
  CHECK(r.gain_ci.low > 0);
  CHECK_FALSE(r.promote);
  CHECK_THAT(r.reason, Catch::Contains("below the minimum"));
  CHECK(decide_confirmation(b, c, {.min_relative_gain = 0.005}).promote);
}

TEST_CASE("a regression is rejected") {
  std::vector<double> b = {1000, 1005, 995, 1002}, c = {800, 790, 810, 805};
  auto r = decide_confirmation(b, c);
  CHECK_FALSE(r.promote);
  CHECK(r.gain < 0);
  CHECK(r.gain_ci.high < 0);
}

TEST_CASE("pairing cancels drift that Welch's test would mistake for noise") {
  std::vector<double> b, c;
  measure(1000, 1060, 5, 40, 6, 7, b, c);  // +6 %, the host slows by 40 per round
  auto paired = decide_confirmation(b, c);
  CHECK(paired.promote);
  std::vector<double> c_lost_round(c.begin(), c.end() - 1);  // a round failed: Welch
  auto welch = decide_confirmation(b, c_lost_round);
  CHECK(welch.method == "Welch t");
  CHECK((welch.gain_ci.high - welch.gain_ci.low) > (paired.gain_ci.high - paired.gain_ci.low));
}

TEST_CASE("equal arms are promoted rarely (false promotions stay near 1 - confidence / 2)") {
  int promoted = 0;
  std::vector<double> b, c;
  for (unsigned seed = 1; seed <= 400; ++seed) {
    measure(1000, 1000, 30, 0, 5, seed, b, c);
    if (decide_confirmation(b, c, {.min_relative_gain = 0}).promote) ++promoted;
  }
  CHECK(promoted <= 25);  // expected 2.5 % = 10; the bound leaves room for sampling noise
}

TEST_CASE("too few scores or bad options are refused") {
  std::vector<double> one = {1}, two = {1, 2};
  CHECK_THROWS_AS(decide_confirmation(one, two), Error);
  CHECK_THROWS_WITH(decide_confirmation(two, two, {.confidence = 0.2}), Catch::Contains("confidence"));
  CHECK_THROWS_WITH(decide_confirmation(two, two, {.min_relative_gain = -1}), Catch::Contains("min_relative_gain"));
}

TEST_CASE("rounds with a lost measurement are left out of the pairing, never paired across rounds") {
  // Round 1 lost its baseline, round 2 its candidate: only rounds 3 and 4 are pairs. Index pairing of
  // the two arms' surviving scores would compare round 2's baseline with round 1's candidate.
  const std::vector<ConfirmationRound> rounds = {
      {std::nullopt, 110.0}, {200.0, std::nullopt}, {100.0, 111.0}, {101.0, 112.0}};
  const auto c = decide_confirmation(rounds);
  CHECK(c.method == "paired t");
  CHECK(c.gain == Approx(11.0));
  CHECK(c.baseline_mean == Approx(100.5));
  CHECK(c.candidate_mean == Approx(111.5));
  CHECK_THAT(c.reason, Catch::Contains("2 of 4 rounds incomplete, left out of the pairing"));
  // Index pairing of the survivors ({200, 100, 101} against {110, 111, 112}) sees no gain at all.
  const std::vector<double> b = {200, 100, 101}, k = {110, 111, 112};
  CHECK_FALSE(decide_confirmation(b, k).promote);
}

TEST_CASE("with fewer than two complete rounds the arms are compared unpaired") {
  const std::vector<ConfirmationRound> rounds = {
      {100.0, std::nullopt}, {std::nullopt, 120.0}, {101.0, 121.0}, {102.0, std::nullopt}, {std::nullopt, 119.0}};
  const auto c = decide_confirmation(rounds);
  CHECK(c.method == "Welch t");
  CHECK(c.gain == Approx(120.0 - 101.0));
  CHECK_THAT(c.reason, Catch::Contains("too few complete rounds to pair"));
  CHECK_THROWS_AS(decide_confirmation(std::vector<ConfirmationRound>{{1.0, 2.0}, {std::nullopt, 3.0}}), Error);
}

TEST_CASE("a simplified winner is held to the baseline through the confirmation: gains add, variances add") {
  // Confirmation: the whole winner against the baseline; the check: the simplified against the whole.
  const Confirmation whole = decide_confirmation(std::vector<double>{300, 302, 298}, std::vector<double>{580, 585, 578});
  const Confirmation simplified = decide_confirmation(std::vector<double>{580, 584, 576}, std::vector<double>{577, 583, 575});
  REQUIRE(whole.gain_dof == 2);
  REQUIRE(simplified.gain_se > 0);
  const Confirmation c = chain_confirmations(whole, simplified);
  CHECK(c.gain == Approx(281 - 5.0 / 3));
  CHECK(c.baseline_mean == whole.baseline_mean);
  CHECK(c.candidate_mean == Approx(whole.baseline_mean + c.gain));
  CHECK(c.relative_gain == Approx(c.gain / 300));
  CHECK(c.gain_se == Approx(std::hypot(whole.gain_se, simplified.gain_se)));
  // Welch-Satterthwaite's degrees of freedom (3.8 here) capped at the confirmation's (2): the chained
  // interval is wider than either part's, and its p-value claims no more than the confirmation did.
  CHECK(c.gain_dof == 2);
  CHECK(c.gain_ci.high - c.gain_ci.low > whole.gain_ci.high - whole.gain_ci.low);
  CHECK(c.gain_ci.high - c.gain_ci.low > simplified.gain_ci.high - simplified.gain_ci.low);
  CHECK(c.p_value >= whole.p_value);
  // A 4-round confirmation (3 df) and a 3-round check (2 df): more than the check's 2, at most 3.
  const Confirmation four = decide_confirmation(std::vector<double>{300, 302, 298, 301}, std::vector<double>{580, 585, 578, 583});
  const Confirmation three = chain_confirmations(four, simplified);
  CHECK(three.gain_dof > 2);
  CHECK(three.gain_dof <= 3);
  // A 3-round confirmation (2 df) and a 5-round check (4 df): the check's rounds do not lend the chain
  // degrees of freedom the confirmation, the part that measured the baseline, does not have.
  const Confirmation five = decide_confirmation(std::vector<double>{580, 584, 576, 582, 579}, std::vector<double>{577, 583, 575, 581, 579});
  REQUIRE(five.gain_dof == 4);
  const Confirmation chained_five = chain_confirmations(whole, five);
  CHECK(chained_five.gain_dof <= 2);
  CHECK(chained_five.p_value >= whole.p_value);
  CHECK(chained_five.gain_ci.high - chained_five.gain_ci.low > whole.gain_ci.high - whole.gain_ci.low);
  // The candidate's interval holds both parts' uncertainty.
  CHECK(c.candidate_ci.high - c.candidate_ci.low > whole.candidate_ci.high - whole.candidate_ci.low);
  CHECK(c.promote);
  CHECK(c.method == "chained: paired t + paired t");
  CHECK(chain_confirmations(c, simplified).method == "chained: paired t + paired t + paired t");

  // A simplification that loses most of the gain no longer beats the baseline by the minimum.
  const Confirmation lost = decide_confirmation(std::vector<double>{580, 584, 576}, std::vector<double>{303, 306, 301});
  const Confirmation gone = chain_confirmations(whole, lost);
  CHECK_FALSE(gone.promote);
  CHECK(gone.relative_gain < 0.02);
  // Steady enough to be real, and below the minimum: +5 of 300.
  const Confirmation steady = decide_confirmation(std::vector<double>{300, 302, 298}, std::vector<double>{580, 582, 578});
  const Confirmation small = decide_confirmation(std::vector<double>{580, 584, 576}, std::vector<double>{305, 308.5, 301.5});
  CHECK_THAT(chain_confirmations(steady, small).reason, Catch::Contains("below the minimum"));
  // Noise that leaves the chained interval reaching 0: not confidently better.
  const Confirmation noisy = decide_confirmation(std::vector<double>{580, 584, 576}, std::vector<double>{300, 580, 850});
  CHECK_FALSE(chain_confirmations(whole, noisy).promote);
  CHECK_THAT(chain_confirmations(whole, noisy).reason, Catch::Contains("not confidently better"));
}

TEST_CASE("chaining a steady part, a Welch confirmation, or a part without degrees of freedom") {
  // Identical differences every round: no noise in that part, the other's alone decides.
  const Confirmation steady = decide_confirmation(std::vector<double>{300, 302, 298}, std::vector<double>{580, 582, 578});
  REQUIRE(steady.gain_se == 0);
  const Confirmation check = decide_confirmation(std::vector<double>{580, 584, 576}, std::vector<double>{577, 583, 575});
  const Confirmation c = chain_confirmations(steady, check);
  CHECK(c.gain_se == Approx(check.gain_se));
  CHECK(c.gain_ci.low == Approx(c.gain - (check.gain - check.gain_ci.low)));
  // Both steady: the chained estimate is its own interval, as a steady confirmation's is.
  const Confirmation both = chain_confirmations(steady, steady);
  CHECK(both.gain_ci.low == both.gain_ci.high);
  CHECK(both.p_value == 0);
  // A confirmation that lost a round (Welch's fractional degrees of freedom) chains within its own.
  const std::vector<ConfirmationRound> lossy = {{300, 580}, {302, std::nullopt}, {std::nullopt, 577}, {298, std::nullopt}, {std::nullopt, 579}};
  const Confirmation welch = decide_confirmation(lossy);
  REQUIRE(welch.method == "Welch t");
  const Confirmation chained = chain_confirmations(welch, check);
  CHECK(chained.gain_dof >= std::min(welch.gain_dof, check.gain_dof));
  CHECK(chained.gain_dof <= welch.gain_dof);
  // Noise without degrees of freedom (a hand-built part): counted as 1, never as none.
  Confirmation odd = check;
  odd.gain_dof = 0;
  CHECK(chain_confirmations(steady, odd).gain_dof == 1);  // the only noise is the part counted as 1
}

TEST_CASE("a chain pooled with rounds against the baseline itself: precision-weighted, Meier-corrected, on the fewer degrees of freedom") {
  // A chain grown wide: the whole winner +120 over 3 rounds, then a check's cost with a wide spread.
  const Confirmation whole = decide_confirmation(std::vector<double>{300, 330, 290}, std::vector<double>{420, 400, 460});
  const Confirmation check = decide_confirmation(std::vector<double>{420, 440, 400}, std::vector<double>{380, 470, 400});
  const Confirmation chain = chain_confirmations(whole, check);
  REQUIRE_FALSE(chain.promote);
  // Five rounds of the simplified winner against the baseline itself.
  const Confirmation direct = decide_confirmation(std::vector<double>{310, 300, 320, 305, 315}, std::vector<double>{400, 395, 420, 390, 410});
  REQUIRE(direct.gain_dof == 4);
  const Confirmation pooled = pool_confirmations(chain, direct);
  const double w1 = 1 / (chain.gain_se * chain.gain_se), w2 = 1 / (direct.gain_se * direct.gain_se);
  CHECK(pooled.gain == Approx((w1 * chain.gain + w2 * direct.gain) / (w1 + w2)));
  // Its se is 1 / sqrt(w1 + w2) widened by Meier's correction for estimated weights, on the fewer
  // degrees of freedom of the two parts.
  const double c1 = w1 / (w1 + w2), c2 = w2 / (w1 + w2);
  const double meier = 1 + 4 * (c1 * (1 - c1) / chain.gain_dof + c2 * (1 - c2) / direct.gain_dof);
  CHECK(pooled.gain_se == Approx(std::sqrt(meier / (w1 + w2))));
  CHECK(pooled.gain_se > 1 / std::sqrt(w1 + w2));
  CHECK(pooled.gain_se < chain.gain_se);
  CHECK(pooled.gain_dof == std::min(chain.gain_dof, direct.gain_dof));
  // The baseline's level is the two parts' by the same weights; the candidate is on it.
  CHECK(pooled.baseline_mean == Approx(c1 * chain.baseline_mean + c2 * direct.baseline_mean));
  CHECK(pooled.candidate_mean == Approx(pooled.baseline_mean + pooled.gain));
  CHECK(pooled.relative_gain == Approx(pooled.gain / pooled.baseline_mean));
  CHECK(pooled.promote);
  CHECK(pooled.method == "chained: paired t + paired t; re-anchored: paired t");
  // A later check chains from it, its degrees of freedom capped at the pooled ones.
  const Confirmation later = chain_confirmations(pooled, check);
  CHECK(later.method == "chained: paired t + paired t; re-anchored: paired t + paired t");
  CHECK(later.gain_dof <= pooled.gain_dof);
  // Rounds against the baseline that find no gain pull the pooled gain down: not promoted.
  const Confirmation none = decide_confirmation(std::vector<double>{310, 300, 320, 305, 315}, std::vector<double>{305, 310, 312, 300, 318});
  CHECK_FALSE(pool_confirmations(chain, none).promote);
  // A part with no noise is exact and decides alone.
  const Confirmation exact = decide_confirmation(std::vector<double>{300, 302, 298}, std::vector<double>{400, 402, 398});
  REQUIRE(exact.gain_se == 0);
  CHECK(pool_confirmations(chain, exact).gain == Approx(100));
  CHECK(pool_confirmations(exact, direct).gain == Approx(100));
}

TEST_CASE("a confirmation that looks twice decides each look at half the error rate, and reports 95% intervals") {
  // +11 over 4 rounds, differences 4, 16, 8, 16 (se 3, t 3.67): the 95% interval (t 3.18) is above
  // zero, the 97.5% one (t 4.18) is not.
  const std::vector<ConfirmationRound> rounds = {{100.0, 104.0}, {101.0, 117.0}, {99.0, 107.0}, {100.0, 116.0}};
  const Confirmation one = decide_confirmation(rounds);
  REQUIRE(one.promote);
  const Confirmation only = decide_confirmation_in_looks(rounds, 1, 1);
  CHECK(only.promote);
  CHECK(only.reason == one.reason);
  const Confirmation first = decide_confirmation_in_looks(rounds, 1, 2);
  CHECK_FALSE(first.promote);
  CHECK_THAT(first.reason, Catch::StartsWith("not confidently better: gain +11.0") && Catch::Contains("97.5% interval") &&
                               Catch::EndsWith("; look 1 of 2, each at 97.5%"));
  CHECK(first.gain_ci.low == Approx(one.gain_ci.low));  // the reported interval stays the 95% one
  CHECK(first.p_value == Approx(one.p_value));
  // Four more rounds like them: the second look promotes.
  auto more = rounds;
  more.insert(more.end(), rounds.begin(), rounds.end());
  const Confirmation second = decide_confirmation_in_looks(more, 2, 2);
  CHECK(second.promote);
  CHECK_THAT(second.reason, Catch::StartsWith("better by +11.0") && Catch::EndsWith("; look 2 of 2, each at 97.5%"));
  CHECK_THROWS_AS(decide_confirmation_in_looks(rounds, 3, 2), UsageError);
  CHECK_THROWS_AS(decide_confirmation_in_looks(rounds, 1, 0), UsageError);
}

TEST_CASE("equal arms looked at twice are promoted no more often than at one look") {
  // 4 rounds, and 4 more when the first look does not promote a positive gain: each look at 97.5%
  // keeps the false promotions of both near one 95% look's 2.5% (50 of 2000); both looks at 95%
  // would promote about 4% (80).
  int one_look = 0, two_looks = 0, naive = 0;
  std::vector<double> b, c;
  for (unsigned seed = 1; seed <= 2000; ++seed) {
    measure(1000, 1000, 30, 0, 8, seed, b, c);
    std::vector<ConfirmationRound> rounds;
    for (size_t i = 0; i < b.size(); ++i) rounds.push_back({b[i], c[i]});
    const std::vector<ConfirmationRound> first(rounds.begin(), rounds.begin() + 4);
    const ConfirmOptions opt{.min_relative_gain = 0};
    one_look += decide_confirmation(first, opt).promote;
    const Confirmation look1 = decide_confirmation_in_looks(first, 1, 2, opt);
    two_looks += look1.promote || (look1.gain > 0 && decide_confirmation_in_looks(rounds, 2, 2, opt).promote);
    const Confirmation plain1 = decide_confirmation(first, opt);
    naive += plain1.promote || (plain1.gain > 0 && decide_confirmation(rounds, opt).promote);
  }
  INFO("one look " << one_look << ", two looks " << two_looks << ", two looks at 95% " << naive);
  CHECK(two_looks <= one_look + 10);
  CHECK(naive > two_looks);
}

#include "experiments/search/policies.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace wgopt::experiments {

double nominal_measure_seconds(const Objective& objective) {
  return static_cast<double>(objective.duration.count()) * static_cast<double>(objective.scenarios.size()) + 4.0;
}

std::chrono::milliseconds measurement_lease(double nominal_measure_s) {
  return std::chrono::milliseconds(static_cast<long long>(1000 * (nominal_measure_s * 2 + 30)));
}

namespace {

// What the reserve holds for persisting the result and restoring the host.
constexpr double kPersistS = 10;

// What `measurements` of a nominal length and the 10 s of persisting and restoring take.
std::chrono::milliseconds hold(double nominal_measure_s, double measurements) {
  return std::chrono::milliseconds(static_cast<long long>(1000 * (nominal_measure_s * measurements + kPersistS)));
}

// The reserve a budget long enough for everything holds: the confirmation's rounds (2 measurements
// each) and `checks` of the simplification's checks (the time of kMinUsefulConfirmRounds
// full-length rounds of 2 each: check_rounds_most spends it on more rounds of shorter measurements).
std::chrono::milliseconds full_reserve(double nominal_measure_s, int confirm_rounds, int checks) {
  return hold(nominal_measure_s, 2.0 * confirm_rounds + 2.0 * kMinUsefulConfirmRounds * checks);
}

}  // namespace

int simplification_checks_planned(std::chrono::milliseconds wall) {
  return std::clamp(static_cast<int>(wall / std::chrono::minutes(10)), 1, kMaxSimplificationChecks);
}

int simplification_checks_unbounded(int max_trials, double nominal_measure_s) {
  return simplification_checks_planned(std::chrono::milliseconds(static_cast<long long>(1000.0 * max_trials * nominal_measure_s)));
}

std::chrono::milliseconds unbounded_rounds_most(double nominal_measure_s, int confirm_rounds, int checks) {
  return full_reserve(nominal_measure_s, confirm_rounds, 2 * checks);  // a check's own rounds, and as many against the baseline
}

int default_confirm_rounds(std::optional<std::chrono::milliseconds> wall, double nominal_measure_s, bool simplify, int most_checks) {
  if (!simplify) return kConfirmRounds;
  const int checks = wall ? std::min(simplification_checks_planned(*wall), most_checks) : most_checks;
  const int rounds = checks >= 4 ? kConfirmRounds + 4 : checks >= 2 ? kConfirmRounds + 2 : kConfirmRounds;
  // A budget whose reserve would not hold them with the checks (long measurements): as asked.
  if (wall && full_reserve(nominal_measure_s, rounds, checks) >= *wall / 2) return kConfirmRounds;
  return rounds;
}

std::chrono::milliseconds confirmation_reserve(std::chrono::milliseconds wall, double nominal_measure_s, int confirm_rounds,
                                               bool simplify, int most_checks) {
  const auto reserve =
      full_reserve(nominal_measure_s, confirm_rounds, simplify ? std::min(simplification_checks_planned(wall), most_checks) : 0);
  if (reserve < wall / 2) return reserve;
  // A short budget: a third of it, but never fewer than the rounds a decision needs while they fit in half.
  const auto needed = hold(nominal_measure_s, 2.0 * std::min(confirm_rounds, kMinUsefulConfirmRounds));
  return std::max(wall / 3, std::min(needed, wall / 2));
}

BudgetLimits after_setup(BudgetLimits limits, std::chrono::milliseconds setup) {
  if (limits.wall) limits.wall = std::max(*limits.wall - setup, limits.reserve + std::chrono::milliseconds(1));
  return limits;
}

int confirmation_rounds_that_fit(double left_s, double full_measure_s, int max_rounds) {
  const int fit = static_cast<int>(left_s / round_seconds(full_measure_s));
  return std::clamp(fit, std::min(kMinUsefulConfirmRounds, max_rounds), max_rounds);
}

double round_seconds(double measure_s) { return 2 * (measure_s + 1.5); }

int second_look_rounds(double left_s, double full_measure_s, int first_rounds, double first_look_s) {
  if (first_rounds < kMinUsefulConfirmRounds || full_measure_s <= 0) return 0;
  const double round_s = std::max(round_seconds(full_measure_s), first_look_s / first_rounds);
  const int fit = static_cast<int>((left_s - kPersistS) / round_s);
  return fit < kMinUsefulConfirmRounds ? 0 : std::min(fit, first_rounds);
}

double simplification_minimum_s(double full_measure_s) { return kMinUsefulConfirmRounds * round_seconds(full_measure_s); }

double check_time_kept(double left_s, double full_measure_s, double check_measure_s, int confirm_rounds) {
  const int fewest = std::min(confirm_rounds, kMinUsefulConfirmRounds);
  const bool fits = left_s - simplification_minimum_s(check_measure_s) >= fewest * round_seconds(full_measure_s);
  return fits ? simplification_minimum_s(full_measure_s) : 0.0;
}

int simplification_budget_minutes(double nominal_measure_s, int confirm_rounds) {
  const double reserve_s = std::chrono::duration<double>(full_reserve(nominal_measure_s, confirm_rounds, 1)).count();
  return static_cast<int>(std::floor(2 * reserve_s / 60)) + 2;  // the first whole minute above twice it, plus one
}

int check_seconds(int duration, int screen) { return std::min(duration, std::max(screen, screen_seconds_for(duration))); }

double check_measure_seconds(double full_measure_s, int duration, int check_seconds, int scenarios) {
  return std::max(1.0, full_measure_s - static_cast<double>((duration - check_seconds) * scenarios));
}

int check_rounds_most(double full_measure_s, double check_measure_s, int confirm_rounds) {
  if (confirm_rounds < kMinUsefulConfirmRounds) return confirm_rounds;  // --confirm-rounds 2: the user's choice
  const int in_full_time = static_cast<int>(kMinUsefulConfirmRounds * round_seconds(full_measure_s) / round_seconds(check_measure_s));
  return std::max(confirm_rounds, in_full_time);
}

int simplification_rounds_that_fit(double left_s, double full_measure_s, int max_rounds) {
  const int fit = static_cast<int>(left_s / round_seconds(full_measure_s));
  const int most = std::max(2, max_rounds);
  return std::clamp(fit, std::min(kMinUsefulConfirmRounds, most), most);
}

bool another_check_round(double left_s, double round_s, int done, int most) {
  return done < 2 * most && left_s - round_s >= kPersistS;
}

double search_progress(const BudgetLimits& limits, std::chrono::milliseconds elapsed, int trials_started) {
  double p = 0;
  if (limits.wall) p = std::max(p, static_cast<double>(elapsed.count()) / static_cast<double>((*limits.wall - limits.reserve).count()));
  if (limits.max_trials) p = std::max(p, trials_started / static_cast<double>(*limits.max_trials));
  return p;
}

int screen_seconds_for(int duration) { return duration >= 6 ? (duration + 1) / 2 : duration; }

int screen_seconds(std::optional<int> given, int duration) {
  if (!given) return screen_seconds_for(duration);
  if (*given == 0) return duration;
  if (*given < 2 || *given > duration) {
    throw UsageError(fmt::format("--screen {} is out of range: use 2..{} seconds (the --duration), or 0 to measure every trial "
                                 "at full length",
                                 *given, duration));
  }
  return *given;
}

bool remeasure_due(double progress, int complete, int remeasured, int trials) {
  return progress >= 0.8 && complete >= 3 && remeasured * 2 <= trials - complete / 2;
}

}  // namespace wgopt::experiments

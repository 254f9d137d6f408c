#pragma once
// Stage 1 of the search: the options checked and turned into a plan before anything is touched:
// the objective, the engine, the budget with its confirmation reserve, the space overrides, the
// study being resumed and, in retune mode, the profile to hold.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "actuators/profile.hpp"
#include "experiments/search/policies.hpp"
#include "experiments/search/search.hpp"
#include "experiments/search/search_space.hpp"
#include "experiments/study/budget.hpp"
#include "experiments/study/objective.hpp"
#include "experiments/study/evidence.hpp"
#include "experiments/study/study_store.hpp"

namespace wgopt::experiments {

struct SearchPlan {
  Objective objective;
  Objective screen;                   // the objective at the screening length (== objective: no screening)
  Objective check;                    // the winner simplification's checks' (policies.hpp, check_seconds)
  std::string strategy;               // the engine (a resumed study's own)
  std::uint64_t seed = 1;
  std::string budget_text;            // as typed (or the resumed study's)
  std::optional<int> trials_cap;
  BudgetLimits limits;                // with the confirmation reserve
  // The part of limits.reserve held for the winner simplification's checks: the trials get it when
  // the model has nothing to check (trial_loop.hpp).
  std::chrono::milliseconds check_reserve{0};
  double nominal_measure_s = 0;       // policies.hpp
  // The confirmation's rounds: --confirm-rounds, or default_confirm_rounds for the budget.
  int confirm_rounds = 0;
  // The rounds asked for (--confirm-rounds, or kConfirmRounds): what the simplification's checks
  // plan from (check_rounds_most), whatever the confirmation adds for them.
  int rounds_asked = 0;
  // The most simplification checks: --max-checks, else kMaxSimplificationChecks under a wall budget
  // (its time decides), else one per 10 minutes of the capped trials (simplification_checks_unbounded).
  int max_checks = kMaxSimplificationChecks;
  std::string max_checks_why = "12 checks are the most a search makes";  // the simplification's stop line at max_checks
  std::map<std::string, RangeOverride> overrides;
  bool resuming = false;              // --resume: open_study reopens options.resume for writing
  StudyInfo resumed_info;             // its record, read read-only
  std::optional<act::Profile> retune_profile;  // retune mode: the profile to hold
  Evidence retune_evidence;                    // its evidence, read strictly (a NaN score is an error here)
  bool retune() const { return retune_profile.has_value(); }
  bool screening() const { return screen.duration < objective.duration; }
  // One check measurement's time when a full one took `full_measure_s` (check_measure_seconds).
  double check_measure_s(double full_measure_s) const;
};

// Throws UsageError naming the option and the fix; nothing on the host has changed.
SearchPlan plan_search(const SearchOptions& options);

// --duration of search and retune as typed ("10", "30s", "1m"): whole seconds, 2..3600.
int measurement_seconds(const std::string& text);

}  // namespace wgopt::experiments

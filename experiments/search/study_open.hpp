#pragma once
// Stage 3 of the search: the study file, created with the host facts, the space, the objective and
// the engine's settings (or the resumed one, set running again), and where the profile goes.
// In retune mode the facts keep the profile's SKU, and a kernel other than the profile's is noted.
#include <string>

#include <nlohmann/json.hpp>

#include "experiments/search/search_plan.hpp"
#include "experiments/search/space_binding.hpp"

namespace wgopt::experiments {

struct OpenedStudy {
  StudyStore store;
  nlohmann::json facts;             // the profile's host facts
  std::string profile_path;
  std::string kernel_was, kernel_now;  // retune: set when the kernel is not the profile's
};

// Throws UsageError when the study path exists already (resume it or pick another), Error when it
// cannot be written.
OpenedStudy open_study(const SearchOptions& options, SearchPlan& plan, const SearchPlant& plant, const BoundSpace& bound,
                       const SearchEnv& env);

}  // namespace wgopt::experiments

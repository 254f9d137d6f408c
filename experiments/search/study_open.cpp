#include "experiments/search/study_open.hpp"

#include <spdlog/spdlog.h>

#include "actuators/lock.hpp"
#include "common/util.hpp"

namespace wgopt::experiments {

namespace {

void compare_with_profile(const act::Profile& profile, const SearchOptions& o, nlohmann::json& facts, std::string& kernel_was,
                          std::string& kernel_now) {
  if (profile.host.IsMap() && profile.host["kernel"]) {
    const auto was = profile.host["kernel"].as<std::string>();
    const auto now = facts.value("kernel", std::string());
    if (!now.empty() && was != now) {
      kernel_was = was;
      kernel_now = now;
    }
  }
  if (o.sku.empty() && profile.host.IsMap() && profile.host["sku"]) {
    facts["sku"] = profile.host["sku"].as<std::string>();  // the same SKU as the profile it keeps
  }
}

StudyStore reopen(StudyStore store) {
  store.set_status("running");
  for (int n : store.recovered_trials()) spdlog::warn("trial {} was stopped before it was measured (Ctrl-C or a crash): recorded as failed, left out of the model", n);
  return store;
}

StudyStore create_study(const SearchOptions& o, const SearchPlan& plan, const BoundSpace& bound, const SearchEnv& env,
                        const nlohmann::json& facts) {
  std::string path = o.study_path;
  if (path.empty()) {
    act::ensure_dir(env.state_dir + "/studies");
    path = env.state_dir + "/studies/study-" + utc_stamp("%Y%m%d-%H%M%S", env.unix_time()) + ".sqlite";
  }
  StudyInfo info;
  info.created = utc_stamp("%Y-%m-%dT%H:%M:%SZ", env.unix_time());
  info.host = facts;
  info.space = nlohmann::json::parse(bound.space->describe_json());
  info.objective_yaml = objective_to_yaml(plan.objective);
  info.seed = plan.seed;
  info.strategy = plan.strategy;
  info.budget = plan.budget_text;
  info.max_trials = plan.trials_cap;
  return StudyStore::create(path, info);
}

}  // namespace

OpenedStudy open_study(const SearchOptions& o, SearchPlan& plan, const SearchPlant& plant, const BoundSpace& bound,
                       const SearchEnv& env) {
  auto facts = env.host_facts(plant, o.sku);
  std::string kernel_was, kernel_now;
  if (plan.retune_profile) compare_with_profile(*plan.retune_profile, o, facts, kernel_was, kernel_now);
  StudyStore store = plan.resumed ? reopen(std::move(*plan.resumed)) : create_study(o, plan, bound, env, facts);
  plan.resumed.reset();
  const std::string study = store.path();
  std::string profile = plan.retune()            ? o.retune_profile
                        : !o.profile_path.empty() ? o.profile_path
                                                  : study.substr(0, study.rfind('.')) + ".yaml";
  return OpenedStudy{std::move(store), std::move(facts), std::move(profile), std::move(kernel_was), std::move(kernel_now)};
}

}  // namespace wgopt::experiments

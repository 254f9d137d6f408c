#include "experiments/search/search_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fmt/ranges.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/util.hpp"
#include "common/place.hpp"
#include "experiments/measure/plant.hpp"
#include "experiments/search/policies.hpp"
#include "optimizer/strategy.hpp"

namespace wgopt::experiments {

namespace {

Objective given_objective(const SearchOptions& o) {
  if (!o.objective_text.empty()) return parse_objective(o.objective_text, o.retune_profile + " (evidence.objective)");
  return o.objective_file.empty() ? Objective{} : load_objective(o.objective_file);
}

}  // namespace

namespace {

// A measurement's length: the first second is left out of its score (iperf3 -O 1), so at least 2.
constexpr int kMinDurationS = 2, kMaxDurationS = 3600;

std::string duration_range(const std::string& text) {
  return fmt::format("--duration '{}' is out of range: use {}..{} whole seconds, e.g. 10, 30s or 1m", one_line(text, 80), kMinDurationS,
                     kMaxDurationS);
}

// `file`'s directory, there and writable before the run: not found after it, the result was lost.
void require_writable_dir(const std::string& option, const std::string& file) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::absolute(file).lexically_normal().parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || ::access(dir.c_str(), W_OK) != 0) {
    throw UsageError(fmt::format("{} {}: directory {} does not exist or is not writable: create it or choose another path", option,
                                 one_line(file, 200), one_line(dir.string(), 200)));
  }
}

// The study and the profile a search writes: never one file (the profile's YAML replaced the
// study's database, exit 0: `--study s.yaml` alone did it, the profile's default being the study's
// name with .yaml), and the profile's directory there before the search, not found after it (the
// result was lost, the study left "failed"). A retune writes its --profile in place, and its study
// where --study says (a missing directory failed after the wait with exit 1, found by an exploratory
// test).
void check_output_paths(const SearchOptions& o) {
  namespace fs = std::filesystem;
  if (!o.retune_profile.empty()) {
    if (!o.study_path.empty()) require_writable_dir("--study", o.study_path);
    return;
  }
  const std::string study = !o.resume.empty() ? o.resume : o.study_path;
  std::string profile = o.profile_path;
  if (profile.empty() && !study.empty()) profile = study.substr(0, study.rfind('.')) + ".yaml";
  if (profile.empty()) return;  // next to a study named by the clock, in the state dir
  const auto norm = [](const std::string& p) { return fs::absolute(p).lexically_normal(); };
  if (!study.empty() && norm(profile) == norm(study)) {
    throw UsageError(fmt::format("the profile would be written over the study {}: {}", one_line(study, 200),
                                 o.profile_path.empty() ? "name the study .sqlite, or give --profile FILE"
                                                        : "give --profile another file"));
  }
  // Without --profile the profile goes next to the study: name the option the user gave.
  if (o.profile_path.empty()) {
    require_writable_dir("--study", study);
  } else {
    require_writable_dir("--profile", profile);
  }
}

}  // namespace

int measurement_seconds(const std::string& text) {
  const std::string not_whole = fmt::format("--duration '{}' is not a whole number of seconds: use {}..{}, e.g. 10, 30s or 1m",
                                            one_line(text, 80), kMinDurationS, kMaxDurationS);
  std::chrono::milliseconds ms{0};
  try {
    ms = parse_duration(text, "--duration");
  } catch (const UsageError& e) {
    // "0", "0s", "-5": out of range; "ten", "1e3": not a duration at all (found in review: the kind
    // was guessed from the text).
    const std::string why = e.what();
    const bool range = trim(text).starts_with('-') || why.find("must be positive") != std::string::npos ||
                       why.find("is too long") != std::string::npos;
    throw UsageError(range ? duration_range(text) : not_whole);
  }
  if (ms.count() % 1000 != 0) throw UsageError(not_whole);
  const long long s = ms.count() / 1000;
  if (s < kMinDurationS || s > kMaxDurationS) throw UsageError(duration_range(text));
  return static_cast<int>(s);
}

SearchPlan plan_search(const SearchOptions& o) {
  if (o.testbed == !o.peer.empty()) {  // both given read "choose" as if neither was (found by an exploratory test)
    throw UsageError(fmt::format("choose the plant: --testbed, or --peer ADDR of a host running `iperf3 -s`{}",
                                 o.testbed ? ", not both" : ""));
  }
  if (o.ssh && o.testbed) throw UsageError("--ssh reaches a peer: use it with --peer ADDR, not --testbed (the testbed tunes both ends already)");
  if (!o.ssh && (o.per_end || !o.peer_interfaces.empty())) {
    throw UsageError(std::string(o.per_end ? "--per-end" : "--peer-interfaces") + " only applies with --ssh [USER@]HOST: add --ssh or drop it");
  }
  if (!o.peer_interfaces.empty() && o.peer_interfaces.size() != o.interfaces.size()) {
    throw UsageError(fmt::format("--peer-interfaces names {} interface(s) but --interfaces {}: list the peer's counterpart of each "
                                 "interface of --interfaces, in the same order",
                                 o.peer_interfaces.size(), o.interfaces.size()));
  }
  for (const auto& i : o.peer_interfaces) require_valid_ifname(i);
  if (!o.peer.empty()) check_peer_address(o.peer, o.port);
  if (o.baseline_rounds < 2) throw UsageError("--baseline-rounds must be at least 2 (one round says nothing about the noise)");
  if (o.confirm_rounds && *o.confirm_rounds < 2) throw UsageError("--confirm-rounds must be at least 2");
  // Before a study file exists: a study created first was left "running", with a strategy no resume could use.
  const auto names = opt::strategy_names();
  if (o.resume.empty() && std::find(names.begin(), names.end(), o.strategy) == names.end()) {
    throw UsageError(fmt::format("strategy '{}' is unknown: use {}", one_line(o.strategy, 40), fmt::join(names, ", ")));
  }
  check_output_paths(o);
  SearchPlan plan;
  if (!o.resume.empty()) {
    // Read-only: resume_options (study_open.hpp) has checked the file; open_study writes to it.
    plan.resuming = true;
    plan.resumed_info = StudyStore::open_read_only(o.resume).info();
  }
  plan.objective = given_objective(o);
  if (!o.retune_profile.empty()) {
    plan.retune_profile = act::load_profile(o.retune_profile);
    plan.retune_evidence = Evidence::from_yaml(plan.retune_profile->evidence, o.retune_profile);
    if (o.ssh && !plan.retune_profile->peer) {
      throw UsageError(fmt::format("{} holds this host's knobs only (no peer: section): retune it without --ssh", o.retune_profile));
    }
    if (!(o.retune_tolerance >= 0 && o.retune_tolerance < 1)) throw UsageError("--tolerance must be 0..99 percent");
  }
  if (plan.resuming && !plan.resumed_info.objective_yaml.empty()) {
    plan.objective = parse_objective(plan.resumed_info.objective_yaml, o.resume);
  }
  if (o.duration_s) {
    if (*o.duration_s < kMinDurationS || *o.duration_s > kMaxDurationS) throw UsageError(duration_range(std::to_string(*o.duration_s)));
    plan.objective.duration = std::chrono::seconds(*o.duration_s);
  }
  plan.screen = plan.objective;
  plan.screen.duration = std::chrono::seconds(screen_seconds(o.screen_s, static_cast<int>(plan.objective.duration.count())));
  plan.check = plan.objective;
  plan.check.duration = std::chrono::seconds(check_seconds(static_cast<int>(plan.objective.duration.count()),
                                                           static_cast<int>(plan.screen.duration.count())));
  const bool resumed = plan.resuming;
  plan.strategy = resumed ? plan.resumed_info.strategy : o.strategy;
  plan.seed = resumed ? plan.resumed_info.seed : o.seed;
  plan.budget_text = resumed && o.budget.empty() ? plan.resumed_info.budget : o.budget;
  plan.trials_cap = o.trials;
  if (resumed && !plan.trials_cap && plan.resumed_info.max_trials) plan.trials_cap = plan.resumed_info.max_trials;
  plan.limits = parse_budget(plan.budget_text, plan.trials_cap);
  plan.nominal_measure_s = nominal_measure_seconds(plan.objective);
  plan.rounds_asked = o.confirm_rounds.value_or(kConfirmRounds);
  if (!plan.limits.wall && plan.limits.max_trials) {
    plan.max_checks = simplification_checks_unbounded(*plan.limits.max_trials, plan.nominal_measure_s);
    plan.max_checks_why = fmt::format("{} check(s) are the most a search without --budget makes after trials of this length (one per "
                                      "10 minutes of them; --budget or --max-checks plans more)",
                                      plan.max_checks);
  }
  if (o.max_checks) {
    plan.max_checks = *o.max_checks;
    plan.max_checks_why = fmt::format("{} check(s) are the most this search makes (--max-checks)", plan.max_checks);
  }
  plan.confirm_rounds = o.confirm_rounds.value_or(default_confirm_rounds(plan.limits.wall, plan.nominal_measure_s, o.simplify, plan.max_checks));
  if (plan.limits.wall) {
    plan.limits.reserve = confirmation_reserve(*plan.limits.wall, plan.nominal_measure_s, plan.confirm_rounds, o.simplify, plan.max_checks);
    const auto without_checks = confirmation_reserve(*plan.limits.wall, plan.nominal_measure_s, plan.confirm_rounds, false);
    plan.check_reserve = std::max(std::chrono::milliseconds(0), plan.limits.reserve - without_checks);
  }
  if (!o.space_file.empty()) plan.overrides = load_space_overrides(o.space_file);
  return plan;
}

double SearchPlan::check_measure_s(double full_measure_s) const {
  return check_measure_seconds(full_measure_s, static_cast<int>(objective.duration.count()), static_cast<int>(check.duration.count()),
                               static_cast<int>(objective.scenarios.size()));
}

}  // namespace wgopt::experiments

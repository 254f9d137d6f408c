#include "experiments/search/other_tuners.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "actuators/host.hpp"
#include "common/error.hpp"

namespace wgopt::experiments {

namespace {

act::TunerPlan tuner_plan(const SearchOptions& o, const BoundSpace& bound, const SearchEnv& env) {
  act::TunerPlan p{.stop_irqbalance = o.stop_irqbalance};
  for (const auto& k : bound.space->knobs()) {
    if (k.descriptor.kind == "irq_affinity") p.searches_irq_affinity = true;
    if (k.descriptor.kind == "sysctl") p.searches_sysctls = true;
  }
  if (auto knob = env.knob_lookup(Place::host(), "irqbalance")) {
    const auto presence = knob->presence();
    p.irqbalance_stoppable = presence.present && presence.writable;
  }
  return p;
}

bool searches_any(const BoundSpace& bound, const std::vector<std::string>& ids) {
  return std::any_of(ids.begin(), ids.end(), [&](const std::string& id) { return bound.bindings.count(id) > 0; });
}

}  // namespace

act::TunerDecision check_other_tuners(const SearchOptions& o, const SearchPlant& sp, const SearchPlan& plan,
                                      BoundSpace& bound, const SearchEnv& env) {
  const auto tuners = env.detect_tuners();
  if (tuners.empty()) return {};
  act::TunerDecision d = act::decide_tuners(tuners, tuner_plan(o, bound, env));
  for (const auto& line : d.lines) spdlog::warn("{}", line);
  if (d.refusal) throw UsageError(*d.refusal);
  if (searches_any(bound, d.exclude)) {  // held for the search, so not one of its parameters
    SearchOptions without = o;
    without.exclude.insert(without.exclude.end(), d.exclude.begin(), d.exclude.end());
    bound = bind_space(without, sp, plan.overrides, plan.retune_profile ? &*plan.retune_profile : nullptr);
  }
  return d;
}

HeldTuners::HeldTuners(act::ChangeSession& session, const SearchEnv& env, const std::vector<act::Change>& hold)
    : session_(session) {
  if (hold.empty()) return;
  const act::Host host = act::make_host(Place::host());
  std::vector<act::KnobPtr> knobs;
  for (const auto& c : hold) {
    auto knob = env.knob_lookup(Place::host(), c.id);
    if (!knob) throw Error("cannot hold " + c.id + " for the search: the knob is not found on this host");
    knobs.push_back(std::move(knob));
  }
  act::Transaction tx(session_, host, knobs);
  for (const auto& step : tx.apply(hold).steps) {
    if (step.written) spdlog::info("{}: {} -> {} for the search (put back at its end)", step.id, step.before, step.after);
  }
  tx.hold();
  held_ = true;
}

HeldTuners::~HeldTuners() {
  try {
    release();
  } catch (const std::exception& e) {
    spdlog::error("putting back what the search held failed ({}): run `wgopt rollback`", e.what());
  }
}

void HeldTuners::release() {
  if (!held_) return;
  held_ = false;
  for (const auto& item : session_.release_held().items) {
    if (item.outcome == act::Outcome::Restored || item.outcome == act::Outcome::Unchanged) spdlog::info("{}", item.line());
    else spdlog::warn("{}", item.line());
  }
}

}  // namespace wgopt::experiments

#include "experiments/search/study_open.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "actuators/lock.hpp"
#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/peer/ssh_transport.hpp"
#include "experiments/search/policies.hpp"
#include "experiments/search/remote_end.hpp"

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

// Retune --ssh: the peer's kernel against the one the profile's peer part records.
void compare_peer_kernel(const act::Profile& profile, const RemoteEnd& remote, std::string& kernel_was, std::string& kernel_now) {
  if (!profile.peer || !profile.peer->host.IsMap()) return;
  const YAML::Node& host = profile.peer->host;  // const: a missing key must not be created
  const YAML::Node k = host["kernel"];
  const std::string now = remote.facts().kernel;
  if (!k || !k.IsScalar() || now.empty() || k.Scalar() == now) return;
  auto add = [](std::string& to, const std::string& what) { to += (to.empty() ? "" : "; ") + what; };
  add(kernel_was, fmt::format("{}: {}", remote.label(), k.Scalar()));
  add(kernel_now, fmt::format("{}: {}", remote.label(), now));
}

// The names in `a` that `b` lacks, at most three and a count of the rest.
std::string missing_names(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::vector<std::string> out;
  for (const auto& n : a) {
    if (!b.contains(n)) out.push_back(n);
  }
  if (out.size() > 3) {
    const size_t more = out.size() - 3;
    out.resize(3);
    out.push_back(fmt::format("{} more", more));
  }
  return fmt::format("{}", fmt::join(out, ", "));
}

// A resumed study's trials are replayed into this search's model by their knob ids: on another
// plant or knob selection the ids differ, and the model would learn every trial as the host's own
// configuration (found by an exploratory test: a testbed study resumed with --peer replayed its 4
// trials into the root namespace's space and measured a new baseline there). Checked read-only,
// before the study is reopened.
void check_same_knobs(const std::string& path, const SearchSpace& space) {
  const auto store = StudyStore::open_read_only(path);
  const auto trials = store.trials();
  if (trials.empty()) return;
  // The study's space as recorded (a trial leaves out the parameters inactive in it: rps_flow_cnt
  // with rps_cpus 0; found in review: the first trial's keys refused every resume of such a space).
  std::set<std::string> recorded, here;
  for (const auto& p : store.info().space) {
    if (p.is_object() && p.contains("name") && p["name"].is_string()) recorded.insert(p["name"].get<std::string>());
  }
  for (const auto& p : space.space().params()) here.insert(p.name);
  if (recorded.empty()) {  // an older study without its space: the knobs its trials set must all be here
    for (const auto& t : trials) {
      for (auto it = t.params.begin(); it != t.params.end(); ++it) recorded.insert(it.key());
    }
    if (std::includes(here.begin(), here.end(), recorded.begin(), recorded.end())) return;
  }
  if (recorded == here) return;
  std::vector<std::string> differs;
  if (const auto lacks = missing_names(recorded, here); !lacks.empty()) differs.push_back("does not have (" + lacks + ")");
  if (const auto extra = missing_names(here, recorded); !extra.empty()) differs.push_back("has knobs it did not search (" + extra + ")");
  throw UsageError(fmt::format("study '{}' searched other knobs: this search {}: resume it on the plant and knobs it recorded "
                               "(`wgopt search --resume {}` with no plant or --knobs given), or start a new search",
                               path, fmt::join(differs, " and "), path));
}

StudyStore reopen(StudyStore store) {
  store.set_status("running");
  for (int n : store.recovered_trials()) spdlog::warn("trial {} was stopped before it was measured (Ctrl-C or a crash): recorded as failed, left out of the model", n);
  return store;
}

StudyStore create_study(const SearchOptions& o, const SearchPlan& plan, const BoundSpace& bound, const SearchEnv& env,
                        const nlohmann::json& facts, const RemoteEnd* remote) {
  std::string path = o.study_path;
  if (path.empty()) {
    act::ensure_dir(env.state_dir + "/studies");
    path = env.state_dir + "/studies/study-" + utc_stamp("%Y%m%d-%H%M%S", env.unix_time()) + ".sqlite";
  }
  StudyInfo info;
  info.created = utc_stamp("%Y-%m-%dT%H:%M:%SZ", env.unix_time());
  info.host = facts;
  if (remote) info.host["peer"] = remote->facts_json();  // both ends: the study says what the peer was
  info.space = nlohmann::json::parse(bound.space->describe_json());
  info.objective_yaml = objective_to_yaml(plan.objective);
  info.seed = plan.seed;
  info.strategy = plan.strategy;
  info.budget = plan.budget_text;
  info.max_trials = plan.trials_cap;
  info.search = search_record(o);
  return StudyStore::create(path, info);
}

// The study, checked read-only: identity and schema version (open_read_only), soundness (verify),
// not finished, not a retune's (a retune starts again from its profile). Returns its record.
StudyInfo check_resumable(const std::string& path) {
  StudyStore s = StudyStore::open_read_only(path);
  s.verify();
  StudyInfo info = s.info();
  if (info.status == "finished") {
    const auto r = s.result();
    throw UsageError(fmt::format("study '{}' is finished ({}{}): there is nothing to resume; start a new search "
                                 "(`wgopt report {}` shows this one)",
                                 path, r ? "outcome " + to_string(r->outcome) : "no result recorded",
                                 r && !r->profile_path.empty() ? ", profile " + r->profile_path : "", path));
  }
  const auto& rec = info.search;
  const auto it = rec.is_object() ? rec.find("retune") : rec.end();
  if (const std::string retuned = it != rec.end() && it->is_string() ? it->get<std::string>() : ""; !retuned.empty()) {
    throw UsageError(fmt::format("study '{}' is a retune of {}: a retune is not resumed; run `wgopt retune {}` again (it starts "
                                 "from the profile, warm-started from its study)",
                                 path, retuned, retuned));
  }
  return info;
}

// A both-ends study's --ssh options (its plant's "ssh" entry), checked as the command line's are,
// when the command line gives none; with them --per-end, and the peer's interfaces when this
// host's came from the record too. A study of an older wgopt whose facts name a peer but whose
// record has no "ssh" entry is refused: its trials moved the peer's knobs, which a search of this
// host alone would drop. Throws UsageError naming the study.
void take_recorded_ssh(const nlohmann::json& plant, const nlohmann::json& host, bool interfaces_taken, const std::string& path,
                       SearchOptions& o) {
  if (!o.ssh && !plant.contains("ssh") && host.is_object() && host.contains("peer")) {
    throw UsageError(fmt::format("study '{}' tuned both ends over ssh and does not record the ssh options (an older wgopt "
                                 "wrote it): give them: --resume {} --ssh [USER@]HOST",
                                 path, path));
  }
  const auto it = plant.find("ssh");
  if (!o.ssh && it != plant.end() && !it->is_null()) {
    const auto& r = *it;
    peer::SshOptions s;
    s.target = r.at("target").get<std::string>();
    s.identity = r.value("identity", std::string());
    s.known_hosts = r.value("known_hosts", std::string());
    s.accept_new_host_key = r.value("accept_new_host_key", false);
    s.options = r.value("options", std::vector<std::string>{});
    s.peer_wgopt = r.value("peer_wgopt", s.peer_wgopt);
    try {
      peer::validate(s);
    } catch (const UsageError& e) {
      throw UsageError(fmt::format("study '{}' records --ssh options this wgopt refuses ({}): give them: --resume {} "
                                   "--ssh [USER@]HOST",
                                   path, e.what(), path));
    }
    o.ssh = s;
  }
  if (!o.ssh) return;
  o.per_end = o.per_end || plant.value("per_end", false);
  if (interfaces_taken && o.peer_interfaces.empty()) o.peer_interfaces = plant.value("peer_interfaces", std::vector<std::string>{});
}

nlohmann::json ssh_record(const SearchOptions& o) {
  if (!o.ssh) return nullptr;
  const auto& s = *o.ssh;
  return {{"target", s.target},           {"identity", s.identity}, {"known_hosts", s.known_hosts},
          {"accept_new_host_key", s.accept_new_host_key}, {"options", s.options}, {"peer_wgopt", s.peer_wgopt}};
}

// How the first run confirmed, screened, stopped early and simplified, unless this command line
// says otherwise: an option given (a new --duration drops the recorded --screen, whose length was
// the old duration's), or a flag that turns a policy off (none turns one back on). `duration` is
// the study's objective's. Returns what it took as the options that would give it
// ("--confirm-rounds 4 --one-look"), for the log. Throws (json's errors, UsageError) on a damaged record.
std::string take_recorded_policies(const nlohmann::json& rec, int duration, SearchOptions& o) {
  std::string taken;
  auto say = [&](const std::string& option) { taken += (taken.empty() ? "" : " ") + option; };
  if (!o.confirm_rounds && rec.contains("confirm_rounds") && !rec["confirm_rounds"].is_null()) {
    const int rounds = rec["confirm_rounds"].get<int>();
    if (rounds < 2) throw UsageError(fmt::format("confirm_rounds {} is below 2", rounds));
    o.confirm_rounds = rounds;
    say(fmt::format("--confirm-rounds {}", rounds));
  }
  if (!o.max_checks && rec.contains("max_checks") && !rec["max_checks"].is_null()) {  // found in review: resumes forgot it
    const int checks = rec["max_checks"].get<int>();
    if (checks < 1 || checks > kMaxSimplificationChecks) throw UsageError(fmt::format("max_checks {} is outside 1..12", checks));
    o.max_checks = checks;
    say(fmt::format("--max-checks {}", checks));
  }
  if (!o.screen_s && !o.duration_s && rec.contains("screen") && !rec["screen"].is_null()) {
    const int screen = rec["screen"].get<int>();
    screen_seconds(screen, duration);  // the command line's range, against the study's duration
    o.screen_s = screen;
    say(fmt::format("--screen {}", screen));
  }
  for (const auto& [key, field, option] : {std::tuple{"second_look", &SearchOptions::second_look, "--one-look"},
                                          {"simplify", &SearchOptions::simplify, "--keep-whole-winner"},
                                          {"prune", &SearchOptions::prune, "--no-prune"}}) {
    if (o.*field && !rec.value(key, true)) {
      o.*field = false;
      say(option);
    }
  }
  return taken;
}

// The plant a resumed search runs on, for the log.
std::string plant_text(const SearchOptions& o) {
  if (o.testbed) return "the testbed " + o.testbed_prefix;
  return "peer " + o.peer + (o.ssh ? " over ssh " + o.ssh->target + (o.per_end ? ", per end" : "") : "");
}

// The recorded plant and knob selection into `o`, which names no plant.
void take_recorded_search(const StudyInfo& info, const std::string& path, SearchOptions& o) {
  const auto& rec = info.search;
  const auto& plant = rec.contains("plant") ? rec["plant"] : nlohmann::json();
  if (!plant.is_object() || (!plant.contains("testbed") && !plant.contains("peer"))) {
    throw UsageError(fmt::format("study '{}' does not record its plant (an older wgopt wrote it): give the plant it "
                                 "began with: --resume {} --testbed, or --peer ADDR",
                                 path, path));
  }
  try {
    if (plant.contains("testbed")) {
      o.testbed = true;
      o.testbed_prefix = plant.at("testbed").get<std::string>();
    } else {
      o.peer = plant.at("peer").get<std::string>();
      o.port = plant.value("port", o.port);
      o.netns = plant.value("netns", std::string());
      const bool interfaces_taken = o.interfaces.empty();
      if (interfaces_taken) o.interfaces = plant.value("interfaces", std::vector<std::string>{});
      take_recorded_ssh(plant, info.host, interfaces_taken, path, o);
    }
    if (o.include.empty()) o.include = rec.value("knobs", std::vector<std::string>{});
    if (o.exclude.empty()) o.exclude = rec.value("exclude", std::vector<std::string>{});
    o.allow_global = o.allow_global || rec.value("allow_global", false);
    o.allow_underlay_mtu = o.allow_underlay_mtu || rec.value("allow_underlay_mtu", false);
    o.stop_irqbalance = o.stop_irqbalance || rec.value("stop_irqbalance", false);
    if (o.space_file.empty()) o.space_file = rec.value("space", std::string());
    if (o.profile_path.empty()) o.profile_path = rec.value("profile", std::string());
    if (o.sku.empty()) o.sku = rec.value("sku", std::string());
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(fmt::format("study '{}' has a damaged search record ({}): give the plant: --resume {} --testbed, "
                                 "or --peer ADDR [--ssh [USER@]HOST]",
                                 path, e.what(), path));
  }
  spdlog::info("resuming on the study's own plant: {}", plant_text(o));
}

}  // namespace

nlohmann::json search_record(const SearchOptions& o) {
  nlohmann::json plant = o.testbed ? nlohmann::json{{"testbed", o.testbed_prefix}}
                                   : nlohmann::json{{"peer", o.peer}, {"port", o.port}, {"netns", o.netns}, {"interfaces", o.interfaces}};
  if (!o.testbed) {
    plant["ssh"] = ssh_record(o);
    plant["peer_interfaces"] = o.peer_interfaces;
    plant["per_end"] = o.per_end;
  }
  return {{"plant", plant},
          {"confirm_rounds", o.confirm_rounds ? nlohmann::json(*o.confirm_rounds) : nlohmann::json()},
          {"screen", o.screen_s ? nlohmann::json(*o.screen_s) : nlohmann::json()},
          {"max_checks", o.max_checks ? nlohmann::json(*o.max_checks) : nlohmann::json()},
          {"second_look", o.second_look},
          {"simplify", o.simplify},
          {"prune", o.prune},
          {"stop_irqbalance", o.stop_irqbalance},
          {"knobs", o.include},
          {"exclude", o.exclude},
          {"allow_global", o.allow_global},
          {"allow_underlay_mtu", o.allow_underlay_mtu},
          {"space", o.space_file},
          {"profile", o.profile_path},
          {"sku", o.sku},
          {"retune", o.retune_profile}};
}

SearchOptions resume_options(const SearchOptions& given) {
  if (given.resume.empty()) return given;
  const StudyInfo info = check_resumable(given.resume);
  SearchOptions o = given;
  if (!given.testbed && given.peer.empty()) take_recorded_search(info, given.resume, o);
  const Objective objective = info.objective_yaml.empty() ? Objective{} : parse_objective(info.objective_yaml, given.resume);
  try {
    const int duration = static_cast<int>(objective.duration.count());
    const std::string taken = take_recorded_policies(info.search, duration, o);
    if (!taken.empty()) spdlog::info("resuming with the study's own {}", taken);
  } catch (const std::exception& e) {  // nlohmann::json's type errors, and the values' ranges
    throw UsageError(fmt::format("study '{}' has a damaged search record ({}): give the options it began with "
                                 "(--confirm-rounds N, --screen S) with --resume {}",
                                 given.resume, e.what(), given.resume));
  }
  return o;
}

OpenedStudy open_study(const SearchOptions& o, const SearchPlan& plan, const SearchPlant& plant, const BoundSpace& bound,
                       const SearchEnv& env, const RemoteEnd* remote) {
  auto facts = env.host_facts(plant, o.sku);
  std::string kernel_was, kernel_now;
  if (plan.retune_profile) compare_with_profile(*plan.retune_profile, o, facts, kernel_was, kernel_now);
  if (plan.retune_profile && remote) compare_peer_kernel(*plan.retune_profile, *remote, kernel_was, kernel_now);
  if (plan.resuming) check_same_knobs(o.resume, *bound.space);
  StudyStore store = plan.resuming ? reopen(StudyStore::open(o.resume)) : create_study(o, plan, bound, env, facts, remote);
  const std::string study = store.path();
  std::string profile = plan.retune()            ? o.retune_profile
                        : !o.profile_path.empty() ? o.profile_path
                                                  : study.substr(0, study.rfind('.')) + ".yaml";
  return OpenedStudy{std::move(store), std::move(facts), std::move(profile), std::move(kernel_was), std::move(kernel_now)};
}

}  // namespace wgopt::experiments

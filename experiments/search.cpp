#include "experiments/search.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "actuators/catalog.hpp"
#include "actuators/host.hpp"
#include "actuators/lock.hpp"
#include "actuators/profile.hpp"
#include "actuators/transaction.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "experiments/budget.hpp"
#include "experiments/confirm.hpp"
#include "experiments/host_facts.hpp"
#include "experiments/measure.hpp"
#include "experiments/objective.hpp"
#include "experiments/search_space.hpp"
#include "experiments/stats.hpp"
#include "experiments/study_store.hpp"
#include "experiments/table.hpp"
#include "experiments/testbed.hpp"
#include "experiments/watchdog.hpp"
#include "optimizer/strategy.hpp"
#include "probes/wireguard.hpp"

namespace wgopt::experiments {

namespace {

using Values = std::map<std::string, std::string>;

// A place whose knobs a candidate changes. The first target is the primary: its knob ids are the
// optimizer's parameter names; other targets mirror them (the testbed's server end) or hold the
// host-wide knobs (--allow-global).
struct Target {
  std::string label;
  act::Host host;
  std::vector<act::KnobPtr> knobs;
  act::Knob* find(const std::string& id) const {
    for (const auto& k : knobs) {
      if (k->id() == id) return k.get();
    }
    return nullptr;
  }
};

struct Binding {
  size_t target;
  std::string id;
};

// How long an applied candidate may go unconfirmed before the watchdog restores (the issue's
// "connectivity back within 15 s").
constexpr auto kApplyLease = std::chrono::seconds(12);
// A handshake older than this means the peer is gone (WireGuard rekeys every 2 minutes).
constexpr long long kHandshakeMaxAge = 180;

std::string self_exe(const std::string& given) { return given == "/proc/self/exe" ? self_exe_path() : given; }

bool sleep_interruptible(std::chrono::milliseconds d, const std::atomic<bool>& interrupted) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
    if (interrupted.load()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return !interrupted.load();
}

// The tunnel is alive when a full-size don't-fragment ping crosses it and the handshake is recent.
bool tunnel_alive(const Plant& plant, CommandRunner& runner, std::string& why) {
  auto files = files_for(plant.client);
  int mtu = 1420;
  if (auto m = files->read("/sys/class/net/" + plant.client_wg + "/mtu")) {
    try {
      mtu = std::stoi(trim(*m));
    } catch (...) {
    }
  }
  const int size = std::max(0, mtu - 28);  // IPv4 + ICMP headers
  Command ping{.argv = plant.client.wrap({"ping", "-n", "-q", "-M", "do", "-c", "3", "-i", "0.2", "-W", "2", "-s",
                                          std::to_string(size), plant.server_address}),
               .timeout = std::chrono::seconds(8)};
  auto r = runner.run(ping);
  if (!r.ok()) {
    why = fmt::format("no reply to a {}-byte don't-fragment ping across the tunnel (MTU {}): {}", size, mtu,
                      r.brief());
    return false;
  }
  Command hs{.argv = plant.client.wrap({"wg", "show", plant.client_wg, "latest-handshakes"}),
             .timeout = std::chrono::seconds(5)};
  auto h = runner.run(hs);
  if (h.ok()) {
    long long newest = 0;
    for (const auto& line : split_lines(h.out)) {
      auto f = split_ws(line);
      if (f.size() == 2) {
        try {
          newest = std::max(newest, std::stoll(f[1]));
        } catch (...) {
        }
      }
    }
    long long age = static_cast<long long>(std::time(nullptr)) - newest;
    if (newest == 0 || age > kHandshakeMaxAge) {
      why = newest == 0 ? "no WireGuard handshake with the peer" : fmt::format("last handshake {} s ago", age);
      return false;
    }
  }
  return true;
}

std::string route_device(const Place& place, const std::string& addr, CommandRunner& runner) {
  auto r = runner.run({.argv = place.wrap({"ip", "-o", "route", "get", addr}), .timeout = std::chrono::seconds(5)});
  if (!r.ok()) throw Error(fmt::format("no route to peer {} in {}: {}", addr, place.describe(), r.brief()));
  auto f = split_ws(r.out);
  for (size_t i = 0; i + 1 < f.size(); ++i) {
    if (f[i] == "dev") return f[i + 1];
  }
  throw Error(fmt::format("cannot tell which interface reaches {}: `ip route get` said '{}'", addr, trim(r.out)));
}

nlohmann::json host_facts(const Plant& plant, const std::vector<Target>& targets, const std::string& sku,
                          const std::string& underlay, CommandRunner& runner) {
  nlohmann::json h;
  if (auto k = kernel_release(); !k.empty()) h["kernel"] = k;
  h["nproc"] = targets.front().host.nproc;
  h["place"] = plant.client.describe();
  if (targets.size() > 1 && targets[1].label == "server") h["mirrored_to"] = targets[1].host.place.describe();
  h["sku"] = sku.empty() ? read_sku(targets.front().host.nproc) : trim(sku);
  if (!underlay.empty()) {
    if (auto d = nic_driver(runner, plant.client, underlay); !d.empty()) h["nic_driver"] = d;
  }
  h["wireguard_mode"] = wireguard_mode(runner, plant.client, plant.client_wg);
  return h;
}

opt::TrialState to_opt_state(TrialState s) {
  switch (s) {
    case TrialState::Complete: return opt::TrialState::complete;
    case TrialState::Pruned: return opt::TrialState::pruned;
    case TrialState::Infeasible: return opt::TrialState::infeasible;
    default: return opt::TrialState::failed;
  }
}

// The main knobs of a candidate for the progress line: those that differ from the baseline.
std::vector<std::pair<std::string, std::string>> main_knobs(const Values& v, const Values& base) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [id, val] : v) {
    auto it = base.find(id);
    if (it == base.end() || it->second != val) out.emplace_back(id, val);
  }
  return out;
}

struct Averages {
  double throughput = 0, top_soft = 0, softnet = 0, nic = 0;
  int top_core = -1;
  int n = 0;
};

void accumulate(Averages& a, const Evaluation& ev) {
  if (!ev.score) return;
  double tp = 0, soft = 0, sn = 0, nic = 0;
  int core = -1;
  for (const auto& s : ev.scenarios) {
    tp += s.measurement.throughput_mbps;
    if (s.probes.top_soft_pct >= soft) {
      soft = s.probes.top_soft_pct;
      core = s.probes.top_soft_cpu;
    }
    sn += static_cast<double>(s.probes.softnet.dropped);
    for (const auto& i : s.probes.ifaces) {
      nic += static_cast<double>(i.delta.rx_dropped + i.delta.tx_dropped);
      if (i.ethtool_delta) {
        for (const auto& [n, v] : probes::drop_counters(*i.ethtool_delta)) nic += static_cast<double>(v);
      }
    }
  }
  const double k = ev.scenarios.empty() ? 1 : static_cast<double>(ev.scenarios.size());
  a.throughput += tp / k;
  a.top_soft += soft;
  a.top_core = core;
  a.softnet += sn / k;
  a.nic += nic / k;
  a.n += 1;
}

ComparisonRow to_row(const std::string& label, const Averages& a) {
  ComparisonRow r;
  r.config = label;
  if (a.n == 0) return r;
  r.throughput_mbps = a.throughput / a.n;
  r.top_core_soft_pct = a.top_soft / a.n;
  if (a.top_core >= 0) r.top_core = a.top_core;
  r.softnet_drops = a.softnet / a.n;
  r.nic_drops = a.nic / a.n;
  return r;
}

// Applies `values` (primary ids) to every bound target as ONE transaction (the journal's open
// transaction then covers every place, so crash recovery restores them together). On failure the
// transaction has restored what it wrote and the error is rethrown.
std::vector<std::unique_ptr<act::Transaction>> apply_values(act::ChangeSession& session, std::vector<Target>& targets,
                                                            const std::map<std::string, std::vector<Binding>>& bindings,
                                                            const Values& values) {
  std::vector<act::TxTarget> places;
  for (auto& t : targets) places.push_back({&t.host, &t.knobs});
  std::vector<act::Change> changes;
  for (const auto& [id, value] : values) {
    auto it = bindings.find(id);
    if (it == bindings.end()) continue;
    for (const auto& b : it->second) changes.push_back({b.id, value, b.target});
  }
  std::vector<std::unique_ptr<act::Transaction>> txs;
  txs.push_back(std::make_unique<act::Transaction>(session, places));
  txs.back()->apply(changes);
  return txs;
}

void rollback_all(std::vector<std::unique_ptr<act::Transaction>>& txs) {
  for (auto it = txs.rbegin(); it != txs.rend(); ++it) {
    auto report = (*it)->rollback();
    for (const auto& item : report.items) {
      if (item.outcome == act::Outcome::ChangedByOther || item.outcome == act::Outcome::Failed) {
        spdlog::warn("{}", item.line());
      }
    }
  }
  txs.clear();
}

}  // namespace

nlohmann::json SearchReport::to_json() const {
  return {{"outcome", outcome},
          {"study", study_path},
          {"profile", profile_path},
          {"trials", {{"total", trials}, {"complete", complete}, {"pruned", pruned}, {"failed", failed}, {"infeasible", infeasible}}},
          {"baseline_score", baseline_score},
          {"winner_score", winner_score},
          {"gain_pct", gain_pct},
          {"confirmation", confirmation},
          {"pruning_saved_s", pruning_saved_s},
          {"elapsed_s", elapsed_s},
          {"applied", applied},
          {"changed", changed}};
}

SearchReport run_search(const SearchOptions& o, const std::atomic<bool>& interrupted) {
  const auto t_start = std::chrono::steady_clock::now();
  require_root("wgopt search");
  auto runner = default_runner();
  SearchReport report;

  // ---- Options that can be checked before anything is touched.
  if (o.testbed == !o.peer.empty()) throw UsageError("choose the plant: --testbed, or --peer ADDR of a host running `iperf3 -s`");
  if (o.baseline_rounds < 2) throw UsageError("--baseline-rounds must be at least 2 (one round says nothing about the noise)");
  if (o.confirm_rounds < 2) throw UsageError("--confirm-rounds must be at least 2");
  std::optional<StudyStore> store;
  StudyInfo resumed_info;
  if (!o.resume.empty()) {
    store.emplace(StudyStore::open(o.resume));
    resumed_info = store->info();
  }
  Objective objective = !o.objective_text.empty()  ? parse_objective(o.objective_text, o.retune_profile + " (evidence.objective)")
                        : o.objective_file.empty() ? Objective{}
                                                   : load_objective(o.objective_file);
  const bool retune = !o.retune_profile.empty();
  std::optional<act::Profile> retune_profile;
  if (retune) {
    retune_profile = act::load_profile(o.retune_profile);
    if (!(o.retune_tolerance >= 0 && o.retune_tolerance < 1)) throw UsageError("--tolerance must be 0..99 percent");
  }
  if (store && !resumed_info.objective_yaml.empty()) objective = parse_objective(resumed_info.objective_yaml, o.resume);
  if (o.duration_s) {
    if (*o.duration_s < 2 || *o.duration_s > 3600) throw UsageError("--duration must be 2..3600 seconds");
    objective.duration = std::chrono::seconds(*o.duration_s);
  }
  const std::string strategy_name = store ? resumed_info.strategy : o.strategy;
  const std::uint64_t seed = store ? resumed_info.seed : o.seed;
  const std::string budget_text = store && o.budget.empty() ? resumed_info.budget : o.budget;
  auto trials_cap = o.trials;
  if (store && !trials_cap && resumed_info.max_trials) trials_cap = resumed_info.max_trials;
  BudgetLimits limits = parse_budget(budget_text, trials_cap);
  const double per_measure_s = static_cast<double>(objective.duration.count()) * objective.scenarios.size() + 4.0;
  if (limits.wall) {
    auto reserve = std::chrono::milliseconds(static_cast<long long>(1000 * (per_measure_s * 2 * o.confirm_rounds + 10)));
    if (reserve < *limits.wall / 2) limits.reserve = reserve;
    else limits.reserve = *limits.wall / 3;
  }
  auto overrides = o.space_file.empty() ? std::map<std::string, RangeOverride>{} : load_space_overrides(o.space_file);

  // ---- The plant.
  Plant plant;
  std::vector<Target> targets;
  std::vector<std::string> primary_ifaces, mirror_ifaces;
  std::string underlay;
  if (o.testbed) {
    Testbed tb(o.testbed_prefix, runner);
    auto st = tb.status();
    if (!st.healthy) {  // a tuned tunnel MTU is still healthy (testbed_status.cpp)
      if (!o.quiet) std::cerr << "testbed " << o.testbed_prefix << " is not up: bringing it up\n";
      tb.up();
    }
    const auto& n = tb.names();
    plant.client = n.client_place();
    plant.server_address = tb.server_address();
    plant.port = tb.iperf3_port();
    plant.watch = {{n.client_place(), n.cli_underlay}, {n.client_place(), n.cli_wg},
                   {n.server_place(), n.srv_underlay}, {n.server_place(), n.srv_wg}};
    plant.rate_iface = {n.server_place(), n.srv_wg};
    plant.rate_iface_is_receiver_for_forward = true;
    plant.client_wg = n.cli_wg;
    plant.recycle_server_listener = true;  // the server end is tuned too (measure.hpp)
    primary_ifaces = {n.cli_wg, n.cli_underlay};
    mirror_ifaces = {n.srv_wg, n.srv_underlay};
    underlay = n.cli_underlay;
    targets.push_back({"client", act::make_host(n.client_place()), {}});
    targets.push_back({"server", act::make_host(n.server_place()), {}});
  } else {
    plant.client = o.netns.empty() ? Place::host() : Place::netns(o.netns);
    plant.server_address = o.peer;
    plant.port = o.port;
    plant.client_wg = route_device(plant.client, o.peer, *runner);
    plant.rate_iface = {plant.client, plant.client_wg};
    plant.rate_iface_is_receiver_for_forward = false;
    primary_ifaces = o.interfaces;
    for (const auto& i : o.interfaces) require_valid_ifname(i);
    plant.watch = {{plant.client, plant.client_wg}};
    for (const auto& i : o.interfaces) {
      if (i != plant.client_wg) {
        plant.watch.push_back({plant.client, i});
        if (underlay.empty()) underlay = i;
      }
    }
    targets.push_back({"local", act::make_host(plant.client), {}});
  }
  if (o.allow_global && !plant.client.is_host()) targets.push_back({"host", act::make_host(Place::host()), {}});

  // ---- Discovery and the space.
  {
    act::DiscoverOptions d;
    d.interfaces = primary_ifaces;
    d.allow_underlay_mtu = o.allow_underlay_mtu;
    d.wireguard = {plant.client_wg};
    targets[0].knobs = act::discover_knobs(targets[0].host, d);
    if (o.testbed) {
      act::DiscoverOptions ds = d;
      ds.interfaces = mirror_ifaces;
      ds.wireguard = {mirror_ifaces[0]};
      targets[1].knobs = act::discover_knobs(targets[1].host, ds);
    }
    if (targets.back().label == "host") {
      act::DiscoverOptions dh;
      dh.interfaces = {"lo"};  // host-wide knobs only; lo carries no device knob we search
      try {
        targets.back().knobs = act::discover_knobs(targets.back().host, dh);
      } catch (const UsageError&) {
        targets.back().knobs = act::discover_knobs(targets.back().host, {});
      }
    }
  }
  auto mirror_id = [&](const std::string& id) -> std::string {
    for (size_t i = 0; i < primary_ifaces.size() && i < mirror_ifaces.size(); ++i) {
      if (id.starts_with(primary_ifaces[i] + "/")) return mirror_ifaces[i] + id.substr(primary_ifaces[i].size());
    }
    return id;
  };
  auto writable = [](act::Knob& k) {
    auto p = k.presence();
    return p.present && p.writable;
  };
  std::vector<SearchKnob> search_knobs;
  std::map<std::string, std::vector<Binding>> bindings;
  for (size_t t = 0; t < targets.size(); ++t) {
    if (t == 1 && targets[1].label == "server") continue;  // mirrors are bound below
    for (const auto& k : targets[t].knobs) {
      const auto& d = k->descriptor();
      const bool global = d.scope == act::Scope::Global || d.scope == act::Scope::Service;
      if (global && !o.allow_global) continue;
      if (t > 0 && !global) continue;  // the host target holds only host-wide knobs
      if (bindings.count(d.id)) continue;
      if (!o.include.empty() && !id_matches(d.id, o.include)) continue;
      if (id_matches(d.id, o.exclude)) continue;
      if (d.scope == act::Scope::Irq && d.device.empty()) continue;
      if (!writable(*k)) continue;
      std::string current;
      try {
        current = k->read();
      } catch (const Error& e) {
        spdlog::debug("skipping {}: {}", d.id, e.what());
        continue;
      }
      std::vector<Binding> b{{t, d.id}};
      if (t == 0 && o.testbed) {
        auto* m = targets[1].find(mirror_id(d.id));
        if (!m || !writable(*m)) continue;  // both ends tuned alike, or not at all
        b.push_back({1, m->id()});
      }
      bindings[d.id] = b;
      search_knobs.push_back({d, current});
    }
  }
  if (search_knobs.empty()) {
    throw UsageError("no searchable knob is left after --knobs/--exclude: run `wgopt knobs` to see what is writable here");
  }
  // Retune: the profile is the desired state and the start of the space; note what drifted.
  Values retune_values;
  if (retune) {
    for (const auto& [id, value] : retune_profile->knobs) {
      auto b = bindings.find(id);
      if (b == bindings.end()) {
        throw Error(fmt::format("the profile's knob {} cannot be tuned here (missing, read-only or excluded): "
                                "check `wgopt knobs` and the interface names in {}", id, o.retune_profile));
      }
      auto* k = targets[b->second.front().target].find(id);
      retune_values[id] = k->validate(value);
    }
    for (auto& sk : search_knobs) {
      auto it = retune_values.find(sk.descriptor.id);
      if (it == retune_values.end()) continue;
      // Every bound place (the testbed's mirror too) must hold the profile's value.
      for (const auto& b : bindings[sk.descriptor.id]) {
        auto* k = targets[b.target].find(b.id);
        std::string now;
        try {
          now = k->read();
        } catch (const Error& e) {
          now = "?";
        }
        if (!k->equal(now, it->second)) {
          report.drifted.push_back(fmt::format("{}{}: {} -> {}", b.id, b.target > 0 ? " (" + targets[b.target].label + ")" : "", now,
                                               it->second));
        }
      }
      sk.current = it->second;
    }
  }
  SearchSpace space(search_knobs, targets[0].host.nproc, overrides);
  Values baseline_values;
  for (const auto& k : space.knobs()) baseline_values[k.descriptor.id] = k.current;
  spdlog::info("searching {} knobs: {}", space.knobs().size(), [&] {
    std::string s;
    for (const auto& k : space.knobs()) s += (s.empty() ? "" : ", ") + k.descriptor.id;
    return s;
  }());

  // ---- The study file.
  auto facts = host_facts(plant, targets, o.sku, underlay, *runner);
  if (retune && retune_profile->host.IsMap() && retune_profile->host["kernel"]) {
    const auto was = retune_profile->host["kernel"].as<std::string>();
    const auto now = facts.value("kernel", std::string());
    if (!now.empty() && was != now) {
      report.kernel_was = was;
      report.kernel_now = now;
    }
  }
  if (retune && o.sku.empty() && retune_profile->host.IsMap() && retune_profile->host["sku"]) {
    facts["sku"] = retune_profile->host["sku"].as<std::string>();  // the same SKU as the profile it keeps
  }
  if (!store) {
    std::string path = o.study_path;
    if (path.empty()) {
      act::ensure_dir(act::state_dir() + "/studies");
      path = act::state_dir() + "/studies/study-" + utc_stamp("%Y%m%d-%H%M%S") + ".sqlite";
    }
    StudyInfo info;
    info.host = facts;
    info.space = nlohmann::json::parse(space.describe_json());
    info.objective_yaml = objective_to_yaml(objective);
    info.seed = seed;
    info.strategy = strategy_name;
    info.budget = budget_text;
    info.max_trials = trials_cap;
    store.emplace(StudyStore::create(path, info));
  } else {
    store->set_status("running");
    for (int n : store->recovered_trials()) spdlog::warn("trial {} was interrupted by a crash: recorded as failed", n);
  }
  report.study_path = store->path();
  report.profile_path = retune ? o.retune_profile
                      : !o.profile_path.empty() ? o.profile_path
                                                : report.study_path.substr(0, report.study_path.rfind('.')) + ".yaml";

  // ---- Lock, crash recovery, watchdog.
  act::ChangeSession session(act::state_dir(), act::default_knob_lookup());
  for (const auto& item : session.startup().items) std::cerr << "recovered: " << item.line() << "\n";
  std::optional<Watchdog> watchdog;
  if (o.watchdog) watchdog.emplace(Watchdog::start(self_exe(o.wgopt_exe), act::state_dir()));

  std::unique_ptr<opt::Strategy> strategy;
  {
    opt::StrategyOptions so;
    so.direction = opt::Direction::maximize;
    so.seed = seed;
    so.start = space.current_config();
    so.budget = trials_cap.value_or(0);
    strategy = opt::make_strategy(strategy_name, space.space(), so);
  }
  // The budget is the user's wall clock for the whole command: discovery, the testbed check, host
  // facts and the guardian's start have already spent some of it.
  if (limits.wall) {
    const auto setup = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t_start);
    limits.wall = std::max(*limits.wall - setup, limits.reserve + std::chrono::milliseconds(1));
  }
  Budget budget(limits);
  auto progress = ProgressPrinter::for_stderr(o.quiet);
  std::mutex progress_mu;
  ProgressState ps;
  ps.budget = limits.wall;
  ps.steps = limits.max_trials;
  auto show = [&](const std::string& phase, int step) {
    std::lock_guard lk(progress_mu);
    ps.phase = phase;
    ps.step = step;
    ps.elapsed = budget.elapsed();
    ps.eta = budget.eta();
    progress.update(ps);
  };
  auto say = [&](const std::string& line) {
    std::lock_guard lk(progress_mu);
    progress.message(line);
  };
  std::atomic<bool> ticking{true};
  std::thread ticker([&] {
    while (ticking.load()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      if (!ticking.load()) break;
      std::lock_guard lk(progress_mu);
      ps.elapsed = budget.elapsed();
      ps.eta = budget.eta();
      progress.update(ps);
    }
  });
  struct TickerStop {
    std::atomic<bool>& flag;
    std::thread& t;
    ~TickerStop() {
      flag = false;
      if (t.joinable()) t.join();
    }
  } ticker_stop{ticking, ticker};

  MeasureOptions mo;
  mo.interrupted = &interrupted;
  mo.runner = runner;
  std::vector<std::unique_ptr<act::Transaction>> live;  // the applied candidate, if any

  auto finish_interrupted = [&]() {
    rollback_all(live);
    if (watchdog) watchdog->disarm();
    store->set_status("interrupted");
    report.outcome = "interrupted";
    report.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    return report;
  };

  try {
    // ---- Retune: put drifted knobs back to the profile's values, for good (like `wgopt apply`).
    if (retune && !report.drifted.empty()) {
      for (const auto& d : report.drifted) say("drifted from the profile: " + d);
      if (watchdog) watchdog->arm(kApplyLease);
      live = apply_values(session, targets, bindings, retune_values);
      std::string why;
      if (!tunnel_alive(plant, *runner, why)) {
        rollback_all(live);
        if (watchdog) watchdog->disarm();
        throw Error("putting the profile's values back cut the tunnel; the host is as it was: " + why);
      }
      for (auto& tx : live) tx->keep();
      live.clear();
      if (watchdog) watchdog->disarm();
    }

    // ---- Warm start: another study's trials prime the engine (outside the budget).
    if (!o.warm_start.empty()) {
      try {
        auto warm = StudyStore::open_read_only(o.warm_start);  // never changes the old study
        for (const auto& t : warm.trials()) {
          if (t.state == TrialState::Running) continue;
          try {
            Values v;
            for (auto it = t.params.begin(); it != t.params.end(); ++it) v[it.key()] = it.value().get<std::string>();
            auto cfg = space.from_values(v);
            strategy->tell(cfg, to_opt_state(t.state), t.score.value_or(std::nan("")));
            ++report.warm_trials;
          } catch (const std::exception& e) {
            spdlog::debug("warm start: trial {} skipped: {}", t.number, e.what());
          }
        }
        say(fmt::format("warm start: {} trials of {} primed the engine", report.warm_trials, o.warm_start));
      } catch (const UsageError& e) {
        spdlog::warn("warm start skipped: {}", e.what());
      }
    }

    // ---- Replay a resumed study into the engine.
    if (!store->trials().empty()) {
      int replayed = 0;
      for (const auto& t : store->trials()) {
        Values v;
        for (auto it = t.params.begin(); it != t.params.end(); ++it) v[it.key()] = it.value().get<std::string>();
        auto cfg = space.from_values(v);
        double value = t.score.value_or(std::nan(""));
        strategy->tell(cfg, to_opt_state(t.state), value);
        ++replayed;
      }
      budget.add_previous_trials(replayed);
      say(fmt::format("resumed {}: {} earlier trials replayed into the engine", store->path(), replayed));
    }

    // ---- Baseline: the host as found, several rounds to learn the noise.
    std::vector<Evaluation> baseline_evals;
    std::vector<double> baseline_scores;
    for (int r = 1; r <= o.baseline_rounds; ++r) {
      show("baseline", r);
      auto ev = measure_objective(plant, objective, mo);
      if (ev.state == Evaluation::State::Interrupted) return finish_interrupted();
      if (!ev.score) throw Error(fmt::format("the baseline measurement failed: {} (is the tunnel up? try `wgopt testbed status`)", ev.note));
      store->add_baseline({.round = r, .score = ev.score->value, .metrics = ev.metrics_json(true), .measured_at = unix_now()});
      baseline_scores.push_back(ev.score->value);
      baseline_evals.push_back(std::move(ev));
    }
    const auto bstats = sample_stats(baseline_scores);
    ps.baseline_score = bstats.mean;
    say(fmt::format("baseline: score {:.1f} ± {:.1f} (sd over {} rounds)", bstats.mean, bstats.stddev, bstats.n));
    Averages baseline_avg;  // the §7.1 row of the host as found
    for (const auto& ev : baseline_evals) accumulate(baseline_avg, ev);
    if (baseline_avg.n > 0) report.baseline_throughput_mbps = baseline_avg.throughput / baseline_avg.n;
    // What one full measurement takes on this plant, iperf3's start and stop included: the
    // reference for what early stopping saved and for how many confirmation rounds fit.
    double full_measure_s = 0;
    for (const auto& ev : baseline_evals) full_measure_s += ev.seconds / static_cast<double>(baseline_evals.size());

    // ---- Retune: does the profile still hold? Then there is nothing to search.
    if (retune) {
      const auto& ev = retune_profile->evidence;
      auto recorded = [&](const char* arm) -> std::optional<double> {
        if (!ev.IsMap() || !ev[arm] || !ev[arm].IsMap() || !ev[arm]["score"]) return std::nullopt;
        return ev[arm]["score"].as<double>();
      };
      auto rec = recorded("winner");
      if (!rec) rec = recorded("baseline");
      report.recorded_score = rec.value_or(bstats.mean);
      report.regressed = rec && bstats.mean < *rec - std::abs(*rec) * o.retune_tolerance;
      report.baseline_score = bstats.mean;
      const bool kernel_changed = !report.kernel_now.empty();
      say(fmt::format("profile: recorded score {:.1f}, now {:.1f} ({:+.1f}%){}{}", report.recorded_score, bstats.mean,
                      report.recorded_score != 0 ? 100.0 * (bstats.mean - report.recorded_score) / std::abs(report.recorded_score) : 0.0,
                      report.regressed ? fmt::format(": a regression beyond the {:.0f}% tolerance", 100 * o.retune_tolerance) : "",
                      kernel_changed ? fmt::format("; kernel {} -> {}", report.kernel_was, report.kernel_now) : ""));
      if (!report.regressed && !kernel_changed) {
        report.outcome = report.drifted.empty() ? "holds" : "rolled-back";
        report.confirmation = report.drifted.empty()
                                  ? "the profile holds: no knob drifted and the score is within the tolerance of its evidence"
                                  : fmt::format("{} drifted knob(s) put back to the profile; the score is within the tolerance of its evidence",
                                                report.drifted.size());
        report.winner_score = bstats.mean;
        report.profile_path = o.retune_profile;
        StudyResult result;
        result.outcome = report.outcome;
        for (const auto& [id, v] : retune_values) result.params[id] = v;
        result.evidence = {{"recorded_score", report.recorded_score}, {"score", bstats.mean}, {"drifted", report.drifted}};
        result.profile_path = o.retune_profile;
        result.finished_at = unix_now();
        store->set_result(result);
        if (watchdog) watchdog->stop();
        report.table = comparison_table({to_row("profile, now", baseline_avg)}, fmt::format("{}s", objective.duration.count())).render_text();
        report.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
        std::lock_guard lk(progress_mu);
        progress.finish();
        return report;
      }
    }

    // Early-stopping references, per scenario: the incumbent's rate and the baseline's noise.
    PruneReferences refs;
    for (const auto& spec : objective.scenarios) {
      std::vector<double> means;
      std::vector<std::vector<double>> series;
      for (const auto& ev : baseline_evals) {
        for (const auto& s : ev.scenarios) {
          if (s.scenario == spec.name && s.series_mean_mbps > 0) {
            means.push_back(s.series_mean_mbps);
            series.push_back(s.series_mbps);
          }
        }
      }
      if (means.size() >= 2) {
        auto st = sample_stats(means);
        refs[spec.name] = {st.mean, st.stddev, pooled_per_second_sd(series, mo.pruner.warmup_seconds)};
      }
    }
    double incumbent_score = bstats.mean;
    mo.prune = o.prune ? &refs : nullptr;
    // The pruner decides only after its warm-up plus min_samples seconds: a shorter measurement
    // silently turns early stopping off, so say so (bench_search at --duration 4 saved 0 s).
    if (const int decide_s = mo.pruner.warmup_seconds + mo.pruner.min_samples; o.prune && objective.duration.count() <= decide_s) {
      spdlog::warn("early stopping cannot act: it decides after {} s (warm-up {} s + {} samples) and each measurement lasts {} s; "
                   "use --duration {} or more to let it stop poor candidates",
                   decide_s, mo.pruner.warmup_seconds, mo.pruner.min_samples, objective.duration.count(), decide_s + 2);
    }

    // ---- The loop.
    int remeasured = 0;
    while (budget.may_start_trial()) {
      if (interrupted.load()) return finish_interrupted();
      double progress_frac = 0;
      if (limits.wall) progress_frac = std::max(progress_frac, budget.elapsed().count() / double((*limits.wall - limits.reserve).count()));
      if (limits.max_trials) progress_frac = std::max(progress_frac, budget.trials() / double(*limits.max_trials));
      // In the last fifth of the budget, every other trial re-measures a top candidate so the
      // recommendation rests on repeated measurements.
      std::optional<opt::Config> cfg;
      bool is_remeasure = false;
      if (progress_frac >= 0.8 && report.complete >= 3 && remeasured * 2 <= report.trials - report.complete / 2) {
        cfg = strategy->remeasure_candidate();
        is_remeasure = cfg.has_value();
      }
      if (!cfg) cfg = strategy->ask();
      if (is_remeasure) ++remeasured;
      const Values values = space.to_values(*cfg);
      nlohmann::json params = nlohmann::json::object();
      for (const auto& [k, v] : values) params[k] = v;

      TrialRecord rec;
      rec.timings.started_at = unix_now();
      rec.params = params;
      rec.number = store->begin_trial(params, rec.timings.started_at);
      budget.trial_started();
      ++report.trials;
      {
        std::lock_guard lk(progress_mu);
        ps.knobs = main_knobs(values, baseline_values);
      }
      show(is_remeasure ? "re-measure" : "trial", rec.number);

      auto t0 = std::chrono::steady_clock::now();
      auto secs_since = [](auto t) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count(); };
      std::optional<Evaluation> ev;
      try {
        if (watchdog) watchdog->arm(kApplyLease);
        live = apply_values(session, targets, bindings, values);
        rec.timings.applied_s = secs_since(t0);
        std::string why;
        if (!tunnel_alive(plant, *runner, why)) {
          rollback_all(live);
          rec.state = TrialState::Infeasible;
          rec.note = "tunnel dead after apply, reverted: " + why;
        }
      } catch (const Error& e) {  // includes UsageError from validation
        live.clear();
        rec.state = TrialState::Infeasible;
        rec.note = std::string("could not apply: ") + e.what();
      }
      if (rec.state != TrialState::Infeasible) {
        if (watchdog) watchdog->arm(std::chrono::milliseconds(static_cast<long long>(1000 * (per_measure_s * 2 + 30))));
        auto ts = std::chrono::steady_clock::now();
        if (!sleep_interruptible(o.settle, interrupted)) return finish_interrupted();
        rec.timings.settled_s = secs_since(ts);
        ev = measure_objective(plant, objective, mo);
        rec.timings.measured_s = ev->seconds;
        rollback_all(live);
        if (ev->state == Evaluation::State::Interrupted) return finish_interrupted();
        rec.metrics = ev->metrics_json();
        rec.probes = ev->probes_json();
        if (ev->state == Evaluation::State::Complete) {
          rec.state = TrialState::Complete;
          rec.score = ev->score->value;
        } else if (ev->state == Evaluation::State::Pruned) {
          rec.state = TrialState::Pruned;
          rec.note = ev->note;
          const auto& s = ev->scenarios.back();
          auto it = refs.find(s.scenario);
          rec.score = estimate_pruned(incumbent_score, s.series_mean_mbps, it == refs.end() ? 0 : it->second.mean_mbps);
          // Against a full measurement here, not the nominal duration, which hides the fixed
          // overhead both share.
          report.pruning_saved_s += std::max(ev->saved_seconds, full_measure_s - ev->seconds);
        } else {
          // The workload broke under this candidate (e.g. iperf3 could not connect): a failed trial.
          rec.state = TrialState::Failed;
          rec.note = ev->note;
        }
      }
      if (watchdog) watchdog->disarm();
      store->finish_trial(rec);
      budget.trial_finished();
      strategy->tell(*cfg, to_opt_state(rec.state), rec.score.value_or(std::nan("")));
      switch (rec.state) {
        case TrialState::Complete: ++report.complete; break;
        case TrialState::Pruned: ++report.pruned; break;
        case TrialState::Infeasible: ++report.infeasible; break;
        default: ++report.failed; break;
      }
      if (rec.state == TrialState::Complete && rec.score && *rec.score > incumbent_score) {
        incumbent_score = *rec.score;
        for (const auto& s : ev->scenarios) {
          auto it = refs.find(s.scenario);
          if (it != refs.end() && s.series_mean_mbps > 0) it->second.mean_mbps = s.series_mean_mbps;
        }
      }
      {
        std::lock_guard lk(progress_mu);
        auto rec_best = strategy->recommend();
        if (rec_best.valid) ps.best_score = rec_best.mean;
      }
      if (rec.state != TrialState::Complete) say(fmt::format("trial {} {}: {}", rec.number, to_string(rec.state), rec.note));
    }
    if (interrupted.load()) return finish_interrupted();
    say(budget.stop_reason().empty() ? "search finished" : "search finished: " + budget.stop_reason());

    // ---- Confirmation: the recommended candidate against the baseline, interleaved.
    auto rec_best = strategy->recommend();
    Values winner = baseline_values;
    std::optional<int> winner_trial;
    Averages base_avg, win_avg;
    Confirmation conf;
    bool promote = false;
    if (rec_best.valid) winner = space.to_values(rec_best.config);
    bool differs = false;
    for (const auto& [id, v] : winner) {
      auto* k = targets[0].find(id);
      auto b = baseline_values.find(id);
      if (b == baseline_values.end() || !k || !k->equal(b->second, v)) differs = true;
    }
    if (!rec_best.valid || !differs) {
      base_avg = baseline_avg;
      report.outcome = rec_best.valid ? "kept-baseline" : "no-trials";
      report.confirmation = rec_best.valid ? "the best configuration found is the host's own" : "no trial completed";
      report.baseline_score = bstats.mean;
      report.winner_score = bstats.mean;
    } else {
      for (const auto& t : store->trials()) {
        bool same = true;
        for (const auto& [id, v] : winner) {
          if (!t.params.contains(id) || t.params[id].get<std::string>() != v) same = false;
        }
        if (same) winner_trial = t.number;
      }
      std::vector<double> bs, cs;
      int round = 0;
      MeasureOptions cmo = mo;
      cmo.prune = nullptr;  // confirmation measures fully
      // As many rounds as the time left allows (each round is one baseline and one candidate
      // measurement, timed by the baseline rounds), at least the 2 a decision needs, at most
      // --confirm-rounds: a short --budget is not overrun by a fixed confirmation.
      int confirm_rounds = o.confirm_rounds;
      if (limits.wall && full_measure_s > 0) {
        const double left_s = std::chrono::duration<double>(*limits.wall - budget.elapsed()).count();
        const int fit = static_cast<int>(left_s / (2 * (full_measure_s + 1.5)));  // + apply, settle, liveness
        confirm_rounds = std::clamp(fit, 2, o.confirm_rounds);
        if (confirm_rounds < o.confirm_rounds) {
          say(fmt::format("confirmation: {} rounds fit in the {:.0f} s left (of --confirm-rounds {})", confirm_rounds,
                          std::max(0.0, left_s), o.confirm_rounds));
        }
      }
      for (Arm arm : plan_confirmation(confirm_rounds)) {
        ++round;
        if (interrupted.load()) return finish_interrupted();
        show("confirm", round);
        if (arm == Arm::Candidate) {
          try {
            if (watchdog) watchdog->arm(std::chrono::milliseconds(static_cast<long long>(1000 * (per_measure_s * 2 + 30))));
            live = apply_values(session, targets, bindings, winner);
          } catch (const Error& e) {
            say(std::string("confirmation: the winner no longer applies: ") + e.what());
            live.clear();
            continue;
          }
          std::string why;
          if (!tunnel_alive(plant, *runner, why)) {
            rollback_all(live);
            say("confirmation: the tunnel died under the winner: " + why);
            continue;
          }
          sleep_interruptible(o.settle, interrupted);
        }
        auto ev = measure_objective(plant, objective, cmo);
        rollback_all(live);
        if (watchdog) watchdog->disarm();
        if (ev.state == Evaluation::State::Interrupted) return finish_interrupted();
        if (!ev.score) {
          say("confirmation round failed: " + ev.note);
          continue;
        }
        store->add_confirmation({.round = round, .arm = arm == Arm::Baseline ? "baseline" : "candidate",
                                 .trial = winner_trial.value_or(0), .score = ev.score->value,
                                 .metrics = ev.metrics_json(true), .measured_at = unix_now()});
        (arm == Arm::Baseline ? bs : cs).push_back(ev.score->value);
        accumulate(arm == Arm::Baseline ? base_avg : win_avg, ev);
      }
      if (bs.size() >= 2 && cs.size() >= 2) {
        conf = decide_confirmation(bs, cs);
        promote = conf.promote;
        report.confirmation = conf.reason;
        report.baseline_score = conf.baseline_mean;
        report.winner_score = conf.candidate_mean;
      } else {
        report.confirmation = "too few confirmation rounds completed: the baseline stays";
        report.baseline_score = bstats.mean;
      }
      report.outcome = promote ? "promoted" : "kept-baseline";
      if (!promote) winner = baseline_values;
    }
    if (retune) {
      report.outcome = promote ? "retuned" : !report.drifted.empty() ? "rolled-back" : report.regressed ? "degraded" : "holds";
    }
    report.gain_pct = report.baseline_score != 0 ? 100.0 * (report.winner_score - report.baseline_score) / std::abs(report.baseline_score) : 0;
    for (const auto& [id, v] : winner) {
      if (baseline_values[id] != v) report.changed.push_back(fmt::format("{}: {} -> {}", id, baseline_values[id], v));
    }

    // ---- Persist the profile with its evidence, and the result.
    act::Profile profile;
    for (const auto& [id, v] : winner) profile.knobs.emplace_back(id, v);
    profile.host = YAML::Load(facts.dump());
    nlohmann::json evidence = {
        {"study", report.study_path},
        {"outcome", report.outcome},
        {"objective", objective_to_yaml(objective)},
        {"trials", report.trials},
        {"confirmation", report.confirmation},
        {"created", utc_stamp("%Y-%m-%dT%H:%M:%SZ")}};
    // Where it was measured, so `wgopt retune` can measure the same path again.
    if (o.testbed) {
      evidence["plant"] = {{"testbed", o.testbed_prefix}};
    } else {
      evidence["plant"] = {{"peer", o.peer}, {"port", o.port}};
      if (!o.netns.empty()) evidence["plant"]["netns"] = o.netns;
    }
    if (promote) {
      evidence["baseline"] = {{"score", conf.baseline_mean}, {"ci95", {conf.baseline_ci.low, conf.baseline_ci.high}}};
      evidence["winner"] = {{"score", conf.candidate_mean}, {"ci95", {conf.candidate_ci.low, conf.candidate_ci.high}},
                            {"trial", winner_trial.value_or(0)}};
      evidence["gain"] = {{"score", conf.gain}, {"ci95", {conf.gain_ci.low, conf.gain_ci.high}},
                          {"relative", conf.relative_gain}, {"p_value", conf.p_value}, {"method", conf.method}};
    } else {
      auto ci = mean_interval(bstats, 0.95);
      evidence["baseline"] = {{"score", bstats.mean}, {"ci95", {ci.low, ci.high}}, {"n", bstats.n}};
    }
    for (const auto& [id, v] : baseline_values) evidence["baseline"]["params"][id] = v;  // what the winner moved away from
    if (base_avg.n > 0) evidence["baseline"]["throughput_mbps"] = base_avg.throughput / base_avg.n;
    if (win_avg.n > 0) evidence["winner"]["throughput_mbps"] = win_avg.throughput / win_avg.n;
    profile.evidence = YAML::Load(evidence.dump());
    if (win_avg.n > 0) report.winner_throughput_mbps = win_avg.throughput / win_avg.n;
    // Retune writes the profile only when a confirmed winner replaces it; the old one stays as .prev.
    if (retune && promote) {
      std::error_code ec;
      std::filesystem::copy_file(o.retune_profile, o.retune_profile + ".prev", std::filesystem::copy_options::overwrite_existing, ec);
      if (ec) throw Error(fmt::format("cannot keep the old profile as {}.prev: {}", o.retune_profile, ec.message()));
    }
    if (!retune || promote) {
      std::ofstream out(report.profile_path);
      out << "# wgopt profile from study " << report.study_path << " (" << report.outcome << ")\n" << act::dump_profile(profile);
      if (!out) throw Error(fmt::format("cannot write the profile to {}: check the directory", report.profile_path));
    }

    // ---- End state: the confirmed winner stays (kept in the journal for `wgopt rollback`).
    if (promote && !o.no_apply) {
      live = apply_values(session, targets, bindings, winner);
      std::string why;
      if (!tunnel_alive(plant, *runner, why)) {
        rollback_all(live);
        throw Error("the confirmed winner cut the tunnel when applied for good; the original values are restored: " + why);
      }
      for (auto& tx : live) tx->keep();
      live.clear();
      report.applied = true;
    }

    std::vector<ComparisonRow> rows{to_row("baseline", base_avg)};
    if (win_avg.n > 0) rows.push_back(to_row(winner_trial ? fmt::format("winner (trial {})", *winner_trial) : "winner", win_avg));
    report.table = comparison_table(rows, fmt::format("{}s", objective.duration.count())).render_text();
    StudyResult result;
    result.outcome = report.outcome;
    result.winner_trial = winner_trial;
    for (const auto& [id, v] : winner) result.params[id] = v;
    result.evidence = evidence;
    result.profile_path = report.profile_path;
    result.finished_at = unix_now();
    store->set_result(result);
    if (watchdog) watchdog->stop();
  } catch (...) {
    rollback_all(live);
    try {
      store->set_status("failed");
    } catch (...) {
    }
    throw;
  }
  report.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  {
    std::lock_guard lk(progress_mu);
    progress.finish();
  }
  return report;
}

}  // namespace wgopt::experiments

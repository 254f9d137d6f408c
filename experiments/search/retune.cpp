#include "experiments/search/retune.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/study/evidence.hpp"
#include "workload/scenario.hpp"

namespace wgopt::experiments {

namespace {

// A label value as the exposition format wants it: \, " and newline escaped.
std::string label_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// The value of `series` (name{labels}) in an earlier textfile, 0 when absent or unreadable.
double previous_value(const std::string& previous, const std::string& series) {
  for (const auto& line : split_lines(previous)) {
    if (!line.starts_with(series + " ")) continue;
    try {
      return std::stod(line.substr(series.size() + 1));
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

// This host's own server (RetuneOptions::peer) instead of the profile's plant.
void override_peer(SearchOptions& o, const RetuneOptions& r) {
  if (!workload::is_valid_server_address(r.peer)) {
    throw UsageError(fmt::format("--peer '{}' is not an IPv4/IPv6 address or host name: use the mesh address of this host's "
                                 "iperf3 server, e.g. 100.64.0.1",
                                 one_line(r.peer, 80)));
  }
  if (r.port && (*r.port < 1 || *r.port > 65535)) throw UsageError(fmt::format("--port {} is not a port: use 1..65535", *r.port));
  if (o.testbed) {
    o.netns = o.testbed_prefix + "-cli";  // the testbed's client end is where this profile's knobs live
    o.testbed = false;
    o.port = 5201;
  }
  o.peer = r.peer;
  if (r.port) o.port = *r.port;
}

// The interfaces of the profile's knob ids (the part before '/'), in first-seen order, added to `out`.
void add_devices(const std::vector<std::pair<std::string, std::string>>& knobs, std::vector<std::string>& out) {
  for (const auto& [id, v] : knobs) {
    auto slash = id.find('/');
    if (slash == std::string::npos) continue;
    auto dev = id.substr(0, slash);
    if (std::find(out.begin(), out.end(), dev) == out.end()) out.push_back(dev);
  }
}

// Retune --ssh: the peer's part joins the space the way the search that wrote it had it.
void hold_both_ends(SearchOptions& o, const RetuneOptions& r, const act::Profile& profile) {
  if (!profile.peer) {
    throw UsageError(fmt::format("{} holds this host's knobs only (no peer: section; it was not made by `wgopt search --ssh`): "
                                 "drop --ssh, or search both ends first with `wgopt search --peer ADDR --ssh {}`",
                                 r.profile, r.ssh->target));
  }
  if (o.testbed) throw UsageError(fmt::format("{} was made on the testbed, which tunes both ends already: drop --ssh", r.profile));
  o.ssh = r.ssh;
  const YAML::Node& host = profile.peer->host;  // const: a missing key must not be created
  const YAML::Node mode = host.IsMap() ? host["mode"] : YAML::Node();
  o.per_end = mode && mode.IsScalar() && mode.Scalar() == "per-end";
  // The peer's names of this end's interfaces, as the search recorded them (default: the same).
  std::map<std::string, std::string> names;
  const YAML::Node ifaces = host.IsMap() ? host["interfaces"] : YAML::Node();
  if (ifaces && ifaces.IsMap()) {
    for (const auto& kv : ifaces) {
      if (!kv.first.IsScalar() || !kv.second.IsScalar()) continue;
      names[kv.first.Scalar()] = kv.second.Scalar();
      if (std::find(o.interfaces.begin(), o.interfaces.end(), kv.first.Scalar()) == o.interfaces.end()) {
        o.interfaces.push_back(kv.first.Scalar());
      }
    }
  }
  // A device of the peer's knobs that is nobody's counterpart yet: the same name here.
  std::vector<std::string> peer_devs;
  add_devices(profile.peer->knobs, peer_devs);
  for (const auto& d : peer_devs) {
    bool mapped = false;
    for (const auto& [l, p] : names) mapped = mapped || p == d;
    if (!mapped && std::find(o.interfaces.begin(), o.interfaces.end(), d) == o.interfaces.end()) o.interfaces.push_back(d);
  }
  o.peer_interfaces.clear();
  for (const auto& i : o.interfaces) o.peer_interfaces.push_back(names.count(i) ? names.at(i) : i);
  // Per-end parameters are named peer:ID; listed in mirrored mode too, for when the two hosts'
  // facts differ now and the ends are searched on their own (remote_end.hpp).
  for (const auto& [id, v] : profile.peer->knobs) o.include.push_back("peer:" + id);
  o.retune_force = r.force;
}

}  // namespace

SearchOptions retune_search_options(const RetuneOptions& r, const act::Profile& profile) {
  const std::string fix = "retune needs a profile written by `wgopt search` (or `wgopt retune`)";
  if (!profile.evidence.IsMap()) throw UsageError(fmt::format("{} has no evidence: {}", r.profile, fix));
  const Evidence ev = Evidence::from_yaml(profile.evidence, r.profile);  // a NaN score or a bad port is an error here
  if (profile.knobs.empty()) throw UsageError(fmt::format("{} names no knobs: nothing to hold", r.profile));
  SearchOptions o;
  if (!ev.plant) throw UsageError(fmt::format("{}: evidence.plant is missing (where to measure): {}", r.profile, fix));
  if (!ev.plant->testbed.empty()) {
    o.testbed = true;
    o.testbed_prefix = ev.plant->testbed;
  } else if (!ev.plant->peer.empty()) {
    o.peer = ev.plant->peer;
    if (ev.plant->port) o.port = *ev.plant->port;
    o.netns = ev.plant->netns;
  } else if (r.peer.empty()) {
    // A peer's part exported as a profile of its own (export --host peer) names none: the plant's
    // peer was this host itself.
    throw UsageError(fmt::format("{}: evidence.plant names neither a testbed nor a peer (a profile exported with --host peer names "
                                 "none): pass --peer ADDRESS, this host's iperf3 peer (WGOPT_RETUNE_PEER; the Ansible role's "
                                 "wgopt_retune_peer)",
                                 r.profile));
  } else if (ev.plant->port) {
    o.port = *ev.plant->port;
  }
  if (!r.peer.empty()) override_peer(o, r);
  o.objective_text = ev.objective;
  if (o.objective_text.empty()) throw UsageError(fmt::format("{}: evidence.objective is missing: {}", r.profile, fix));

  // The space is exactly the profile's knobs; they may include host-wide ones and the underlay MTU
  // (the search that wrote the profile was allowed them, or they would not be in it).
  for (const auto& [id, v] : profile.knobs) o.include.push_back(id);
  o.allow_global = true;
  o.allow_underlay_mtu = true;
  if (!o.testbed) add_devices(profile.knobs, o.interfaces);  // peer mode: the interfaces whose knobs the profile holds
  if (r.ssh) hold_both_ends(o, r, profile);
  o.retune_profile = r.profile;
  o.retune_tolerance = r.tolerance;
  o.warm_start = ev.study;
  o.budget = r.budget;
  o.trials = r.trials;
  o.seed = r.seed;
  o.baseline_rounds = r.baseline_rounds;
  o.confirm_rounds = r.confirm_rounds;
  o.second_look = r.second_look;
  o.duration_s = r.duration_s;
  o.study_path = r.study_path;
  o.wgopt_exe = r.wgopt_exe;
  o.watchdog = r.watchdog;
  o.quiet = r.quiet;
  return o;
}

int retune_exit_code(SearchOutcome outcome) {
  switch (outcome) {
    case SearchOutcome::Holds: return kRetuneHolds;
    case SearchOutcome::Retuned: return kRetuneRetuned;
    case SearchOutcome::RolledBack: return kRetuneRolledBack;
    case SearchOutcome::Degraded: return kRetuneDegraded;
    case SearchOutcome::Interrupted: return 130;
    default: return 1;
  }
}

// The knobs a trial's rollback left as it found them: not on the values the line says (found in
// review: the early lines left them out).
static std::string left_alone_clause(const SearchReport& r) {
  if (r.left_alone.empty()) return "";
  return fmt::format("; {} knob(s) a trial's rollback left as it found them: {}", r.left_alone.size(), fmt::join(r.left_alone, "; "));
}

std::string retune_summary(const SearchReport& r) {
  if (r.outcome == SearchOutcome::Interrupted && r.baseline_score == 0 && r.baseline_throughput_mbps == 0) {
    // Stopped before the host was measured: no score to show (it printed "score 0.0 (recorded 0.0,
    // profile now +0.0%)"), and the drift put back stays, as the profile asks, undone by a rollback.
    std::string s = "wgopt retune: interrupted before the host's baseline rounds ended";
    if (!r.drifted.empty()) {
      s += fmt::format(", {} drifted knob(s) put back to the profile's values (kept; `wgopt rollback` undoes them)", r.drifted.size());
    }
    return s + fmt::format(", {} trials, {:.0f}s", r.trials, r.elapsed_s) + left_alone_clause(r);
  }
  if (r.outcome == SearchOutcome::PeerLost) {
    // No measurement to compare (it printed "score 0.0 (recorded 0.0, profile now +0.0%)").
    return fmt::format("wgopt retune: peer-lost: {}; this end is back on the profile's values, the peer restores its own by "
                       "itself, {} trials, {:.0f}s",
                       r.confirmation, r.trials, r.elapsed_s) +
           left_alone_clause(r);
  }
  const double now = r.outcome == SearchOutcome::Retuned ? r.winner_score : r.baseline_score;
  const double pct = r.recorded_score != 0 ? 100.0 * (r.baseline_score - r.recorded_score) / std::abs(r.recorded_score) : 0;
  std::string s = fmt::format("wgopt retune: {}: score {:.1f} (recorded {:.1f}, profile now {:+.1f}%)", to_string(r.outcome), now,
                              r.recorded_score, pct);
  if (!r.drifted.empty()) s += fmt::format(", {} drifted knob(s) put back", r.drifted.size());
  if (!r.kernel_now.empty()) s += fmt::format(", kernel {} -> {}", r.kernel_was, r.kernel_now);
  if (r.outcome == SearchOutcome::Retuned) s += fmt::format(", new winner {:+.1f}% over the profile", r.gain_pct);
  s += fmt::format(", {} trials, {:.0f}s", r.trials, r.elapsed_s);
  if (!r.withdrawn.empty()) s += "; the confirmed winner did not stay: " + r.withdrawn;
  return s + left_alone_clause(r);
}

nlohmann::json retune_json(const SearchReport& r) {
  nlohmann::json j = r.to_json();
  j["drifted"] = r.drifted;
  j["recorded_score"] = r.recorded_score;
  j["regressed"] = r.regressed;
  if (!r.kernel_now.empty()) j["kernel"] = {{"was", r.kernel_was}, {"now", r.kernel_now}};
  j["warm_trials"] = r.warm_trials;
  j["exit_code"] = retune_exit_code(r.outcome);
  return j;
}

std::string retune_metrics(const SearchReport* report, const std::string& profile, double now, const std::string& previous) {
  const std::string lbl = fmt::format("profile=\"{}\"", label_escape(profile));
  std::string out;
  auto metric = [&](const std::string& name, const char* type, const std::string& help, double value,
                    const std::string& extra_label = "") {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    out += fmt::format("{}{{{}{}}} {}\n", name, lbl, extra_label, value);
  };
  auto counter = [&](const std::string& name, const std::string& help, double add) {
    const double before = previous_value(previous, fmt::format("{}{{{}}}", name, lbl));
    metric(name, "counter", help, before + add);
  };
  metric("wgopt_retune_last_run_timestamp_seconds", "gauge", "Unix time the last wgopt retune finished.", std::floor(now));
  // A run with a report can still fail (exit 1: the peer lost): a failure as an error is, with no
  // gauge of a measurement it may not have made (found by an exploratory test: a retune --ssh that
  // lost its peer exited 1 and every metric read clean).
  const bool failed = !report || retune_exit_code(report->outcome) == 1;
  // Only a run that ended its measurements has gauges: an interrupted one wrote 0s, read by a
  // dashboard as a host at no throughput (found by an exploratory test).
  const bool measured = report && !failed && report->outcome != SearchOutcome::Interrupted;
  if (measured) {
    const SearchReport& r = *report;
    const bool on_winner = r.outcome == SearchOutcome::Retuned;
    const double throughput = on_winner && r.winner_throughput_mbps > 0 ? r.winner_throughput_mbps : r.baseline_throughput_mbps;
    metric("wgopt_throughput_mbps", "gauge", "Throughput (Mbit/s) of the configuration the host is left on, as measured by wgopt retune.",
           throughput);
    metric("wgopt_score", "gauge", "Objective score of the configuration the host is left on.", on_winner ? r.winner_score : r.baseline_score);
    metric("wgopt_recorded_score", "gauge", "Score the profile's evidence recorded when it was made.", r.recorded_score);
    metric("wgopt_retune_trials", "gauge", "Search trials the last wgopt retune ran.", r.trials);
    metric("wgopt_retune_drifted_knobs", "gauge", "Profile knobs the last wgopt retune found changed on the host.",
           static_cast<double>(r.drifted.size()));
  }
  out += "# HELP wgopt_retune_outcome Outcome of the last wgopt retune (1 for the outcome that happened; error: it failed).\n"
         "# TYPE wgopt_retune_outcome gauge\n";
  for (SearchOutcome o : {SearchOutcome::Holds, SearchOutcome::Retuned, SearchOutcome::RolledBack, SearchOutcome::Degraded,
                          SearchOutcome::Interrupted, SearchOutcome::PeerLost}) {
    out += fmt::format("wgopt_retune_outcome{{{},outcome=\"{}\"}} {}\n", lbl, to_string(o), report && report->outcome == o ? 1 : 0);
  }
  out += fmt::format("wgopt_retune_outcome{{{},outcome=\"error\"}} {}\n", lbl, report ? 0 : 1);
  counter("wgopt_retune_runs_total", "wgopt retune runs that finished.", 1);
  counter("wgopt_retune_failures_total", "wgopt retune runs that failed (exit 1).", failed ? 1 : 0);
  counter("wgopt_retune_regressions_rolled_back_total", "Runs that found the host drifted from the profile and put it back.",
          report && !report->drifted.empty() ? 1 : 0);
  counter("wgopt_retune_trials_total", "Search trials run by wgopt retune, over all runs.", report ? report->trials : 0);
  return out;
}

}  // namespace wgopt::experiments

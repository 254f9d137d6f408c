// The closed loop against an exhaustive sweep, on the real testbed (issue 5, "Done means").
//
// 1. Brings up testbed "wgb" (only that prefix) with WGOPT_STATE_DIR in a fresh temporary directory,
//    and puts BOTH ends on a deliberately poor configuration with `wgopt set --netns ...`.
// 2. Measures that poor baseline, then runs `wgopt search --testbed --prefix wgb --knobs ... --json
//    --no-apply` and records its baseline score, winner score, outcome and the time early stopping saved.
// 3. Sweeps every point of the same space, discretised to a few levels per knob (`wgopt set` on both
//    ends, then `wgopt baseline --scenarios tcp --json FILE`), and measures the configuration the
//    search ended on with the same instrument, so found / best-of-sweep is a ratio from one run.
// 4. Prints the table (--markdown for the README), then `wgopt rollback` and `wgopt testbed down`.
//
// The numbers are throughput of a loaded, shared 2-core VM: read ratios, not absolutes.
//
//   bench_search [--wgopt PATH] [--trials N] [--duration S] [--repeat R] [--markdown] [--keep-testbed]
//                [--default-objective] [--budgets 10m,3m] [--rounds R] [--check-pruning] [--no-sweep]
//                [--keep-studies DIR] [--all-knobs] [--screens 5,0]
//
// --budgets: one search per wall budget (`wgopt search --budget B`, no trial cap), each from the
// same poor start, all against the one sweep. --rounds R: the sweep's best point and each search's
// configuration are then measured again R times, interleaved, and found / best is the ratio of
// those means (the sweep's best single sample is the best of many noisy draws: biased upwards).
// --check-pruning: every configuration a search's trials completed or stopped early is measured
// fully once with the sweep's instrument; of those that land in the top decile, how many had
// been stopped early (issue 13's bound: <= 5%). --no-sweep: only the searches' gains, each found
// configuration re-measured interleaved with the poor start (--budgets 3m,3m repeats one budget).
// --keep-studies DIR: each search's study file (every trial's per-second series, the pruner's
// notes) is copied to DIR (which must exist) before the state directory is removed.
// --screens L1,L2,...: each search's `--screen` (one per budget; `default`: the search's own), so
// screening and full-length trials are compared in one run.
// --all-knobs (with --no-sweep): the searches get no --knobs, so they search the testbed's whole
// default space (offloads, qdiscs, RPS, queues, ... on both devices) as a user's `wgopt search`
// does, from the same poor start of the four knobs above; every knob the search read at its start
// (its first trial is the host's own configuration) is put back before each later measurement.
#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/exec.hpp"
#include "common/util.hpp"
#include "experiments/measure/measure.hpp"
#include "experiments/study/budget.hpp"
#include "experiments/study/study_store.hpp"

namespace fs = std::filesystem;
using wgopt::Command;
using wgopt::Error;

namespace {

constexpr const char* kPrefix = "wgb";

// One searched knob: its id on the client end (the search names knobs by the client's interfaces
// and mirrors them onto the server), the poor value we start from, and the sweep's levels. Levels
// use the search's own mapping of a triple (min and default clipped to the max, the max searched).
struct SpaceKnob {
  std::string id;
  std::string poor;
  std::vector<std::string> levels;
};

// Chosen by measuring single changes on this testbed (bench/README-search.md): tiny TCP receive
// buffers, reno instead of bbr and a 16-packet transmit queue on the tunnel each cost a clear share
// of throughput. The tunnel MTU is searched too (the guide's first suspect; 1280 vs 1420 made no
// difference we could see) but starts at the testbed's 1420: `wgopt baseline --testbed` (and
// `wgopt search --testbed` before 9d2ca0a) rebuilds a testbed whose tunnel MTU is not 1420 (it calls
// it unhealthy), which wipes the poor configuration.
std::vector<SpaceKnob> space() {
  return {
      {"net.ipv4.tcp_rmem", "4096 8192 16384", {"4096 8192 65536", "4096 8192 4194304", "4096 8192 33554432"}},
      {"net.ipv4.tcp_congestion_control", "reno", {"reno", "bbr"}},
      {"wgb-wc/txqueuelen", "16", {"16", "128", "1000"}},
      {"wgb-wc/mtu", "1420", {"1280", "1420"}},
  };
}

struct Options {
  std::string wgopt;
  int trials = 16;
  int duration = 4;
  int repeat = 1;
  bool markdown = false;
  bool keep_testbed = false;
  bool default_objective = false;  // score with wgopt's default objective (drop penalties on)
  std::vector<std::string> budgets;  // one search per wall budget ("10m,3m"), each from the poor start; empty: --trials
  int confirm_rounds = 3;            // interleaved re-measurements of the sweep's best and each found configuration
  bool check_pruning = false;        // measure every trial's configuration fully: were top-decile ones stopped?
  bool sweep = true;                 // off: no sweep; each found configuration is re-measured against the poor start
  std::string keep_studies;          // copy each search's study file here before the state is removed
  bool all_knobs = false;            // search the testbed's whole default space (needs --no-sweep)
  std::vector<std::string> screens;  // per budget: the search's --screen ("" or "default": its default)
};

std::string default_wgopt(const char* argv0) {
  fs::path self = fs::weakly_canonical(fs::path(argv0));
  for (auto p : {self.parent_path() / "wgopt", self.parent_path().parent_path() / "wgopt"}) {
    if (fs::exists(p)) return p.string();
  }
  return "wgopt";
}

Options parse_args(int argc, char** argv) {
  Options o;
  o.wgopt = default_wgopt(argv[0]);
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) throw wgopt::UsageError(fmt::format("{} needs a value", argv[i]));
    return argv[++i];
  };
  auto num = [&](int& i, int lo, int hi) {
    std::string flag = argv[i], v = need(i);
    int n = 0;
    try {
      n = std::stoi(v);
    } catch (...) {
      n = lo - 1;
    }
    if (n < lo || n > hi) throw wgopt::UsageError(fmt::format("{} must be {}..{}, not '{}'", flag, lo, hi, v));
    return n;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--wgopt") o.wgopt = need(i);
    else if (a == "--trials") o.trials = num(i, 1, 200);
    else if (a == "--duration") o.duration = num(i, 2, 60);
    else if (a == "--repeat") o.repeat = num(i, 1, 10);
    else if (a == "--markdown") o.markdown = true;
    else if (a == "--keep-testbed") o.keep_testbed = true;
    else if (a == "--default-objective") o.default_objective = true;
    else if (a == "--budgets") o.budgets = wgopt::split(need(i), ',');
    else if (a == "--rounds") o.confirm_rounds = num(i, 1, 10);
    else if (a == "--check-pruning") o.check_pruning = true;
    else if (a == "--no-sweep") o.sweep = false;
    else if (a == "--keep-studies") o.keep_studies = need(i);
    else if (a == "--all-knobs") o.all_knobs = true;
    else if (a == "--screens") o.screens = wgopt::split(need(i), ',');
    else throw wgopt::UsageError(fmt::format("unknown argument '{}': see the header of bench/bench_search.cpp", a));
  }
  if (!o.screens.empty() && o.screens.size() != o.budgets.size()) {
    throw wgopt::UsageError(fmt::format("--screens names {} lengths for {} --budgets: give one per budget ('default' for the "
                                        "search's own)", o.screens.size(), o.budgets.size()));
  }
  for (const auto& v : o.screens) {
    if (v != "default" && (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)) {
      throw wgopt::UsageError(fmt::format("--screens: '{}' is not a number of seconds: use e.g. 5,0 or default,0", v));
    }
  }
  if (o.all_knobs && o.sweep) {
    throw wgopt::UsageError("--all-knobs searches a space too large to sweep: add --no-sweep (each search is then compared "
                            "with the poor start)");
  }
  if (!o.keep_studies.empty() && !fs::is_directory(o.keep_studies)) {
    throw wgopt::UsageError(fmt::format("--keep-studies {}: no such directory: create it first", o.keep_studies));
  }
  for (const auto& b : o.budgets) {  // before the testbed comes up: a bad budget changes nothing
    if (b.empty()) throw wgopt::UsageError("--budgets has an empty entry: give durations separated by commas, e.g. 10m,3m");
    wgopt::experiments::parse_budget(b, std::nullopt);  // throws naming the duration and the allowed range
  }
  if (wgopt::find_executable(o.wgopt).empty()) {
    throw wgopt::UsageError(fmt::format("wgopt binary '{}' not found: pass --wgopt PATH", o.wgopt));
  }
  return o;
}

// The server end's id of a client-side knob id (interfaces wgb-wc/wgb-uc -> wgb-ws/wgb-us).
std::string server_id(const std::string& id) {
  std::string cli_wg = fmt::format("{}-wc/", kPrefix), cli_u = fmt::format("{}-uc/", kPrefix);
  if (id.starts_with(cli_wg)) return fmt::format("{}-ws/", kPrefix) + id.substr(cli_wg.size());
  if (id.starts_with(cli_u)) return fmt::format("{}-us/", kPrefix) + id.substr(cli_u.size());
  return id;
}

class Bench {
 public:
  Bench(Options o, fs::path dir) : o_(std::move(o)), dir_(std::move(dir)), runner_(wgopt::default_runner()) {}

  // Runs wgopt with `args`; throws with its stderr unless it exits 0.
  std::string wgopt(std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(300)) {
    Command c;
    c.argv = {o_.wgopt};
    c.argv.insert(c.argv.end(), args.begin(), args.end());
    c.timeout = timeout;
    return wgopt::run_checked(*runner_, c, "wgopt").out;
  }

  // Sets `values` (client ids) on both ends, each end in one transaction.
  void set_both(const std::map<std::string, std::string>& values) {
    std::vector<std::string> cli = {"set", "--netns", fmt::format("{}-cli", kPrefix)};
    std::vector<std::string> srv = {"set", "--netns", fmt::format("{}-srv", kPrefix)};
    for (const auto& [id, v] : values) {
      cli.push_back(id + "=" + v);
      srv.push_back(server_id(id) + "=" + v);
    }
    wgopt(cli);
    wgopt(srv);
  }

  // Mean received Mbit/s of the tcp scenario over o_.repeat runs of `wgopt baseline`. A failed
  // run (iperf3 error, tunnel down) counts as 0: a configuration that cannot carry traffic is worst.
  double measure() {
    double sum = 0;
    for (int r = 0; r < o_.repeat; ++r) {
      auto file = dir_ / fmt::format("m{}.json", ++measurements_);
      // As the search does (experiments/measure.hpp): make iperf3 listen afresh under the server's
      // current tcp_rmem, or the first test after set_both runs with the previous point's buffers.
      wgopt::experiments::Plant plant;
      plant.client = wgopt::Place::netns(fmt::format("{}-cli", kPrefix));
      plant.server_address = "100.64.0.1";
      wgopt::experiments::recycle_server_listener(plant);
      // --peer, not --testbed: a sweep point with tunnel MTU 1280 must not make it rebuild the testbed.
      wgopt({"baseline", "--peer", "100.64.0.1", "--netns", fmt::format("{}-cli", kPrefix), "--scenarios", "tcp", "--duration", std::to_string(o_.duration),
             "--json", file.string()});
      std::ifstream in(file);
      auto j = nlohmann::json::parse(in);
      const auto& ip = j.at("scenarios").at(0).at("iperf3");
      if (ip.value("status", "") == "ok") sum += ip.at("summary").at("received_bps").get<double>() / 1e6;
    }
    return sum / o_.repeat;
  }

  int measurements() const { return measurements_; }

 private:
  Options o_;
  fs::path dir_;
  std::shared_ptr<wgopt::CommandRunner> runner_;
  int measurements_ = 0;
};

// "id: old -> new[, contributes ...]" lines of the search's report -> {id: new}.
std::map<std::string, std::string> parse_changed(const nlohmann::json& changed) {
  std::map<std::string, std::string> out;
  for (const auto& line : changed) {
    auto s = line.get<std::string>();
    s = s.substr(0, s.find(", contribut"));  // the simplified winner's estimate follows the value
    auto colon = s.find(": "), arrow = s.rfind(" -> ");
    if (colon == std::string::npos || arrow == std::string::npos) throw Error("cannot read the search's changed line: " + s);
    out[s.substr(0, colon)] = s.substr(arrow + 4);
  }
  return out;
}

std::string describe(const std::map<std::string, std::string>& cfg) {
  std::string s;
  for (const auto& [id, v] : cfg) {
    auto parts = wgopt::split_ws(v);
    s += fmt::format("{}{}={}", s.empty() ? "" : " ", id.substr(id.rfind('.') == std::string::npos ? 0 : id.rfind('.') + 1),
                     parts.size() == 3 ? parts[2] : v);
  }
  return s;
}

// One `wgopt search` from the poor start: its report, the configuration it ended on, its wall time.
struct SearchRun {
  std::string label;  // "16 trials" or "budget 10m"
  nlohmann::json report;
  std::map<std::string, std::string> found;
  double wall_s = 0;
  double found_tp = 0;  // the interleaved re-measurements' mean (Mbit/s)
  std::string pruning_check = "(not run: --check-pruning)";
  fs::path study;
  std::map<std::string, std::string> start;  // --all-knobs: every knob of the space as the search found it
};

// The parameters of the study's first trial: the host's own configuration (the engine's start).
std::map<std::string, std::string> first_trial(const fs::path& study) {
  for (const auto& t : wgopt::experiments::StudyStore::open_read_only(study.string()).trials()) {
    std::map<std::string, std::string> out;
    for (const auto& [id, v] : t.params.items()) out[id] = v.is_string() ? v.get<std::string>() : v.dump();
    return out;
  }
  throw Error(fmt::format("{} holds no trial: the search's start is unknown", study.string()));
}

SearchRun run_search(Bench& b, const Options& o, const fs::path& dir, const std::string& knob_list,
                     const std::map<std::string, std::string>& poor, const std::string& budget, const std::string& screen = "") {
  SearchRun r;
  r.label = budget.empty() ? fmt::format("{} trials", o.trials) : "budget " + budget;
  if (!screen.empty() && screen != "default") r.label += ", --screen " + screen;
  b.set_both(poor);
  std::cerr << "wgopt search (" << r.label << ", " << o.duration << " s measurements) ...\n";
  auto t0 = std::chrono::steady_clock::now();
  static int searches = 0;  // one study file per search (the same budget may be run twice)
  r.study = dir / fmt::format("study-{}-{}.sqlite", ++searches, budget.empty() ? "trials" : budget);
  std::vector<std::string> search = {"search", "--testbed", "--prefix", kPrefix, "--duration", std::to_string(o.duration),
                                     "--json", "--no-apply", "--study", r.study.string()};
  if (!o.all_knobs) search.insert(search.end(), {"--knobs", knob_list});
  if (!screen.empty() && screen != "default") search.insert(search.end(), {"--screen", screen});
  if (budget.empty()) search.insert(search.end(), {"--trials", std::to_string(o.trials)});
  else search.insert(search.end(), {"--budget", budget});
  if (!o.default_objective) {
    // The sweep ranks by throughput, so the search scores throughput too; with the default
    // objective, drop penalties (bbr's UDP receive errors on wireguard-go's socket) rank differently.
    std::ofstream(dir / "objective.yaml") << "scenarios:\n  - name: tcp\n    weight: 1\n    penalize_drops: false\n"
                                             "    penalize_imbalance: false\n";
    search.insert(search.end(), {"--objective", (dir / "objective.yaml").string()});
  }
  auto out = b.wgopt(search, std::chrono::seconds(3600));
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.report = nlohmann::json::parse(out);
  r.found = poor;
  if (o.all_knobs) {
    r.start = first_trial(r.study);
    for (const auto& [id, v] : r.start) r.found.emplace(id, v);
  }
  for (const auto& [id, v] : parse_changed(r.report.at("changed"))) r.found[id] = v;
  return r;
}

struct Sweep {
  std::map<std::string, std::string> best;
  double best_tp = -1;  // its single sweep sample
  size_t points = 0;
  double wall_s = 0;
};

// Every point of the discretised space on both ends, one measurement (o.repeat) each.
Sweep sweep(Bench& b, const std::vector<SpaceKnob>& sp) {
  Sweep w;
  w.points = 1;
  for (const auto& k : sp) w.points *= k.levels.size();
  auto t1 = std::chrono::steady_clock::now();
  for (size_t p = 0; p < w.points; ++p) {
    std::map<std::string, std::string> cfg;
    size_t rest = p;
    for (const auto& k : sp) {
      cfg[k.id] = k.levels[rest % k.levels.size()];
      rest /= k.levels.size();
    }
    b.set_both(cfg);
    double tp = b.measure();
    std::cerr << fmt::format("  sweep {:2}/{}: {:7.1f} Mbit/s  {}\n", p + 1, w.points, tp, describe(cfg));
    if (tp > w.best_tp) w.best_tp = tp, w.best = cfg;
  }
  w.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return w;
}

// The sweep's best and each search's configuration, measured in turn `rounds` times (so drift of
// the machine hits them alike); returns the sweep best's mean and fills each run's found_tp.
double remeasure_interleaved(Bench& b, int rounds, const std::map<std::string, std::string>& best, std::vector<SearchRun>& runs) {
  double best_sum = 0;
  std::vector<double> sums(runs.size(), 0);
  for (int r = 0; r < rounds; ++r) {
    b.set_both(best);
    best_sum += b.measure();
    for (size_t i = 0; i < runs.size(); ++i) {
      b.set_both(runs[i].found);
      sums[i] += b.measure();
    }
    std::cerr << fmt::format("  re-measure round {}/{} done\n", r + 1, rounds);
  }
  for (size_t i = 0; i < runs.size(); ++i) runs[i].found_tp = sums[i] / rounds;
  return best_sum / rounds;
}

// Each distinct configuration the run's trials completed or stopped early, measured fully once; the
// top decile (at least one) of those measurements, how many of it had been stopped early, and how
// many of it the search's own scores (screened or full, the best per configuration) left outside
// their top decile: what the screening would have hidden from a search that trusted it alone.
struct CheckedConfig {
  std::map<std::string, std::string> values;
  bool stopped = false;
  double search_score = -1;  // the best score the search's trials gave it
  double full = 0;           // the instrument's full measurement
};

size_t top_count(size_t n) { return std::max<size_t>(1, (n + 9) / 10); }

void check_pruning(Bench& b, SearchRun& r) {
  using wgopt::experiments::TrialState;
  std::map<std::string, CheckedConfig> configs;  // params dump -> what is known of it
  for (const auto& t : wgopt::experiments::StudyStore::open_read_only(r.study.string()).trials()) {
    if (t.state != TrialState::Complete && t.state != TrialState::Pruned) continue;
    auto& c = configs[t.params.dump()];
    for (const auto& [id, v] : t.params.items()) c.values[id] = v.is_string() ? v.get<std::string>() : v.dump();
    c.stopped = c.stopped || t.state == TrialState::Pruned;
    if (t.score) c.search_score = std::max(c.search_score, *t.score);
  }
  std::vector<CheckedConfig> measured;
  for (auto& [key, c] : configs) {
    b.set_both(c.values);
    c.full = b.measure();
    measured.push_back(c);
    std::cerr << fmt::format("  {}: {} of {} configurations measured fully: {:7.1f} Mbit/s (search {:.1f}){}  {}\n", r.label,
                             measured.size(), configs.size(), c.full, c.search_score, c.stopped ? " (stopped early in the search)" : "",
                             describe(c.values));
  }
  const size_t top = top_count(measured.size());
  std::vector<double> search_scores;
  for (const auto& c : measured) search_scores.push_back(c.search_score);
  std::sort(search_scores.begin(), search_scores.end(), std::greater<>());
  const double search_edge = search_scores[top - 1];  // the search's own top decile starts here
  std::sort(measured.begin(), measured.end(), [](const auto& a, const auto& c) { return a.full > c.full; });
  size_t top_stopped = 0, stopped = 0, top_hidden = 0;
  for (size_t i = 0; i < measured.size(); ++i) {
    stopped += measured[i].stopped;
    if (i < top) top_stopped += measured[i].stopped, top_hidden += measured[i].search_score < search_edge;
  }
  r.pruning_check = fmt::format("{} of the top {} stopped early ({} of {} configurations stopped); {} of the top {} outside the "
                                "search's own top {} by its scores",
                                top_stopped, top, stopped, measured.size(), top_hidden, top, top);
}

std::vector<std::pair<std::string, std::string>> search_rows(const SearchRun& r, double best_tp, double base_mean, bool swept) {
  const auto& rep = r.report;
  const double pruning = rep.at("pruning_saved_s"), screening = rep.value("screening_saved_s", 0.0);
  const double saved = pruning + screening;
  const double measured = rep.value("measured_s", 0.0);
  const auto returned = rep.contains("returned") ? rep.at("returned").size() : 0;
  return {
      {"search: outcome", rep.at("outcome").get<std::string>()},
      {"search: baseline score -> winner score", fmt::format("{:.1f} -> {:.1f} ({:+.1f}%)", rep.at("baseline_score").get<double>(),
                                                             rep.at("winner_score").get<double>(), rep.at("gain_pct").get<double>())},
      {"search: confirmation", rep.value("confirmation", std::string("(none)"))},
      {"search: trials (complete/pruned/failed/infeasible)",
       fmt::format("{} ({}/{}/{}/{})", rep["trials"]["total"].get<int>(), rep["trials"]["complete"].get<int>(),
                   rep["trials"]["pruned"].get<int>(), rep["trials"]["failed"].get<int>(), rep["trials"]["infeasible"].get<int>())},
      {"search: found configuration", describe(r.found)},
      {"found, re-measured, tcp Mbit/s", fmt::format("{:.1f}", r.found_tp)},
      {swept ? "found / best of sweep (re-measured alike)" : "found / poor start (re-measured alike)", best_tp > 0 ? fmt::format("{:.2f}", r.found_tp / best_tp) : "n/a"},
      {"gain of found over poor baseline", base_mean > 0 ? fmt::format("{:+.0f}% ({:.2f}x)", 100 * (r.found_tp / base_mean - 1), r.found_tp / base_mean) : "n/a"},
      {"wall time of the search", fmt::format("{:.0f} s", r.wall_s)},
      {"measurement time screening + early stopping saved (of full measurements of the same trials)",
       fmt::format("{:.0f} s of {:.0f} s ({:.0f}%): screening {:.0f} s, early stopping {:.0f} s", saved, measured + saved,
                   measured + saved > 0 ? 100 * saved / (measured + saved) : 0.0, screening, pruning)},
      {"top decile of the trials' configurations (each measured fully afterwards) stopped early", r.pruning_check},
      {"minimal profile: changes kept / returned to the host's value", fmt::format("{} / {}", rep.at("changed").size(), returned)},
      {"simplification", rep.value("simplification", std::string("(did not run)"))},
  };
}

void print_table(const Options& o, const std::string& knob_list, const std::vector<std::pair<std::string, std::string>>& common,
                 const std::vector<SearchRun>& runs, const std::vector<std::vector<std::pair<std::string, std::string>>>& per_run) {
  std::cout << fmt::format("bench_search: testbed {}, {} s per measurement, {} objective, space {}\n", kPrefix, o.duration,
                           o.default_objective ? "default" : "throughput-only", knob_list);
  std::vector<std::string> head = {"measure"};
  for (const auto& r : runs) head.push_back(r.label);
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s = "|";
    for (const auto& c : cells) s += " " + c + " |";
    std::cout << s << "\n";
  };
  std::cout << "\n";
  if (o.markdown) line(head), line(std::vector<std::string>(head.size(), "---"));
  for (const auto& [k, v] : common) {
    std::vector<std::string> row = {k, v};
    row.resize(head.size(), "");
    line(row);
  }
  for (size_t i = 0; i < per_run.front().size(); ++i) {
    std::vector<std::string> row = {per_run.front()[i].first};
    for (const auto& rows : per_run) row.push_back(rows[i].second);
    line(row);
  }
}

int run(const Options& o) {
  wgopt::require_root("bench_search");
  char tmpl[] = "/tmp/wgopt-bench-search-XXXXXX";
  if (!mkdtemp(tmpl)) throw Error("cannot create a temporary state dir under /tmp");
  const fs::path dir = tmpl;
  setenv("WGOPT_STATE_DIR", dir.c_str(), 1);  // our wgopt children journal and lock here only
  Bench b(o, dir);
  const auto sp = space();
  std::map<std::string, std::string> poor;
  std::string knob_list;
  for (const auto& k : sp) {
    poor[k.id] = k.poor;
    knob_list += (knob_list.empty() ? "" : ",") + k.id;
  }

  std::cerr << "bench_search: testbed " << kPrefix << " up, state in " << dir << "\n";
  b.wgopt({"testbed", "up", "--prefix", kPrefix}, std::chrono::seconds(120));
  int rc = 0;
  try {
    b.set_both(poor);
    std::cerr << "poor configuration on both ends: " << describe(poor) << "\n";
    const double base_tp = b.measure();
    std::vector<SearchRun> runs;
    const auto budgets = o.budgets.empty() ? std::vector<std::string>{""} : o.budgets;
    for (size_t i = 0; i < budgets.size(); ++i) {
      runs.push_back(run_search(b, o, dir, knob_list, poor, budgets[i], o.screens.empty() ? "" : o.screens[i]));
      for (const auto& [id, v] : runs.back().start) poor.emplace(id, v);  // --all-knobs: the whole start is put back
    }
    const Sweep w = o.sweep ? sweep(b, sp) : Sweep{.best = poor};
    const double best_tp = remeasure_interleaved(b, o.confirm_rounds, w.best, runs);
    if (o.check_pruning) {
      for (auto& r : runs) {
        try {
          check_pruning(b, r);
        } catch (const std::exception& e) {  // the rest of the table still stands
          r.pruning_check = std::string("failed: ") + e.what();
        }
      }
    }
    b.set_both(poor);
    const double base_tp2 = b.measure();  // the poor baseline again: drift of the machine during the run
    const double base_mean = (base_tp + base_tp2) / 2;
    const std::vector<std::pair<std::string, std::string>> common = {
        {"poor baseline (start, end), tcp Mbit/s", fmt::format("{:.1f}, {:.1f}", base_tp, base_tp2)},
        {"sweep: best configuration", o.sweep ? describe(w.best) : "(no sweep: the poor start, re-measured alike)"},
        {"sweep: best, tcp Mbit/s (single sample; re-measured)",
         fmt::format("{:.1f} ({} points x {}); {:.1f} ({} rounds)", w.best_tp, w.points, o.repeat, best_tp, o.confirm_rounds)},
        {"wall time of the sweep", fmt::format("{:.0f} s", w.wall_s)},
    };
    std::vector<std::vector<std::pair<std::string, std::string>>> per_run;
    for (const auto& r : runs) per_run.push_back(search_rows(r, best_tp, base_mean, o.sweep));
    const std::string space_label =
        o.all_knobs ? fmt::format("the testbed's whole default space ({} knobs)", runs.front().start.size()) : knob_list;
    print_table(o, space_label, common, runs, per_run);
  } catch (const std::exception& e) {
    std::cerr << "bench_search: " << e.what() << "\n";
    rc = 1;
  }
  // Restore whatever we changed, then remove the testbed (unless asked to keep it).
  try {
    b.wgopt({"rollback"});
  } catch (const std::exception& e) {
    std::cerr << "bench_search: rollback failed: " << e.what() << " (state kept in " << dir << ")\n";
    return 1;
  }
  if (!o.keep_testbed) b.wgopt({"testbed", "down", "--prefix", kPrefix}, std::chrono::seconds(120));
  if (!o.keep_studies.empty()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() != ".sqlite") continue;
      fs::copy_file(e.path(), fs::path(o.keep_studies) / e.path().filename(), fs::copy_options::overwrite_existing, ec);
      if (ec) std::cerr << "bench_search: cannot keep " << e.path().string() << ": " << ec.message() << "\n";
      else std::cerr << "bench_search: kept " << (fs::path(o.keep_studies) / e.path().filename()).string() << "\n";
    }
  }
  fs::remove_all(dir);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const wgopt::UsageError& e) {
    std::cerr << "bench_search: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bench_search: " << e.what() << "\n";
    return 1;
  }
}

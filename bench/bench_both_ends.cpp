// Local-only tuning against both-ends tuning over SSH (issue 11, "Done means"), on the real testbed.
//
// 1. Brings up testbed "wgsb" (only that prefix) with its sshd (`testbed up --ssh`), WGOPT_STATE_DIR
//    in a fresh temporary directory, and puts the RECEIVING end only (the server: forward TCP is
//    client -> server) on a poor configuration: tcp_rmem "4096 4096 4096" and a 16-packet transmit
//    queue on its tunnel. The client end stays as the testbed made it.
// 2. Runs, from the client namespace, the same search twice (same knobs, trial cap, seed, duration,
//    rounds, --no-apply so both start from the same state):
//      local-only   `ip netns exec wgsb-cli wgopt search --peer 100.64.0.1 ...`   (today's --peer)
//      both ends    the same + `--ssh root@198.18.0.1 ...` (the server end's own wgopt as the agent)
//    and records each one's baseline and winner throughput (its own confirmation rounds), score gain,
//    outcome, what it changed and its wall time.
// 3. Prints the table (--markdown for bench/README.md), then `wgopt rollback` on both ends and
//    `wgopt testbed down` (unless --keep-testbed). Run it under the live lock:
//      flock -o /tmp/wgopt-live.lock build/bench/bench_both_ends --wgopt build/wgopt --trials 8
//
// The numbers are throughput of a loaded, shared 2-core VM: read the ratios, not absolutes.
//
//   bench_both_ends [--wgopt PATH] [--trials N] [--duration S] [--seed N] [--markdown] [--keep-testbed]
#include <fmt/format.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/exec.hpp"
#include "common/util.hpp"
#include "experiments/testbed/testbed.hpp"

namespace fs = std::filesystem;
using wgopt::Command;
using wgopt::Error;

namespace {

constexpr const char* kPrefix = "wgsb";
const std::string kCliNs = "wgsb-cli", kSrvNs = "wgsb-srv";
const std::vector<std::string> kPoorReceiver = {"net.ipv4.tcp_rmem=4096 4096 4096", "wgsb-ws/txqueuelen=16"};
// Knobs of the client end's ids; the both-ends search mirrors them onto the server's interfaces.
const std::string kKnobs = "net.ipv4.tcp_rmem,net.ipv4.tcp_wmem,net.ipv4.tcp_congestion_control,wgsb-wc/txqueuelen";

struct Options {
  std::string wgopt;
  int trials = 8;
  int duration = 4;
  int seed = 1;
  bool markdown = false;
  bool keep_testbed = false;
};

Options parse_args(int argc, char** argv) {
  Options o;
  fs::path self = fs::weakly_canonical(fs::path(argv[0]));
  o.wgopt = (self.parent_path().parent_path() / "wgopt").string();
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) throw wgopt::UsageError(fmt::format("{} needs a value", argv[i]));
    return argv[++i];
  };
  auto num = [&](int& i, int lo, int hi) {
    std::string flag = argv[i], v = need(i);
    int n = lo - 1;
    try {
      n = std::stoi(v);
    } catch (...) {
    }
    if (n < lo || n > hi) throw wgopt::UsageError(fmt::format("{} must be {}..{}, not '{}'", flag, lo, hi, v));
    return n;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--wgopt") o.wgopt = need(i);
    else if (a == "--trials") o.trials = num(i, 1, 200);
    else if (a == "--duration") o.duration = num(i, 2, 60);
    else if (a == "--seed") o.seed = num(i, 0, 1000000);
    else if (a == "--markdown") o.markdown = true;
    else if (a == "--keep-testbed") o.keep_testbed = true;
    else throw wgopt::UsageError(fmt::format("unknown argument '{}': see the header of bench/bench_both_ends.cpp", a));
  }
  if (wgopt::find_executable(o.wgopt).empty()) throw wgopt::UsageError(fmt::format("wgopt binary '{}' not found: pass --wgopt PATH", o.wgopt));
  return o;
}

struct Row {
  std::string mode;
  double baseline_mbps = 0, winner_mbps = 0, baseline_score = 0, winner_score = 0, gain_pct = 0, elapsed_s = 0;
  std::string outcome;
  std::vector<std::string> changed;
};

class Bench {
 public:
  Bench(Options o, fs::path dir) : o_(std::move(o)), dir_(std::move(dir)), runner_(wgopt::default_runner()) {}

  wgopt::CommandResult wgopt(std::vector<std::string> args, bool in_client_ns, std::chrono::seconds timeout = std::chrono::seconds(1800)) {
    Command c;
    if (in_client_ns) c.argv = {"ip", "netns", "exec", kCliNs};
    c.argv.insert(c.argv.end(), {"env", "WGOPT_STATE_DIR=" + dir_.string(), o_.wgopt});
    c.argv.insert(c.argv.end(), args.begin(), args.end());
    c.timeout = timeout;
    return runner_->run(c);
  }

  void poor_receiver() {
    std::vector<std::string> a{"set", "--netns", kSrvNs};
    a.insert(a.end(), kPoorReceiver.begin(), kPoorReceiver.end());
    auto r = wgopt(a, false);
    if (!r.ok()) throw Error("setting the poor receiver: " + r.brief());
  }

  Row search(const std::string& mode, const std::vector<std::string>& extra) {
    std::vector<std::string> a{"search", "--peer", "100.64.0.1", "--interfaces", "wgsb-wc,wgsb-uc", "--knobs", kKnobs,
                               "--trials", std::to_string(o_.trials), "--duration", std::to_string(o_.duration),
                               "--seed", std::to_string(o_.seed), "--baseline-rounds", "3", "--confirm-rounds", "4",
                               "--no-apply", "--json",
                               "--study", (dir_ / (mode + ".sqlite")).string(), "--profile", (dir_ / (mode + ".yaml")).string()};
    a.insert(a.end(), extra.begin(), extra.end());
    const auto t0 = std::chrono::steady_clock::now();
    auto r = wgopt(a, true);
    if (!r.ok()) throw Error(fmt::format("{} search failed: {}", mode, r.brief()));
    auto j = nlohmann::json::parse(r.out);
    // A search that ended early has null for what it never measured (search.cpp, to_json).
    auto number = [&j](const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0; };
    Row row{mode,
            number("baseline_throughput_mbps"),
            number("winner_throughput_mbps"),
            number("baseline_score"),
            number("winner_score"),
            number("gain_pct"),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
            j.value("outcome", "?"),
            {}};
    for (const auto& c : j.at("changed")) row.changed.push_back(c.get<std::string>());
    std::cerr << fmt::format("{}: {} baseline {:.0f} Mbit/s winner {:.0f} Mbit/s ({:+.1f}% score) in {:.0f} s\n", mode, row.outcome,
                             row.baseline_mbps, row.winner_mbps, row.gain_pct, row.elapsed_s);
    return row;
  }

 private:
  Options o_;
  fs::path dir_;
  std::shared_ptr<wgopt::CommandRunner> runner_;
};

void print(const Options& o, const std::vector<Row>& rows) {
  std::cout << fmt::format("# receiving end poor ({}); {} trials, {} s per measurement, seed {}, --no-apply; knobs {}\n",
                           fmt::join(kPoorReceiver, ", "), o.trials, o.duration, o.seed, kKnobs);
  const char* head = o.markdown ? "| tuning | outcome | baseline Mbit/s | winner Mbit/s | score baseline -> winner | gain | wall s | changed |\n"
                                  "|---|---|---|---|---|---|---|---|\n"
                                : "tuning       outcome        baseline  winner  score            gain    wall  changed\n";
  std::cout << head;
  for (const auto& r : rows) {
    const std::string winner = r.winner_mbps > 0 ? fmt::format("{:.0f}", r.winner_mbps) : "-";
    const std::string changed = r.changed.empty() ? "-" : fmt::format("{}", fmt::join(r.changed, "; "));
    if (o.markdown) {
      std::cout << fmt::format("| {} | {} | {:.0f} | {} | {:.0f} -> {:.0f} | {:+.1f}% | {:.0f} | {} |\n", r.mode, r.outcome, r.baseline_mbps,
                               winner, r.baseline_score, r.winner_score, r.gain_pct, r.elapsed_s, changed);
    } else {
      std::cout << fmt::format("{:<12} {:<14} {:>8.0f}  {:>6}  {:>6.0f} -> {:<6.0f} {:>+6.1f}%  {:>4.0f}  {}\n", r.mode, r.outcome,
                               r.baseline_mbps, winner, r.baseline_score, r.winner_score, r.gain_pct, r.elapsed_s, changed);
    }
  }
}

int run(const Options& o) {
  wgopt::require_root("bench_both_ends");
  char tmpl[] = "/tmp/wgopt-bench-both-XXXXXX";
  if (!mkdtemp(tmpl)) throw Error("cannot create a temporary state dir under /tmp");
  const fs::path dir = tmpl;
  ::setenv("WGOPT_STATE_DIR", dir.c_str(), 1);
  wgopt::Testbed tb(kPrefix, wgopt::default_runner());
  tb.up();
  const auto ssh = tb.up_ssh(o.wgopt);
  Bench bench(o, dir);
  std::vector<Row> rows;
  try {
    bench.poor_receiver();
    rows.push_back(bench.search("local-only", {}));
    std::vector<std::string> both{"--peer-interfaces", "wgsb-ws,wgsb-us"};
    auto f = ssh.flags();
    both.insert(both.end(), f.begin(), f.end());
    rows.push_back(bench.search("both-ends", both));
  } catch (...) {
    bench.wgopt({"rollback"}, false);
    if (!o.keep_testbed) tb.down();
    throw;
  }
  print(o, rows);
  bench.wgopt({"rollback"}, false);  // the poor receiver, set with `wgopt set --netns`, in this state dir
  if (!o.keep_testbed) tb.down();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const wgopt::UsageError& e) {
    std::cerr << "bench_both_ends: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bench_both_ends: " << e.what() << "\n";
    return 1;
  }
}

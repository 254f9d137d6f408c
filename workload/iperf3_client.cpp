#include "workload/iperf3_client.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <string_view>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "common/error.hpp"
#include "workload/pidfile.hpp"

namespace wgopt::workload {

std::chrono::milliseconds hard_timeout(const ClientOptions& opts, const RunControl& control) {
  auto t = std::chrono::duration_cast<std::chrono::milliseconds>(opts.duration + opts.omit) + opts.connect_timeout +
           control.timeout_margin;
  if (control.should_stop) t += control.stop_grace;
  return t;
}

std::string describe_target(const ClientOptions& opts, const Place& place) {
  const bool v6 = opts.server.find(':') != std::string::npos;
  const std::string host = v6 ? "[" + opts.server + "]" : opts.server;
  return fmt::format("{}:{} from {}", host, opts.port, place.describe());
}

namespace {

// The pid files of a wgopt that was killed (SIGKILL: iperf3 died with it, its file stayed; found by
// an exploratory test) are removed the first time this wgopt makes one in `dir`.
void remove_dead_wgopts_pidfiles(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    constexpr std::string_view prefix = "wgopt-iperf3-client-";
    if (!name.starts_with(prefix) || !name.ends_with(".pid")) continue;
    const std::string rest = name.substr(prefix.size());
    int owner = 0;
    try {
      owner = std::stoi(rest.substr(0, rest.find('-')));
    } catch (...) {
      continue;
    }
    if (owner > 0 && owner != ::getpid() && ::kill(owner, 0) != 0 && errno == ESRCH) std::filesystem::remove(entry.path(), ec);
  }
}

std::string unique_pidfile(const std::string& dir) {
  static std::atomic<unsigned> counter{0};
  static std::mutex mu;
  static std::set<std::string> swept;
  {
    std::lock_guard lk(mu);
    if (swept.insert(dir).second) remove_dead_wgopts_pidfiles(dir);
  }
  return fmt::format("{}/wgopt-iperf3-client-{}-{}.pid", dir, ::getpid(), counter++);
}

bool exec_failed_in_netns(const CommandResult& res) {
  // `ip netns exec NS iperf3` reports a missing program itself: exec of "iperf3" failed: No such file...
  return res.err.find("exec of \"iperf3\" failed") != std::string::npos;
}

// The last "iperf3: ..." line on stderr: parameter errors never reach the JSON.
std::string iperf3_stderr_line(const std::string& err) {
  std::string found;
  size_t pos = 0;
  while (pos < err.size()) {
    size_t nl = err.find('\n', pos);
    std::string line = err.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (line.rfind("iperf3: ", 0) == 0) found = line.substr(8);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return found;
}

RunResult run_once(const Scenario& scenario, const ClientOptions& opts, const Place& place, CommandRunner& runner,
                   const RunControl& control) {
  std::vector<std::string> argv = client_argv(scenario, opts);  // validates
  const std::string target = describe_target(opts, place);
  const bool stoppable = static_cast<bool>(control.should_stop);
  const std::string pidfile = stoppable ? unique_pidfile(control.pidfile_dir) : std::string{};
  if (stoppable) argv.insert(argv.end(), {"-I", pidfile});

  bool stop_requested = false;
  std::optional<std::chrono::steady_clock::time_point> sigint_at;
  Command cmd{.argv = place.wrap(argv), .timeout = hard_timeout(opts, control)};
  if (stoppable) {
    cmd.should_stop = [&]() -> bool {
      if (sigint_at) return std::chrono::steady_clock::now() - *sigint_at > control.stop_grace;
      if (!control.should_stop()) return false;
      stop_requested = true;
      // SIGINT makes iperf3 print the intervals it has; without its pid we can only kill it.
      const int pid = read_pidfile_of(pidfile, "iperf3", pidfile);
      if (pid <= 0 || ::kill(pid, SIGINT) != 0) return true;
      sigint_at = std::chrono::steady_clock::now();
      return false;
    };
  }

  const CommandResult res = runner.run(cmd);
  if (stoppable) std::remove(pidfile.c_str());  // iperf3 removes it itself unless it was killed

  RunResult r;
  auto finish = [&](RunResult out) {
    out.scenario = scenario.name;
    out.wall_seconds = res.seconds;
    if (out.parallel == 0) out.parallel = effective_parallel(scenario, opts);
    out.udp = scenario.udp;
    out.reverse = scenario.reverse;
    spdlog::debug("iperf3 {} against {}: {}", scenario.name, target, status_name(out.status));
    return out;
  };

  if (res.not_found || exec_failed_in_netns(res)) {
    const std::string program = res.not_found ? cmd.argv[0] : "iperf3";
    r.status = RunStatus::missing_binary;
    r.message = fmt::format("{} is not installed ({} not found on PATH): install it with apt-get install {} "
                            "(scripts/install-deps.sh does)",
                            program, place.describe(), program == "ip" ? "iproute2" : program);
    return finish(r);
  }
  if (res.timed_out) {
    r = parse_iperf3_json(res.out, target);  // keeps any intervals it managed to print
    r.summary.reset();
    r.status = RunStatus::timed_out;
    r.message = fmt::format("iperf3 against {} did not finish within {} s and was killed: check that the server "
                            "answers and the path is not stalled",
                            target, cmd.timeout.count() / 1000);
    return finish(r);
  }
  if (res.stopped) {
    r = parse_iperf3_json(res.out, target);
    r.summary.reset();
    r.status = RunStatus::stopped_early;
    r.message = fmt::format("iperf3 against {} was stopped early and killed before it reported: no end summary, "
                            "{} interval(s) kept",
                            target, r.intervals.size());
    return finish(r);
  }

  r = parse_iperf3_json(res.out, target);
  if (r.status == RunStatus::empty_output || r.status == RunStatus::invalid_json) {
    if (std::string line = iperf3_stderr_line(res.err); !line.empty()) {
      r.status = RunStatus::iperf3_error;
      r.iperf3_error = line;
      r.message = fmt::format("iperf3 against {} failed: {}: fix what iperf3 names, then retry", target, line);
    } else if (r.status == RunStatus::empty_output && !res.ok()) {
      r.message = fmt::format("iperf3 against {} printed no output ({}): run `{}` by hand to see why", target,
                              res.brief(), render_argv(cmd.argv));
    }
  }
  if (stop_requested && r.status == RunStatus::ok) {
    spdlog::debug("iperf3 {} finished before the stop request took effect", scenario.name);
  }
  return finish(r);
}

}  // namespace

bool connection_refused(const RunResult& r) {
  return r.status == RunStatus::connect_failed && r.iperf3_error.find("Connection refused") != std::string::npos;
}

RunResult run_scenario(const Scenario& scenario, const ClientOptions& opts, const Place& place,
                       CommandRunner& runner, const RunControl& control) {
  validate(opts);
  int busy = 0, refused = 0;
  for (;;) {
    RunResult r = run_once(scenario, opts, place, runner, control);
    // A server needs a moment after a client it served was interrupted; a server busy with
    // someone else's test stays busy, a server that is down stays down, and the last attempt
    // reports it.
    std::chrono::milliseconds wait{0};
    const bool was_busy = r.status == RunStatus::server_busy;
    if (was_busy && busy++ < control.busy_retries) {
      wait = control.busy_wait;
    } else if (connection_refused(r) && refused++ < control.refused_retries) {
      wait = control.refused_wait;
    } else {
      return r;
    }
    spdlog::debug("iperf3 server {}: {}, retrying in {} ms", describe_target(opts, place), status_name(r.status),
                  wait.count());
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      if (control.should_stop && control.should_stop()) {
        r.status = RunStatus::stopped_early;
        r.message = fmt::format("iperf3 against {} was stopped while waiting to retry the server: no measurement",
                                describe_target(opts, place));
        return r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (control.on_retry) control.on_retry(was_busy);
  }
}

void throw_if_failed(const RunResult& result) {
  if (!result.usable()) throw Error(result.message);
}

}  // namespace wgopt::workload

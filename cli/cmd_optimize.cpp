// `wgopt optimize`: the search engine as a black-box optimiser of any command.
//
// Protocol (issue 4): for each trial the --eval command (split into argv here, never by a shell)
// gets ONE JSON line on stdin, {"trial": N, "params": {...}} with N counting from 0, and prints one
// JSON line {"value": X} on stdout (other lines before it are ignored). A non-zero exit, a timeout
// or no numeric value makes the trial failed; the run goes on. The evaluator runs in its own process
// group: when its trial ends (exit, timeout, Ctrl-C) everything it started is killed, and a helper
// it left holding stdout does not hold up the trial. Of its output only the last 64 KiB per stream
// and the value line are kept, so no amount of output ends the run.
#include <charconv>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/interrupt.hpp"
#include "cli/registry.hpp"
#include "common/error.hpp"
#include "common/exec.hpp"
#include "common/util.hpp"
#include "optimizer/driver.hpp"
#include "optimizer/space_yaml.hpp"

namespace wgopt::cli {

namespace {

using json = nlohmann::json;

// Splits a command line into argv with the familiar rules and nothing else: blanks separate words,
// '...' is literal, "..." allows \" and \\, a backslash outside quotes escapes the next character.
// No variables, globs, pipes or redirections: the words go to execve as they are.
std::vector<std::string> split_command(const std::string& text) {
  std::vector<std::string> argv;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) argv.push_back(std::move(word)), word.clear(), in_word = false;
    } else if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      if (end == std::string::npos) throw UsageError("--eval: unclosed single quote: close it or drop it");
      word += text.substr(i + 1, end - i - 1);
      i = end;
      in_word = true;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size() && (text[j + 1] == '"' || text[j + 1] == '\\')) ++j;
        word += text[j];
      }
      if (j >= text.size()) throw UsageError("--eval: unclosed double quote: close it or drop it");
      i = j;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) throw UsageError("--eval: trailing backslash: remove it");
      word += text[++i];
      in_word = true;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) argv.push_back(std::move(word));
  if (argv.empty()) throw UsageError("--eval is empty: give the evaluator command, e.g. --eval 'python3 eval.py'");
  return argv;
}

json to_json(const opt::Value& v) {
  return std::visit([](const auto& x) { return json(x); }, v);
}

json to_json(const opt::Config& c) {
  json j = json::object();
  for (const auto& [k, v] : c) j[k] = to_json(v);
  return j;
}

// What is kept of an evaluator's output: the last 64 KiB of stdout and of stderr for messages, and
// the value line, found as stdout streams by, so a flood of output costs no memory.
constexpr std::size_t kKeepOutput = 64 * 1024;

// The last stdout line that is a JSON object, fed piece by piece as the output arrives. Lines longer
// than kKeepOutput are skipped unread (a value line is short).
class ValueLine {
 public:
  void feed(std::string_view s) {
    while (!s.empty()) {
      const auto nl = s.find('\n');
      const auto piece = s.substr(0, nl);
      if (!oversized_ && line_.size() + piece.size() > kKeepOutput) oversized_ = true, line_.clear();
      if (!oversized_) line_.append(piece);
      if (nl == std::string_view::npos) return;
      end_line();
      s.remove_prefix(nl + 1);
    }
  }
  // The output ended (a last line without a newline counts).
  void finish() { end_line(); }
  const std::string& last_object() const { return last_; }
  // The last line that began with '{' and did not parse as JSON (empty: none); named only when no
  // line parsed (a value line followed by other output stays the value, as it always was).
  const std::string& last_unparsed() const { return unparsed_; }

 private:
  void end_line() {
    if (!oversized_) {
      std::string line = trim(line_);
      if (line.starts_with('{')) {
        json j = json::parse(line, nullptr, false);
        if (!j.is_discarded() && j.is_object()) last_ = std::move(line);
        else unparsed_ = std::move(line);
      }
    }
    line_.clear();
    oversized_ = false;
  }
  std::string line_, last_, unparsed_;
  bool oversized_ = false;
};

// The finite numeric "value" of the value line; nullopt and the reason otherwise. `unparsed`: the
// last line that began with '{' but is not JSON, which the reason quotes when no line parsed.
std::optional<double> parse_value(const std::string& line, std::string& why, const std::string& unparsed = "") {
  if (line.empty() && !unparsed.empty()) {  // {"value": NaN} and {"value": 1e999} were "no JSON line" (found by an exploratory test)
    why = fmt::format("the line {} is not JSON: print one JSON object with a finite number, e.g. {{\"value\": 12.5}} (NaN, "
                      "Infinity and numbers beyond a double's range are not JSON)",
                      one_line(unparsed, 80));
    return std::nullopt;
  }
  if (line.empty()) {
    why = "no JSON line {\"value\": X} on stdout";
    return std::nullopt;
  }
  json j = json::parse(line);
  auto v = j.find("value");
  if (v == j.end() || !v->is_number()) {
    why = "output has no numeric \"value\"";
    return std::nullopt;
  }
  double x = v->get<double>();
  if (!std::isfinite(x)) {
    why = "\"value\" is not finite";
    return std::nullopt;
  }
  return x;
}

// Ctrl-C or SIGTERM during a trial: its evaluator and everything it started have been stopped.
struct Interrupted {};

// One trial: runs the evaluator in its own process group (a timeout, a stop or its exit ends all
// it started), and never throws for what the evaluator does: that fails this trial only.
std::optional<double> evaluate_once(CommandRunner& runner, const std::vector<std::string>& argv,
                                    const std::string& input, std::chrono::milliseconds timeout,
                                    const std::atomic<bool>& interrupted, std::string& why) {
  ValueLine value_line;
  Command cmd{.argv = argv,
              .stdin_data = input,
              .timeout = timeout,
              .should_stop = [&interrupted] { return interrupted.load(); },
              .own_process_group = true,
              .keep_bytes = kKeepOutput,
              .on_stdout = [&value_line](std::string_view s) { value_line.feed(s); }};
  CommandResult r;
  try {
    r = runner.run(cmd);
  } catch (const std::exception& e) {
    why = e.what();
    return std::nullopt;
  }
  if (interrupted) throw Interrupted{};
  if (!r.ok()) {
    why = r.brief();
    return std::nullopt;
  }
  value_line.finish();
  return parse_value(value_line.last_object(), why, value_line.last_unparsed());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("cannot read --space file '{}': check the path", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Options {
  std::string space_path, eval, strategy = "bo", timeout = "300s";
  int trials = 0, remeasure = -1;
  std::uint64_t seed = 0;
  bool json_out = false, quiet = false;
};

int run_optimize(const Options& o) {
  auto spec = opt::parse_space_yaml(read_file(o.space_path), o.space_path);
  const auto argv = split_command(o.eval);
  if (find_executable(argv[0]).empty())
    throw UsageError(fmt::format("--eval command '{}' is not an executable on PATH: give its path", argv[0]));
  if (o.trials < 1) throw UsageError("--trials must be at least 1");
  const auto timeout = parse_duration(o.timeout, "--timeout");
  if (timeout.count() <= 0) throw UsageError("--timeout must be positive, e.g. --timeout 60s");
  if (timeout > std::chrono::hours(24 * 7)) throw UsageError("--timeout must be at most 7d: a trial is one evaluation");
  if (o.remeasure < -1) throw UsageError("--remeasure must be -1 (auto) or a number of trials, 0 or more");
  // The driver took at most --trials - 1 and said nothing (found by an exploratory test).
  if (o.remeasure >= o.trials) {
    throw UsageError(fmt::format("--remeasure {} leaves no trial to find candidates in --trials {}: use 0..{}, or -1 (auto)", o.remeasure,
                                 o.trials, o.trials - 1));
  }

  auto strategy = opt::make_strategy(o.strategy, spec.space,
                                     {.direction = spec.direction, .seed = o.seed, .start = spec.start,
                                      .budget = o.trials});
  auto runner = default_runner();
  const bool progress = !o.json_out && !o.quiet;
  const bool maximize = spec.direction == opt::Direction::maximize;
  std::optional<double> best_seen;
  int best_trial = -1;
  std::map<int, std::string> why_failed;  // trial -> why (the text run prints it; --json carries it as "note")

  const auto& interrupted = install_interrupt_handlers();
  json done = json::array();  // the trials evaluated so far, for an interrupted --json run
  auto evaluate = [&](const opt::Config& c, int trial) -> opt::EvalResult {
    std::string why;
    const std::string input = json{{"trial", trial}, {"params", to_json(c)}}.dump() + "\n";
    const std::optional<double> value = evaluate_once(*runner, argv, input, timeout, interrupted, why);
    if (value && (!best_seen || (maximize ? *value > *best_seen : *value < *best_seen)))
      best_seen = value, best_trial = trial;
    if (progress) {
      std::string status = value ? fmt::format("value {:.6g}", *value) : "failed: " + why;
      std::string best = best_seen ? fmt::format("best {:.6g} (trial {})", *best_seen, best_trial) : "best -";
      std::fprintf(stderr, "[%d/%d] trial %d  %s  %s\n", trial + 1, o.trials, trial, status.c_str(), best.c_str());
    }
    done.push_back({{"trial", trial}, {"params", to_json(c)}, {"value", value ? json(*value) : json(nullptr)},
                    {"state", value ? "complete" : "failed"}});
    if (!value) {
      why_failed[trial] = why;
      done.back()["note"] = why;
      return {.state = opt::TrialState::failed};
    }
    return {.state = opt::TrialState::complete, .value = *value};
  };

  opt::RunResult res;
  try {
    res = opt::run(*strategy, o.trials, evaluate, {.remeasure = o.remeasure});
  } catch (const Interrupted&) {
    std::fprintf(stderr, "wgopt: interrupted: the running evaluator and everything it started were stopped\n");
    // The trials that finished are not lost (found by an exploratory test: --json printed nothing).
    if (o.json_out) {
      const json best_seen_json =
          best_seen ? json{{"trial", best_trial}, {"value", *best_seen}} : json(nullptr);
      std::printf("%s\n", json{{"objective", maximize ? "maximize" : "minimize"}, {"strategy", o.strategy}, {"seed", o.seed},
                               {"interrupted", true}, {"best", nullptr}, {"best_seen", best_seen_json}, {"trials", done}}
                               .dump()
                               .c_str());
    } else if (best_seen) {
      std::fprintf(stderr, "wgopt: %zu trial(s) finished; the best value seen was %.6g (trial %d)\n", done.size(), *best_seen,
                   best_trial);
    }
    return 130;
  }

  int complete = 0;
  double measured_sum = 0;
  int measured_n = 0;
  json trials = json::array();
  for (const auto& t : res.trials) {
    bool ok = t.state == opt::TrialState::complete;
    complete += ok;
    if (ok && res.best.valid && t.config == res.best.config) measured_sum += t.value, ++measured_n;
    trials.push_back({{"trial", t.number},
                      {"params", to_json(t.config)},
                      {"value", ok ? json(t.value) : json(nullptr)},
                      {"state", opt::to_string(t.state)},
                      {"remeasure", t.remeasure}});
    if (auto it = why_failed.find(t.number); !ok && it != why_failed.end()) trials.back()["note"] = it->second;
  }
  if (o.json_out) {
    json best = nullptr;
    if (res.best.valid)
      best = {{"params", to_json(res.best.config)},
              {"value", res.best.mean},
              {"sd", std::isfinite(res.best.sd) ? json(res.best.sd) : json(nullptr)},
              {"measured", measured_sum / measured_n},
              {"evaluations", measured_n}};
    json out = {{"objective", maximize ? "maximize" : "minimize"}, {"strategy", o.strategy}, {"seed", o.seed},
                {"best", best}, {"trials", trials}};
    std::printf("%s\n", out.dump().c_str());
  } else if (res.best.valid) {
    std::printf("recommended (%s, %d of %d trials complete):\n", o.strategy.c_str(), complete, o.trials);
    for (const auto& [k, v] : res.best.config) std::printf("  %s: %s\n", k.c_str(), opt::to_string(v).c_str());
    std::printf("expected value %.6g", res.best.mean);
    // The model's sd, not a spread of measurements: a constant evaluator read "+- 0.80" as its noise
    // (found by an exploratory test).
    if (std::isfinite(res.best.sd)) std::printf(o.strategy == "bo" ? " (model sd %.3g)" : " (standard error %.3g)", res.best.sd);
    std::printf(" (measured %d time%s, average %.6g)\n", measured_n, measured_n == 1 ? "" : "s",
                measured_sum / measured_n);
  }
  if (complete == 0) {
    std::fprintf(stderr, "wgopt: error: all %d trials failed: run the --eval command by hand with one JSON line "
                         "on stdin to see why\n", o.trials);
    return 1;
  }
  return 0;
}

}  // namespace

WGOPT_COMMAND(70, [](CLI::App& root, Context& ctx) {
  auto o = std::make_shared<Options>();
  auto* cmd = root.add_subcommand(
      "optimize",
      "Minimise or maximise any command's output with wgopt's search engine (black-box mode).\n"
      "Each trial runs --eval with one JSON line on stdin, {\"trial\": N, \"params\": {...}}, and reads\n"
      "one JSON line {\"value\": X} from its stdout; a non-zero exit, a timeout or no value is a\n"
      "failed trial and the run goes on. A trial ends when the evaluator exits: whatever it started\n"
      "(its process group) is killed then, at a timeout or Ctrl-C, and if wgopt itself is killed\n"
      "(even by SIGKILL: a small wgopt-reaper process ends the group). Only the last 64 KiB of its\n"
      "output and the value line are kept. SPACE.yaml: `objective: maximize|minimize` and `params:`,\n"
      "a list such as {name: x, type: real, min: 0, max: 1} (types real, int, pow2, categorical,\n"
      "bool, mask; see optimizer/space_yaml.hpp).");
  cmd->add_option("--space", o->space_path, "SPACE.yaml: objective and parameters")->required();
  cmd->add_option("--eval", o->eval, "evaluator command, split into words without a shell ('...' and \"...\" quote)")
      ->required();
  cmd->add_option("--trials", o->trials, "number of evaluations (from 20 on, the last 5%, n/20, re-measure the best candidates: --remeasure)")
      ->required();
  cmd->add_option("--strategy", o->strategy, "bo, random or coordinate")->capture_default_str();
  // A whole number that fits: the conversion alone wrapped -1 to 2^64-1 and clamped 2^64 and up to it
  // (found by an exploratory test: three different seeds gave the same trials).
  cmd->add_option("--seed", o->seed, "random seed (same seed and same values: same trials)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& s) {
            std::uint64_t v = 0;
            const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
            return !s.empty() && ec == std::errc() && end == s.data() + s.size()
                       ? std::string()
                       : "'" + s + "' is not a seed: use a whole number from 0 to 18446744073709551615";
          },
          "SEED"));
  cmd->add_option("--timeout", o->timeout, "per-trial time limit (e.g. 90s, 5m); a slower trial is killed and failed")
      ->capture_default_str();
  cmd->add_option("--remeasure", o->remeasure, "trials reserved at the end to re-measure top candidates (-1: auto)")
      ->capture_default_str();
  cmd->add_flag("--json", o->json_out, "print {\"best\": ..., \"trials\": [...]} on stdout, no progress lines");
  cmd->add_flag("--quiet", o->quiet, "no progress lines on stderr");
  cmd->callback([o, &ctx] { ctx.exit_code = run_optimize(*o); });
});

}  // namespace wgopt::cli

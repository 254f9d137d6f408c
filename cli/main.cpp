// wgopt: tunes a Linux host's WireGuard / NetBird path for throughput, in a closed loop.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "cli/registry.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "common/util.hpp"

namespace wgopt::cli {

std::vector<std::pair<int, Setup>>& registry() {
  static std::vector<std::pair<int, Setup>> r;
  return r;
}

Registrar::Registrar(int order, Setup setup) { registry().emplace_back(order, std::move(setup)); }

}  // namespace wgopt::cli

namespace {

// A command given --json that fails says so on stdout too, as one JSON object, besides its line on
// stderr (found by an exploratory test: `search --ssh ... --json` with the key refused printed
// nothing on stdout, so a script parsing it got a parse error instead of the reason).
int failed_as_json(int argc, char** argv, const std::string& what, int code) {
  for (int i = 1; i < argc && std::string(argv[i]) != "--"; ++i) {
    if (std::string(argv[i]) == "--json") {
      std::fflush(stdout);
      std::printf("%s\n", nlohmann::json{{"error", what}, {"exit_code", code}}.dump(2).c_str());
      break;
    }
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace wgopt;
  cli::Context ctx;
  CLI::App app{
      "wgopt tunes a Linux host running WireGuard / NetBird for throughput: it discovers the network\n"
      "knobs, measures with iperf3 while reading /proc and /sys, searches the settings in a closed loop,\n"
      "keeps the host's original values and rolls back on regression.\n\n"
      "Start with `wgopt testbed up` and `wgopt baseline --testbed` to see it on a built-in two-namespace\n"
      "WireGuard path, or `wgopt diagnose` on a real host.",
      "wgopt"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "wgopt 0.1.0");
  app.add_option("--log-level", ctx.log_level, "trace, debug, info, warn, error or off (logs go to stderr)")
      ->capture_default_str();
  app.parse_complete_callback([&] { setup_logging(ctx.log_level); });
  // --log-level after the command (`wgopt search ... --log-level debug`) too: a subcommand passes
  // an option it does not know to its parent (inherited by every subcommand added below).
  app.fallthrough();

  auto& reg = cli::registry();
  std::stable_sort(reg.begin(), reg.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, setup] : reg) setup(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and exit 0; every other parse error is bad usage: one line and
    // exit 2, like UsageError (CLI11's own print is two lines without the program's name).
    if (e.get_exit_code() == 0) return app.exit(e);
    std::string command = "wgopt";
    CLI::App* deepest = &app;
    for (CLI::App* sub = &app; sub;) {
      CLI::App* next = nullptr;
      for (CLI::App* s : sub->get_subcommands()) next = s;
      if (next) command += " " + next->get_name(), deepest = next;
      sub = next;
    }
    // A word where a command goes that names none (`wgopt bogus`, `wgopt testbed nosuch`): CLI11
    // says "A subcommand is required".
    auto left = deepest->remaining();
    if (left.empty()) left = app.remaining();  // fallthrough hands a word the command did not take to the root
    if (!deepest->get_subcommands({}).empty() && !left.empty() && !left.front().starts_with("-")) {
      std::fprintf(stderr, "wgopt: error: unknown command '%s': `%s --help` lists the commands\n", one_line(left.front(), 80).c_str(),
                   command.c_str());
      return 2;
    }
    std::fprintf(stderr, "wgopt: error: %s: see `%s --help`\n", one_line(e.what(), 300).c_str(), command.c_str());
    return 2;
  } catch (const Cancelled& e) {
    std::fprintf(stderr, "wgopt: interrupted: %s\n", e.what());
    return failed_as_json(argc, argv, e.what(), 130);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "wgopt: error: %s\n", e.what());
    return failed_as_json(argc, argv, e.what(), 2);
  } catch (const Error& e) {
    std::fprintf(stderr, "wgopt: error: %s\n", e.what());
    return failed_as_json(argc, argv, e.what(), 1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wgopt: internal error: %s\n", e.what());
    return failed_as_json(argc, argv, e.what(), 1);
  }
  return ctx.exit_code;
}

#pragma once
// Subcommands register themselves: each cli/cmd_*.cpp holds one command (or one family such as
// `testbed up|down|status`) and a WGOPT_COMMAND(order, setup) line. main.cpp never changes when a
// command is added. A setup adds a CLI11 subcommand and its callback; the callback does the work and
// may set ctx.exit_code. Errors are thrown as wgopt::Error / UsageError and printed by main.
#include <CLI/CLI.hpp>
#include <functional>

namespace wgopt::cli {

struct Context {
  int exit_code = 0;
  std::string log_level = "info";
};

using Setup = std::function<void(CLI::App& root, Context& ctx)>;

struct Registrar {
  Registrar(int order, Setup setup);
};

// Ordered by `order` (the order commands appear in --help).
std::vector<std::pair<int, Setup>>& registry();

// For an unsigned option (--seed): a leading '-' is refused in one line; CLI11 would wrap it, or
// name a range up to 1.8e308.
inline CLI::Validator not_negative() {
  return CLI::Validator(
      [](std::string& v) { return v.starts_with("-") ? v + " is negative: use 0 or more" : std::string(); },
      "", "not negative");
}

// For an option whose empty value would mean "not given" (--netns '' acted on the host, --ssh ''
// on this host instead of a peer: a shell variable that was not set): refused in one line.
inline CLI::Validator not_empty(const std::string& form) {
  return CLI::Validator(
      [form](std::string& v) { return v.empty() ? "needs " + form + ", and it was given empty" : std::string(); }, "",
      "not empty");
}

}  // namespace wgopt::cli

#define WGOPT_CONCAT_INNER(a, b) a##b
#define WGOPT_CONCAT(a, b) WGOPT_CONCAT_INNER(a, b)
#define WGOPT_COMMAND(order, setup) \
  static ::wgopt::cli::Registrar WGOPT_CONCAT(wgopt_registrar_, __COUNTER__)(order, setup)

#pragma once
// The built wgopt binary run with `args` (an argv list, no shell), for the tests of what a user sees:
// exit code, stdout, stderr.
#include <chrono>
#include <string>
#include <vector>

#include "common/exec.hpp"

namespace wgopt::test {

inline CommandResult wgopt_cli(const std::vector<std::string>& args, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  std::vector<std::string> argv{WGOPT_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessRunner r;
  return r.run({.argv = argv, .timeout = timeout});
}

}  // namespace wgopt::test

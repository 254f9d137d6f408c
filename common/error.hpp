#pragma once
// The project's error model: a library function that cannot do what it was asked throws
// wgopt::Error whose what() is ONE line a user can act on: the thing that failed, why, and the fix
// ("interface 'eth0;rm' is not a valid name: use [A-Za-z0-9_.-], at most 15 characters").
// The CLI prints it as "wgopt: error: <what>" and exits non-zero. UsageError means the user's input
// was wrong (exit code 2); anything else is an environment or runtime failure (exit code 1).
#include <stdexcept>
#include <string>

namespace wgopt {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

class UsageError : public Error {
 public:
  explicit UsageError(const std::string& what) : Error(what) {}
};

// A signal (Ctrl-C, SIGTERM, SIGHUP) ended a wait before anything was changed: the CLI prints
// "wgopt: interrupted: <what>" and exits 130, the shell's code for a SIGINT.
class Cancelled : public Error {
 public:
  explicit Cancelled(const std::string& what) : Error(what) {}
};

}  // namespace wgopt

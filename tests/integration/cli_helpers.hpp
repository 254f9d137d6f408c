#pragma once
// Helpers the root integration tests share: run the built wgopt with its own WGOPT_STATE_DIR, a
// temporary state directory, read a command's output inside a testbed namespace.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/exec.hpp"
#include "common/place.hpp"
#include "tests/process_helpers.hpp"
#include "common/util.hpp"
#include "tests/scratch_dir.hpp"

namespace wgopt::itest {

inline CommandResult run(const std::vector<std::string>& argv, std::chrono::seconds timeout = std::chrono::seconds(240)) {
  ProcessRunner r;
  return r.run(Command{.argv = argv, .timeout = timeout});
}

inline std::vector<std::string> wgopt_argv(const std::string& state, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"env", "WGOPT_STATE_DIR=" + state, WGOPT_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

inline CommandResult run_wgopt(const std::string& state, const std::vector<std::string>& args) { return run(wgopt_argv(state, args)); }

// A fresh directory under /tmp, removed with everything in it when the test case ends.
struct StateDir : test::ScratchDir {
  StateDir() : ScratchDir("wgopt-itest") {}
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// stdout of argv run inside namespace `ns`, trimmed; the test fails if it does not succeed.
inline std::string in_ns(const std::string& ns, const std::vector<std::string>& argv) {
  auto r = run(Place::netns(ns).wrap(argv), std::chrono::seconds(20));
  INFO(r.brief());
  REQUIRE(r.ok());
  return trim(r.out);
}

// fork/exec of argv with stdout and stderr to `log`, for a test that must SIGKILL the child itself
// (the one implementation, tests/process_helpers.hpp; a failed fork fails the test here).
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = testproc::spawn(argv, log);
  REQUIRE(pid >= 0);
  return pid;
}

// TCP 22 between a testbed's two namespaces black-holed both ways by policy-routing rules: the
// session's packets vanish silently (no RST, no FIN), as on a dead link. lift() (or the destructor)
// removes the rules.
class SshBlackHole {
 public:
  SshBlackHole(std::string srv_ns, std::string cli_ns) : srv_(std::move(srv_ns)), cli_(std::move(cli_ns)) {
    REQUIRE(rule(srv_, "add", "sport").ok());
    REQUIRE(rule(cli_, "add", "dport").ok());
    on_ = true;
  }
  ~SshBlackHole() { lift(); }
  SshBlackHole(const SshBlackHole&) = delete;
  SshBlackHole& operator=(const SshBlackHole&) = delete;
  void lift() {
    if (!on_) return;
    on_ = false;
    rule(srv_, "del", "sport");
    rule(cli_, "del", "dport");
  }

 private:
  static CommandResult rule(const std::string& ns, const std::string& op, const std::string& sel) {
    return run({"ip", "-n", ns, "rule", op, "ipproto", "tcp", sel, "22", "blackhole"});
  }
  std::string srv_, cli_;
  bool on_ = false;
};

// A network namespace of one test case's own, removed with its devices when the case ends; one left
// by an interrupted run is removed first.
struct NamedNetns {
  std::string name;
  explicit NamedNetns(std::string n) : name(std::move(n)) {
    run({"ip", "netns", "del", name});
    REQUIRE(run({"ip", "netns", "add", name}).ok());
  }
  ~NamedNetns() { run({"ip", "netns", "del", name}); }
  NamedNetns(const NamedNetns&) = delete;
  NamedNetns& operator=(const NamedNetns&) = delete;
};

// The binary does not run without root (tests/main.cpp exits 77, CTest says Skipped); a test that
// needs root still fails loudly rather than pass without running.
inline void need_root() {
  if (::geteuid() != 0) FAIL("this test needs root: it builds network namespaces and testbeds");
}

}  // namespace wgopt::itest

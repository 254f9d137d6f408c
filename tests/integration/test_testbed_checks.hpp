#pragma once
// What "the testbed left nothing behind" means, checked from the outside (not through the
// Testbed's own status): no namespace, host link, process, UAPI socket or state/key file with the
// prefix's names. Shared by the testbed and baseline integration tests.
#include <dirent.h>

#include <string>
#include <vector>

#include "common/exec.hpp"
#include "common/files.hpp"
#include "common/util.hpp"

namespace wgopt::testcheck {

inline std::vector<std::string> dir_entries_starting_with(const std::string& dir, const std::string& start) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.rfind(start, 0) == 0) out.push_back(dir + "/" + name);
    }
    ::closedir(d);
  }
  return out;
}

// Every leftover of testbed `prefix`, one line each; empty when nothing is left.
inline std::vector<std::string> testbed_leftovers(const std::string& prefix) {
  std::vector<std::string> left;
  const std::string p = prefix + "-";
  for (const auto& f : dir_entries_starting_with("/run/netns", p)) left.push_back("namespace " + f);
  for (const auto& f : dir_entries_starting_with("/sys/class/net", p)) left.push_back("host link " + f);
  for (const auto& f : dir_entries_starting_with("/var/run/wireguard", p)) left.push_back("socket " + f);
  // The in-use lock file stays, empty, as host.lock does (Testbed::down: unlinked, a command taking
  // its hold meanwhile would lock a file nobody else sees).
  for (const auto& f : dir_entries_starting_with("/run/wgopt", "testbed-" + prefix)) {
    if (f != "/run/wgopt/testbed-" + prefix + ".use") left.push_back("state " + f);
  }
  for (const auto& f : dir_entries_starting_with("/run/wgopt", p)) left.push_back("file " + f);
  for (const auto& f : dir_entries_starting_with("/run/wgopt", "iperf3-" + p)) left.push_back("pid file " + f);
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      auto cmdline = read_file(std::string("/proc/") + e->d_name + "/cmdline");
      if (!cmdline || cmdline->empty()) continue;
      auto argv = split(*cmdline, '\0');
      const std::string& prog = argv[0];
      bool ours = false;
      for (const auto& a : argv) ours = ours || a.rfind(p, 0) == 0;
      // wireguard-go is named by its interface; iperf3 and ping run inside our namespaces.
      if (ours && (prog.find("wireguard-go") != std::string::npos || prog == "ip")) {
        left.push_back(std::string("process ") + e->d_name + " " + render_argv(argv));
      }
    }
    ::closedir(d);
  }
  return left;
}

}  // namespace wgopt::testcheck

#include "common/processes.hpp"

#include <algorithm>

#include "common/util.hpp"

namespace wgopt {

namespace {

std::string basename_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

bool is_interpreter(const std::string& base) {
  return base.starts_with("python") || base.starts_with("perl") || base == "sh" || base == "bash";
}

// argv from /proc/PID/cmdline (NUL-separated).
std::vector<std::string> argv_of(const std::string& cmdline) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : cmdline) {
    if (c == '\0') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// A process that has exited and waits to be reaped (state Z in PROC/PID/stat, after the comm in
// parentheses). A daemon stopped by its init script stays one until init reaps it.
bool is_zombie(Files& files, const std::string& dir) {
  const std::string stat = files.read(dir + "/stat").value_or("");
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

}  // namespace

std::vector<int> pids_named(Files& files, const std::string& proc_root, const std::string& name) {
  std::vector<int> out;
  for (const auto& entry : files.list(proc_root)) {
    if (entry.empty() || entry.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string dir = proc_root + "/" + entry;
    bool match = false;
    if (auto comm = files.read(dir + "/comm")) match = trim(*comm) == name.substr(0, 15);
    if (!match) {
      const auto argv = argv_of(files.read(dir + "/cmdline").value_or(""));
      if (!argv.empty()) {
        const std::string first = basename_of(argv[0]);
        // An interpreter's script is its first argument that is not an option ("python3 -Es /usr/sbin/tuned").
        auto script = std::find_if(argv.begin() + 1, argv.end(), [](const std::string& a) { return !a.starts_with("-"); });
        match = first == name || (is_interpreter(first) && script != argv.end() && basename_of(*script) == name);
      }
    }
    if (match && !is_zombie(files, dir)) out.push_back(std::stoi(entry));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace wgopt

#include "common/processes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/sysmacros.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

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

namespace {

// Whether process `pid` has the file `st` describes open (PROC/PID/fd/*, each stat'ed through).
bool has_open(const std::string& proc_root, int pid, const struct stat& st) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(fmt::format("{}/{}/fd", proc_root, pid), ec), end; !ec && it != end; it.increment(ec)) {
    struct stat o {};
    if (::stat(it->path().c_str(), &o) == 0 && o.st_dev == st.st_dev && o.st_ino == st.st_ino) return true;
  }
  return false;
}

}  // namespace

std::vector<int> flock_holders(int fd, const std::string& proc_root) {
  std::vector<int> pids;
  struct stat st{};
  if (::fstat(fd, &st) != 0) return pids;
  auto locks = read_file(proc_root + "/locks");
  if (!locks) return pids;
  // "1: FLOCK  ADVISORY  WRITE 1234 fe:00:10952883 0 EOF"; a waiter's line has "->" after "1:".
  for (const auto& line : split_lines(*locks)) {
    auto w = split_ws(line);
    if (w.size() < 6 || w[1] != "FLOCK") continue;
    auto dev = split(w[5], ':');
    if (dev.size() != 3) continue;
    try {
      if (std::stoull(dev[2]) != st.st_ino) continue;
      const int pid = std::stoi(w[4]);
      const bool same_dev = std::stoul(dev[0], nullptr, 16) == major(st.st_dev) && std::stoul(dev[1], nullptr, 16) == minor(st.st_dev);
      // btrfs shows /proc/locks the superblock's device, and stat a subvolume's anonymous one: the
      // inode matches, the device not; the holder's open files say whether it is this file.
      if (same_dev || has_open(proc_root, pid, st)) pids.push_back(pid);
    } catch (const std::exception&) {
    }
  }
  return pids;
}

std::optional<int> flock_holder_of(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const int pid = flock_holder(fd);
  ::close(fd);
  if (pid == 0) return std::nullopt;
  return pid;
}

int flock_holder(int fd, const std::string& proc_root) {
  const auto pids = flock_holders(fd, proc_root);
  return pids.empty() ? 0 : pids.front();
}

}  // namespace wgopt

#include "actuators/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"

namespace wgopt::act {

std::string state_dir() {
  const char* env = std::getenv("WGOPT_STATE_DIR");
  if (env && *env) return env;
  return "/var/lib/wgopt";
}

void ensure_dir(const std::string& dir) {
  if (dir.empty()) throw UsageError("state dir is empty: set WGOPT_STATE_DIR to a directory or unset it");
  // Each prefix ending before a '/' (and the whole path), parents first.
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos < dir.size() && dir[pos] != '/') continue;
    const std::string partial = dir.substr(0, pos);
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      throw Error(fmt::format("cannot create state dir {}: {} (set WGOPT_STATE_DIR to a writable directory)",
                              partial, std::strerror(errno)));
    }
  }
}

std::optional<int> lock_holder(const std::string& dir) {
  struct stat st {};
  if (::stat((dir + "/lock").c_str(), &st) != 0) return std::nullopt;
  // "1: FLOCK  ADVISORY  WRITE 1234 00:1f:5678 0 EOF" (a blocked waiter's line has "->" after the number)
  const std::string key =
      fmt::format("{:02x}:{:02x}:{}", ::major(st.st_dev), ::minor(st.st_dev), static_cast<unsigned long>(st.st_ino));
  for (const auto& line : split_lines(read_file("/proc/locks").value_or(""))) {
    auto f = split_ws(line);
    if (f.size() < 6 || f[1] != "FLOCK" || f[3] != "WRITE" || f[5] != key) continue;
    try {
      return std::stoi(f[4]);
    } catch (...) {
      return 0;
    }
  }
  return std::nullopt;
}

HostLock HostLock::acquire(const std::string& dir) {
  ensure_dir(dir);
  const std::string path = dir + "/lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(fmt::format("cannot open lock file {}: {}", path, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    std::string holder = "unknown pid";
    if (auto content = pread_all(fd); content && !trim(*content).empty()) holder = "pid " + trim(*content);
    ::close(fd);
    if (e == EWOULDBLOCK) {
      throw Error(fmt::format("another wgopt ({}) is changing this host: wait for it to finish or stop it "
                              "(lock {})", holder, path));
    }
    throw Error(fmt::format("cannot lock {}: {}", path, std::strerror(e)));
  }
  // Our pid for the next one who finds the lock taken; the content is informational only.
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    int e = errno;
    ::close(fd);
    throw Error(fmt::format("cannot write lock file {}: {}", path, std::strerror(e)));
  }
  return HostLock(fd, path);
}

HostLock::HostLock(HostLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

HostLock& HostLock::operator=(HostLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

HostLock::~HostLock() {
  if (fd_ >= 0) {
    // Empty the pid first so a reader never names a process that no longer holds the lock.
    if (::ftruncate(fd_, 0) != 0) { /* informational content only */ }
    ::close(fd_);
  }
}

}  // namespace wgopt::act

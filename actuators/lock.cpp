#include "actuators/lock.hpp"

#include <fcntl.h>
#include <functional>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
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

std::string run_dir() {
  const char* env = std::getenv("WGOPT_RUN_DIR");
  if (env && *env) return env;
  return "/run/wgopt";
}

namespace {

// mkdir -p `dir` (mode 0700); `what` and `env` name it in errors ("state dir", "WGOPT_STATE_DIR").
void make_dirs(const std::string& dir, const char* what, const char* env) {
  if (dir.empty()) throw UsageError(fmt::format("{} is empty: set {} to a directory or unset it", what, env));
  // Each prefix ending before a '/' (and the whole path), parents first.
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos < dir.size() && dir[pos] != '/') continue;
    const std::string partial = dir.substr(0, pos);
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      throw Error(fmt::format("cannot create {} {}: {} (set {} to a writable directory)", what, partial,
                              std::strerror(errno), env));
    }
  }
}

}  // namespace

void ensure_dir(const std::string& dir) { make_dirs(dir, "state dir", "WGOPT_STATE_DIR"); }

std::optional<int> lock_holder(const std::string& dir) { return flock_holder_of(dir + "/host.lock"); }

namespace {

// Takes an exclusive flock on `fd` without waiting; `held_by` words the refusal for a holder's pid.
void lock_or_throw(int fd, const std::string& path, const std::function<std::string(int)>& held_by) {
  // When the holder lets go between our try and our look at /proc/locks, try again: the lock is
  // then free or someone else holds it. Only holders that come and go within microseconds, over
  // and over, can keep that up for long (the churn test does).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < give_up) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return;
    const int e = errno;
    if (e != EWOULDBLOCK) {
      ::close(fd);
      throw Error(fmt::format("cannot lock {}: {}", path, std::strerror(e)));
    }
    if (int holder = flock_holder(fd); holder > 0) {
      ::close(fd);
      throw Error(held_by(holder));
    }
  }
  ::close(fd);
  throw Error(fmt::format("another wgopt is changing this host (the lock changed hands too fast to name the holder "
                          "for 1 s): wait for it to finish (lock {})", path));
}

}  // namespace

HostLock HostLock::acquire(const std::string& dir) {
  make_dirs(dir, "run dir", "WGOPT_RUN_DIR");
  const std::string path = dir + "/host.lock";
  // Read-only is enough for flock: an existing lock file needs no write access at all.
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw Error(fmt::format("cannot open lock file {}: {} (set WGOPT_RUN_DIR to a writable directory)", path,
                            std::strerror(errno)));
  }
  lock_or_throw(fd, path, [&](int holder) {
    return fmt::format("another wgopt (pid {}) is changing this host: wait for it to finish or stop it (lock {})", holder, path);
  });
  return HostLock(fd, path);
}

HostLock HostLock::acquire_state_dir(const std::string& dir) {
  // The directory itself: no file to create, so a read-only state dir (rollback must work there)
  // is locked too; one that does not exist yet holds no journal to protect.
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && ::mkdir(dir.c_str(), 0700) == 0) fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return HostLock(-1, "");  // the journal's own reads and writes name the problem
  lock_or_throw(fd, dir, [&](int holder) {
    return fmt::format("another wgopt (pid {}) is using the journal in {} under another WGOPT_RUN_DIR: wait for it to "
                       "finish or stop it", holder, one_line(dir, 200));
  });
  return HostLock(fd, dir);
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
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace wgopt::act

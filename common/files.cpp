#include "common/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <functional>
#include <thread>

#include "common/error.hpp"

namespace wgopt {

namespace {
std::string errno_text(int e) { return std::strerror(e); }

// What a user sees for a value in an error message: short, no raw newlines.
std::string shown(const std::string& value) {
  std::string v = value;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  std::replace(v.begin(), v.end(), '\n', ' ');
  if (v.size() > 80) v = v.substr(0, 77) + "...";
  return v;
}
}  // namespace

std::optional<std::string> pread_all(int fd) {
  std::string out;
  char buf[65536];
  off_t off = 0;
  bool seekable = true;
  for (;;) {
    ssize_t n = seekable ? ::pread(fd, buf, sizeof buf, off) : ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == ESPIPE && seekable && off == 0) {  // a pipe or FIFO (`<(cmd)`, /dev/stdin): read it in order
      seekable = false;
      continue;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

std::optional<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  auto content = pread_all(fd);
  ::close(fd);
  return content;
}

RootedFiles::RootedFiles(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  if (root_.empty()) root_ = "/";
}

std::string RootedFiles::resolve(const std::string& path) const {
  if (path.find("/../") != std::string::npos || path.ends_with("/..")) {
    throw Error(fmt::format("path '{}' contains '..': refusing to resolve it", path));
  }
  if (root_ == "/") return path;
  return path.starts_with('/') ? root_ + path : root_ + "/" + path;
}

std::optional<std::string> RootedFiles::read(const std::string& path) { return read_file(resolve(path)); }

void RootedFiles::write(const std::string& path, const std::string& value) {
  const std::string full = resolve(path);
  // No O_CREAT: a kernel file that does not exist is an error, never a new file.
  int fd = ::open(full.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    throw Error(fmt::format("cannot write '{}' to {}: {}", shown(value), path, errno_text(errno)));
  }
  size_t done = 0;
  while (done < value.size()) {
    ssize_t n = ::write(fd, value.data() + done, value.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      throw Error(fmt::format("cannot write '{}' to {}: {}", shown(value), path, errno_text(e)));
    }
    done += static_cast<size_t>(n);
  }
  // Some /proc handlers report EINVAL only when the file is flushed at close.
  if (::close(fd) != 0) {
    throw Error(fmt::format("cannot write '{}' to {}: {} (reported at close)", shown(value), path,
                            errno_text(errno)));
  }
}

bool RootedFiles::exists(const std::string& path) {
  struct stat st{};
  return ::stat(resolve(path).c_str(), &st) == 0;
}

bool RootedFiles::writable(const std::string& path) { return ::access(resolve(path).c_str(), W_OK) == 0; }

std::vector<std::string> RootedFiles::list(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(resolve(dir).c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string RootedFiles::describe() const { return root_ == "/" ? "host" : "fake root " + root_; }

NetnsFiles::NetnsFiles(Place place, std::shared_ptr<CommandRunner> runner)
    : place_(std::move(place)), runner_(std::move(runner)) {}

std::optional<std::string> NetnsFiles::read(const std::string& path) {
  Command c{.argv = place_.wrap({"cat", "--", path}), .timeout = std::chrono::seconds(10)};
  auto r = runner_->run(c);
  if (!r.ok()) return std::nullopt;
  return r.out;
}

void NetnsFiles::write(const std::string& path, const std::string& value) {
  if (!exists(path)) {
    throw Error(fmt::format("cannot write '{}' to {} in {}: No such file or directory", shown(value), path,
                            place_.describe()));
  }
  // tee reports write and close errors with the errno text on stderr.
  Command c{.argv = place_.wrap({"tee", "--", path}), .stdin_data = value, .timeout = std::chrono::seconds(10)};
  auto r = runner_->run(c);
  if (!r.ok()) {
    std::string why = r.err;
    auto colon = why.rfind(": ");
    why = colon == std::string::npos ? r.brief() : why.substr(colon + 2);
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    throw Error(fmt::format("cannot write '{}' to {} in {}: {}", shown(value), path, place_.describe(), why));
  }
}

bool NetnsFiles::exists(const std::string& path) {
  Command c{.argv = place_.wrap({"test", "-e", path}), .timeout = std::chrono::seconds(10)};
  return runner_->run(c).ok();
}

bool NetnsFiles::writable(const std::string& path) {
  Command c{.argv = place_.wrap({"test", "-w", path}), .timeout = std::chrono::seconds(10)};
  return runner_->run(c).ok();
}

std::vector<std::string> NetnsFiles::list(const std::string& dir) {
  Command c{.argv = place_.wrap({"ls", "-1A", "--", dir}), .timeout = std::chrono::seconds(10)};
  auto r = runner_->run(c);
  std::vector<std::string> out;
  if (!r.ok()) return out;
  size_t pos = 0;
  while (pos < r.out.size()) {
    size_t nl = r.out.find('\n', pos);
    if (nl == std::string::npos) nl = r.out.size();
    if (nl > pos) out.push_back(r.out.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string NetnsFiles::describe() const { return place_.describe(); }

std::shared_ptr<Files> files_for(const Place& place, std::shared_ptr<CommandRunner> runner) {
  if (place.is_host()) return std::make_shared<RootedFiles>("/");
  return std::make_shared<NetnsFiles>(place, std::move(runner));
}

namespace {

// Runs fn() on a fresh thread that has entered network namespace `netns`, so the rest of the process
// never changes namespace; a descriptor fn() opens stays bound to that namespace. Throws Error naming
// the namespace when it cannot be entered, or fn's error text.
int in_netns_thread(const std::string& netns, const std::function<int(std::string& error)>& fn) {
  if (!is_valid_netns_name(netns)) throw UsageError(fmt::format("network namespace name '{}' is not valid", netns));
  int result_fd = -1;
  std::string error;
  std::thread t([&] {
    const std::string ns_path = "/run/netns/" + netns;
    int nsfd = ::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
      error = fmt::format("cannot open network namespace {}: {} (does `ip netns list` show it?)", netns,
                          errno_text(errno));
      return;
    }
    if (::setns(nsfd, CLONE_NEWNET) != 0) {
      error = fmt::format("cannot enter network namespace {}: {}", netns, errno_text(errno));
      ::close(nsfd);
      return;
    }
    ::close(nsfd);
    result_fd = fn(error);
  });
  t.join();
  if (result_fd < 0) throw Error(error);
  return result_fd;
}

}  // namespace

namespace {

// `content` in full in PATH.wgopt-tmp, chmod `mode`, fsync, closed. Returns its name; on failure
// it is removed and Error says "cannot write PATH: errno text".
std::string write_temporary(const std::string& path, const std::string& content, int mode) {
  const std::string tmp = path + ".wgopt-tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(fmt::format("cannot write {}: {}", path, errno_text(errno)));
  auto fail = [&](int e) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error(fmt::format("cannot write {}: {}", path, errno_text(e)));
  };
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(n < 0 ? errno : EIO);
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0 || ::fsync(fd) != 0) fail(errno);
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw Error(fmt::format("cannot write {}: {}", path, errno_text(e)));
  }
  return tmp;
}

void rename_into_place(const std::string& tmp, const std::string& path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw Error(fmt::format("cannot write {}: {}", path, errno_text(e)));
  }
}

// Creates `dir` and its missing parents; appends the ones it created to `created`, outermost first.
void create_directories_noting(const std::filesystem::path& dir, std::vector<std::filesystem::path>& created) {
  std::vector<std::filesystem::path> missing;
  for (auto d = dir; !d.empty(); d = d.parent_path()) {
    std::error_code ec;
    if (std::filesystem::exists(d, ec)) break;
    if (ec) throw Error(fmt::format("cannot create {}: {}", d.string(), ec.message()));  // EACCES, ELOOP ...
    missing.push_back(d);
    if (d == d.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    std::error_code ec;
    std::filesystem::create_directory(*it, ec);
    if (ec) throw Error(fmt::format("cannot create {}: {}", it->string(), ec.message()));
    created.push_back(*it);
  }
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& content, int mode) {
  rename_into_place(write_temporary(path, content, mode), path);
}

void write_files_all_or_nothing(const std::vector<FileToWrite>& files) {
  std::vector<std::filesystem::path> created;
  std::vector<std::string> temporaries;
  try {
    for (const auto& f : files) {
      create_directories_noting(std::filesystem::path(f.path).parent_path(), created);
      temporaries.push_back(write_temporary(f.path, f.content, f.mode));
    }
  } catch (...) {
    for (const auto& t : temporaries) ::unlink(t.c_str());
    for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
    throw;
  }
  // Each file a rename replaces is kept (a hard link beside it) until every rename succeeded: a rename
  // that fails after others (the target is a directory, say) puts the earlier ones back as they were.
  std::vector<std::string> kept(files.size());
  auto undo = [&](size_t renamed) {
    for (size_t j = renamed; j < temporaries.size(); ++j) ::unlink(temporaries[j].c_str());
    for (size_t j = 0; j < renamed; ++j) {
      if (kept[j].empty()) ::unlink(files[j].path.c_str());
      else ::rename(kept[j].c_str(), files[j].path.c_str());
    }
    for (size_t j = renamed; j < kept.size(); ++j) {
      if (!kept[j].empty()) ::unlink(kept[j].c_str());
    }
    for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
  };
  for (size_t i = 0; i < files.size(); ++i) {
    struct stat st {};
    if (::lstat(files[i].path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      const std::string old = files[i].path + ".wgopt-old";
      ::unlink(old.c_str());
      if (::link(files[i].path.c_str(), old.c_str()) == 0) kept[i] = old;
    }
    try {
      rename_into_place(temporaries[i], files[i].path);
    } catch (...) {
      undo(i);
      throw;
    }
  }
  for (const auto& k : kept) {
    if (!k.empty()) ::unlink(k.c_str());
  }
}

int open_in_netns(const std::string& netns, const std::string& path) {
  if (netns.empty()) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(fmt::format("cannot open {}: {}", path, errno_text(errno)));
    return fd;
  }
  return in_netns_thread(netns, [&](std::string& error) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) error = fmt::format("cannot open {} in netns {}: {}", path, netns, errno_text(errno));
    return fd;
  });
}

int socket_in_netns(const std::string& netns, int domain, int type) {
  auto make = [&](std::string& error) {
    int fd = ::socket(domain, type | SOCK_CLOEXEC, 0);
    if (fd < 0) error = fmt::format("cannot create a socket{}: {}", netns.empty() ? "" : " in netns " + netns, errno_text(errno));
    return fd;
  };
  if (netns.empty()) {
    std::string error;
    int fd = make(error);
    if (fd < 0) throw Error(error);
    return fd;
  }
  return in_netns_thread(netns, make);
}

}  // namespace wgopt

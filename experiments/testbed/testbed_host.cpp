#include "experiments/testbed/testbed_host.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <thread>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"

namespace wgopt::testbed_host {

namespace {
std::string errno_str(int e) { return std::strerror(e); }

ino_t inode_of(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}
}  // namespace

ino_t netns_inode(const std::string& name) { return inode_of("/run/netns/" + name); }

std::string ProcInfo::program() const {
  if (argv.empty()) return {};
  auto slash = argv[0].rfind('/');
  return slash == std::string::npos ? argv[0] : argv[0].substr(slash + 1);
}

std::vector<ProcInfo> list_processes() {
  std::vector<ProcInfo> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    auto cmdline = read_file(fmt::format("/proc/{}/cmdline", pid));
    if (!cmdline || cmdline->empty()) continue;  // kernel thread, or gone meanwhile
    ProcInfo p;
    p.pid = static_cast<int>(pid);
    p.argv = split(*cmdline, '\0');
    if (!p.argv.empty() && p.argv.back().empty()) p.argv.pop_back();
    p.netns = inode_of(fmt::format("/proc/{}/ns/net", pid));
    out.push_back(std::move(p));
  }
  ::closedir(d);
  return out;
}

std::vector<ProcInfo> wireguard_go_for(const std::string& ifname) {
  std::vector<ProcInfo> out;
  for (auto& p : list_processes()) {
    if (p.program() == "wireguard-go" && p.argv.size() >= 2 && p.argv.back() == ifname) out.push_back(p);
  }
  return out;
}

bool process_alive(int pid) {
  if (pid <= 0) return false;
  // A zombie still answers kill(0); its cmdline is empty, which is what "gone" means to us.
  auto cmdline = read_file(fmt::format("/proc/{}/cmdline", pid));
  return cmdline && !cmdline->empty();
}

bool stop_process(int pid, std::chrono::milliseconds grace) {
  using namespace std::chrono;
  auto wait_gone = [pid](milliseconds limit) {
    const auto deadline = steady_clock::now() + limit;
    while (steady_clock::now() < deadline) {
      if (!process_alive(pid)) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return !process_alive(pid);
  };
  if (!process_alive(pid)) return true;
  // SIGTERM first: wireguard-go removes its UAPI socket and iperf3 its pid file on a clean exit.
  ::kill(pid, SIGTERM);
  if (wait_gone(grace)) return true;
  ::kill(pid, SIGKILL);
  return wait_gone(milliseconds(1000));
}

void write_secret_file(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(fmt::format("cannot create key file {}: {}", path, errno_str(errno)));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(path.c_str());
      throw Error(fmt::format("cannot write key file {}: {}", path, errno_str(e)));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(path.c_str());
    throw Error(fmt::format("cannot write key file {}: {}", path, errno_str(e)));
  }
}

FileRemover::~FileRemover() { ::unlink(path_.c_str()); }

void save_json(const std::string& path, const nlohmann::json& j) { write_file_atomic(path, j.dump(2) + "\n", 0600); }

std::optional<nlohmann::json> load_json(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  try {
    return nlohmann::json::parse(*text);
  } catch (const std::exception&) {
    throw Error(fmt::format("state file {} is not valid JSON: remove it and any leftovers by hand "
                            "(ip netns del ...), then run `wgopt testbed up` again",
                            path));
  }
}

DirLock::DirLock(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    throw Error(fmt::format("cannot create {}: {}", dir, errno_str(errno)));
  }
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) throw Error(fmt::format("cannot open {}: {}", dir, errno_str(errno)));
  if (::flock(fd_, LOCK_EX) != 0) {
    int e = errno;
    ::close(fd_);
    throw Error(fmt::format("cannot lock {}: {}", dir, errno_str(e)));
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace wgopt::testbed_host

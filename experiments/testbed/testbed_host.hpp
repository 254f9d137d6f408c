#pragma once
// Local-host facts the testbed needs without spawning a process: namespace identities (nsfs
// inode numbers), the processes living in a namespace, stopping a daemon by pid, secret files for
// keys, the state file and the directory lock. Internal to experiments/testbed*.cpp.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace wgopt::testbed_host {

// nsfs inode of /run/netns/NAME; 0 when there is no such namespace.
ino_t netns_inode(const std::string& name);

struct ProcInfo {
  int pid = 0;
  std::vector<std::string> argv;  // from /proc/PID/cmdline
  ino_t netns = 0;                // inode of /proc/PID/ns/net
  std::string program() const;    // basename of argv[0]
};

// Every process we can see, with its argv and network namespace. Kernel threads (empty
// cmdline) are skipped.
std::vector<ProcInfo> list_processes();

// wireguard-go processes serving interface `ifname` (argv ends with it), in any namespace.
std::vector<ProcInfo> wireguard_go_for(const std::string& ifname);

bool process_alive(int pid);

// SIGTERM, wait up to `grace`, then SIGKILL and wait up to one more second. Returns true when the
// process is gone. Only called for pids of processes in a namespace we own.
bool stop_process(int pid, std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

// Creates `path` with mode 0600 (failing if it exists) and writes `content`. Throws Error.
void write_secret_file(const std::string& path, const std::string& content);

// Removes a file when it goes out of scope (key files must not outlive the `wg set` that reads them).
class FileRemover {
 public:
  explicit FileRemover(std::string path) : path_(std::move(path)) {}
  ~FileRemover();
  FileRemover(const FileRemover&) = delete;
  FileRemover& operator=(const FileRemover&) = delete;

 private:
  std::string path_;
};

// Writes `j` to `path` atomically (temp file, fsync, rename). Throws Error.
void save_json(const std::string& path, const nlohmann::json& j);
// nullopt when the file does not exist; throws Error when it exists but is not JSON.
std::optional<nlohmann::json> load_json(const std::string& path);

// An exclusive flock on directory `dir` (created 0755 if missing), so two `wgopt testbed`
// invocations never build or tear down at the same time. Released on destruction.
class DirLock {
 public:
  explicit DirLock(const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace wgopt::testbed_host

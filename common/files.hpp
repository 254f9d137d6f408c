#pragma once
// Reading and writing the kernel's files (/proc/sys, /sys/class/net, /proc/irq) in a Place.
// Injectable: tests run the same code on a fake tree (RootedFiles with a temporary root), the host
// uses RootedFiles("/"), and a network namespace uses NetnsFiles, which reaches the namespace's own
// /proc/sys/net and /sys/class/net the way `ip netns exec` does.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/exec.hpp"
#include "common/place.hpp"

namespace wgopt {

class Files {
 public:
  virtual ~Files() = default;
  // The file's content, or nullopt if it does not exist / cannot be read.
  virtual std::optional<std::string> read(const std::string& path) = 0;
  // Writes `value` (exactly those bytes). Throws wgopt::Error naming the path, the value and the
  // errno text, including an error the kernel reports only when the file is closed.
  virtual void write(const std::string& path, const std::string& value) = 0;
  virtual bool exists(const std::string& path) = 0;
  // True when this process may write `path` (access(2) W_OK, asked the way the write will happen:
  // in the namespace, through the same layers). Root is refused too where the kernel marks a file
  // read-only, such as net.core.{r,w}mem_{max,default} (0444) in a child network namespace. No
  // default: a wrapper that forgot it would call every existing file writable.
  virtual bool writable(const std::string& path) = 0;
  // Entry names in `dir`, sorted; empty if it does not exist.
  virtual std::vector<std::string> list(const std::string& dir) = 0;
  // Where these files are, for messages ("host", "netns wgopt-cli", "fake root /tmp/x").
  virtual std::string describe() const = 0;
};

// Files under `root` ("/" for the real host). Absolute paths are resolved below root.
class RootedFiles : public Files {
 public:
  explicit RootedFiles(std::string root = "/");
  std::optional<std::string> read(const std::string& path) override;
  void write(const std::string& path, const std::string& value) override;
  bool exists(const std::string& path) override;
  bool writable(const std::string& path) override;
  std::vector<std::string> list(const std::string& dir) override;
  std::string describe() const override;
  const std::string& root() const { return root_; }
  std::string resolve(const std::string& path) const;

 private:
  std::string root_;
};

// Files as seen from inside a network namespace (its own /proc/sys/net and sysfs), through
// `ip netns exec NAME cat|tee|ls|test`.
class NetnsFiles : public Files {
 public:
  NetnsFiles(Place place, std::shared_ptr<CommandRunner> runner);
  std::optional<std::string> read(const std::string& path) override;
  void write(const std::string& path, const std::string& value) override;
  bool exists(const std::string& path) override;
  bool writable(const std::string& path) override;
  std::vector<std::string> list(const std::string& dir) override;
  std::string describe() const override;

 private:
  Place place_;
  std::shared_ptr<CommandRunner> runner_;
};

// The Files for a Place: RootedFiles("/") on the host, NetnsFiles in a namespace.
std::shared_ptr<Files> files_for(const Place& place, std::shared_ptr<CommandRunner> runner = default_runner());

// Opens `path` read-only from a thread that has entered network namespace `netns` (empty: the
// host), and returns the descriptor. Used by the sampler to read a namespace's /proc/net files
// every second without spawning a process: a /proc/net file is bound to the namespace at open.
// Pass paths as /proc/thread-self/net/... (the /proc/net symlink follows the main thread).
// Throws wgopt::Error if the namespace or file cannot be opened.
int open_in_netns(const std::string& netns, const std::string& path);

// A socket(domain, type) created inside network namespace `netns` (empty: this one), CLOEXEC;
// connect() on it reaches that namespace's addresses. The caller closes it. Throws Error.
int socket_in_netns(const std::string& netns, int domain, int type);

// Reads a whole file from an open descriptor from offset 0 (re-generates /proc seq files).
std::optional<std::string> pread_all(int fd);

// Writes `content` to `path` so no reader ever sees half of it: a temporary file beside it, written
// in full, chmod `mode`, fsync, rename over `path`. On failure the temporary is removed, `path` is as
// it was, and Error says "cannot write PATH: errno text".
void write_file_atomic(const std::string& path, const std::string& content, int mode = 0644);

struct FileToWrite {
  std::string path, content;
  int mode = 0644;
};

// Writes a set of files all or none (an export's tree, a retune's boot files): every file to its
// temporary beside it first (missing parent directories created), and only when all are written in
// full are they renamed into place. On a failure the temporaries and the directories this call
// created are removed and Error names the file: nothing of the set is left, and files it would have
// replaced are as they were, also when a rename fails after others succeeded (the ones done are put
// back: a file replaced from the hard link kept beside it, `P.wgopt-old`, a new one removed).
void write_files_all_or_nothing(const std::vector<FileToWrite>& files);

// Reads a local file; nullopt if it cannot be read.
std::optional<std::string> read_file(const std::string& path);

}  // namespace wgopt

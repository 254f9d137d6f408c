#pragma once
// A fake host for the knob tests: a /proc and /sys tree copied to a temporary directory from
// tests/fixtures/actuators/tree (see its README.md for where each file came from), Files that
// write the way the kernel does (masks re-printed at the machine's width, rps_flow_cnt rounded,
// triples tab-separated, too-wide masks refused with EOVERFLOW's text), and a CommandRunner that
// emulates ethtool / tc / ip / systemctl / zcat / modprobe / tuned-adm on that state, answering with
// the captured output.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actuators/knob.hpp"
#include "actuators/restore.hpp"
#include "common/exec.hpp"
#include "common/files.hpp"

namespace wgopt::test {

// Every regular file below `root`, relative path -> bytes.
std::map<std::string, std::string> snapshot_tree(const std::filesystem::path& root);

class KernelLikeFiles : public Files {
 public:
  KernelLikeFiles(std::string root, int nproc);
  std::optional<std::string> read(const std::string& path) override { return inner_.read(path); }
  void write(const std::string& path, const std::string& value) override;
  bool exists(const std::string& path) override { return inner_.exists(path); }
  // Root passes access(W_OK) on any file, so the kernel's read-only sysctls are listed here.
  bool writable(const std::string& path) override { return !read_only.count(path) && inner_.writable(path); }
  std::vector<std::string> list(const std::string& dir) override { return inner_.list(dir); }
  std::string describe() const override { return inner_.describe(); }
  int writes = 0;  // successful and refused writes alike
  std::set<std::string> read_only;
  std::optional<std::string> fail_next_write;  // the next write fails with this reason (then writes work again)

 private:
  RootedFiles inner_;
  int nproc_;
};

struct FakeDevice {
  std::map<std::string, std::string> out;  // "-l", "-g", "-k", "-i", "-x", "-n": ethtool's stdout
  std::map<std::string, std::string> err;  // the same flags when the driver refuses them
  std::string qdisc_kind, qdisc_handle, qdisc_default_line, qdisc_default_kind;
  int next_handle = 0x8001;
  // What a channel change does to the queue IRQs (*written*, for enp1s0, whose channel K has IRQ
  // irq_base + K named mlx5_compK@pci:BUS): Fixed, nothing (virtio requests IRQs for its maximum
  // queues at probe; the default, so a knob alone restores every byte); Follow, an increase requests
  // the new ones at the default mask (every CPU) and a decrease frees them; Keep, an increase
  // requests them and a decrease keeps them (mlx5 >= 6.5's completion IRQs); Recreate, every IRQ
  // is requested again at the default mask (ixgbe, ena), and the ones beyond the count freed.
  enum class Irqs { Fixed, Follow, Keep, Recreate } irqs = Irqs::Fixed;
  int irq_base = 0;
};

class FakeTools : public CommandRunner {
 public:
  FakeTools(std::string root, int nproc);
  CommandResult run(const Command& cmd) override;
  // Every device's tool state, rendered; equal before and after a restore.
  std::string state() const;
  std::vector<std::string> unexpected;  // commands the fake does not know
  std::vector<std::vector<std::string>> log;
  std::string irqbalance = "active";
  bool systemd = true;                     // false: systemctl answers as on a host without systemd
  std::optional<std::string> tuned_adm;    // stdout of `tuned-adm active`; nullopt: tuned-adm is not installed
  std::map<std::string, FakeDevice> devices;

 private:
  CommandResult ethtool(const std::vector<std::string>& a);
  CommandResult tc(const std::vector<std::string>& a);
  CommandResult ip(const std::vector<std::string>& a);
  void set_queues(const std::string& dev, int n);
  void set_irqs(const std::string& dev, int n);
  CommandResult modprobe(const std::vector<std::string>& a);
  std::string root_;
  int nproc_;
};

struct FakeHost {
  std::filesystem::path root;
  std::shared_ptr<KernelLikeFiles> files;
  std::shared_ptr<FakeTools> tools;
  act::Host host;
  explicit FakeHost(int nproc = 2);
  ~FakeHost();
  // Copies tests/fixtures/actuators/<dir> over the tree (extra /proc/PID, /etc files of a case).
  void overlay(const std::string& dir);
};

// A ChangeSession (lock, journal) in a fresh state directory, removed at the end, whose lookup
// finds knobs again by id on the fake host, as `wgopt rollback` does on a real one. With
// `journal_from`, that journal is copied in first, so opening the session is crash recovery of it.
struct FakeSession {
  explicit FakeSession(FakeHost& fake, const std::string& journal_from = "");
  ~FakeSession();
  act::ChangeSession& operator*() { return *session; }
  act::ChangeSession* operator->() { return session.get(); }
  std::filesystem::path dir;
  std::unique_ptr<act::ChangeSession> session;
};

}  // namespace wgopt::test

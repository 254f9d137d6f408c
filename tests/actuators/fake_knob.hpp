#pragma once
// Test doubles for the actuators core: a tiny knob over a fake /proc/sys tree (RootedFiles on a
// temporary dir) and a scratch state dir. The fake kernel file holds "VALUE\n" like the real one.
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actuators/knob.hpp"
#include "actuators/restore.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"

namespace wgopt::act::testing {

// A scratch dir that is removed with the test; holds the fake root and the state dir.
struct Scratch {
  std::filesystem::path dir;
  Scratch() {
    char tmpl[] = "/tmp/wgopt-actcore-XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir / "root/proc/sys/kernel/random");
    std::filesystem::create_directories(dir / "root/proc/sys/net/core");
    put("/proc/sys/kernel/random/boot_id", "11111111-2222-3333-4444-555555555555\n");
  }
  ~Scratch() { std::filesystem::remove_all(dir); }
  std::string root() const { return (dir / "root").string(); }
  std::string proc_root() const { return (dir / "root/proc").string(); }
  std::string state() const { return (dir / "state").string(); }
  std::string run() const { return (dir / "run").string(); }  // the host lock's dir
  act::SessionOptions session() const { return {.run_dir = run(), .proc_root = proc_root()}; }
  void put(const std::string& path, const std::string& content) const {
    std::ofstream(dir / ("root" + path)) << content;
  }
  std::string get(const std::string& path) const {
    auto c = read_file((dir / ("root" + path)).string());
    return c ? *c : std::string("<missing>");
  }
};

// Records writes in order, and may refuse values the way the kernel would (EINVAL).
struct WriteLog {
  std::vector<std::string> writes;  // "id=value"
};

class FakeKnob : public Knob {
 public:
  FakeKnob(std::shared_ptr<Files> files, std::string id, std::string path, int order,
           std::shared_ptr<WriteLog> log, ValueType type = ValueType::Int)
      : files_(std::move(files)), path_(std::move(path)), log_(std::move(log)) {
    d_.id = std::move(id);
    d_.kind = "fake";
    d_.order = order;
    d_.type = type;
    d_.domain.min = 0;
    d_.domain.max = 100000;
    d_.domain.mask_bits = 2;
  }
  const Descriptor& descriptor() const override { return d_; }
  Presence presence() override {
    if (!files_->exists(path_)) return {false, false, "no such file"};
    return {true, writable_, writable_ ? "" : "read-only in a child namespace"};
  }
  std::string read() override {
    auto v = files_->read(path_);
    if (!v) throw Error("cannot read " + path_);
    return trim(*v);
  }
  std::string validate(const std::string& value) const override {
    if (d_.type == ValueType::Mask) return trim(value);  // width is the transaction's check here
    const std::string v = trim(value);
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || std::stoll(v) > d_.domain.max) {
      throw UsageError(d_.id + ": '" + value + "' is not an integer in 0..100000");
    }
    return std::to_string(std::stoll(v));
  }
  void apply(const std::string& canonical) override {
    if (refuse_.count(canonical)) {
      throw Error("cannot write '" + canonical + "' to " + path_ + ": Invalid argument");
    }
    // A kernel that clamps or rounds silently: the write succeeds, the read-back differs.
    auto clamped = clamp_.find(canonical);
    files_->write(path_, (clamped == clamp_.end() ? canonical : clamped->second) + "\n");
    if (log_) log_->writes.push_back(d_.id + "=" + canonical);
  }

  Descriptor d_;
  bool writable_ = true;
  std::set<std::string> refuse_;
  std::map<std::string, std::string> clamp_;  // value asked -> value the "kernel" stores

 private:
  std::shared_ptr<Files> files_;
  std::string path_;
  std::shared_ptr<WriteLog> log_;
};

// A host over the scratch root with knobs net.fake.a (order 10), net.fake.b (50), net.fake.c (90)
// and a mask knob eth9/rps_cpus (30), each starting at a known value.
struct FakeHost {
  Scratch s;
  std::shared_ptr<WriteLog> log = std::make_shared<WriteLog>();
  std::shared_ptr<Files> files = std::make_shared<RootedFiles>(s.root());
  Host host{.place = Place::host(), .files = files, .runner = nullptr, .nproc = 2, .proc_root = s.proc_root()};
  std::vector<KnobPtr> knobs;

  FakeHost() {
    s.put("/proc/sys/net/core/fake_a", "100\n");
    s.put("/proc/sys/net/core/fake_b", "200\n");
    s.put("/proc/sys/net/core/fake_c", "300\n");
    s.put("/proc/sys/net/core/fake_m", "1\n");
    knobs.push_back(make("net.fake.c", "/proc/sys/net/core/fake_c", 90));
    knobs.push_back(make("net.fake.a", "/proc/sys/net/core/fake_a", 10));
    knobs.push_back(make("eth9/rps_cpus", "/proc/sys/net/core/fake_m", 30, ValueType::Mask));
    knobs.push_back(make("net.fake.b", "/proc/sys/net/core/fake_b", 50));
  }
  KnobPtr make(const std::string& id, const std::string& path, int order, ValueType t = ValueType::Int) {
    return std::make_unique<FakeKnob>(files, id, path, order, log, t);
  }
  FakeKnob& knob(const std::string& id) {
    for (auto& k : knobs) {
      if (k->id() == id) return static_cast<FakeKnob&>(*k);
    }
    throw Error("no fake knob " + id);
  }
  // What the CLI's lookup does: a fresh knob bound to the same files, nullptr if unknown.
  KnobLookup lookup() {
    return [this](const Place&, const std::string& id) -> KnobPtr {
      for (auto& k : knobs) {
        if (k->id() == id) {
          auto& f = static_cast<FakeKnob&>(*k);
          auto copy = std::make_unique<FakeKnob>(f);
          return copy;
        }
      }
      return nullptr;
    };
  }
  // The bytes of every fake kernel file, for byte-for-byte comparisons.
  std::map<std::string, std::string> snapshot() const {
    std::map<std::string, std::string> out;
    for (const char* f : {"fake_a", "fake_b", "fake_c", "fake_m"}) out[f] = s.get(std::string("/proc/sys/net/core/") + f);
    return out;
  }
};

}  // namespace wgopt::act::testing

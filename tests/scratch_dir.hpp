#pragma once
// A fresh directory under /tmp for one test, removed with everything in it when the test ends.
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace wgopt::test {

// Unique per instance (mkdtemp), so two runs of a test binary at once never share one.
struct ScratchDir {
  std::string path;
  std::filesystem::path dir;  // the same, as a path
  explicit ScratchDir(const std::string& prefix = "wgopt-test") {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl + " failed");
    path = tmpl;
    dir = path;
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string operator/(const std::string& name) const { return path + "/" + name; }
  std::string file(const std::string& name) const { return *this / name; }
};

}  // namespace wgopt::test

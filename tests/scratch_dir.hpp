#pragma once
// A fresh directory under /tmp for one test, removed with everything in it when the test ends.
#include <cstdlib>
#include <filesystem>
#include <string>

namespace wgopt::test {

struct ScratchDir {
  std::string path;
  explicit ScratchDir(const std::string& prefix = "wgopt-test") {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

}  // namespace wgopt::test

#pragma once
// Reads a probes fixture (tests/fixtures/probes/NAME); see that folder's README for provenance.
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

inline std::string probe_fixture(const std::string& name) {
  const std::string path = std::string(WGOPT_FIXTURES_DIR) + "/probes/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("missing fixture " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

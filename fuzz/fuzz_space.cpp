// SPACE.yaml (optimizer/space_yaml.cpp), `wgopt optimize --space FILE`, and what the optimizer does
// with the space it describes.
// Invariants beyond "no crash, no sanitizer report, only wgopt::Error":
//   - a space that parses validates (Space::validate() is empty), and so does its start config;
//   - every point of the unit cube decodes to a configuration that validates, and encoding it gives
//     coordinates in [0, 1] (the corners, the centre and points derived from the input's bytes).
#include <cmath>
#include <functional>

#include "fuzz/check.hpp"
#include "optimizer/space_yaml.hpp"

using namespace wgopt;

namespace {
constexpr const char* kTarget = "space";

void check_point(const opt::Space& space, const std::vector<double>& x) {
  const opt::Config c = space.decode(x);
  if (auto err = space.validate(c); !err.empty())
    fuzz::broken(kTarget, "decode gave an invalid config " + opt::to_string(c) + ": " + err);
  for (double u : space.encode(c)) {
    if (!(u >= 0 && u <= 1)) fuzz::broken(kTarget, "encode gave " + std::to_string(u) + " for " + opt::to_string(c));
  }
}

void check(const std::string& text) {
  const opt::SpaceSpec spec = opt::parse_space_yaml(text, "fuzz.yaml");
  const opt::Space& space = spec.space;
  if (auto err = space.validate(); !err.empty()) fuzz::broken(kTarget, "parsed space does not validate: " + err);
  if (spec.start) {
    if (auto err = space.validate(*spec.start); !err.empty()) fuzz::broken(kTarget, "start config does not validate: " + err);
  }
  const int dims = space.dims();
  if (dims <= 0 || dims > 100000) fuzz::broken(kTarget, "dims " + std::to_string(dims));
  check_point(space, std::vector<double>(static_cast<size_t>(dims), 0.0));
  check_point(space, std::vector<double>(static_cast<size_t>(dims), 1.0));
  check_point(space, std::vector<double>(static_cast<size_t>(dims), 0.5));
  // A few more points from the text's hash, deterministic for a given input.
  size_t h = std::hash<std::string>{}(text);
  for (int k = 0; k < 3; ++k) {
    std::vector<double> x(static_cast<size_t>(dims));
    for (auto& u : x) {
      h = h * 6364136223846793005ULL + 1442695040888963407ULL;
      u = double(h >> 11) / double(1ULL << 53);
    }
    check_point(space, x);
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::guarded(kTarget, [&] { check(fuzz::text_of(data, size)); });
}

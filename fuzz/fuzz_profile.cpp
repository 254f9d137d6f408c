// Profile YAML (actuators/profile.cpp), what `wgopt apply`, `retune` and `export` read.
// Invariants beyond "no crash, no sanitizer report, only wgopt::Error":
//   - every knob kept has a non-empty, single-line value of at most 512 bytes, and no id twice;
//   - dump_profile(p) parses back to the same knobs in the same order (`wgopt show > p.yaml`,
//     `wgopt apply p.yaml` round-trips), and dumping that again gives the same text.
#include <set>

#include "actuators/profile.hpp"
#include "fuzz/check.hpp"

using namespace wgopt;

namespace {
constexpr const char* kTarget = "profile";

void check(const std::string& text) {
  const act::Profile p = act::parse_profile(text, "fuzz.yaml");
  std::set<std::string> ids;
  for (const auto& [id, value] : p.knobs) {
    if (!ids.insert(id).second) fuzz::broken(kTarget, "knob id given twice was kept: " + fuzz::shown(id));
    if (value.empty() || value.size() > 512 || value.find('\n') != std::string::npos)
      fuzz::broken(kTarget, "knob " + fuzz::shown(id) + " kept a bad value: " + fuzz::shown(value));
  }
  const std::string dumped = act::dump_profile(p);
  act::Profile again;
  try {
    again = act::parse_profile(dumped, "dumped.yaml");
  } catch (const Error& e) {
    fuzz::broken(kTarget, std::string("dump_profile wrote text parse_profile refuses: ") + e.what() + "\n--- dumped:\n" + dumped);
  }
  if (again.knobs != p.knobs) fuzz::broken(kTarget, "knobs changed across dump and parse:\n--- dumped:\n" + dumped);
  const std::string twice = act::dump_profile(again);
  if (twice != dumped) fuzz::broken(kTarget, "dump is not stable:\n--- first:\n" + dumped + "--- second:\n" + twice);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::guarded(kTarget, [&] { check(fuzz::text_of(data, size)); });
}

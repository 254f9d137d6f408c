// What ethtool (and tc) print, as wgopt reads it: `ethtool -S` (probes/ethtool_stats.cpp), and
// -k, -l, -g, -n rx-flow-hash, -x, -i and `tc qdisc show` (actuators/ethtool_parse.cpp). Every
// parser sees every input: the real outputs share the "Key: value" shape, and the seeds hold all.
// Invariants beyond "no crash, no sanitizer report, only wgopt::Error":
//   - stats_delta of a snapshot with itself is all zeros; drop_counters keeps a subset;
//   - PresetCurrent::get gives a pair only for keys with both numbers and a maximum >= 1;
//   - the flow hash is a subsequence of ethtool's letters "mvtsdfn".
#include "actuators/ethtool_parse.hpp"
#include "fuzz/check.hpp"
#include "probes/ethtool_stats.hpp"

using namespace wgopt;

namespace {
constexpr const char* kTarget = "ethtool";

void check_stats(const std::string& text) {
  const auto stats = probes::parse_ethtool_stats(text, "fuzz ethtool -S");
  for (const auto& [k, v] : probes::stats_delta(stats, stats)) {
    if (v != 0) fuzz::broken(kTarget, "stats_delta(x, x) of " + fuzz::shown(k) + " is not 0");
  }
  for (const auto& [k, v] : probes::drop_counters(stats)) {
    auto it = stats.find(k);
    if (it == stats.end() || it->second != v) fuzz::broken(kTarget, "drop_counters invented " + fuzz::shown(k));
  }
}

void check_tools(const std::string& text) {
  const auto pc = act::parse_preset_current(text);
  for (const auto* section : {&pc.max, &pc.current}) {
    for (const auto& [key, v] : *section) {
      auto got = pc.get(key);
      if (got && (*got).first < 1) fuzz::broken(kTarget, "get(" + fuzz::shown(key) + ") with a maximum below 1");
    }
  }
  act::parse_features(text);
  const std::string hash = act::parse_flow_hash(text);
  size_t at = 0;
  for (char c : hash) {
    at = std::string_view("mvtsdfn").find(c, at);
    if (at == std::string_view::npos) fuzz::broken(kTarget, "flow hash '" + fuzz::shown(hash) + "' is not in mvtsdfn order");
    ++at;
  }
  act::parse_indirection(text);
  act::parse_driver_info(text);
  act::parse_root_qdisc(text);
  act::says_not_supported(text);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::text_of(data, size);
  fuzz::guarded(kTarget, [&] { check_stats(text); });
  fuzz::guarded(kTarget, [&] { check_tools(text); });
  return 0;
}

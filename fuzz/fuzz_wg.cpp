// WireGuard state as the tools print it (probes/wireguard.cpp): `wg show all dump` and the
// `ip -d -j link show dev IF` JSON whose linkinfo tells kernel from userspace WireGuard. Both
// parsers see every input (the corpus holds both kinds; each refuses the other's quickly).
// Invariants beyond "no crash, no sanitizer report, only wgopt::Error":
//   - every peer's allowed IPs are non-empty strings without a comma or tab; fields hold no tab;
//   - handshake_age is never negative.
#include "fuzz/check.hpp"
#include "probes/wireguard.hpp"

using namespace wgopt;

namespace {
constexpr const char* kTarget = "wg";

void check_dump(const std::string& text) {
  for (const auto& w : probes::parse_wg_dump(text, "fuzz dump")) {
    if (w.name.find('\t') != std::string::npos || w.public_key.find('\t') != std::string::npos)
      fuzz::broken(kTarget, "interface field holds a tab: " + fuzz::shown(w.name));
    for (const auto& p : w.peers) {
      for (const auto& a : p.allowed_ips) {
        if (a.empty() || a.find_first_of(",\t") != std::string::npos) fuzz::broken(kTarget, "allowed ip '" + fuzz::shown(a) + "'");
      }
      for (int64_t now : {int64_t(0), int64_t(1) << 40, INT64_MAX}) {
        if (auto age = p.handshake_age(now); age && *age < 0) fuzz::broken(kTarget, "negative handshake age");
      }
    }
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::text_of(data, size);
  fuzz::guarded(kTarget, [&] { check_dump(text); });
  fuzz::guarded(kTarget, [&] { probes::parse_link_kind(text); });
  return 0;
}

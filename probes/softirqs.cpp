#include "probes/softirqs.hpp"

#include <fmt/format.h>

#include "common/util.hpp"
#include "probes/parse_util.hpp"

namespace wgopt::probes {

Softirqs parse_softirqs(const std::string& text, const std::string& source) {
  Softirqs out;
  const auto lines = split_lines(text);
  size_t i = 0;
  out.cpus = detail::parse_cpu_header(lines, source, i);
  bool rx = false, tx = false;
  for (++i; i < lines.size(); ++i) {
    const auto t = split_ws(lines[i]);
    if (t.empty()) continue;
    if (t[0] != "NET_RX:" && t[0] != "NET_TX:") continue;
    if (t.size() != out.cpus.size() + 1)
      detail::malformed(source, i + 1, fmt::format("{} has {} counts for {} CPUs", t[0], t.size() - 1, out.cpus.size()));
    auto& dst = t[0] == "NET_RX:" ? out.net_rx : out.net_tx;
    bool& seen = t[0] == "NET_RX:" ? rx : tx;
    // A second row would append its counts to the first's: one per column no longer holds.
    if (seen) detail::malformed(source, i + 1, fmt::format("a second {} row", t[0]));
    seen = true;
    for (size_t k = 1; k < t.size(); ++k) {
      auto v = detail::parse_u64(t[k]);
      if (!v) detail::malformed(source, i + 1, fmt::format("'{}' is not a number", t[k]));
      dst.push_back(*v);
    }
  }
  if (!rx || !tx) detail::malformed(source, 0, "no NET_RX or NET_TX row");
  return out;
}

}  // namespace wgopt::probes

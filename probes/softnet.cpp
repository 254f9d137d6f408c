#include "probes/softnet.hpp"

#include <fmt/format.h>

#include "common/util.hpp"
#include "probes/parse_util.hpp"

namespace wgopt::probes {

std::vector<SoftnetRow> parse_softnet_stat(const std::string& text, const std::string& source) {
  std::vector<SoftnetRow> out;
  const auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto t = split_ws(lines[i]);
    if (t.empty()) continue;
    if (t.size() < 3) detail::malformed(source, i + 1, fmt::format("{} columns, expected at least 3", t.size()));
    std::vector<uint64_t> v;
    for (const auto& tok : t) {
      auto n = detail::parse_hex_u64(tok);
      if (!n) detail::malformed(source, i + 1, fmt::format("'{}' is not a hex counter", tok));
      v.push_back(*n);
    }
    SoftnetRow r;
    r.cpu = v.size() >= 13 ? static_cast<int>(v[12]) : static_cast<int>(out.size());
    r.processed = v[0];
    r.dropped = v[1];
    r.time_squeeze = v[2];
    if (v.size() >= 10) r.received_rps = v[9];
    if (v.size() >= 11) r.flow_limit = v[10];
    out.push_back(r);
  }
  if (out.empty()) detail::malformed(source, 0, "no rows");
  return out;
}

}  // namespace wgopt::probes

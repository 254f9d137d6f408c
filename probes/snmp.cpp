#include "probes/snmp.hpp"

#include <fmt/format.h>

#include "common/util.hpp"
#include "probes/parse_util.hpp"

namespace wgopt::probes {

Snmp parse_snmp(const std::string& text, const std::string& source) {
  Snmp out;
  const auto lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    auto head = split_ws(lines[i]);
    if (head.empty()) continue;
    if (!head[0].ends_with(':')) detail::malformed(source, i + 1, fmt::format("'{}' is not a 'Table:' label", head[0]));
    if (i + 1 >= lines.size()) detail::malformed(source, i + 1, fmt::format("{} header without a value line", head[0]));
    auto vals = split_ws(lines[i + 1]);
    if (vals.empty() || vals[0] != head[0])
      detail::malformed(source, i + 2, fmt::format("expected the values of {}", head[0]));
    if (vals.size() != head.size())
      detail::malformed(source, i + 2,
                        fmt::format("{} has {} names but {} values", head[0], head.size() - 1, vals.size() - 1));
    auto& table = out.all[head[0].substr(0, head[0].size() - 1)];
    for (size_t k = 1; k < head.size(); ++k) {
      auto v = detail::parse_i64(vals[k]);
      if (!v) detail::malformed(source, i + 2, fmt::format("{} {} = '{}' is not a number", head[0], head[k], vals[k]));
      table[head[k]] = *v;
    }
    ++i;
  }
  auto udp = out.all.find("Udp");
  auto tcp = out.all.find("Tcp");
  if (udp == out.all.end() || tcp == out.all.end()) detail::malformed(source, 0, "no Udp or Tcp table");
  auto get = [](const std::map<std::string, int64_t>& t, const char* k) -> uint64_t {
    auto it = t.find(k);
    return it == t.end() || it->second < 0 ? 0 : static_cast<uint64_t>(it->second);
  };
  const auto& u = udp->second;
  out.udp = {get(u, "InDatagrams"), get(u, "NoPorts"),      get(u, "InErrors"),     get(u, "OutDatagrams"),
             get(u, "RcvbufErrors"), get(u, "SndbufErrors"), get(u, "InCsumErrors"), get(u, "MemErrors")};
  const auto& t = tcp->second;
  out.tcp = {get(t, "InSegs"), get(t, "OutSegs"), get(t, "RetransSegs"), get(t, "InErrs")};
  return out;
}

}  // namespace wgopt::probes

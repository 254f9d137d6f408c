#include "probes/ethtool_stats.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

#include "common/error.hpp"
#include "common/util.hpp"
#include "probes/parse_util.hpp"

namespace wgopt::probes {

EthtoolStats parse_ethtool_stats(const std::string& text, const std::string& source) {
  EthtoolStats out;
  const auto lines = split_lines(text);
  bool header = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string l = trim(lines[i]);
    if (l.empty()) continue;
    if (l == "NIC statistics:") {
      header = true;
      continue;
    }
    const auto sep = l.rfind(": ");
    if (sep == std::string::npos) detail::malformed(source, i + 1, fmt::format("'{}' is not 'name: value'", l));
    auto v = detail::parse_u64(trim(l.substr(sep + 2)));
    if (!v) detail::malformed(source, i + 1, fmt::format("'{}' is not 'name: value'", l));
    out[trim(l.substr(0, sep))] = *v;
  }
  if (!header) detail::malformed(source, 0, "no 'NIC statistics:' header");
  return out;
}

bool is_drop_counter(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* word : {"drop", "miss", "discard", "no_buf", "nobuf", "out_of_buffer", "error", "fifo", "timeout"}) {
    if (n.find(word) != std::string::npos) return true;
  }
  // "err" only as a word ("rx_wqe_err", "tx_err_0"), never inside one ("interrupts").
  for (size_t p = n.find("err"); p != std::string::npos; p = n.find("err", p + 1)) {
    const bool start = p == 0 || !std::isalpha(static_cast<unsigned char>(n[p - 1]));
    const bool end = p + 3 == n.size() || !std::isalpha(static_cast<unsigned char>(n[p + 3]));
    if (start && end) return true;
  }
  return false;
}

EthtoolStats drop_counters(const EthtoolStats& stats) {
  EthtoolStats out;
  for (const auto& [k, v] : stats)
    if (is_drop_counter(k)) out[k] = v;
  return out;
}

EthtoolStats stats_delta(const EthtoolStats& before, const EthtoolStats& after) {
  EthtoolStats out;
  for (const auto& [k, v] : after) {
    auto it = before.find(k);
    out[k] = detail::counter_delta(it == before.end() ? 0 : it->second, v);
  }
  return out;
}

std::optional<EthtoolStats> read_ethtool_stats(CommandRunner& runner, const Place& place, const std::string& iface) {
  require_valid_ifname(iface);
  Command c{.argv = place.wrap({"ethtool", "-S", iface}), .timeout = std::chrono::seconds(10)};
  auto r = runner.run(c);
  if (r.not_found) throw Error("ethtool is not installed: run scripts/install-deps.sh (apt-get install ethtool)");
  if (r.timed_out) throw Error(fmt::format("`ethtool -S {}` in {} timed out after 10 s", iface, place.describe()));
  if (!r.ok()) return std::nullopt;
  return parse_ethtool_stats(r.out, fmt::format("ethtool -S {}", iface));
}

}  // namespace wgopt::probes

#include "probes/netdev.hpp"

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/util.hpp"
#include "probes/parse_util.hpp"

namespace wgopt::probes {

using detail::counter_delta;

IfaceCounters counters_delta(const IfaceCounters& a, const IfaceCounters& b) {
  return {counter_delta(a.rx_bytes, b.rx_bytes),     counter_delta(a.rx_packets, b.rx_packets),
          counter_delta(a.rx_errors, b.rx_errors),   counter_delta(a.rx_dropped, b.rx_dropped),
          counter_delta(a.rx_fifo, b.rx_fifo),       counter_delta(a.rx_missed, b.rx_missed),
          counter_delta(a.tx_bytes, b.tx_bytes),     counter_delta(a.tx_packets, b.tx_packets),
          counter_delta(a.tx_errors, b.tx_errors),   counter_delta(a.tx_dropped, b.tx_dropped),
          counter_delta(a.tx_fifo, b.tx_fifo)};
}

std::map<std::string, IfaceCounters> parse_proc_net_dev(const std::string& text, const std::string& source) {
  std::map<std::string, IfaceCounters> out;
  const auto lines = split_lines(text);
  if (lines.size() < 2 || !lines[0].starts_with("Inter-|")) detail::malformed(source, 1, "no 'Inter-|' header");
  for (size_t i = 2; i < lines.size(); ++i) {
    if (trim(lines[i]).empty()) continue;
    // Interface names cannot contain ':' (dev_valid_name), and long names touch the colon.
    const auto colon = lines[i].find(':');
    if (colon == std::string::npos) detail::malformed(source, i + 1, "no 'name:'");
    const std::string name = trim(lines[i].substr(0, colon));
    const auto t = split_ws(lines[i].substr(colon + 1));
    if (name.empty() || t.size() != 16)
      detail::malformed(source, i + 1, fmt::format("interface '{}' has {} numbers, expected 16", name, t.size()));
    uint64_t v[16];
    for (size_t k = 0; k < 16; ++k) {
      auto n = detail::parse_u64(t[k]);
      if (!n) detail::malformed(source, i + 1, fmt::format("'{}' is not a number for {}", t[k], name));
      v[k] = *n;
    }
    IfaceCounters c;
    c.rx_bytes = v[0], c.rx_packets = v[1], c.rx_errors = v[2], c.rx_dropped = v[3], c.rx_fifo = v[4];
    c.tx_bytes = v[8], c.tx_packets = v[9], c.tx_errors = v[10], c.tx_dropped = v[11], c.tx_fifo = v[12];
    out[name] = c;
  }
  return out;
}

IfaceCounters read_sys_statistics(Files& files, const std::string& iface) {
  require_valid_ifname(iface);
  const std::string dir = "/sys/class/net/" + iface + "/statistics/";
  if (!files.exists(dir + "rx_bytes")) {
    throw Error(fmt::format("interface {} has no {} in {}: check the name with `ip link` in that place", iface, dir,
                            files.describe()));
  }
  auto get = [&](const char* name) -> uint64_t {
    auto text = files.read(dir + name);
    if (!text) return 0;
    auto v = detail::parse_u64(trim(*text));
    if (!v) throw Error(fmt::format("{}{} in {} holds '{}', not a counter", dir, name, files.describe(), trim(*text)));
    return *v;
  };
  IfaceCounters c;
  c.rx_bytes = get("rx_bytes"), c.rx_packets = get("rx_packets"), c.rx_errors = get("rx_errors");
  c.rx_dropped = get("rx_dropped"), c.rx_fifo = get("rx_fifo_errors"), c.rx_missed = get("rx_missed_errors");
  c.tx_bytes = get("tx_bytes"), c.tx_packets = get("tx_packets"), c.tx_errors = get("tx_errors");
  c.tx_dropped = get("tx_dropped"), c.tx_fifo = get("tx_fifo_errors");
  return c;
}

}  // namespace wgopt::probes

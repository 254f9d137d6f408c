#pragma once
// /proc/net/snmp (per network namespace): header/value line pairs per protocol. The UDP error
// counters are where a full WireGuard socket buffer shows up (guide §5.2: InErrors / RcvbufErrors ->
// net.core.rmem_max), Tcp RetransSegs is the TCP side's loss signal.
#include <cstdint>
#include <map>
#include <string>

namespace wgopt::probes {

struct UdpCounters {
  uint64_t in_datagrams = 0, no_ports = 0, in_errors = 0, out_datagrams = 0;
  uint64_t rcvbuf_errors = 0, sndbuf_errors = 0, in_csum_errors = 0, mem_errors = 0;
};

struct TcpCounters {
  uint64_t in_segs = 0, out_segs = 0, retrans_segs = 0, in_errs = 0;
};

struct Snmp {
  UdpCounters udp;
  TcpCounters tcp;
  // Every field: all["Udp"]["InErrors"]. Signed because Tcp MaxConn is -1.
  std::map<std::string, std::map<std::string, int64_t>> all;
};

// Throws wgopt::Error naming `source` and the line when a header has no value line, their widths
// differ, a value is not a number, or the Udp or Tcp table is missing.
Snmp parse_snmp(const std::string& text, const std::string& source = "/proc/net/snmp");

}  // namespace wgopt::probes

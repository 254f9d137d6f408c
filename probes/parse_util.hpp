#pragma once
// Internal helpers shared by the probes' parsers: strict number parsing and the one error shape
// for a file that is not in the kernel's format ("<source> line N: <what>: ...").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wgopt::probes::detail {

// Throws wgopt::Error("<source> line <line>: <why>: not in the kernel's format; ...").
// line is 1-based; 0 means "the whole input" (e.g. empty input).
[[noreturn]] void malformed(std::string_view source, size_t line, std::string_view why);

// Decimal / hexadecimal unsigned 64-bit numbers, the whole token or nothing.
std::optional<uint64_t> parse_u64(std::string_view token);
std::optional<uint64_t> parse_hex_u64(std::string_view token);
// Signed decimal (snmp has "-1" for Tcp MaxConn).
std::optional<int64_t> parse_i64(std::string_view token);

// The "CPU0 CPU1 ..." header of /proc/interrupts and /proc/softirqs: skips leading blank lines,
// sets `i` to the header's index and returns the CPU ids in column order. Throws (malformed) on
// empty input or a column that is not CPUn.
std::vector<int> parse_cpu_header(const std::vector<std::string>& lines, std::string_view source, size_t& i);

// Counter difference: cur - prev, or 0 when the counter went backwards (device re-created,
// namespace replaced): a negative rate is never a real measurement.
inline uint64_t counter_delta(uint64_t prev, uint64_t cur) { return cur >= prev ? cur - prev : 0; }
// For counters the kernel prints as 32-bit (softnet_stat): they wrap at 2^32 under load.
inline uint64_t counter_delta32(uint64_t prev, uint64_t cur) {
  return static_cast<uint32_t>(static_cast<uint32_t>(cur) - static_cast<uint32_t>(prev));
}

}  // namespace wgopt::probes::detail

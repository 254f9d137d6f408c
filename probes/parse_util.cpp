#include "probes/parse_util.hpp"

#include <charconv>
#include <fmt/format.h>

#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::probes::detail {

void malformed(std::string_view source, size_t line, std::string_view why) {
  if (line == 0) {
    throw Error(fmt::format("{}: {}: not in the kernel's format (is it the right file, from Linux?)", source, why));
  }
  throw Error(fmt::format("{} line {}: {}: not in the kernel's format (is it the right file, from Linux?)", source,
                          line, why));
}

namespace {
template <typename T>
std::optional<T> parse_whole(std::string_view token, int base) {
  T v{};
  if (token.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), v, base);
  if (ec != std::errc() || p != token.data() + token.size()) return std::nullopt;
  return v;
}
}  // namespace

std::optional<uint64_t> parse_u64(std::string_view token) { return parse_whole<uint64_t>(token, 10); }
std::optional<uint64_t> parse_hex_u64(std::string_view token) { return parse_whole<uint64_t>(token, 16); }
std::optional<int64_t> parse_i64(std::string_view token) { return parse_whole<int64_t>(token, 10); }

std::vector<int> parse_cpu_header(const std::vector<std::string>& lines, std::string_view source, size_t& i) {
  i = 0;
  while (i < lines.size() && trim(lines[i]).empty()) ++i;
  if (i == lines.size()) malformed(source, 0, "empty");
  std::vector<int> cpus;
  for (const auto& h : split_ws(lines[i])) {
    auto id = h.starts_with("CPU") ? parse_u64(std::string_view(h).substr(3)) : std::nullopt;
    if (!id) malformed(source, i + 1, fmt::format("header column '{}' is not CPUn", h));
    cpus.push_back(static_cast<int>(*id));
  }
  return cpus;
}

}  // namespace wgopt::probes::detail

#include <ctime>
#include "common/util.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <thread>
#include <fmt/format.h>

#include "common/error.hpp"
#include "common/files.hpp"

namespace wgopt {

std::chrono::milliseconds parse_duration(const std::string& text, const std::string& what) {
  const std::string t = trim(text);
  auto bad = [&] {
    return UsageError(fmt::format("{} '{}' is not a duration: use e.g. 90s, 5m, 2h or 1h30m", what, one_line(text, 80)));
  };
  if (t.empty()) throw bad();
  double total_s = 0;
  size_t i = 0;
  bool any = false;
  while (i < t.size()) {
    size_t start = i;
    while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
    if (i == start) throw bad();
    double v = 0;
    try {
      v = std::stod(t.substr(start, i - start));
    } catch (...) {
      throw bad();
    }
    double mult = 1;
    if (i < t.size()) {
      std::string unit;
      while (i < t.size() && std::isalpha(static_cast<unsigned char>(t[i]))) unit += t[i++];
      if (unit == "ms") mult = 0.001;
      else if (unit == "s" || unit == "sec") mult = 1;
      else if (unit == "m" || unit == "min") mult = 60;
      else if (unit == "h") mult = 3600;
      else if (unit == "d") mult = 86400;
      else throw bad();
    } else if (any) {
      throw bad();  // "1h30" is ambiguous
    }
    total_s += v * mult;
    any = true;
  }
  if (!std::isfinite(total_s) || total_s > 1e15) {  // 31 million years; beyond, milliseconds overflow
    throw UsageError(fmt::format("{} '{}' is too long: use e.g. 90s, 5m, 2h or 1h30m", what, one_line(text, 80)));
  }
  if (total_s <= 0) throw UsageError(fmt::format("{} '{}' must be positive", what, one_line(text, 80)));
  return std::chrono::milliseconds(static_cast<long long>(std::llround(total_s * 1000)));
}

std::string format_duration(std::chrono::duration<double> d) {
  double s = d.count();
  if (s < 0) s = 0;
  if (s < 10) return fmt::format("{:.1f}s", s);
  long long total = std::llround(s);
  long long h = total / 3600, m = (total % 3600) / 60, sec = total % 60;
  if (h > 0) return fmt::format("{}h {:02}m {:02}s", h, m, sec);
  if (m > 0) return fmt::format("{}m {:02}s", m, sec);
  return fmt::format("{}s", sec);
}

void require_root(const std::string& action) {
  if (::geteuid() != 0) {
    throw Error(fmt::format("{} needs root: re-run as root (sudo wgopt ...)", action));
  }
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_ws(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    size_t next = s.find(sep, pos);
    if (next == std::string::npos) {
      out.push_back(s.substr(pos));
      return out;
    }
    out.push_back(s.substr(pos, next - pos));
    pos = next + 1;
  }
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out = split(s, '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();
  for (auto& l : out) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
  }
  return out;
}

namespace {

// The length of the UTF-8 sequence at s[i] and its code point in `cp`, or 0 when the bytes there
// are not valid UTF-8 (truncated, overlong, a surrogate, beyond U+10FFFF).
size_t utf8_at(std::string_view s, size_t i, uint32_t& cp) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    cp = b;
    return 1;
  }
  const size_t n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  cp = b & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

bool is_control(uint32_t cp) { return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029; }

}  // namespace

std::string one_line(std::string_view s, size_t max) {
  const std::string_view shown = s.substr(0, max);
  std::string out;
  out.reserve(shown.size());
  for (size_t i = 0; i < shown.size();) {
    uint32_t cp = 0;
    const size_t n = utf8_at(shown, i, cp);
    if (n == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(shown[i]));
      ++i;
      continue;
    }
    if (cp == '\\') out += "\\\\";
    else if (cp == '\n') out += "\\n";
    else if (cp == '\r') out += "\\r";
    else if (cp == '\t') out += "\\t";
    else if (cp < 0x20 || cp == 0x7f) out += fmt::format("\\x{:02x}", cp);
    else if (is_control(cp)) out += fmt::format("\\u{:04x}", cp);
    else out.append(shown.substr(i, n));
    i += n;
  }
  if (shown.size() < s.size()) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

bool is_one_line(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t n = utf8_at(s, i, cp);
    if (n == 0 || is_control(cp)) return false;
    i += n;
  }
  return true;
}

std::string plain_or_one_line(std::string_view s) { return is_one_line(s) ? std::string(s) : one_line(s); }

std::string utc_stamp(const char* fmt) { return utc_stamp(fmt, static_cast<double>(std::time(nullptr))); }

std::string utc_stamp(const char* fmt, double unix_seconds) {
  auto t = static_cast<std::time_t>(unix_seconds);
  char buf[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

std::string boot_id(const std::string& proc_root) {
  auto c = read_file(proc_root + "/sys/kernel/random/boot_id");
  return c ? trim(*c) : std::string{};
}

std::string own_net_namespace(const std::string& proc_root) {
  std::error_code ec;
  const auto target = std::filesystem::read_symlink(proc_root + "/self/ns/net", ec);
  if (ec) return {};
  std::string id = target.string();
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // linux >= 5.14
#endif
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    std::uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    if (::getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) == 0) id += fmt::format(" cookie {}", cookie);
    ::close(fd);
  }
  return id;
}

std::string named_net_namespace(const std::string& name, const std::string& run_netns) {
  const std::string path = run_netns + "/" + name;
  struct stat st {};
  if (name.empty() || name.find('/') != std::string::npos || ::stat(path.c_str(), &st) != 0) return {};
  std::string id = fmt::format("net:[{}]", st.st_ino);
  // The cookie is read from a socket made in that namespace, by a thread of its own: setns() of a
  // network namespace moves the calling thread only.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return id;
  std::uint64_t cookie = 0;
  try {
    std::thread([&] {
      if (::setns(fd, CLONE_NEWNET) != 0) return;
      const int s = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (s < 0) return;
      socklen_t len = sizeof cookie;
      if (::getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) cookie = 0;
      ::close(s);
    }).join();
  } catch (const std::system_error&) {  // no thread to be had: the inode alone
  }
  ::close(fd);
  return cookie ? id + fmt::format(" cookie {}", cookie) : id;
}

bool same_net_namespace(const std::string& a, const std::string& b) {
  auto cookie = [](const std::string& id) {
    const auto at = id.find(" cookie ");
    return at == std::string::npos ? std::string() : id.substr(at + 8);
  };
  if (!cookie(a).empty() && !cookie(b).empty()) return cookie(a) == cookie(b);
  return a.substr(0, a.find(' ')) == b.substr(0, b.find(' '));
}

std::string netns_name_of(const std::string& id, const std::string& run_netns) {
  const std::string inode = id.substr(0, id.find(' '));  // "net:[N]"
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(run_netns, ec)) {
    struct stat st {};
    if (::stat(e.path().c_str(), &st) == 0 && fmt::format("net:[{}]", st.st_ino) == inode) return e.path().filename().string();
  }
  return {};
}

namespace {

// The fields of /proc/PID/stat after the command name (fields[0] is field 3, the state); empty if
// the process is gone. The name (field 2) may hold spaces and parentheses: split after the last ')'.
std::vector<std::string> stat_fields(int pid) {
  auto stat = read_file(fmt::format("/proc/{}/stat", pid));
  if (!stat) return {};
  auto close = stat->rfind(')');
  if (close == std::string::npos) return {};
  return split_ws(stat->substr(close + 1));
}

long long start_time_of(const std::vector<std::string>& fields) {
  if (fields.size() < 20) return -1;  // field 22 is fields[19]
  try {
    return std::stoll(fields[19]);
  } catch (...) {
    return -1;
  }
}

}  // namespace

long long process_start_time(int pid) { return start_time_of(stat_fields(pid)); }

bool process_alive(int pid, long long start_time) {
  const auto fields = stat_fields(pid);
  if (fields.empty() || start_time_of(fields) != start_time) return false;
  return fields[0] != "Z" && fields[0] != "X";
}

}  // namespace wgopt

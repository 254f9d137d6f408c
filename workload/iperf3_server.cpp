#include "workload/iperf3_server.hpp"

#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "workload/pidfile.hpp"

namespace wgopt::workload {

namespace {

std::string pidfile_of(const ServerOptions& opts) { return opts.pidfile.empty() ? default_pidfile(opts) : opts.pidfile; }

std::string where(const ServerOptions& opts) {
  const bool v6 = opts.bind_address.find(':') != std::string::npos;
  const std::string host = v6 ? "[" + opts.bind_address + "]" : opts.bind_address;
  return fmt::format("{}:{} in {}", host, opts.port, opts.place.describe());
}

// The kernel's spelling of address:port in /proc/net/tcp{,6}: each 32-bit word of the address as
// it sits in memory, printed as %08X, then ":%04X" of the port.
std::string proc_net_local(const std::string& address, int port, bool& v6) {
  unsigned char buf[16];
  int words = 0;
  if (::inet_pton(AF_INET, address.c_str(), buf) == 1) {
    v6 = false;
    words = 1;
  } else if (::inet_pton(AF_INET6, address.c_str(), buf) == 1) {
    v6 = true;
    words = 4;
  } else {
    throw UsageError(fmt::format("iperf3 server address '{}' is not an IP address: use e.g. 100.64.0.1", address));
  }
  std::string out;
  for (int w = 0; w < words; ++w) {
    std::uint32_t word;
    std::memcpy(&word, buf + 4 * w, 4);
    out += fmt::format("{:08X}", word);
  }
  return out + fmt::format(":{:04X}", port);
}

std::string read_in_place(const Place& place, const std::string& path) {
  const int fd = open_in_netns(place.is_host() ? std::string{} : place.netns_name(), path);
  auto text = pread_all(fd);
  ::close(fd);
  return text.value_or("");
}

bool ipv4_in(std::uint32_t addr, std::uint32_t net, int prefix_len) {
  if (prefix_len <= 0) return true;
  const std::uint32_t mask = prefix_len >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix_len);
  return (addr & mask) == (net & mask);
}

}  // namespace

std::string default_pidfile(const ServerOptions& opts, const std::string& dir) {
  std::string addr = opts.bind_address;
  for (char& c : addr) {
    if (c == ':') c = '_';
  }
  const std::string place = opts.place.is_host() ? "host" : opts.place.netns_name();
  return fmt::format("{}/iperf3-{}-{}-{}.pid", dir, place, addr, opts.port);
}

void validate(const ServerOptions& opts) {
  bool v6 = false;
  (void)proc_net_local(opts.bind_address, 1, v6);
  if (opts.port < 1 || opts.port > 65535) {
    throw UsageError(fmt::format("iperf3 server port {} is out of range: use 1-65535", opts.port));
  }
  // iperf3 -D changes to / before it writes the pid file, so a relative path would land elsewhere.
  if (!opts.pidfile.empty() && (!opts.pidfile.starts_with('/') || opts.pidfile.find("/../") != std::string::npos)) {
    throw UsageError(fmt::format("iperf3 server pid file '{}' must be an absolute path without '..'", opts.pidfile));
  }
}

bool is_listening(const Place& place, const std::string& address, int port) {
  bool v6 = false;
  const std::string local = proc_net_local(address, port, v6);
  const std::string path = v6 ? "/proc/thread-self/net/tcp6" : "/proc/thread-self/net/tcp";
  // "  sl  local_address rem_address   st ..." then one socket per line; st 0A is TCP_LISTEN.
  for (const auto& line : split_lines(read_in_place(place, path))) {
    auto cols = split_ws(line);
    if (cols.size() > 3 && cols[1] == local && cols[3] == "0A") return true;
  }
  return false;
}

bool is_local_address(const Place& place, const std::string& address) {
  unsigned char buf[16];
  if (::inet_pton(AF_INET6, address.c_str(), buf) == 1) {
    // if_inet6: "fd000000000000000000000000000002 04 40 00 82 eth0", the address in hex.
    std::string hex;
    for (unsigned char b : buf) hex += fmt::format("{:02x}", b);
    for (const auto& line : split_lines(read_in_place(place, "/proc/thread-self/net/if_inet6"))) {
      auto cols = split_ws(line);
      if (!cols.empty() && cols[0] == hex) return true;
    }
    return false;
  }
  if (::inet_pton(AF_INET, address.c_str(), buf) != 1) {
    throw UsageError(fmt::format("iperf3 server address '{}' is not an IP address: use e.g. 100.64.0.1", address));
  }
  const std::uint32_t want = ntohl(*reinterpret_cast<const std::uint32_t*>(buf));
  // fib_trie's Local table lists each local prefix as "|-- 127.0.0.0" followed by "/8 host LOCAL";
  // an address is bindable if a "host LOCAL" prefix covers it (127.0.0.0/8 covers 127.0.0.2).
  std::uint32_t last = 0;
  bool have_last = false;
  for (const auto& line : split_lines(read_in_place(place, "/proc/thread-self/net/fib_trie"))) {
    const std::string t = trim(line);
    if (t.rfind("|-- ", 0) == 0) {
      unsigned char a[4];
      have_last = ::inet_pton(AF_INET, t.substr(4).c_str(), a) == 1;
      if (have_last) last = ntohl(*reinterpret_cast<const std::uint32_t*>(a));
    } else if (have_last && t.starts_with('/') && t.find("host LOCAL") != std::string::npos) {
      if (ipv4_in(want, last, std::atoi(t.c_str() + 1))) return true;
    }
  }
  return false;
}

namespace {
// Another listener that would make our bind fail: the same address or a wildcard (0.0.0.0, or ::
// which also takes IPv4 unless it is v6-only) on the same port.
bool port_taken(const Place& place, const std::string& address, int port) {
  if (is_listening(place, address, port)) return true;
  const bool v6 = address.find(':') != std::string::npos;
  const std::string port_hex = fmt::format(":{:04X}", port);
  for (const char* file : {"/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6"}) {
    if (v6 && !std::string(file).ends_with("6")) continue;  // an IPv4 listener never blocks an IPv6 bind
    for (const auto& line : split_lines(read_in_place(place, file))) {
      auto cols = split_ws(line);
      if (cols.size() <= 3 || cols[3] != "0A" || !cols[1].ends_with(port_hex)) continue;
      const std::string addr = cols[1].substr(0, cols[1].size() - port_hex.size());
      if (addr.find_first_not_of('0') == std::string::npos) return true;
    }
  }
  return false;
}
}  // namespace

ServerState server_state(const ServerOptions& opts) {
  validate(opts);
  const std::string pidfile = pidfile_of(opts);
  ServerState s;
  s.pid = read_pidfile_of(pidfile, "iperf3", pidfile);
  s.listening = is_listening(opts.place, opts.bind_address, opts.port);
  return s;
}

ServerState wait_until_ready(const ServerOptions& opts, std::chrono::milliseconds timeout) {
  validate(opts);
  const std::string pidfile = pidfile_of(opts);
  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + timeout;
  for (;;) {
    ServerState s = server_state(opts);
    if (s.running()) return s;
    const auto now = std::chrono::steady_clock::now();
    // The daemon writes its pid file right after it forks; without one after a second it died.
    const bool died = s.pid == 0 && now - t0 > std::chrono::seconds(1);
    if (died || now >= deadline) {
      // A daemonised iperf3 reports why nowhere: point at the command that shows it.
      throw Error(fmt::format("iperf3 server {} {}: run `{}` there to see why", where(opts),
                              died ? "exited right after it started" : "is not listening yet after the timeout",
                              render_argv({"iperf3", "-s", "-B", opts.bind_address, "-p", std::to_string(opts.port)})));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

ServerState start_server(const ServerOptions& opts, CommandRunner& runner, std::chrono::milliseconds ready_timeout) {
  validate(opts);
  const std::string pidfile = pidfile_of(opts);
  ServerState now = server_state(opts);
  if (now.running()) return now;
  if (now.pid == 0 && port_taken(opts.place, opts.bind_address, opts.port)) {
    throw Error(fmt::format("port {} is already taken by another program: stop it or choose another port",
                            where(opts)));
  }
  if (now.pid > 0) return wait_until_ready(opts, ready_timeout);  // ours, still starting
  if (!is_local_address(opts.place, opts.bind_address)) {
    throw Error(fmt::format("cannot start the iperf3 server {}: the address is not assigned there: assign it "
                            "(ip address add) or bind to an address that is",
                            where(opts)));
  }

  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(pidfile).parent_path(), ec);
  std::remove(pidfile.c_str());

  const std::vector<std::string> argv = {"iperf3", "-s", "-B", opts.bind_address, "-p", std::to_string(opts.port),
                                         "-D", "-I", pidfile};
  // The daemon keeps running after the command returns: no pipes to hold open.
  // A daemon: it outlives this wgopt on purpose (`wgopt testbed down` stops it).
  const Command cmd{.argv = opts.place.wrap(argv), .timeout = std::chrono::seconds(15), .capture_output = false,
                    .dies_with_wgopt = false};
  const CommandResult res = runner.run(cmd);
  if (res.not_found) {
    throw Error(fmt::format("cannot start the iperf3 server {}: {} is not installed: install it with apt-get "
                            "install {} (scripts/install-deps.sh does)",
                            where(opts), cmd.argv[0], cmd.argv[0] == "ip" ? "iproute2" : cmd.argv[0]));
  }
  if (!res.ok()) {
    std::string why = res.brief();
    if (!opts.place.is_host() && find_executable("iperf3").empty()) why = "iperf3 is not installed";
    throw Error(fmt::format("cannot start the iperf3 server {}: {}: `{}` failed; install iperf3 "
                            "(scripts/install-deps.sh) and check the namespace exists",
                            where(opts), why, render_argv(cmd.argv)));
  }
  try {
    return wait_until_ready(opts, ready_timeout);
  } catch (const Error&) {
    stop_server(opts);
    throw;
  }
}

bool stop_server(const ServerOptions& opts, std::chrono::milliseconds grace) {
  validate(opts);
  const std::string pidfile = pidfile_of(opts);
  const int pid = read_pidfile_of(pidfile, "iperf3", pidfile);
  if (pid > 0) {
    ::kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (process_alive(pid) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (process_alive(pid)) {
      spdlog::warn("iperf3 server {} (pid {}) ignored SIGTERM for {} ms: killing it", where(opts), pid, grace.count());
      ::kill(pid, SIGKILL);
      for (int i = 0; i < 250 && process_alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::remove(pidfile.c_str());
  return pid > 0;
}

}  // namespace wgopt::workload

#pragma once
// The iperf3 server's life: start it as a daemon in a Place bound to one address and port, wait
// until it listens, tell whether it runs, stop it. State lives only in its pid file, so a later
// process (`wgopt testbed down` after `up`) can find and stop the server an earlier one started.
//
// "Ready" means the kernel shows a LISTEN socket on address:port in that Place's network namespace
// (read from /proc/net/tcp through the namespace, no process spawned). We do not open a test
// connection: an iperf3 server logs an error for a connection that sends no cookie, and a one-off
// server (-1) would exit on it.
#include <chrono>
#include <memory>
#include <string>

#include "common/exec.hpp"
#include "common/place.hpp"

namespace wgopt::workload {

struct ServerOptions {
  Place place;                        // where iperf3 -s runs (the testbed: Place::netns("P-srv"))
  std::string bind_address = "127.0.0.1";  // an IPv4 or IPv6 literal (-B)
  int port = 5201;                    // 1-65535
  std::string pidfile;                // absolute; empty = default_pidfile(...)
};

// "/run/wgopt/iperf3-<host|netns name>-<address>-<port>.pid" (':' in IPv6 written as '_').
std::string default_pidfile(const ServerOptions& opts, const std::string& dir = "/run/wgopt");

// Throws UsageError naming the bad field (address not an IP literal, port out of range, relative
// pid file path).
void validate(const ServerOptions& opts);

struct ServerState {
  int pid = 0;             // the iperf3 server our pid file names, alive; 0 = none
  bool listening = false;  // something listens on bind_address:port in the place (may be another program)
  bool running() const { return pid > 0 && listening; }
};

// What runs now. Never changes anything. Throws Error only if the place's namespace is gone.
ServerState server_state(const ServerOptions& opts);

// True if a TCP socket is in LISTEN on address:port inside `place` (IPv4 via /proc/net/tcp, IPv6
// via tcp6). Throws UsageError for an address that is not an IP literal, Error if the namespace
// cannot be entered.
bool is_listening(const Place& place, const std::string& address, int port);

// True if `address` is assigned in `place` (or inside a local route such as 127.0.0.0/8), so a
// server can bind it. Reads /proc/net/fib_trie (IPv4) or /proc/net/if_inet6 of that namespace.
bool is_local_address(const Place& place, const std::string& address);

// Starts `iperf3 -s -B ADDR -p PORT -D -I PIDFILE` in the place (through `runner`, argv list) and
// waits until it listens. Idempotent: a server of ours already listening is returned as is.
// Checked first, because a daemonised iperf3 3.12 reports start-up errors nowhere (not even to
// --logfile): the address is assigned there, the port is not taken by another program. Throws
// Error with one line and the fix for those, a missing iperf3, and a server that exits or does not
// listen within ready_timeout; a server that started but never became ready is stopped first.
ServerState start_server(const ServerOptions& opts, CommandRunner& runner,
                         std::chrono::milliseconds ready_timeout = std::chrono::seconds(10));

// Polls every 50 ms until our server listens. Throws Error if it died or is not listening after
// `timeout`.
ServerState wait_until_ready(const ServerOptions& opts, std::chrono::milliseconds timeout);

// Stops our server (SIGTERM, then SIGKILL after `grace`), waits until it is gone, and removes its
// pid file. Returns true if a server was running. Idempotent; never signals a process
// the pid file does not prove is ours.
bool stop_server(const ServerOptions& opts, std::chrono::milliseconds grace = std::chrono::seconds(3));

}  // namespace wgopt::workload

#pragma once
// The field guide's five iperf3 scenarios (§2.1), under the stable names users type on the command
// line (`--scenarios tcp,udp-64`), and the iperf3 client argv each one becomes.
//
//   tcp      TCP forward, 8 streams          iperf3 -c S -P 8
//   tcp-rev  TCP reverse, 8 streams          iperf3 -c S -P 8 -R
//   udp      UDP flood, 1200-byte datagrams  iperf3 -c S -u -b 0 -l 1200
//   udp-64   UDP flood, 64-byte datagrams    iperf3 -c S -u -b 0 -l 64   (the PPS / encapsulation cost)
//   single   TCP forward, one stream         iperf3 -c S -P 1            (the per-core crypto ceiling)
#include <chrono>
#include <string>
#include <vector>

namespace wgopt::workload {

struct Scenario {
  std::string name;         // "tcp", "tcp-rev", "udp", "udp-64", "single"
  std::string description;  // one line for tables and --help
  bool udp = false;
  bool reverse = false;     // -R: the server sends, the client (where we run) receives
  int parallel = 1;         // -P when the caller does not override it
  int udp_length = 0;       // -l for UDP datagrams (bytes); 0 for TCP (iperf3's default 128 KiB)
};

// The five scenarios in the guide's order.
const std::vector<Scenario>& all_scenarios();

// "tcp, tcp-rev, udp, udp-64, single"
std::string scenario_names();

// The scenario called `name` (exact, lower case). Throws UsageError naming the unknown name and
// listing the valid ones.
const Scenario& find_scenario(const std::string& name);

// "tcp,udp-64" -> those scenarios, in the order given, duplicates dropped; blanks around names are
// ignored; "all" means all five. Throws UsageError for an empty list or an unknown name.
std::vector<Scenario> parse_scenario_list(const std::string& comma_separated);

// Where and how long one client run goes. Every field is validated by validate() before any
// process is started.
struct ClientOptions {
  std::string server = "127.0.0.1";  // IPv4/IPv6 literal or a host name
  int port = 5201;                   // 1-65535
  std::chrono::seconds duration{10};  // -t, 1 s .. 24 h (iperf3 takes whole seconds)
  // -O: seconds run before `duration` and left out of iperf3's summary (TCP slow start); 0 .. 60.
  // The run lasts omit + duration.
  std::chrono::seconds omit{0};
  int parallel = 0;                  // -P; 0 = the scenario's own (8 for tcp/tcp-rev, 1 otherwise); max 128
  std::chrono::milliseconds connect_timeout{5000};  // --connect-timeout for the control connection
};

// Throws UsageError naming the bad field, its value and the rule.
void validate(const ClientOptions& opts);
// ClientOptions::parallel's check alone (baseline --parallel, before anything starts): UsageError
// naming `flag` when it is outside 0..128.
void check_parallel(int parallel, const std::string& flag);

// True for an IPv4/IPv6 literal or a DNS name ([A-Za-z0-9.-], labels not starting with '-').
bool is_valid_server_address(const std::string& server);

// The iperf3 client argv (not wrapped in a Place) for `scenario` with `opts`, always with -J:
// {"iperf3", "-c", S, "-p", P, "-J", "-t", T, "-P", N, "--connect-timeout", MS, [-O W], [-R], [-u -b 0 -l L]}.
// Validates opts first (throws UsageError).
std::vector<std::string> client_argv(const Scenario& scenario, const ClientOptions& opts);

// The -P a run of `scenario` with `opts` uses.
int effective_parallel(const Scenario& scenario, const ClientOptions& opts);

}  // namespace wgopt::workload

#include "workload/scenario.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <fmt/format.h>

#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::workload {

const std::vector<Scenario>& all_scenarios() {
  static const std::vector<Scenario> scenarios = {
      {.name = "tcp", .description = "TCP forward, 8 streams", .parallel = 8},
      {.name = "tcp-rev", .description = "TCP reverse (server sends), 8 streams", .reverse = true, .parallel = 8},
      {.name = "udp", .description = "UDP unlimited rate, 1200-byte datagrams", .udp = true, .udp_length = 1200},
      {.name = "udp-64", .description = "UDP unlimited rate, 64-byte datagrams (packets per second)", .udp = true,
       .udp_length = 64},
      {.name = "single", .description = "TCP forward, one stream (per-core ceiling)", .parallel = 1},
  };
  return scenarios;
}

std::string scenario_names() {
  std::string out;
  for (const auto& s : all_scenarios()) out += (out.empty() ? "" : ", ") + s.name;
  return out;
}

const Scenario& find_scenario(const std::string& name) {
  for (const auto& s : all_scenarios()) {
    if (s.name == name) return s;
  }
  throw UsageError(fmt::format("unknown scenario '{}': use one of {}", name, scenario_names()));
}

std::vector<Scenario> parse_scenario_list(const std::string& comma_separated) {
  std::vector<Scenario> out;
  for (const auto& part : split(comma_separated, ',')) {
    const std::string name = trim(part);
    if (name.empty()) continue;
    if (name == "all") {
      for (const auto& s : all_scenarios()) {
        if (std::none_of(out.begin(), out.end(), [&](const Scenario& o) { return o.name == s.name; })) out.push_back(s);
      }
      continue;
    }
    if (std::none_of(all_scenarios().begin(), all_scenarios().end(), [&](const Scenario& s) { return s.name == name; })) {
      throw UsageError(fmt::format("unknown scenario '{}': use one of {} (or all)", name, scenario_names()));
    }
    const Scenario& s = find_scenario(name);
    if (std::none_of(out.begin(), out.end(), [&](const Scenario& o) { return o.name == s.name; })) out.push_back(s);
  }
  if (out.empty()) {
    throw UsageError(fmt::format("scenario list '{}' names no scenario: use one or more of {} separated by commas",
                                 comma_separated, scenario_names()));
  }
  return out;
}

void check_parallel(int parallel, const std::string& flag) {
  if (parallel < 0 || parallel > 128) {
    throw UsageError(fmt::format("{} {} is out of range: use 1-128 (0 = the scenario's own)", flag, parallel));
  }
}

bool is_valid_server_address(const std::string& server) {
  if (server.empty() || server.size() > 253) return false;
  unsigned char buf[16];
  if (::inet_pton(AF_INET, server.c_str(), buf) == 1 || ::inet_pton(AF_INET6, server.c_str(), buf) == 1) return true;
  // A host name: the check keeps option-like text ("-R") and shell or format characters out of argv.
  for (const auto& label : split(server, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
  }
  return true;
}

void validate(const ClientOptions& opts) {
  if (!is_valid_server_address(opts.server)) {
    throw UsageError(fmt::format("iperf3 server address '{}' is not valid: use an IP address or a host name", opts.server));
  }
  if (opts.port < 1 || opts.port > 65535) {
    throw UsageError(fmt::format("iperf3 port {} is out of range: use 1-65535", opts.port));
  }
  if (opts.duration < std::chrono::seconds(1) || opts.duration > std::chrono::hours(24)) {
    throw UsageError(fmt::format("iperf3 duration {} s is out of range: use 1 s to 24 h", opts.duration.count()));
  }
  if (opts.omit < std::chrono::seconds(0) || opts.omit > std::chrono::seconds(60)) {
    throw UsageError(fmt::format("iperf3 omit {} s is out of range: use 0 to 60 s", opts.omit.count()));
  }
  check_parallel(opts.parallel, "iperf3 parallel streams");
  if (opts.connect_timeout < std::chrono::milliseconds(100) || opts.connect_timeout > std::chrono::minutes(10)) {
    throw UsageError(fmt::format("iperf3 connect timeout {} ms is out of range: use 100 ms to 10 min",
                                 opts.connect_timeout.count()));
  }
}

int effective_parallel(const Scenario& scenario, const ClientOptions& opts) {
  return opts.parallel > 0 ? opts.parallel : scenario.parallel;
}

std::vector<std::string> client_argv(const Scenario& scenario, const ClientOptions& opts) {
  validate(opts);
  std::vector<std::string> argv = {"iperf3",
                                   "-c", opts.server,
                                   "-p", std::to_string(opts.port),
                                   "-J",
                                   "-t", std::to_string(opts.duration.count()),
                                   "-P", std::to_string(effective_parallel(scenario, opts)),
                                   "--connect-timeout", std::to_string(opts.connect_timeout.count())};
  if (opts.omit.count() > 0) argv.insert(argv.end(), {"-O", std::to_string(opts.omit.count())});
  if (scenario.reverse) argv.push_back("-R");
  if (scenario.udp) {
    // -b 0: no rate cap, so the path (not iperf3's 1 Mbit/s UDP default) sets the rate.
    argv.insert(argv.end(), {"-u", "-b", "0", "-l", std::to_string(scenario.udp_length)});
  }
  return argv;
}

}  // namespace wgopt::workload

// Scenario names are what users type (`wgopt baseline --scenarios tcp,udp-64`); the argv is what
// reaches iperf3. Both must be exactly the field guide's §2.1 commands, and bad input must be
// refused before any process starts.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "workload/iperf3_client.hpp"
#include "workload/scenario.hpp"

using namespace wgopt;
using namespace wgopt::workload;
using Argv = std::vector<std::string>;

TEST_CASE("the five scenarios have stable names in the guide's order") {
  std::vector<std::string> names;
  for (const auto& s : all_scenarios()) names.push_back(s.name);
  CHECK(names == std::vector<std::string>{"tcp", "tcp-rev", "udp", "udp-64", "single"});
  CHECK(scenario_names() == "tcp, tcp-rev, udp, udp-64, single");
}

TEST_CASE("each scenario becomes the guide's iperf3 command with -J") {
  const ClientOptions opts{.server = "100.64.0.1", .port = 5201, .duration = std::chrono::seconds(30)};
  const Argv common = {"iperf3", "-c", "100.64.0.1", "-p", "5201", "-J", "-t", "30"};
  auto with = [&](Argv tail) {
    Argv a = common;
    a.insert(a.end(), tail.begin(), tail.end());
    return a;
  };
  CHECK(client_argv(find_scenario("tcp"), opts) == with({"-P", "8", "--connect-timeout", "5000"}));
  CHECK(client_argv(find_scenario("tcp-rev"), opts) == with({"-P", "8", "--connect-timeout", "5000", "-R"}));
  CHECK(client_argv(find_scenario("udp"), opts) ==
        with({"-P", "1", "--connect-timeout", "5000", "-u", "-b", "0", "-l", "1200"}));
  CHECK(client_argv(find_scenario("udp-64"), opts) ==
        with({"-P", "1", "--connect-timeout", "5000", "-u", "-b", "0", "-l", "64"}));
  CHECK(client_argv(find_scenario("single"), opts) == with({"-P", "1", "--connect-timeout", "5000"}));
}

TEST_CASE("parallelism, port and duration are configurable") {
  ClientOptions opts{.server = "fd00::1", .port = 6000, .duration = std::chrono::seconds(5), .parallel = 4};
  const Argv a = client_argv(find_scenario("tcp"), opts);
  CHECK(a == Argv{"iperf3", "-c", "fd00::1", "-p", "6000", "-J", "-t", "5", "-P", "4", "--connect-timeout", "5000"});
  CHECK(effective_parallel(find_scenario("tcp"), opts) == 4);
  opts.parallel = 0;
  CHECK(effective_parallel(find_scenario("tcp"), opts) == 8);
}

TEST_CASE("an omitted warm-up becomes -O, runs on top of -t and is bounded") {
  ClientOptions opts{.server = "100.64.0.1", .duration = std::chrono::seconds(9), .omit = std::chrono::seconds(1)};
  CHECK(client_argv(find_scenario("tcp-rev"), opts) == Argv{"iperf3", "-c", "100.64.0.1", "-p", "5201", "-J", "-t", "9", "-P", "8",
                                                             "--connect-timeout", "5000", "-O", "1", "-R"});
  CHECK(hard_timeout(opts) - hard_timeout(ClientOptions{.server = "100.64.0.1", .duration = std::chrono::seconds(9)}) ==
        std::chrono::seconds(1));
  opts.omit = std::chrono::seconds(61);
  CHECK_THROWS_WITH(client_argv(find_scenario("tcp"), opts), Catch::Contains("omit 61 s is out of range"));
}

TEST_CASE("a scenario list keeps the user's order, drops duplicates and knows 'all'") {
  auto names = [](const std::vector<Scenario>& v) {
    std::vector<std::string> out;
    for (const auto& s : v) out.push_back(s.name);
    return out;
  };
  CHECK(names(parse_scenario_list("udp-64, tcp")) == std::vector<std::string>{"udp-64", "tcp"});
  CHECK(names(parse_scenario_list("tcp,tcp,single,")) == std::vector<std::string>{"tcp", "single"});
  CHECK(parse_scenario_list("all").size() == 5);
  CHECK(names(parse_scenario_list("single,all")).front() == "single");
}

TEST_CASE("an unknown scenario name is named, with the valid ones listed") {
  try {
    parse_scenario_list("tcp,udp64");
    FAIL("expected UsageError");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()) == "unknown scenario 'udp64': use one of tcp, tcp-rev, udp, udp-64, single (or all)");
  }
  CHECK_THROWS_AS(parse_scenario_list(" , "), UsageError);
  // One scenario (diagnose --scenario): "all" is no choice there, so not offered.
  CHECK_THROWS_WITH(find_scenario("all"), "unknown scenario 'all': use one of tcp, tcp-rev, udp, udp-64, single");
}

TEST_CASE("bad client options are refused before anything runs") {
  const Scenario& tcp = find_scenario("tcp");
  auto bad = [&](ClientOptions o) { CHECK_THROWS_AS(client_argv(tcp, o), UsageError); };
  bad({.server = "-R"});
  bad({.server = "a b"});
  bad({.server = "$(reboot)"});
  bad({.server = ""});
  bad({.port = 0});
  bad({.port = 65536});
  bad({.duration = std::chrono::seconds(0)});
  bad({.parallel = 129});
  bad({.parallel = -1});
  bad({.connect_timeout = std::chrono::milliseconds(0)});
  CHECK(is_valid_server_address("peer-1.example.org"));
  CHECK(is_valid_server_address("100.64.0.1"));
  CHECK_FALSE(is_valid_server_address("host-.example"));
  try {
    client_argv(tcp, {.port = 0});
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()) == "iperf3 port 0 is out of range: use 1-65535");
  }
}

// The probes' Sampler inside network namespaces (root): two scratch namespaces joined by a veth,
// prefix "wgtp1", a ping across, and the sampler sees it from inside each namespace without
// spawning a process per sample.
#include <catch2/catch.hpp>

#include <thread>

#include "common/exec.hpp"
#include "probes/diagnosis.hpp"
#include "probes/sampler.hpp"
#include "tests/probes/sampler_checks.hpp"

using namespace wgopt;
using namespace wgopt::probes;
using namespace std::chrono_literals;

namespace {

struct ScratchNetns {
  std::shared_ptr<CommandRunner> runner = default_runner();
  void ip(std::vector<std::string> args) {
    args.insert(args.begin(), "ip");
    run_checked(*runner, {.argv = args, .timeout = 10s}, "scratch namespace setup");
  }
  ScratchNetns() {
    down();
    try {
      ip({"netns", "add", "wgtp1-srv"});
      ip({"netns", "add", "wgtp1-cli"});
      ip({"link", "add", "wgtp1-us", "type", "veth", "peer", "name", "wgtp1-uc"});
      ip({"link", "set", "wgtp1-us", "netns", "wgtp1-srv"});
      ip({"link", "set", "wgtp1-uc", "netns", "wgtp1-cli"});
      ip({"-n", "wgtp1-srv", "addr", "add", "198.18.0.1/24", "dev", "wgtp1-us"});
      ip({"-n", "wgtp1-cli", "addr", "add", "198.18.0.2/24", "dev", "wgtp1-uc"});
      ip({"-n", "wgtp1-srv", "link", "set", "wgtp1-us", "up"});
      ip({"-n", "wgtp1-cli", "link", "set", "wgtp1-uc", "up"});
    } catch (...) {
      down();
      throw;
    }
  }
  void down() {
    // Deleting a namespace deletes the veth pair with it.
    for (const char* ns : {"wgtp1-srv", "wgtp1-cli"}) runner->run({.argv = {"ip", "netns", "del", ns}, .timeout = 10s});
  }
  ~ScratchNetns() { down(); }
};

}  // namespace

TEST_CASE("Sampler inside network namespaces: per-namespace counters without spawning", "[sampler][root]") {
  ScratchNetns scratch;
  const Place srv = Place::netns("wgtp1-srv"), cli = Place::netns("wgtp1-cli");
  std::vector<WatchedInterface> watched = {{srv, "wgtp1-us"}, {cli, "wgtp1-uc"}};
  Sampler sampler({.interfaces = watched, .wireguard = false});
  sampler.start();
  auto ping = scratch.runner->run(
      {.argv = cli.wrap({"ping", "-q", "-c", "30", "-i", "0.05", "-s", "1000", "198.18.0.1"}), .timeout = 20s});
  CHECK(ping.ok());
  std::this_thread::sleep_for(1200ms);
  auto r = sampler.stop();
  REQUIRE(r.seconds.size() >= 1);
  check_sane(r);
  REQUIRE(r.summary.ifaces.size() == 2);
  const auto& us = r.summary.ifaces[0];
  const auto& uc = r.summary.ifaces[1];
  CHECK(us.present);
  CHECK(us.delta.rx_packets >= 30);
  CHECK(us.delta.rx_bytes >= 30u * 1000u);
  CHECK(uc.delta.tx_packets >= 30);
  CHECK(us.delta.rx_dropped == 0);
  // veth has ethtool -S: read before and after, and nothing dropped.
  REQUIRE(us.ethtool_delta);
  CHECK(drop_counters(*us.ethtool_delta).empty());
  // One snmp per namespace, ICMP is not UDP: nothing lost at the UDP layer.
  REQUIRE(r.summary.net.size() == 2);
  CHECK(r.summary.net[0].udp.in_errors == 0);
  // The host facts see plain veths: underlay, no WireGuard.
  auto facts = gather_host_facts(*scratch.runner, watched);
  CHECK(facts.nproc >= 1);
  CHECK(facts.underlay == std::vector<std::string>{"wgtp1-us", "wgtp1-uc"});
  CHECK(facts.wireguard.empty());
  // Nothing wrong with our own interfaces or namespaces. (CPU-wide rules are left out: other work
  // on a shared machine can legitimately pin a core while this runs.)
  for (const auto& f : diagnose(r.summary, facts)) {
    const bool ours = f.id == "nic_ring_drops" || f.id == "tx_dropped" || f.id == "udp_socket_buffers" ||
                      f.id == "userspace_wireguard";
    if (ours) FAIL_CHECK(f.id << ": " << f.evidence);
  }
}

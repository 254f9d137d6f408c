// The Sampler on the real machine. The host case needs no root (it only reads /proc); the
// namespace case (root) builds two scratch namespaces joined by a veth, prefix "wgtp1", pings
// across and checks the sampler sees it from inside each namespace without spawning per sample.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "common/error.hpp"
#include "common/exec.hpp"
#include "probes/diagnosis.hpp"
#include "probes/sampler.hpp"

using namespace wgopt;
using namespace wgopt::probes;
using namespace std::chrono_literals;

namespace {

// Sends `n` datagrams of `size` bytes to ourselves on 127.0.0.1 (loopback only).
void udp_to_self(int n, size_t size) {
  int rx = ::socket(AF_INET, SOCK_DGRAM, 0);
  int tx = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(rx >= 0);
  REQUIRE(tx >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(rx, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(rx, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  std::string payload(size, 'x');
  char buf[2048];
  for (int i = 0; i < n; ++i) {
    REQUIRE(::sendto(tx, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
            static_cast<ssize_t>(size));
    ::recv(rx, buf, sizeof buf, 0);  // drain so RcvbufErrors stays 0
  }
  ::close(rx);
  ::close(tx);
}

void check_sane(const SamplerResult& r) {
  for (const auto& s : r.seconds) {
    CHECK(s.seconds > 0);
    for (const auto& c : s.cpu) {
      CHECK(c.ticks > 0);
      for (double v : {c.usr, c.sys, c.soft, c.irq, c.iowait, c.steal, c.idle}) CHECK(v >= 0);
      CHECK(c.usr + c.sys + c.soft + c.irq + c.iowait + c.steal + c.idle == Approx(100.0).margin(0.01));
    }
    for (const auto& d : s.irqs) CHECK(d.total > 0);
  }
  CHECK(r.summary.cores.size() == r.seconds.front().cpu.size());
  for (const auto& c : r.summary.cores) CHECK(c.usr + c.sys + c.soft + c.irq + c.iowait + c.steal + c.idle ==
                                              Approx(100.0).margin(0.01));
}

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

TEST_CASE("Sampler on the host: about 3 s of sane per-second deltas and a summary") {
  std::atomic<int> callbacks{0};
  Sampler sampler({.interfaces = watch(Place::host(), {"lo"}),
                   .ethtool = false,
                   .wireguard = false,
                   .on_sample = [&](const SecondSample&) { ++callbacks; }});
  CHECK_FALSE(sampler.latest());
  sampler.start();
  std::this_thread::sleep_for(1500ms);
  udp_to_self(2000, 1000);
  std::this_thread::sleep_for(1700ms);
  auto r = sampler.stop();
  REQUIRE(r.seconds.size() >= 2);  // a loaded machine can delay a tick, never lose the run
  CHECK(callbacks.load() >= 1);
  REQUIRE(sampler.latest());
  check_sane(r);
  CHECK(r.summary.warnings.empty());
  CHECK(r.summary.seconds > 0);
  REQUIRE(r.summary.ifaces.size() == 1);
  CHECK(r.summary.ifaces[0].present);
  CHECK(r.summary.ifaces[0].delta.rx_bytes >= 2000u * 1000u);  // payload alone; headers add more
  CHECK(r.summary.ifaces[0].rx_mbps > 0);
  REQUIRE(r.summary.net.size() == 1);
  CHECK(r.summary.net[0].udp.in_datagrams >= 2000);
  CHECK(r.summary.net_rx.size() == r.summary.cores.size());
  CHECK_THROWS_AS(sampler.start(), Error);  // not restartable
}

TEST_CASE("Sampler rejects bad interface names and missing interfaces before sampling") {
  Sampler bad({.interfaces = watch(Place::host(), {"eth0;rm"}), .ethtool = false, .wireguard = false});
  CHECK_THROWS_AS(bad.start(), UsageError);
  Sampler missing({.interfaces = watch(Place::host(), {"nosuch9"}), .ethtool = false, .wireguard = false});
  CHECK_THROWS_WITH(missing.start(), Catch::Contains("nosuch9") && Catch::Contains("does not exist in host"));
  CHECK_THROWS_AS(Sampler({.interval = 10ms}), UsageError);
}

TEST_CASE("Sampler inside network namespaces (root): per-namespace counters without spawning") {
  if (::geteuid() != 0) {
    WARN("not root: the namespace sampler test needs root (CI runs as root)");
    return;
  }
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

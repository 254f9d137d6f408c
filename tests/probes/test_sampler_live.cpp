// The Sampler on the real machine, on the host (it only reads /proc: no root). The namespace case
// needs root and lives with the integration tests (tests/integration/test_sampler_netns.cpp).
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
#include "tests/probes/sampler_checks.hpp"

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

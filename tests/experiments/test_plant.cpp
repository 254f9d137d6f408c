// The one model of where the load runs (experiments/measure/plant.hpp): the tunnel from the route
// to the peer, the underlay from --interfaces or, without them, from the WireGuard peers'
// endpoints; one route_device (`ip -j route get`, an argv list). A scripted runner stands in for
// `ip` and `wg`; the live forms run in the integration tests of baseline, diagnose and search.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/measure/plant.hpp"

using namespace wgopt;
using namespace wgopt::experiments;

namespace {

// Answers by the argv joined with spaces; anything else fails like a missing route.
class ScriptedRunner : public CommandRunner {
 public:
  std::map<std::string, std::string> answers;
  std::vector<std::string> ran;
  CommandResult run(const Command& cmd) override {
    const std::string key = fmt::format("{}", fmt::join(cmd.argv, " "));
    ran.push_back(key);
    CommandResult r;
    auto it = answers.find(key);
    if (it == answers.end()) {
      r.exit_code = 2;
      r.err = "RTNETLINK answers: Network is unreachable";
      return r;
    }
    r.exit_code = 0;
    r.out = it->second;
    return r;
  }
};

ScriptedRunner wireguard_host() {
  ScriptedRunner r;
  r.answers["ip -j route get 100.64.0.1"] = R"([{"dst":"100.64.0.1","dev":"wt0","prefsrc":"100.64.0.2","flags":[],"uid":0,"cache":[]}])";
  r.answers["ip -d -j link show dev wt0"] = R"([{"ifname":"wt0","mtu":1280,"linkinfo":{"info_kind":"wireguard"}}])";
  r.answers["wg show all dump"] =
      "wt0\tPRIV=\tPUB=\t51820\toff\n"
      "wt0\tPEER1=\t(none)\t203.0.113.7:51820\t100.64.0.1/32\t1700000000\t10\t20\t25\n"
      "wt0\tPEER2=\t(none)\t[2001:db8::9]:51820\t100.64.0.3/32\t0\t0\t0\toff\n";
  r.answers["ip -j route get 203.0.113.7"] = R"([{"dst":"203.0.113.7","gateway":"10.0.0.1","dev":"ens5"}])";
  r.answers["ip -j route get 2001:db8::9"] = R"([{"dst":"2001:db8::9","dev":"ens5"}])";
  return r;
}

}  // namespace

TEST_CASE("route_device reads the device from `ip -j route get`, in the place asked", "[plant]") {
  auto r = wireguard_host();
  CHECK(route_device(r, Place::host(), "100.64.0.1") == "wt0");
  r.answers["ip netns exec tenant ip -j route get 100.64.0.1"] = R"([{"dst":"100.64.0.1","dev":"wg-t"}])";
  CHECK(route_device(r, Place::netns("tenant"), "100.64.0.1") == "wg-t");
  CHECK_THROWS_WITH(route_device(r, Place::host(), "192.0.2.1"), Catch::Contains("no route to 192.0.2.1"));
  r.answers["ip -j route get 192.0.2.2"] = "[{}]";
  CHECK_THROWS_WITH(route_device(r, Place::host(), "192.0.2.2"), Catch::Contains("named no device"));
}

TEST_CASE("peer mode without --interfaces: the underlay is what carries the WireGuard endpoints", "[plant]") {
  auto r = wireguard_host();
  const Plant p = peer_plant(r, "100.64.0.1", Place::host(), 5202);
  CHECK(p.server_address == "100.64.0.1");
  CHECK(p.port == 5202);
  CHECK(p.client_wg == "wt0");
  CHECK(p.client_underlay == "ens5");
  REQUIRE(p.watch.size() == 2);  // ens5 once, though two peers' endpoints route through it
  CHECK(p.watch[0] == probes::WatchedInterface{Place::host(), "wt0"});
  CHECK(p.watch[1] == probes::WatchedInterface{Place::host(), "ens5"});
  CHECK(p.rate_iface == probes::WatchedInterface{Place::host(), "wt0"});
  CHECK_FALSE(p.rate_iface_is_receiver_for_forward);
  CHECK_FALSE(p.recycle_server_listener);
  CHECK(p.description == "peer 100.64.0.1:5202 from host");
}

TEST_CASE("peer mode with --interfaces: the named ones that are not the tunnel are the underlay", "[plant]") {
  auto r = wireguard_host();
  const Plant p = peer_plant(r, "100.64.0.1", Place::host(), 5201, {"wt0", "eth1", "eth2"});
  CHECK(p.client_underlay == "eth1");
  REQUIRE(p.watch.size() == 3);
  CHECK(p.watch[1].name == "eth1");
  CHECK(p.watch[2].name == "eth2");
  for (const auto& cmd : r.ran) CHECK(cmd != "wg show all dump");  // the user said which
}

TEST_CASE("a peer that is not behind WireGuard has no underlay to find", "[plant]") {
  ScriptedRunner r;
  r.answers["ip -j route get 10.1.0.2"] = R"([{"dst":"10.1.0.2","dev":"veth1"}])";
  r.answers["ip -d -j link show dev veth1"] = R"([{"ifname":"veth1","linkinfo":{"info_kind":"veth"}}])";
  const Plant p = peer_plant(r, "10.1.0.2", Place::host());
  CHECK(p.client_wg == "veth1");
  CHECK(p.client_underlay.empty());
  CHECK(p.watch.size() == 1);
}

TEST_CASE("bad input to the plant is named before anything runs", "[plant]") {
  ScriptedRunner r;
  CHECK_THROWS_AS(peer_plant(r, "peer.example", Place::host()), UsageError);
  CHECK_THROWS_AS(peer_plant(r, "100.64.0.1", Place::host(), 5201, {"bad/name"}), UsageError);
  CHECK(r.ran.empty());
}

#include "experiments/measure/plant.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/testbed/testbed.hpp"
#include "probes/wireguard.hpp"

namespace wgopt::experiments {

namespace {

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// "198.18.0.1:51820" -> "198.18.0.1", "[fd00::1]:51820" -> "fd00::1"; empty if none.
std::string endpoint_host(const std::string& endpoint) {
  if (endpoint.empty()) return {};
  if (endpoint.front() == '[') {
    auto close = endpoint.find(']');
    return close == std::string::npos ? std::string{} : endpoint.substr(1, close - 1);
  }
  auto colon = endpoint.rfind(':');
  return colon == std::string::npos ? endpoint : endpoint.substr(0, colon);
}

// The interfaces that carry the endpoints of WireGuard interface `wg`'s peers, in peer order,
// each once; empty when `wg` is not a WireGuard interface.
std::vector<std::string> endpoint_devices(CommandRunner& runner, const Place& place, const std::string& wg) {
  std::vector<std::string> out;
  const auto facts = probes::detect_wg_facts(runner, place, wg);
  if (probes::classify_wg_mode(facts) == probes::WgMode::NotWireGuard) return out;
  for (const auto& dump : probes::read_wg_dump(runner, place)) {
    if (dump.name != wg) continue;
    for (const auto& peer : dump.peers) {
      const std::string host = endpoint_host(peer.endpoint);
      if (host.empty()) continue;
      const std::string dev = route_device(runner, place, host);
      if (dev != wg && std::find(out.begin(), out.end(), dev) == out.end()) out.push_back(dev);
    }
  }
  return out;
}

}  // namespace

std::string route_device(CommandRunner& runner, const Place& place, const std::string& address) {
  auto r = runner.run({.argv = place.wrap({"ip", "-j", "route", "get", address}), .timeout = std::chrono::seconds(10)});
  if (!r.ok()) {
    throw Error(fmt::format("no route to {} in {} ({}): check the address, or pass --netns for a peer inside a "
                            "namespace",
                            address, place.describe(), r.brief()));
  }
  try {
    auto j = nlohmann::json::parse(r.out);
    if (j.is_array() && !j.empty() && j[0].contains("dev")) return j[0]["dev"].get<std::string>();
  } catch (const std::exception&) {
  }
  throw Error(fmt::format("`ip -j route get {}` in {} named no device", address, place.describe()));
}

Plant testbed_plant(const Testbed& testbed) {
  const auto& n = testbed.names();
  Plant p;
  p.description = fmt::format("testbed {} (netns {} -> {}:{})", n.prefix, n.cli_netns, testbed.server_address(),
                              testbed.iperf3_port());
  p.client = testbed.client_place();
  p.server_address = testbed.server_address();
  p.port = testbed.iperf3_port();
  p.watch = {{testbed.client_place(), n.cli_wg},
             {testbed.server_place(), n.srv_wg},
             {testbed.client_place(), n.cli_underlay},
             {testbed.server_place(), n.srv_underlay}};
  p.rate_iface = {testbed.server_place(), n.srv_wg};
  p.rate_iface_is_receiver_for_forward = true;
  p.client_wg = n.cli_wg;
  p.client_underlay = n.cli_underlay;
  p.recycle_server_listener = true;  // the server end is tuned too
  return p;
}

void check_peer_address(const std::string& address, int port) {
  if (!is_ip_literal(address)) {
    throw UsageError(fmt::format("peer address '{}' is not an IP address: give the peer's mesh address, e.g. "
                                 "--peer 100.64.0.1",
                                 one_line(address, 80)));
  }
  if (port < 1 || port > 65535) throw UsageError(fmt::format("--port {} is not a port: use 1..65535", port));
}

Plant peer_plant(CommandRunner& runner, const std::string& address, const Place& client, int port,
                 const std::vector<std::string>& interfaces) {
  check_peer_address(address, port);
  for (const auto& i : interfaces) require_valid_ifname(i);
  Plant p;
  p.description = fmt::format("peer {}:{} from {}", address, port, client.describe());
  p.client = client;
  p.server_address = address;
  p.port = port;
  p.client_wg = route_device(runner, client, address);
  p.rate_iface = {client, p.client_wg};
  p.rate_iface_is_receiver_for_forward = false;
  p.watch = {{client, p.client_wg}};
  std::vector<std::string> underlay;
  if (interfaces.empty()) {
    underlay = endpoint_devices(runner, client, p.client_wg);  // the tunnel's packets leave through these
  } else {
    for (const auto& i : interfaces) {
      if (i != p.client_wg && std::find(underlay.begin(), underlay.end(), i) == underlay.end()) underlay.push_back(i);
    }
  }
  for (const auto& u : underlay) p.watch.push_back({client, u});
  if (!underlay.empty()) p.client_underlay = underlay.front();
  return p;
}

Plant resolve_plant(const PlantChoice& choice, std::shared_ptr<CommandRunner> runner,
                    const std::function<void(const std::string&)>& say) {
  if (choice.testbed == !choice.peer.empty()) {
    // Neither given read "..., not both" (found by an exploratory test).
    throw UsageError(fmt::format("say where the load goes: --testbed (the built-in testbed) or --peer ADDR (a host running "
                                 "`iperf3 -s`){}",
                                 choice.testbed ? ", not both" : ": neither was given"));
  }
  if (choice.port < 1 || choice.port > 65535) {
    throw UsageError(fmt::format("--port {} is out of range: use 1-65535", choice.port));
  }
  if (choice.testbed) {
    if (!choice.netns.empty()) throw UsageError("--netns goes with --peer; the testbed has its own namespaces");
    Testbed tb(choice.prefix, runner);
    // Held before `up`: a `testbed down` waiting on the rebuild's lock then sees this user.
    auto in_use = tb.hold_in_use();
    UpResult up = tb.up();
    if (up.outcome == UpResult::Outcome::created) {
      say(fmt::format("testbed {} was not up: brought it up", choice.prefix));
    } else if (up.outcome == UpResult::Outcome::rebuilt) {
      say(fmt::format("testbed {} was half-broken ({}): rebuilt it", choice.prefix, up.rebuilt_because));
    }
    Plant plant = testbed_plant(tb);
    plant.brought_up = up.outcome == UpResult::Outcome::created;
    plant.testbed_in_use = std::move(in_use);
    return plant;
  }
  const Place place = choice.netns.empty() ? Place::host() : Place::netns(choice.netns);
  if (!place.is_host()) {
    require_netns_exists(choice.netns);  // else: "no route ... (exit 255: Cannot open network namespace)", exit 1
    require_root("running the load inside network namespace " + choice.netns);
  }
  return peer_plant(*runner, choice.peer, place, choice.port, choice.interfaces);
}

}  // namespace wgopt::experiments

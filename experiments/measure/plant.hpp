#pragma once
// Where the load runs and what the probes watch: THE one model of the plant, built in one place
// for `wgopt baseline`, `wgopt diagnose` and `wgopt search`.
//
//   auto plant = experiments::resolve_plant({.peer = "100.64.0.1"}, runner, say);
//   // plant.client runs `iperf3 -c plant.server_address -p plant.port`; the sampler watches plant.watch
//
// Inputs: the user's choice (the built-in testbed, or a peer running `iperf3 -s` reached from the
// host or a namespace). Outputs: a Plant. Errors: UsageError for a choice that is not one (neither
// or both of testbed / peer, a bad port, --netns with the testbed, a peer that is not an IP
// literal, a bad interface name), Error when no route reaches the peer or the testbed cannot be
// brought up.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/exec.hpp"
#include "common/place.hpp"
#include "probes/samples.hpp"

namespace wgopt {
class Testbed;
}

namespace wgopt::experiments {

struct Plant {
  std::string description;            // "testbed wgopt (netns wgopt-cli -> 100.64.0.1:5201)"
  Place client;                       // iperf3 client runs here
  std::string server_address;         // iperf3 server (the peer's mesh address)
  int port = 5201;
  // Interfaces whose counters the sampler reads: the tunnel interface(s) first, then the underlay(s);
  // both ends' where we can see both (the receiver's drops matter as much as the sender's).
  std::vector<probes::WatchedInterface> watch;
  // Per-second throughput for early stopping: bytes on this interface (the receiver's tunnel
  // interface when we can see it, else the client's).
  probes::WatchedInterface rate_iface;
  bool rate_iface_is_receiver_for_forward = true;  // forward: rx on rate_iface; reverse: tx
  std::string client_wg;              // the client's tunnel interface (liveness: MTU, handshake)
  std::string client_underlay;        // the client's underlay (host facts: NIC driver); may be empty
  // The iperf3 server's end is tuned too (the testbed). iperf3 3.12 re-creates its listening socket
  // when a test ends, and accepted sockets inherit the listener's buffers, so the first test after a
  // change of the server's tcp_rmem runs with the previous values (measured: 4 KiB rmem gave 538-731
  // Mbit/s on the first test, 60-78 on the next). A bare connect+close before measuring makes
  // iperf3 drop that test and listen afresh under the current values (then 46-70 at once).
  bool recycle_server_listener = false;
  // resolve_plant built the testbed because it was not up: a command that stops before using it
  // (bad input found after discovery) takes it down again, leaving the host as it found it.
  bool brought_up = false;
  // The testbed held in use while any copy of this plant lives (Testbed::hold_in_use): `wgopt
  // testbed down` refuses meanwhile (it took a search's path away mid-trial without a word).
  std::shared_ptr<const void> testbed_in_use;
};

// What the user chose on the command line (`--testbed [--prefix P]` or `--peer ADDR [--netns NS]
// [--interfaces LIST]`).
struct PlantChoice {
  bool testbed = false;
  std::string prefix = "wgopt";
  std::string peer;   // empty unless --peer
  std::string netns;  // empty: the host
  int port = 5201;
  // Peer mode: the interfaces the user named (the search tunes them). Given, the ones that are not
  // the tunnel are the underlay; empty, the underlay is found from the WireGuard peers' endpoints.
  std::vector<std::string> interfaces;
};

// The device `ip -j route get ADDRESS` picks in `place` (run through `runner`, an argv list).
// Throws Error when there is no route or the answer names no device.
std::string route_device(CommandRunner& runner, const Place& place, const std::string& address);

// The testbed's client namespace against its server, watching both ends' WireGuard and underlay
// interfaces; the rate is read on the server's tunnel interface, and the server's listener is
// recycled (both ends are tuned).
Plant testbed_plant(const Testbed& testbed);

// A peer running `iperf3 -s` at `address`:`port`, from `client` (the host or a namespace). The
// tunnel is the interface that carries `address`. The underlay: the `interfaces` that are not the
// tunnel when given, else, when the tunnel is a WireGuard interface, the interfaces that carry its
// peers' endpoints. Throws UsageError for an address that is not an IP literal or a bad interface
// name, Error when no route reaches it.
// A peer's address and iperf3 port as given on the command line: UsageError (one line naming the
// value and the form to use) unless `address` is an IP literal and `port` is 1..65535, so that no
// other program's error ("ip: invalid argument") is what a typo shows. peer_plant checks it too.
void check_peer_address(const std::string& address, int port);

Plant peer_plant(CommandRunner& runner, const std::string& address, const Place& client, int port = 5201,
                 const std::vector<std::string>& interfaces = {});

// The Plant for a choice; THE rule for the testbed: Testbed::up() (a healthy testbed a ping crosses
// is left as it is; a missing one is built, a half-broken one rebuilt), saying through `say` (one
// line) when it built or rebuilt it. Throws UsageError for neither or both of testbed / peer, a bad
// port, --netns with the testbed, and what Testbed::up and peer_plant throw.
Plant resolve_plant(const PlantChoice& choice, std::shared_ptr<CommandRunner> runner,
                    const std::function<void(const std::string&)>& say);

}  // namespace wgopt::experiments

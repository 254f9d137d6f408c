#pragma once
// The seams of `wgopt search`: everything the loop does to the world outside its own process goes
// through one SearchEnv, so the whole loop runs in unit tests on fakes (fake knobs, scripted
// measurements, a recording guardian, a fake clock: tests/experiments/test_search_trace.cpp) and on
// the live host with default_search_env(), whose every member is the call the loop made before
// these seams existed.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actuators/host_tuners.hpp"
#include "actuators/knob.hpp"
#include "actuators/restore.hpp"
#include "common/exec.hpp"
#include "experiments/study/budget.hpp"
#include "experiments/measure/measure.hpp"
#include "actuators/watchdog.hpp"

namespace wgopt::experiments {

struct SearchOptions;
class PeerLink;
struct SearchPlant;

// One place whose knobs a candidate changes. The first end is the primary: its knob ids are the
// optimizer's parameter names. A Mirror end holds the same knobs under its own interface names
// (the testbed's server end: both ends tuned alike); a Global end holds only host-wide knobs
// (--allow-global from inside a namespace).
struct SearchEnd {
  enum class Role { Primary, Mirror, Global };
  std::string label;                    // "client", "server", "local", "host"
  Role role = Role::Primary;
  act::Host host;
  std::vector<std::string> interfaces;  // discovered devices (Primary/Mirror, index-aligned); empty: all
  std::vector<std::string> wireguard;   // which of them are WireGuard interfaces
};

// The plant as the search sees it: where the load runs and what the probes watch, and the ends
// whose knobs are tuned, primary first.
struct SearchPlant {
  Plant plant;
  std::vector<SearchEnd> ends;
  // Set when building the plant brought the testbed up (it was not there): takes it down again.
  // A search refused after the plant was built (a --knobs pattern no knob matches, another wgopt
  // holding the lock) calls it, so bad input leaves the host as the search found it.
  std::function<void()> take_down;
  // Starts the plant's iperf3 server again when it is not listening (the testbed's; a --ssh peer's
  // is the peer's agent's, RemoteEnd::ensure_server) and says what it did, "" when it was
  // listening. Empty: wgopt does not run the server (a plain --peer).
  std::function<std::string()> restart_server;
};

struct SearchEnv {
  std::shared_ptr<CommandRunner> runner;  // commands of the loop itself (liveness, host facts)
  SteadyClock clock;                      // the budget's and the report's time
  std::function<double()> unix_time;      // timestamps in the study and the profile
  std::function<void(std::chrono::milliseconds)> sleep;  // one short wait (the settle wait is made of them)
  std::string state_dir;                  // journal, studies
  std::string run_dir;                    // the host lock (actuators/lock.hpp)
  act::KnobLookup knob_lookup;            // crash recovery's way to find a journaled knob again
  std::function<void()> require_root;
  // Builds the plant with resolve_plant (experiments/measure/plant.hpp: for the testbed, brings it
  // up) and its ends; `say` reports what it did.
  std::function<SearchPlant(const SearchOptions&, const std::function<void(const std::string&)>& say)> plant;
  std::function<Evaluation(const Plant&, const Objective&, const MeasureOptions&)> measure;
  // True when the tunnel carries a full-size don't-fragment ping and the handshake is recent;
  // otherwise false with the reason in `why`.
  std::function<bool(const Plant&, std::string& why)> tunnel_alive;
  // Kernel, nproc, SKU, NIC driver, WireGuard mode of the primary end (the profile's host facts).
  std::function<nlohmann::json(const SearchPlant&, const std::string& sku)> host_facts;
  // The other tuners running on the host (irqbalance, TuneD, bpftune: actuators/host_tuners.hpp).
  std::function<std::vector<act::Tuner>()> detect_tuners;
  // Starts the guardian for this search (called only when options.watchdog).
  std::function<std::unique_ptr<act::Guardian>(const SearchOptions&, const std::string& state_dir)> start_guardian;
  // --ssh: the session to the peer's agent (experiments/search/remote_end.hpp), ssh run from the
  // plant's client place. Throws like peer::AgentClient::connect; Cancelled once `interrupted` is set
  // while the peer's hello is awaited.
  std::function<std::unique_ptr<PeerLink>(const SearchOptions&, const SearchPlant&, const std::atomic<bool>& interrupted)> connect_peer;
};

// The real thing: root required, the process runner, steady and system clocks, act::state_dir(), act::run_dir(),
// the testbed or the peer from the options, measure_objective, act::detect_tuners on the host, the
// watchdog process.
SearchEnv default_search_env();

}  // namespace wgopt::experiments

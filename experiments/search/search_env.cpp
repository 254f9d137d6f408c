#include "experiments/search/search_env.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <thread>

#include "actuators/host.hpp"
#include "actuators/lock.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "experiments/measure/host_facts.hpp"
#include "experiments/search/remote_end.hpp"
#include "experiments/search/search.hpp"
#include "experiments/study/study_store.hpp"
#include "experiments/testbed/testbed.hpp"
#include "workload/iperf3_server.hpp"
#include "probes/wireguard.hpp"

namespace wgopt::experiments {

namespace {

// A handshake older than this means the peer is gone (WireGuard rekeys every 2 minutes).
constexpr long long kHandshakeMaxAge = 180;

std::string self_exe(const std::string& given) { return given == "/proc/self/exe" ? act::self_exe_path() : given; }

// The tunnel is alive when a full-size don't-fragment ping crosses it and the handshake is recent.
bool tunnel_alive(const Plant& plant, CommandRunner& runner, std::string& why) {
  auto files = files_for(plant.client);
  int mtu = 1420;
  if (auto m = files->read("/sys/class/net/" + plant.client_wg + "/mtu")) {
    try {
      mtu = std::stoi(trim(*m));
    } catch (...) {
    }
  }
  const int size = std::max(0, mtu - 28);  // IPv4 + ICMP headers
  Command ping{.argv = plant.client.wrap({"ping", "-n", "-q", "-M", "do", "-c", "3", "-i", "0.2", "-W", "2", "-s",
                                          std::to_string(size), plant.server_address}),
               .timeout = std::chrono::seconds(8)};
  auto r = runner.run(ping);
  if (!r.ok()) {
    // Exit 1 is ping's "no reply" (its brief would be ping's own header line): said in words.
    why = r.exit_code == 1 ? fmt::format("no reply to a {}-byte don't-fragment ping across the tunnel (MTU {})", size, mtu)
                           : fmt::format("no reply to a {}-byte don't-fragment ping across the tunnel (MTU {}): {}", size, mtu, r.brief());
    return false;
  }
  Command hs{.argv = plant.client.wrap({"wg", "show", plant.client_wg, "latest-handshakes"}),
             .timeout = std::chrono::seconds(5)};
  auto h = runner.run(hs);
  if (h.ok()) {
    long long newest = 0;
    for (const auto& line : split_lines(h.out)) {
      auto f = split_ws(line);
      if (f.size() == 2) {
        try {
          newest = std::max(newest, std::stoll(f[1]));
        } catch (...) {
        }
      }
    }
    long long age = static_cast<long long>(std::time(nullptr)) - newest;
    if (newest == 0 || age > kHandshakeMaxAge) {
      why = newest == 0 ? "no WireGuard handshake with the peer" : fmt::format("last handshake {} s ago", age);
      return false;
    }
  }
  return true;
}

nlohmann::json host_facts(const SearchPlant& sp, const std::string& sku, CommandRunner& runner) {
  const Plant& plant = sp.plant;
  const auto& ends = sp.ends;
  nlohmann::json h;
  if (auto k = kernel_release(); !k.empty()) h["kernel"] = k;
  h["nproc"] = ends.front().host.nproc;
  h["place"] = plant.client.describe();
  if (ends.size() > 1 && ends[1].role == SearchEnd::Role::Mirror) h["mirrored_to"] = ends[1].host.place.describe();
  h["sku"] = sku.empty() ? read_sku(ends.front().host.nproc) : trim(sku);
  if (!plant.client_underlay.empty()) {
    if (auto d = nic_driver(runner, plant.client, plant.client_underlay); !d.empty()) h["nic_driver"] = d;
  }
  h["wireguard_mode"] = wireguard_mode(runner, plant.client, plant.client_wg);
  // The interfaces those two facts were read on: the gates compare them there when the profile's
  // knobs name no device (a profile of sysctls only, host_gate.hpp).
  if (!plant.client_underlay.empty()) h["underlay"] = plant.client_underlay;
  h["wireguard"] = plant.client_wg;
  return h;
}

// The ends whose knobs a candidate changes, on the one Plant (experiments/measure/plant.hpp): the
// testbed's client, mirrored to its server; or this host (or --netns) in peer mode, over
// --interfaces (empty: all); plus the host itself for host-wide knobs with --allow-global from a
// namespace.
SearchPlant search_plant(const SearchOptions& o, Plant plant, std::shared_ptr<CommandRunner> runner) {
  SearchPlant sp;
  if (o.testbed) {
    const TestbedNames n = Testbed(o.testbed_prefix, runner).names();  // a copy: the Testbed is a temporary
    sp.ends.push_back({"client", SearchEnd::Role::Primary, act::make_host(n.client_place()), {n.cli_wg, n.cli_underlay}, {n.cli_wg}});
    sp.ends.push_back({"server", SearchEnd::Role::Mirror, act::make_host(n.server_place()), {n.srv_wg, n.srv_underlay}, {n.srv_wg}});
  } else {
    sp.ends.push_back({"local", SearchEnd::Role::Primary, act::make_host(plant.client), o.interfaces, {plant.client_wg}});
    plant.recycle_server_listener = o.ssh.has_value();  // --ssh: the server's end is tuned too (measure.hpp)
  }
  if (o.allow_global && !plant.client.is_host()) {
    sp.ends.push_back({"host", SearchEnd::Role::Global, act::make_host(Place::host()), {}, {}});
  }
  sp.plant = std::move(plant);
  return sp;
}

}  // namespace

SearchEnv default_search_env() {
  SearchEnv env;
  env.runner = default_runner();
  env.clock = [] { return std::chrono::steady_clock::now(); };
  env.unix_time = [] { return unix_now(); };
  env.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  env.state_dir = act::state_dir();
  env.run_dir = act::run_dir();
  env.knob_lookup = act::default_knob_lookup();
  env.require_root = [] { require_root("wgopt search"); };
  auto runner = env.runner;
  env.plant = [runner](const SearchOptions& o, const std::function<void(const std::string&)>& say) {
    const PlantChoice choice{.testbed = o.testbed, .prefix = o.testbed_prefix, .peer = o.peer, .netns = o.netns,
                             .port = o.port, .interfaces = o.interfaces};
    SearchPlant sp = search_plant(o, resolve_plant(choice, runner, say), runner);
    if (sp.plant.brought_up) sp.take_down = [prefix = o.testbed_prefix, runner] { Testbed(prefix, runner).down(); };
    if (o.testbed) {
      sp.restart_server = [prefix = o.testbed_prefix, runner]() -> std::string {
        const auto server = Testbed(prefix, runner).iperf3_server();
        if (workload::server_state(server).running()) return "";
        workload::start_server(server, *runner);
        return "started the testbed's iperf3 server again";
      };
    }
    return sp;
  };
  env.measure = [](const Plant& p, const Objective& obj, const MeasureOptions& mo) { return measure_objective(p, obj, mo); };
  env.tunnel_alive = [runner](const Plant& p, std::string& why) { return tunnel_alive(p, *runner, why); };
  env.host_facts = [runner](const SearchPlant& sp, const std::string& sku) { return host_facts(sp, sku, *runner); };
  env.detect_tuners = [] { return act::detect_tuners(act::make_host(Place::host())); };
  env.start_guardian = [](const SearchOptions& o, const std::string& state_dir) -> std::unique_ptr<act::Guardian> {
    return std::make_unique<act::Watchdog>(act::Watchdog::start(self_exe(o.wgopt_exe), state_dir));
  };
  env.connect_peer = [](const SearchOptions& o, const SearchPlant& sp, const std::atomic<bool>& interrupted) -> std::unique_ptr<PeerLink> {
    peer::SshOptions ssh = *o.ssh;
    ssh.from = sp.plant.client;  // the underlay is reachable from where the client runs
    std::vector<std::string> facts = o.peer_interfaces.empty() ? o.interfaces : o.peer_interfaces;
    return agent_link(peer::AgentClient::connect(ssh, {.fact_interfaces = facts, .interrupted = &interrupted}));
  };
  return env;
}

}  // namespace wgopt::experiments

// Reading a testbed's state: `wg show IF dump`, `ip -j addr`, the processes in our namespaces and
// the state file. Nothing here changes the host.
#include <unistd.h>

#include <ctime>
#include <fmt/format.h>

#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/testbed/testbed.hpp"
#include "experiments/testbed/testbed_host.hpp"

namespace wgopt {

namespace th = testbed_host;

TestbedNames testbed_names(const std::string& prefix) {
  bool ok = !prefix.empty() && prefix.size() <= 6;
  for (char c : prefix) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
  if (!ok) {
    throw UsageError(fmt::format("testbed prefix '{}' is not valid: use 1-6 characters of [a-z0-9]", prefix));
  }
  return TestbedNames{.prefix = prefix,
                      .srv_netns = prefix + "-srv",
                      .cli_netns = prefix + "-cli",
                      .srv_underlay = prefix + "-us",
                      .cli_underlay = prefix + "-uc",
                      .srv_wg = prefix + "-ws",
                      .cli_wg = prefix + "-wc"};
}

probes::WgInterface read_wg_interface(CommandRunner& runner, const Place& place, const std::string& ifname) {
  require_valid_ifname(ifname);
  // `wg show all dump` would also list every other wireguard-go socket in the shared
  // /var/run/wireguard; asking for one interface and adding the interface column gives the
  // probes' parser the `all` layout it reads.
  auto r = run_checked(runner, {.argv = place.wrap({"wg", "show", ifname, "dump"}), .timeout = std::chrono::seconds(10)},
                       "cannot read WireGuard state of " + ifname);
  std::string all;
  for (const auto& line : split_lines(r.out)) all += ifname + "\t" + line + "\n";
  auto ifs = probes::parse_wg_dump(all, "wg show " + ifname + " dump");
  if (ifs.size() != 1) throw Error(fmt::format("`wg show {} dump` printed no interface line", ifname));
  return ifs.front();
}

namespace {

// Checks one end's links from `ip -j addr show` in its namespace.
void read_links(CommandRunner& runner, const Place& place, const std::string& underlay, const std::string& underlay_addr,
                const std::string& wg, const std::string& mesh_addr, TestbedEnd& end, std::vector<std::string>& problems) {
  auto r = runner.run({.argv = place.wrap({"ip", "-j", "addr", "show"}), .timeout = std::chrono::seconds(10)});
  if (!r.ok()) {
    problems.push_back(fmt::format("cannot list links in {}: {}", place.describe(), r.brief()));
    return;
  }
  nlohmann::json links;
  try {
    links = nlohmann::json::parse(r.out);
  } catch (const std::exception&) {
    problems.push_back(fmt::format("`ip -j addr show` in {} printed no JSON", place.describe()));
    return;
  }
  auto has = [](const nlohmann::json& link, const std::string& flag) {
    for (const auto& f : link.value("flags", nlohmann::json::array())) {
      if (f == flag) return true;
    }
    return false;
  };
  auto has_addr = [](const nlohmann::json& link, const std::string& addr) {
    for (const auto& a : link.value("addr_info", nlohmann::json::array())) {
      if (a.value("local", "") == addr) return true;
    }
    return false;
  };
  for (const auto& link : links) {
    const std::string name = link.value("ifname", "");
    if (name == underlay) end.underlay_up = has(link, "UP") && has(link, "LOWER_UP") && has_addr(link, underlay_addr);
    if (name == wg) {
      end.wg_mtu = link.value("mtu", 0);
      // Any MTU counts as up: a tuned tunnel MTU (a promoted search winner, `wgopt set`) is the
      // point of the testbed, and rebuilding it would throw that tuning and the journal's view away.
      end.wg_up = has(link, "UP") && has_addr(link, mesh_addr) && end.wg_mtu > 0;
    }
  }
  if (!end.underlay_up) problems.push_back(fmt::format("underlay {} in {} is missing, down or has no {}", underlay, end.netns, underlay_addr));
  if (!end.wg_up) problems.push_back(fmt::format("WireGuard interface {} in {} is missing, down, or lacks {}", wg, end.netns, mesh_addr));
}

}  // namespace

TestbedStatus Testbed::status() {
  require_root("wgopt testbed status");
  TestbedStatus s;
  s.prefix = names_.prefix;
  auto state = th::load_json(state_file());
  s.state_file = state.has_value();
  const std::string boot = boot_id();

  const ino_t srv_ino = th::netns_inode(names_.srv_netns);
  const ino_t cli_ino = th::netns_inode(names_.cli_netns);
  bool ours = state && state->value("boot_id", "") == boot;
  auto recorded_ino = [&](const char* key) -> ino_t { return state ? state->value(key, 0ull) : 0; };
  if (ours && srv_ino && recorded_ino("srv_netns_inode") && recorded_ino("srv_netns_inode") != srv_ino) ours = false;
  if (ours && cli_ino && recorded_ino("cli_netns_inode") && recorded_ino("cli_netns_inode") != cli_ino) ours = false;
  s.ours = ours;
  if (state && !ours) s.problems.push_back("state file " + state_file() + " does not match what is on this host");

  struct EndSpec {
    TestbedEnd& end;
    Place place;
    ino_t ino;
    std::string underlay, underlay_addr, wg, mesh_addr;
  };
  EndSpec specs[] = {
      {s.server, server_place(), srv_ino, names_.srv_underlay, TestbedNames::srv_underlay_addr, names_.srv_wg, TestbedNames::srv_mesh_addr},
      {s.client, client_place(), cli_ino, names_.cli_underlay, TestbedNames::cli_underlay_addr, names_.cli_wg, TestbedNames::cli_mesh_addr},
  };
  for (auto& e : specs) {
    e.end.netns = e.place.netns_name();
    e.end.netns_present = e.ino != 0;
    for (const auto& p : th::wireguard_go_for(e.wg)) {
      s.anything_present = true;
      if (e.ino && p.netns == e.ino) e.end.wireguard_go_pid = p.pid;
    }
    if (::access(("/var/run/wireguard/" + e.wg + ".sock").c_str(), F_OK) == 0) s.anything_present = true;
    if (!e.end.netns_present) {
      s.problems.push_back(fmt::format("network namespace {} does not exist", e.end.netns));
      continue;
    }
    s.anything_present = true;
    read_links(*runner_, e.place, e.underlay, e.underlay_addr, e.wg, e.mesh_addr, e.end, s.problems);
    if (e.end.wireguard_go_pid == 0) {
      s.problems.push_back(fmt::format("no wireguard-go serves {} in {}", e.wg, e.end.netns));
      continue;
    }
    try {
      e.end.wg = read_wg_interface(*runner_, e.place, e.wg);
    } catch (const Error& err) {
      s.problems.push_back(err.what());
      continue;
    }
    if (e.end.wg->peers.size() != 1) s.problems.push_back(fmt::format("{} has {} peers, expected 1", e.wg, e.end.wg->peers.size()));
  }

  if (srv_ino) {
    const auto server = workload::server_state(iperf3_server());
    if (server.running()) s.iperf3_pid = server.pid;
    if (server.pid) s.anything_present = true;
    if (s.iperf3_pid == 0) s.problems.push_back(fmt::format("no iperf3 server of ours listens on {}:{} in {}", TestbedNames::srv_mesh_addr, TestbedNames::iperf3_port, names_.srv_netns));
  }
  if (s.client.wg && !s.client.wg->peers.empty() && s.client.wg->peers[0].latest_handshake > 0) {
    s.handshake_age_s = s.client.wg->peers[0].handshake_age(std::time(nullptr));
  } else if (s.client.wg) {
    s.problems.push_back(fmt::format("{} has no handshake with its peer", names_.cli_wg));
  }
  if (state && srv_ino) read_ssh_status(*state, s);
  s.in_use_by = users();
  s.healthy = s.ours && s.problems.empty();
  if (!s.state_file && s.anything_present) s.problems.insert(s.problems.begin(), "not built by wgopt (no state file " + state_file() + ")");
  return s;
}

nlohmann::json TestbedStatus::to_json() const {
  auto end_json = [](const TestbedEnd& e) {
    nlohmann::json j{{"netns", e.netns}, {"netns_present", e.netns_present}, {"underlay_up", e.underlay_up},
                     {"wg_up", e.wg_up}, {"wg_mtu", e.wg_mtu}, {"wireguard_go_pid", e.wireguard_go_pid}};
    if (e.wg) {
      nlohmann::json peers = nlohmann::json::array();
      for (const auto& p : e.wg->peers) {
        peers.push_back({{"public_key", p.public_key}, {"endpoint", p.endpoint}, {"allowed_ips", p.allowed_ips},
                         {"latest_handshake", p.latest_handshake}, {"rx_bytes", p.rx_bytes},
                         {"tx_bytes", p.tx_bytes}, {"keepalive_s", p.persistent_keepalive}});
      }
      j["wireguard"] = {{"public_key", e.wg->public_key}, {"listen_port", e.wg->listen_port}, {"peers", peers}};
    }
    return j;
  };
  nlohmann::json j{{"prefix", prefix},   {"state_file", state_file}, {"ours", ours},
                   {"healthy", healthy}, {"problems", problems},     {"server", end_json(server)},
                   {"client", end_json(client)}, {"iperf3_pid", iperf3_pid}};
  j["handshake_age_s"] = handshake_age_s ? nlohmann::json(*handshake_age_s) : nlohmann::json(nullptr);
  j["in_use_by"] = in_use_by;
  if (ssh) {
    j["ssh"] = {{"dir", ssh->dir},           {"sshd_pid", ssh->sshd_pid},       {"listening", ssh->listening},
                {"target", ssh->target},     {"identity", ssh->identity},       {"known_hosts", ssh->known_hosts},
                {"peer_wgopt", ssh->peer_wgopt}, {"peer_state_dir", ssh->peer_state_dir},
                {"peer_run_dir", ssh->peer_run_dir}, {"flags", ssh->flags()}};
  }
  return j;
}

}  // namespace wgopt

// `wgopt testbed up|down|status [--prefix P] [--json]`: the built-in two-namespace WireGuard path.
#include <cstdio>
#include <vector>
#include <fmt/format.h>

#include "cli/registry.hpp"
#include "actuators/watchdog.hpp"
#include "experiments/testbed/testbed.hpp"

namespace wgopt::cli {
namespace {

struct TestbedOptions {
  std::string prefix = "wgopt";
  bool json = false;
  bool ssh = false;  // up: add the server end's sshd
  bool force = false;  // down: even while a search or baseline measures on it
};

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

void print_ssh_text(const TestbedNames& n, const TestbedSsh& ssh) {
  std::printf("sshd pid %d listens on %s:%d in %s (config %s, log %s)\n", ssh.sshd_pid, TestbedNames::srv_underlay_addr,
              TestbedSsh::port, n.srv_netns.c_str(), ssh.config.c_str(), ssh.log.c_str());
  std::printf("peer sessions run with WGOPT_STATE_DIR=%s WGOPT_RUN_DIR=%s\n", ssh.peer_state_dir.c_str(),
              ssh.peer_run_dir.c_str());
  std::printf("reach the server end over ssh from %s (the underlay is there), e.g.:\n", n.cli_netns.c_str());
  std::printf("  ip netns exec %s %s knobs %s\n", n.cli_netns.c_str(), ssh.peer_wgopt.c_str(), joined(ssh.flags()).c_str());
  std::printf("flags: %s\n", joined(ssh.flags()).c_str());
}

void add_common(CLI::App* sub, TestbedOptions& o) {
  sub->add_option("--prefix", o.prefix, "names the testbed: namespaces P-srv/P-cli, links P-us/P-uc/P-ws/P-wc ([a-z0-9]{1,6})")
      ->capture_default_str();
  sub->add_flag("--json", o.json, "print JSON on stdout instead of text");
}

std::string age_text(const std::optional<long long>& age) {
  return age ? fmt::format("{} s ago", *age) : "never";
}

void print_status_text(const TestbedStatus& s) {
  const auto& srv = s.server;
  const auto& cli = s.client;
  std::printf("testbed %s: %s\n", s.prefix.c_str(),
              s.healthy ? "up" : (s.anything_present ? "BROKEN" : "down"));
  if (!s.anything_present && !s.state_file) return;
  for (const TestbedEnd* e : {&srv, &cli}) {
    std::printf("  %-10s netns %-7s underlay %-4s wg %-4s mtu %-5d wireguard-go %s\n", e->netns.c_str(),
                e->netns_present ? "present" : "missing", e->underlay_up ? "up" : "down", e->wg_up ? "up" : "down",
                e->wg_mtu, e->wireguard_go_pid ? fmt::format("pid {}", e->wireguard_go_pid).c_str() : "none");
    if (e == &srv && s.ssh) {
      std::printf("    sshd %s on %s:%d %s, peer state %s\n",
                  s.ssh->sshd_pid ? fmt::format("pid {}", s.ssh->sshd_pid).c_str() : "NOT RUNNING",
                  TestbedNames::srv_underlay_addr, TestbedSsh::port, s.ssh->listening ? "listening" : "NOT LISTENING",
                  s.ssh->peer_state_dir.c_str());
    }
    if (e->wg) {
      for (const auto& p : e->wg->peers) {
        std::string allowed;
        for (const auto& a : p.allowed_ips) allowed += (allowed.empty() ? "" : ",") + a;
        std::printf("    peer %s endpoint %s allowed %s keepalive %d s, rx %llu B tx %llu B\n",
                    p.public_key.substr(0, 8).c_str(), p.endpoint.c_str(), allowed.c_str(), p.persistent_keepalive,
                    static_cast<unsigned long long>(p.rx_bytes), static_cast<unsigned long long>(p.tx_bytes));
      }
    }
  }
  std::printf("  iperf3 server %s:%d: %s\n", TestbedNames::srv_mesh_addr, TestbedNames::iperf3_port,
              s.iperf3_pid ? fmt::format("pid {}", s.iperf3_pid).c_str() : "not running");
  std::printf("  handshake: %s\n", age_text(s.handshake_age_s).c_str());
  for (int pid : s.in_use_by) std::printf("  in use by wgopt pid %d\n", pid);
  for (const auto& p : s.problems) std::printf("  problem: %s\n", p.c_str());
}

void setup_testbed(CLI::App& root, Context& ctx) {
  auto* tb = root.add_subcommand("testbed", "build, remove or inspect the built-in WireGuard testbed (two namespaces, "
                                            "wireguard-go, iperf3 server)");
  tb->require_subcommand(1);
  auto opts = std::make_shared<TestbedOptions>();

  auto* up = tb->add_subcommand("up", "build the testbed (does nothing if it is healthy, rebuilds it if half-broken, starts its sshd again if only that died)");
  add_common(up, *opts);
  up->add_flag("--ssh", opts->ssh,
               "also run a real sshd in the server namespace on 198.18.0.1:22 (fresh host and client keys) and print "
               "the --ssh flags that reach it");
  up->footer("Examples:\n"
             "  wgopt testbed up\n"
             "  wgopt testbed up --ssh --prefix wge      # then: ip netns exec wge-cli wgopt knobs --ssh root@198.18.0.1 ...\n"
             "With --ssh the server end acts as a separate host: its ssh sessions have their own WGOPT_STATE_DIR and\n"
             "WGOPT_RUN_DIR under /run/wgopt/testbed-P-ssh; `wgopt testbed down` stops sshd and removes the keys.");
  up->callback([opts] {
    Testbed t(opts->prefix);
    UpResult r = t.up_with_ssh(opts->ssh, act::self_exe_path());
    if (opts->json) {
      const char* outcome = r.outcome == UpResult::Outcome::created   ? "created"
                            : r.outcome == UpResult::Outcome::rebuilt ? "rebuilt"
                                                                      : "already_up";
      nlohmann::json j{{"outcome", outcome}, {"rebuilt_because", r.rebuilt_because}, {"ping_ms", r.ping_ms},
                       {"sshd_repaired", r.sshd_repaired},
                       {"sshd", !r.ssh ? nlohmann::json()
                                       : nlohmann::json(r.ssh->made == TestbedSsh::Made::found       ? "found"
                                                        : r.ssh->made == TestbedSsh::Made::restarted ? "restarted"
                                                                                                     : "made anew")},
                       {"status", r.status.to_json()}};
      if (r.ssh) {
        j["ssh"] = {{"sshd_pid", r.ssh->sshd_pid}, {"target", r.ssh->target},   {"identity", r.ssh->identity},
                    {"known_hosts", r.ssh->known_hosts}, {"peer_wgopt", r.ssh->peer_wgopt},
                    {"peer_state_dir", r.ssh->peer_state_dir}, {"peer_run_dir", r.ssh->peer_run_dir},
                    {"flags", r.ssh->flags()}, {"client_netns", t.names().cli_netns}};
      }
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    const auto& n = t.names();
    if (r.outcome == UpResult::Outcome::already_up) {
      // What was done to its sshd, from what up_ssh did (found in review: `up --ssh` that added one
      // said "nothing changed").
      const auto made = r.ssh ? r.ssh->made : TestbedSsh::Made::found;
      const char* line = made == TestbedSsh::Made::found ? "testbed {} is already up and healthy: nothing changed"
                         : made == TestbedSsh::Made::restarted
                             ? "testbed {} was up but its sshd was not running: started it again on its keys, the peer's state kept"
                         : r.sshd_repaired ? "testbed {} was up but its sshd was not healthy: made it anew, with fresh keys and a fresh peer state"
                                           : "testbed {} is up: added its sshd, with fresh keys and a fresh peer state";
      std::printf("%s (handshake %s, ping %.3f ms)\n", fmt::format(fmt::runtime(line), n.prefix).c_str(),
                  age_text(r.status.handshake_age_s).c_str(), r.ping_ms);
      if (r.ssh) print_ssh_text(n, *r.ssh);
      return;
    }
    if (r.outcome == UpResult::Outcome::rebuilt) {
      std::printf("testbed %s was half-broken (%s): rebuilt it\n", n.prefix.c_str(), r.rebuilt_because.c_str());
    }
    std::printf("testbed %s is up: %s (%s, %s) -> %s (%s, %s), iperf3 server %s:%d; handshake %s, ping %.3f ms\n",
                n.prefix.c_str(), n.cli_netns.c_str(), n.cli_wg.c_str(), TestbedNames::cli_mesh_addr,
                n.srv_netns.c_str(), n.srv_wg.c_str(), TestbedNames::srv_mesh_addr, TestbedNames::srv_mesh_addr,
                TestbedNames::iperf3_port, age_text(r.status.handshake_age_s).c_str(), r.ping_ms);
    if (r.ssh) print_ssh_text(n, *r.ssh);
  });

  auto* down = tb->add_subcommand("down", "remove the testbed: processes, links, namespaces, sockets, state files");
  add_common(down, *opts);
  down->add_flag("--force", opts->force,
                 "take it down even while a wgopt search, retune or baseline measures on it (refused otherwise: its "
                 "path would vanish mid-measurement)");
  down->callback([opts] {
    Testbed t(opts->prefix);
    const std::vector<int> users = opts->force ? t.users() : std::vector<int>{};  // without --force, down refuses them
    DownResult r = t.down(opts->force);
    // Whose measurement --force took the path from (found by an exploratory test: it said nothing).
    for (int pid : users) std::fprintf(stderr, "wgopt: testbed %s was in use by wgopt pid %d: its path is gone\n", opts->prefix.c_str(), pid);
    if (opts->json) {
      std::printf("%s\n", nlohmann::json{{"prefix", opts->prefix}, {"removed", r.removed}, {"was_in_use_by", users}}.dump(2).c_str());
      return;
    }
    if (r.removed.empty()) {
      std::printf("testbed %s is not up: nothing to remove\n", opts->prefix.c_str());
      return;
    }
    std::printf("testbed %s removed:\n", opts->prefix.c_str());
    for (const auto& what : r.removed) std::printf("  %s\n", what.c_str());
  });

  auto* status = tb->add_subcommand(
      "status", "say what is up, the peers, handshake age and transfer; exit 0 when it is healthy, 3 when it is down or broken");
  add_common(status, *opts);
  status->callback([opts, &ctx] {
    Testbed t(opts->prefix);
    TestbedStatus s = t.status();
    if (opts->json) {
      std::printf("%s\n", s.to_json().dump(2).c_str());
    } else {
      print_status_text(s);
    }
    // Scripts can test `wgopt testbed status` directly: 0 healthy, 3 down or broken.
    if (!s.healthy) ctx.exit_code = 3;
  });
}

}  // namespace

WGOPT_COMMAND(10, setup_testbed);

}  // namespace wgopt::cli

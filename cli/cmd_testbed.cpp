// `wgopt testbed up|down|status [--prefix P] [--json]`: the built-in two-namespace WireGuard path.
#include <cstdio>
#include <fmt/format.h>

#include "cli/registry.hpp"
#include "experiments/testbed/testbed.hpp"

namespace wgopt::cli {
namespace {

struct TestbedOptions {
  std::string prefix = "wgopt";
  bool json = false;
};

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
  for (const auto& p : s.problems) std::printf("  problem: %s\n", p.c_str());
}

void setup(CLI::App& root, Context& ctx) {
  auto* tb = root.add_subcommand("testbed", "build, remove or inspect the built-in WireGuard testbed (two namespaces, "
                                            "wireguard-go, iperf3 server)");
  tb->require_subcommand(1);
  auto opts = std::make_shared<TestbedOptions>();

  auto* up = tb->add_subcommand("up", "build the testbed (does nothing if it is healthy, rebuilds it if half-broken)");
  add_common(up, *opts);
  up->callback([opts] {
    Testbed t(opts->prefix);
    UpResult r = t.up();
    if (opts->json) {
      const char* outcome = r.outcome == UpResult::Outcome::created   ? "created"
                            : r.outcome == UpResult::Outcome::rebuilt ? "rebuilt"
                                                                      : "already_up";
      nlohmann::json j{{"outcome", outcome}, {"rebuilt_because", r.rebuilt_because}, {"ping_ms", r.ping_ms},
                       {"status", r.status.to_json()}};
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    const auto& n = t.names();
    if (r.outcome == UpResult::Outcome::already_up) {
      std::printf("testbed %s is already up and healthy: nothing changed (handshake %s, ping %.3f ms)\n",
                  n.prefix.c_str(), age_text(r.status.handshake_age_s).c_str(), r.ping_ms);
      return;
    }
    if (r.outcome == UpResult::Outcome::rebuilt) {
      std::printf("testbed %s was half-broken (%s): rebuilt it\n", n.prefix.c_str(), r.rebuilt_because.c_str());
    }
    std::printf("testbed %s is up: %s (%s, %s) -> %s (%s, %s), iperf3 server %s:%d; handshake %s, ping %.3f ms\n",
                n.prefix.c_str(), n.cli_netns.c_str(), n.cli_wg.c_str(), TestbedNames::cli_mesh_addr,
                n.srv_netns.c_str(), n.srv_wg.c_str(), TestbedNames::srv_mesh_addr, TestbedNames::srv_mesh_addr,
                TestbedNames::iperf3_port, age_text(r.status.handshake_age_s).c_str(), r.ping_ms);
  });

  auto* down = tb->add_subcommand("down", "remove the testbed: processes, links, namespaces, sockets, state files");
  add_common(down, *opts);
  down->callback([opts] {
    Testbed t(opts->prefix);
    DownResult r = t.down();
    if (opts->json) {
      std::printf("%s\n", nlohmann::json{{"prefix", opts->prefix}, {"removed", r.removed}}.dump(2).c_str());
      return;
    }
    if (r.removed.empty()) {
      std::printf("testbed %s is not up: nothing to remove\n", opts->prefix.c_str());
      return;
    }
    std::printf("testbed %s removed:\n", opts->prefix.c_str());
    for (const auto& what : r.removed) std::printf("  %s\n", what.c_str());
  });

  auto* status = tb->add_subcommand("status", "say what is up, the peers, handshake age and transfer");
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

WGOPT_COMMAND(10, setup);

}  // namespace wgopt::cli

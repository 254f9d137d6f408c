// Host facts gate every apply (issue 12, item 2): the one comparison `wgopt apply`, `wgopt retune`,
// `wgopt facts` and the exported Ansible role use (experiments/measure/host_facts.hpp).
#include <catch2/catch.hpp>

#include "actuators/profile.hpp"
#include "common/error.hpp"
#include "common/exec.hpp"
#include "experiments/measure/host_facts.hpp"
#include "experiments/search/host_gate.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using Catch::Contains;

namespace {

HostFacts here() {
  return {.kernel = "6.1.0-18-amd64", .nproc = 4, .sku = "Amazon EC2 m5.xlarge", .underlay = "eth0", .wireguard = "wt0",
          .nic_driver = "ena", .wireguard_mode = "kernel"};
}

YAML::Node facts(const std::string& yaml) { return YAML::Load(yaml); }

std::vector<std::string> names(const std::vector<FactDifference>& d) {
  std::vector<std::string> out;
  for (const auto& x : d) out.push_back(x.fact);
  return out;
}

}  // namespace

TEST_CASE("host gate: the same kind of host matches; the kernel is compared by its major version", "[host-gate]") {
  const auto p = facts("{kernel: 6.18.2-fc, nproc: 4, sku: Amazon EC2 m5.xlarge, nic_driver: ena, wireguard_mode: kernel, place: host}");
  CHECK(compare_host_facts(p, here()).empty());
  CHECK(kernel_major("6.1.0-18-amd64") == "6");
  CHECK(kernel_major("5") == "5");
  CHECK(names(compare_host_facts(facts("{kernel: 5.15.0-91-generic}"), here())) == std::vector<std::string>{"kernel"});
}

TEST_CASE("host gate: every differing fact is named with both values", "[host-gate]") {
  const auto p = facts("{kernel: 5.10.0, nproc: 8, sku: Standard_D8s_v5, nic_driver: mlx5_core, wireguard_mode: userspace}");
  const auto d = compare_host_facts(p, here());
  CHECK(names(d) == std::vector<std::string>{"nproc", "kernel", "nic_driver", "wireguard_mode", "sku"});
  const std::string line = describe_differences(d);
  CHECK_THAT(line, Contains("nproc: profile 8, this host 4"));
  CHECK_THAT(line, Contains("kernel: profile 5, this host 6"));
  CHECK_THAT(line, Contains("nic_driver: profile mlx5_core, this host ena"));
  CHECK_THAT(line, Contains("wireguard_mode: profile userspace, this host kernel"));
  CHECK_THAT(line, Contains("sku: profile Standard_D8s_v5, this host Amazon EC2 m5.xlarge"));
}

TEST_CASE("host gate: what a profile does not record, or could not tell, is not compared", "[host-gate]") {
  CHECK(compare_host_facts(YAML::Node(), here()).empty());                   // a hand-written profile
  CHECK(compare_host_facts(facts("{place: netns x}"), here()).empty());      // place is where, not what
  CHECK(compare_host_facts(facts("{wireguard_mode: 'unknown: wg failed'}"), here()).empty());
  CHECK(compare_host_facts(facts("{sku: unknown (4 CPUs)}"), here()).empty());  // says no more than nproc
  // A missing interface on this host is a difference, shown by its name.
  HostFacts h = here();
  h.nic_driver = "";
  const auto d = compare_host_facts(facts("{nic_driver: ena}"), h);
  REQUIRE(d.size() == 1);
  CHECK(d[0].host == "(none: no driver read on eth0; is it here?)");
  // So is a WireGuard interface whose mode could not be read, without `ip`'s raw words.
  h = here();
  h.wireguard_mode = "unknown: interface wt0 not found in host (exit 1: Device \"wt0\" does not exist.)";
  const auto w = compare_host_facts(facts("{wireguard_mode: userspace}"), h);
  REQUIRE(w.size() == 1);
  CHECK(w[0].host == "(none: no WireGuard mode read on wt0; is it here?)");
}

TEST_CASE("host gate: a mismatch refuses with one line naming the facts and --force, unless forced", "[host-gate]") {
  const auto p = act::parse_profile("host: {nproc: 64, nic_driver: mlx5_core}\nknobs: {eth0/mtu: 1500, wt0/mtu: 1420}\n", "p.yaml");
  const HostGate g = compare_with(p, "p.yaml", here());
  CHECK(g.roles.underlay == "eth0");
  CHECK(g.roles.wireguard == "wt0");
  REQUIRE_FALSE(g.matches());
  try {
    require_matching_host(g, "p.yaml", false);
    FAIL("not refused");
  } catch (const UsageError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Contains("profile p.yaml was made on another kind of host (nproc: profile 64, this host 4; nic_driver: profile "
                              "mlx5_core, this host ena): nothing was changed; pass --force"));
    CHECK(what.find('\n') == std::string::npos);
  }
  CHECK_NOTHROW(require_matching_host(g, "p.yaml", true));
}

TEST_CASE("host gate: hostile facts are shown on one line", "[host-gate]") {
  YAML::Node p(YAML::NodeType::Map);
  p["sku"] = std::string("vm\n$(id)\x01");
  const auto line = describe_differences(compare_host_facts(p, here()));
  CHECK(line.find('\n') == std::string::npos);
  CHECK_THAT(line, Contains("sku: profile vm\\n$(id)\\x01"));
}

TEST_CASE("host gate: a both-ends profile's peer part is compared with the peer's facts, under the peer's names", "[host-gate]") {
  // This end: eth0 + wt0; the peer: ens5 + wt0 (recorded by `wgopt search --ssh` in peer.host.interfaces).
  const auto p = act::parse_profile(
      "host: {nproc: 4, nic_driver: ena}\nknobs: {eth0/mtu: 1500, wt0/mtu: 1420}\n"
      "peer:\n  host: {nproc: 2, kernel: 6.1.0-18-amd64, nic_driver: virtio_net, wireguard_mode: kernel, "
      "interfaces: {eth0: ens5, wt0: wt0}}\n  knobs: {ens5/mtu: 1500, wt0/mtu: 1420}\n",
      "p.yaml");
  CHECK(peer_fact_interfaces(p, "p.yaml") == std::vector<std::string>{"ens5", "wt0"});
  peer::PeerFacts f{.hostname = "b", .kernel = "6.1.0-20-amd64", .sku = "", .boot_id = "", .nproc = 2};
  f.nic_driver = {{"ens5", "virtio_net"}};
  f.wireguard_mode = {{"wt0", "kernel"}};
  CHECK(compare_peer_with(p, "p.yaml", f).matches());  // the peer part, not this end's host: (nproc 4, ena)
  f.nproc = 8;
  f.nic_driver = {{"ens5", "ena"}};
  const HostGate g = compare_peer_with(p, "p.yaml", f);
  CHECK(g.roles.underlay == "ens5");
  CHECK(names(g.differences) == std::vector<std::string>{"nproc", "nic_driver"});
  CHECK_THROWS_WITH(require_matching_host(g, "p.yaml (its peer: part)", false),
                    Contains("p.yaml (its peer: part) was made on another kind of host (nproc: profile 2, this host 8; nic_driver"));
  // A one-host profile applied to a peer (`apply --ssh`) is compared with its own host: facts.
  const auto one = act::parse_profile("host: {nproc: 4}\nknobs: {wt0/mtu: 1420}\n", "one.yaml");
  CHECK(names(compare_peer_with(one, "one.yaml", f).differences) == std::vector<std::string>{"nproc"});

  // A both-ends profile of sysctls: the peer's interfaces are this end's recorded ones, mapped.
  const auto sysctls = act::parse_profile(
      "host: {nproc: 4, underlay: eth0, wireguard: wt0}\nknobs: {net.core.netdev_budget: 600}\n"
      "peer:\n  host: {nproc: 2, nic_driver: virtio_net, wireguard_mode: kernel, interfaces: {eth0: ens5, wt0: wt0}}\n"
      "  knobs: {net.core.netdev_budget: 600}\n",
      "s.yaml");
  CHECK(peer_fact_interfaces(sysctls, "s.yaml") == std::vector<std::string>{"ens5", "wt0"});
  f.nproc = 2;
  const HostGate sg = compare_peer_with(sysctls, "s.yaml", f);  // the peer's ens5 is ena now
  CHECK(names(sg.differences) == std::vector<std::string>{"nic_driver"});
  CHECK(sg.not_compared.empty());
}

// Found by an exploratory test: a profile of sysctls recording `nic_driver: e1000` "matched" a
// virtio host, exit 0, because no interface of the profile was there to compare the driver on.
TEST_CASE("host gate: a recorded fact with no interface to compare it on is listed, never silently passed", "[host-gate]") {
  HostFacts h = here();
  h.underlay.clear();
  h.wireguard.clear();
  const auto p = facts("{nproc: 4, nic_driver: e1000, wireguard_mode: kernel}");
  CHECK(compare_host_facts(p, h).empty());
  const auto skipped = uncompared_host_facts(p, h);
  CHECK(names(skipped) == std::vector<std::string>{"nic_driver", "wireguard_mode"});
  CHECK(skipped.front().profile == "e1000");
  CHECK(uncompared_host_facts(p, here()).empty());  // interfaces known: compared, nothing left over
  CHECK(uncompared_host_facts(facts("{nproc: 4}"), h).empty());
  CHECK_THAT(skipped.front().host, Contains("the profile's knobs name none"));
  CHECK_THAT(uncompared_host_facts(facts("{nic_driver: ena, underlay: ens5}"), h).front().host, Contains("ens5, is not here"));
}

TEST_CASE("host gate: a profile of sysctls is compared on the interfaces its facts name, when they are here", "[host-gate]") {
  auto with_host = [](const std::string& host) {
    return act::parse_profile("knobs:\n  net.core.netdev_budget: 600\nhost: " + host + "\n", "p.yaml");
  };
  const auto named = profile_roles(with_host("{nic_driver: virtio_net, underlay: lo, wireguard: lo}"), "p.yaml");
  CHECK(named.underlay == "lo");  // every host has lo
  CHECK(named.wireguard == "lo");
  const auto absent = profile_roles(with_host("{nic_driver: e1000, underlay: nosuch0}"), "p.yaml");
  CHECK(absent.underlay.empty());
  CHECK(absent.wireguard.empty());
}

TEST_CASE("host gate: host facts that are not a map of facts are refused when the profile is read", "[host-gate]") {
  auto parse = [](const std::string& host) { return act::parse_profile("knobs: {}\nhost: " + host + "\n", "p.yaml"); };
  CHECK_THROWS_WITH(parse("[1, 2]"), Contains("'host' must be a map of facts"));
  CHECK_THROWS_WITH(parse("{nproc: two}"), Contains("'host.nproc' must be a count of CPUs"));
  CHECK_THROWS_WITH(parse("{nproc: 0}"), Contains("'host.nproc'"));
  CHECK_THROWS_AS(parse("{nproc: -4}"), UsageError);
  CHECK_NOTHROW(parse("{nproc: 4, kernel: 6.1.0}"));
  CHECK_NOTHROW(parse("~"));
  CHECK_THROWS_WITH(act::parse_profile("knobs: {}\npeer: {knobs: {}, host: [x]}\n", "p.yaml"), Contains("'peer.host' must be a map"));
  // Found by an exploratory test: a misspelled fact was not compared at all, so a host of another
  // kind passed the gate (facts, apply, retune, the Ansible role).
  CHECK_THROWS_WITH(parse("{nprocs: 64, kernel: 6.1.0}"),
                    Contains("profile p.yaml: unknown key 'host.nprocs': the facts there are kernel, nproc, sku,"));
  CHECK_THROWS_AS(parse("{nic-driver: mlx5_core}"), UsageError);
  CHECK_THROWS_WITH(act::parse_profile("knobs: {}\npeer: {knobs: {}, host: {ssh: root@h, sku: x, nprocs: 2}}\n", "p.yaml"),
                    Contains("unknown key 'peer.host.nprocs': the facts there are ssh, hostname,"));
  // Every key wgopt writes, here (search; show's captured) and for a peer.
  CHECK_NOTHROW(parse("{kernel: 6.1.0, nproc: 4, sku: s, nic_driver: veth, wireguard_mode: userspace, underlay: eth0, "
                      "wireguard: wt0, place: host, mirrored_to: netns x, captured: 2026-12-07T04:00:00Z}"));
  CHECK_NOTHROW(parse("{place: peer root@10.0.0.2, captured: x}"));  // `wgopt show --ssh`
  // A fact that is not one value, a place no wgopt writes, an interface that cannot be one (found by
  // an exploratory test: kernel: [5] skipped the kernel check, place: mars matched anywhere).
  CHECK_THROWS_WITH(parse("{kernel: [5]}"), Contains("'host.kernel' must be one value, not empty"));
  CHECK_THROWS_WITH(parse("{sku: \"\"}"), Contains("'host.sku' must be one value, not empty"));
  CHECK_THROWS_WITH(parse("{place: mars}"), Contains("'host.place' must be host or netns NAME"));
  CHECK_THROWS_AS(parse("{place: netns}"), UsageError);
  CHECK_THROWS_AS(parse("{place: netns a b}"), UsageError);
  CHECK_THROWS_AS(parse("{mirrored_to: Host}"), UsageError);
  CHECK_THROWS_WITH(parse("{underlay: bad/name}"), Contains("'host.underlay' must be an interface name such as eth0"));
  CHECK_THROWS_WITH(act::parse_profile("knobs: {}\npeer: {knobs: {}, host: {interfaces: [wg0]}}\n", "p.yaml"),
                    Contains("'peer.host.interfaces' must be a map of this end's interface names to the peer's"));
  CHECK_THROWS_AS(act::parse_profile("knobs: {}\npeer: {knobs: {}, host: {interfaces: {wg0: a/b}}}\n", "p.yaml"), UsageError);
  CHECK_NOTHROW(act::parse_profile("knobs: {}\npeer: {knobs: {}, host: {ssh: root@h, hostname: h, kernel: 6.1.0, nproc: 4, "
                                   "sku: s, nic_driver: veth, wireguard_mode: kernel, mode: mirrored, interfaces: {wg0: wg0}}}\n",
                                   "p.yaml"));
}

// From the second reading of cb70053: apply refused a namespace-made profile while `facts` (and so the
// exported Ansible role's gate) said it matched, which stopped a rollout instead of skipping the host.
TEST_CASE("host gate: a profile made in a namespace differs in place anywhere else, for every gate alike", "[host-gate]") {
  auto profile = [](const std::string& host) {
    return act::parse_profile("knobs:\n  net.ipv4.tcp_wmem: 4096 16384 4194304\nhost: " + host + "\n", "p.yaml");
  };
  ProcessRunner runner;
  const auto away = check_host_facts(profile("{place: netns wgt-nosuch-cli}"), "p.yaml", Place::host(), runner);
  REQUIRE_FALSE(away.matches());
  CHECK(away.differences.front().fact == "place");
  CHECK(away.differences.front().profile == "netns wgt-nosuch-cli");
  CHECK(away.differences.front().host == "host");
  CHECK(check_host_facts(profile("{place: host}"), "p.yaml", Place::host(), runner).matches());
  for (const auto& d : check_host_facts(profile("{kernel: 6.1}"), "p.yaml", Place::host(), runner).differences) CHECK(d.fact != "place");
}

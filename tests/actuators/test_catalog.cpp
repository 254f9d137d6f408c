// Discovery on the fake host: ids, roles, domains and the reasons a knob is absent or read-only,
// on the host and in a child network namespace.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "actuators/allowlist.hpp"
#include "actuators/catalog.hpp"
#include "common/error.hpp"
#include "tests/actuators/test_knobs_fake.hpp"

using namespace wgopt;
using namespace wgopt::act;

namespace {
std::map<std::string, KnobPtr> by_id(std::vector<KnobPtr> knobs) {
  std::map<std::string, KnobPtr> out;
  for (auto& k : knobs) out[k->id()] = std::move(k);
  return out;
}
}  // namespace

TEST_CASE("host discovery: every kind per interface, WireGuard told apart from the underlay") {
  test::FakeHost fake(2);
  auto k = by_id(discover_knobs(fake.host));
  CHECK(k.size() == 12 + 1 + 4 * 18);  // sysctls, irqbalance, 18 per interface (lo left out)
  CHECK(k.count("lo/mtu") == 0);

  CHECK(is_wireguard_interface(fake.host, "wg0"));
  CHECK(!is_wireguard_interface(fake.host, "eth0"));
  CHECK(k["wg0/mtu"]->presence().writable);
  CHECK(k["wg0/mtu"]->descriptor().domain.max == 1500 - 60);  // the largest underlay MTU minus WireGuard's overhead
  CHECK(!k["eth0/mtu"]->presence().writable);
  CHECK(k["eth0/mtu"]->presence().why_not.find("--allow-underlay-mtu") != std::string::npos);
  CHECK(by_id(discover_knobs(fake.host, {.allow_underlay_mtu = true}))["eth0/mtu"]->presence().writable);

  CHECK(k["veth0/channels/rx"]->descriptor().domain.max == 2);
  CHECK(!k["veth0/channels/combined"]->presence().present);
  CHECK(k["veth0/rings/rx"]->presence().why_not.find("driver does not support it") != std::string::npos);
  CHECK(k["enp1s0/rings/rx"]->descriptor().domain.max == 8192);
  CHECK(k["enp1s0/channels/combined"]->descriptor().domain.max == 8);
  CHECK(!k["eth0/rss_hash_udp4"]->presence().present);  // virtio without RSS hashes on "None"
  CHECK(k["enp1s0/rss_hash_udp4"]->read() == "sd");
  CHECK(k["enp1s0/rss_equal"]->read() == "4");
  CHECK(!k["enp1s0/offload/rx-gro-list"]->presence().writable);  // [fixed]
  // tbf and htb need parameters: as a default the kernel fails every new device to noqueue.
  CHECK(k["net.core.default_qdisc"]->descriptor().domain.choices == std::vector<std::string>{"pfifo_fast"});
  CHECK_THROWS_WITH(k["net.core.default_qdisc"]->validate("tbf"), Catch::Contains("cannot be a default qdisc") && Catch::Contains("use one of pfifo_fast"));
  CHECK(k["veth0/qdisc"]->read() == "noqueue");
  CHECK(k["net.ipv4.tcp_rmem"]->read().find('\t') == std::string::npos);
}

TEST_CASE("irq_affinity takes the data-path IRQs only") {
  test::FakeHost fake(2);
  auto mlx = find_knob(fake.host, "enp1s0/irq_affinity");
  REQUIRE(mlx->presence().writable);
  // mlx5_comp0..3 (IRQs 61-64: 1 2 1 2); mlx5_async0 (IRQ 60, mask 3) left out.
  CHECK(mlx->read() == "1 2 1 2");
  CHECK(mlx->equal(mlx->read(), "spread"));
  // virtio2-input.0 and virtio2-output.0 (38, 39), not virtio2-config (37).
  auto virtio = find_knob(fake.host, "eth0/irq_affinity");
  mlx->apply("1");
  CHECK(fake.host.files->read("/proc/irq/60/smp_affinity") == "3\n");
  CHECK(fake.host.files->read("/proc/irq/64/smp_affinity") == "1\n");
  CHECK(virtio->read() == "3");
  CHECK(!find_knob(fake.host, "veth0/irq_affinity")->presence().present);
}

TEST_CASE("child namespace: global-only sysctls absent, read-only ones named, allowed congestion controls only") {
  test::FakeHost fake(2);
  for (const char* name : {"netdev_max_backlog", "netdev_budget", "netdev_budget_usecs", "rps_sock_flow_entries", "default_qdisc"}) {
    std::filesystem::remove(fake.root / "proc/sys/net/core" / name);
  }
  fake.files->read_only = {"/proc/sys/net/core/rmem_max", "/proc/sys/net/core/wmem_max"};
  fake.host.place = Place::netns("wgt3-cli");
  auto k = by_id(discover_knobs(fake.host, {.interfaces = {"veth0", "wg0"}}));
  CHECK(k.count("eth0/mtu") == 0);
  auto backlog = k["net.core.netdev_max_backlog"]->presence();
  CHECK(!backlog.present);
  CHECK(backlog.why_not.starts_with("global-only"));
  auto rmem = k["net.core.rmem_max"]->presence();
  CHECK(rmem.present);
  CHECK(!rmem.writable);
  CHECK(rmem.why_not.starts_with("read-only in a child namespace"));
  CHECK(k["net.ipv4.tcp_rmem"]->presence().writable);
  CHECK(!k["irqbalance"]->presence().present);
  auto& cc = *k["net.ipv4.tcp_congestion_control"];
  CHECK(cc.descriptor().domain.choices == std::vector<std::string>{"reno", "bbr"});  // cubic is not in allowed
  CHECK_THROWS_AS(cc.validate("cubic"), UsageError);
  // The kernel's refusal surfaces with path, value and errno text.
  try {
    k["net.core.rmem_max"]->apply("8388608");
    FAIL("wrote a read-only sysctl");
  } catch (const Error& e) {
    const std::string w = e.what();
    CHECK(w.find("/proc/sys/net/core/rmem_max") != std::string::npos);
    CHECK(w.find("8388608") != std::string::npos);
    CHECK(w.find("Permission denied") != std::string::npos);
  }
}

// wgopt started inside a child namespace (the peer's agent under `ip netns exec`, a container)
// sees Place::host(): the kernel still refuses what the host does not allow there.
TEST_CASE("a wgopt inside a child namespace offers only the allowed congestion controls") {
  test::FakeHost fake(2);
  CHECK(by_id(discover_knobs(fake.host, {}))["net.ipv4.tcp_congestion_control"]->descriptor().domain.choices ==
        std::vector<std::string>{"reno", "bbr", "cubic"});  // the initial namespace: all available
  fake.files->read_only = {"/proc/sys/net/core/rmem_max", "/proc/sys/net/core/wmem_max"};
  auto k = by_id(discover_knobs(fake.host, {}));
  CHECK(k["net.ipv4.tcp_congestion_control"]->descriptor().domain.choices == std::vector<std::string>{"reno", "bbr"});
}

TEST_CASE("find_knob: ids parsed, unknown ids and bad interface names refused before anything runs") {
  test::FakeHost fake(2);
  CHECK(find_knob(fake.host, "net.core.rmem_max")->descriptor().kind == "sysctl");
  CHECK(find_knob(fake.host, "enp1s0/offload/rx-udp-gro-forwarding")->descriptor().kind == "offload");
  CHECK(find_knob(fake.host, "irqbalance")->descriptor().scope == Scope::Service);
  CHECK(!find_knob(fake.host, "eth9/mtu")->presence().present);  // a valid name that is not here
  fake.tools->log.clear();
  for (const char* id : {"net.core.nope", "eth0/bogus", "eth0", "eth0/offload/lro", "kernel.panic"}) {
    INFO(id);
    try {
      find_knob(fake.host, id);
      FAIL("accepted");
    } catch (const UsageError& e) {
      CHECK(std::string(e.what()) == std::string("unknown knob '") + id + "': run `wgopt knobs` to list them");
    }
  }
  for (const char* id : {"eth0;reboot/mtu", "a-very-long-interface/mtu", "../mtu", "et h0/mtu", "/mtu"}) {
    INFO(id);
    CHECK_THROWS_AS(find_knob(fake.host, id), UsageError);
  }
  CHECK(fake.tools->log.empty());
  CHECK_THROWS_AS(discover_knobs(fake.host, {.interfaces = {"eth0/../x"}}), UsageError);
  CHECK_THROWS_AS(discover_knobs(fake.host, {.interfaces = {"nosuch0"}}), UsageError);
}

TEST_CASE("a namespace that cannot be reached is an error, not a list of absent knobs") {
  test::FakeHost fake(2);
  std::filesystem::remove_all(fake.root / "proc/sys/net");
  fake.host.place = Place::netns("gone");
  try {
    discover_knobs(fake.host);
    FAIL("listed knobs of an unreachable namespace");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("netns gone") != std::string::npos);
  }
  CHECK_THROWS_AS(find_knob(fake.host, "eth0/mtu"), Error);
}

TEST_CASE("discovery sees writability through the same Files the write goes through (the CLI's guarded ones)",
          "[faults]") {
  test::FakeHost fake(2);
  // The real kernel in a child namespace: the four socket buffer sysctls are 0444 there.
  fake.files->read_only = {"/proc/sys/net/core/rmem_max", "/proc/sys/net/core/wmem_max",
                           "/proc/sys/net/core/rmem_default", "/proc/sys/net/core/wmem_default"};
  fake.host.place = Place::netns("wgt3-cli");
  fake.host.files = std::make_shared<GuardedFiles>(fake.files);  // as cli/knob_cli.cpp guarded_host() does
  for (const char* id : {"net.core.rmem_max", "net.core.wmem_max", "net.core.rmem_default", "net.core.wmem_default"}) {
    INFO(id);
    auto p = find_knob(fake.host, id)->presence();
    CHECK(p.present);
    CHECK_FALSE(p.writable);
    CHECK(p.why_not.starts_with("read-only in a child namespace"));
  }
  CHECK(find_knob(fake.host, "net.ipv4.tcp_rmem")->presence().writable);
}

TEST_CASE("netdev_budget_usecs: the domain starts where every kernel accepts it (2 jiffies at HZ 100)", "[faults]") {
  // Since 6.13 (and stable backports) the kernel refuses values below 2 * USEC_PER_SEC / HZ: 8000 at
  // this VM's HZ 250, 20000 at HZ 100. The host's current value still widens the domain.
  test::FakeHost fake(2);
  auto k = find_knob(fake.host, "net.core.netdev_budget_usecs");
  CHECK(k->descriptor().domain.min == 8000);  // the fixture's current value (this VM's default)
  CHECK_THROWS_AS(k->validate("3900"), UsageError);
  CHECK(k->validate("20000") == "20000");
  fake.files->write("/proc/sys/net/core/netdev_budget_usecs", "50000\n");
  CHECK(find_knob(fake.host, "net.core.netdev_budget_usecs")->descriptor().domain.min == 20000);
}

// A device's own default qdisc (noqueue on veth and WireGuard devices, mq on multi-queue NICs) is
// restored by deleting the root, never created: a profile or `wgopt set` may name it while the
// device holds another kind now (bench_search put a search's start back after a tbf candidate, and
// `wgopt set veth0/qdisc=noqueue` was refused as "not offered by this kernel").
TEST_CASE("qdisc: the device's default kind is accepted while another is attached, and restored by deleting the root") {
  test::FakeHost fake(2);
  find_knob(fake.host, "veth0/qdisc")->apply("tbf");
  auto veth = find_knob(fake.host, "veth0/qdisc");  // discovered now: tbf is current, noqueue no choice
  REQUIRE(veth->read() == "tbf");
  CHECK(veth->validate("noqueue") == "noqueue");
  veth->apply("noqueue");
  CHECK(veth->read() == "noqueue");
  // Not the default of this device: refused before anything changes (a NIC is never noqueue, mq
  // needs more than one tx queue), and named in one line by apply() too, not a tc error.
  auto eth = find_knob(fake.host, "eth0/qdisc");
  CHECK_THROWS_WITH(eth->validate("noqueue"), Catch::Contains("value 'noqueue' for eth0/qdisc is not offered by this kernel"));
  CHECK_THROWS_WITH(eth->validate("mq"), Catch::Contains("not offered by this kernel"));
  CHECK_THROWS_WITH(eth->apply("noqueue"), Catch::Contains("not this device's default qdisc (deleting the root gave pfifo_fast)"));
  CHECK_THROWS_WITH(eth->validate("cake"), Catch::Contains("not offered by this kernel"));
  // A multi-queue NIC's default is mq, also while another kind is attached; noqueue is not.
  find_knob(fake.host, "enp1s0/qdisc")->apply("htb");
  auto mlx = find_knob(fake.host, "enp1s0/qdisc");
  REQUIRE(mlx->read() == "htb");
  CHECK(mlx->validate("mq") == "mq");
  CHECK_THROWS_WITH(mlx->validate("noqueue"), Catch::Contains("not offered by this kernel"));
}

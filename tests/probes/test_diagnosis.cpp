// Diagnosis rules: each fires on the pattern the field guide describes and stays quiet otherwise.
// Summaries are built by hand (the rules are pure); the last cases run the whole chain on fixtures.
#include <catch2/catch.hpp>

#include <algorithm>

#include "probes/diagnosis.hpp"
#include "tests/probes/fixture.hpp"

using namespace wgopt;
using namespace wgopt::probes;

namespace {

CpuUsage cpu(int id, double usr, double sys, double soft, double idle) {
  CpuUsage c;
  c.cpu = id, c.usr = usr, c.sys = sys, c.soft = soft, c.idle = idle, c.ticks = 3000;
  return c;
}

// The guide's §3.2 table as a summary: 4 cores, cpu1 at 88% softirq, the others about half idle.
Summary guide_pinned() {
  Summary s;
  s.seconds = 30;
  s.cores = {cpu(0, 1.1, 47.25, 6.59, 45.05), cpu(1, 0, 5.43, 88.04, 6.52), cpu(2, 1.16, 46.51, 8.14, 44.19),
             cpu(3, 2.27, 46.59, 5.68, 45.45)};
  s.top_soft_cpu = 1, s.top_soft_pct = 88.04, s.peak_soft_pct_1s = 96;
  s.top_sys_cpu = 0, s.top_sys_pct = 47.25;
  return s;
}

Summary healthy() {
  Summary s;
  s.seconds = 30;
  s.cores = {cpu(0, 5, 30, 30, 35), cpu(1, 5, 30, 28, 37)};
  s.top_soft_cpu = 0, s.top_soft_pct = 30, s.top_sys_cpu = 0, s.top_sys_pct = 30;
  s.softnet.dropped = 40;  // "a few drops in a 30-second test is normal"
  s.softnet_dropped_per_s = 40 / 30.0;
  IfaceSummary eth;
  eth.iface = {Place::host(), "eth0"};
  eth.delta.tx_dropped = 3;
  eth.ethtool_delta = EthtoolStats{{"rx_missed_errors", 10}};
  s.ifaces.push_back(eth);
  NetDelta n;
  n.udp.in_datagrams = 1000000, n.udp.in_errors = 20, n.udp.rcvbuf_errors = 20;
  s.net.push_back(n);
  return s;
}

HostFacts facts(int nproc = 4) {
  HostFacts h;
  h.nproc = nproc;
  h.underlay = {"eth0"};
  h.wireguard = {{"wt0", WgMode::Kernel}};
  return h;
}

bool has_knob(const Finding& f, const std::string& k) {
  return std::find(f.knobs.begin(), f.knobs.end(), k) != f.knobs.end();
}

IrqDelta irq(const std::string& id, const std::string& action, IrqClass cls, std::vector<uint64_t> per_cpu) {
  IrqDelta d;
  d.id = id, d.action = action, d.cls = cls, d.per_cpu = per_cpu;
  for (size_t i = 0; i < per_cpu.size(); ++i) d.cpus.push_back(static_cast<int>(i)), d.total += per_cpu[i];
  d.top_cpu = static_cast<int>(std::max_element(per_cpu.begin(), per_cpu.end()) - per_cpu.begin());
  return d;
}

}  // namespace

TEST_CASE("a healthy run yields no finding") {
  CHECK(diagnose(healthy(), facts(2)).empty());
}

TEST_CASE("softirq pinned on one core while others idle (guide §3.2)") {
  auto f = rule_softirq_pinned(guide_pinned(), facts());
  REQUIRE(f);
  CHECK(f->id == "softirq_pinned");
  CHECK(f->severity == Severity::Critical);
  CHECK_THAT(f->evidence, Catch::Contains("cpu1 %soft 88.0") && Catch::Contains("44.9% idle"));
  CHECK(has_knob(*f, "eth0/rps_cpus"));
  CHECK(has_knob(*f, "eth0/irq_affinity"));
  CHECK(has_knob(*f, "eth0/channels/combined"));
  CHECK(has_knob(*f, "wt0/rps_cpus"));
  // Every core busy: CPU-bound everywhere, not a distribution problem.
  auto busy = guide_pinned();
  for (auto& c : busy.cores) c.idle = std::min(c.idle, 10.0);
  CHECK_FALSE(rule_softirq_pinned(busy, facts()));
  // 70% soft is not pinned.
  auto warm = guide_pinned();
  warm.top_soft_pct = 70;
  CHECK_FALSE(rule_softirq_pinned(warm, facts()));
  CHECK_FALSE(rule_softirq_pinned(guide_pinned(), facts(1)));
}

TEST_CASE("one core %sys saturated with others idle: the per-peer crypto wall (guide §6.2)") {
  Summary s;
  s.seconds = 30;
  s.cores = {cpu(0, 2, 91, 4, 3), cpu(1, 3, 10, 5, 82), cpu(2, 1, 8, 4, 87)};
  auto f = rule_crypto_wall(s, facts());
  REQUIRE(f);
  CHECK(f->id == "crypto_wall");
  CHECK_THAT(f->evidence, Catch::Contains("cpu0 %sys 91.0"));
  CHECK(has_knob(*f, "wt0/mtu"));
  // Softirq-bound core: that is the other rule.
  s.cores[0] = cpu(0, 0, 85, 85, 0);
  CHECK_FALSE(rule_crypto_wall(s, facts()));
  // Balanced %sys: no wall.
  Summary even;
  even.seconds = 30;
  even.cores = {cpu(0, 2, 50, 4, 44), cpu(1, 3, 50, 5, 42)};
  CHECK_FALSE(rule_crypto_wall(even, facts()));
}

TEST_CASE("wireguard-go's crypto shows as %usr: counted when the interface is userspace") {
  Summary s;
  s.seconds = 10;
  s.cores = {cpu(0, 60, 30, 2, 8), cpu(1, 5, 5, 2, 88)};
  CHECK_FALSE(rule_crypto_wall(s, facts(2)));
  HostFacts h = facts(2);
  h.wireguard = {{"wgopt-wc", WgMode::Userspace}};
  auto f = rule_crypto_wall(s, h);
  REQUIRE(f);
  CHECK(has_knob(*f, "wgopt-wc/mtu"));
}

TEST_CASE("softnet column 2 climbing: backlog / budget (guide §4.5)") {
  Summary s = healthy();
  s.softnet.dropped = 4500;
  s.softnet_dropped_per_s = 150;
  s.softnet_per_cpu = {SoftnetRow{.cpu = 1, .dropped = 4500}};
  auto f = rule_softnet_drops(s, facts());
  REQUIRE(f);
  CHECK(f->severity == Severity::Warning);
  CHECK_THAT(f->evidence, Catch::Contains("4500 dropped") && Catch::Contains("cpu1 4500"));
  CHECK(f->knobs == std::vector<std::string>{"net.core.netdev_max_backlog", "net.core.netdev_budget"});
  s.softnet.dropped = 60000;  // 2000/s: "thousands per second is a real problem"
  CHECK(rule_softnet_drops(s, facts())->severity == Severity::Critical);
  s.softnet.dropped = 99;  // under 100 per 30 s is trivial
  CHECK_FALSE(rule_softnet_drops(s, facts()));
}

TEST_CASE("time_squeeze climbing: softirq budget") {
  Summary s = healthy();
  s.softnet.time_squeeze = 900;
  s.softnet_squeeze_per_s = 30;
  auto f = rule_softnet_squeeze(s, facts());
  REQUIRE(f);
  CHECK(has_knob(*f, "net.core.netdev_budget"));
  CHECK(has_knob(*f, "net.core.netdev_budget_usecs"));
  s.softnet_squeeze_per_s = 2;
  CHECK_FALSE(rule_softnet_squeeze(s, facts()));
}

TEST_CASE("NIC rx_missed / rx_out_of_buffer: ring too small (guide §4.6)") {
  Summary s = healthy();
  s.ifaces[0].ethtool_delta = EthtoolStats{{"rx_out_of_buffer", 48213}, {"rx_packets", 9000000}};
  auto f = rule_nic_ring_drops(s, facts());
  REQUIRE(f.size() == 1);
  CHECK(f[0].knobs == std::vector<std::string>{"eth0/rings/rx"});
  CHECK_THAT(f[0].evidence, Catch::Contains("rx_out_of_buffer +48213"));
  CHECK(f[0].severity == Severity::Critical);  // 1607/s
  // Aggregate and per-queue copies of one counter are not added up.
  s.ifaces[0].ethtool_delta = EthtoolStats{{"rx_drops", 80}, {"rx0_drops", 80}};
  CHECK(rule_nic_ring_drops(s, facts()).empty());
  // Non-ring counters (tx errors) do not count here.
  s.ifaces[0].ethtool_delta = EthtoolStats{{"tx_cqe_err", 50000}};
  CHECK(rule_nic_ring_drops(s, facts()).empty());
  // The kernel's own rx_fifo counter counts too.
  s.ifaces[0].delta.rx_fifo = 5000;
  CHECK(rule_nic_ring_drops(s, facts()).size() == 1);
}

TEST_CASE("Udp InErrors / RcvbufErrors: socket buffers (guide §5.2)") {
  Summary s = healthy();
  s.net[0].place = Place::netns("wgopt-srv");
  s.net[0].udp.in_errors = 47944, s.net[0].udp.rcvbuf_errors = 47944;
  auto f = rule_udp_socket_buffers(s, facts());
  REQUIRE(f.size() == 1);
  // The default first: the tunnel's socket gets it unless it asks (the testbed's wireguard-go does not).
  CHECK(f[0].knobs == std::vector<std::string>{"net.core.rmem_default", "net.core.rmem_max"});
  CHECK_THAT(f[0].title, Catch::Contains("netns wgopt-srv"));
  CHECK_THAT(f[0].evidence, Catch::Contains("RcvbufErrors +47944"));
  // Kernel WireGuard (facts()'s wt0) takes datagrams before any receive buffer (found in review):
  // the overflowing socket is another one. A userspace one's socket is the tunnel's.
  CHECK_THAT(f[0].title, Catch::Contains("(a UDP socket drops datagrams)"));
  CHECK_THAT(f[0].fix, Catch::StartsWith("raise the UDP socket's buffers") && !Catch::Contains("wireguard-go"));
  // In a namespace they are the host's, read-only there (found by an exploratory test).
  CHECK_THAT(f[0].fix, Catch::EndsWith("; in netns wgopt-srv these are the host's (read-only there): set them on the host"));
  s.net[0].place = Place::host();
  CHECK_THAT(rule_udp_socket_buffers(s, facts())[0].fix, !Catch::Contains("read-only there"));
  s.net[0].place = Place::netns("wgopt-srv");
  HostFacts userspace = facts();
  userspace.wireguard = {{"wt0", WgMode::Userspace}};
  CHECK_THAT(rule_udp_socket_buffers(s, userspace)[0].title, Catch::Contains("(the WireGuard socket drops datagrams)"));
  CHECK_THAT(rule_udp_socket_buffers(s, userspace)[0].fix, Catch::StartsWith("raise the tunnel socket's buffers") &&
                                                            Catch::Contains("Debian 12's wireguard-go"));
  // No WireGuard interface watched (found by an exploratory test): not blamed on a WireGuard socket.
  HostFacts plain = facts();
  plain.wireguard = {{"eth1", WgMode::NotWireGuard}};
  CHECK_THAT(rule_udp_socket_buffers(s, plain)[0].title, Catch::Contains("(a UDP socket drops datagrams)"));
  plain.wireguard.clear();
  CHECK_THAT(rule_udp_socket_buffers(s, plain)[0].title, Catch::Contains("(a UDP socket drops datagrams)"));
  s.net[0].udp.sndbuf_errors = 5000;
  CHECK(rule_udp_socket_buffers(s, facts())[0].knobs ==
        std::vector<std::string>{"net.core.rmem_default", "net.core.rmem_max", "net.core.wmem_default", "net.core.wmem_max"});
  s.net[0].udp = {};
  CHECK(rule_udp_socket_buffers(s, facts()).empty());
}

TEST_CASE("tx_dropped on an interface: qdisc (guide §5.2)") {
  Summary s = healthy();
  s.ifaces[0].delta.tx_dropped = 3000;
  s.ifaces[0].delta.tx_packets = 1000000;
  auto f = rule_tx_dropped(s, facts());
  REQUIRE(f.size() == 1);
  CHECK(f[0].knobs == std::vector<std::string>{"eth0/qdisc", "eth0/txqueuelen"});
  CHECK_THAT(f[0].evidence, Catch::Contains("tx_dropped +3000"));
  s.ifaces[0].delta.tx_dropped = 50;
  CHECK(rule_tx_dropped(s, facts()).empty());
}

TEST_CASE("userspace WireGuard is reported with no knob (guide §3.4)") {
  HostFacts h = facts(2);
  h.wireguard = {{"wgopt-wc", WgMode::Userspace}, {"wt0", WgMode::Kernel}};
  auto f = rule_userspace_wireguard(healthy(), h);
  REQUIRE(f.size() == 1);
  CHECK(f[0].id == "userspace_wireguard");
  CHECK(f[0].knobs.empty());
  CHECK_THAT(f[0].title, Catch::Contains("wgopt-wc") && Catch::Contains("3-5x"));
  CHECK(rule_userspace_wireguard(healthy(), facts()).empty());
}

TEST_CASE("data-path IRQs collapsed on one core: irqbalance (guide §6.3)") {
  Summary s = healthy();
  s.irqs = {irq("60", "mlx5_comp0@pci:0000:00:02.0", IrqClass::DataRxTx, {0, 90000, 0, 0}),
            irq("61", "mlx5_comp1@pci:0000:00:02.0", IrqClass::DataRxTx, {0, 85000, 100, 0}),
            irq("56", "mlx5_async0@pci:0000:00:02.0", IrqClass::Control, {0, 0, 5000, 0})};
  HostFacts h = facts();
  h.irqbalance_running = true;
  auto f = rule_irqs_collapsed(s, h);
  REQUIRE(f);
  CHECK(f->id == "irqbalance_collapse");
  CHECK(f->knobs == std::vector<std::string>{"irqbalance", "eth0/irq_affinity"});
  CHECK_THAT(f->evidence, Catch::Contains("2 active receive IRQs") && Catch::Contains("on cpu1"));
  h.irqbalance_running = false;
  CHECK(rule_irqs_collapsed(s, h)->id == "irqs_collapsed");
  // One queue's rx and tx IRQs are not two queues to spread.
  s.irqs = {irq("38", "virtio2-input.0", IrqClass::DataRx, {0, 9000}),
            irq("39", "virtio2-output.0", IrqClass::DataTx, {0, 9000})};
  CHECK_FALSE(rule_irqs_collapsed(s, facts(2)));
  // Spread queues: fine.
  s.irqs = {irq("60", "mlx5_comp0", IrqClass::DataRxTx, {90000, 0, 0, 0}),
            irq("61", "mlx5_comp1", IrqClass::DataRxTx, {0, 85000, 0, 0})};
  CHECK_FALSE(rule_irqs_collapsed(s, facts()));
}

TEST_CASE("every core busy: CPU-bound globally, not a distribution problem") {
  Summary s;
  s.seconds = 6;
  s.cores = {cpu(0, 84, 16, 0, 0), cpu(1, 94, 6, 0, 0)};  // the wireguard-go testbed under iperf3
  HostFacts h = facts(2);
  h.wireguard = {{"wgopt-wc", WgMode::Userspace}};
  auto f = rule_cpu_saturated(s, h);
  REQUIRE(f);
  CHECK(f->id == "cpu_saturated");
  CHECK(has_knob(*f, "wgopt-wc/mtu"));
  CHECK_THAT(f->evidence, Catch::Contains("%usr 89.0"));
  CHECK_FALSE(rule_softirq_pinned(s, h));
  CHECK_FALSE(rule_crypto_wall(s, h));
  s.cores[1].idle = 25;
  CHECK_FALSE(rule_cpu_saturated(s, h));
}

TEST_CASE("diagnose orders findings by severity") {
  Summary s = guide_pinned();
  s.softnet.dropped = 4500;
  s.softnet_dropped_per_s = 150;
  auto all = diagnose(s, facts());
  REQUIRE(all.size() == 2);
  CHECK(all[0].id == "softirq_pinned");
  CHECK(all[1].id == "softnet_drops");
}

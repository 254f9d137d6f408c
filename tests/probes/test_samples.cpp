// Snapshot arithmetic: per-second deltas and the run summary, on real before/after captures from
// this VM and on the written 64-CPU layout (diffed against a zeroed copy = "since boot").
#include <catch2/catch.hpp>

#include <algorithm>

#include "probes/diagnosis.hpp"
#include "probes/json.hpp"
#include "probes/samples.hpp"
#include "tests/probes/fixture.hpp"

using namespace wgopt;
using namespace wgopt::probes;
using namespace std::chrono_literals;

namespace {

const Place kSrv = Place::netns("wgp-srv");

Snapshot real_before() {
  Snapshot s;
  s.at = std::chrono::steady_clock::time_point{} + 100s;
  s.cpu = parse_proc_stat(probe_fixture("stat_before.txt"));
  s.irqs = parse_interrupts(probe_fixture("interrupts_before.txt"));
  s.softirqs = parse_softirqs(probe_fixture("softirqs_before.txt"));
  s.softnet = parse_softnet_stat(probe_fixture("softnet_stat_before.txt"));
  auto snmp = parse_snmp(probe_fixture("snmp_netns.txt"));
  snmp.udp.in_errors = snmp.udp.rcvbuf_errors = 0;  // the capture is from after the run
  s.net.push_back({kSrv, snmp, parse_proc_net_dev(probe_fixture("net_dev_netns.txt"))});
  return s;
}

Snapshot real_after() {
  Snapshot s;
  s.at = std::chrono::steady_clock::time_point{} + 103s;
  s.cpu = parse_proc_stat(probe_fixture("stat.txt"));
  s.irqs = parse_interrupts(probe_fixture("interrupts.txt"));
  s.softirqs = parse_softirqs(probe_fixture("softirqs.txt"));
  s.softnet = parse_softnet_stat(probe_fixture("softnet_stat.txt"));
  auto dev = parse_proc_net_dev(probe_fixture("net_dev_netns.txt"));
  dev["wgp-us"].rx_bytes += 375'000'000;  // 1000 Mbit/s over the 3 s
  dev["wgp-us"].tx_dropped += 9;
  s.net.push_back({kSrv, parse_snmp(probe_fixture("snmp_netns.txt")), dev});
  return s;
}

template <typename T>
void zero_counts(T& v) {
  std::fill(v.begin(), v.end(), 0);
}

}  // namespace

TEST_CASE("diff_snapshots on a real before/after pair") {
  const std::vector<WatchedInterface> watched = {{kSrv, "wgp-us"}, {kSrv, "gone0"}};
  auto d = diff_snapshots(real_before(), real_after(), watched, 3.0);
  CHECK(d.seconds == Approx(3.0));
  REQUIRE(d.cpu.size() == 2);
  for (const auto& c : d.cpu) CHECK(c.usr + c.sys + c.soft + c.irq + c.iowait + c.steal + c.idle == Approx(100.0));
  auto b = parse_softirqs(probe_fixture("softirqs_before.txt"));
  auto a = parse_softirqs(probe_fixture("softirqs.txt"));
  REQUIRE(d.net_rx.size() == 2);
  CHECK(d.net_rx[0] == a.net_rx[0] - b.net_rx[0]);
  CHECK(d.net_rx[1] == a.net_rx[1] - b.net_rx[1]);
  // IRQs that moved (per the captures: 34, 36, 41, 42), busiest first, each with its top CPU.
  REQUIRE(d.irqs.size() == 4);
  CHECK(d.irqs[0].id == "42");
  CHECK(d.irqs[0].total == 27);
  CHECK(d.irqs[0].top_cpu == 1);
  CHECK(std::is_sorted(d.irqs.begin(), d.irqs.end(), [](auto& x, auto& y) { return x.total > y.total; }));
  CHECK(d.softnet_total.processed > 0);
  CHECK(d.softnet_total.dropped == 0);
  REQUIRE(d.ifaces.size() == 2);
  CHECK(d.ifaces[0].present);
  CHECK(d.ifaces[0].rx_mbps == Approx(1000.0));
  CHECK(d.ifaces[0].delta.tx_dropped == 9);
  CHECK_FALSE(d.ifaces[1].present);
  REQUIRE(d.net.size() == 1);
  CHECK(d.net[0].udp.rcvbuf_errors == 47944);
}

TEST_CASE("softnet counters are 32-bit: a wrap is a small delta, not 4 billion") {
  Snapshot a = real_before(), b = real_before();
  a.softnet[0].processed = 0xfffffff0;
  b.softnet[0].processed = 0x10;
  b.at = a.at + 1s;
  auto d = diff_snapshots(a, b, {}, 1.0);
  CHECK(d.softnet[0].processed == 0x20);
}

TEST_CASE("summarize: whole-run means, peaks from seconds, ethtool and wg deltas") {
  const std::vector<WatchedInterface> watched = {{kSrv, "wgp-us"}, {kSrv, "wgp-ws"}};
  Snapshot first = real_before(), last = real_after();
  Snapshot mid = real_before();
  mid.at = first.at + 1s;
  mid.net[0].dev["wgp-us"].rx_bytes += 250'000'000;  // a 2000 Mbit/s second
  std::vector<SecondSample> secs = {diff_snapshots(first, mid, watched, 1.0), diff_snapshots(mid, last, watched, 3.0)};
  BeforeAfter extra;
  extra.ethtool_before["wgp-srv/wgp-us"] = parse_ethtool_stats(probe_fixture("ethtool_S_veth.txt"));
  auto after = extra.ethtool_before["wgp-srv/wgp-us"];
  after["rx_queue_0_drops"] += 17;
  extra.ethtool_after["wgp-srv/wgp-us"] = after;
  extra.wg_before = parse_wg_dump(probe_fixture("wg_show_all_dump.txt"));
  extra.wg_after = extra.wg_before;
  extra.wg_after[1].peers[0].rx_bytes += 1000;
  extra.wall_end = 1795689878 + 5;
  auto s = summarize(first, last, secs, watched, extra);
  CHECK(s.seconds == Approx(3.0));
  CHECK(s.samples == 2);
  REQUIRE(s.cores.size() == 2);
  CHECK(s.top_soft_pct >= 0);
  CHECK(s.peak_soft_pct_1s >= 0);
  REQUIRE(s.ifaces.size() == 2);
  CHECK(s.ifaces[0].rx_mbps == Approx(1000.0));
  CHECK(s.ifaces[0].rx_mbps_peak == Approx(2000.0));
  REQUIRE(s.ifaces[0].ethtool_delta);
  CHECK(*s.ifaces[0].ethtool_delta == EthtoolStats{{"rx_queue_0_drops", 17}});  // only what moved
  CHECK_FALSE(s.ifaces[1].ethtool_delta);  // wireguard-go's tun has no ethtool -S
  CHECK_FALSE(s.hot_irq);                  // no NIC data-path IRQ moved in the capture
  REQUIRE(s.wg_peers.size() == 3);
  const auto& p = *std::find_if(s.wg_peers.begin(), s.wg_peers.end(), [](auto& x) { return x.interface == "wgp-ws"; });
  CHECK(p.rx_bytes == 1000);
  CHECK(p.tx_bytes == 0);
  CHECK(p.handshake_age_s == 5);
  REQUIRE(s.net.size() == 1);
}

TEST_CASE("the guide's pattern end to end on the written 64-CPU fixtures") {
  // "after" is the fixture; "before" is the same layout with every counter at 0 (since boot).
  Snapshot last;
  last.at = std::chrono::steady_clock::time_point{} + 5s;
  last.cpu = parse_proc_stat(probe_fixture("written/stat_64cpu.txt"));
  last.irqs = parse_interrupts(probe_fixture("written/interrupts_mlx5_64cpu.txt"));
  last.softirqs = parse_softirqs(probe_fixture("written/softirqs_64cpu.txt"));
  last.softnet = parse_softnet_stat(probe_fixture("written/softnet_stat_64cpu.txt"));
  Snapshot first = last;
  first.at = std::chrono::steady_clock::time_point{};
  for (auto& c : first.cpu.cores) c.times = {};
  for (auto& l : first.irqs.irqs) zero_counts(l.per_cpu);
  zero_counts(first.softirqs.net_rx);
  zero_counts(first.softirqs.net_tx);
  for (auto& r : first.softnet) r = SoftnetRow{.cpu = r.cpu};
  auto s = summarize(first, last, {diff_snapshots(first, last, {}, 5.0)}, {}, {});
  CHECK(s.top_soft_cpu == 1);
  CHECK(s.top_soft_pct == Approx(100.0 * 8804 / (110 + 547 + 652 + 8804)));
  REQUIRE(s.hot_irq);
  CHECK(s.hot_irq->action.starts_with("mlx5_comp7"));
  CHECK(s.hot_irq->top_cpu == 1);
  CHECK(s.softnet.dropped == 0x2f1);
  HostFacts h;
  h.nproc = 63;
  h.underlay = {"eth0"};
  h.irqbalance_running = true;
  auto findings = diagnose(s, h);
  std::vector<std::string> ids;
  for (const auto& f : findings) ids.push_back(f.id);
  CHECK(ids == std::vector<std::string>{"softirq_pinned", "irqbalance_collapse", "softnet_drops", "softnet_squeeze"});
  CHECK_THAT(findings[0].evidence, Catch::Contains("hot IRQ") && Catch::Contains("mlx5_comp7"));
}

TEST_CASE("interface_drops: kernel drop counters plus the largest ethtool drop counter per interface") {
  Summary s;
  IfaceSummary a;
  a.iface = {Place::host(), "eth0"};
  a.delta.rx_dropped = 5, a.delta.tx_dropped = 7, a.delta.rx_fifo = 1;
  a.ethtool_delta = EthtoolStats{{"rx_drops", 40}, {"rx0_drops", 40}, {"rx_packets", 99999}};
  IfaceSummary b;
  b.iface = {Place::netns("wgp-srv"), "wgp-ws"};
  b.delta.tx_dropped = 100;
  s.ifaces = {a, b};
  CHECK(interface_drops(s) == 5 + 7 + 1 + 40 + 100);
}

TEST_CASE("JSON of a summary and its findings carries the numbers the baseline table needs") {
  const std::vector<WatchedInterface> watched = {{kSrv, "wgp-us"}};
  Snapshot first = real_before(), last = real_after();
  auto s = summarize(first, last, {diff_snapshots(first, last, watched, 3.0)}, watched, {});
  nlohmann::json j = s;
  CHECK(j["seconds"].get<double>() == Approx(3.0));
  CHECK(j["cores"].size() == 2);
  CHECK(j["interfaces"][0]["interface"] == "wgp-srv/wgp-us");
  CHECK(j["interfaces"][0]["rx_mbps"].get<double>() == Approx(1000.0));
  CHECK(j["interfaces"][0]["delta"]["tx_dropped"] == 9);
  CHECK(j["net"][0]["place"] == "netns wgp-srv");
  CHECK(j["net"][0]["udp"]["rcvbuf_errors"] == 47944);
  CHECK(j["hot_irq"].is_null());
  CHECK(j["interface_drops"] == 9);
  HostFacts h;
  h.nproc = 2;
  h.wireguard = {{"wgp-ws", WgMode::Userspace}};
  nlohmann::json f = diagnose(s, h);
  REQUIRE(f.is_array());
  CHECK(f[0]["id"] == "userspace_wireguard");
  CHECK(f[0]["severity"] == "critical");
  nlohmann::json hj = h;
  CHECK(hj["wireguard"]["wgp-ws"] == "userspace");
  nlohmann::json sec = diff_snapshots(first, last, watched, 3.0);
  CHECK(sec["interfaces"][0]["rx_mbps"].get<double>() == Approx(1000.0));
}

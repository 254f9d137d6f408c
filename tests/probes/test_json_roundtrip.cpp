// probes/json.hpp both ways: what the peer agent sends over SSH comes back as the same probes types.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "probes/json.hpp"

using namespace wgopt;
using namespace wgopt::probes;
using nlohmann::json;

namespace {

IrqDelta irq(const std::string& id, IrqClass cls) {
  return {.id = id, .action = "virtio2-input." + id, .cls = cls, .cpus = {0, 1}, .per_cpu = {5, 900}, .total = 905, .top_cpu = 1};
}

Summary full_summary() {
  Summary s;
  s.seconds = 10.02;
  s.samples = 10;
  s.cores = {{.cpu = 0, .usr = 1.5, .sys = 20, .soft = 60.25, .irq = 0.5, .iowait = 0.1, .steal = 0.2, .idle = 17.95, .ticks = 1002},
             {.cpu = 1, .usr = 2, .sys = 3, .soft = 4, .irq = 0, .iowait = 0, .steal = 0, .idle = 91, .ticks = 1001}};
  s.top_soft_cpu = 0;
  s.top_soft_pct = 60.25;
  s.top_sys_cpu = 0;
  s.top_sys_pct = 20;
  s.peak_soft_pct_1s = 88;
  s.softnet = {.processed = 100000, .dropped = 12, .time_squeeze = 30, .received_rps = 400, .flow_limit = 2};
  s.softnet_per_cpu = {{.cpu = 0, .processed = 90000, .dropped = 12, .time_squeeze = 30, .received_rps = 0, .flow_limit = 2},
                       {.cpu = 1, .processed = 10000, .dropped = 0, .time_squeeze = 0, .received_rps = 400, .flow_limit = 0}};
  s.softnet_dropped_per_s = 1.2;
  s.softnet_squeeze_per_s = 3;
  s.softirq_cpus = {0, 1};
  s.net_rx = {5000, 70};
  s.net_tx = {30, 3000};
  s.irqs = {irq("38", IrqClass::DataRx), irq("1", IrqClass::Other)};
  s.hot_irq = irq("38", IrqClass::DataRx);
  IfaceSummary i;
  i.iface = {Place::netns("wge-srv"), "wge-ws"};
  i.delta = {.rx_bytes = 1, .rx_packets = 2, .rx_errors = 3, .rx_dropped = 4, .rx_fifo = 5, .rx_missed = 6,
             .tx_bytes = 7, .tx_packets = 8, .tx_errors = 9, .tx_dropped = 10, .tx_fifo = 11};
  i.rx_mbps = 812.5;
  i.tx_mbps = 3.25;
  i.rx_mbps_peak = 900;
  i.tx_mbps_peak = 4;
  i.ethtool_delta = EthtoolStats{{"rx_queue_0_drops", 7}};
  s.ifaces.push_back(i);
  IfaceSummary host_iface;
  host_iface.iface = {Place::host(), "eth0"};
  host_iface.present = false;
  s.ifaces.push_back(host_iface);
  NetDelta n;
  n.place = Place::netns("wge-srv");
  n.udp = {.in_datagrams = 1, .no_ports = 2, .in_errors = 3, .out_datagrams = 4, .rcvbuf_errors = 5, .sndbuf_errors = 6,
           .in_csum_errors = 7, .mem_errors = 8};
  n.tcp = {.in_segs = 9, .out_segs = 10, .retrans_segs = 11, .in_errs = 12};
  s.net.push_back(n);
  s.wg_peers = {{.interface = "wge-ws", .public_key = "abc=", .endpoint = "198.18.0.2:51821", .handshake_age_s = 3,
                 .rx_bytes = 100, .tx_bytes = 200},
                {.interface = "wge-ws", .public_key = "def=", .endpoint = "", .handshake_age_s = std::nullopt}};
  s.warnings = {"ethtool -S eth0: not supported"};
  return s;
}

}  // namespace

TEST_CASE("probes JSON: a Summary round-trips whole", "[probes][json]") {
  const Summary s = full_summary();
  const json j = s;
  const Summary back = j.get<Summary>();
  CHECK(json(back) == j);
  CHECK(back.ifaces.at(0).iface == s.ifaces.at(0).iface);
  CHECK(back.ifaces.at(1).iface.place.is_host());
  CHECK(back.softnet.received_rps == 400);
  CHECK(back.hot_irq->cls == IrqClass::DataRx);
  CHECK(back.cores.at(0).ticks == 1002);
  CHECK(back.net_tx == s.net_tx);
  CHECK_FALSE(back.wg_peers.at(1).handshake_age_s);
  CHECK(interface_drops(back) == interface_drops(s));
}

TEST_CASE("probes JSON: a SecondSample round-trips what it writes (data-path IRQs only)", "[probes][json]") {
  SecondSample s;
  s.t = 3.0;
  s.seconds = 1.001;
  s.cpu = full_summary().cores;
  s.softirq_cpus = {0, 1, 10};  // "cpu10" sorts before "cpu2" as a JSON key: read back in CPU order
  s.net_rx = {1, 2, 3};
  s.net_tx = {4, 5, 6};
  s.softnet_total = {.processed = 5, .dropped = 1, .time_squeeze = 2, .received_rps = 3, .flow_limit = 4};
  s.irqs = {irq("38", IrqClass::DataRx), irq("9", IrqClass::Other)};
  IfaceDelta d;
  d.iface = {Place::netns("wge-cli"), "wge-wc"};
  d.delta.rx_bytes = 1000;
  d.delta.rx_dropped = 2;
  d.rx_mbps = 0.008;
  s.ifaces = {d};
  s.net = full_summary().net;
  const json j = s;
  const SecondSample back = j.get<SecondSample>();
  CHECK(json(back) == j);
  CHECK(back.softirq_cpus == std::vector<int>{0, 1, 10});
  CHECK(back.net_rx == std::vector<uint64_t>{1, 2, 3});
  REQUIRE(back.irqs.size() == 1);  // the Other IRQ is not written per second, by design
  CHECK(back.irqs[0].id == "38");
  CHECK(back.ifaces.at(0).delta.rx_bytes == 1000);
  CHECK(back.softnet_total.flow_limit == 4);
}

TEST_CASE("probes JSON: a malformed document throws, never crashes", "[probes][json]") {
  json j = full_summary();
  j.erase("cores");
  CHECK_THROWS(j.get<Summary>());
  j = full_summary();
  j["interfaces"][0]["interface"] = "bad name;/x";
  CHECK_THROWS(j.get<Summary>());
  j = full_summary();
  j["irqs"][0]["class"] = "warp-drive";
  CHECK_THROWS_AS(j.get<Summary>(), Error);
  CHECK_THROWS_AS(place_from_description("moon"), Error);
}

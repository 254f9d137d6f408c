// The tool parsers on real captured output (tests/fixtures/actuators/tools, see README.md there).
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "actuators/ethtool_parse.hpp"
#include "actuators/knobs_common.hpp"

using namespace wgopt::act;

namespace {
std::string fixture(const std::string& name) {
  std::ifstream in(std::string(WGOPT_FIXTURES_DIR) + "/actuators/tools/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

TEST_CASE("ethtool -l and -g: pre-set maximum and current, n/a as absent") {
  auto veth = parse_preset_current(fixture("ethtool_l_veth.txt"));
  CHECK(veth.get("RX") == std::make_pair(2LL, 1LL));
  CHECK(veth.get("TX") == std::make_pair(2LL, 1LL));
  CHECK(!veth.get("Combined"));
  auto virtio = parse_preset_current(fixture("ethtool_l_virtio.txt"));
  CHECK(virtio.get("Combined") == std::make_pair(1LL, 1LL));
  auto rings = parse_preset_current(fixture("ethtool_g_virtio.txt"));
  CHECK(rings.get("RX") == std::make_pair(256LL, 256LL));
  CHECK(!rings.get("RX Mini"));
  CHECK(parse_preset_current(fixture("ethtool_g_mlx5.txt")).get("TX") == std::make_pair(8192LL, 1024LL));
  CHECK(says_not_supported(fixture("ethtool_g_veth.txt")));
}

TEST_CASE("ethtool -k: on/off and [fixed], sub-features included") {
  auto f = parse_features(fixture("ethtool_k_veth.txt"));
  CHECK(!f.at("generic-receive-offload").on);
  CHECK(!f.at("generic-receive-offload").fixed);
  CHECK(f.at("tcp-segmentation-offload").on);
  CHECK(f.at("large-receive-offload").fixed);
  CHECK(f.at("tx-tcp-segmentation").on);  // tab-indented row
  CHECK(f.count("rx-udp-gro-forwarding") == 1);
  CHECK(f.count("rx-gro-list") == 1);
  auto tun = parse_features(fixture("ethtool_k_tun.txt"));
  CHECK(!tun.at("tx-checksum-ip-generic").on);  // "off [requested on]"
  CHECK(tun.at("tx-checksumming").refused);     // through its sub-feature
  CHECK(tun.at("tcp-segmentation-offload").refused);
  CHECK(!tun.at("scatter-gather").refused);
  CHECK(!f.at("tcp-segmentation-offload").refused);
}

TEST_CASE("ethtool -n rx-flow-hash, -x, -i and tc qdisc show") {
  CHECK(parse_flow_hash(fixture("ethtool_n_udp4_mlx5.txt")) == "sd");
  CHECK(parse_flow_hash(fixture("ethtool_n_udp4_virtio.txt")).empty());  // "None"
  auto ind = parse_indirection(fixture("ethtool_x_mlx5.txt"));
  CHECK(ind.rx_rings == 4);
  REQUIRE(ind.table.size() == 128);
  CHECK(ind.table[5] == 1);
  auto virtio = parse_indirection(fixture("ethtool_x_virtio.txt"));
  CHECK(virtio.rx_rings == 1);
  CHECK(virtio.table.empty());  // "Operation not supported" inside the table
  CHECK(parse_driver_info(fixture("ethtool_i_virtio.txt")).bus_info == "0000:00:03.0");
  CHECK(parse_driver_info(fixture("ethtool_i_veth.txt")).bus_info.empty());
  CHECK(parse_driver_info(fixture("ethtool_i_mlx5.txt")).driver == "mlx5_core");
  auto q = parse_root_qdisc(fixture("tc_qdisc_virtio.txt"));
  CHECK(q.kind == "pfifo_fast");
  CHECK(q.handle == "0:");
  CHECK(parse_root_qdisc(fixture("tc_qdisc_veth.txt")).kind == "noqueue");
}

// Lines as tc 6.1 prints them on this kernel (and, for mq/cake/fq, on hosts that have them).
TEST_CASE("a root qdisc the knob could not put back exactly is named: shapers, classes, attached qdiscs") {
  // What the knob puts back exactly: a device default, or a kind it creates with its own arguments.
  CHECK(qdisc_not_restorable("qdisc noqueue 0: root refcnt 2 \n", "") == "");
  CHECK(qdisc_not_restorable("qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\n", "") == "");
  CHECK(qdisc_not_restorable("qdisc mq 0: root \nqdisc fq_codel 0: parent :2 limit 10240p flows 1024\n"
                             "qdisc fq_codel 0: parent :1 limit 10240p flows 1024\n",
                             "class mq :1 root leaf fq_codel 0: \nclass mq :2 root leaf fq_codel 0: \n") == "");
  CHECK(qdisc_not_restorable("qdisc tbf 817d: root refcnt 3 rate 100Gbit burst 1037500b lat 10ms \n", "class tbf 817d:1 parent 817d: \n") ==
        "");  // tbf's one class is its own
  CHECK(qdisc_not_restorable("qdisc htb 817e: root refcnt 3 r2q 10 default 0 direct_packets_stat 0 direct_qlen 1000\n", "") == "");
  CHECK(qdisc_not_restorable("qdisc cake 8001: root refcnt 2 bandwidth unlimited diffserv3 triple-isolate\n", "") == "");
  // A loaded fq_codel lists a class per flow with packets queued; ingress/clsact sit on the receive hook.
  CHECK(qdisc_not_restorable("qdisc fq_codel 0: root refcnt 2 limit 10240p flows 1024 quantum 1514 target 5ms\n"
                             "qdisc ingress ffff: parent ffff:fff1 ----------------\n",
                             "class fq_codel :2c parent 8001: \nclass fq_codel :3a parent 8001: \n") == "");
  CHECK(qdisc_not_restorable("qdisc noqueue 0: root refcnt 2 \nqdisc clsact ffff: parent ffff:fff1 \n", "") == "");

  // What it would lose.
  CHECK(qdisc_not_restorable("qdisc tbf 80a4: root refcnt 2 rate 10Mbit burst 4Kb lat 400ms \n", "") ==
        "the root qdisc tbf shapes to 10Mbit");
  CHECK(qdisc_not_restorable("qdisc htb 1: root refcnt 3 r2q 10 default 0x10 direct_packets_stat 0 direct_qlen 1000\n",
                             "class htb 1:10 root prio 0 rate 5Mbit ceil 5Mbit burst 1600b cburst 1600b \n") ==
        "the root qdisc htb has classes");
  CHECK(qdisc_not_restorable("qdisc htb 1: root refcnt 3 r2q 10 default 0x10 direct_packets_stat 0 direct_qlen 1000\n", "") ==
        "the root qdisc htb sends unclassified traffic to class 0x10");
  CHECK(qdisc_not_restorable("qdisc cake 8001: root refcnt 2 bandwidth 20Mbit diffserv3\n", "") == "the root qdisc cake shapes to 20Mbit");
  CHECK(qdisc_not_restorable("qdisc fq 8002: root refcnt 2 limit 10000p flow_limit 100p maxrate 1Gbit\n", "") ==
        "the root qdisc fq paces each flow to 1Gbit");
  CHECK(qdisc_not_restorable("qdisc netem 8003: root refcnt 2 limit 1000 delay 20ms\n", "") ==
        "the root qdisc is netem, a kind wgopt does not create");
  CHECK(qdisc_not_restorable("qdisc htb 8001: root refcnt 2 r2q 5 default 0 direct_packets_stat 0 direct_qlen 77\n", "") ==
        "the root qdisc htb has r2q 5 (wgopt's would have 10)");
  CHECK(qdisc_not_restorable("qdisc htb 7: root refcnt 2 r2q 10 default 0 direct_packets_stat 0 direct_qlen 1000\n", "") ==
        "the root qdisc htb has the handle 7: given by hand");
  CHECK(qdisc_not_restorable("qdisc pfifo_fast 0: root refcnt 2 bands 3\n", "",
                             "filter parent 8001: protocol ip pref 1 u32 chain 0 \nfilter parent 8001: protocol ip pref 1 u32 "
                             "chain 0 fh 800: ht divisor 1 \n") == "filters are attached to its root qdisc");
  CHECK(qdisc_not_restorable("qdisc fq_codel 8001: root refcnt 2 limit 10240p\n", "", "") == "");  // made by tc, no handle given
  CHECK(qdisc_not_restorable("qdisc mq 0: root \nqdisc fq 8004: parent :1 limit 10000p\n", "") ==
        "a fq qdisc is attached under its root qdisc");
}
// The tool parsers on real captured output (tests/fixtures/actuators/tools, see README.md there).
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "actuators/ethtool_parse.hpp"

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

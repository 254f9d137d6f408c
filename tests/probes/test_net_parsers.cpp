// Parsers of per-namespace and per-interface sources: /proc/net/snmp, /proc/net/dev,
// /sys/class/net/IF/statistics, `ethtool -S`, `wg show all dump`, WireGuard mode detection.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "common/files.hpp"
#include "probes/ethtool_stats.hpp"
#include "probes/netdev.hpp"
#include "probes/snmp.hpp"
#include "probes/wireguard.hpp"
#include "tests/probes/fixture.hpp"

using namespace wgopt;
using namespace wgopt::probes;
namespace fs = std::filesystem;

TEST_CASE("/proc/net/snmp: UDP and TCP counters from a real namespace capture") {
  auto s = parse_snmp(probe_fixture("snmp_netns.txt"));
  CHECK(s.udp.in_datagrams == 219075);
  CHECK(s.udp.in_errors == 47944);
  CHECK(s.udp.rcvbuf_errors == 47944);
  CHECK(s.udp.sndbuf_errors == 0);
  CHECK(s.udp.no_ports == 0);
  CHECK(s.all.at("Tcp").at("MaxConn") == -1);
  CHECK(s.all.at("Ip").at("DefaultTTL") == 64);
  auto h = parse_snmp(probe_fixture("snmp_host.txt"));
  CHECK(h.tcp.out_segs > 0);
}

TEST_CASE("/proc/net/snmp: malformed input") {
  CHECK_THROWS_WITH(parse_snmp("Udp: InDatagrams NoPorts\nUdp: 1\nTcp: RetransSegs\nTcp: 1\n", "/n/snmp"),
                    Catch::Contains("/n/snmp line 2") && Catch::Contains("2 names but 1 values"));
  CHECK_THROWS_WITH(parse_snmp("Udp: InDatagrams\n"), Catch::Contains("without a value line"));
  CHECK_THROWS_WITH(parse_snmp("Udp: InDatagrams\nUdp: many\nTcp: X\nTcp: 1\n"), Catch::Contains("'many'"));
  CHECK_THROWS_WITH(parse_snmp("Ip: Forwarding\nIp: 1\n"), Catch::Contains("no Udp or Tcp"));
  CHECK_THROWS_WITH(parse_snmp("Udp: A\nTcp: 1\n"), Catch::Contains("expected the values of Udp:"));
}

TEST_CASE("/proc/net/dev: every interface, long names touching the colon") {
  auto d = parse_proc_net_dev(probe_fixture("net_dev_netns.txt"));
  REQUIRE(d.contains("wgp-ws"));
  REQUIRE(d.contains("wgp-us"));
  CHECK(d.at("wgp-us").rx_bytes == 398869924);
  CHECK(d.at("wgp-us").rx_packets == 267028);
  CHECK(d.at("wgp-ws").tx_bytes == 4231731);
  CHECK(d.at("wgp-ws").tx_packets == 68301);
  CHECK(d.at("lo").rx_bytes == 0);
  auto h = parse_proc_net_dev(probe_fixture("net_dev_host.txt"));
  CHECK(h.contains("eth0"));
}

TEST_CASE("/proc/net/dev: drop and fifo columns land in the right fields") {
  const std::string text =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
      "  eth0: 100 10 1 2 3 4 5 6 200 20 7 8 9 10 11 12\n";
  auto c = parse_proc_net_dev(text).at("eth0");
  CHECK(c.rx_errors == 1);
  CHECK(c.rx_dropped == 2);
  CHECK(c.rx_fifo == 3);
  CHECK(c.tx_bytes == 200);
  CHECK(c.tx_errors == 7);
  CHECK(c.tx_dropped == 8);
  CHECK(c.tx_fifo == 9);
}

TEST_CASE("/proc/net/dev: malformed input") {
  const std::string head = "Inter-|\n face |\n";
  CHECK_THROWS_WITH(parse_proc_net_dev(head + "  eth0 100 10\n", "/n/dev"), Catch::Contains("/n/dev line 3"));
  CHECK_THROWS_WITH(parse_proc_net_dev(head + "  eth0: 1 2 3\n"), Catch::Contains("3 numbers, expected 16"));
  CHECK_THROWS_WITH(parse_proc_net_dev(head + "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -1\n"),
                    Catch::Contains("'-1'"));
  CHECK_THROWS_AS(parse_proc_net_dev("no header\n"), Error);
}

TEST_CASE("counters_delta: differences, and 0 for a counter that went backwards") {
  IfaceCounters a, b;
  a.rx_bytes = 100, b.rx_bytes = 350;
  a.tx_dropped = 10, b.tx_dropped = 4;  // device re-created
  auto d = counters_delta(a, b);
  CHECK(d.rx_bytes == 250);
  CHECK(d.tx_dropped == 0);
}

TEST_CASE("/sys/class/net/IF/statistics through a fake root") {
  auto root = fs::temp_directory_path() / fs::path("wgopt-probes-sys-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "sys/class/net/wgp-us");
  fs::copy(fs::path(WGOPT_FIXTURES_DIR) / "probes/sys_wgp-us_statistics", root / "sys/class/net/wgp-us/statistics");
  RootedFiles files(root.string());
  auto c = read_sys_statistics(files, "wgp-us");
  CHECK(c.rx_bytes == 398872982);
  CHECK(c.rx_missed == 0);
  CHECK(c.tx_packets > 0);
  CHECK_THROWS_AS(read_sys_statistics(files, "bad name;"), UsageError);
  CHECK_THROWS_WITH(read_sys_statistics(files, "eth9"), Catch::Contains("eth9") && Catch::Contains("ip link"));
  std::ofstream(root / "sys/class/net/wgp-us/statistics/rx_dropped") << "lots\n";
  CHECK_THROWS_WITH(read_sys_statistics(files, "wgp-us"), Catch::Contains("rx_dropped") && Catch::Contains("lots"));
  fs::remove_all(root);
}

TEST_CASE("ethtool -S: veth, virtio_net and mlx5 counters") {
  auto veth = parse_ethtool_stats(probe_fixture("ethtool_S_veth.txt"));
  CHECK(veth.at("peer_ifindex") == 7);
  CHECK(veth.at("rx_queue_0_drops") == 0);
  auto virtio = parse_ethtool_stats(probe_fixture("ethtool_S_virtio_net_eth0.txt"));
  CHECK(virtio.at("rx_kicks") == 767);
  auto drops = drop_counters(virtio);
  CHECK(drops.contains("rx_drops"));
  CHECK(drops.contains("rx0_xdp_drops"));
  CHECK(drops.contains("tx_tx_timeouts"));
  CHECK_FALSE(drops.contains("rx_kicks"));
  auto mlx5 = parse_ethtool_stats(probe_fixture("written/ethtool_S_mlx5.txt"));
  CHECK(mlx5.at("rx_out_of_buffer") == 48213);
  auto md = drop_counters(mlx5);
  CHECK(md.contains("rx_out_of_buffer"));
  CHECK(md.contains("rx_discards_phy"));
  CHECK(md.contains("rx0_wqe_err"));
  CHECK(md.contains("rx_crc_errors_phy"));
  CHECK(md.contains("tx_queue_dropped"));
  CHECK_FALSE(md.contains("rx_packets"));
  CHECK_FALSE(md.contains("ch_events"));
}

TEST_CASE("ethtool -S: drop-counter names") {
  CHECK(is_drop_counter("rx_missed_errors"));
  CHECK(is_drop_counter("rx_no_buffer_count"));
  CHECK(is_drop_counter("RX_FIFO_ERRORS"));
  CHECK(is_drop_counter("tx_err"));
  CHECK_FALSE(is_drop_counter("interrupts"));  // "err" inside a word is not an error counter
  CHECK_FALSE(is_drop_counter("rx_bytes"));
}

TEST_CASE("ethtool -S: deltas and malformed input") {
  auto d = stats_delta({{"rx_missed", 5}, {"x", 9}}, {{"rx_missed", 12}, {"x", 3}, {"new", 4}});
  CHECK(d.at("rx_missed") == 7);
  CHECK(d.at("x") == 0);
  CHECK(d.at("new") == 4);
  CHECK_THROWS_WITH(parse_ethtool_stats("NIC statistics:\n     rx_packets 12\n", "ethtool -S eth0"),
                    Catch::Contains("ethtool -S eth0 line 2"));
  CHECK_THROWS_WITH(parse_ethtool_stats("NIC statistics:\n     rx_packets: twelve\n"), Catch::Contains("twelve"));
  CHECK_THROWS_WITH(parse_ethtool_stats("no stats available\n"), Catch::Contains("line 1"));
  CHECK_THROWS_WITH(parse_ethtool_stats(""), Catch::Contains("NIC statistics"));
}

TEST_CASE("wg show all dump: interfaces and peers from a real wireguard-go capture") {
  auto w = parse_wg_dump(probe_fixture("wg_show_all_dump.txt"));
  REQUIRE(w.size() == 2);
  CHECK(w[0].name == "wgp-wc");
  CHECK(w[0].listen_port == 51821);
  CHECK(w[0].fwmark == "off");
  CHECK(w[0].public_key == "J71YRpEDenwazctQ4IESL1XlZBYKW3/kmHzf54hcWT8=");
  REQUIRE(w[0].peers.size() == 1);
  const auto& p = w[0].peers[0];
  CHECK(p.endpoint == "198.18.0.1:51820");
  CHECK(p.allowed_ips == std::vector<std::string>{"100.64.0.1/32"});
  CHECK(p.latest_handshake == 1795689878);
  CHECK(p.rx_bytes == 6802844);
  CHECK(p.tx_bytes == 387657360);
  CHECK(p.persistent_keepalive == 25);
  CHECK(p.handshake_age(1795689878 + 42) == 42);
  REQUIRE(w[1].peers.size() == 2);
  const auto& never = w[1].peers[1];
  CHECK(never.endpoint.empty());
  CHECK(never.allowed_ips == std::vector<std::string>{"100.64.0.3/32", "100.64.1.0/24"});
  CHECK_FALSE(never.handshake_age(1795689900).has_value());
  CHECK(w[1].peers[0].persistent_keepalive == 0);
}

TEST_CASE("wg show all dump: malformed input") {
  CHECK_THROWS_WITH(parse_wg_dump("wg0\tpub\t(none)\t1.2.3.4:5\t10.0.0.2/32\t0\t0\t0\toff\n"),
                    Catch::Contains("line 1") && Catch::Contains("before its interface line"));
  CHECK_THROWS_WITH(parse_wg_dump("wg0\tpriv\tpub\t51820\n"), Catch::Contains("4 tab-separated fields"));
  CHECK_THROWS_WITH(parse_wg_dump("wg0\tpriv\tpub\tport\toff\n"), Catch::Contains("listen port 'port'"));
  CHECK(parse_wg_dump("").empty());  // no WireGuard interface: an empty dump is valid
}

TEST_CASE("WireGuard mode: link kind, UAPI socket, userspace process") {
  CHECK(parse_link_kind(probe_fixture("ip_link_wireguard_go.json")) == "tun");
  CHECK(parse_link_kind(probe_fixture("ip_link_veth.json")) == "veth");
  CHECK(parse_link_kind(probe_fixture("ip_link_virtio_eth0.json")).empty());  // a physical NIC has no linkinfo
  CHECK_THROWS_AS(parse_link_kind("not json"), Error);
  CHECK_THROWS_AS(parse_link_kind("{}"), Error);
  CHECK(classify_wg_mode({.info_kind = "wireguard", .kernel_module = true}) == WgMode::Kernel);
  CHECK(classify_wg_mode({.info_kind = "tun", .uapi_socket = true}) == WgMode::Userspace);
  CHECK(classify_wg_mode({.info_kind = "tun", .userspace_process = "wireguard-go"}) == WgMode::Userspace);
  CHECK(classify_wg_mode({.info_kind = "tun"}) == WgMode::NotWireGuard);  // an OpenVPN tun
  CHECK(classify_wg_mode({.info_kind = "veth", .uapi_socket = true}) == WgMode::NotWireGuard);
  CHECK(is_userspace_wg_comm("wireguard-go"));
  CHECK_FALSE(is_userspace_wg_comm("wg"));
}

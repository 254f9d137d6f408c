// Bad values are refused by validate() with one line naming the knob and the legal domain, and
// nothing reaches the tree or the tools. equal() compares as the kernel normalises.
#include <catch2/catch.hpp>

#include <fstream>

#include "actuators/catalog.hpp"
#include "common/error.hpp"
#include "tests/actuators/test_knobs_fake.hpp"

using namespace wgopt;
using namespace wgopt::act;

TEST_CASE("out-of-domain values are refused and nothing is written") {
  test::FakeHost fake(2);
  const auto before = test::snapshot_tree(fake.root);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"net.core.netdev_max_backlog", "abc"},     {"net.core.netdev_max_backlog", "-5"},
      {"net.core.netdev_max_backlog", "99999999999"}, {"net.core.netdev_budget", "1.5"},
      {"net.ipv4.tcp_rmem", "4096 131072"},       {"net.ipv4.tcp_rmem", "16777216 131072 4096"},
      {"net.ipv4.tcp_rmem", "4096 x 6291456"},    {"net.ipv4.tcp_congestion_control", "bbr2"},
      {"net.core.default_qdisc", "fq"},           {"eth0/rps_cpus", "ff"},  // 2 CPUs: at most 3
      {"eth0/rps_cpus", "4"},                     {"eth0/rps_cpus", "1,00000000"},
      {"enp1s0/rps_cpus", "1 2 3 zz"},            {"eth0/rps_flow_cnt", "-1"},
      {"enp1s0/irq_affinity", "0"},               {"enp1s0/irq_affinity", "7"},
      {"enp1s0/irq_affinity", "1 0"},             {"enp1s0/offload/gro", "maybe"},
      {"enp1s0/irq_affinity", "two-cores"},
      {"enp1s0/channels/combined", "9"},          {"enp1s0/channels/combined", "0"},
      {"enp1s0/rings/rx", "16384"},               {"enp1s0/qdisc", "fq"},
      {"enp1s0/rss_hash_udp4", "xyz"},            {"enp1s0/rss_hash_udp4", "ss"},
      {"enp1s0/rss_equal", "5"},                  {"enp1s0/rss_equal", "weight:0,0"},
      {"wg0/mtu", "65536"},                       {"wg0/mtu", "576"},
      {"wg0/txqueuelen", "1e3"},                  {"irqbalance", "stopped"},
  };
  fake.tools->log.clear();
  for (const auto& [id, value] : bad) {
    INFO(id << " = " << value);
    auto k = find_knob(fake.host, id);
    try {
      k->validate(value);
      FAIL("accepted");
    } catch (const UsageError& e) {
      const std::string w = e.what();
      CHECK(w.find(id) != std::string::npos);
      CHECK(w.find('\n') == std::string::npos);
    }
  }
  CHECK(fake.files->writes == 0);
  for (const auto& argv : fake.tools->log) {
    INFO(render_argv(argv));
    for (const char* mutating : {"-L", "-G", "-K", "-N", "-X", "replace", "del", "set", "start", "stop"}) {
      CHECK(std::find(argv.begin(), argv.end(), mutating) == argv.end());
    }
  }
  CHECK(test::snapshot_tree(fake.root) == before);
}

TEST_CASE("a WireGuard MTU above what the underlay carries is legal to set (with a warning); the search stays under it") {
  // Found by an exploratory test: a `wgopt show` file saved while the host had 1500 could not be
  // applied back once the MTU was 1420 ("use an integer in [1280, 1440]").
  test::FakeHost fake(2);
  auto k = find_knob(fake.host, "wg0/mtu");
  CHECK(k->descriptor().domain.max == 1440);  // the search's range: what a 1500-byte underlay carries
  CHECK(k->validate("1500") == "1500");
  CHECK_NOTHROW(k->apply("1500"));
}

TEST_CASE("validate gives the canonical form; equal compares as the kernel normalises") {
  test::FakeHost fake(2);
  auto rmem = find_knob(fake.host, "net.ipv4.tcp_rmem");
  CHECK(rmem->validate(" 4096\t131072   6291456 ") == "4096 131072 6291456");
  CHECK(rmem->equal("4096 131072 6291456", "4096\t131072\t6291456"));
  auto rps = find_knob(fake.host, "enp1s0/rps_cpus");
  CHECK(rps->validate("00000003") == "3");
  CHECK(rps->equal("3", "3 3 3 3"));
  CHECK(!rps->equal("3", "3 1 3 3"));
  // Queues a channel change undone first re-created, at the kernel's 0, are still wgopt's doing.
  CHECK(rps->still_ours("3 0", "3", "1 2"));          // two queues again, as the original had
  CHECK(rps->still_ours("3 3 0 0", "3", "1 2 1 2"));
  CHECK(rps->still_ours("1 2 0", "1 2", "0"));         // one original value for every queue
  CHECK_FALSE(rps->still_ours("3 1", "3", "1 2"));     // someone else's mask on the second queue
  CHECK_FALSE(rps->still_ours("0 3", "3", "1 2"));
  CHECK_FALSE(rps->still_ours("1 3 0", "1 2", "0"));
  CHECK_FALSE(rps->still_ours("1", "3", "1"));
  CHECK_FALSE(rps->still_ours("3 0 0", "3", "1 2"));   // queues someone else added: the original does not fit
  // A kernel whose new queues start at rps_default_mask.
  std::ofstream(fake.root / "proc/sys/net/core/rps_default_mask") << "2\n";
  CHECK(find_knob(fake.host, "enp1s0/rps_cpus")->still_ours("3 2", "3", "1 2"));
  CHECK_FALSE(find_knob(fake.host, "enp1s0/rps_cpus")->still_ours("3 0", "3", "1 2"));
  auto flows = find_knob(fake.host, "enp1s0/rps_flow_cnt");
  CHECK(flows->equal("3000", "4096"));  // rounded up to a power of two
  CHECK(flows->validate("3") == "4");     // canonical is what the kernel will hold: `set` reports '0' -> '4'
  CHECK(find_knob(fake.host, "net.core.rps_sock_flow_entries")->validate("30000") == "32768");
  CHECK(!flows->equal("4097", "4096"));
  CHECK(flows->descriptor().domain.min_on == 2);  // the search never asks kernel 6.18 for a table of 1 (EINVAL)
  // By hand (wgopt set): refused at validation, before anything is written, naming the values it
  // takes (it was the kernel's EINVAL at write time, exit 1 after a transient change).
  CHECK_THROWS_AS(flows->validate("1"), UsageError);
  CHECK_THROWS_WITH(flows->validate("1"), Catch::Contains("refuses an RFS table of fewer than 2 flows: use 0 (off) or 2 and up"));
  CHECK_THROWS_WITH(flows->validate("4 1"), Catch::Contains("use 0 (off) or 2 and up"));
  // A kernel that holds 1 took it (before 6.18): a profile of that host applies there.
  std::ofstream(fake.root / "sys/class/net/enp1s0/queues/rx-0/rps_flow_cnt") << "1\n";  // as that kernel holds it
  CHECK(find_knob(fake.host, "enp1s0/rps_flow_cnt")->validate("1") == "1");
  flows->apply("2");
  CHECK(flows->read() == "2");
  auto entries = find_knob(fake.host, "net.core.rps_sock_flow_entries");
  CHECK(entries->equal("30000", "32768"));
  CHECK(find_knob(fake.host, "enp1s0/offload/gro")->validate("true") == "on");
  CHECK(find_knob(fake.host, "enp1s0/rss_hash_udp4")->validate("nfds") == "sdfn");
  CHECK(find_knob(fake.host, "enp1s0/rss_equal")->validate("weight:1,1,2") == "weight:1,1,2");
  CHECK(find_knob(fake.host, "enp1s0/irq_affinity")->validate("spread") == "spread");
}

TEST_CASE("weighted RSS tables read back as weights and restore exactly") {
  test::FakeHost fake(2);
  auto rss = find_knob(fake.host, "enp1s0/rss_equal");
  rss->apply("weight:1,1,2");
  CHECK(rss->read() == "weight:32,32,64");
  CHECK(rss->presence().writable);
  rss->apply(rss->read());
  CHECK(rss->read() == "weight:32,32,64");
  rss->apply("4");
  CHECK(rss->read() == "4");
}

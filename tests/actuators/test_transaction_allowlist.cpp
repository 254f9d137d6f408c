// The allowlist: what a knob id may look like and which paths any knob may ever write.
#include <catch2/catch.hpp>

#include "actuators/allowlist.hpp"
#include "common/error.hpp"
#include "tests/actuators/fake_knob.hpp"

using namespace wgopt;
using namespace wgopt::act;

TEST_CASE("writes are allowed only to networking sysctls, network devices and IRQ affinities") {
  CHECK(is_allowed_write_path("/proc/sys/net/core/netdev_max_backlog"));
  CHECK(is_allowed_write_path("/proc/sys/net/ipv4/tcp_rmem"));
  CHECK(is_allowed_write_path("/sys/class/net/eth0/mtu"));
  CHECK(is_allowed_write_path("/sys/class/net/wgopt-wc/queues/rx-0/rps_cpus"));
  CHECK(is_allowed_write_path("/proc/irq/42/smp_affinity"));
  CHECK(is_allowed_write_path("/proc/irq/42/smp_affinity_list"));
  CHECK_FALSE(is_allowed_write_path("/proc/sys/kernel/core_pattern"));
  CHECK_FALSE(is_allowed_write_path("/proc/sys/net/../kernel/core_pattern"));
  CHECK_FALSE(is_allowed_write_path("/sys/class/net/eth0/../../../../etc/passwd"));
  CHECK_FALSE(is_allowed_write_path("/sys/class/net/eth0"));
  CHECK_FALSE(is_allowed_write_path("/proc/irq/default_smp_affinity"));
  CHECK_FALSE(is_allowed_write_path("/proc/irq/42/node"));
  CHECK_FALSE(is_allowed_write_path("/etc/sysctl.conf"));
  CHECK_FALSE(is_allowed_write_path("/proc/sys/net/core/x y"));
}

TEST_CASE("knob ids are checked before anything is looked up") {
  CHECK_FALSE(knob_id_problem("net.core.rmem_max"));
  CHECK_FALSE(knob_id_problem("eth0/mtu"));
  CHECK_FALSE(knob_id_problem("eth0/offload/rx-udp-gro-forwarding"));
  CHECK_FALSE(knob_id_problem("irqbalance"));
  CHECK_THAT(*knob_id_problem("kernel.sysrq"), Catch::Contains("outside the allowlist"));
  CHECK_THAT(*knob_id_problem("net..core"), Catch::Contains("outside the allowlist"));
  CHECK_THAT(*knob_id_problem("averyveryverylongname0/mtu"), Catch::Contains("is not valid"));
  CHECK_THAT(*knob_id_problem("eth0/../mtu"), Catch::Contains("malformed"));
  CHECK_THAT(*knob_id_problem("eth0/"), Catch::Contains("malformed"));
  CHECK_THAT(*knob_id_problem("net.core.x;y"), Catch::Contains("characters"));
  CHECK(knob_id_problem(""));
}

TEST_CASE("GuardedFiles refuses a write outside the allowlist and leaves the file alone") {
  wgopt::act::testing::Scratch s;
  std::filesystem::create_directories(s.dir / "root/etc");
  s.put("/etc/passwd", "root:x:0:0\n");
  s.put("/proc/sys/net/core/rmem_max", "212992\n");
  GuardedFiles files(std::make_shared<RootedFiles>(s.root()));
  CHECK_THROWS_WITH(files.write("/etc/passwd", "x"), Catch::Contains("refusing to write /etc/passwd"));
  CHECK(s.get("/etc/passwd") == "root:x:0:0\n");
  files.write("/proc/sys/net/core/rmem_max", "4194304\n");
  CHECK(s.get("/proc/sys/net/core/rmem_max") == "4194304\n");
}

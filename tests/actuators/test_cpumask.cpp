// CPU masks for 2, 4, 8, 16, 96 and 256 CPU machines: what wgopt builds and accepts is never wider
// than the machine, so the kernel's EOVERFLOW ("Value too large for defined data type") cannot happen.
#include <catch2/catch.hpp>

#include "actuators/cpumask.hpp"
#include "common/error.hpp"

using wgopt::UsageError;
using wgopt::act::CpuMask;

TEST_CASE("all-CPU masks match the guide's table and the kernel's group layout") {
  CHECK(CpuMask::all(2).canonical() == "3");
  CHECK(CpuMask::all(4).canonical() == "f");
  CHECK(CpuMask::all(8).canonical() == "ff");
  CHECK(CpuMask::all(16).canonical() == "ffff");
  CHECK(CpuMask::all(96).canonical() == "ffffffff,ffffffff,ffffffff");
  CHECK(CpuMask::all(256).canonical() ==
        "ffffffff,ffffffff,ffffffff,ffffffff,ffffffff,ffffffff,ffffffff,ffffffff");
  CHECK(CpuMask::all(40).canonical() == "ff,ffffffff");
  // As /sys prints it: every group, the first padded to the width's remaining bits.
  CHECK(CpuMask(2).kernel_format() == "0");
  CHECK(CpuMask(16).kernel_format() == "0000");
  CHECK(CpuMask(96).kernel_format() == "00000000,00000000,00000000");
  CHECK(CpuMask::single(0, 40).kernel_format() == "00,00000001");
}

TEST_CASE("a mask one bit too wide is refused for every layout, naming the widest legal mask") {
  for (int n : {2, 4, 8, 16, 96, 256}) {
    INFO(n << " CPUs");
    const std::string widest = CpuMask::all(n).canonical();
    CHECK(CpuMask::parse(widest, n).count() == n);
    if (n < 256) {
      // The lowest bit above the machine: "4" for 2 CPUs, "1,00000000,00000000,00000000" for 96.
      CpuMask wider = CpuMask::single(n, n + 1);
      try {
        CpuMask::parse(wider.canonical(), n, "mask for eth0/rps_cpus");
        FAIL("accepted " << wider.canonical());
      } catch (const UsageError& e) {
        CHECK(std::string(e.what()).find("too wide") != std::string::npos);
        CHECK(std::string(e.what()).find(widest) != std::string::npos);
      }
    }
  }
  CHECK_THROWS_AS(CpuMask::parse("ff", 4), UsageError);  // the guide's pitfall
}

TEST_CASE("kernel output parses back to the same mask; canonical form drops leading zeros") {
  CHECK(CpuMask::parse("00000000,00000001", 40).canonical() == "1");
  CHECK(CpuMask::parse("00000001,00000000\n", 64).canonical() == "1,00000000");
  CHECK(CpuMask::parse("  f\n", 4) == CpuMask::all(4));
  CHECK(CpuMask::parse("FF", 8) == CpuMask::all(8));
  CpuMask m = CpuMask::parse("80000000,00000001", 96);
  CHECK(m.test(0));
  CHECK(m.test(63));
  CHECK(m.count() == 2);
  for (const char* bad : {"", "xyz", "1,,2", "123456789", "0x3", "-1"}) {
    INFO(bad);
    CHECK_THROWS_AS(CpuMask::parse(bad, 8), UsageError);
  }
}

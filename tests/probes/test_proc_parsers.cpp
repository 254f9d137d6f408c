// Parsers of the host-wide /proc files: /proc/stat, /proc/interrupts, /proc/softirqs,
// /proc/net/softnet_stat. Real captures from this VM plus hand-written 64-CPU layouts.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "probes/interrupts.hpp"
#include "probes/proc_stat.hpp"
#include "probes/softirqs.hpp"
#include "probes/softnet.hpp"
#include "tests/probes/fixture.hpp"

using namespace wgopt;
using namespace wgopt::probes;

TEST_CASE("/proc/stat: per-core jiffies from a real capture") {
  auto s = parse_proc_stat(probe_fixture("stat.txt"));
  REQUIRE(s.cores.size() == 2);
  CHECK(s.cores[0].cpu == 0);
  CHECK(s.cores[1].cpu == 1);
  // The aggregate line is the cores' sum, give or take a tick of rounding per core (the kernel
  // converts the summed nanoseconds, not each core's ticks).
  auto near = [](uint64_t all, uint64_t a, uint64_t b) { return all + 2 >= a + b && all <= a + b + 2; };
  CHECK(near(s.all.user, s.cores[0].times.user, s.cores[1].times.user));
  CHECK(near(s.all.idle, s.cores[0].times.idle, s.cores[1].times.idle));
  CHECK(s.cores[0].times.idle > 0);
}

TEST_CASE("/proc/stat: percentages between two real snapshots sum to 100 per core") {
  auto a = parse_proc_stat(probe_fixture("stat_before.txt"));
  auto b = parse_proc_stat(probe_fixture("stat.txt"));
  auto u = cpu_usage_between(a, b);
  REQUIRE(u.size() == 2);
  for (const auto& c : u) {
    CHECK(c.ticks > 0);
    CHECK(c.usr + c.sys + c.soft + c.irq + c.iowait + c.steal + c.idle == Approx(100.0));
    CHECK(c.soft >= 0);
  }
}

TEST_CASE("/proc/stat: a hand-made delta gives mpstat's numbers") {
  CpuTimes a{}, b{};
  b.user = 10, b.system = 20, b.softirq = 60, b.idle = 10;
  auto u = cpu_usage_between(a, b, 3);
  CHECK(u.cpu == 3);
  CHECK(u.usr == Approx(10));
  CHECK(u.sys == Approx(20));
  CHECK(u.soft == Approx(60));
  CHECK(u.idle == Approx(10));
  // A counter that went backwards counts as 0 instead of a huge unsigned wrap.
  CpuTimes c = b;
  c.idle = 5;
  c.user = 20;
  auto back = cpu_usage_between(b, c, 3);
  CHECK(back.usr == Approx(100));
  CHECK(back.idle == Approx(0));
  CHECK(cpu_usage_between(a, a, 0).ticks == 0);
}

TEST_CASE("/proc/stat: 64 CPUs with one offline keep their real ids") {
  auto s = parse_proc_stat(probe_fixture("written/stat_64cpu.txt"));
  REQUIRE(s.cores.size() == 63);
  CHECK(s.cores.back().cpu == 62);
  CHECK(s.cores[1].times.softirq == 8804);
}

TEST_CASE("/proc/stat: malformed input names the file and the line") {
  CHECK_THROWS_WITH(parse_proc_stat("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 x 4\n", "/fake/stat"),
                    Catch::Contains("/fake/stat line 2") && Catch::Contains("'x'"));
  CHECK_THROWS_AS(parse_proc_stat(""), Error);
  CHECK_THROWS_WITH(parse_proc_stat("cpu  1 2\n"), Catch::Contains("line 1"));
  CHECK_THROWS_AS(parse_proc_stat("intr 1 2 3\nctxt 5\n"), Error);
}

TEST_CASE("/proc/interrupts: real capture, virtio-net queue pair classified") {
  auto irq = parse_interrupts(probe_fixture("interrupts.txt"));
  CHECK(irq.cpus == std::vector<int>{0, 1});
  const IrqLine* in = irq.find("38");
  REQUIRE(in);
  CHECK(in->chip == "PCI-MSIX-0000:00:03.0");
  CHECK(in->hwirq == "1-edge");
  CHECK(in->action == "virtio2-input.0");
  CHECK(in->cls == IrqClass::DataRx);
  CHECK(irq.find("39")->cls == IrqClass::DataTx);
  CHECK(irq.find("37")->cls == IrqClass::Control);  // virtio2-config
  CHECK(irq.find("41")->cls == IrqClass::Other);    // virtio3-rx is vsock, not a NIC queue
  CHECK(irq.find("34")->cls == IrqClass::Other);    // virtio4-input without ".N" is an input device
  CHECK(irq.find("24")->action == "ACPI:Ged");
  CHECK(irq.find("24")->chip == "IO-APIC");
  const IrqLine* loc = irq.find("LOC");
  REQUIRE(loc);
  CHECK_FALSE(loc->numbered);
  CHECK(loc->per_cpu.size() == 2);
  CHECK(loc->action == "Local timer interrupts");
  CHECK(irq.find("ERR")->per_cpu.size() == 1);
}

TEST_CASE("/proc/interrupts: 64 CPUs, mlx5 completion vs async IRQs") {
  auto irq = parse_interrupts(probe_fixture("written/interrupts_mlx5_64cpu.txt"));
  REQUIRE(irq.cpus.size() == 64);
  int comp = 0;
  for (const auto& l : irq.irqs) {
    if (l.action.starts_with("mlx5_comp")) {
      ++comp;
      CHECK(l.cls == IrqClass::DataRxTx);
      CHECK(l.per_cpu.size() == 64);
      CHECK(l.per_cpu[1] >= 1200000);
    }
  }
  CHECK(comp == 8);
  CHECK(irq.find("56")->action == "mlx5_async0@pci:0000:00:02.0");
  CHECK(irq.find("56")->cls == IrqClass::Control);
  CHECK(irq.find("57")->cls == IrqClass::Control);  // mlx5_pages_eq
  CHECK(irq.find("66")->action.empty());             // allocated, no handler
  CHECK(irq.find("66")->cls == IrqClass::Other);
}

TEST_CASE("/proc/interrupts: multi-queue virtio-net input/output") {
  auto irq = parse_interrupts(probe_fixture("written/interrupts_virtio_mq_8cpu.txt"));
  int rx = 0, tx = 0;
  for (const auto& l : irq.irqs) rx += l.cls == IrqClass::DataRx, tx += l.cls == IrqClass::DataTx;
  CHECK(rx == 4);
  CHECK(tx == 4);
}

TEST_CASE("IRQ names of common NIC drivers are classified") {
  CHECK(classify_irq_action("eth0-TxRx-3") == IrqClass::DataRxTx);
  CHECK(classify_irq_action("i40e-eth0-TxRx-0") == IrqClass::DataRxTx);
  CHECK(classify_irq_action("ena-comp-2@pci:0000:00:05.0") == IrqClass::DataRxTx);
  CHECK(classify_irq_action("ena-mgmnt@pci:0000:00:05.0") == IrqClass::Control);
  CHECK(classify_irq_action("gve-ntfy-blk0@pci:0000:00:04.0") == IrqClass::DataRxTx);
  CHECK(classify_irq_action("gve-mgmnt@pci:0000:00:04.0") == IrqClass::Control);
  CHECK(classify_irq_action("mana_q3@pci:7870:00:00.0") == IrqClass::DataRxTx);
  CHECK(classify_irq_action("mana_hwc@pci:7870:00:00.0") == IrqClass::Control);
  CHECK(classify_irq_action("eth1-rx-0") == IrqClass::DataRx);
  CHECK(classify_irq_action("eth1-tx-0") == IrqClass::DataTx);
  CHECK(classify_irq_action("i40e-0000:3b:00.0:misc") == IrqClass::Control);
  CHECK(classify_irq_action("virtio0-output.7") == IrqClass::DataTx);
  CHECK(classify_irq_action("ahci[0000:00:1f.2]") == IrqClass::Other);
  CHECK(classify_irq_action("") == IrqClass::Other);
  CHECK(is_data_path(IrqClass::DataRx));
  CHECK_FALSE(is_data_path(IrqClass::Control));
}

TEST_CASE("/proc/interrupts: ARM layout (GENERIC_IRQ_SHOW_LEVEL) splits chip, hwirq and action") {
  // The layout of an arm64 kernel's show_interrupts: " %8s" chip, " %*lu" hwirq, " %-8s" Level/Edge.
  const std::string text =
      "           CPU0       CPU1       \n"
      " 11:      12345      23456     GICv3  27 Level     arch_timer\n"
      " 40:     900000          0   ITS-MSI 524288 Edge      eth0-TxRx-0\n"
      "IPI0:        10         20       Rescheduling interrupts\n";
  auto irq = parse_interrupts(text);
  CHECK(irq.find("11")->chip == "GICv3");
  CHECK(irq.find("11")->hwirq == "27 Level");
  CHECK(irq.find("11")->action == "arch_timer");
  CHECK(irq.find("40")->cls == IrqClass::DataRxTx);
  CHECK(irq.find("IPI0")->per_cpu == std::vector<uint64_t>{10, 20});
}

TEST_CASE("/proc/interrupts: a line of only a vertical tab or form feed is blank, not an IRQ row past the end") {
  // Found by fuzz/fuzz_proc's 10-minute run (_GLIBCXX_ASSERTIONS, vector index out of range): trim()
  // kept "\v", split_ws() split it into no tokens, and the row's label was read as t[0].
  const std::string text = "           CPU0       CPU1\n"
                           "\v\n"
                           " 38:          5          6   PCI-MSIX-0000:00:03.0   1-edge      virtio2-input.0\n"
                           "\f \v\n";
  const auto irq = parse_interrupts(text);
  REQUIRE(irq.find("38"));
  CHECK(irq.find("38")->cls == IrqClass::DataRx);
}

TEST_CASE("/proc/interrupts: a very long name or trigger token is parsed, not a stack overflow") {
  // Found by fuzz/fuzz_proc (ASan stack-overflow): std::regex recursed once per character of the
  // action and of the "1-edge" token. 4 MB each also overflows the default 8 MB stack without ASan.
  const std::string long_action = "eth0-" + std::string(4 << 20, 'x');
  const std::string long_trigger = "1-" + std::string(4 << 20, 'y');
  const std::string text = "           CPU0       CPU1\n"
                           " 38:          5          6   PCI-MSIX-0000:00:03.0   1-edge      " + long_action + "\n"
                           " 39:          5          6   PCI-MSIX-0000:00:03.0   " + long_trigger + " virtio2-input.0\n";
  const auto irq = parse_interrupts(text);
  REQUIRE(irq.find("38"));
  CHECK(irq.find("38")->action == long_action);
  CHECK(irq.find("38")->cls == IrqClass::Other);
  CHECK(irq.find("39")->hwirq == long_trigger);
  CHECK(irq.find("39")->cls == IrqClass::DataRx);
  CHECK(classify_irq_action("virtio2-input.0@" + std::string(1 << 20, 'z')) == IrqClass::DataRx);
  CHECK_FALSE(is_data_path(classify_irq_action(std::string(300, 'a') + "-rx-0")));
}

TEST_CASE("/proc/interrupts: malformed input") {
  CHECK_THROWS_WITH(parse_interrupts("", "/x/interrupts"), Catch::Contains("/x/interrupts"));
  CHECK_THROWS_WITH(parse_interrupts("  CPU0 CPUx\n"), Catch::Contains("line 1") && Catch::Contains("CPUx"));
  CHECK_THROWS_WITH(parse_interrupts("  CPU0 CPU1\n 5:  1 IO-APIC 5-edge x\n"),
                    Catch::Contains("line 2") && Catch::Contains("1 counts for 2 CPUs"));
  CHECK_THROWS_WITH(parse_interrupts("  CPU0\n garbage here\n"), Catch::Contains("line 2"));
}

TEST_CASE("/proc/softirqs: NET_RX and NET_TX per CPU") {
  auto s = parse_softirqs(probe_fixture("softirqs.txt"));
  CHECK(s.cpus == std::vector<int>{0, 1});
  REQUIRE(s.net_rx.size() == 2);
  auto b = parse_softirqs(probe_fixture("softirqs_before.txt"));
  CHECK(s.net_rx[0] >= b.net_rx[0]);
  CHECK(s.net_rx[0] + s.net_rx[1] > b.net_rx[0] + b.net_rx[1]);  // the iperf3 run raised NET_RX
  auto w = parse_softirqs(probe_fixture("written/softirqs_64cpu.txt"));
  REQUIRE(w.net_rx.size() == 64);
  CHECK(w.net_rx[1] == 9000000);
  CHECK(w.net_tx[63] == 113);
}

TEST_CASE("/proc/softirqs: malformed input") {
  CHECK_THROWS_WITH(parse_softirqs("   CPU0 CPU1\n NET_RX: 1\n NET_TX: 1 2\n"),
                    Catch::Contains("line 2") && Catch::Contains("NET_RX"));
  CHECK_THROWS_WITH(parse_softirqs("   CPU0\n TIMER: 5\n"), Catch::Contains("NET_RX"));
  CHECK_THROWS_AS(parse_softirqs("   CPU0\n NET_RX: z\n NET_TX: 1\n"), Error);
  // Found by fuzz/fuzz_proc: a repeated row appended its counts, two per CPU column.
  CHECK_THROWS_WITH(parse_softirqs("   CPU0 CPU1\n NET_TX: 1 2\n NET_TX: 3 4\n NET_RX: 5 6\n"),
                    Catch::Contains("line 3") && Catch::Contains("a second NET_TX: row"));
}

TEST_CASE("/proc/net/softnet_stat: hex columns and the CPU index column") {
  auto rows = parse_softnet_stat(probe_fixture("softnet_stat.txt"));
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].cpu == 0);
  CHECK(rows[1].cpu == 1);
  CHECK(rows[0].processed == 0x0066d8c0);
  auto w = parse_softnet_stat(probe_fixture("written/softnet_stat_64cpu.txt"));
  REQUIRE(w.size() == 63);
  CHECK(w[1].dropped == 0x2f1);
  CHECK(w[1].time_squeeze == 0x5a);
  CHECK(w[62].cpu == 62);
  CHECK(w[5].received_rps == 0x50);
  // 11-column layout (kernels before 5.10): the row number is the CPU.
  auto old = parse_softnet_stat("0000000a 00000001 00000002 0 0 0 0 0 0 00000003 00000004\n"
                                "0000000b 00000000 00000000 0 0 0 0 0 0 00000000 00000000\n");
  CHECK(old[1].cpu == 1);
  CHECK(old[0].flow_limit == 4);
}

TEST_CASE("/proc/net/softnet_stat: malformed input") {
  CHECK_THROWS_WITH(parse_softnet_stat("0000000a 0000zz01 00000002\n", "/p/softnet_stat"),
                    Catch::Contains("/p/softnet_stat line 1") && Catch::Contains("0000zz01"));
  CHECK_THROWS_WITH(parse_softnet_stat("00000001 00000002\n"), Catch::Contains("at least 3"));
  CHECK_THROWS_AS(parse_softnet_stat(""), Error);
}

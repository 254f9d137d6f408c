// The exported script's helper functions, run by sh against captured tool output and a copy of
// the actuators' fixture tree (tests/fixtures/actuators: the VM's /proc/interrupts with written
// mlx5 rows, its PCI msi_irqs, ethtool/tc output of virtio_net, mlx5 and veth). Tools are shell
// functions that print those captures and log what would change the host; /proc and /sys point into
// the copy. They must read the tools' output the way the knobs' C++ parsers do (which IRQs are a
// NIC's queue IRQs, the current channels, an offload's state, the root qdisc) and write the same
// values (RPS masks in rx-N order, IRQ affinities). The real kernel is tests/integration/test_export.cpp.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/exec.hpp"
#include "common/util.hpp"
#include "experiments/export/export.hpp"
#include "tests/scratch_dir.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = fs::path(WGOPT_FIXTURES_DIR) / "actuators";

// The helper functions of the exported script (everything between `set -eu` and the interface
// check), from a profile that uses every one of them.
std::string helpers() {
  const auto p = act::parse_profile(
      "knobs:\n  irqbalance: inactive\n  eth0/channels/combined: 2\n  eth0/offload/gro: \"on\"\n  eth0/rps_cpus: \"3\"\n"
      "  eth0/irq_affinity: spread\n  eth0/qdisc: fq\n",
      "p.yaml");
  const std::string sh = render_export(p, "systemd", {}).at(1).content;
  const auto from = sh.find("set -eu\n"), to = sh.find("\n# Every interface first");
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  return sh.substr(from + 8, to - from - 8);
}

std::string replace_all(std::string s, const std::string& what, const std::string& with) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size())) s.replace(at, what.size(), with);
  return s;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Harness {
  test::ScratchDir scratch{"wgopt-export-script"};
  fs::path root = scratch.dir;
  Harness() {
    fs::copy(kFixtures / "tree", root, fs::copy_options::recursive);
    for (int irq : {37, 38, 39, 60, 61, 62, 63, 64}) fs::create_directories(root / "proc/irq" / std::to_string(irq));
  }

  // Runs `commands` after the helpers, with ethtool/tc answering from the captures of `kind`.
  CommandResult run(const std::string& kind, const std::string& commands) {
    std::string text = helpers();
    text = replace_all(text, "\"/sys/", "\"" + root.string() + "/sys/");
    text = replace_all(text, "\"/proc/", "\"" + root.string() + "/proc/");
    text = replace_all(text, " /proc/interrupts", " " + (root / "proc/interrupts").string());
    const std::string tools = (kFixtures / "tools").string();
    const std::string log = (root / "log").string();
    std::string fakes =
        "ethtool() {\n"
        "  case \"$1\" in\n"
        "    -i|-l|-g|-k) cat '" + tools + "/ethtool_'\"${1#-}\"'_" + kind + ".txt' ;;\n"
        "    *) echo \"ethtool $*\" >> '" + log + "' ;;\n"
        "  esac\n"
        "}\n"
        "tc() {\n"
        "  if [ \"$1 $2\" = 'qdisc show' ]; then cat '" + tools + "/tc_qdisc_" + kind + ".txt'; else echo \"tc $*\" >> '" + log + "'; fi\n"
        "}\n"
        "systemctl() { echo \"systemctl $*\" >> '" + log + "'; }\n";
    std::ofstream(root / "t.sh") << "set -eu\n" << text << fakes << commands << "\n";
    fs::remove(root / "log");
    ProcessRunner r;
    return r.run({.argv = {"sh", (root / "t.sh").string()}, .timeout = std::chrono::seconds(30)});
  }
  std::string log() { return fs::exists(root / "log") ? slurp(root / "log") : ""; }
  std::string file(const std::string& rel) { return trim(slurp(root / rel)); }
};

}  // namespace

TEST_CASE("export script: the queue IRQs are the ones the irq_affinity knob picks", "[export]") {
  Harness h;
  // virtio_net 0000:00:03.0: MSI 37-39; 37 is virtio2-config, a control IRQ.
  auto r = h.run("virtio", "data_path_irqs eth0");
  INFO(r.err);
  REQUIRE(r.ok());
  CHECK(split_ws(r.out) == std::vector<std::string>{"38", "39"});
  // mlx5 0000:00:08.0: MSI 60-64; 60 is mlx5_async0.
  r = h.run("mlx5", "data_path_irqs enp1s0");
  REQUIRE(r.ok());
  CHECK(split_ws(r.out) == std::vector<std::string>{"61", "62", "63", "64"});
  // veth has no PCI function: a loud failure, not an empty loop.
  r = h.run("veth", "place_irqs wgt6-uc spread 2");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("wgopt-tuning: wgt6-uc has no PCI MSI IRQs"));
}

TEST_CASE("export script: placements and per-IRQ masks are written like the knob writes them", "[export]") {
  Harness h;
  auto r = h.run("mlx5", "place_irqs enp1s0 spread 2");
  INFO(r.err);
  REQUIRE(r.ok());
  CHECK(h.file("proc/irq/61/smp_affinity_list") == "0");
  CHECK(h.file("proc/irq/62/smp_affinity_list") == "1");
  CHECK(h.file("proc/irq/63/smp_affinity_list") == "0");
  CHECK(h.file("proc/irq/64/smp_affinity_list") == "1");
  CHECK_FALSE(fs::exists(h.root / "proc/irq/60/smp_affinity_list"));
  r = h.run("mlx5", "place_irqs enp1s0 one-core 4");
  REQUIRE(r.ok());
  for (int irq : {61, 62, 63, 64}) CHECK(h.file("proc/irq/" + std::to_string(irq) + "/smp_affinity_list") == "0");
  // off-rps: the fixture's enp1s0 queues have RPS off, so every CPU, as spread.
  r = h.run("mlx5", "place_irqs enp1s0 off-rps 4");
  REQUIRE(r.ok());
  CHECK(h.file("proc/irq/64/smp_affinity_list") == "3");
  // RPS on CPUs 0 and 2 of 4 (one queue 1, another 4): the IRQs go round CPUs 1 and 3.
  std::ofstream(h.root / "sys/class/net/enp1s0/queues/rx-0/rps_cpus") << "00000001\n";
  std::ofstream(h.root / "sys/class/net/enp1s0/queues/rx-2/rps_cpus") << "4\n";
  r = h.run("mlx5", "place_irqs enp1s0 off-rps 4");
  REQUIRE(r.ok());
  CHECK(h.file("proc/irq/61/smp_affinity_list") == "1");
  CHECK(h.file("proc/irq/62/smp_affinity_list") == "3");
  CHECK(h.file("proc/irq/63/smp_affinity_list") == "1");
  CHECK(h.file("proc/irq/64/smp_affinity_list") == "3");
  // RPS on every CPU: nothing is off it, so every CPU.
  std::ofstream(h.root / "sys/class/net/enp1s0/queues/rx-1/rps_cpus") << "a\n";
  r = h.run("mlx5", "place_irqs enp1s0 off-rps 4");
  REQUIRE(r.ok());
  CHECK(h.file("proc/irq/62/smp_affinity_list") == "1");
  r = h.run("mlx5", "place_irqs enp1s0 two-cores 4");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("unknown IRQ placement 'two-cores' for enp1s0"));

  r = h.run("mlx5", "pin_irqs enp1s0 1 2 1 2");
  REQUIRE(r.ok());
  CHECK(h.file("proc/irq/62/smp_affinity") == "2");
  r = h.run("mlx5", "pin_irqs enp1s0 3");
  REQUIRE(r.ok());
  for (int irq : {61, 62, 63, 64}) CHECK(h.file("proc/irq/" + std::to_string(irq) + "/smp_affinity") == "3");
  // Fewer masks than IRQs: the first IRQs, the others left as they are (IRQs a channel increase added).
  r = h.run("mlx5", "pin_irqs enp1s0 1 2");
  REQUIRE(r.ok());
  CHECK(h.file("proc/irq/61/smp_affinity") == "1");
  CHECK(h.file("proc/irq/62/smp_affinity") == "2");
  CHECK(h.file("proc/irq/63/smp_affinity") == "3");
  r = h.run("mlx5", "pin_irqs enp1s0 1 2 1 2 1");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("enp1s0 has 4 queue IRQs but the profile gives 5 masks"));
}

TEST_CASE("export script: RPS values go to every rx queue, or one per queue in rx-N order", "[export]") {
  Harness h;
  auto r = h.run("virtio", "set_rx_queues enp1s0 rps_cpus 3");
  INFO(r.err);
  REQUIRE(r.ok());
  for (int q = 0; q < 4; ++q) CHECK(h.file("sys/class/net/enp1s0/queues/rx-" + std::to_string(q) + "/rps_cpus") == "3");
  fs::create_directories(h.root / "sys/class/net/enp1s0/queues/rx-10");  // sorts after rx-3 by number
  r = h.run("virtio", "set_rx_queues enp1s0 rps_flow_cnt 1 2 3 4 5");
  REQUIRE(r.ok());
  CHECK(h.file("sys/class/net/enp1s0/queues/rx-3/rps_flow_cnt") == "4");
  CHECK(h.file("sys/class/net/enp1s0/queues/rx-10/rps_flow_cnt") == "5");
  r = h.run("virtio", "set_rx_queues enp1s0 rps_cpus 1 2");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("enp1s0 has 5 receive queues but the profile gives 2 values for rps_cpus"));
}

TEST_CASE("export script: ethtool and tc steps change only what differs, and check what they changed", "[export]") {
  Harness h;
  // virtio: Combined 1 now. Equal: no ethtool -L (it would fail); different: the knob's argv.
  auto r = h.run("virtio", "ethtool_count eth0 -l Combined combined 1");
  INFO(r.err);
  REQUIRE(r.ok());
  CHECK(h.log().empty());
  r = h.run("virtio", "ethtool_count eth0 -l Combined combined 2");
  REQUIRE(r.ok());
  CHECK(h.log() == "ethtool -L eth0 combined 2\n");
  // veth: RX 1 under "Current hardware settings", not the pre-set maximum 2.
  r = h.run("veth", "ethtool_count wgt6-uc -l RX rx 2");
  REQUIRE(r.ok());
  CHECK(h.log() == "ethtool -L wgt6-uc rx 2\n");
  // Offloads: read back after -K; a feature that stays as it was fails loudly.
  r = h.run("virtio", "set_offload eth0 gro generic-receive-offload on");
  REQUIRE(r.ok());
  CHECK(h.log() == "ethtool -K eth0 gro on\n");
  r = h.run("virtio", "set_offload eth0 rx-udp-gro-forwarding rx-udp-gro-forwarding on");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("eth0 kept rx-udp-gro-forwarding off after ethtool -K eth0 rx-udp-gro-forwarding on"));
  // qdisc: the root kind is read like parse_root_qdisc; equal is left alone.
  r = h.run("virtio", "root_qdisc eth0; set_qdisc eth0 pfifo_fast");
  REQUIRE(r.ok());
  CHECK(trim(r.out) == "pfifo_fast");
  CHECK(h.log().empty());
  r = h.run("veth", "set_qdisc wgt6-uc tbf rate 100gbit burst 1mb latency 10ms");
  REQUIRE(r.ok());
  CHECK(h.log() == "tc qdisc del dev wgt6-uc root\ntc qdisc replace dev wgt6-uc root tbf rate 100gbit burst 1mb latency 10ms\n");
}

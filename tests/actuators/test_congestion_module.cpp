// BBR offered when its module can be loaded, not only when it is loaded: on the fake host, whose
// kernel (like this VM's) has no /lib/modules at all unless the test writes one. The fake's
// `modprobe` loads what modules.dep lists and adds the congestion control to the available list.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "actuators/catalog.hpp"
#include "actuators/transaction.hpp"
#include "common/error.hpp"
#include "common/util.hpp"
#include "tests/actuators/test_knobs_fake.hpp"

using namespace wgopt;
using namespace wgopt::act;
namespace fs = std::filesystem;

namespace {

const char* kCc = "net.ipv4.tcp_congestion_control";

// The fake kernel without bbr loaded, and its modules directory holding `file` (or none).
void kernel_without_bbr(test::FakeHost& fake, const std::string& file, const std::string& line) {
  std::ofstream(fake.root / "proc/sys/net/ipv4/tcp_available_congestion_control") << "reno cubic\n";
  std::ofstream(fake.root / "proc/sys/net/ipv4/tcp_congestion_control") << "cubic\n";
  if (file.empty()) return;
  const std::string release = trim(fake.files->read("/proc/sys/kernel/osrelease").value());
  const fs::path dir = fake.root / "lib/modules" / release;
  fs::create_directories(dir);
  std::ofstream(dir / file) << "kernel/net/ipv4/tcp_vegas.ko.xz:\n" << line << "\n";
}

bool ran_modprobe(const test::FakeHost& fake) {
  for (const auto& a : fake.tools->log) {
    if (!a.empty() && a[0] == "modprobe") return true;
  }
  return false;
}


}  // namespace

TEST_CASE("bbr is not offered when the kernel neither has it nor can load it (no /lib/modules, as on this VM)") {
  test::FakeHost fake(2);
  kernel_without_bbr(fake, "", "");
  auto k = find_knob(fake.host, kCc);
  CHECK(k->descriptor().domain.choices == std::vector<std::string>{"reno", "cubic"});
  CHECK_THROWS_AS(k->validate("bbr"), UsageError);
  kernel_without_bbr(fake, "modules.dep", "kernel/net/ipv4/tcp_bbr2.ko:");  // a different module
  CHECK(find_knob(fake.host, kCc)->descriptor().domain.choices == std::vector<std::string>{"reno", "cubic"});
}

TEST_CASE("bbr in modules.dep: offered, loaded by modprobe when chosen, reported as not undone") {
  test::FakeHost fake(2);
  kernel_without_bbr(fake, "modules.dep", "kernel/net/ipv4/tcp_bbr.ko.xz:");
  std::vector<KnobPtr> knobs;
  knobs.push_back(find_knob(fake.host, kCc));
  CHECK(knobs[0]->descriptor().domain.choices == std::vector<std::string>{"reno", "cubic", "bbr"});
  REQUIRE(knobs[0]->read() == "cubic");
  CHECK_FALSE(ran_modprobe(fake));  // discovery loads nothing
  test::FakeSession session(fake);
  {
    Transaction tx(*session, fake.host, knobs);
    auto r = tx.apply({{kCc, "bbr"}});
    CHECK(fake.files->read("/proc/sys/net/ipv4/tcp_congestion_control") == "bbr\n");
    REQUIRE(r.notes.size() == 1);
    CHECK_THAT(r.notes[0], Catch::Contains("loaded kernel module tcp_bbr") && Catch::Contains("rollback does not unload it"));
    CHECK(fake.tools->log.back() == std::vector<std::string>{"modprobe", "tcp_bbr"});
    tx.rollback();
  }
  CHECK(fake.files->read("/proc/sys/net/ipv4/tcp_congestion_control") == "cubic\n");
  CHECK(fake.files->read("/proc/sys/net/ipv4/tcp_available_congestion_control") == "reno cubic bbr\n");  // still loaded
  // Loaded now: choosing it again loads nothing and says nothing.
  fake.tools->log.clear();
  Transaction tx(*session, fake.host, knobs);
  auto r = tx.apply({{kCc, "bbr"}});
  CHECK(r.notes.empty());
  CHECK_FALSE(ran_modprobe(fake));
  tx.rollback();
}

TEST_CASE("bbr in modules.builtin is offered and never modprobed; a namespace is offered only what the host allows") {
  test::FakeHost fake(2);
  kernel_without_bbr(fake, "modules.builtin", "kernel/net/ipv4/tcp_bbr.ko");
  auto k = find_knob(fake.host, kCc);
  CHECK(k->descriptor().domain.choices == std::vector<std::string>{"reno", "cubic", "bbr"});
  kernel_without_bbr(fake, "modules.dep", "kernel/net/ipv4/tcp_bbr.ko:");
  fake.host.place = Place::netns("wgt3-cli");
  // Allowed there: reno bbr; available: reno cubic; cubic is its own current value, so it stays legal.
  CHECK(find_knob(fake.host, kCc)->descriptor().domain.choices == std::vector<std::string>{"reno", "cubic"});
}

TEST_CASE("a module that will not load fails the transaction with modprobe's words, and nothing stays changed") {
  test::FakeHost fake(2);
  kernel_without_bbr(fake, "modules.dep", "kernel/net/ipv4/tcp_bbr.ko:");
  std::vector<KnobPtr> knobs;
  knobs.push_back(find_knob(fake.host, kCc));
  knobs.push_back(find_knob(fake.host, "net.core.rps_sock_flow_entries"));  // order 35: written before it
  fs::remove_all(fake.root / "lib/modules");  // gone between discovery and apply
  test::FakeSession session(fake);
  Transaction tx(*session, fake.host, knobs);
  const auto flows = fake.files->read("/proc/sys/net/core/rps_sock_flow_entries");
  CHECK_THROWS_WITH(tx.apply({{"net.core.rps_sock_flow_entries", "4096"}, {kCc, "bbr"}}),
                    Catch::Contains("modprobe tcp_bbr") && Catch::Contains("not found in directory"));
  CHECK(fake.files->read("/proc/sys/net/ipv4/tcp_congestion_control") == "cubic\n");
  CHECK(fake.files->read("/proc/sys/net/core/rps_sock_flow_entries") == flows);
}

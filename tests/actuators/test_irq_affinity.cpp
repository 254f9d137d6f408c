// IRQ affinity as placements on the fake host's multi-queue NIC (enp1s0: mlx5 rows in the VM's
// /proc/interrupts, 4 of 8 channels, IRQs 61-64 at "1 2 1 2"; see tests/fixtures/actuators/README.md):
// differing masks read and restored, the named placements, and a channel change in the same
// transaction whose new (or re-created) IRQs are placed and restored.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fmt/format.h>

#include "actuators/catalog.hpp"
#include "actuators/irq_placement.hpp"
#include "actuators/transaction.hpp"
#include "common/error.hpp"
#include "tests/actuators/test_knobs_fake.hpp"

using namespace wgopt;
using namespace wgopt::act;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> canon(const std::vector<CpuMask>& masks) {
  std::vector<std::string> out;
  for (const auto& m : masks) out.push_back(m.canonical());
  return out;
}

std::string affinity(test::FakeHost& fake, int irq) {
  return fake.files->read(fmt::format("/proc/irq/{}/smp_affinity", irq)).value_or("(none)");
}

}  // namespace

TEST_CASE("IRQ placements: spread round the CPUs, one-core on CPU 0, off-rps round the CPUs RPS leaves") {
  const CpuMask none(4);
  CHECK(canon(placement_masks("spread", 5, 4, none)) == std::vector<std::string>{"1", "2", "4", "8", "1"});
  CHECK(canon(placement_masks("one-core", 3, 4, none)) == std::vector<std::string>{"1", "1", "1"});
  CHECK(canon(placement_masks("off-rps", 4, 4, none)) == canon(placement_masks("spread", 4, 4, none)));  // RPS off
  CHECK(canon(placement_masks("off-rps", 4, 4, CpuMask::parse("5", 4))) == std::vector<std::string>{"2", "8", "2", "8"});
  CHECK(canon(placement_masks("off-rps", 2, 4, CpuMask::all(4))) == std::vector<std::string>{"1", "2"});  // nothing is off RPS
  CHECK(canon(placement_masks("spread", 2, 40, none)) == std::vector<std::string>{"1", "2"});
  CHECK(placement_masks("spread", 0, 2, none).empty());
  CHECK_THROWS_AS(placement_masks("two-cores", 1, 2, none), Error);
  CHECK(is_irq_placement_name("off-rps"));
  CHECK_FALSE(is_irq_placement_name("3"));
}

TEST_CASE("irq_affinity: differing masks read as one per IRQ; names, one mask or a list are legal values") {
  test::FakeHost fake(4);
  auto k = find_knob(fake.host, "enp1s0/irq_affinity");
  REQUIRE(k->presence().writable);
  const auto& d = k->descriptor();
  CHECK(d.type == ValueType::Enum);
  CHECK(d.domain.choices == irq_placement_names());
  CHECK(d.order > find_knob(fake.host, "enp1s0/channels/combined")->descriptor().order);
  CHECK(d.order > find_knob(fake.host, "enp1s0/rps_cpus")->descriptor().order);
  CHECK(restore_rank(d) < find_knob(fake.host, "enp1s0/channels/combined")->descriptor().order);
  // The per-queue RPS values go back after the channels that set the queue count; the RSS table,
  // which pins the queues it uses, before them.
  CHECK(restore_rank(find_knob(fake.host, "enp1s0/rss_equal")->descriptor()) >
        restore_rank(find_knob(fake.host, "enp1s0/channels/combined")->descriptor()));
  for (const char* id : {"enp1s0/rps_cpus", "enp1s0/rps_flow_cnt"}) {
    INFO(id);
    CHECK(restore_rank(find_knob(fake.host, id)->descriptor()) < restore_rank(find_knob(fake.host, "enp1s0/channels/combined")->descriptor()));
  }
  CHECK(k->read() == "1 2 1 2");
  CHECK(k->validate(" spread ") == "spread");
  CHECK(k->validate("0001 2 1 2") == "1 2 1 2");
  CHECK(k->validate("f") == "f");
  CHECK(k->validate("1 2") == "1 2");  // the first two IRQs; the others stay as they are
  for (const char* bad : {"", "0", "1 0", "10", "1 x", "ff", "spread 1"}) {
    INFO(bad);
    CHECK_THROWS_AS(k->validate(bad), UsageError);
  }
  CHECK(k->equal("1 2 1 2", "1 2"));
  CHECK_FALSE(k->equal("1 2 1 2", "3"));
  CHECK(k->equal("1 2 4 8", "spread"));
  CHECK_FALSE(k->equal("1 2 1 2", "1 2 1 2 1"));  // more masks than IRQs places nothing
}

TEST_CASE("irq_affinity: each placement is written to every data-path IRQ and read back; the original comes back") {
  test::FakeHost fake(4);
  const auto before = test::snapshot_tree(fake.root);
  auto k = find_knob(fake.host, "enp1s0/irq_affinity");
  const std::string orig = k->read();

  k->apply("one-core");
  for (int irq : {61, 62, 63, 64}) CHECK(affinity(fake, irq) == "1\n");
  CHECK(affinity(fake, 60) == "3\n");  // mlx5_async0, a control IRQ, is never touched
  CHECK(k->read() == "1");
  CHECK(k->equal(k->read(), "one-core"));

  k->apply("spread");
  CHECK(k->read() == "1 2 4 8");

  // off-rps reads the RPS masks when it is applied: CPUs 1 and 2 take RPS, so IRQs go round 0 and 3.
  fake.files->write("/sys/class/net/enp1s0/queues/rx-0/rps_cpus", "2");
  fake.files->write("/sys/class/net/enp1s0/queues/rx-3/rps_cpus", "4");
  CHECK(k->resolve("off-rps") == "1 8 1 8");
  CHECK(k->resolve("3") == "3 3 3 3");  // one per IRQ, so the journal knows how many were placed
  CHECK(k->resolve("4") == "4 4 4 4");
  k->apply("off-rps");
  CHECK(k->read() == "1 8 1 8");
  CHECK(k->resolve("2 1") == "2 1 1 8");
  k->apply("2 1");  // the first two; the others keep 1 and 8
  CHECK(k->read() == "2 1 1 8");
  CHECK_THROWS_WITH(k->apply("1 2 1 2 1"), Catch::Contains("gives 5 masks but enp1s0 has 4 data-path IRQs now"));

  fake.files->write("/sys/class/net/enp1s0/queues/rx-0/rps_cpus", "0");
  fake.files->write("/sys/class/net/enp1s0/queues/rx-3/rps_cpus", "0");
  k->apply(orig);
  CHECK(test::snapshot_tree(fake.root) == before);
}

TEST_CASE("a channel increase in the same transaction: the new IRQs are placed too, and rollback returns every byte") {
  test::FakeHost fake(2);
  fake.tools->devices["enp1s0"].irqs = test::FakeDevice::Irqs::Follow;  // new IRQs on an increase, freed on a decrease
  const auto before = test::snapshot_tree(fake.root);
  std::vector<KnobPtr> knobs;
  knobs.push_back(find_knob(fake.host, "enp1s0/irq_affinity"));  // given first: the order comes from the descriptors
  knobs.push_back(find_knob(fake.host, "enp1s0/channels/combined"));
  test::FakeSession session(fake);
  {
    Transaction tx(*session, fake.host, knobs);
    auto r = tx.apply({{"enp1s0/irq_affinity", "spread"}, {"enp1s0/channels/combined", "8"}});
    REQUIRE(r.steps.size() == 2);
    CHECK(r.steps[0].id == "enp1s0/channels/combined");
    CHECK(r.steps[1].after == "spread");
    // IRQs 65-68 (mlx5_comp4..7) exist only after the channel change; spread reached them.
    for (int irq = 61; irq <= 68; ++irq) CHECK(affinity(fake, irq) == (irq % 2 ? "1\n" : "2\n"));
    // The journal holds what was written, not the name.
    const JournalEntry* e = session->journal().data().find(Place::host(), "enp1s0/irq_affinity");
    REQUIRE(e);
    CHECK(e->original == "1 2 1 2");
    CHECK(e->target == "1 2 1 2 1 2 1 2");
    auto report = tx.rollback();
    CHECK(report.ok());
  }
  CHECK_FALSE(fs::exists(fake.root / "proc/irq/65"));
  CHECK(test::snapshot_tree(fake.root) == before);
}

TEST_CASE("IRQs a channel change re-creates at the driver's default are restored after the channels, by rollback and by crash recovery") {
  test::FakeHost fake(2);
  fake.tools->devices["enp1s0"].irqs = test::FakeDevice::Irqs::Recreate;  // ixgbe/ena: every IRQ requested again
  const auto before = test::snapshot_tree(fake.root);
  std::vector<KnobPtr> knobs;
  knobs.push_back(find_knob(fake.host, "enp1s0/channels/combined"));
  knobs.push_back(find_knob(fake.host, "enp1s0/irq_affinity"));
  test::FakeSession session(fake);
  auto check = [&](const RestoreReport& report) {
    REQUIRE(report.items.size() == 2);
    CHECK(report.items[0].id == "enp1s0/channels/combined");
    CHECK(report.items[1].id == "enp1s0/irq_affinity");
    CHECK(report.items[1].outcome == Outcome::Restored);
    CHECK(report.ok());
    CHECK(test::snapshot_tree(fake.root) == before);
  };
  {
    Transaction tx(*session, fake.host, knobs);
    tx.apply({{"enp1s0/channels/combined", "8"}, {"enp1s0/irq_affinity", "one-core"}});
    CHECK(affinity(fake, 68) == "1\n");
    // Crash recovery: the open journal, found by the next wgopt (its writer gone), restores
    // channels first (IRQs 61-64 come back at "3"), then the IRQs' own masks.
    SECTION("crash recovery") {
      test::FakeSession next(fake, (session.dir / "journal.json").string());
      check(next->startup());
    }
    tx.keep();
  }
  SECTION("wgopt rollback") { check(session->rollback_all()); }
}

TEST_CASE("IRQs a driver keeps after the channels go back: the original masks return to the IRQs they belong to") {
  test::FakeHost fake(2);
  fake.tools->devices["enp1s0"].irqs = test::FakeDevice::Irqs::Keep;  // mlx5 >= 6.5 keeps the completion IRQs it created
  std::vector<KnobPtr> knobs;
  knobs.push_back(find_knob(fake.host, "enp1s0/channels/combined"));
  knobs.push_back(find_knob(fake.host, "enp1s0/irq_affinity"));
  test::FakeSession session(fake);
  Transaction tx(*session, fake.host, knobs);
  tx.apply({{"enp1s0/channels/combined", "8"}, {"enp1s0/irq_affinity", "3"}});
  auto report = tx.rollback();
  CHECK(report.ok());
  CHECK(find_knob(fake.host, "enp1s0/channels/combined")->read() == "4");
  for (int irq : {61, 62, 63, 64}) CHECK(affinity(fake, irq) == (irq % 2 ? "1\n" : "2\n"));
  CHECK(affinity(fake, 68) == "3\n");  // created by the channel increase, left to the driver
}

TEST_CASE("someone else's change to the IRQ masks after wgopt wrote them is left alone") {
  test::FakeHost fake(2);
  std::vector<KnobPtr> knobs;
  knobs.push_back(find_knob(fake.host, "enp1s0/irq_affinity"));
  test::FakeSession session(fake);
  Transaction tx(*session, fake.host, knobs);
  tx.apply({{"enp1s0/irq_affinity", "one-core"}});
  fake.files->write("/proc/irq/62/smp_affinity", "2");  // irqbalance moved one
  auto report = tx.rollback();
  REQUIRE(report.items.size() == 1);
  CHECK(report.items[0].outcome == Outcome::ChangedByOther);
  CHECK(affinity(fake, 61) == "1\n");
}

TEST_CASE("restore order: newest first, a lower restore rank after every higher one") {
  CHECK(restore_sequence({5, 10, 32, 90}) == std::vector<size_t>{3, 2, 1, 0});
  CHECK(restore_sequence({5, 10, 9, 30, 90}) == std::vector<size_t>{4, 3, 1, 2, 0});
  CHECK(restore_sequence({50, 50, 50}) == std::vector<size_t>{2, 1, 0});
  CHECK(restore_sequence({}).empty());
}

// The transaction over fake knobs on a fake /proc tree: order, validation before any write,
// failure mid-way, skipped equal writes, rollback and keep.
#include <catch2/catch.hpp>

#include "actuators/transaction.hpp"
#include "tests/actuators/fake_knob.hpp"

using namespace wgopt;
using namespace wgopt::act;
using namespace wgopt::act::testing;

namespace {
bool journal_exists(const FakeHost& h) { return std::filesystem::exists(h.s.state() + "/journal.json"); }
}  // namespace

TEST_CASE("a transaction applies in ascending descriptor order, verifies, and rolls back to the bytes it found") {
  FakeHost h;
  const auto before = h.snapshot();
  ChangeSession session(h.s.state(), h.lookup(), h.s.session());
  Transaction tx(session, h.host, h.knobs);
  auto result = tx.apply({{"net.fake.c", "333"}, {"net.fake.b", "222"}, {"net.fake.a", "111"}, {"eth9/rps_cpus", "3"}});
  CHECK(h.log->writes == std::vector<std::string>{"net.fake.a=111", "eth9/rps_cpus=3", "net.fake.b=222", "net.fake.c=333"});
  CHECK(result.written() == 4);
  CHECK(result.steps[0].before == "100");
  CHECK(h.s.get("/proc/sys/net/core/fake_c") == "333\n");
  REQUIRE(journal_exists(h));  // originals are on disk while the change is live

  auto report = tx.rollback();
  CHECK(report.ok());
  CHECK(report.items.size() == 4);
  CHECK(h.snapshot() == before);
  CHECK_FALSE(journal_exists(h));  // nothing left to undo
}

TEST_CASE("every problem is reported before anything is written") {
  FakeHost h;
  const auto before = h.snapshot();
  ChangeSession session(h.s.state(), h.lookup(), h.s.session());

  auto rejects = [&](std::vector<Change> changes, const std::string& needle) {
    Transaction tx(session, h.host, h.knobs);
    CHECK_THROWS_WITH(tx.apply(changes), Catch::Contains(needle) && Catch::Contains("nothing was changed"));
    CHECK(h.log->writes.empty());
    CHECK(h.snapshot() == before);
    CHECK_FALSE(journal_exists(h));
  };
  // A valid change first: it must not be written when a later one is bad.
  rejects({{"net.fake.a", "111"}, {"net.fake.zz", "1"}}, "unknown knob 'net.fake.zz'");
  rejects({{"net.fake.a", "111"}, {"net.fake.b", "lots"}}, "'lots' is not an integer");
  rejects({{"net.fake.a", "111"}, {"eth9/rps_cpus", "4"}}, "names CPU 2 but this machine has 2 CPUs");
  rejects({{"net.fake.a", "111"}, {"eth9/rps_cpus", "1,00000000"}}, "names CPU 32");
  rejects({{"net.fake.a", "111"}, {"eth9/rps_cpus", "1 4"}}, "names CPU 2");  // one mask per rx queue, each checked
  rejects({{"net.fake.a", "111"}, {"eth0;reboot/mtu", "1400"}}, "interface name 'eth0;reboot' is not valid");
  rejects({{"net.fake.a", "111"}, {"kernel.core_pattern", "|/bin/sh"}}, "outside the allowlist");
  rejects({{"net.fake.a", "111"}, {"net.fake.a", "112"}}, "given twice");
  rejects({{"net.fake.a", "1x"}, {"net.fake.zz", "1"}}, "2 problems");

  h.knob("net.fake.b").writable_ = false;
  rejects({{"net.fake.a", "111"}, {"net.fake.b", "201"}}, "not writable in host: read-only in a child namespace");
  // ... but asking a read-only knob for the value it has is fine (a `wgopt show` profile does).
  Transaction tx(session, h.host, h.knobs);
  auto r = tx.apply({{"net.fake.b", "200"}, {"net.fake.a", "111"}});
  CHECK(r.written() == 1);
  tx.rollback();
}

TEST_CASE("a failing write restores the knobs written before it, newest first, and names the culprit") {
  FakeHost h;
  const auto before = h.snapshot();
  ChangeSession session(h.s.state(), h.lookup(), h.s.session());
  h.knob("net.fake.b").refuse_ = {"222"};
  Transaction tx(session, h.host, h.knobs);
  CHECK_THROWS_WITH(tx.apply({{"net.fake.a", "111"}, {"net.fake.b", "222"}, {"net.fake.c", "333"}}),
                    Catch::Contains("could not apply net.fake.b='222'") &&
                        Catch::Contains("/proc/sys/net/core/fake_b: Invalid argument") &&
                        Catch::Contains("restored the 1 knob(s)"));
  // a was written then restored; c (after the failure) was never touched.
  CHECK(h.log->writes == std::vector<std::string>{"net.fake.a=111", "net.fake.a=100"});
  CHECK(h.snapshot() == before);
  CHECK_FALSE(journal_exists(h));
}

TEST_CASE("a write the kernel reads back differently counts as a failure and is undone") {
  FakeHost h;
  const auto before = h.snapshot();
  ChangeSession session(h.s.state(), h.lookup(), h.s.session());
  h.knob("net.fake.c").clamp_ = {{"99999", "65536"}};  // the kernel clamped it
  Transaction tx(session, h.host, h.knobs);
  CHECK_THROWS_WITH(tx.apply({{"net.fake.a", "111"}, {"net.fake.c", "99999"}}),
                    Catch::Contains("net.fake.c") && Catch::Contains("wrote '99999' but it reads back '65536'"));
  CHECK(h.snapshot() == before);  // c's clamped value went back too, then a
  CHECK_FALSE(journal_exists(h));
}

TEST_CASE("a mask per rx queue, as `wgopt show` prints a host whose queues differ, is applied") {
  FakeHost h;
  ChangeSession session(h.s.state(), h.lookup(), h.s.session());
  Transaction tx(session, h.host, h.knobs);
  auto r = tx.apply({{"eth9/rps_cpus", "1 2"}});
  CHECK(r.written() == 1);
  CHECK(h.log->writes == std::vector<std::string>{"eth9/rps_cpus=1 2"});
  tx.rollback();
}

TEST_CASE("writes of the value a knob already has are skipped and not journaled") {
  FakeHost h;
  ChangeSession session(h.s.state(), h.lookup(), h.s.session());
  Transaction tx(session, h.host, h.knobs);
  auto r = tx.apply({{"net.fake.a", "0100"}, {"eth9/rps_cpus", "1"}});
  CHECK(r.written() == 0);
  CHECK(h.log->writes.empty());
  CHECK_FALSE(journal_exists(h));
}

TEST_CASE("kept changes stay until wgopt rollback, which restores the host's first originals") {
  FakeHost h;
  const auto before = h.snapshot();
  {
    ChangeSession session(h.s.state(), h.lookup(), h.s.session());
    Transaction tx1(session, h.host, h.knobs);
    tx1.apply({{"net.fake.a", "111"}});
    tx1.keep();
    Transaction tx2(session, h.host, h.knobs);
    tx2.apply({{"net.fake.a", "122"}, {"net.fake.b", "222"}});
    tx2.rollback();  // back to the kept 111, not to the original 100
    CHECK(h.s.get("/proc/sys/net/core/fake_a") == "111\n");
    CHECK(h.s.get("/proc/sys/net/core/fake_b") == "200\n");
    Transaction tx3(session, h.host, h.knobs);
    tx3.apply({{"net.fake.a", "133"}});
    tx3.keep();
  }
  // A later wgopt (a new session) rolls everything back to what the host had before wgopt.
  ChangeSession later(h.s.state(), h.lookup(), h.s.session());
  CHECK(later.startup().empty());
  auto report = later.rollback_all();
  REQUIRE(report.items.size() == 1);
  CHECK(report.items[0].outcome == Outcome::Restored);
  CHECK(h.snapshot() == before);
  CHECK_FALSE(journal_exists(h));
}

// A trial's undo (every search candidate) drops the entry of a knob someone else changed meanwhile,
// and with it the original of an earlier kept change: the journal is archived first.
TEST_CASE("a rollback that leaves a kept knob alone keeps the journal it had on record") {
  FakeHost h;
  ChangeSession session(h.s.state(), h.lookup(), h.s.session());
  Transaction kept(session, h.host, h.knobs);
  kept.apply({{"net.fake.a", "111"}});
  kept.keep();
  Transaction tx(session, h.host, h.knobs);
  tx.apply({{"net.fake.a", "122"}, {"net.fake.b", "222"}});
  h.s.put("/proc/sys/net/core/fake_a", "5555\n");  // an admin, after wgopt
  auto report = tx.rollback();
  REQUIRE(report.items.size() == 2);
  const std::string record = report.left_alone_record;
  REQUIRE_FALSE(record.empty());
  const std::string text = read_file(record).value_or("");
  CHECK_THAT(text, Catch::Contains("\"original\": \"100\""));  // fake_a's before wgopt, nowhere else now
  CHECK(h.s.get("/proc/sys/net/core/fake_a") == "5555\n");
  CHECK(h.s.get("/proc/sys/net/core/fake_b") == "200\n");
}

TEST_CASE("a transaction dropped without keep() or rollback() rolls back") {
  FakeHost h;
  const auto before = h.snapshot();
  ChangeSession session(h.s.state(), h.lookup(), h.s.session());
  {
    Transaction tx(session, h.host, h.knobs);
    tx.apply({{"net.fake.c", "1"}, {"net.fake.a", "2"}});
  }
  CHECK(h.snapshot() == before);
}

TEST_CASE("masks are measured by their highest CPU and assignments parse as ID=VALUE") {
  CHECK(mask_width("x", "0") == 0);
  CHECK(mask_width("x", "3") == 2);
  CHECK(mask_width("x", "ff") == 8);
  CHECK(mask_width("x", "1,00000000") == 33);
  CHECK(mask_width("x", "00000000,00000001") == 1);
  CHECK(mask_width("x", "ffffffff,ffffffff,ffffffff") == 96);
  CHECK_THROWS_AS(mask_width("x", "0x3"), UsageError);
  CHECK_THROWS_AS(mask_width("x", "3,,1"), UsageError);
  auto c = parse_assignment("net.ipv4.tcp_rmem=4096 131072 16777216");
  CHECK(c.id == "net.ipv4.tcp_rmem");
  CHECK(c.value == "4096 131072 16777216");
  CHECK_THROWS_WITH(parse_assignment("net.core.rmem_max"), Catch::Contains("is not ID=VALUE"));
  CHECK_THROWS_AS(parse_assignment("=3"), UsageError);
  // Found by an exploratory test: a newline made the refusal two lines, an ESC recoloured the
  // terminal, a 100 000-byte value made a 100 103-byte line (and the peer's agent said only that an
  // "argument" was too long).
  CHECK(parse_assignment("net.ipv4.tcp_rmem=4096\t131072\t16777216").value == "4096\t131072\t16777216");  // as /proc prints it
  for (const std::string bad : {"wg0/mtu=1400\nX", "net.ipv4.tcp_congestion_control=bbr\x1b[31mRED"}) {
    try {
      parse_assignment(bad);
      FAIL("accepted");
    } catch (const UsageError& e) {
      const std::string what = e.what();
      CHECK_THAT(what, Catch::Contains("has a control character"));
      CHECK(what.find('\n') == std::string::npos);
      CHECK(what.find('\x1b') == std::string::npos);
    }
  }
  const std::string huge = "net.core.rmem_max=" + std::string(100000, '7');
  CHECK_THROWS_WITH(parse_assignment(huge), Catch::Contains("value for net.core.rmem_max is 100000 bytes long"));
  try {
    parse_assignment(huge);
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).size() < 200);
  }
}

TEST_CASE("a held change lets later transactions run, is put back by release_held, and stays out of wgopt's kept changes") {
  FakeHost h;
  const auto before = h.snapshot();
  ChangeSession session(h.s.state(), h.lookup(), h.s.session());
  Transaction hold(session, h.host, h.knobs);
  hold.apply({{"net.fake.a", "111"}});
  hold.hold();
  CHECK_FALSE(session.journal().data().open);
  REQUIRE(session.journal().data().entries.size() == 1);
  CHECK(session.journal().data().entries[0].state == EntryState::Held);
  {
    // The search's trials and its winner, while the hold lasts.
    Transaction trial(session, h.host, h.knobs);
    trial.apply({{"net.fake.b", "222"}});
    trial.rollback();
    CHECK_FALSE(session.journal().data().open);
    Transaction winner(session, h.host, h.knobs);
    winner.apply({{"net.fake.c", "333"}});
    winner.keep();
  }
  auto released = session.release_held();
  REQUIRE(released.items.size() == 1);
  CHECK(released.items[0].id == "net.fake.a");
  CHECK(released.items[0].outcome == Outcome::Restored);
  CHECK(h.s.get("/proc/sys/net/core/fake_a") == "100\n");
  REQUIRE(session.journal().data().entries.size() == 1);  // the winner's, kept for `wgopt rollback`
  CHECK(session.journal().data().entries[0].id == "net.fake.c");
  CHECK(session.release_held().items.empty());
  session.rollback_all();
  CHECK(h.snapshot() == before);
}

TEST_CASE("a held change whose run died is put back when the next session opens (crash recovery, the guardian)") {
  FakeHost h;
  const auto before = h.snapshot();
  {
    ChangeSession session(h.s.state(), h.lookup(), h.s.session());
    Transaction hold(session, h.host, h.knobs);
    hold.apply({{"net.fake.a", "111"}});
    hold.hold();
    Transaction kept(session, h.host, h.knobs);
    kept.apply({{"net.fake.b", "222"}});
    kept.keep();
  }  // the run ends without release_held(): as if it was killed
  ChangeSession next(h.s.state(), h.lookup(), h.s.session());
  REQUIRE(next.startup().items.size() == 1);
  CHECK(next.startup().items[0].id == "net.fake.a");
  CHECK(h.s.get("/proc/sys/net/core/fake_a") == "100\n");
  CHECK(h.s.get("/proc/sys/net/core/fake_b") == "222\n");  // kept: only `wgopt rollback` undoes it
  REQUIRE(next.journal().data().entries.size() == 1);
  CHECK(next.journal().data().entries[0].state == EntryState::Kept);
  next.rollback_all();
  CHECK(h.snapshot() == before);
}

namespace {

// A fake irqbalance (active / inactive) and the fake NIC eth9's IRQ masks, on the FakeHost.
class FakeService : public FakeKnob {
 public:
  using FakeKnob::FakeKnob;
  std::string validate(const std::string& value) const override { return trim(value); }
};

void add_irqbalance_and_masks(FakeHost& h) {
  h.s.put("/proc/sys/net/core/fake_irqbalance", "inactive\n");
  h.s.put("/proc/sys/net/core/fake_irq", "1\n");
  std::filesystem::create_directories(h.s.dir / "root/sys/class/net/eth9");
  auto svc = std::make_unique<FakeService>(h.files, "irqbalance", "/proc/sys/net/core/fake_irqbalance", 5, h.log);
  svc->d_.kind = "service";
  h.knobs.push_back(std::move(svc));
  auto irq = h.make("eth9/irq_affinity", "/proc/sys/net/core/fake_irq", 32, ValueType::Mask);
  static_cast<FakeKnob&>(*irq).d_.kind = "irq_affinity";
  static_cast<FakeKnob&>(*irq).d_.restore_order = 9;
  h.knobs.push_back(std::move(irq));
}

}  // namespace

TEST_CASE("starting irqbalance journals the IRQ masks it will move; rollback stops it, then puts them back") {
  FakeHost h;
  add_irqbalance_and_masks(h);
  {
    ChangeSession session(h.s.state(), h.lookup(), h.s.session());
    Transaction tx(session, h.host, h.knobs);
    auto r = tx.apply({{"irqbalance", "active"}});
    CHECK(r.steps.size() == 1);  // the companion is journaled, not a step
    tx.keep();
  }
  CHECK_THAT(h.s.get("/../state/journal.json"), Catch::Contains("\"companion\": true"));
  h.s.put("/proc/sys/net/core/fake_irq", "2\n");  // irqbalance moved it

  SECTION("rollback: irqbalance first, then the mask, back although someone else wrote it") {
    h.log->writes.clear();
    ChangeSession session(h.s.state(), h.lookup(), h.s.session());
    auto report = session.rollback_all();
    CHECK(report.ok());
    CHECK(h.log->writes == std::vector<std::string>{"irqbalance=inactive", "eth9/irq_affinity=1"});
    CHECK_FALSE(journal_exists(h));
  }
  SECTION("irqbalance cannot be stopped: the mask is left for the next rollback, still journaled") {
    h.knob("irqbalance").refuse_ = {"inactive"};
    {
      ChangeSession session(h.s.state(), h.lookup(), h.s.session());
      CHECK_FALSE(session.rollback_all().ok());
    }
    CHECK(h.s.get("/proc/sys/net/core/fake_irq") == "2\n");
    REQUIRE(journal_exists(h));
    CHECK_THAT(h.s.get("/../state/journal.json"), Catch::Contains("eth9/irq_affinity") && Catch::Contains("\"companion\": true"));
    h.knob("irqbalance").refuse_.clear();
    ChangeSession again(h.s.state(), h.lookup(), h.s.session());
    CHECK(again.rollback_all().ok());
    CHECK(h.s.get("/proc/sys/net/core/fake_irq") == "1\n");
    CHECK_FALSE(journal_exists(h));
  }
}

TEST_CASE("a failed write after irqbalance started undoes it and its masks, and leaves no companion behind") {
  FakeHost h;
  add_irqbalance_and_masks(h);
  h.knob("net.fake.c").refuse_ = {"999"};
  ChangeSession session(h.s.state(), h.lookup(), h.s.session());
  Transaction tx(session, h.host, h.knobs);
  CHECK_THROWS_WITH(tx.apply({{"irqbalance", "active"}, {"net.fake.c", "999"}}), Catch::Contains("restored the 1 knob(s) changed before it"));
  CHECK(h.s.get("/proc/sys/net/core/fake_irqbalance") == "inactive\n");
  CHECK(h.s.get("/proc/sys/net/core/fake_irq") == "1\n");
  CHECK_FALSE(journal_exists(h));
}

// A transaction over the real knob catalog on the fake kernel tree whose interface vanishes
// between the apply and the rollback (wireguard-go killed, NetBird recreating its interface).
#include <catch2/catch.hpp>
#include <filesystem>

#include "actuators/catalog.hpp"
#include "actuators/transaction.hpp"
#include "common/util.hpp"
#include "tests/actuators/test_knobs_fake.hpp"

using namespace wgopt;
using namespace wgopt::act;

namespace {

// The fake kernel tree, its wg0/txqueuelen knob, and a session on a journal of its own.
struct Wg0TxQueue {
  test::FakeHost fake{2};
  std::vector<KnobPtr> knobs;
  test::FakeSession session{fake};
  Wg0TxQueue() { knobs.push_back(find_knob(fake.host, "wg0/txqueuelen")); }
};

}  // namespace

TEST_CASE_METHOD(Wg0TxQueue, "a rollback whose interface vanished closes the transaction: its value went with it") {
  // Found by an exploratory test: wireguard-go killed mid-trial left the candidate's entries open in
  // the journal, and every later transaction of the search was refused ("another transaction is
  // still open"), each trial charged as infeasible.
  Transaction tx(*session, fake.host, knobs);
  tx.apply({{"wg0/txqueuelen", "777"}});
  std::filesystem::remove_all(fake.root / "sys/class/net/wg0");  // the interface is gone
  const auto report = tx.rollback();
  REQUIRE(report.items.size() == 1);
  CHECK(report.items[0].outcome == Outcome::Gone);
  CHECK_FALSE(session->journal().data().open);
  CHECK(session->journal().data().entries.empty());
  // The next transaction is not refused.
  std::vector<KnobPtr> more;
  more.push_back(find_knob(fake.host, "net.core.netdev_max_backlog"));
  Transaction next(*session, fake.host, more);
  CHECK_NOTHROW(next.apply({{"net.core.netdev_max_backlog", "2000"}}));
  next.rollback();
}

TEST_CASE_METHOD(Wg0TxQueue, "an interface made again under its name is another one: its namesake's journal entry is not restored onto it") {
  // Found by an exploratory test: NetBird deletes wt0 and makes it again; the new interface, set
  // to wgopt's value by its own config, was given the old one's original by `wgopt rollback`.
  const std::string original = trim(fake.files->read("/sys/class/net/wg0/tx_queue_len").value_or(""));
  REQUIRE(original != "777");
  Transaction tx(*session, fake.host, knobs);
  tx.apply({{"wg0/txqueuelen", "777"}});
  tx.keep();
  REQUIRE(session->journal().data().entries.size() == 1);
  CHECK(session->journal().data().entries[0].instance == "ifindex 2");
  // Made again, with wgopt's value: the rollback leaves it, saying why.
  fake.files->write("/sys/class/net/wg0/ifindex", "9");
  auto report = session->rollback_all();
  REQUIRE(report.items.size() == 1);
  CHECK(report.items[0].outcome == Outcome::Gone);
  CHECK(report.items[0].line() == "host: wg0/txqueuelen: its interface was made again since wgopt changed it (was ifindex 2, now ifindex 9): the "
                                  "value journaled went with the old one, the new one's is left alone (was '" + original + "')");
  CHECK(trim(fake.files->read("/sys/class/net/wg0/tx_queue_len").value_or("")) == "777");
  CHECK(session->journal().data().entries.empty());
  // A change of the new interface journals its own original, and a rollback puts that back.
  Transaction next(*session, fake.host, knobs);
  next.apply({{"wg0/txqueuelen", "500"}});
  next.keep();
  CHECK(session->journal().data().entries[0].original == "777");
  CHECK(session->journal().data().entries[0].instance == "ifindex 9");
  report = session->rollback_all();
  REQUIRE(report.items.size() == 1);
  CHECK(report.items[0].outcome == Outcome::Restored);
  CHECK(trim(fake.files->read("/sys/class/net/wg0/tx_queue_len").value_or("")) == "777");
}

TEST_CASE_METHOD(Wg0TxQueue, "a kept entry of an interface made again is replaced by the new one's original when the new one is changed") {
  Transaction tx(*session, fake.host, knobs);
  tx.apply({{"wg0/txqueuelen", "777"}});
  tx.keep();
  fake.files->write("/sys/class/net/wg0/ifindex", "9");
  fake.files->write("/sys/class/net/wg0/tx_queue_len", "1000");  // the new interface's own
  Transaction next(*session, fake.host, knobs);
  next.apply({{"wg0/txqueuelen", "600"}});
  next.keep();
  REQUIRE(session->journal().data().entries.size() == 1);
  CHECK(session->journal().data().entries[0].original == "1000");
  session->rollback_all();
  CHECK(trim(fake.files->read("/sys/class/net/wg0/tx_queue_len").value_or("")) == "1000");
}

TEST_CASE("knobs of an interface this host lacks are one problem naming the interface, and nothing is changed") {
  // A `wgopt show` of eth0 applied where there is none was 14 problems in one line, one per knob.
  test::FakeHost fake(2);
  std::vector<Change> changes{{"eth9/mtu", "1400"}, {"eth9/txqueuelen", "500"}, {"eth9/offload/gro", "on"}, {"eth9/qdisc", "fq"},
                              {"net.core.netdev_max_backlog", "2000"}};
  std::vector<KnobPtr> knobs;
  for (const auto& c : changes) knobs.push_back(find_knob(fake.host, c.id));
  const auto before = fake.files->read("/proc/sys/net/core/netdev_max_backlog");
  test::FakeSession session(fake);
  Transaction tx(*session, fake.host, knobs);
  CHECK_THROWS_WITH(tx.apply(changes), "interface eth9 is not in host (knobs eth9/mtu, eth9/txqueuelen, eth9/offload/gro and 1 more): "
                                       "bring it up first (NetBird makes its wt0 when it connects), or leave its knobs out; nothing was "
                                       "changed");
  CHECK(fake.files->read("/proc/sys/net/core/netdev_max_backlog") == before);
}

TEST_CASE_METHOD(Wg0TxQueue, "a candidate's rollback after its interface was made again leaves the new one alone") {
  // Found in review: the in-process rollback (each trial's) wrote the old interface's value onto
  // the new one, or called it "changed by someone else".
  Transaction tx(*session, fake.host, knobs);
  tx.apply({{"wg0/txqueuelen", "777"}});
  fake.files->write("/sys/class/net/wg0/ifindex", "9");  // NetBird made it again, with the same value
  const auto report = tx.rollback();
  REQUIRE(report.items.size() == 1);
  CHECK(report.items[0].outcome == Outcome::Gone);
  CHECK_THAT(report.items[0].detail, Catch::StartsWith("its interface was made again since wgopt changed it (was ifindex 2, now ifindex 9)"));
  CHECK(trim(fake.files->read("/sys/class/net/wg0/tx_queue_len").value_or("")) == "777");
  CHECK_FALSE(session->journal().data().open);
  CHECK(session->journal().data().entries.empty());
}

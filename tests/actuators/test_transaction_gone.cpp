// A transaction over the real knob catalog on the fake kernel tree whose interface vanishes
// between the apply and the rollback (wireguard-go killed, NetBird recreating its interface).
#include <catch2/catch.hpp>
#include <filesystem>

#include "actuators/catalog.hpp"
#include "actuators/transaction.hpp"
#include "tests/actuators/test_knobs_fake.hpp"

using namespace wgopt;
using namespace wgopt::act;

TEST_CASE("a rollback whose interface vanished closes the transaction: its value went with it") {
  // Found by an exploratory test: wireguard-go killed mid-trial left the candidate's entries open in
  // the journal, and every later transaction of the search was refused ("another transaction is
  // still open"), each trial charged as infeasible.
  test::FakeHost fake(2);
  std::vector<KnobPtr> knobs;
  knobs.push_back(find_knob(fake.host, "wg0/txqueuelen"));
  test::FakeSession session(fake);
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

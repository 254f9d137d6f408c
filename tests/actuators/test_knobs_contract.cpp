// One contract over every knob the catalog discovers on the fake host (a virtio NIC, a veth, a
// wireguard-go tun and an mlx5 NIC; see tests/fixtures/actuators/README.md):
// read -> apply(a different legal value) -> read-back equal -> apply(original) leaves every file of
// the tree and every fake tool's state byte-for-byte as it was.
#include <catch2/catch.hpp>
#include <set>

#include "actuators/catalog.hpp"
#include "actuators/cpumask.hpp"
#include "common/error.hpp"
#include "common/util.hpp"
#include "tests/actuators/test_knobs_fake.hpp"

using namespace wgopt;
using namespace wgopt::act;

namespace {
// A legal value different (to the kernel) from `orig`, or "" if the domain has none.
std::string other_value(Knob& k, const std::string& orig, int nproc) {
  const Descriptor& d = k.descriptor();
  std::vector<std::string> candidates;
  switch (d.type) {
    case ValueType::Int:
      candidates = {std::to_string(d.domain.min), std::to_string(d.domain.max), std::to_string((d.domain.min + d.domain.max) / 2)};
      break;
    case ValueType::Triple: candidates = {"4096 87380 6291456", "8192 131072 16777216"}; break;
    case ValueType::Mask: candidates = {"spread", CpuMask::all(nproc).canonical(), "1"}; break;
    case ValueType::Bool: candidates = {"on", "off"}; break;
    default: candidates = d.domain.choices; break;
  }
  for (const auto& c : candidates) {
    try {
      std::string v = k.validate(c);
      if (!k.equal(v, orig)) return v;
    } catch (const UsageError&) {
    }
  }
  return "";
}
}  // namespace

TEST_CASE("every discovered knob: read, apply, verify, restore leaves the tree and tools as they were") {
  test::FakeHost fake(2);
  const auto tree_before = test::snapshot_tree(fake.root);
  const auto tools_before = fake.tools->state();

  DiscoverOptions opts;
  opts.allow_underlay_mtu = true;
  auto knobs = discover_knobs(fake.host, opts);
  REQUIRE(fake.files->writes == 0);  // discovery never writes
  REQUIRE(fake.tools->unexpected.empty());

  std::set<std::string> kinds_exercised;
  int exercised = 0;
  for (auto& k : knobs) {
    const auto p = k->presence();
    if (!p.present || !p.writable) continue;
    INFO("knob " << k->id());
    const std::string orig = k->read();
    CHECK(k->equal(k->validate(orig), orig));  // the original is always legal, so it can be restored
    const std::string other = other_value(*k, orig, fake.host.nproc);
    if (other.empty()) {  // a one-value domain (virtio's single combined channel): nothing to change
      CHECK(k->descriptor().domain.min == k->descriptor().domain.max);
      continue;
    }
    k->apply(other);
    CHECK(k->equal(k->read(), other));
    CHECK(!k->equal(k->read(), orig));
    k->apply(k->validate(orig));
    CHECK(k->equal(k->read(), orig));
    kinds_exercised.insert(k->descriptor().kind);
    ++exercised;
  }
  CHECK(fake.tools->unexpected.empty());
  CHECK(test::snapshot_tree(fake.root) == tree_before);
  CHECK(fake.tools->state() == tools_before);
  CHECK(exercised >= 50);
  // Every kind the issue names was exercised at least once on some device.
  for (const char* kind : {"sysctl", "mtu", "txqueuelen", "rps_cpus", "rps_flow_cnt", "channels", "rings", "offload",
                           "rss_hash", "rss_equal", "irq_affinity", "qdisc", "service"}) {
    INFO("kind " << kind);
    CHECK(kinds_exercised.count(kind) == 1);
  }
}

TEST_CASE("channels change before RPS: new rx queues get the mask, restore removes them again") {
  test::FakeHost fake(2);
  const auto before = test::snapshot_tree(fake.root);
  auto channels = find_knob(fake.host, "enp1s0/channels/combined");
  auto rps = find_knob(fake.host, "enp1s0/rps_cpus");
  REQUIRE(channels->descriptor().order < rps->descriptor().order);
  REQUIRE(channels->read() == "4");
  channels->apply("8");
  CHECK(fake.host.files->list("/sys/class/net/enp1s0/queues").size() == 16);
  rps->apply(rps->validate("3"));
  CHECK(fake.host.files->read("/sys/class/net/enp1s0/queues/rx-7/rps_cpus") == "3\n");
  rps->apply("0");
  channels->apply("4");
  CHECK(test::snapshot_tree(fake.root) == before);
}

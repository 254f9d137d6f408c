// The knob catalog on the real testbed (root): prefix "wgt3", one veth underlay and one
// wireguard-go interface per end. Each knob is applied and rolled back inside the client's
// namespace, and every value is checked independently of the knob's own read(): with `ip -j`,
// `ethtool`, `tc` and sysfs/procfs through `ip netns exec`. The host's own values are never touched
// (checked for the namespaced sysctls).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include "actuators/catalog.hpp"
#include "actuators/cpumask.hpp"
#include "actuators/ethtool_parse.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "experiments/testbed/testbed.hpp"
#include "test_testbed_checks.hpp"

using namespace wgopt;
using namespace wgopt::act;

namespace {
const std::string kPrefix = "wgt3";

std::string sh(const std::vector<std::string>& argv) {
  auto r = default_runner()->run(Command{.argv = argv, .timeout = std::chrono::seconds(20)});
  INFO(render_argv(argv) << " -> " << r.brief());
  REQUIRE(r.ok());
  return r.out;
}

struct End {
  std::string netns;
  Host host;
  std::string in(const std::vector<std::string>& argv) {
    std::vector<std::string> full{"ip", "netns", "exec", netns};
    full.insert(full.end(), argv.begin(), argv.end());
    return sh(full);
  }
  std::string cat(const std::string& path) { return trim(in({"cat", path})); }
  nlohmann::json link(const std::string& dev) { return nlohmann::json::parse(sh({"ip", "-n", netns, "-j", "link", "show", "dev", dev}))[0]; }
};

End end_for(const Place& place) {
  End e;
  e.netns = place.netns_name();
  e.host.place = place;
  e.host.runner = default_runner();
  e.host.files = files_for(place, e.host.runner);
  e.host.nproc = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  return e;
}

// apply(value), check with `observe`, apply(original), check again; returns the original.
template <typename Observe>
std::string round_trip(Host& host, const std::string& id, const std::string& value, Observe observe,
                       const DiscoverOptions& opts = {}) {
  INFO("knob " << id);
  auto k = find_knob(host, id, opts);
  REQUIRE(k->presence().writable);
  const std::string orig = k->read();
  const std::string v = k->validate(value);
  REQUIRE(!k->equal(v, orig));
  k->apply(v);
  CHECK(k->equal(k->read(), v));
  observe(v);
  k->apply(k->validate(orig));
  CHECK(k->equal(k->read(), orig));
  observe(orig);
  return orig;
}
}  // namespace

TEST_CASE("knobs apply and roll back inside the testbed's namespaces, verified with ip, ethtool, tc and sysfs",
          "[knobs][root]") {
  if (::geteuid() != 0) FAIL("this test needs root");
  Testbed(kPrefix).down();
  {
    TestbedGuard guard(kPrefix);
    const auto& n = guard.testbed().names();
    End cli = end_for(n.client_place());
    const std::string uc = n.cli_underlay, wc = n.cli_wg;

    SECTION("discovery tells what a child namespace may change") {
      std::map<std::string, Presence> p;
      for (auto& k : discover_knobs(cli.host)) p[k->id()] = k->presence();
      CHECK(!p["net.core.netdev_max_backlog"].present);
      CHECK(p["net.core.netdev_max_backlog"].why_not.starts_with("global-only"));
      CHECK(p["net.core.rmem_max"].present);
      CHECK(!p["net.core.rmem_max"].writable);
      CHECK(p["net.ipv4.tcp_rmem"].writable);
      CHECK(p[wc + "/mtu"].writable);   // wireguard-go's tun recognised by its UAPI socket
      CHECK(!p[uc + "/mtu"].writable);  // the underlay's only with allow_underlay_mtu
      CHECK(p[uc + "/channels/rx"].writable);
      CHECK(!p[uc + "/rings/rx"].present);
      CHECK(p.count("lo/mtu") == 0);
    }
    SECTION("WireGuard MTU, then the underlay MTU when allowed") {
      round_trip(cli.host, wc + "/mtu", "1380", [&](const std::string& v) {
        CHECK(cli.link(wc)["mtu"].get<int>() == std::stoi(v));
        CHECK(cli.cat("/sys/class/net/" + wc + "/mtu") == v);
      });
      round_trip(cli.host, uc + "/mtu", "1400", [&](const std::string& v) {
        CHECK(cli.link(uc)["mtu"].get<int>() == std::stoi(v));
      }, {.allow_underlay_mtu = true});
      CHECK(cli.link(wc)["mtu"].get<int>() == TestbedNames::wg_mtu);
    }
    SECTION("txqueuelen") {
      round_trip(cli.host, uc + "/txqueuelen", "2000", [&](const std::string& v) {
        CHECK(cli.link(uc)["txqlen"].get<int>() == std::stoi(v));
      });
    }
    SECTION("veth channels, and RPS masks on the queues they create") {
      auto channels = find_knob(cli.host, uc + "/channels/rx");
      const std::string orig = channels->read();
      const auto max = channels->descriptor().domain.max;
      if (max < 2) {
        WARN("veth offers " << max << " rx channel here; the channel round trip needs 2 CPUs");
      } else {
        channels->apply("2");
        CHECK(parse_preset_current(cli.in({"ethtool", "-l", uc})).get("RX")->second == 2);
        CHECK(cli.in({"ls", "/sys/class/net/" + uc + "/queues"}).find("rx-1") != std::string::npos);
        const std::string all = CpuMask::all(cli.host.nproc).canonical();
        round_trip(cli.host, uc + "/rps_cpus", all, [&](const std::string& v) {
          for (const char* q : {"rx-0", "rx-1"}) {
            const std::string got = cli.cat("/sys/class/net/" + uc + "/queues/" + q + "/rps_cpus");
            CHECK(CpuMask::parse(got, cli.host.nproc) == CpuMask::parse(v, cli.host.nproc));
          }
        });
        channels->apply(orig);
        CHECK(parse_preset_current(cli.in({"ethtool", "-l", uc})).get("RX")->second == std::stoll(orig));
        CHECK(cli.in({"ls", "/sys/class/net/" + uc + "/queues"}).find("rx-1") == std::string::npos);
      }
      round_trip(cli.host, wc + "/rps_cpus", "1", [&](const std::string& v) {
        CHECK(CpuMask::parse(cli.cat("/sys/class/net/" + wc + "/queues/rx-0/rps_cpus"), cli.host.nproc) ==
              CpuMask::parse(v, cli.host.nproc));
      });
      round_trip(cli.host, wc + "/rps_flow_cnt", "3000", [&](const std::string& v) {
        const long long want = v == "0" ? 0 : 4096;  // the kernel rounds 3000 up
        CHECK(std::stoll(cli.cat("/sys/class/net/" + wc + "/queues/rx-0/rps_flow_cnt")) == want);
      });
    }
    SECTION("a mask wider than the machine never reaches the kernel") {
      auto rps = find_knob(cli.host, uc + "/rps_cpus");
      const std::string before = cli.cat("/sys/class/net/" + uc + "/queues/rx-0/rps_cpus");
      CHECK_THROWS_AS(rps->validate(CpuMask::single(cli.host.nproc, cli.host.nproc + 1).canonical()), UsageError);
      CHECK(cli.cat("/sys/class/net/" + uc + "/queues/rx-0/rps_cpus") == before);
    }
    SECTION("offloads") {
      for (const char* f : {"gro", "rx-udp-gro-forwarding", "gso"}) {
        const std::string row = std::string(f) == "gro" ? "generic-receive-offload"
                              : std::string(f) == "gso" ? "generic-segmentation-offload" : f;
        auto k = find_knob(cli.host, uc + "/offload/" + f);
        const std::string flip = k->read() == "on" ? "off" : "on";
        round_trip(cli.host, uc + "/offload/" + f, flip, [&](const std::string& v) {
          CHECK(parse_features(cli.in({"ethtool", "-k", uc})).at(row).on == (v == "on"));
        });
      }
    }
    SECTION("tcp_rmem, tcp_wmem and congestion control change in the namespace only") {
      const std::string host_rmem = trim(*read_file("/proc/sys/net/ipv4/tcp_rmem"));
      const std::string host_cc = trim(*read_file("/proc/sys/net/ipv4/tcp_congestion_control"));
      for (const char* name : {"tcp_rmem", "tcp_wmem"}) {
        round_trip(cli.host, std::string("net.ipv4.") + name, "4096 262144 8388608", [&](const std::string& v) {
          CHECK(split_ws(cli.cat(std::string("/proc/sys/net/ipv4/") + name)) == split_ws(v));
        });
      }
      auto cc = find_knob(cli.host, "net.ipv4.tcp_congestion_control");
      const std::string cur = cc->read();
      std::string other;
      for (const auto& c : cc->descriptor().domain.choices) {
        if (c != cur) other = c;
      }
      REQUIRE(!other.empty());
      round_trip(cli.host, "net.ipv4.tcp_congestion_control", other, [&](const std::string& v) {
        CHECK(cli.cat("/proc/sys/net/ipv4/tcp_congestion_control") == v);
        CHECK(trim(*read_file("/proc/sys/net/ipv4/tcp_congestion_control")) == host_cc);
      });
      CHECK(trim(*read_file("/proc/sys/net/ipv4/tcp_rmem")) == host_rmem);
    }
    SECTION("every writable knob discovered in the client namespace round-trips on the real kernel") {
      DiscoverOptions opts;
      opts.allow_underlay_mtu = true;
      int exercised = 0;
      for (auto& k : discover_knobs(cli.host, opts)) {
        if (!k->presence().writable) continue;
        INFO("knob " << k->id());
        const Descriptor& d = k->descriptor();
        const std::string orig = k->read();
        std::vector<std::string> candidates;
        if (d.type == ValueType::Int) candidates = {std::to_string(d.domain.max), std::to_string(d.domain.min)};
        else if (d.type == ValueType::Triple) candidates = {"4096 262144 8388608"};
        else if (d.type == ValueType::Mask) candidates = {CpuMask::all(cli.host.nproc).canonical(), "1"};
        else if (d.type == ValueType::Bool) candidates = {orig == "on" ? "off" : "on"};
        else candidates = d.domain.choices;
        std::string other;
        for (const auto& c : candidates) {
          if (!k->equal(k->validate(c), orig)) {
            other = k->validate(c);
            break;
          }
        }
        if (other.empty()) continue;  // a one-value domain
        // MTU at the domain's maximum would exceed the peer's; one step down is enough.
        if (d.kind == "mtu") other = std::to_string(std::stoll(orig) - 20);
        try {
          k->apply(other);
          CHECK(k->equal(k->read(), other));
        } catch (const Error& e) {
          FAIL_CHECK("apply " << other << ": " << e.what());
        }
        k->apply(k->validate(orig));
        CHECK(k->equal(k->read(), orig));
        ++exercised;
      }
      CHECK(exercised >= 15);
    }
    SECTION("root qdisc: replaced, then the device's default given back") {
      const std::string before = sh({"ip", "netns", "exec", cli.netns, "tc", "qdisc", "show", "dev", uc});
      round_trip(cli.host, uc + "/qdisc", "htb", [&](const std::string& v) {
        CHECK(parse_root_qdisc(cli.in({"tc", "qdisc", "show", "dev", uc})).kind == v);
      });
      CHECK(sh({"ip", "netns", "exec", cli.netns, "tc", "qdisc", "show", "dev", uc}) == before);
    }
  }
  CHECK(testcheck::testbed_leftovers(kPrefix).empty());
}

// Per-queue knobs and what `wgopt set` refuses, on the real kernel (root): a veth pair in a scratch
// namespace "wgtq" with two rx queues whose RPS masks and RFS tables differ per queue, as a host
// may have them.
//  - set channels/rx=1 with rps_cpus and rps_flow_cnt, then rollback: the channels go back first,
//    so each queue gets its own original (the RPS values went back first and met one queue; the
//    originals of the queue the change had removed were lost, and the retry took wgopt's own
//    values for someone else's).
//  - values the kernel would refuse are refused before anything is written, exit 2: a qdisc that is
//    not this device's default (mq with one tx queue), an RFS table of 1 flow.
//  - a rollback that leaves a knob alone (changed by someone else) keeps the journal as it was.
//  - a root qdisc with a handle given by hand, or filters on it, is not the knob's to replace.
//  - a namespace deleted and made again under the same name is another one: the journaled knobs are
//    gone with the old one, never written into the new one (the entries record inode and cookie).
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"

using namespace wgopt;
using namespace wgopt::itest;
namespace fs = std::filesystem;

namespace {

const std::string kNs = "wgtq";

struct QueueNetns {
  NamedNetns ns{kNs};
  QueueNetns() {
    REQUIRE(run({"ip", "-n", kNs, "link", "add", "wgtq0", "numrx", "2", "numtx", "1", "type", "veth", "peer", "name", "wgtq1"}).ok());
    in_ns(kNs, {"ip", "link", "set", "wgtq0", "up"});
    in_ns(kNs, {"ip", "link", "set", "wgtq1", "up"});
  }
  std::string cat(const std::string& path) { return in_ns(kNs, {"cat", path}); }
  void put(const std::string& path, const std::string& v) { in_ns(kNs, {"sh", "-c", "echo " + v + " > " + path}); }
  std::string queue(int i, const std::string& file) { return cat("/sys/class/net/wgtq0/queues/rx-" + std::to_string(i) + "/" + file); }
  // rx channels, from `ethtool -l`'s current settings (the second "RX:" line).
  std::string rx_channels() {
    const auto out = in_ns(kNs, {"ethtool", "-l", "wgtq0"});
    std::string last;
    for (const auto& line : split_lines(out)) {
      if (line.starts_with("RX:")) last = trim(line.substr(3));
    }
    return last;
  }
};

}  // namespace

TEST_CASE("queues: channels go back before the per-queue RPS values; bad values are refused before any write",
          "[knobs][root]") {
  need_root();
  QueueNetns ns;
  StateDir state;
  in_ns(kNs, {"ethtool", "-L", "wgtq0", "rx", "2"});
  ns.put("/sys/class/net/wgtq0/queues/rx-0/rps_cpus", "1");
  ns.put("/sys/class/net/wgtq0/queues/rx-1/rps_cpus", "2");
  ns.put("/sys/class/net/wgtq0/queues/rx-1/rps_flow_cnt", "64");
  const std::string rps0 = ns.queue(0, "rps_cpus"), rps1 = ns.queue(1, "rps_cpus");
  REQUIRE(rps0 != rps1);
  REQUIRE(ns.rx_channels() == "2");

  SECTION("rollback of channels with the masks of the queues they remove") {
    auto s = run_wgopt(state.path, {"set", "--netns", kNs, "wgtq0/channels/rx=1", "wgtq0/rps_cpus=3", "wgtq0/rps_flow_cnt=32"});
    INFO(s.out << s.err);
    REQUIRE(s.ok());
    CHECK(ns.rx_channels() == "1");
    auto r = run_wgopt(state.path, {"rollback"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(ns.rx_channels() == "2");
    CHECK(ns.queue(0, "rps_cpus") == rps0);
    CHECK(ns.queue(1, "rps_cpus") == rps1);
    CHECK(ns.queue(0, "rps_flow_cnt") == "0");
    CHECK(ns.queue(1, "rps_flow_cnt") == "64");
    CHECK_THAT(r.out, !Catch::Contains("left alone") && !Catch::Contains("NOT restored"));
    CHECK_FALSE(fs::exists(state / "journal.json"));
  }

  SECTION("a value the kernel would refuse is refused first: exit 2, nothing written") {
    const std::string txq = ns.cat("/sys/class/net/wgtq0/tx_queue_len");
    for (const std::string bad : {"wgtq0/qdisc=mq", "wgtq0/rps_flow_cnt=1"}) {
      INFO(bad);
      auto r = run_wgopt(state.path, {"set", "--netns", kNs, "wgtq0/txqueuelen=777", bad});
      INFO(r.out << r.err);
      CHECK(r.exit_code == 2);
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
      CHECK(ns.cat("/sys/class/net/wgtq0/tx_queue_len") == txq);
    }
    CHECK_THAT(in_ns(kNs, {"tc", "qdisc", "show", "dev", "wgtq0", "root"}), Catch::Contains("noqueue"));
    CHECK(ns.queue(0, "rps_flow_cnt") == "0");
    // A veth's own default, noqueue, is legal while another kind is attached.
    REQUIRE(run_wgopt(state.path, {"set", "--netns", kNs, "wgtq0/qdisc=htb"}).ok());
    auto r = run_wgopt(state.path, {"set", "--netns", kNs, "wgtq0/qdisc=noqueue"});
    INFO(r.out << r.err);
    CHECK(r.ok());
    REQUIRE(run_wgopt(state.path, {"rollback"}).ok());
  }

  SECTION("a root qdisc with a hand-given handle or filters is left alone: its knob is read-only") {
    auto why = [&] {
      auto r = run_wgopt(state.path, {"knobs", "--netns", kNs, "--json"});
      REQUIRE(r.ok());
      const auto all = nlohmann::json::parse(r.out);
      for (const auto& k : all["knobs"]) {
        if (k["id"] == "wgtq0/qdisc") return k["writable"].get<bool>() ? std::string() : k.value("why_not", std::string("?"));
      }
      return std::string("(absent)");
    };
    in_ns(kNs, {"tc", "qdisc", "add", "dev", "wgtq0", "root", "handle", "7:", "htb"});
    CHECK_THAT(why(), Catch::StartsWith("the root qdisc htb has the handle 7: given by hand"));
    in_ns(kNs, {"tc", "filter", "add", "dev", "wgtq0", "parent", "7:", "protocol", "ip", "prio", "1", "u32", "match", "ip", "dst",
                "10.9.9.9/32", "flowid", "7:5"});
    CHECK_THAT(why(), Catch::StartsWith("filters are attached to its root qdisc"));
    auto r = run_wgopt(state.path, {"set", "--netns", kNs, "wgtq0/qdisc=tbf"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(in_ns(kNs, {"tc", "filter", "show", "dev", "wgtq0"}), Catch::Contains("flowid 7:5"));
    in_ns(kNs, {"tc", "qdisc", "del", "dev", "wgtq0", "root"});
    CHECK(why().empty());  // the kernel's own noqueue again
  }

  SECTION("a namespace deleted and made again under its name is not the one journaled") {
    REQUIRE(run_wgopt(state.path, {"set", "--netns", kNs, "wgtq0/txqueuelen=500"}).ok());
    run({"ip", "netns", "del", kNs});
    QueueNetns again;
    in_ns(kNs, {"ip", "link", "set", "wgtq0", "txqueuelen", "500"});  // its own 500, by chance the same
    auto r = run_wgopt(state.path, {"rollback"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("netns wgtq: wgtq0/txqueuelen: its network namespace wgtq was made again since wgopt changed it") &&
                          Catch::Contains("nothing was put back; each knob as found:"));
    CHECK(ns.cat("/sys/class/net/wgtq0/tx_queue_len") == "500");
    CHECK_FALSE(fs::exists(state / "journal.json"));
  }

  SECTION("a namespace deleted since is said gone, not made again") {
    REQUIRE(run_wgopt(state.path, {"set", "--netns", kNs, "wgtq0/txqueuelen=500"}).ok());
    run({"ip", "netns", "del", kNs});
    auto r = run_wgopt(state.path, {"rollback"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("netns wgtq: wgtq0/txqueuelen: its network namespace wgtq no longer exists: its value went with it"));
    CHECK_FALSE(fs::exists(state / "journal.json"));
    QueueNetns again;  // the fixture's namespace back, for its own end
  }

  SECTION("a rollback that leaves a knob alone keeps the journal it had") {
    REQUIRE(run_wgopt(state.path, {"set", "--netns", kNs, "wgtq0/txqueuelen=500", "wgtq1/txqueuelen=600"}).ok());
    in_ns(kNs, {"ip", "link", "set", "wgtq0", "txqueuelen", "700"});  // someone else, after wgopt
    auto r = run_wgopt(state.path, {"rollback", "--json"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    const std::string kept = j["rollback"].value("left_alone_record", "");
    REQUIRE_FALSE(kept.empty());
    CHECK(fs::path(kept).parent_path() == fs::path(state.path));
    CHECK_THAT(slurp(kept), Catch::Contains("wgtq0/txqueuelen") && Catch::Contains("\"original\": \"1000\""));
    CHECK(ns.cat("/sys/class/net/wgtq0/tx_queue_len") == "700");
    CHECK(ns.cat("/sys/class/net/wgtq1/tx_queue_len") == "1000");
  }
}

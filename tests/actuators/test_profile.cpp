// Profiles: what `wgopt show` prints, a person edits and `wgopt apply` reads back.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "actuators/profile.hpp"
#include "common/error.hpp"
#include "tests/scratch_dir.hpp"

using namespace wgopt;
using namespace wgopt::act;

TEST_CASE("a profile round-trips: knobs in order, triples and masks as one string, host and evidence kept") {
  const std::string text = R"(host:
  place: netns wgopt-cli
  nproc: 2
knobs:
  net.ipv4.tcp_rmem: "4096 131072 16777216"
  net.ipv4.tcp_congestion_control: cubic
  wgopt-wc/rps_cpus: 3
  eth0/offload/gro: off
  wgopt-wc/mtu: 1420
  eth0/rps_cpus: "1,00000000"
evidence:
  study: s1
  trials: [1, 2, {gbps: 2.5}]
)";
  Profile p = parse_profile(text, "p.yaml");
  REQUIRE(p.knobs.size() == 6);
  CHECK(p.knobs[0] == std::pair<std::string, std::string>{"net.ipv4.tcp_rmem", "4096 131072 16777216"});
  CHECK(p.knobs[2].second == "3");
  CHECK(p.knobs[3].second == "off");  // YAML 1.1 would call it a bool: we keep the text
  CHECK(p.knobs[5].second == "1,00000000");
  CHECK(p.host["nproc"].as<int>() == 2);

  const std::string dumped = dump_profile(p);
  Profile again = parse_profile(dumped, "dumped");
  CHECK(again.knobs == p.knobs);
  CHECK(YAML::Dump(again.host) == YAML::Dump(p.host));
  CHECK(YAML::Dump(again.evidence) == YAML::Dump(p.evidence));
  CHECK_THAT(dumped, Catch::Contains("\"off\"") && Catch::Contains("wgopt-wc/mtu: 1420"));
  CHECK(dump_profile(again) == dumped);
}

TEST_CASE("a profile with only knobs is fine, and an empty knobs map is an empty profile") {
  CHECK(parse_profile("knobs: {net.core.rmem_max: 212992}", "p").knobs.size() == 1);
  CHECK(parse_profile("knobs:\n", "p").knobs.empty());
  CHECK(parse_profile("knobs: {}", "p").host.IsNull());
}

TEST_CASE("a malformed profile is refused with the entry named") {
  auto refuses = [](const std::string& text, const std::string& needle) {
    CHECK_THROWS_WITH(parse_profile(text, "p.yaml"), Catch::Contains("p.yaml") && Catch::Contains(needle));
  };
  refuses("knobs: [a, b", "not valid YAML");
  refuses("- a\n- b\n", "must be a YAML map");
  refuses("host: {}\n", "has no 'knobs:' map");
  refuses("knob: {net.core.rmem_max: 1}\n", "unknown key 'knob'");
  refuses("knobs: [net.core.rmem_max]\n", "'knobs' must be a map");
  refuses("knobs: {net.ipv4.tcp_rmem: [4096, 131072, 16777216]}\n", "net.ipv4.tcp_rmem must have one value");
  refuses("knobs: {net.core.rmem_max: 1, net.core.rmem_max: 2}\n", "given twice");
  refuses("knobs: {net.core.rmem_max: 212992}\n---\nknobs: {net.core.wmem_max: 1}\n", "holds more than one YAML document");
  CHECK(parse_profile("---\nknobs: {net.core.rmem_max: 212992}\n---\n", "p.yaml").knobs.size() == 1);  // empty documents are none
  refuses("knobs: {kernel.core_pattern: x}\n", "outside the allowlist");
  refuses("knobs: {\"eth0 x/mtu\": 1400}\n", "interface name 'eth0 x' is not valid");
  refuses("knobs: {\"../../etc/passwd\": 1}\n", "not valid");
  refuses("knobs: {net.core.rmem_max: \"\"}\n", "is empty");
  // A key given twice is not YAML (yaml-cpp reads both): one block each, whichever the reader.
  refuses("knobs: {net.core.rmem_max: 1}\nknobs: {net.core.wmem_max: 2}\n", "'knobs' is given twice: merge them into one");
  refuses("knobs: {net.core.rmem_max: 1}\nknobs: {net.core.rmem_max: 2}\n", "'knobs' is given twice");
  refuses("host: {sku: a}\nknobs: {}\nhost: {sku: b}\n", "'host' is given twice");
  refuses("evidence: {}\nknobs: {}\nevidence: {study: s}\n", "'evidence' is given twice");
  // Found by fuzz/fuzz_profile: dump_profile wrote the byte 0xff as U+FFFD, so the value changed.
  refuses("knobs: {eth0/rings/rx: \"4\xff\x30\x39\x36\"}\n", "control or non-ASCII byte");
  refuses("knobs: {eth0/rings/rx: \"40\\x1496\"}\n", "control or non-ASCII byte");
  refuses("knobs: {eth0/rings/rx: \"4096\\r\"}\n", "control or non-ASCII byte");
  CHECK(parse_profile("knobs: {net.ipv4.tcp_rmem: \"4096\\t131072\\t16777216\"}\n", "p.yaml").knobs.size() == 1);
  CHECK_THROWS_AS(load_profile("/nonexistent/p.yaml"), UsageError);
}

TEST_CASE("a value too long for a knob is called too long, with its size", "[faults]") {
  const std::string big(100 * 1024, '7');
  CHECK_THROWS_WITH(parse_profile("knobs: {net.core.rmem_max: \"" + big + "\"}\n", "p.yaml"),
                    Catch::Contains("p.yaml") && Catch::Contains("net.core.rmem_max") &&
                        Catch::Contains("102400 bytes") && Catch::Contains("at most 512") &&
                        !Catch::Contains("multi-line"));
  CHECK_THROWS_WITH(parse_profile("knobs: {net.core.rmem_max: \"1\\n2\"}\n", "p.yaml"), Catch::Contains("more than one line"));
  CHECK_THROWS_WITH(parse_profile("knobs: {net.core.rmem_max: \"\"}\n", "p.yaml"), Catch::Contains("is empty"));
}

TEST_CASE("a both-ends profile keeps the peer's knobs and facts apart, checked like the local ones") {
  const std::string text = R"(knobs:
  wt0/mtu: 1420
peer:
  host: {ssh: root@10.0.0.2, nproc: 4}
  knobs:
    net.ipv4.tcp_rmem: "4096 131072 16777216"
    ens5/mtu: 1500
)";
  Profile p = parse_profile(text, "p.yaml");
  REQUIRE(p.peer);
  CHECK(p.knobs.size() == 1);
  REQUIRE(p.peer->knobs.size() == 2);
  CHECK(p.peer->knobs[0] == std::pair<std::string, std::string>{"net.ipv4.tcp_rmem", "4096 131072 16777216"});
  CHECK(p.peer->host["ssh"].as<std::string>() == "root@10.0.0.2");
  const std::string dumped = dump_profile(p);
  Profile again = parse_profile(dumped, "dumped");
  REQUIRE(again.peer);
  CHECK(again.peer->knobs == p.peer->knobs);
  CHECK(dump_profile(again) == dumped);
  CHECK_FALSE(parse_profile("knobs: {}", "p").peer);

  auto refuses = [](const std::string& t, const std::string& needle) {
    CHECK_THROWS_WITH(parse_profile(t, "p.yaml"), Catch::Contains("p.yaml") && Catch::Contains(needle));
  };
  refuses("knobs: {}\npeer: [a]\n", "'peer' must be a map");
  refuses("knobs: {}\npeer: {knob: {}}\n", "unknown key 'peer.knob'");
  refuses("knobs: {}\npeer: {knobs: {kernel.core_pattern: x}}\n", "outside the allowlist");
  refuses("knobs: {}\npeer: {knobs: {wt0/mtu: 1, wt0/mtu: 2}}\n", "knob peer.wt0/mtu is given twice");
  refuses("knobs: {}\npeer: {}\npeer: {}\n", "'peer' is given twice");
  // Inside the sections too (found by an exploratory test: wgopt read the first, Ansible the last).
  refuses("knobs: {}\npeer: {knobs: {wt0/mtu: 1}, knobs: {wt0/mtu: 2}}\n", "'peer.knobs' is given twice: keep one");
  refuses("knobs: {}\nhost: {nproc: 64, nproc: 2}\n", "'host.nproc' is given twice: keep one");
  refuses("knobs: {}\npeer: {host: {nproc: 64, nproc: 2}}\n", "'peer.host.nproc' is given twice");
  refuses("knobs: {}\nevidence: {confirmation: {rounds: 3, rounds: 4}}\n", "'evidence.confirmation.rounds' is given twice");
  refuses("knobs: {}\nevidence: {changes: [{knob: a, knob: b}]}\n", "'evidence.changes[0].knob' is given twice");
}

// Found by an exploratory test: `wgopt apply <(cat p.yaml)` said "check the path" (pread on a pipe),
// and `wgopt apply /dev/zero` grew to 568 MB in a second.
TEST_CASE("a profile is read from a pipe, and one larger than 16 MiB or unreadable is refused in one line", "[faults]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const std::string text = "knobs:\n  net.ipv4.tcp_congestion_control: bbr\n";
  REQUIRE(::write(fds[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fds[1]);
  const Profile p = load_profile("/dev/fd/" + std::to_string(fds[0]));
  ::close(fds[0]);
  REQUIRE(p.knobs.size() == 1);
  CHECK(p.knobs[0].second == "bbr");

  test::ScratchDir dir("wgopt-profile-read");
  const std::string big = (dir / "big.yaml");
  {
    std::ofstream out(big);
    out << "knobs:\n  net.ipv4.tcp_congestion_control: bbr\n";
    out << "# " << std::string((16u << 20) + 10, 'x') << "\n";
  }
  CHECK_THROWS_WITH(load_profile(big), Catch::Contains("is larger than 16 MiB"));
  CHECK_THROWS_AS(load_profile(big), UsageError);
  CHECK_THROWS_WITH(load_profile(dir / "missing.yaml"), Catch::Contains("No such file or directory: check the path"));
  CHECK_THROWS_WITH(load_profile(dir.path), Catch::Contains("Is a directory"));
}

TEST_CASE("a study given for a profile is named so, and a YAML error's message is one line of text") {
  // Found by an exploratory test: `wgopt export s4.sqlite` ended "not valid YAML: ... unknown escape
  // character: " and a raw control byte.
  const std::string study = std::string("SQLite format 3\0\x10\x00\x01\x01", 20) + "\"\\\x10\"";
  CHECK_THROWS_WITH(parse_profile(study, "s4.sqlite"), "s4.sqlite is a study (SQLite), not a profile: give the profile the search wrote "
                                                      "beside it (.yaml), or read the study with `wgopt report`");
  try {
    parse_profile("knobs: \"\\\x10\"\n", "p.yaml");
    FAIL("a bad escape was taken");
  } catch (const UsageError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::StartsWith("profile p.yaml is not valid YAML: line 1: "));
    CHECK(std::none_of(what.begin(), what.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }));
  }
}

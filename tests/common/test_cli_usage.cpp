// The command line's own refusals (CLI11's parse errors) follow the rule every other refusal does:
// one line on stderr naming the thing and where the fix is, exit 2. They printed two lines without
// the program's name ("Could not convert: --port = 99999999999" / "Run with --help ...").
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "common/exec.hpp"
#include "tests/wgopt_cli.hpp"

using namespace wgopt;

namespace {

using wgopt::test::wgopt_cli;

}  // namespace

TEST_CASE("cli: a parse error is one line naming the command whose --help has the fix, exit 2", "[cli]") {
  struct Case {
    std::vector<std::string> args;
    std::string line;
  };
  const std::vector<Case> cases{
      {{"bogus"}, "wgopt: error: unknown command 'bogus': `wgopt --help` lists the commands\n"},
      {{"testbed", "nosuch"}, "wgopt: error: unknown command 'nosuch': `wgopt testbed --help` lists the commands\n"},
      {{"--log-level", "debug", "nosuch"}, "wgopt: error: unknown command 'nosuch': `wgopt --help` lists the commands\n"},
      {{"diagnose", "--peer", "100.64.0.1", "--port", "99999999999"},
       "wgopt: error: Could not convert: --port = 99999999999: see `wgopt diagnose --help`\n"},
      {{"testbed", "status", "--ssh"}, "wgopt: error: The following argument was not expected: --ssh: see `wgopt testbed status --help`\n"},
      // `--ssh "$PEER"` with PEER unset acted on this host.
      {{"rollback", "--ssh", ""}, "wgopt: error: --ssh: needs [USER@]HOST, and it was given empty: see `wgopt rollback --help`\n"},
      {{"set", "--ssh", "", "x=1"}, "wgopt: error: --ssh: needs [USER@]HOST, and it was given empty: see `wgopt set --help`\n"},
      {{"knobs", "--netns", ""}, "wgopt: error: --netns: needs a namespace name, and it was given empty: see `wgopt knobs --help`\n"},
      {{"export", "p.yaml", "--out", ""}, "wgopt: error: --out: needs a directory, and it was given empty: see `wgopt export --help`\n"},
      {{"diagnose"}, "wgopt: error: say where the load goes: --testbed (the built-in testbed) or --peer ADDR (a host running "
                     "`iperf3 -s`): neither was given\n"},
      {{"optimize", "--space", "s.yaml", "--eval", "true", "--trials", "3", "--seed", "-1"},
       "wgopt: error: --seed: '-1' is not a seed: use a whole number from 0 to 18446744073709551615: see `wgopt optimize --help`\n"},
      {{"baseline", "--peer", "10.0.0.2", "--ssh", "root@10.0.0.2", "--ssh-identity", "/k"},
       "wgopt: error: baseline measures the path from this end and takes no --ssh (the peer only runs `iperf3 -s`): drop --ssh "
       "and the --ssh-* options; `wgopt search --ssh` tunes both ends\n"},
  };
  for (const auto& c : cases) {
    auto r = wgopt_cli(c.args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err == c.line);
    CHECK(r.out.empty());
  }
  // --log-level after the command is the root's option, as before it (found by an exploratory
  // test: "The following arguments were not expected: debug --log-level").
  auto late = wgopt_cli({"knobs", "--log-level", "debug", "--json"});
  CHECK(late.exit_code == 0);
  CHECK_THAT(late.err, Catch::Contains("debug: exec: "));
  auto help = wgopt_cli({"testbed", "status", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_FALSE(help.out.empty());
  CHECK(wgopt_cli({"--version"}).exit_code == 0);
}

// Found by an exploratory test: each of these was refused only after the plant was set up (a
// testbed brought up and left), or by another program's words with exit 1.
TEST_CASE("cli: a load command's bad duration or missing namespace is refused before the plant is touched", "[cli]") {
  const std::string prefix = "wgtcli";  // never brought up by any test: it must stay absent
  for (const char* cmd : {"diagnose", "baseline"}) {
    auto r = wgopt_cli({cmd, "--testbed", "--prefix", prefix, "--duration", "25h"});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err == "wgopt: error: --duration '25h' is longer than 24 h: use 1 s to 24h\n");
    CHECK_FALSE(std::filesystem::exists("/run/netns/" + prefix + "-srv"));
    auto ns = wgopt_cli({cmd, "--peer", "100.64.0.1", "--netns", "nosuch-ns"});
    CHECK(ns.exit_code == 2);
    CHECK_THAT(ns.err, Catch::StartsWith("wgopt: error: network namespace 'nosuch-ns' does not exist"));
  }
}

// `wgopt show --interfaces eth0` was refused "not expected" while
// search and retune spell it so; -i stays, and a comma list is the same as -i repeated.
TEST_CASE("cli: knobs and show take --interfaces LIST as search does, and -i repeated", "[cli]") {
  auto one = wgopt_cli({"knobs", "--json", "-i", "eth0"});
  auto list = wgopt_cli({"knobs", "--json", "--interfaces", "eth0"});
  REQUIRE(one.exit_code == 0);
  CHECK(list.exit_code == 0);
  CHECK(list.out == one.out);
  CHECK_THAT(list.out, Catch::Contains("\"eth0/mtu\""));
}

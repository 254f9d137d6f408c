// The ssh command line wgopt builds and how it reads ssh's failures (experiments/peer/ssh_transport.hpp).
// The stderr texts are what OpenSSH 9.2 (Debian 12) printed on this VM against the testbed's sshd,
// captured by tests/integration/test_peer_ssh.cpp's cases (see tests/fixtures/peer/).
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "common/exec.hpp"
#include "experiments/peer/ssh_transport.hpp"

using namespace wgopt;
using namespace wgopt::peer;

namespace {
std::string fixture(const std::string& name) {
  std::ifstream in(std::string(WGOPT_FIXTURES_DIR) + "/peer/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

SshOptions base() { return {.target = "root@198.18.0.1", .known_hosts = "/tmp/kh", .peer_wgopt = "/usr/local/bin/wgopt"}; }
}  // namespace

TEST_CASE("ssh argv: batch mode, timeouts, keepalives, strict host keys, `--` before the destination", "[peer][ssh]") {
  auto argv = ssh_argv(base(), agent_remote_argv(base()));
  const std::vector<std::string> expected{
      "ssh", "-T", "-a", "-x", "-o", "BatchMode=yes", "-o", "ClearAllForwardings=yes", "-o", "StrictHostKeyChecking=yes",
      "-o", "UserKnownHostsFile=/tmp/kh", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=3",
      "-o", "ServerAliveCountMax=3", "--", "root@198.18.0.1", "/usr/local/bin/wgopt", "__agent"};
  CHECK(argv == expected);

  auto o = base();
  o.accept_new_host_key = true;
  o.identity = "/etc/hostname";  // any readable file
  o.options = {"Port=2222", "ProxyJump=admin@bastion.example:22"};
  o.from = Place::netns("wge-cli");
  argv = ssh_argv(o, agent_remote_argv(o));
  const std::string all = [&] {
    std::string s;
    for (const auto& a : argv) s += a + "|";
    return s;
  }();
  CHECK_THAT(all, Catch::StartsWith("ip|netns|exec|wge-cli|ssh|"));
  CHECK_THAT(all, Catch::Contains("StrictHostKeyChecking=accept-new|"));
  CHECK_THAT(all, Catch::Contains("|-i|/etc/hostname|-o|IdentitiesOnly=yes|"));
  CHECK_THAT(all, Catch::Contains("|-o|Port=2222|-o|ProxyJump=admin@bastion.example:22|-o|ConnectTimeout=10|"));

  // ssh keeps an option's first value: the user's ConnectTimeout comes before wgopt's default (it
  // was after it, and a 2 s timeout waited 10 s). Checked with ssh's own reading (ssh -G).
  o = base();
  o.options = {"ConnectTimeout=2", "ServerAliveInterval=7"};
  argv = ssh_argv(o, agent_remote_argv(o));
  std::vector<std::string> g{"ssh", "-G"};
  for (size_t i = 1; i < argv.size() && argv[i] != "--"; ++i) g.push_back(argv[i]);
  g.push_back("root@198.18.0.1");
  ProcessRunner runner;
  const auto r = runner.run({.argv = g, .timeout = std::chrono::seconds(10)});
  INFO(r.err);
  REQUIRE(r.ok());
  CHECK_THAT(r.out, Catch::Contains("connecttimeout 2\n") && Catch::Contains("serveraliveinterval 7\n") &&
                        Catch::Contains("batchmode yes\n") && Catch::Contains("stricthostkeychecking true\n"));
  // ... never 0 (off: no connect timeout, no keepalives behind the lost-peer detection), nor a word.
  for (const std::string bad : {"ConnectTimeout=0", "ServerAliveInterval=0", "serveralivecountmax=x", "ConnectTimeout=99999"}) {
    o.options = {bad};
    CHECK_THROWS_WITH(ssh_argv(o, agent_remote_argv(o)), Catch::Contains("from 1 to 3600"));
  }
}

TEST_CASE("ssh options that run commands, or that wgopt owns, are refused with one line", "[peer][ssh]") {
  struct Case {
    std::string option;
    std::string mentions;
  };
  for (const auto& c : {Case{"ProxyCommand=nc %h %p", "ProxyCommand is not allowed"},
                        Case{"proxycommand=x", "not allowed"},
                        Case{"LocalCommand=touch /tmp/x", "runs a local shell command"},
                        Case{"PermitLocalCommand=yes", "LocalCommand"},
                        Case{"KnownHostsCommand=/bin/x", "not allowed"},
                        Case{"RemoteCommand=sh", "not allowed"},
                        Case{"PKCS11Provider=/tmp/x.so", "library"},
                        Case{"StrictHostKeyChecking=no", "--ssh-accept-new-host-key"},
                        Case{"UserKnownHostsFile=/dev/null", "--ssh-known-hosts"},
                        Case{"IdentityFile=/tmp/k", "--ssh-identity"},
                        Case{"RequestTTY=yes", "tty"},
                        Case{"LocalForward=1:2:3", "no ports"},
                        Case{"ControlMaster=auto", "outlive"},
                        Case{"SetEnv=WGOPT_STATE_DIR=/tmp", "peer's own"},
                        Case{"Port=abc", "--ssh-option Port=abc is not a port: use Port=1..65535"},
                        Case{"port=0", "is not a port"},
                        Case{"Port=70000", "is not a port"},
                        Case{"Port=123456", "is not a port"},
                        Case{"Port=22\nProxyCommand=x", "control character"},
                        Case{"Port", "KEY=VALUE"},
                        Case{"=22", "KEY=VALUE"},
                        Case{"Po rt=22", "KEY=VALUE"},
                        Case{"ProxyJump=-oProxyCommand=x", "ProxyJump"}}) {
    INFO(c.option);
    auto o = base();
    o.options = {c.option};
    try {
      validate(o);
      FAIL("accepted");
    } catch (const UsageError& e) {
      CHECK_THAT(e.what(), Catch::Contains(c.mentions));
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("every word that reaches the peer's shell is plain; targets and paths are checked", "[peer][ssh]") {
  for (const auto& bad : {"wgopt; rm -rf /", "$(reboot)", "`id`", "a b", "x'y", "x\"y", "a|b", "a&b", "~/wgopt", "a\nb",
                          "", "*", "a>b"}) {
    INFO(bad);
    CHECK_THROWS_AS(require_remote_safe(bad, "word"), UsageError);
  }
  for (const auto& good : {"wgopt", "/usr/local/bin/wgopt", "/opt/wgopt-0.1.0/bin/wgopt", "__agent", "--log-level=debug"}) {
    CHECK_NOTHROW(require_remote_safe(good, "word"));
  }
  auto o = base();
  o.peer_wgopt = "/opt/my wgopt";
  CHECK_THROWS_WITH(validate(o), Catch::Contains("--peer-wgopt") && Catch::Contains("shell"));
  o.peer_wgopt = "-oProxyCommand=x";
  CHECK_THROWS_AS(validate(o), UsageError);
  o.peer_wgopt = "X=1";
  CHECK_THROWS_AS(validate(o), UsageError);

  for (const auto& t : {"-oProxyCommand=x", "root@-x", "root@", "@host", "ro ot@host", "root@ho;st", "a@b@c d", ""}) {
    INFO(t);
    CHECK_THROWS_AS(parse_ssh_target(t), UsageError);
  }
  CHECK(parse_ssh_target("198.18.0.1").user.empty());
  CHECK(parse_ssh_target("admin@peer-2.example.com").host == "peer-2.example.com");
  CHECK(parse_ssh_target("root@fe80::1%eth0").host == "fe80::1%eth0");
  CHECK(parse_ssh_target("root@2001:db8::1").host == "2001:db8::1");
  // What ssh's own command line takes and --ssh does not is named with the way to say it.
  CHECK_THROWS_WITH(parse_ssh_target("root@127.0.0.1:2222"),
                    "--ssh 'root@127.0.0.1:2222' names a port: give it with --ssh-option Port=2222 and --ssh root@127.0.0.1");
  CHECK_THROWS_WITH(parse_ssh_target("ssh://root@127.0.0.1:2222"), Catch::StartsWith("--ssh 'ssh://root@127.0.0.1:2222' is a URL: give "
                                                                                     "[USER@]HOST"));

  o = base();
  o.identity = "/nonexistent/key";
  CHECK_THROWS_WITH(validate(o), Catch::Contains("--ssh-identity /nonexistent/key"));
  o = base();
  o.known_hosts = "/tmp/my hosts";
  CHECK_THROWS_WITH(validate(o), Catch::Contains("--ssh-known-hosts") && Catch::Contains("space"));
  o.known_hosts = "/tmp/kh-%u";
  CHECK_THROWS_AS(validate(o), UsageError);
  o = base();
  o.known_hosts = "/nonexistent/dir/known_hosts";
  CHECK_THROWS_WITH(validate(o), Catch::Contains("/nonexistent/dir"));
}

TEST_CASE("ssh failures become one line naming the host and the fix, usage vs runtime", "[peer][ssh]") {
  const auto o = base();
  struct Case {
    int code;
    std::string fixture;
    bool usage;
    std::string mentions;
  };
  for (const auto& c : {Case{255, "unknown-host-key.txt", true, "--ssh-accept-new-host-key"},
                        Case{255, "changed-host-key.txt", false, "CHANGED"},
                        Case{255, "auth-refused.txt", false, "authorized_keys"},
                        Case{255, "connection-refused.txt", false, "start sshd"},
                        Case{255, "connect-timeout.txt", false, "timed out"},
                        Case{127, "no-wgopt.txt", false, "no wgopt at '/usr/local/bin/wgopt'"},
                        Case{255, "unresolvable.txt", true, "cannot resolve"}}) {
    INFO(c.fixture);
    auto f = classify_ssh_failure(o, {.code = c.code}, fixture(c.fixture));
    CHECK(f.usage == c.usage);
    CHECK_THAT(f.message, Catch::Contains(c.mentions));
    CHECK_THAT(f.message, Catch::Contains("198.18.0.1"));
    CHECK(f.message.find('\n') == std::string::npos);
  }
  auto f = classify_ssh_failure(o, {.code = 2}, "wgopt: error: The following argument was not expected: __agent\n");
  CHECK_THAT(f.message, Catch::Contains("exited 2") && Catch::Contains("not expected: __agent"));
  // The key given with --ssh-identity refused: that key is named, not the option already given.
  auto with_key = base();
  with_key.identity = "/root/.ssh/peer_ed25519";
  f = classify_ssh_failure(with_key, {.code = 255}, fixture("auth-refused.txt"));
  CHECK_THAT(f.message, Catch::Contains("with the key /root/.ssh/peer_ed25519") &&
                            Catch::Contains("ssh-copy-id -i /root/.ssh/peer_ed25519.pub") && !Catch::Contains("pass --ssh-identity"));
  // A refused connection on the port given with --ssh-option Port=N names that port, not the advice
  // to give one (found by an exploratory test).
  auto on_port = base();
  on_port.options = {"Port=2222"};
  f = classify_ssh_failure(on_port, {.code = 255}, "ssh: connect to host 198.18.0.1 port 2222: Connection refused\n");
  CHECK_THAT(f.message, Catch::Contains("198.18.0.1 port 2222 was refused") && Catch::Contains("fix --ssh-option Port=2222") &&
                            !Catch::Contains("give its port"));
  // The port ssh tried is the one named, wherever it came from: ssh's own line says it (found in
  // review: a Port in ~/.ssh/config was not named).
  f = classify_ssh_failure(o, {.code = 255}, "ssh: connect to host 198.18.0.1 port 2200: Connection refused\n");
  CHECK(f.message == "ssh to 198.18.0.1 port 2200 was refused (nothing listens there): start sshd on the peer, or give its port with "
                     "--ssh-option Port=N");
  // With ProxyJump the refusal may be the jump host's: its port is not the target's.
  f = classify_ssh_failure(o, {.code = 255}, "ssh: connect to host jump.example port 22: Connection refused\n");
  CHECK_THAT(f.message, Catch::StartsWith("ssh to 198.18.0.1 was refused") && !Catch::Contains("port 22"));
  f = classify_ssh_failure(o, {.code = 255}, "kex_exchange_identification: Connection refused\n");
  CHECK(f.message == "ssh to 198.18.0.1 was refused (nothing listens on its ssh port): start sshd on the peer, or give its port with "
                     "--ssh-option Port=N");
}

// An established session's end: the stderr tail holds the agent's log lines too, which are not
// ssh's error (found by an exploratory test: "ssh to 198.18.0.1 failed: info: guardian pid 8111
// watches this agent" for an agent killed mid-search).
TEST_CASE("an established session's end is told from ssh's own message, not the agent's last log line") {
  SshOptions o;
  o.target = "root@198.18.0.1";
  const std::string logs = "[info] guardian pid 8111 watches this agent (state /var/lib/wgopt)\n";
  CHECK(describe_session_end(o, {.code = 255}, logs) ==
        "the wgopt agent on 198.18.0.1 ended without a word (killed, or its sshd session ended); its guardian restores what it "
        "had applied");
  CHECK(describe_session_end(o, {.code = 255}, logs + "Timeout, server 198.18.0.1 not responding.\n") ==
        "the ssh connection to 198.18.0.1 ended (Timeout, server 198.18.0.1 not responding.)");
  CHECK(describe_session_end(o, {.code = 255}, logs + "Connection to 198.18.0.1 closed by remote host.\n") ==
        "the ssh connection to 198.18.0.1 ended (Connection to 198.18.0.1 closed by remote host.)");
  CHECK(describe_session_end(o, {.code = 1}, logs + "wgopt: error: journal damaged\n") ==
        "the wgopt agent on 198.18.0.1 exited 1 (wgopt: error: journal damaged)");
  CHECK(describe_session_end(o, {.signal = 9}, logs) == "the ssh session to 198.18.0.1 was ended by signal 9");
}

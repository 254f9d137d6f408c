// Other tuners on the host: detection from /proc and /etc on the fake host (fixtures in
// tests/fixtures/actuators/tuners, with and without systemd and tuned-adm), a real process named
// irqbalance found in this machine's /proc, and the pure policy for each case.
#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "actuators/catalog.hpp"
#include "actuators/host.hpp"
#include "actuators/host_tuners.hpp"
#include "actuators/transaction.hpp"
#include "common/processes.hpp"
#include "tests/actuators/test_knobs_fake.hpp"

using namespace wgopt;
using namespace wgopt::act;
namespace fs = std::filesystem;
using Catch::Contains;

extern char** environ;

namespace {

const Tuner* find(const std::vector<Tuner>& ts, TunerKind k) {
  for (const auto& t : ts) {
    if (t.kind == k) return &t;
  }
  return nullptr;
}

Tuner irqbalance(std::string unit_state = "active") {
  return {.kind = TunerKind::Irqbalance, .name = "irqbalance", .pids = {812}, .unit_state = std::move(unit_state), .evidence = "/proc"};
}

}  // namespace

TEST_CASE("no tuner on the fake host's tree: nothing found, nothing to say") {
  test::FakeHost fake(2);
  fake.tools->systemd = false;
  auto found = detect_tuners(fake.host);
  CHECK(found.empty());
  CHECK(decide_tuners(found, {.searches_irq_affinity = true}).lines.empty());
  CHECK(fake.tools->unexpected.empty());
}

TEST_CASE("processes are found by comm, by argv[0], and by an interpreter's script, never by a mere argument") {
  test::FakeHost fake(2);
  for (const char* dir : {"tuners/irqbalance", "tuners/tuned", "tuners/bpftune", "tuners/other"}) fake.overlay(dir);
  CHECK(pids_named(*fake.files, "/proc", "irqbalance") == std::vector<int>{812});  // not 555: `sleep irqbalance`
  CHECK(pids_named(*fake.files, "/proc", "bpftune") == std::vector<int>{777});
  fake.files->write("/proc/901/comm", "python3");  // as if comm said nothing useful: the script's name
  CHECK(pids_named(*fake.files, "/proc", "tuned") == std::vector<int>{901});
  CHECK(pids_named(*fake.files, "/proc", "sleep") == std::vector<int>{555});
}

TEST_CASE("irqbalance found from /proc; its unit state from systemctl only where systemd answers") {
  test::FakeHost fake(2);
  fake.overlay("tuners/irqbalance");
  auto found = detect_tuners(fake.host);
  REQUIRE(found.size() == 1);
  CHECK(found[0].kind == TunerKind::Irqbalance);
  CHECK(found[0].pids == std::vector<int>{812});
  CHECK(found[0].unit_state == "active");
  fake.tools->systemd = false;  // this VM: systemctl exists, systemd does not run
  found = detect_tuners(fake.host);
  REQUIRE(found.size() == 1);
  CHECK(found[0].running());
  CHECK(found[0].unit_state.empty());
}

TEST_CASE("TuneD: the profile from tuned-adm when it is installed, else from /etc/tuned; the daemon from /proc") {
  test::FakeHost fake(2);
  fake.overlay("tuners/tuned");
  fake.tools->tuned_adm = "Current active profile: latency-performance\n";
  auto found = detect_tuners(fake.host);
  const Tuner* t = find(found, TunerKind::Tuned);
  REQUIRE(t);
  CHECK(t->profile == "latency-performance");
  CHECK(t->evidence == "tuned-adm active");
  CHECK(t->pids == std::vector<int>{901});
  CHECK(t->dynamic);
  // Without tuned-adm, or when it cannot tell (daemon down, no profile line): the file.
  fake.tools->tuned_adm = "Cannot talk to TuneD daemon via DBus. Is TuneD daemon running?\n";
  t = find(found = detect_tuners(fake.host), TunerKind::Tuned);
  REQUIRE(t);
  CHECK(t->profile == "throughput-performance");
  CHECK(t->evidence == "/etc/tuned/active_profile");
  auto lines = decide_tuners(found, {}).lines;
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Contains("TuneD (pid 901, profile throughput-performance)") && Contains("dynamic tuning"));

  test::FakeHost stopped(2);
  stopped.overlay("tuners/tuned-stopped");
  found = detect_tuners(stopped.host);
  REQUIRE(found.size() == 1);
  CHECK_FALSE(found[0].running());
  CHECK(found[0].profile == "virtual-guest");
  CHECK_THAT(decide_tuners(found, {}).lines.at(0), Contains("is selected") && Contains("tuned does not run"));
}

TEST_CASE("bpftune found from /proc; its line depends on whether the search writes sysctls") {
  test::FakeHost fake(2);
  fake.overlay("tuners/bpftune");
  auto found = detect_tuners(fake.host);
  REQUIRE(found.size() == 1);
  CHECK(found[0].name == "bpftune");
  auto with = decide_tuners(found, {.searches_sysctls = true});
  REQUIRE(with.lines.size() == 1);
  CHECK_THAT(with.lines[0], Contains("bpftune (pid 777)") && Contains("turns that tuner off until bpftune restarts"));
  CHECK_FALSE(with.refusal);
  CHECK_THAT(decide_tuners(found, {}).lines.at(0), Contains("its tuners stay on"));
}

TEST_CASE("policy: IRQ affinity is not searched while irqbalance runs unless the user lets wgopt stop it, and wgopt can") {
  SECTION("not searching IRQ affinity: a line, no refusal, nothing held") {
    auto d = decide_tuners({irqbalance()}, {.searches_irq_affinity = false});
    REQUIRE(d.lines.size() == 1);
    CHECK_THAT(d.lines[0], Contains("leave IRQ affinity to it"));
    CHECK_FALSE(d.refusal);
    CHECK(d.hold.empty());
  }
  SECTION("searching it without leave: refused, naming the flag and the alternative") {
    auto d = decide_tuners({irqbalance()}, {.searches_irq_affinity = true, .irqbalance_stoppable = true});
    REQUIRE(d.refusal);
    CHECK_THAT(*d.refusal, Contains("irqbalance is running (pid 812)") && Contains("--stop-irqbalance") &&
                               Contains("--exclude '*/irq_affinity'"));
    CHECK(d.hold.empty());
  }
  SECTION("searching it with leave, systemd runs it: held inactive for the search, out of the space") {
    auto d = decide_tuners({irqbalance()}, {.searches_irq_affinity = true, .stop_irqbalance = true, .irqbalance_stoppable = true});
    CHECK_FALSE(d.refusal);
    REQUIRE(d.hold.size() == 1);
    CHECK(d.hold[0].id == "irqbalance");
    CHECK(d.hold[0].value == "inactive");
    CHECK(d.exclude == std::vector<std::string>{"irqbalance"});
    CHECK_THAT(d.lines.at(0), Contains("wgopt stops it for this search"));
  }
  SECTION("with leave, no systemd, the init script runs it (this VM with Debian's irqbalance): held inactive") {
    Tuner t = irqbalance("");
    t.manager = "/etc/init.d/irqbalance";
    auto d = decide_tuners({t}, {.searches_irq_affinity = true, .stop_irqbalance = true, .irqbalance_stoppable = true});
    CHECK_FALSE(d.refusal);
    REQUIRE(d.hold.size() == 1);
    CHECK(d.hold[0].value == "inactive");
  }
  SECTION("with leave but neither systemd nor an init script, or a process systemd does not own: refused, stop it yourself") {
    auto d = decide_tuners({irqbalance("")}, {.searches_irq_affinity = true, .stop_irqbalance = true, .irqbalance_stoppable = false});
    REQUIRE(d.refusal);
    CHECK_THAT(*d.refusal, Contains("cannot stop and restart it (neither systemd nor /etc/init.d/irqbalance runs it here)") &&
                               Contains("stop it yourself"));
    d = decide_tuners({irqbalance("inactive")}, {.searches_irq_affinity = true, .stop_irqbalance = true, .irqbalance_stoppable = true});
    REQUIRE(d.refusal);
    CHECK_THAT(*d.refusal, Contains("irqbalance.service is inactive"));
  }
}

TEST_CASE("held irqbalance=inactive goes through the irqbalance knob and the journal, and comes back") {
  test::FakeHost fake(2);
  fake.overlay("tuners/irqbalance");
  auto tuners = detect_tuners(fake.host);
  auto knob = find_knob(fake.host, "irqbalance");
  const auto p = knob->presence();
  auto d = decide_tuners(tuners, {.searches_irq_affinity = true, .stop_irqbalance = true, .irqbalance_stoppable = p.present && p.writable});
  if (!p.writable) {
    // Not root: the knob says so, and the policy refuses rather than pretending.
    REQUIRE(d.refusal);
    return;
  }
  REQUIRE_FALSE(d.refusal);
  test::FakeSession session(fake);
  std::vector<KnobPtr> knobs;
  knobs.push_back(std::move(knob));
  Transaction tx(*session, fake.host, knobs);
  tx.apply(d.hold);
  tx.keep();
  CHECK(fake.tools->irqbalance == "inactive");
  auto report = session->rollback_all();  // the end of the search, or `wgopt rollback`
  CHECK(report.ok());
  CHECK(fake.tools->irqbalance == "active");
}

TEST_CASE("without systemd, Debian's init script stops irqbalance for the search and starts it again on rollback") {
  test::FakeHost fake(2);
  fake.tools->systemd = false;
  fake.overlay("tuners/irqbalance");
  fake.overlay("tuners/irqbalance-initd");
  auto tuners = detect_tuners(fake.host);
  REQUIRE(tuners.size() == 1);
  CHECK(tuners[0].unit_state.empty());
  CHECK(tuners[0].manager == "/etc/init.d/irqbalance");
  auto knob = find_knob(fake.host, "irqbalance");
  const auto p = knob->presence();
  REQUIRE(p.present);
  REQUIRE(p.writable);  // the unit tests run as root (the knob needs root to act)
  CHECK(knob->read() == "active");
  auto d = decide_tuners(tuners, {.searches_irq_affinity = true, .stop_irqbalance = true, .irqbalance_stoppable = true});
  REQUIRE_FALSE(d.refusal);
  test::FakeSession session(fake);
  std::vector<KnobPtr> knobs;
  knobs.push_back(std::move(knob));
  Transaction tx(*session, fake.host, knobs);
  tx.apply(d.hold);
  tx.keep();
  CHECK(pids_named(*fake.files, "/proc", "irqbalance").empty());
  CHECK(fake.tools->log.back() == std::vector<std::string>{"/etc/init.d/irqbalance", "stop"});
  auto report = session->rollback_all();
  CHECK(report.ok());
  CHECK(pids_named(*fake.files, "/proc", "irqbalance") == std::vector<int>{812});
  CHECK(fake.tools->unexpected.empty());
}

TEST_CASE("an irqbalance that exited and is not reaped yet (a zombie) does not run") {
  test::FakeHost fake(2);
  fake.overlay("tuners/irqbalance");
  std::ofstream(fake.root / "proc/812/stat") << ("812 (irqbalance) S 1 812 812 0 -1 4194624 0 0 0 0\n");
  CHECK(pids_named(*fake.files, "/proc", "irqbalance") == std::vector<int>{812});
  std::ofstream(fake.root / "proc/812/stat") << ("812 (irqbalance) Z 1 812 812 0 -1 4227084 0 0 0 0\n");
  CHECK(pids_named(*fake.files, "/proc", "irqbalance").empty());
}

TEST_CASE("no systemd and no init script: the irqbalance knob is absent and says why") {
  test::FakeHost fake(2);
  fake.tools->systemd = false;
  fake.overlay("tuners/irqbalance");
  auto knob = find_knob(fake.host, "irqbalance");
  CHECK_FALSE(knob->presence().present);
  CHECK_THAT(knob->presence().why_not, Contains("no /etc/init.d/irqbalance"));
}

TEST_CASE("a real process named irqbalance is found in this machine's /proc") {
  // A copy of sleep renamed irqbalance: comm and argv[0] both say irqbalance; it lives a moment.
  char tmpl[] = "/tmp/wgopt-fake-irqbalance-XXXXXX";
  const fs::path dir = ::mkdtemp(tmpl);
  const fs::path exe = dir / "irqbalance";
  fs::copy_file("/bin/sleep", exe);
  fs::permissions(exe, fs::perms::owner_all);
  std::string a0 = exe.string(), a1 = "30";
  char* argv[] = {a0.data(), a1.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, a0.c_str(), nullptr, nullptr, argv, environ) == 0);
  // exec happens in the child: wait until its comm is the new name.
  for (int i = 0; i < 200 && read_file("/proc/" + std::to_string(pid) + "/comm").value_or("") != "irqbalance\n"; ++i) ::usleep(5000);
  RootedFiles files("/");
  const auto pids = pids_named(files, "/proc", "irqbalance");
  auto tuners = detect_tuners(make_host(Place::host()));
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  fs::remove_all(dir);
  CHECK(std::find(pids.begin(), pids.end(), pid) != pids.end());
  const Tuner* t = find(tuners, TunerKind::Irqbalance);
  REQUIRE(t);
  CHECK(std::find(t->pids.begin(), t->pids.end(), pid) != t->pids.end());
}

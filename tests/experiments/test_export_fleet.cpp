// From one tuned SKU to a fleet (issue 12), the parts that run without root: the exported script's
// interface selection and bounded wait, the unit bound to the WireGuard interface (systemd-analyze
// verify), TuneD's directory and parent, the boot-files manifest, the Ansible role (Debian's
// ansible-playbook --syntax-check and its YAML loader), and retune's own peer and busy-server
// backoff. The runs against real hosts are tests/integration/test_fleet.cpp.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "actuators/profile.hpp"
#include "common/error.hpp"
#include "common/exec.hpp"
#include "common/files.hpp"
#include "common/util.hpp"
#include "experiments/export/export.hpp"
#include "experiments/export/export_escape.hpp"
#include "experiments/export/export_manifest.hpp"
#include "experiments/search/retune.hpp"
#include "experiments/search/retune_wait.hpp"
#include "tests/scratch_dir.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const std::string kFixture = std::string(WGOPT_FIXTURES_DIR) + "/export/profile.yaml";

act::Profile fixture() { return act::load_profile(kFixture); }

ExportOptions options() {
  ExportOptions o;
  o.profile_label = "profile.yaml";
  return o;
}

const ExportFile& file_named(const std::vector<ExportFile>& files, const std::string& suffix) {
  for (const auto& f : files) {
    if (f.path.ends_with(suffix)) return f;
  }
  FAIL("no exported file ends with " << suffix);
  throw std::logic_error("unreachable");
}

CommandResult run(const std::vector<std::string>& argv, int timeout_s = 120) {
  ProcessRunner r;
  return r.run({.argv = argv, .timeout = std::chrono::seconds(timeout_s)});
}

void write(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

}  // namespace

TEST_CASE("fleet: systemd_escape names devices as systemd does", "[export][fleet]") {
  CHECK(exportfmt::systemd_escape("wt0") == "wt0");
  CHECK(exportfmt::systemd_escape("wg-cli") == "wg\\x2dcli");
  CHECK(exportfmt::systemd_escape(".x_y:z") == "\\x2ex_y:z");
  if (!find_executable("systemd-escape").empty()) {
    for (const std::string name : {"wt0", "wgt6-wc", "eth0.100", "a_b"}) {
      auto r = run({"systemd-escape", name});
      CHECK(trim(r.out) == exportfmt::systemd_escape(name));
    }
    // A device's unit is named from its path, where only the path's first character is at the start
    // (found by an exploratory test: BindsTo named ...-\x2ewg.device, a unit never pulled in).
    for (const std::string name : {".wg", "wt0", "a-b"}) {
      auto r = run({"systemd-escape", "--path", "/sys/subsystem/net/devices/" + name});
      CHECK(trim(r.out) == "sys-subsystem-net-devices-" + exportfmt::systemd_escape(name, false));
    }
  }
}

TEST_CASE("fleet: the WireGuard interface gets a unit bound to its device; systemd-analyze verify accepts it", "[export][fleet]") {
  const auto files = render_export(fixture(), "systemd", options());
  REQUIRE(files.size() == 3);
  const ExportFile& unit = file_named(files, "wgopt-tuning-wt0.service");
  CHECK(unit.path == "etc/systemd/system/wgopt-tuning-wt0.service");
  CHECK_THAT(unit.content, Contains("\nBindsTo=sys-subsystem-net-devices-wt0.device\nAfter=sys-subsystem-net-devices-wt0.device\n"));
  CHECK_THAT(unit.content, Contains("\nExecStart=/usr/local/sbin/wgopt-tuning.sh --interface wt0\n"));
  CHECK_THAT(unit.content, Contains("\n[Install]\nWantedBy=sys-subsystem-net-devices-wt0.device\n"));
  // A testbed name with '-' is escaped in the device unit's name.
  const auto tb = act::parse_profile("knobs: {wgt6-wc/mtu: 1380, wgt6-uc/mtu: 1500}\nevidence: {plant: {testbed: wgt6}}\n", "p.yaml");
  const auto tb_files = render_export(tb, "systemd", options());
  const ExportFile& tu = file_named(tb_files, "wgopt-tuning-wgt6-wc.service");
  CHECK_THAT(tu.content, Contains("BindsTo=sys-subsystem-net-devices-wgt6\\x2dwc.device"));
  // No unit when the WireGuard interface has no setting.
  const auto none = act::parse_profile("knobs: {eth0/rps_cpus: \"1\", net.core.rmem_max: 4194304}\n", "p.yaml");
  CHECK(render_export(none, "systemd", options()).size() == 2);

  REQUIRE_FALSE(find_executable("systemd-analyze").empty());
  test::ScratchDir tmp("wgopt-fleet-verify");
  for (const auto* u : {&unit, &tu, &file_named(files, "wgopt-tuning.service")}) {
    std::string content = u->content;
    // verify wants ExecStart's program to exist: the exported script, copied here.
    const auto at = content.find("ExecStart=/usr/local/sbin/wgopt-tuning.sh");
    REQUIRE(at != std::string::npos);
    content.replace(at, std::string("ExecStart=/usr/local/sbin/wgopt-tuning.sh").size(), "ExecStart=" + (tmp / "wgopt-tuning.sh"));
    write(tmp / "wgopt-tuning.sh", files[1].content);
    fs::permissions(tmp / "wgopt-tuning.sh", fs::perms(0755));
    const std::string name = u->path.substr(u->path.rfind('/') + 1);
    write(tmp / name, content);
    auto r = run({"systemd-analyze", "verify", tmp / name});
    INFO(name << "\n" << r.out << r.err);
    CHECK(r.ok());
  }
}

TEST_CASE("fleet: the script applies one interface with --interface and waits, bounded, for a missing one", "[export][fleet]") {
  const auto p = act::parse_profile("knobs: {wgzz9/mtu: 1380, wgzz9/txqueuelen: 1000}\n", "p.yaml");
  test::ScratchDir tmp("wgopt-fleet-script");
  const std::string sh = tmp / "s.sh";
  write(sh, render_export(p, "systemd", options()).at(1).content);
  {  // Missing after the wait: one line naming the interface and the wait, nothing changed.
    const auto t0 = std::chrono::steady_clock::now();
    auto r = run({"env", "WGOPT_TUNING_WAIT=2", "sh", sh});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(r.exit_code == 1);
    CHECK(trim(r.err) == "wgopt-tuning: interface wgzz9 does not exist here (waited 2 s; see ip link): nothing was changed");
    CHECK(s >= 1.9);
    CHECK(s < 10);
  }
  {
    auto r = run({"env", "WGOPT_TUNING_WAIT=0", "sh", sh, "--interface", "wgzz9"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("interface wgzz9 does not exist here (waited 0 s"));
  }
  const std::vector<std::vector<std::string>> bads = {{"--interface", "eth0"}, {"--interface"}, {"-x", "y"}, {"--interface", "a", "b"}};
  for (const auto& bad : bads) {
    std::vector<std::string> argv{"env", "WGOPT_TUNING_WAIT=0", "sh", sh};
    argv.insert(argv.end(), bad.begin(), bad.end());
    auto r = run(argv);
    INFO(render_argv(argv) << ": " << r.err);
    CHECK(r.exit_code == 1);
    CHECK((r.err.find("has no settings for interface eth0") != std::string::npos || r.err.find("usage:") != std::string::npos));
  }
  auto w = run({"env", "WGOPT_TUNING_WAIT=soon", "sh", sh});
  CHECK(w.exit_code == 1);
  CHECK_THAT(w.err, Contains("WGOPT_TUNING_WAIT='soon' is not a whole number of seconds"));
}

TEST_CASE("fleet: TuneD's profile goes where that TuneD looks, as a child of the host's profile", "[export][fleet]") {
  ExportOptions o = options();
  auto conf = render_export(fixture(), "tuned", o).at(0);
  CHECK(conf.path == "etc/tuned/profiles/wgopt/tuned.conf");
  CHECK_THAT(conf.content, Contains("\ninclude=network-throughput\n"));
  o.tuned_version = "2.20.0";
  o.tuned_parent = "virtual-guest throughput-performance";
  conf = render_export(fixture(), "tuned", o).at(0);
  CHECK(conf.path == "etc/tuned/wgopt/tuned.conf");
  CHECK_THAT(conf.content, Contains("\ninclude=virtual-guest,throughput-performance\n"));
  CHECK(tuned_uses_profiles_dir("2.24"));
  CHECK(tuned_uses_profiles_dir("3.0"));
  CHECK_FALSE(tuned_uses_profiles_dir("2.23.9"));
  for (const std::string bad : {"wgopt", "a;b", "${f:exec:id}", "", "a\nb"}) {
    o.tuned_parent = bad;
    INFO(bad);
    CHECK_THROWS_AS(render_export(fixture(), "tuned", o), UsageError);
  }
  o.tuned_parent = "balanced";
  o.tuned_version = "latest";
  CHECK_THROWS_WITH(render_export(fixture(), "tuned", o), Contains("--tuned-version 'latest' is not a TuneD version"));
}

TEST_CASE("fleet: --format all lists the boot files retune owns; the manifest reads back", "[export][fleet]") {
  const auto files = render_export(fixture(), "all", options());
  const ExportFile& m = file_named(files, "boot-files.yaml");
  CHECK(m.path == kManifestPath);
  const BootManifest b = parse_manifest(m.content, "boot-files.yaml");
  CHECK(b.formats == std::vector<std::string>{"sysctl", "systemd", "networkd", "tuned", "netbird"});
  CHECK(b.underlay == "eth0");
  CHECK(b.wireguard == "wt0");
  CHECK(b.files == std::vector<std::string>{"etc/sysctl.d/99-wgopt.conf", "etc/systemd/system/wgopt-tuning.service",
                                            "usr/local/sbin/wgopt-tuning.sh", "etc/systemd/system/wgopt-tuning-wt0.service",
                                            "etc/systemd/network/10-wgopt-eth0.link", "etc/tuned/profiles/wgopt/tuned.conf",
                                            "etc/wgopt/netbird-mtu.env"});
  // Re-rendered from a changed profile: the same files, the new values.
  auto p = fixture();
  for (auto& [id, v] : p.knobs) {
    if (id == "net.ipv4.tcp_rmem") v = "4096 262144 8388608";
    if (id == "wt0/txqueuelen") v = "3000";
  }
  const auto again = rerender_boot_files(p, b, "/etc/wgopt/profile.yaml").files;
  REQUIRE(again.size() == b.files.size() - 1);  // TuneD's profile: not installed (no `installed` reader)
  CHECK_THAT(file_named(again, "99-wgopt.conf").content, Contains("\nnet.ipv4.tcp_rmem = 4096 262144 8388608\n"));
  CHECK_THAT(file_named(again, "wgopt-tuning.sh").content, Contains("on 'wt0' run ip link set dev 'wt0' txqueuelen '3000'\n"));
  // TuneD's profile where the host has it, with the parents it include=s there; a format the new
  // profile leaves nothing to hold (no sysctl knob, no tunnel MTU) is to be removed, not kept stale.
  auto lean = p;
  std::erase_if(lean.knobs, [](const auto& k) { return k.first.starts_with("net.") || k.first == "wt0/mtu"; });
  const auto installed = [](const std::string& path) -> std::optional<std::string> {
    if (path == "etc/tuned/wgopt/tuned.conf") return "[main]\ninclude=virtual-guest,my-site\n";
    return std::nullopt;
  };
  const auto lean_render = rerender_boot_files(lean, b, "/etc/wgopt/profile.yaml", installed);
  CHECK(lean_render.remove == std::vector<std::string>{"etc/sysctl.d/99-wgopt.conf", "etc/wgopt/netbird-mtu.env"});
  const auto& tuned = file_named(lean_render.files, "tuned.conf");
  CHECK(tuned.path == "etc/tuned/wgopt/tuned.conf");
  CHECK_THAT(tuned.content, Contains("\ninclude=virtual-guest,my-site\n") && Contains("txqueuelen=3000"));
  CHECK_THAT(tuned.content, !Contains("[sysctl]"));
  for (const std::string bad : {"formats: [sysctl]\nfiles: [/etc/passwd]\n", "formats: [sysctl]\nfiles: [etc/sysctl.d/../../x]\n",
                                "formats: [timer]\nfiles: []\n", "formats: [sysctl]\nfiles: [etc/sysctl.d/99-wgopt.conf]\nunderlay: 'a;b'\n",
                                "- x\n", "files: [\n",
                                // a unit or .link name that climbs out of its directory
                                "formats: [systemd]\nfiles: [etc/systemd/system/wgopt-tuning.d/../../../../x.service]\n",
                                "formats: [networkd]\nfiles: [etc/systemd/network/10-wgopt-a/../../../../b.link]\n"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_manifest(bad, "m.yaml"), UsageError);
  }
}

TEST_CASE("fleet: the Ansible role passes ansible-playbook --syntax-check; its vars are data", "[export][fleet]") {
  const auto files = render_export(fixture(), "ansible", options());
  for (const std::string path : {"playbook.yml", "roles/wgopt/tasks/main.yml", "roles/wgopt/tasks/gate.yml", "roles/wgopt/tasks/apply.yml",
                                 "roles/wgopt/defaults/main.yml", "roles/wgopt/vars/main.yml", "roles/wgopt/meta/main.yml",
                                 "roles/wgopt/files/etc/sysctl.d/99-wgopt.conf", "roles/wgopt/files/etc/wgopt/profile.yaml",
                                 "roles/wgopt/files/etc/wgopt/boot-files.yaml", "roles/wgopt/files/usr/local/sbin/wgopt-tuning.sh",
                                 "roles/wgopt/files/etc/systemd/system/wgopt-tuning-wt0.service",
                                 "roles/wgopt/files/etc/systemd/system/wgopt-retune.timer"}) {
    INFO(path);
    CHECK(std::any_of(files.begin(), files.end(), [&](const ExportFile& f) { return f.path == path; }));
  }
  // The role installs the same bytes `--format all` exports (TuneD's comes with the host's parent).
  for (const auto& f : render_export(fixture(), "all", options())) {
    if (f.path.ends_with("tuned.conf")) continue;
    CHECK(file_named(files, "roles/wgopt/files/" + f.path).content == f.content);
  }
  const std::string vars = file_named(files, "vars/main.yml").content;
  CHECK_THAT(vars, Contains("wgopt_tuned_head: !unsafe \"# Generated by"));
  CHECK_THAT(vars, Contains("wgopt_units: [\"wgopt-tuning.service\", \"wgopt-tuning-wt0.service\"]"));

  REQUIRE_FALSE(find_executable("ansible-playbook").empty());  // scripts/install-deps.sh installs Debian's ansible
  test::ScratchDir tmp("wgopt-fleet-ansible");
  for (const auto& f : files) write(tmp / f.path, f.content);
  write(tmp / "inventory.ini", "[fleet]\nh1 ansible_connection=local\n");
  auto r = run({"env", "ANSIBLE_NOCOLOR=1", "ANSIBLE_LOCAL_TEMP=" + (tmp / "ansible-tmp"), "ansible-playbook", "-i", tmp / "inventory.ini",
                tmp / "playbook.yml", "--syntax-check"});
  INFO(r.out << r.err);
  CHECK(r.ok());
  CHECK(r.err.find("WARNING") == std::string::npos);
  // Ansible's own YAML loader: the TuneD text comes back whole, as AnsibleUnsafeText.
  const std::string py =
      "import sys\n"
      "from ansible.parsing.yaml.loader import AnsibleLoader\n"
      "from ansible.utils.unsafe_proxy import AnsibleUnsafeText\n"
      "d = AnsibleLoader(open(sys.argv[1]).read()).get_single_data()\n"
      "print(type(d['wgopt_tuned_head']).__name__, isinstance(d['wgopt_tuned_tail'], AnsibleUnsafeText))\n"
      "sys.stdout.write(d['wgopt_tuned_head'] + 'include=X\\n' + d['wgopt_tuned_tail'])\n";
  auto y = run({"/usr/bin/python3", "-c", py, tmp / "roles/wgopt/vars/main.yml"});
  INFO(y.err);
  REQUIRE(y.ok());
  ExportOptions o = options();
  o.tuned_parent = "X";
  CHECK(y.out == "AnsibleUnsafeText True\n" + render_export(fixture(), "tuned", o).at(0).content);
}

TEST_CASE("fleet: a peer's exported profile holds the peer's host facts, which its own gate reads", "[export][fleet]") {
  // Found in review: `export --host peer` copied the peer's ssh/hostname/mode/interfaces into the
  // profile's host:, which the role's gate (wgopt facts --profile) then refused on every peer.
  test::ScratchDir tmp("wgopt-fleet-peer");
  write(tmp / "both.yaml",
        "host: {kernel: 6.18.0, nproc: 2, sku: s, nic_driver: virtio_net, wireguard_mode: userspace, underlay: eth0, wireguard: wt0, "
        "place: host}\n"
        "knobs: {net.ipv4.tcp_rmem: 4096 131072 8388608, wt0/txqueuelen: 2000}\n"
        "peer:\n"
        "  host: {ssh: root@10.0.0.2, hostname: far, kernel: 6.1.0, nproc: 4, sku: t, nic_driver: ena, wireguard_mode: kernel, "
        "mode: per-end, interfaces: {eth0: ens5, wt0: wg1}}\n"
        "  knobs: {net.ipv4.tcp_rmem: 4096 131072 16777216, wg1/txqueuelen: 3000}\n"
        "evidence: {objective: 'duration: 3s', plant: {peer: 100.64.0.1, port: 5202, ssh: root@10.0.0.2}}\n");
  auto r = run({WGOPT_BINARY, "export", tmp / "both.yaml", "--host", "peer", "--format", "ansible", "--out", tmp / "out"});
  INFO(r.out << r.err);
  REQUIRE(r.ok());
  const act::Profile p = act::load_profile(tmp / "out/roles/wgopt/files/etc/wgopt/profile.yaml");
  std::vector<std::string> keys;
  for (const auto& kv : p.host) keys.push_back(kv.first.Scalar());
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"kernel", "nic_driver", "nproc", "sku", "underlay", "wireguard", "wireguard_mode"});
  CHECK(p.host["underlay"].as<std::string>() == "ens5");  // the peer's own names of this end's interfaces
  CHECK(p.host["wireguard"].as<std::string>() == "wg1");
  CHECK(p.host["kernel"].as<std::string>() == "6.1.0");
  CHECK(p.knobs == std::vector<std::pair<std::string, std::string>>{{"net.ipv4.tcp_rmem", "4096 131072 16777216"}, {"wg1/txqueuelen", "3000"}});
  // The plant's peer was the peer host itself: only the port stays (its retune gets its own --peer).
  REQUIRE(p.evidence["plant"].IsMap());
  CHECK_FALSE(p.evidence["plant"]["peer"]);
  CHECK_FALSE(p.evidence["plant"]["ssh"]);
  CHECK(p.evidence["plant"]["port"].as<int>() == 5202);
  // A bad value in the peer's part is named as the peer's (it read as this end's profile).
  write(tmp / "bad.yaml", "knobs: {net.ipv4.tcp_rmem: 4096 131072 8388608}\npeer:\n  knobs: {net.ipv4.tcp_rmem: 4096 131072}\n");
  r = run({WGOPT_BINARY, "export", tmp / "bad.yaml", "--host", "peer", "--format", "sysctl"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("profile " + (tmp / "bad.yaml") + " (its peer: part): knob net.ipv4.tcp_rmem has value '4096 131072'"));
}

TEST_CASE("fleet: the role builds an image under wgopt_root: wgopt copied in, the units enabled inside it", "[export][fleet]") {
  // Found by an exploratory test: with wgopt_apply=false (an image or chroot) the copy of wgopt
  // failed without ROOT/usr/local/bin, and no unit was enabled, so the image's boot ran only the
  // sysctls. A damaged manifest there stopped every later rollout with Ansible's bare "FAILED".
  REQUIRE_FALSE(find_executable("ansible-playbook").empty());
  REQUIRE_FALSE(find_executable("systemctl").empty());  // Debian's systemd package: enables units inside a root offline
  test::ScratchDir tmp("wgopt-fleet-image");
  for (const auto& f : render_export(fixture(), "ansible", options())) write(fs::path(tmp / "ans") / f.path, f.content);
  const std::string root = tmp / "root";
  fs::create_directories(root);
  auto playbook = [&](std::vector<std::string> more, const std::string& role_dir = "") {
    std::vector<std::string> argv{"env", "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0", "ANSIBLE_LOCAL_TEMP=" + (tmp / "atmp"),
                                  "ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=/usr/bin/python3",
                                  "-e", "wgopt_apply=false", "-e", "wgopt_root=" + root, "-e", "wgopt_binary_src=" WGOPT_BINARY,
                                  "-e", "wgopt_path=/usr/local/bin/wgopt", (role_dir.empty() ? tmp / "ans" : role_dir) + "/playbook.yml"};
    argv.insert(argv.end(), more.begin(), more.end());
    auto r = run(argv, 300);
    UNSCOPED_INFO("ansible-playbook " << render_argv(more) << ": " << r.brief() << "\n" << r.out << r.err);
    return r;
  };
  {
    auto r = playbook({});
    REQUIRE(r.ok());
    CHECK(fs::exists(root + "/usr/local/bin/wgopt"));
    CHECK(fs::read_symlink(root + "/etc/systemd/system/multi-user.target.wants/wgopt-tuning.service") ==
          "/etc/systemd/system/wgopt-tuning.service");
    CHECK(fs::is_symlink(root + "/etc/systemd/system/sys-subsystem-net-devices-wt0.device.wants/wgopt-tuning-wt0.service"));
    CHECK(fs::is_symlink(root + "/etc/systemd/system/timers.target.wants/wgopt-retune.timer"));
    CHECK_THAT(r.out, Contains("the units are enabled inside " + root + " (systemctl --root): its boot runs them; nothing applied "
                               "to this machine (wgopt_apply is false)"));
  }
  {  // A profile without evidence rolled out over it: the earlier timer is disabled (it ran a retune
     // every night that refused the new profile; found by an exploratory test), the units stay enabled.
    act::Profile bare = fixture();
    bare.evidence = YAML::Node();
    const std::string ans = tmp / "ans-bare";
    for (const auto& f : render_export(bare, "ansible", options())) write(fs::path(ans) / f.path, f.content);
    auto r = playbook({}, ans);
    REQUIRE(r.ok());
    CHECK_FALSE(fs::is_symlink(root + "/etc/systemd/system/timers.target.wants/wgopt-retune.timer"));
    CHECK(fs::is_symlink(root + "/etc/systemd/system/multi-user.target.wants/wgopt-tuning.service"));
    CHECK_THAT(r.out, Contains("Disable inside wgopt_root the retune timer an earlier rollout enabled"));
    // A second rollout of it has no timer link to remove: nothing changes.
    r = playbook({}, ans);
    REQUIRE(r.ok());
    CHECK_FALSE(fs::is_symlink(root + "/etc/systemd/system/timers.target.wants/wgopt-retune.timer"));
  }
  {  // A manifest changed by hand: warned about and replaced, the rollout goes on.
    write(root + "/etc/wgopt/boot-files.yaml", "files: \"x\"\n:\n  - [\n");
    auto r = playbook({});
    REQUIRE(r.ok());
    CHECK_THAT(r.out, Contains("warning: " + root + "/etc/wgopt/boot-files.yaml is not a manifest wgopt wrote"));
    CHECK_THAT(read_file(root + "/etc/wgopt/boot-files.yaml").value_or(""), Contains("wgopt-tuning.service"));
  }
  {  // A directory the files need is a file: the host fails with the reason, here under --check.
    fs::remove_all(root + "/etc/systemd/network");
    write(root + "/etc/systemd/network", "a file\n");
    auto r = playbook({"--check"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.out, Contains("the boot files were not all installed (Create the directories the files go to: ") &&
                          !Contains("One or more items failed") && Contains("nothing was changed (--check); the rollout stops here"));
  }
}

TEST_CASE("fleet: --format ansible refuses paths it cannot keep", "[export][fleet]") {
  ExportOptions o = options();
  o.profile_path = "/root/p.yaml";
  CHECK_THROWS_WITH(render_export(fixture(), "ansible", o), Contains("the role keeps the profile in /etc/wgopt/"));
  o.profile_path = "/etc/wgopt/p q.yaml";
  CHECK_THROWS_AS(render_export(fixture(), "ansible", o), UsageError);
}

TEST_CASE("retune: this host's own peer replaces the profile's plant", "[retune][fleet]") {
  auto p = act::parse_profile(
      "knobs: {wgt8-wc/mtu: 1380}\nevidence: {plant: {testbed: wgt8}, objective: \"duration: 3s\\n\", study: s.sqlite}\n", "p.yaml");
  RetuneOptions r;
  r.profile = "p.yaml";
  r.peer = "100.64.0.7";
  auto o = retune_search_options(r, p);
  CHECK_FALSE(o.testbed);
  CHECK(o.peer == "100.64.0.7");
  CHECK(o.port == 5201);
  CHECK(o.netns == "wgt8-cli");
  CHECK(o.interfaces == std::vector<std::string>{"wgt8-wc"});
  r.port = 5301;
  CHECK(retune_search_options(r, p).port == 5301);
  r.peer = "-oProxyCommand=x";
  CHECK_THROWS_WITH(retune_search_options(r, p), Contains("--peer '-oProxyCommand=x' is not an IPv4/IPv6 address or host name"));
  r.peer = "10.0.0.1";
  r.port = 70000;
  CHECK_THROWS_AS(retune_search_options(r, p), UsageError);
}

TEST_CASE("retune: a busy server is waited for with jittered backoff, within the budget", "[retune][fleet]") {
  BusyBackoff b;
  CHECK(backoff_delay(b, 1, 0.5) == Approx(15));
  CHECK(backoff_delay(b, 2, 0.5) == Approx(30));
  CHECK(backoff_delay(b, 10, 0.5) == Approx(240));
  CHECK(backoff_delay(b, 1, 0.0) == Approx(7.5));
  CHECK(backoff_delay(b, 1, 0.999999) == Approx(22.5).epsilon(0.001));

  std::atomic<bool> interrupted{false};
  double clock = 0;
  int busy_left = 0, runs = 0;
  std::vector<std::string> budgets, said;
  RetuneWaitEnv env;
  env.server_busy = [&](const SearchOptions&) { return busy_left > 0 ? (--busy_left, true) : false; };
  env.run = [&](const SearchOptions& o) {
    ++runs;
    budgets.push_back(o.budget);
    SearchReport r;
    r.outcome = SearchOutcome::Holds;
    return r;
  };
  env.now_s = [&] { return clock; };
  env.sleep = [&](double s) { clock += s; };
  env.uniform = [] { return 0.5; };
  env.say = [&](const std::string& l) { said.push_back(l); };
  SearchOptions o;
  o.peer = "100.64.0.1";
  o.budget = "20m";

  busy_left = 2;  // busy, busy, free: waits 15 + 30 s, then runs with what is left
  CHECK(run_retune_with_backoff(o, b, env, interrupted).outcome == SearchOutcome::Holds);
  CHECK(runs == 1);
  CHECK(budgets.back() == "1155s");
  REQUIRE(said.size() == 2);
  CHECK_THAT(said[0], Contains("iperf3 server 100.64.0.1:5201 is busy (another host measuring?): waiting 15 s (try 1)"));

  // Busy all night: gives up before the budget is gone, with one line, having run nothing.
  clock = 0;
  runs = 0;
  busy_left = 1000;
  CHECK_THROWS_WITH(run_retune_with_backoff(o, b, env, interrupted), Contains("iperf3 server 100.64.0.1:5201 stayed busy for"));
  CHECK(runs == 0);
  CHECK(clock < 20 * 60 - b.min_run_s);

  // The search failed while the server was busy (another host began mid-run): wait, run again.
  clock = 0;
  runs = 0;
  int calls = 0;
  env.run = [&](const SearchOptions&) -> SearchReport {
    if (++calls == 1) {
      busy_left = 1;
      throw Error("the baseline measurement failed: iperf3 server is busy");
    }
    SearchReport r;
    r.outcome = SearchOutcome::Holds;
    return r;
  };
  busy_left = 0;
  CHECK(run_retune_with_backoff(o, b, env, interrupted).outcome == SearchOutcome::Holds);
  CHECK(calls == 2);
  // Any other failure is the search's to report.
  env.run = [&](const SearchOptions&) -> SearchReport { throw Error("no route to peer"); };
  CHECK_THROWS_WITH(run_retune_with_backoff(o, b, env, interrupted), "no route to peer");
}

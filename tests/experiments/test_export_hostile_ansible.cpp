// `wgopt export --format ansible` fed hostile text (issue 12): Jinja (`{{ }}`, `{% %}`, `{# #}`),
// YAML structure, shell, newlines and Unicode line separators in every free-text field and the
// profile's file name. Debian's ansible-playbook must pass --syntax-check and run the role
// (ansible_connection=local, into a scratch root) without evaluating or running any of it: once
// with hostile host facts (the host is skipped, the reason shown literally), once with matching
// facts and hostile evidence (the whole role runs, the TuneD profile is written with the text in
// its comments). Nothing the text asks for happens: no mark file, no extra file, no changed knob.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "actuators/profile.hpp"
#include "common/exec.hpp"
#include "common/util.hpp"
#include "experiments/export/export.hpp"
#include "tests/scratch_dir.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

CommandResult run(const std::vector<std::string>& argv, int timeout_s = 300) {
  ProcessRunner r;
  return r.run({.argv = argv, .timeout = std::chrono::seconds(timeout_s)});
}

void write(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

// What Ansible, YAML or a shell might act on; every command touches `mark`.
std::string jinja_payload(const std::string& mark) {
  const std::string touch = "touch " + mark;
  return "x\n{{ lookup('ansible.builtin.pipe', '" + touch + "') }}\n{% set x = lookup('pipe', '" + touch + "') %}{{ x }}" +
         "{# c #}{{ '{{' }} !unsafe !!python/object/apply:os.system ['" + touch + "']\n- evil: 1\nkey: value\n" + "$(" + touch +
         ")`" + touch + "`;" + touch + "\r\xe2\x80\xa8" + touch + "\xc2\x85 %h ${f:exec:" + touch + "} '\"\\";
}

// nproc, kernel and SKU as `wgopt facts` reads them here: a profile with them matches this host.
nlohmann::json facts_here() {
  auto r = run({WGOPT_BINARY, "facts", "--json"});
  REQUIRE(r.ok());
  return nlohmann::json::parse(r.out)["host"];
}

std::string current_rmem() {
  std::ifstream in("/proc/sys/net/ipv4/tcp_rmem");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Recap line of host h1: "h1 : ok=N changed=M ...".
std::string recap_line(const std::string& out) {
  const auto at = out.rfind("\nh1 ");
  return at == std::string::npos ? "" : out.substr(at + 1, out.find('\n', at + 1) - at - 1);
}

}  // namespace

TEST_CASE("export hostile: the Ansible role never evaluates or runs profile text", "[export][hostile][ansible]") {
  REQUIRE_FALSE(find_executable("ansible-playbook").empty());  // scripts/install-deps.sh installs Debian's ansible
  test::ScratchDir tmp("wgopt-hostile-ansible");
  const std::string mark = tmp / "ran";
  const std::string text = jinja_payload(mark);
  const auto here = facts_here();

  for (const bool matching : {false, true}) {
    SECTION(matching ? "matching facts, hostile evidence: the role runs" : "hostile facts: the host is skipped") {
      YAML::Node host(YAML::NodeType::Map);
      host["nproc"] = here["nproc"].get<int>();
      host["kernel"] = here["kernel"].get<std::string>();
      host["sku"] = matching ? here["sku"].get<std::string>() : text;
      host["place"] = "host";  // a place is refused unless it is one (test_host_gate): the text is in sku
      YAML::Node ev(YAML::NodeType::Map);
      for (const char* key : {"study", "outcome", "created", "confirmation", "objective"}) ev[key] = text;
      act::Profile p;
      p.knobs = {{"net.ipv4.tcp_rmem", current_rmem()}};  // this host's value: nothing to change
      p.host = host;
      p.evidence = ev;
      ExportOptions o;
      o.profile_label = "p\n{{ lookup('pipe', 'touch " + mark + "') }}.yaml";
      const fs::path out = tmp / (matching ? "run" : "skip");
      for (const auto& f : render_export(p, "ansible", o)) write(out / f.path, f.content);
      const fs::path root = out / "root";
      write(root / "etc/tuned/active_profile", "balanced\n");
      write(out / "inventory.ini", "[fleet]\nh1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3 wgopt_root=" +
                                       root.string() + " wgopt_path=" WGOPT_BINARY "\n");
      fs::create_directories(out / "state");
      const std::vector<std::string> env{"env", "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0",
                                         "ANSIBLE_LOCAL_TEMP=" + (out / "atmp").string(), "WGOPT_STATE_DIR=" + (out / "state").string()};
      auto cmd = [&](std::vector<std::string> more) {
        std::vector<std::string> argv = env;
        argv.insert(argv.end(), {"ansible-playbook", "-i", (out / "inventory.ini").string(), (out / "playbook.yml").string()});
        argv.insert(argv.end(), more.begin(), more.end());
        return run(argv);
      };
      auto syntax = cmd({"--syntax-check"});
      INFO(syntax.out << syntax.err);
      CHECK(syntax.ok());
      auto r = cmd({"--diff"});
      INFO(r.out << r.err);
      REQUIRE(r.ok());
      CHECK_THAT(recap_line(r.out), Contains("failed=0"));
      if (!matching) {
        // The reason, shown as text (Ansible prints the message JSON-escaped).
        CHECK_THAT(r.out, Contains("h1 skipped, nothing changed: sku: profile x\\") && Contains("{{ lookup('ansible.builtin.pipe', 'touch"));
        CHECK_THAT(recap_line(r.out), Contains("changed=0"));
        CHECK_FALSE(fs::exists(root / "etc/wgopt"));
      } else {
        // The whole role ran: files in place, TuneD's child profile with the text only in comments.
        CHECK(fs::exists(root / "etc/sysctl.d/99-wgopt.conf"));
        CHECK(fs::exists(root / "etc/wgopt/profile.yaml"));
        CHECK(act::load_profile((root / "etc/wgopt/profile.yaml").string()).evidence["study"].Scalar() == text);
        std::ifstream in(root / "etc/tuned/wgopt/tuned.conf");
        const std::string tuned{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        CHECK_THAT(tuned, Contains("\ninclude=balanced\n"));
        CHECK_THAT(tuned, Contains("# Study x\\n{{ lookup('ansible.builtin.pipe', 'touch"));
        for (const auto& line : split_lines(tuned)) {
          // Comments, and the summary (the study, encoded as test_export_hostile.cpp checks).
          if (line.find("touch") == std::string::npos) continue;
          INFO(line);
          CHECK((line.starts_with("#") || (line.starts_with("summary=") && line.find_first_of("{}$`'\"") == std::string::npos)));
        }
        CHECK(current_rmem() == p.knobs[0].second);
        auto again = cmd({});
        INFO(again.out);
        CHECK_THAT(recap_line(again.out), Contains("changed=0"));
      }
      CHECK_FALSE(fs::exists(mark));
    }
  }
  CHECK_FALSE(fs::exists(mark));
}

TEST_CASE("export ansible: wgopt_apply=false installs under wgopt_root and neither gates nor tunes this machine",
          "[export][ansible]") {
  REQUIRE_FALSE(find_executable("ansible-playbook").empty());  // scripts/install-deps.sh installs Debian's ansible
  test::ScratchDir tmp("wgopt-ansible-image");
  const fs::path out = tmp / "x", root = tmp / "image", log = tmp / "calls";
  const std::string stub = (root / "usr/local/bin/wgopt").string();  // in the image, where its units run it
  // A wgopt that records every call and fails: the role must not run it at all.
  write(stub, "#!/bin/sh\necho \"$*\" >> " + log.string() + "\nexit 1\n");
  fs::permissions(stub, fs::perms::owner_all);
  act::Profile p;
  p.knobs = {{"net.ipv4.tcp_rmem", "4096 87381 1234567"}};  // not this host's value
  YAML::Node host(YAML::NodeType::Map);
  host["nproc"] = 4096;  // a host of another kind: the gate would skip it
  p.host = host;
  for (const auto& f : render_export(p, "ansible", {})) write(out / f.path, f.content);
  write(out / "inventory.ini", "[fleet]\nh1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3 wgopt_root=" +
                                   root.string() + " wgopt_path=/usr/local/bin/wgopt wgopt_apply=false\n");
  const std::string before = current_rmem();
  auto r = run({"env", "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0", "ANSIBLE_LOCAL_TEMP=" + tmp / "atmp",
                "ansible-playbook", "-i", (out / "inventory.ini").string(), (out / "playbook.yml").string()});
  INFO(r.out << r.err);
  REQUIRE(r.ok());
  CHECK_THAT(recap_line(r.out), Contains("failed=0"));
  CHECK_THAT(r.out, Contains("wgopt_apply is false: the files are installed under " + root.string()));
  CHECK_THAT(r.out, Contains("nothing applied to this machine (wgopt_apply is false)"));
  CHECK_FALSE(fs::exists(log));  // neither `wgopt facts` nor `wgopt apply` ran
  CHECK(current_rmem() == before);
  CHECK(fs::exists(root / "etc/sysctl.d/99-wgopt.conf"));
  CHECK(act::load_profile((root / "etc/wgopt/profile.yaml").string()).knobs == p.knobs);

  // On the running system's own root it would tune it through the units and TuneD, ungated: refused.
  write(out / "inventory.ini", "[fleet]\nh1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3 wgopt_apply=false "
                                   "wgopt_path=/usr/local/bin/wgopt\n");
  auto slash = run({"env", "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0", "ANSIBLE_LOCAL_TEMP=" + tmp / "atmp",
                    "ansible-playbook", "-i", (out / "inventory.ini").string(), (out / "playbook.yml").string()});
  INFO(slash.out << slash.err);
  CHECK(slash.exit_code == 2);
  CHECK_THAT(slash.out, Contains("wgopt_apply=false installs under wgopt_root only, and wgopt_root is /"));
  CHECK_FALSE(fs::exists(log));
  CHECK(current_rmem() == before);
}

// `wgopt export` round trip on the real testbed (root, prefix "wgt6", its own WGOPT_STATE_DIR):
// a client-namespace profile is (a) applied with `wgopt apply --netns` and read back with `wgopt
// get`, rolled back, then (b) exported and applied with `sysctl -p` and the exported script inside
// the namespace: both ways must end in the same values (and the same tc qdisc line). The script is
// also run twice (nothing changes the second time), on a missing interface (exit 1, nothing
// changed), once with a header full of commands (profile text is never code: none runs, no sysctl
// is added), and once more to put the originals back.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/exec.hpp"
#include "common/util.hpp"
#include "tests/scratch_dir.hpp"

using namespace wgopt;
namespace fs = std::filesystem;

namespace {

const std::string kPrefix = "wgt6";
const std::string kNetns = "wgt6-cli";

CommandResult run(const std::vector<std::string>& argv) {
  ProcessRunner r;
  return r.run({.argv = argv, .timeout = std::chrono::seconds(90)});
}

std::string ok(const std::vector<std::string>& argv) {
  auto r = run(argv);
  INFO(render_argv(argv) << " -> " << r.brief() << "\n" << r.out << r.err);
  REQUIRE(r.ok());
  return r.out;
}

std::string wgopt_ok(std::vector<std::string> args) {
  args.insert(args.begin(), WGOPT_BINARY);
  return ok(args);
}

std::string in_netns(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"ip", "netns", "exec", kNetns});
  return ok(argv);
}

// The knobs of the round trip and the values the profile sets (all different from a fresh testbed's).
const std::vector<std::pair<std::string, std::string>> kProfile = {
    {"net.ipv4.tcp_rmem", "4096 262144 8388608"},
    {"net.ipv4.tcp_wmem", "4096 65536 8388608"},
    {"net.ipv4.tcp_congestion_control", "reno"},
    {"wgt6-uc/channels/rx", "2"},
    {"wgt6-uc/channels/tx", "2"},
    {"wgt6-uc/offload/gro", "on"},
    {"wgt6-uc/qdisc", "pfifo_fast"},
    {"wgt6-wc/offload/gro", "off"},
    {"wgt6-wc/rps_cpus", "3"},
    {"wgt6-wc/rps_flow_cnt", "2048"},
    {"wgt6-wc/qdisc", "tbf"},
    {"wgt6-wc/txqueuelen", "1000"},
    {"wgt6-wc/mtu", "1380"},
};

std::map<std::string, std::string> read_all() {
  std::vector<std::string> args{"get", "--netns", kNetns, "--json"};
  for (const auto& [id, v] : kProfile) args.push_back(id);
  return nlohmann::json::parse(wgopt_ok(args)).get<std::map<std::string, std::string>>();
}

// The root qdisc line without its handle (tc numbers new qdiscs 8001:, 8002: ...).
std::string qdisc_line(const std::string& dev) {
  for (const auto& line : split_lines(in_netns({"tc", "qdisc", "show", "dev", dev}))) {
    auto w = split_ws(line);
    if (w.size() >= 4 && w[3] == "root") {
      w.erase(w.begin() + 2);
      std::string out;
      for (const auto& x : w) out += x + " ";
      return out;
    }
  }
  return "";
}

// `host` is put in front of the usual host facts; `evidence` says the study and the outcome.
std::string write_profile(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& knobs,
                          const std::string& host = "", const std::string& evidence = "study: round-trip, outcome: promoted, ") {
  std::ofstream out(path);
  out << "host: {" << host << "nproc: " << ::sysconf(_SC_NPROCESSORS_ONLN) << ", place: netns " << kNetns << "}\nknobs:\n";
  for (const auto& [id, v] : knobs) out << "  " << id << ": \"" << v << "\"\n";
  out << "evidence: {" << evidence << "created: 2026-11-26T14:00:00Z, plant: {testbed: wgt6}}\n";
  return path.string();
}

// Exports sysctl + systemd under dir and applies them the way an operator would, in the namespace.
void apply_exported(const std::string& profile, const fs::path& dir) {
  wgopt_ok({"export", profile, "--format", "sysctl", "--out", dir.string(), "--force"});
  wgopt_ok({"export", profile, "--format", "systemd", "--out", dir.string(), "--force"});
  in_netns({"sysctl", "-p", (dir / "etc/sysctl.d/99-wgopt.conf").string()});
  in_netns({"sh", (dir / "usr/local/sbin/wgopt-tuning.sh").string()});
}

struct Env {
  test::ScratchDir scratch{"wgopt-export-roundtrip"};
  fs::path dir = scratch.dir;
  Env() {
    fs::create_directories(dir / "state");
    ::setenv("WGOPT_STATE_DIR", (dir / "state").c_str(), 1);  // the wgopt children inherit it
  }
  ~Env() {
    run({WGOPT_BINARY, "rollback"});
    run({WGOPT_BINARY, "testbed", "down", "--prefix", kPrefix});
    ::unsetenv("WGOPT_STATE_DIR");
  }
};

}  // namespace

TEST_CASE("export round trip: sysctl -p + the exported script end where `wgopt apply` ends", "[export][root]") {
  if (::geteuid() != 0) FAIL("this test needs root");
  Env env;
  run({WGOPT_BINARY, "testbed", "down", "--prefix", kPrefix});
  wgopt_ok({"testbed", "up", "--prefix", kPrefix});
  const auto original = read_all();
  const std::string original_qdisc = qdisc_line("wgt6-wc");
  for (const auto& [id, v] : kProfile) {
    INFO(id);
    REQUIRE(original.at(id) != v);  // every knob really moves
  }
  const std::string profile = write_profile(env.dir / "p.yaml", kProfile);

  // (a) wgopt apply.
  wgopt_ok({"apply", "--netns", kNetns, profile});
  const auto applied = read_all();
  for (const auto& [id, v] : kProfile) CHECK(applied.at(id) == v);
  const std::string applied_qdisc = qdisc_line("wgt6-wc");
  CHECK_THAT(applied_qdisc, Catch::Contains("qdisc tbf root"));
  wgopt_ok({"rollback"});
  REQUIRE(read_all() == original);

  // (b) the exported files.
  apply_exported(profile, env.dir / "out");
  CHECK(read_all() == applied);
  CHECK(qdisc_line("wgt6-wc") == applied_qdisc);

  // Again: ethtool -L with unchanged values and an equal qdisc are skipped, not errors.
  in_netns({"sh", (env.dir / "out/usr/local/sbin/wgopt-tuning.sh").string()});
  CHECK(read_all() == applied);

  // Commands and a sysctl line in the header's free text (the profile's name, SKU, study, outcome):
  // the files still hold only the profile's knobs, so nothing more changes and nothing runs.
  const std::string mark = (env.dir / "ran").string();
  const std::string somaxconn = in_netns({"sysctl", "-n", "net.core.somaxconn"});
  const std::string hostile = write_profile(
      env.dir / "hostile\n;id`id`$(id).yaml", kProfile, "sku: \"vm\\ntouch " + mark + "\", kernel: \"k\\r\\ntouch " + mark + "\", ",
      "confirmation: \"c\\0\\n`touch " + mark + "`\", study: \"s\\n$(touch " + mark + ")\", outcome: \"x\\nnet.core.somaxconn = 1\", ");
  apply_exported(hostile, env.dir / "hostile");
  CHECK_FALSE(fs::exists(mark));
  CHECK(in_netns({"sysctl", "-n", "net.core.somaxconn"}) == somaxconn);
  CHECK(read_all() == applied);

  // A missing interface: exit 1 naming it, before anything is changed.
  auto missing = kProfile;
  missing.insert(missing.begin(), {"wgt6-zz/mtu", "1400"});
  for (auto& [id, v] : missing) {
    if (id == "wgt6-wc/mtu") v = "1300";
  }
  const std::string missing_profile = write_profile(env.dir / "missing.yaml", missing);
  wgopt_ok({"export", missing_profile, "--format", "systemd", "--out", (env.dir / "missing").string()});
  // The script waits for a missing interface (NetBird may not have created it yet): 2 s here.
  auto r = run({"ip", "netns", "exec", kNetns, "env", "WGOPT_TUNING_WAIT=2", "sh",
                (env.dir / "missing/usr/local/sbin/wgopt-tuning.sh").string()});
  CHECK(r.exit_code == 1);
  CHECK(trim(r.err) == "wgopt-tuning: interface wgt6-zz does not exist here (waited 2 s; see ip link): nothing was changed");
  CHECK(read_all().at("wgt6-wc/mtu") == "1380");

  // The originals back, the same way.
  std::vector<std::pair<std::string, std::string>> back(original.begin(), original.end());
  apply_exported(write_profile(env.dir / "back.yaml", back), env.dir / "back");
  CHECK(read_all() == original);
  CHECK(qdisc_line("wgt6-wc") == original_qdisc);
}

// `wgopt facts [--profile P]`: this host's facts as a profile records them, and with a profile the
// comparison every apply makes (experiments/search/host_gate.hpp). The exported Ansible role runs
// `wgopt facts --profile - --json` on each host before it changes anything.
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actuators/profile.hpp"
#include "actuators/host.hpp"
#include "cli/knob_cli.hpp"
#include "cli/registry.hpp"
#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/search/host_gate.hpp"

namespace wgopt::cli {
namespace {

// Exit code of a profile this host does not match (0: it matches).
constexpr int kFactsDiffer = 3;

struct FactsCli {
  std::string profile, netns, underlay, wireguard;
  bool json = false;
};

nlohmann::json facts_json(const experiments::HostFacts& f) {
  nlohmann::json j{{"kernel", f.kernel}, {"kernel_major", experiments::kernel_major(f.kernel)}, {"nproc", f.nproc}, {"sku", f.sku}};
  if (!f.underlay.empty()) j["underlay"] = {{"name", f.underlay}, {"nic_driver", f.nic_driver}};
  if (!f.wireguard.empty()) j["wireguard"] = {{"name", f.wireguard}, {"wireguard_mode", f.wireguard_mode}};
  return j;
}

int run_facts(const FactsCli& c) {
  KnobOptions where;
  where.netns = c.netns;
  const Place place = place_of(where);  // a namespace that does not exist: one line, exit 2
  auto runner = default_runner();
  const bool with_profile = !c.profile.empty();
  if (with_profile && (!c.underlay.empty() || !c.wireguard.empty())) {
    throw UsageError("--underlay/--wireguard are for facts without a profile: the profile's own interfaces are compared");
  }
  for (const auto* i : {&c.underlay, &c.wireguard}) {
    if (i->empty()) continue;
    require_valid_ifname(*i);
    // A typo would read as a host without that NIC or tunnel: the facts the gates compare, wrong.
    if (!act::make_host(place).files->exists("/sys/class/net/" + *i + "/ifindex")) {
      throw UsageError(fmt::format("interface '{}' does not exist in {}: `{}` lists those there are", *i, place.describe(),
                                   c.netns.empty() ? "ip link" : "ip -n " + c.netns + " link"));
    }
  }
  experiments::HostGate gate;
  const std::string label = c.profile == "-" ? "(standard input)" : c.profile;
  if (with_profile) {
    gate = experiments::check_host_facts(act::load_profile(c.profile), label, place, *runner);
  } else {
    gate.here = experiments::read_host_facts(*runner, place, c.underlay, c.wireguard);
  }
  if (c.json) {
    nlohmann::json j{{"host", facts_json(gate.here)}, {"place", place.describe()}};
    if (with_profile) {
      nlohmann::json diffs = nlohmann::json::array();
      for (const auto& d : gate.differences) diffs.push_back({{"fact", d.fact}, {"profile", d.profile}, {"host", d.host}});
      j["profile"] = label;
      j["matches"] = gate.matches();
      j["differences"] = diffs;
      nlohmann::json skipped = nlohmann::json::array();
      for (const auto& d : gate.not_compared) skipped.push_back({{"fact", d.fact}, {"profile", d.profile}, {"why", d.host}});
      j["not_compared"] = skipped;
      j["summary"] = gate.matches() ? "matches" : experiments::describe_differences(gate.differences);
    }
    // Free text (the SKU, a profile's facts) may hold any byte: the JSON holds it escaped.
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    const auto& f = gate.here;
    std::printf("kernel          %s (major %s)\nnproc           %d\nsku             %s\n", one_line(f.kernel).c_str(),
                experiments::kernel_major(f.kernel).c_str(), f.nproc, one_line(f.sku).c_str());
    if (!f.underlay.empty()) std::printf("nic_driver      %s (%s)\n", one_line(f.nic_driver.empty() ? "(none)" : f.nic_driver).c_str(), f.underlay.c_str());
    if (!f.wireguard.empty()) std::printf("wireguard_mode  %s (%s)\n", one_line(f.wireguard_mode).c_str(), f.wireguard.c_str());
    if (with_profile) {
      if (gate.matches()) {
        std::printf("profile %s: this host matches%s\n", one_line(label, 200).c_str(),
                    gate.not_compared.empty() ? "" : " on every fact it could compare");
      }
      for (const auto& d : gate.not_compared) {
        std::printf("not compared: %s: profile %s (%s)\n", d.fact.c_str(), one_line(d.profile, 200).c_str(), d.host.c_str());
      }
      for (const auto& d : gate.differences) {
        std::printf("differs: %s: profile %s, this host %s\n", d.fact.c_str(), one_line(d.profile, 200).c_str(), one_line(d.host, 200).c_str());
      }
    }
  }
  return gate.matches() ? 0 : kFactsDiffer;
}

void setup_facts(CLI::App& root, Context& ctx) {
  auto c = std::make_shared<FactsCli>();
  auto* sub = root.add_subcommand("facts", "this host's facts (kernel, nproc, SKU, NIC driver, WireGuard mode) and whether a profile fits it");
  sub->footer(
      "Examples:\n"
      "  wgopt facts --underlay eth0 --wireguard wt0\n"
      "  wgopt facts --profile /etc/wgopt/profile.yaml     # exit 0: it fits; 3: it was made on another kind of host\n"
      "  wgopt facts --profile - --json < best.yaml        # what the exported Ansible role runs on each host\n"
      "The comparison is the one `wgopt apply` and `wgopt retune` make before they change anything:\n"
      "the place (a profile made in a network namespace fits only there: --netns), nproc equal, kernel by major version (the first number), the NIC driver of the profile's\n"
      "underlay, the WireGuard mode of its WireGuard interface (see `wgopt export --help` for how\n"
      "they are chosen; a profile of sysctls only: the interfaces its host facts name, when they are\n"
      "here) and the SKU equal; a fact the profile does not record is not compared, and one it records\n"
      "with no interface here to read it on is listed as 'not compared' (a warning in apply/retune).\n"
      "Exit codes: 0 the host matches (or no --profile), 3 it differs, 2 bad usage, 1 error.");
  sub->add_option("--profile", c->profile, "compare with this profile's host facts (- reads standard input)");
  sub->add_option("--netns", c->netns, "read the facts in this network namespace")
      ->check(wgopt::cli::not_empty("a namespace name"));
  sub->add_option("--underlay", c->underlay, "without --profile: the interface whose NIC driver to read");
  sub->add_option("--wireguard", c->wireguard, "without --profile: the interface whose WireGuard mode to read");
  sub->add_flag("--json", c->json, "print JSON");
  sub->callback([c, &ctx] { ctx.exit_code = run_facts(*c); });
}

}  // namespace
}  // namespace wgopt::cli

WGOPT_COMMAND(305, wgopt::cli::setup_facts);

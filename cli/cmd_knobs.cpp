// `wgopt knobs`, `wgopt get ID...`, `wgopt show`: read-only views of the knobs of the host or of
// a network namespace. Nothing here writes, so none of them takes the lock.
#include <sys/utsname.h>

#include <cstdio>
#include <ctime>
#include <fmt/format.h>

#include "actuators/profile.hpp"
#include "cli/knob_cli.hpp"
#include "cli/registry.hpp"
#include "common/error.hpp"

namespace wgopt::cli {
namespace {

// Every knob of the place (or of the peer, through its agent) with its presence and value.
// `facts`, when given, receives the peer's kernel and CPU count.
std::vector<peer::KnobRow> knob_rows(const KnobOptions& o, std::string& where, peer::PeerFacts* facts = nullptr) {
  if (o.ssh.remote()) {
    auto client = connect_peer(o.ssh);
    where = "peer " + client->peer();
    if (facts) *facts = client->hello().facts;
    auto rows = client->discover(peer_discover_args(o)).knobs;
    client->close();
    return rows;
  }
  const Place place = place_of(o);
  where = place.describe();
  const act::Host host = guarded_host(place);
  std::vector<peer::KnobRow> rows;
  for (auto& k : act::discover_knobs(host, discover_options(o))) {
    peer::KnobRow row{.descriptor = k->descriptor(), .presence = k->presence()};
    if (row.presence.present) {
      try {
        row.value = k->read();
      } catch (const std::exception& e) {
        row.read_error = e.what();
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void run_knobs(const KnobOptions& o) {
  check_ssh_combination(o);
  std::string where;
  const auto rows = knob_rows(o, where);
  nlohmann::json all = nlohmann::json::array();
  if (!o.json) {
    std::printf("%-36s %-26s %-8s %-24s %s\n", "ID", "VALUE", "SCOPE", "DOMAIN", "STATUS");
  }
  for (const auto& row : rows) {
    const auto& d = row.descriptor;
    const act::Presence& p = row.presence;
    const auto& value = row.value;
    const std::string& read_error = row.read_error;
    if (o.json) {
      all.push_back({{"id", d.id},
                     {"kind", d.kind},
                     {"present", p.present},
                     {"writable", p.present && p.writable},
                     {"why_not", p.why_not},
                     {"value", value ? nlohmann::json(*value) : nlohmann::json(nullptr)},
                     {"read_error", read_error},
                     {"domain", domain_json(d)},
                     {"scope", act::to_string(d.scope)},
                     {"device", d.device},
                     {"order", d.order},
                     {"reason", d.reason}});
      continue;
    }
    std::string status = !p.present ? "absent: " + p.why_not
                         : p.writable ? "writable"
                                      : "read-only: " + p.why_not;
    if (!read_error.empty()) status += " (unreadable: " + read_error + ")";
    std::printf("%-36s %-26s %-8s %-24s %s\n", d.id.c_str(), value ? value->c_str() : "-",
                act::to_string(d.scope), domain_text(d).c_str(), status.c_str());
    if (!d.reason.empty()) std::printf("    %s\n", d.reason.c_str());
  }
  if (o.json) std::printf("%s\n", nlohmann::json{{"place", where}, {"knobs", all}}.dump(2).c_str());
}

// id -> value for `get`, read locally or by the peer's agent.
std::vector<std::pair<std::string, std::string>> read_values(const KnobOptions& o, const std::vector<std::string>& ids) {
  if (o.ssh.remote()) {
    auto client = connect_peer(o.ssh);
    auto values = client->read(ids, peer_discover_args(o));
    client->close();
    return values;
  }
  const Place place = place_of(o);
  const act::Host host = guarded_host(place);
  std::vector<std::pair<std::string, std::string>> values;
  for (const auto& id : ids) {
    act::KnobPtr k = act::find_knob(host, id, discover_options(o));
    const act::Presence p = k->presence();
    if (!p.present) {
      throw UsageError(fmt::format("knob {} does not exist in {}: {}; `{}` lists what does", id, place.describe(),
                                   p.why_not, knobs_command(place)));
    }
    values.emplace_back(id, k->read());
  }
  return values;
}

void run_get(const KnobOptions& o, const std::vector<std::string>& ids) {
  check_ssh_combination(o);
  nlohmann::json j = nlohmann::json::object();
  std::string text;
  for (const auto& [id, v] : read_values(o, ids)) {
    j[id] = v;
    // ID: VALUE, quoted like a profile, so lines can be pasted under `knobs:`.
    act::Profile one;
    one.knobs.emplace_back(id, v);
    std::string dumped = act::dump_profile(one);
    text += dumped.substr(dumped.find('\n') + 1);
  }
  if (o.json) std::printf("%s\n", j.dump(2).c_str());
  else std::fputs(text.c_str(), stdout);
}

void run_show(const KnobOptions& o) {
  check_ssh_combination(o);
  std::string where;
  peer::PeerFacts facts;
  const auto rows = knob_rows(o, where, &facts);
  act::Profile profile;
  for (const auto& row : rows) {
    if (!row.presence.present) continue;
    if (row.value) profile.knobs.emplace_back(row.descriptor.id, *row.value);
    else std::fprintf(stderr, "wgopt: %s left out: %s\n", row.descriptor.id.c_str(), row.read_error.c_str());
  }
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  profile.host["place"] = where;
  if (o.ssh.remote()) {
    profile.host["kernel"] = facts.kernel;
    profile.host["nproc"] = facts.nproc;
  } else {
    utsname u{};
    ::uname(&u);
    profile.host["kernel"] = std::string(u.release);
    profile.host["nproc"] = guarded_host(place_of(o)).nproc;
  }
  profile.host["captured"] = std::string(when);
  if (o.json) {
    nlohmann::json j{{"place", where}, {"knobs", nlohmann::json::object()}};
    for (const auto& [id, v] : profile.knobs) j["knobs"][id] = v;
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  const std::string apply_cmd = o.ssh.remote() ? " --ssh " + o.ssh.target
                                : o.netns.empty() ? std::string()
                                                  : " --netns " + o.netns;
  std::printf("# wgopt show: every knob present in %s. Edit values, then `wgopt apply FILE%s`.\n"
              "# Read-only knobs are listed too; apply accepts them while their value is unchanged.\n",
              where.c_str(), apply_cmd.c_str());
  std::fputs(act::dump_profile(profile).c_str(), stdout);
}

void setup_knobs(CLI::App& root, Context&) {
  {
    auto o = std::make_shared<KnobOptions>();
    auto* sub = root.add_subcommand("knobs", "list every knob wgopt knows here: value, domain, scope, writable or why not");
    sub->footer(
        "Examples:\n"
        "  wgopt knobs                          # the host\n"
        "  wgopt knobs --netns wgopt-cli        # one end of the testbed\n"
        "  wgopt knobs -i eth0 --json           # eth0's device knobs and the sysctls, for machines\n"
        "  wgopt knobs --ssh root@10.0.0.2 -i wt0   # a peer's knobs, read by its own wgopt over ssh\n"
        "Ids are what get/set/profiles use: sysctls by dotted name (net.ipv4.tcp_rmem), device knobs as\n"
        "IFACE/knob (eth0/mtu, eth0/rps_cpus, eth0/offload/gro), services by name (irqbalance).");
    add_knob_options(sub, *o, true);
    sub->callback([o] { run_knobs(*o); });
  }
  {
    auto o = std::make_shared<KnobOptions>();
    auto ids = std::make_shared<std::vector<std::string>>();
    auto* sub = root.add_subcommand("get", "print the current value of knobs (as profile lines)");
    sub->footer(
        "Examples:\n"
        "  wgopt get net.core.rmem_max net.ipv4.tcp_rmem\n"
        "  wgopt get --netns wgopt-cli wgopt-wc/mtu wgopt-wc/rps_cpus\n"
        "  wgopt get --ssh root@10.0.0.2 wt0/mtu");
    sub->add_option("ID", *ids, "knob ids (see `wgopt knobs`)")->required();
    add_knob_options(sub, *o, false);
    sub->callback([o, ids] { run_get(*o, *ids); });
  }
  {
    auto o = std::make_shared<KnobOptions>();
    auto* sub = root.add_subcommand("show", "print every present knob and its value as a profile (YAML) on stdout");
    sub->footer(
        "Examples:\n"
        "  wgopt show > before.yaml             # save the host's current settings\n"
        "  wgopt show --netns wgopt-cli -i wgopt-wc > p.yaml; $EDITOR p.yaml; wgopt apply --netns wgopt-cli p.yaml\n"
        "  wgopt show --ssh root@10.0.0.2 -i wt0 > peer.yaml");
    add_knob_options(sub, *o, true);
    sub->callback([o] { run_show(*o); });
  }
}

}  // namespace
}  // namespace wgopt::cli

WGOPT_COMMAND(300, wgopt::cli::setup_knobs);

#pragma once
// What the knob commands (knobs, get, show, set, apply, rollback) share: the --netns/--json
// options, the guarded Host, opening a ChangeSession (and telling the user what it restored),
// and how values, domains and restore reports are printed.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "actuators/catalog.hpp"
#include "actuators/knob.hpp"
#include "actuators/restore.hpp"
#include "cli/ssh_cli.hpp"

namespace wgopt::cli {

struct KnobOptions {
  std::string netns;                    // empty: the host
  bool json = false;
  std::vector<std::string> interfaces;  // knobs/show: limit device knobs to these
  bool allow_underlay_mtu = false;
  SshCliOptions ssh;                    // --ssh: act on a peer through its agent instead
};

// --netns, --json and the --ssh options on `sub` (and --interface when `with_interfaces`).
void add_knob_options(CLI::App* sub, KnobOptions& o, bool with_interfaces);
// Throws UsageError for --netns with --ssh, or an --ssh-* option without --ssh.
void check_ssh_combination(const KnobOptions& o);
// The --ssh hints the agent resolves ids with (--interface, --allow-underlay-mtu).
peer::DiscoverArgs peer_discover_args(const KnobOptions& o);

Place place_of(const KnobOptions& o);
// make_host(place) with writes limited to the allowlist (GuardedFiles).
act::Host guarded_host(const Place& place);
act::DiscoverOptions discover_options(const KnobOptions& o);

// Takes the lock and restores what an unfinished or other-boot journal needs; prints what it did
// to stderr ("a previous wgopt did not finish ...") so stdout stays a clean table / JSON / YAML.
// journal_best_effort: for `wgopt rollback`, which must restore even when the journal cannot be
// written (see act::SessionOptions).
act::ChangeSession open_session(bool journal_best_effort = false);

// "4096..16777216 pow2", "3 x 4096..67108864", "mask of 2 CPUs", "on|off", "cubic|reno|bbr".
std::string domain_text(const act::Descriptor& d);
nlohmann::json domain_json(const act::Descriptor& d);
nlohmann::json report_json(const act::RestoreReport& r);
// Prints each item's line (to `out`), prefixed by `heading` when there is anything.
void print_report(std::FILE* out, const std::string& heading, const act::RestoreReport& r);

// The command line that lists the knobs of `place` ("wgopt knobs --netns x").
std::string knobs_command(const Place& place);

}  // namespace wgopt::cli

#include "cli/ssh_cli.hpp"

#include <fmt/format.h>

#include "cli/registry.hpp"
#include "common/error.hpp"

namespace wgopt::cli {

void add_ssh_options(CLI::App* sub, SshCliOptions& o) {
  // An empty value (`--ssh "$PEER"` with PEER unset) acted on this host: refused.
  sub->add_option("--ssh", o.target, "act on a peer over ssh ([USER@]HOST): the peer's own wgopt runs as an agent there")
      ->check(not_empty("[USER@]HOST"));
  sub->add_option("--ssh-identity", o.identity, "ssh private key for --ssh (ssh -i)");
  sub->add_option("--ssh-known-hosts", o.known_hosts, "known_hosts file for --ssh (default: ~/.ssh/known_hosts)");
  sub->add_flag("--ssh-accept-new-host-key", o.accept_new_host_key,
                "trust and record the peer's host key if it is not known yet (a changed key is still refused)");
  // One value per occurrence: a vector option would otherwise swallow the ID=VALUE arguments after it.
  sub->add_option("--ssh-option", o.options, "extra ssh option KEY=VALUE, passed as -o (repeatable; e.g. Port=2222)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--peer-wgopt", o.peer_wgopt, "the wgopt binary on the peer")->capture_default_str();
}

peer::SshOptions ssh_options(const SshCliOptions& o) {
  if (!o.remote()) {
    const char* given = !o.identity.empty() ? "--ssh-identity"
                        : !o.known_hosts.empty() ? "--ssh-known-hosts"
                        : o.accept_new_host_key ? "--ssh-accept-new-host-key"
                        : !o.options.empty() ? "--ssh-option"
                        : o.peer_wgopt != "wgopt" ? "--peer-wgopt"
                                                  : nullptr;
    if (given) throw UsageError(fmt::format("{} only applies with --ssh [USER@]HOST: add --ssh or drop it", given));
  }
  peer::SshOptions s{.target = o.target,
                     .identity = o.identity,
                     .known_hosts = o.known_hosts,
                     .accept_new_host_key = o.accept_new_host_key,
                     .options = o.options,
                     .peer_wgopt = o.peer_wgopt};
  if (o.remote()) peer::validate(s);
  return s;
}

std::unique_ptr<peer::AgentClient> connect_peer(const SshCliOptions& o, std::vector<std::string> fact_interfaces) {
  return peer::AgentClient::connect(ssh_options(o), {.fact_interfaces = std::move(fact_interfaces)});
}

}  // namespace wgopt::cli

#pragma once
// The --ssh options commands share (`wgopt knobs|get|show|set|apply|rollback --ssh ...`, and later
// the search): the target, identity, known_hosts, host-key policy, extra -o options and the peer's
// wgopt path, turned into peer::SshOptions and a connected peer::AgentClient.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "experiments/peer/agent_client.hpp"

namespace wgopt::cli {

struct SshCliOptions {
  std::string target;                // --ssh [USER@]HOST; empty: act locally
  std::string identity;              // --ssh-identity FILE
  std::string known_hosts;           // --ssh-known-hosts FILE
  bool accept_new_host_key = false;  // --ssh-accept-new-host-key
  std::vector<std::string> options;  // --ssh-option KEY=VALUE (repeatable)
  std::string peer_wgopt = "wgopt";  // --peer-wgopt PATH

  bool remote() const { return !target.empty(); }
};

// Adds the six options to `sub`.
void add_ssh_options(CLI::App* sub, SshCliOptions& o);
// Checks the options (UsageError: an --ssh-* option without --ssh, a bad target or option) and
// returns them for the transport.
peer::SshOptions ssh_options(const SshCliOptions& o);
// Connects and handshakes (one clear line on failure: see AgentClient::connect).
std::unique_ptr<peer::AgentClient> connect_peer(const SshCliOptions& o, std::vector<std::string> fact_interfaces = {});

}  // namespace wgopt::cli

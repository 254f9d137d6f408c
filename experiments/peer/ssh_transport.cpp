#include "experiments/peer/ssh_transport.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <fmt/format.h>

#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::peer {

namespace {

bool is_one_of(char c, const char* set) { return std::string_view(set).find(c) != std::string_view::npos; }

bool all_chars(const std::string& s, const char* extra) {
  return std::all_of(s.begin(), s.end(), [extra](char c) { return std::isalnum(static_cast<unsigned char>(c)) || is_one_of(c, extra); });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The port in ssh's "ssh: connect to host H port N: Connection refused", nullopt when no line says.
// Only a line about `host` counts: with ProxyJump the refusal may be the jump host's.
std::optional<std::string> refused_port(const std::string& err, const std::string& host) {
  for (const auto& line : split_lines(err)) {
    const auto end = line.find(": Connection refused");
    const auto at = line.rfind(" port ", end);
    if (end == std::string::npos || at == std::string::npos || line.find("connect to host " + host + " port ") == std::string::npos) continue;
    const std::string n = line.substr(at + 6, end - at - 6);
    if (!n.empty() && n.size() <= 5 && std::all_of(n.begin(), n.end(), [](unsigned char c) { return std::isdigit(c); })) return n;
  }
  return std::nullopt;
}

// Options that run a local command, load code, replace the remote command, open forwardings or a
// tty, or that wgopt sets itself (use the dedicated flag). Compared case-insensitively as ssh does.
struct Refused {
  const char* key;
  const char* why;
};
constexpr Refused kRefused[] = {
    {"proxycommand", "it runs a local shell command (use ProxyJump=HOST for a bastion)"},
    {"localcommand", "it runs a local shell command"},
    {"permitlocalcommand", "it enables LocalCommand"},
    {"knownhostscommand", "it runs a local command"},
    {"remotecommand", "wgopt sets the remote command (the agent)"},
    {"proxyusefdpass", "it belongs to ProxyCommand"},
    {"pkcs11provider", "it loads a library into ssh"},
    {"securitykeyprovider", "it loads a library into ssh"},
    {"match", "it can run commands (Match exec)"},
    {"include", "it reads other configuration"},
    {"batchmode", "wgopt always sets BatchMode=yes (no prompts)"},
    {"stricthostkeychecking", "use --ssh-accept-new-host-key to trust a new host key"},
    {"userknownhostsfile", "use --ssh-known-hosts FILE"},
    {"identityfile", "use --ssh-identity FILE"},
    {"requesttty", "the agent speaks JSON lines: a tty would mangle them"},
    {"sessiontype", "the session runs the agent"},
    {"stdinnull", "the agent reads its requests from stdin"},
    {"forkafterauthentication", "the session must stay in the foreground"},
    {"localforward", "wgopt opens no ports"},
    {"remoteforward", "wgopt opens no ports"},
    {"dynamicforward", "wgopt opens no ports"},
    {"tunnel", "wgopt opens no tunnels"},
    {"tunneldevice", "wgopt opens no tunnels"},
    {"forwardagent", "the peer gets no access to your ssh agent"},
    {"forwardx11", "no X11 forwarding"},
    {"forwardx11trusted", "no X11 forwarding"},
    {"controlmaster", "a background master would outlive wgopt"},
    {"controlpersist", "a background master would outlive wgopt"},
    {"setenv", "the peer's environment (its state dir) is the peer's own"},
    {"sendenv", "the peer's environment (its state dir) is the peer's own"},
    {"clearallforwardings", "wgopt always clears forwardings"},
};

void check_option(const std::string& kv) {
  const auto eq = kv.find('=');
  const std::string key = kv.substr(0, eq);
  if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size() || !all_chars(key, "")) {
    throw UsageError(fmt::format("--ssh-option '{}' is not KEY=VALUE (KEY letters and digits, VALUE not empty): "
                                 "e.g. --ssh-option Port=2222",
                                 kv));
  }
  for (unsigned char c : kv) {
    if (c < 0x20 || c == 0x7f) {
      throw UsageError(fmt::format("--ssh-option {} contains a control character (a newline?): give one KEY=VALUE per "
                                   "--ssh-option",
                                   key));
    }
  }
  const std::string k = lower(key);
  for (const auto& r : kRefused) {
    if (k == r.key) throw UsageError(fmt::format("--ssh-option {} is not allowed: {}", key, r.why));
  }
  // They override wgopt's defaults (ssh_argv): never 0, which turns the connect timeout or the
  // keepalives behind the lost-peer detection off.
  if (k == "connecttimeout" || k == "serveraliveinterval" || k == "serveralivecountmax") {
    const std::string v = kv.substr(eq + 1);
    if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < 1 || std::stoi(v) > 3600) {
      throw UsageError(fmt::format("--ssh-option {} must be a number of {} from 1 to 3600 (0 would turn it off)", one_line(kv, 80),
                                   k == "serveralivecountmax" ? "keepalives" : "seconds"));
    }
  }
  if (k == "port") {  // found by an exploratory test: ssh's "Bad port 'abc'" came out as exit 1
    const std::string v = kv.substr(eq + 1);
    if (v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < 1 || std::stoi(v) > 65535) {
      throw UsageError(fmt::format("--ssh-option {} is not a port: use Port=1..65535", one_line(kv, 80)));
    }
  }
  if (k == "proxyjump") {
    // ssh builds `ssh -W` itself from the jump host; make sure it is only host specs.
    if (!all_chars(kv.substr(eq + 1), "_.-@:,[]") || kv[eq + 1] == '-') {
      throw UsageError(fmt::format("--ssh-option ProxyJump='{}' is not a list of [USER@]HOST[:PORT]", kv.substr(eq + 1)));
    }
  }
}

// ssh expands %-tokens in both paths and splits UserKnownHostsFile at whitespace (it takes a list).
void check_path_chars(const std::string& path, const char* flag) {
  for (unsigned char c : path) {
    if (c == '%' || std::isspace(c) || c < 0x20 || c == 0x7f) {
      throw UsageError(fmt::format("{} '{}' contains a space, '%' or a control character, which ssh would expand or "
                                   "split: use a path without them",
                                   flag, path));
    }
  }
}

void check_readable_file(const std::string& path, const char* flag) {
  if (path.empty()) return;
  check_path_chars(path, flag);
  if (::access(path.c_str(), R_OK) != 0 || !std::filesystem::is_regular_file(path)) {
    throw UsageError(fmt::format("{} {} is not a readable file: give the path of an existing file", flag, path));
  }
}

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

// The last non-empty stderr line that is not ssh's banner noise.
std::string last_line(const std::string& text) {
  auto lines = split_lines(text);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    auto t = trim(*it);
    if (!t.empty()) return t;
  }
  return {};
}

}  // namespace

SshTarget parse_ssh_target(const std::string& target) {
  // Two forms ssh's own command line takes that --ssh does not (found by an exploratory test: they
  // read "the user 'ssh://root' is not valid" and "cannot resolve the peer's host name").
  if (target.starts_with("ssh://")) {
    throw UsageError(fmt::format("--ssh '{}' is a URL: give [USER@]HOST (e.g. root@198.18.0.1), and a port with --ssh-option Port=N",
                                 one_line(target, 120)));
  }
  if (const auto colon = target.find(':'); colon != std::string::npos && target.find(':', colon + 1) == std::string::npos &&
                                            colon + 1 < target.size() &&
                                            target.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
    throw UsageError(fmt::format("--ssh '{}' names a port: give it with --ssh-option Port={} and --ssh {}", one_line(target, 120),
                                 target.substr(colon + 1), target.substr(0, colon)));
  }
  SshTarget t;
  std::string host = target;
  if (auto at = target.rfind('@'); at != std::string::npos) {
    t.user = target.substr(0, at);
    host = target.substr(at + 1);
    if (t.user.empty() || t.user.size() > 64 || t.user[0] == '-' || !all_chars(t.user, "_.-")) {
      throw UsageError(fmt::format("--ssh '{}': the user '{}' is not valid: use [A-Za-z0-9_.-], not starting with '-'",
                                   target, t.user));
    }
  }
  const bool name = all_chars(host, ".-");
  const bool ipv6 = host.find(':') != std::string::npos && all_chars(host, ":.%");
  if (host.empty() || host.size() > 253 || host[0] == '-' || !(name || ipv6)) {
    throw UsageError(fmt::format("--ssh '{}': the host '{}' is not a host name or IP address: use [USER@]HOST, e.g. "
                                 "root@198.18.0.1",
                                 target, host));
  }
  t.host = host;
  return t;
}

void require_remote_safe(const std::string& word, const std::string& what) {
  if (word.empty() || word.size() > 1024 || !all_chars(word, "_./:=,@%+-")) {
    throw UsageError(fmt::format("{} '{}' cannot be passed to the peer's shell: use only [A-Za-z0-9_./:=,@%+-] (no "
                                 "spaces, quotes or shell characters)",
                                 what, word));
  }
}

void validate(const SshOptions& o) {
  parse_ssh_target(o.target);
  check_readable_file(o.identity, "--ssh-identity");
  if (!o.known_hosts.empty()) {
    check_path_chars(o.known_hosts, "--ssh-known-hosts");
    const auto dir = std::filesystem::path(o.known_hosts).parent_path();
    if (!dir.empty() && !std::filesystem::is_directory(dir)) {
      throw UsageError(fmt::format("--ssh-known-hosts {}: directory {} does not exist", o.known_hosts, dir.string()));
    }
  }
  for (const auto& kv : o.options) check_option(kv);
  require_remote_safe(o.peer_wgopt, "--peer-wgopt");
  if (o.peer_wgopt[0] == '-' || o.peer_wgopt.find('=') != std::string::npos) {
    throw UsageError(fmt::format("--peer-wgopt '{}' must be a program name or a path (no leading '-', no '=')", o.peer_wgopt));
  }
  if (o.connect_timeout_s < 1 || o.server_alive_interval_s < 1 || o.server_alive_count_max < 1) {
    throw UsageError("ssh timeouts must be at least 1 s and the keepalive count at least 1");
  }
}

std::vector<std::string> agent_remote_argv(const SshOptions& o) { return {o.peer_wgopt, "__agent"}; }

std::vector<std::string> ssh_argv(const SshOptions& o, const std::vector<std::string>& remote) {
  validate(o);
  for (const auto& w : remote) require_remote_safe(w, "remote argument");
  std::vector<std::string> a{o.ssh_program, "-T", "-a", "-x"};
  auto opt = [&a](const std::string& kv) {
    a.push_back("-o");
    a.push_back(kv);
  };
  // ssh keeps the FIRST value of an option: what wgopt fixes comes first (and --ssh-option refuses
  // it anyway), then the user's options, then the defaults they may override (a ConnectTimeout=2
  // given after wgopt's own 10 was silently ignored).
  opt("BatchMode=yes");
  opt("ClearAllForwardings=yes");
  opt(o.accept_new_host_key ? "StrictHostKeyChecking=accept-new" : "StrictHostKeyChecking=yes");
  if (!o.known_hosts.empty()) opt("UserKnownHostsFile=" + o.known_hosts);
  if (!o.identity.empty()) {
    a.push_back("-i");
    a.push_back(o.identity);
    opt("IdentitiesOnly=yes");
  }
  for (const auto& kv : o.options) opt(kv);
  opt(fmt::format("ConnectTimeout={}", o.connect_timeout_s));
  opt(fmt::format("ServerAliveInterval={}", o.server_alive_interval_s));
  opt(fmt::format("ServerAliveCountMax={}", o.server_alive_count_max));
  a.push_back("--");
  a.push_back(o.target);
  a.insert(a.end(), remote.begin(), remote.end());
  return o.from.wrap(a);
}

SshFailure classify_ssh_failure(const SshOptions& o, const ExitStatus& st, const std::string& err) {
  const std::string host = parse_ssh_target(o.target).host;
  const std::string known = o.known_hosts.empty() ? std::string("~/.ssh/known_hosts") : o.known_hosts;
  const std::string last = last_line(err);
  if (st.signal != 0) {
    return {false, fmt::format("the ssh session to {} was ended by signal {}", host, st.signal)};
  }
  if (st.code == 127) {
    return {false, fmt::format("peer {} has no wgopt at '{}' (the remote shell said: {}): install wgopt on the peer, "
                               "or pass --peer-wgopt /path/to/wgopt",
                               host, o.peer_wgopt, last.empty() ? "command not found" : last)};
  }
  if (st.code == 126) {
    return {false, fmt::format("'{}' on peer {} is not executable ({}): install wgopt there or fix --peer-wgopt", o.peer_wgopt,
                               host, last)};
  }
  if (st.code != 255) {
    return {false, fmt::format("`{} __agent` on peer {} exited {} before answering ({}): install the same wgopt on "
                               "the peer (its wgopt may be too old to have the agent)",
                               o.peer_wgopt, host, st.code, last.empty() ? "no message" : last)};
  }
  if (contains(err, "REMOTE HOST IDENTIFICATION HAS CHANGED") || contains(err, "has changed and you have requested")) {
    return {false, fmt::format("the host key of {} has CHANGED since it was recorded in {} (the peer was reinstalled, "
                               "or someone is in the middle): verify the new key out of band, then remove the old "
                               "one with `ssh-keygen -R {} -f {}` and connect again",
                               host, known, host, known)};
  }
  if (contains(err, "host key is known for") || contains(err, "Host key verification failed")) {
    return {true, fmt::format("the host key of {} is not in {}: verify its fingerprint and add it (ssh-keyscan {} >> "
                              "{}), or pass --ssh-accept-new-host-key to trust it on first use",
                              host, known, host, known)};
  }
  if (contains(err, "Could not resolve hostname")) {
    return {true, fmt::format("cannot resolve the peer's host name '{}': check --ssh {}", host, o.target)};
  }
  if (contains(err, "Permission denied")) {
    // With --ssh-identity given, that key is the one refused (found by an exploratory test: the
    // advice was to pass the option already passed).
    if (!o.identity.empty()) {
      return {false, fmt::format("{} refused the ssh login of {} with the key {} ({}): install its public key in the peer's "
                                 "authorized_keys (ssh-copy-id -i {}.pub {}), or give the right --ssh-identity",
                                 host, o.target, o.identity, last, o.identity, o.target)};
    }
    return {false, fmt::format("{} refused the ssh login of {} ({}): install your public key in the peer's "
                               "authorized_keys, or pass --ssh-identity KEY",
                               host, o.target, last)};
  }
  if (contains(err, "Connection refused")) {
    // The port ssh tried, named: advice to pass --ssh-option Port=N when it was passed read as a
    // misreading (found by an exploratory test). ssh's own line names it, wherever it came from
    // (--ssh-option, ~/.ssh/config, 22); the option's is the fix to name.
    std::string given;  // ssh takes the first value of an option, its key in any case
    for (const auto& opt : o.options) {
      if (given.empty() && opt.size() > 5 && lower(opt.substr(0, 5)) == "port=") given = opt.substr(5);
    }
    const std::string tried = refused_port(err, host).value_or(given);
    const std::string where = tried.empty() ? "" : " port " + tried;
    const std::string fix = !given.empty() ? "fix --ssh-option Port=" + given : "give its port with --ssh-option Port=N";
    return {false, fmt::format("ssh to {}{} was refused (nothing listens {}): start sshd on the peer, or {}", host, where,
                               tried.empty() ? "on its ssh port" : "there", fix)};
  }
  if (contains(err, "timed out") || contains(err, "Timeout")) {
    return {false, fmt::format("ssh to {} timed out ({}): check the address, the route and any firewall between the "
                               "hosts",
                               host, last)};
  }
  if (contains(err, "No route to host") || contains(err, "Network is unreachable")) {
    return {false, fmt::format("there is no route to {} ({}): check the address and this host's routes", host, last)};
  }
  return {false, fmt::format("ssh to {} failed: {}", host, last.empty() ? std::string("exit 255, no message") : last)};
}

std::string describe_session_end(const SshOptions& o, const ExitStatus& st, const std::string& err) {
  const std::string host = parse_ssh_target(o.target).host;
  if (st.signal != 0) return fmt::format("the ssh session to {} was ended by signal {}", host, st.signal);
  std::string said;  // ssh's own last message
  for (const auto& line : split_lines(err)) {
    const std::string l = trim(line);
    for (const char* p : {"ssh:", "Connection to ", "client_loop:", "Timeout, server", "Write failed", "packet_write_wait",
                          "Read from remote host", "Connection closed by", "Broken pipe"}) {
      if (l.starts_with(p)) said = l;
    }
  }
  if (!said.empty()) return fmt::format("the ssh connection to {} ended ({})", host, said);
  if (st.code == 255) {
    return fmt::format("the wgopt agent on {} ended without a word (killed, or its sshd session ended); its guardian "
                       "restores what it had applied",
                       host);
  }
  return fmt::format("the wgopt agent on {} exited {}{}", host, st.code, last_line(err).empty() ? "" : " (" + last_line(err) + ")");
}

}  // namespace wgopt::peer

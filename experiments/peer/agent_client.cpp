#include "experiments/peer/agent_client.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/exec.hpp"
#include "common/util.hpp"

namespace wgopt::peer {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string first_chars(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n) + "..."; }

std::string seconds(std::chrono::milliseconds d) { return fmt::format("{:.0f} s", d.count() / 1000.0); }

// A local agent or test double: its failures have no ssh-specific causes.
SshFailure classify_local(const std::string& name, const ExitStatus& st, const std::string& err) {
  std::string last;
  for (const auto& l : split_lines(err)) {
    if (!trim(l).empty()) last = trim(l);
  }
  if (st.signal) return {false, fmt::format("{} was ended by signal {}", name, st.signal)};
  return {false, fmt::format("{} exited {} before answering{}", name, st.code, last.empty() ? "" : ": " + last)};
}

// Starts `argv` as the session's process, whatever the caller's options for it.
std::function<std::unique_ptr<LineProcess>(LineProcess::Options)> spawner(std::vector<std::string> argv) {
  return [argv = std::move(argv)](LineProcess::Options o) {
    o.argv = argv;
    return std::make_unique<LineProcess>(std::move(o));
  };
}

}  // namespace

AgentClient::AgentClient(std::string name, Spawn spawn, Classify classify, EndReason end_reason, ClientOptions options)
    : name_(std::move(name)), spawn_(std::move(spawn)), classify_(std::move(classify)), end_reason_(std::move(end_reason)),
      opt_(std::move(options)) {}

std::unique_ptr<AgentClient> AgentClient::connect(const SshOptions& ssh, ClientOptions options) {
  const std::vector<std::string> argv = ssh_argv(ssh, agent_remote_argv(ssh));  // validates: UsageError
  const std::string host = parse_ssh_target(ssh.target).host;
  auto classify = [ssh](const ExitStatus& st, const std::string& err) { return classify_ssh_failure(ssh, st, err); };
  auto ended = [ssh](const ExitStatus& st, const std::string& err) { return describe_session_end(ssh, st, err); };
  std::unique_ptr<AgentClient> c(new AgentClient(host, spawner(argv), classify, ended, std::move(options)));
  c->start_session(0);
  return c;
}

std::unique_ptr<AgentClient> AgentClient::spawn(std::vector<std::string> argv, std::string name, ClientOptions options) {
  auto classify = [name](const ExitStatus& st, const std::string& err) { return classify_local(name, st, err); };
  auto ended = [classify](const ExitStatus& st, const std::string& err) { return classify(st, err).message; };
  std::unique_ptr<AgentClient> c(new AgentClient(name, spawner(std::move(argv)), classify, ended, std::move(options)));
  c->start_session(0);
  return c;
}

AgentClient::~AgentClient() { close(); }

bool AgentClient::lost() const {
  std::lock_guard lk(mu_);
  return lost_;
}

// ---- the session

void AgentClient::start_session(long long since_ms, bool restore_open) {
  {
    std::lock_guard lk(mu_);
    replies_.clear();
    pending_.clear();
    eof_ = lost_ = timed_out_ = false;
    lost_reason_.clear();
  }
  LineProcess::Options o;
  o.on_line = [this](std::optional<LineFramer::Line> l) { on_line(std::move(l)); };
  o.on_stderr = [name = name_](const std::string& line) { spdlog::debug("peer {}: {}", name, line); };
  proc_ = spawn_(std::move(o));  // Error when ssh itself is missing

  const HelloArgs args{.protocol = kProtocolVersion, .wgopt_version = WGOPT_VERSION, .since_ms = since_ms,
                       .interfaces = opt_.fact_interfaces, .restore_open = restore_open};
  json result;
  try {
    result = request("hello", encode(args), opt_.hello_timeout, true);
  } catch (const PeerLost&) {
    // The session never came up: say why in the terms of ssh (host key, auth, no wgopt, ...).
    auto st = proc_->wait(std::chrono::milliseconds(3000));
    const std::string err = proc_->stderr_tail();
    proc_.reset();
    bool timed_out = false;
    {
      std::lock_guard lk(mu_);
      timed_out = timed_out_;
    }
    // A session this end ended for its silence died of our SIGKILL: that is not why it failed.
    SshFailure f = st && !timed_out ? classify_(*st, err)
                      : SshFailure{false, fmt::format("{} did not answer within {} (is the peer reachable and "
                                                      "`wgopt __agent` installed there?)",
                                                      name_, seconds(opt_.hello_timeout))};
    if (f.usage) throw UsageError(f.message);
    throw Error(f.message);
  } catch (const Error&) {
    proc_.reset();
    throw;  // the agent's own answer (another protocol version, a bad argument)
  }
  HelloResult h;
  try {
    h = decode_result<HelloResult>(result);
  } catch (const std::exception& e) {
    proc_.reset();
    throw Error(fmt::format("peer {} answered hello with something this wgopt cannot read ({}): install the same wgopt "
                            "version on both hosts",
                            name_, e.what()));
  }
  if (h.protocol != kProtocolVersion) {
    proc_.reset();
    throw Error(fmt::format("peer {} runs wgopt {} speaking agent protocol {}, this wgopt {} speaks {}: install the same "
                            "wgopt version on both hosts",
                            name_, h.wgopt_version.empty() ? "?" : h.wgopt_version, h.protocol, WGOPT_VERSION,
                            kProtocolVersion));
  }
  // The protocol decides what works; another release of it may still measure or discover differently
  // (found by an exploratory test: a peer reporting wgopt 0.0.1 was accepted without a word).
  if (h.wgopt_version != WGOPT_VERSION && h.wgopt_version != hello_.wgopt_version) {
    spdlog::warn("peer {} runs wgopt {}, this host {}: install the same version on both hosts (the agent protocol, {}, "
                 "matches, so this goes on)",
                 name_, h.wgopt_version.empty() ? "?" : h.wgopt_version, WGOPT_VERSION, kProtocolVersion);
  }
  hello_ = std::move(h);
  spdlog::debug("peer {}: agent pid {}, wgopt {}, state {}", name_, hello_.pid, hello_.wgopt_version, hello_.state_dir);
}

void AgentClient::on_line(std::optional<LineFramer::Line> line) {
  std::lock_guard lk(mu_);
  if (!line) {
    eof_ = true;
    cv_.notify_all();
    return;
  }
  if (line->oversized) {
    spdlog::warn("peer {}: dropped a reply longer than {} bytes", name_, kMaxReplyBytes);
    return;
  }
  auto r = parse_reply(line->text);
  if (!r) {
    // A login script that prints, or a banner: not ours, not fatal.
    spdlog::debug("peer {}: ignoring a line that is not a reply ({}): {}", name_, r.error(), first_chars(line->text, 200));
    return;
  }
  if (r->id == 0) {
    spdlog::warn("peer {}: the agent could not read a request: {}", name_, r->message);
    return;
  }
  if (!pending_.count(r->id)) return;  // a reply to a request we gave up on
  replies_[r->id] = std::move(*r);
  cv_.notify_all();
}

std::string AgentClient::exit_reason() {
  if (!proc_) return "the session is closed";
  auto st = proc_->wait(std::chrono::milliseconds(2000));
  if (!st) return "the session stopped answering";
  return end_reason_(*st, proc_->stderr_tail());
}

void AgentClient::lose(const std::string& why) {
  {
    std::lock_guard lk(mu_);
    if (!lost_) {
      lost_ = true;
      lost_reason_ = why;
    }
    cv_.notify_all();
  }
  // Ending ssh gives the agent EOF if the link still carries it; if not, its lease runs out.
  if (proc_) proc_->kill();
  std::string reason;
  {
    std::lock_guard lk(mu_);
    reason = lost_reason_;
  }
  throw PeerLost(reason);
}

bool AgentClient::wait_reply(std::unique_lock<std::mutex>& lk, long long id, std::chrono::milliseconds timeout, bool interruptible,
                             const std::string& op) {
  auto ready = [&] { return replies_.count(id) || eof_ || lost_; };
  if (!interruptible || !opt_.interrupted) return cv_.wait_for(lk, timeout, ready);
  // In slices, to see a Ctrl-C: an unreachable peer kept a search deaf to it for the hello's 30 s,
  // and it then exited 1 for the timeout, not 130 (found by an exploratory test).
  const auto deadline = Clock::now() + timeout;
  while (!ready() && Clock::now() < deadline) {
    if (opt_.interrupted->load()) {
      pending_.erase(id);
      lost_ = true;
      lost_reason_ = "interrupted";
      lk.unlock();
      if (proc_) proc_->kill();
      throw Cancelled(fmt::format("Ctrl-C (or SIGTERM) while waiting for peer {} to answer `{}`", name_, op));
    }
    cv_.wait_until(lk, std::min(deadline, Clock::now() + std::chrono::milliseconds(100)), ready);
  }
  return ready();
}

json AgentClient::request(const std::string& op, const json& args, std::chrono::milliseconds timeout, bool interruptible) {
  long long id = 0;
  {
    std::lock_guard lk(mu_);
    if (lost_) throw PeerLost(lost_reason_);
    if (!proc_) throw PeerLost(fmt::format("the session to peer {} is closed: reconnect first", name_));
    id = next_id_++;
    pending_.insert(id);
  }
  if (!proc_->send(encode_request({.id = id, .op = op, .args = args}))) {
    {
      std::lock_guard lk(mu_);
      pending_.erase(id);
    }
    lose(fmt::format("lost the session to peer {} before `{}`: {}", name_, op, exit_reason()));
  }
  std::unique_lock lk(mu_);
  const bool got = wait_reply(lk, id, timeout, interruptible, op);
  pending_.erase(id);
  if (got && replies_.count(id)) {
    Reply r = std::move(replies_[id]);
    replies_.erase(id);
    lk.unlock();
    if (r.ok) return r.result;
    const std::string msg = fmt::format("peer {}: {}", name_, r.message);
    if (r.kind == ErrorKind::Usage) throw UsageError(msg);
    throw Error(msg);
  }
  const bool was_lost = lost_;
  const std::string prior = lost_reason_;
  const bool at_eof = eof_;
  lk.unlock();
  if (was_lost) throw PeerLost(prior);
  if (at_eof) lose(fmt::format("lost the session to peer {} during `{}`: {}", name_, op, exit_reason()));
  {
    std::lock_guard relock(mu_);
    timed_out_ = true;
  }
  lose(fmt::format("peer {} did not answer `{}` within {}: the session is ended and the peer restores what it had "
                   "applied by itself",
                   name_, op, seconds(timeout)));
}

template <typename T>
T AgentClient::call(const std::string& op, const json& args) {
  json result = request(op, args);
  try {
    return decode_result<T>(result);
  } catch (const std::exception& e) {
    throw Error(fmt::format("peer {}: cannot read the answer to `{}`: {}", name_, op, e.what()));
  }
}

// ---- the lease

void AgentClient::start_heartbeat() {
  std::lock_guard lk(mu_);
  armed_ = true;
  lease_safe_until_ = Clock::now() + opt_.lease;
  if (hb_thread_.joinable()) return;
  hb_stop_ = false;
  hb_thread_ = std::thread([this] { heartbeat_loop(); });
}

void AgentClient::stop_heartbeat() {
  {
    std::lock_guard lk(mu_);
    armed_ = false;
    hb_stop_ = true;
    cv_.notify_all();
  }
  if (hb_thread_.joinable() && hb_thread_.get_id() != std::this_thread::get_id()) hb_thread_.join();
}

void AgentClient::heartbeat_loop() {
  for (;;) {
    Clock::time_point sent;
    std::chrono::milliseconds budget{0};
    {
      std::unique_lock lk(mu_);
      cv_.wait_for(lk, opt_.heartbeat, [&] { return hb_stop_ || lost_; });
      if (hb_stop_ || lost_) return;
      if (!armed_) continue;
      sent = Clock::now();
      // The peer's lease ends no earlier than lease_safe_until_; past it the peer may have restored.
      budget = std::chrono::duration_cast<std::chrono::milliseconds>(lease_safe_until_ - sent);
    }
    if (budget.count() <= 0) budget = std::chrono::milliseconds(1);
    try {
      request("heartbeat", json::object(), budget);
      std::lock_guard lk(mu_);
      // The agent renewed on receipt, which was after `sent`.
      if (armed_) lease_safe_until_ = sent + opt_.lease;
    } catch (const PeerLost& e) {
      spdlog::warn("{}", e.what());
      return;
    } catch (const std::exception& e) {
      spdlog::warn("peer {}: heartbeat failed: {}", name_, e.what());
    }
  }
}

// ---- operations

DiscoverResult AgentClient::discover(const DiscoverArgs& args) { return call<DiscoverResult>("discover", encode(args)); }

std::vector<std::pair<std::string, std::string>> AgentClient::read(const std::vector<std::string>& ids, const DiscoverArgs& hints) {
  return call<ReadResult>("read", encode(ReadArgs{.ids = ids, .discover = hints})).values;
}

std::vector<std::string> AgentClient::validate(const std::vector<act::Change>& changes, const DiscoverArgs& hints) {
  return call<ValidateResult>("validate", encode(ChangesArgs{.changes = changes, .discover = hints})).canonical;
}

std::vector<bool> AgentClient::equal(const std::vector<EqualItem>& items, const DiscoverArgs& hints) {
  return call<EqualResult>("equal", encode(EqualArgs{.items = items, .discover = hints})).equal;
}

std::vector<act::Step> AgentClient::preview(const std::vector<act::Change>& changes, const DiscoverArgs& hints) {
  return call<ApplyReply>("preview", encode(ChangesArgs{.changes = changes, .discover = hints})).steps;
}

ApplyReply AgentClient::apply(const std::vector<act::Change>& changes, const DiscoverArgs& hints) {
  // Heartbeats start with the request: a long apply (channel changes) must not outlive the lease.
  start_heartbeat();
  try {
    return call<ApplyReply>("apply", encode(ApplyArgs{.changes = changes, .discover = hints, .lease_ms = opt_.lease.count()}));
  } catch (const PeerLost&) {
    stop_heartbeat();
    throw;
  } catch (...) {
    stop_heartbeat();  // the agent disarmed: nothing stays applied
    throw;
  }
}

void AgentClient::keep() {
  call<LeaseState>("keep", json::object());
  stop_heartbeat();
}

act::RestoreReport AgentClient::rollback() {
  auto r = call<act::RestoreReport>("rollback", json::object());
  stop_heartbeat();
  return r;
}

RollbackAllResult AgentClient::rollback_all() { return call<RollbackAllResult>("rollback_all", json::object()); }

LeaseState AgentClient::arm() {
  start_heartbeat();
  return call<LeaseState>("arm", encode(ArmArgs{.lease_ms = opt_.lease.count()}));
}

LeaseState AgentClient::disarm() {
  auto r = call<LeaseState>("disarm", json::object());
  stop_heartbeat();
  return r;
}

void AgentClient::probe_start(const ProbeArgs& args) { request("probe_start", encode(args)); }

ProbeResult AgentClient::probe_stop() { return call<ProbeResult>("probe_stop", json::object()); }

Iperf3Result AgentClient::ensure_iperf3_server(const std::string& address, int port) {
  return call<Iperf3Result>("iperf3_ensure", encode(Iperf3Args{.bind_address = address, .port = port}));
}

Iperf3Result AgentClient::stop_iperf3_server(const std::string& address, int port) {
  return call<Iperf3Result>("iperf3_stop", encode(Iperf3Args{.bind_address = address, .port = port}));
}

PingResult AgentClient::ping() { return call<PingResult>("ping", json::object()); }

StatusResult AgentClient::status(long long since_ms) { return call<StatusResult>("status", encode(StatusArgs{.since_ms = since_ms})); }

// ---- reconnecting and closing

void AgentClient::end_session() {
  stop_heartbeat();
  proc_.reset();  // kills ssh if still running: the agent reads EOF
}

ReconnectResult AgentClient::reconnect() {
  const long long since = hello_.now_ms;  // the peer's clock when the old session began
  end_session();
  start_session(since, true);
  ReconnectResult out{.hello = hello_, .restores = hello_.restores};
  // The old agent may still hold the peer's lock: on a silent drop it lives until its lease runs
  // out and its guardian restores. Wait for that, so the caller starts from a restored peer.
  const auto deadline = Clock::now() + opt_.reconnect_wait;
  std::optional<int> holder = hello_.lock_holder;
  while (holder && Clock::now() < deadline) {
    if (opt_.interrupted && opt_.interrupted->load())
      throw Cancelled(fmt::format("Ctrl-C (or SIGTERM) while waiting for peer {}'s old agent to finish", name_));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    auto st = status(since);
    holder = st.lock_holder;
    out.restores = st.restores;
  }
  out.old_agent_still_running = holder.has_value();
  if (holder) spdlog::warn("peer {}: pid {} still holds the peer's lock after {}", name_, *holder, seconds(opt_.reconnect_wait));
  return out;
}

void AgentClient::close() {
  if (!proc_) {
    stop_heartbeat();
    return;
  }
  try {
    if (!lost()) request("bye", json::object(), std::chrono::milliseconds(15000));
  } catch (const std::exception& e) {
    spdlog::debug("peer {}: bye: {}", name_, e.what());
  }
  stop_heartbeat();
  proc_->close_stdin();
  proc_->wait(std::chrono::milliseconds(5000));
  proc_.reset();
}

}  // namespace wgopt::peer

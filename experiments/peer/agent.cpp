#include "experiments/peer/agent.hpp"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "actuators/allowlist.hpp"
#include "actuators/catalog.hpp"
#include "actuators/host.hpp"
#include "actuators/journal.hpp"
#include "actuators/knob_json.hpp"
#include "actuators/lock.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "workload/pidfile.hpp"
#include "common/util.hpp"
#include "experiments/measure/host_facts.hpp"
#include "actuators/restore_log.hpp"
#include "probes/diagnosis.hpp"

namespace wgopt::peer {

using nlohmann::json;
using act::unix_ms;

namespace {

// The two ends speak different protocol versions.
class VersionMismatch : public Error {
 public:
  using Error::Error;
};

act::DiscoverOptions discover_options(const DiscoverArgs& a) {
  return {.interfaces = a.interfaces, .allow_underlay_mtu = a.allow_underlay_mtu, .wireguard = a.wireguard};
}

// The knobs a change list names, as `wgopt set` finds them: an id find_knob does not know stays
// out, and the transaction (or validate) names the problem.
std::vector<act::KnobPtr> knobs_for(const act::Host& host, const std::vector<act::Change>& changes,
                                    const act::DiscoverOptions& d) {
  std::vector<act::KnobPtr> knobs;
  for (const auto& c : changes) {
    if (act::knob_id_problem(c.id)) continue;
    try {
      knobs.push_back(act::find_knob(host, c.id, d));
    } catch (const UsageError&) {
    }
  }
  return knobs;
}

}  // namespace

struct Agent::OpenTransaction {
  act::Host host;
  std::vector<act::KnobPtr> knobs;
  std::unique_ptr<act::Transaction> tx;  // last: destroyed before the knobs it points at
};

Agent::Agent(AgentOptions options) : opt_(std::move(options)) {}

Agent::~Agent() {
  try {
    finish("the agent ended");
  } catch (...) {
  }
}

bool Agent::is_heartbeat(const std::string& line) {
  auto r = parse_request(line);
  return r && r->op == "heartbeat";
}

std::string Agent::oversized_reply() const {
  return encode_reply(error_reply(0, ErrorKind::Protocol,
                                  fmt::format("request line longer than {} bytes: dropped unread", kMaxRequestBytes)));
}

std::string Agent::handle_line(const std::string& line) {
  auto req = parse_request(line);
  if (!req) return encode_reply(error_reply(req.error().id, ErrorKind::Protocol, req.error().message));
  const long long id = req->id;
  const auto& ops = known_ops();
  if (std::find(ops.begin(), ops.end(), req->op) == ops.end()) {
    return encode_reply(error_reply(id, ErrorKind::Protocol,
                                    fmt::format("unknown op '{}': the controller and the peer run different wgopt "
                                                "versions? install the same one on both",
                                                req->op)));
  }
  try {
    return encode_reply(Reply{.id = id, .ok = true, .result = dispatch(*req)});
  } catch (const VersionMismatch& e) {
    return encode_reply(error_reply(id, ErrorKind::Version, e.what()));
  } catch (const UsageError& e) {
    return encode_reply(error_reply(id, ErrorKind::Usage, e.what()));
  } catch (const Error& e) {
    return encode_reply(error_reply(id, ErrorKind::Runtime, e.what()));
  } catch (const nlohmann::json::exception& e) {
    return encode_reply(error_reply(id, ErrorKind::Protocol, std::string("malformed arguments: ") + e.what()));
  } catch (const std::exception& e) {
    return encode_reply(error_reply(id, ErrorKind::Runtime, std::string("internal error on the peer: ") + e.what()));
  }
}

json Agent::dispatch(const Request& r) {
  const auto& a = r.args;
  const std::string& op = r.op;
  if (op == "hello") return op_hello(a);
  if (op == "heartbeat") {
    decode_none(a);
    return encode(renew());
  }
  if (op == "status") return op_status(a);
  if (op == "discover") return op_discover(a);
  if (op == "read") return op_read(a);
  if (op == "validate") return op_validate(a);
  if (op == "preview") return op_preview(a);
  if (op == "equal") return op_equal(a);
  if (op == "apply") return op_apply(a);
  if (op == "arm") return encode(arm(decode_arm(a).lease_ms));
  if (op == "probe_start") return op_probe_start(a);
  if (op == "iperf3_ensure") return op_iperf3_ensure(a);
  if (op == "iperf3_stop") return op_iperf3_stop(a);
  decode_none(a);  // the rest take no arguments; an unknown op throws here too
  if (op == "keep") return op_keep();
  if (op == "rollback") return op_rollback();
  if (op == "rollback_all") return op_rollback_all();
  if (op == "disarm") {
    if (tx_) throw UsageError("a change is applied on this peer: keep it or roll it back (that disarms the lease)");
    return encode(disarm());
  }
  if (op == "probe_stop") return op_probe_stop();
  if (op == "ping") return encode(PingResult{.now_ms = unix_ms(), .pid = ::getpid()});
  if (op == "bye") {
    finish("the controller ended the session");
    done_ = true;
    return json::object();
  }
  throw ArgsError(fmt::format("unknown op '{}'", op));
}

// ---- lease

LeaseState Agent::arm(long long lease_ms) {
  std::lock_guard lk(lease_mu_);
  if (!guardian_) {
    act::ensure_dir(opt_.state_dir);
    guardian_.emplace(act::Watchdog::start(opt_.wgopt_exe, opt_.state_dir));
    spdlog::info("guardian pid {} watches this agent (state {})", guardian_->pid(), opt_.state_dir);
  }
  lease_ms_ = lease_ms;
  deadline_ms_ = unix_ms() + lease_ms;
  guardian_->arm(std::chrono::milliseconds(lease_ms));
  armed_ = true;
  return {.armed = true, .deadline_ms = deadline_ms_};
}

LeaseState Agent::disarm() {
  std::lock_guard lk(lease_mu_);
  if (guardian_) guardian_->disarm();
  armed_ = false;
  deadline_ms_ = 0;
  return {};
}

LeaseState Agent::renew() {
  std::lock_guard lk(lease_mu_);
  if (!armed_ || !guardian_) return {};
  deadline_ms_ = unix_ms() + lease_ms_;
  guardian_->arm(std::chrono::milliseconds(lease_ms_));
  return {.armed = true, .deadline_ms = deadline_ms_};
}

void Agent::tighten_lease() {
  std::lock_guard lk(lease_mu_);
  if (!armed_ || !guardian_) return;
  deadline_ms_ = std::min(deadline_ms_, unix_ms() + opt_.eof_grace_ms);
  guardian_->arm(std::chrono::milliseconds(std::max(0LL, deadline_ms_ - unix_ms())));
}

// ---- state

act::ChangeSession& Agent::session() {
  if (!session_) {
    session_.emplace(opt_.state_dir, act::default_knob_lookup(), act::SessionOptions{.run_dir = opt_.run_dir});
    restored_first_ = session_->startup();
    for (const auto& item : restored_first_.items) spdlog::warn("restored first: {}", item.line());
    // In the peer's audit trail as its agent's and guardian's restores are (found by an exploratory
    // test: after both were killed, the next agent restored silently and the search said "the
    // peer had nothing to restore").
    if (!restored_first_.items.empty()) {
      act::append_restore_record(opt_.state_dir, {.at_ms = unix_ms(), .pid = ::getpid(), .by = "agent at its start",
                                                  .why = "an earlier session left a change open (its agent and guardian are gone)",
                                                  .report = restored_first_});
    }
  }
  return *session_;
}

act::Host Agent::host() const {
  act::Host h = act::make_host(Place::host());
  h.files = std::make_shared<act::GuardedFiles>(h.files);
  return h;
}

JournalState Agent::journal_state() const {
  act::Journal j(opt_.state_dir);
  try {
    j.load();
  } catch (const Error& e) {
    spdlog::warn("{}", e.what());
    return {};
  }
  return {.entries = static_cast<int>(j.data().entries.size()), .open = j.data().open};
}

std::optional<int> Agent::other_lock_holder() const {
  auto h = act::lock_holder(opt_.run_dir);
  if (h && *h == ::getpid()) return std::nullopt;
  return h;
}

// ---- ops

json Agent::op_hello(const json& a) {
  // The version is checked before the strict decode: a controller of another version may send
  // arguments this agent does not know, and the useful answer is the version, not the argument.
  auto proto = a.find("protocol");
  const int theirs = proto != a.end() && proto->is_number_integer() ? proto->get<int>() : -1;
  if (theirs != kProtocolVersion) {
    throw VersionMismatch(fmt::format("this peer's wgopt {} speaks agent protocol {}, the controller's wgopt {} speaks {}: "
                                      "install the same wgopt version on both hosts",
                                      opt_.wgopt_version, kProtocolVersion, a.value("wgopt_version", std::string("?")),
                                      theirs));
  }
  const HelloArgs h = decode_hello(a);
  HelloResult r{.protocol = kProtocolVersion, .wgopt_version = opt_.wgopt_version, .pid = ::getpid(),
                .now_ms = unix_ms(), .state_dir = opt_.state_dir, .run_dir = opt_.run_dir};
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  auto& f = r.facts;
  f.hostname = name;
  f.kernel = experiments::kernel_release();
  f.nproc = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  f.sku = experiments::read_sku(f.nproc);
  f.boot_id = boot_id();
  f.irqbalance_running = probes::irqbalance_running();
  auto runner = default_runner();
  for (const auto& i : h.interfaces) {
    f.nic_driver[i] = experiments::nic_driver(*runner, Place::host(), i);
    f.wireguard_mode[i] = experiments::wireguard_mode(*runner, Place::host(), i);
  }
  r.lock_holder = other_lock_holder();
  // A reconnect's: a change left open with no one holding the lock (the agent and its guardian
  // died) is restored now, before the controller measures anything, not at its next apply. Other
  // hellos (a dry run, show, facts) change nothing: their first op that writes restores it.
  if (h.restore_open && !r.lock_holder && journal_state().open) {
    try {
      session();
    } catch (const std::exception& e) {
      spdlog::warn("restoring the change an earlier session left open: {}", e.what());
    }
    r.lock_holder = other_lock_holder();
  }
  r.journal = journal_state();
  r.restores = act::read_restore_records(opt_.state_dir, h.since_ms);
  return encode(r);
}

json Agent::op_status(const json& a) {
  const StatusArgs s = decode_status(a);
  StatusResult r{.lock_holder = other_lock_holder(), .journal = journal_state(), .transaction_open = tx_ != nullptr};
  {
    std::lock_guard lk(lease_mu_);
    r.armed = armed_;
    r.lease_deadline_ms = deadline_ms_;
  }
  r.restores = act::read_restore_records(opt_.state_dir, s.since_ms);
  return encode(r);
}

json Agent::op_discover(const json& a) {
  const DiscoverArgs d = decode_discover(a);
  const act::Host h = host();
  DiscoverResult r;
  for (auto& k : act::discover_knobs(h, discover_options(d))) {
    KnobRow row{.descriptor = k->descriptor(), .presence = k->presence()};
    if (row.presence.present) {
      try {
        row.value = k->read();
      } catch (const std::exception& e) {
        row.read_error = e.what();
      }
    }
    r.knobs.push_back(std::move(row));
  }
  return encode(r);
}

json Agent::op_read(const json& a) {
  const ReadArgs ra = decode_read(a);
  const act::Host h = host();
  ReadResult r;
  for (const auto& id : ra.ids) {
    act::KnobPtr k = act::find_knob(h, id, discover_options(ra.discover));
    const act::Presence p = k->presence();
    if (!p.present) throw UsageError(fmt::format("knob {} does not exist on this peer: {}", id, p.why_not));
    r.values.emplace_back(id, k->read());
  }
  return encode(r);
}

json Agent::op_validate(const json& a) {
  const ChangesArgs c = decode_changes(a);
  const act::Host h = host();
  ValidateResult r;
  for (const auto& ch : c.changes) r.canonical.push_back(act::find_knob(h, ch.id, discover_options(c.discover))->validate(ch.value));
  return encode(r);
}

// `wgopt apply --ssh --dry-run`: the checks and the steps of a transaction, nothing written.
json Agent::op_preview(const json& a) {
  const ChangesArgs c = decode_changes(a);
  const act::Host h = host();
  const auto knobs = knobs_for(h, c.changes, discover_options(c.discover));
  return encode(ApplyReply{.steps = act::Transaction::preview(h, knobs, c.changes).steps});
}

json Agent::op_equal(const json& a) {
  const EqualArgs e = decode_equal(a);
  const act::Host h = host();
  EqualResult r;
  for (const auto& i : e.items) r.equal.push_back(act::find_knob(h, i.id, discover_options(e.discover))->equal(i.a, i.b));
  return encode(r);
}

json Agent::op_apply(const json& a) {
  const ApplyArgs ap = decode_apply(a);
  if (tx_) throw UsageError("a change is already applied on this peer: keep it or roll it back first");
  act::ChangeSession& s = session();
  const LeaseState lease = arm(ap.lease_ms);  // guarded before the first write
  try {
    auto t = std::make_unique<OpenTransaction>();
    t->host = host();
    t->knobs = knobs_for(t->host, ap.changes, discover_options(ap.discover));
    t->tx = std::make_unique<act::Transaction>(s, t->host, t->knobs);
    act::ApplyResult res = t->tx->apply(ap.changes);
    tx_ = std::move(t);
    ApplyReply reply{.steps = res.steps, .restored_first = restored_first_, .lease_deadline_ms = lease.deadline_ms};
    restored_first_ = {};
    return encode(reply);
  } catch (...) {
    disarm();  // nothing stays applied: the transaction restored what it had written
    throw;
  }
}

json Agent::op_keep() {
  if (!tx_) throw UsageError("no change is applied on this peer: nothing to keep");
  tx_->tx->keep();
  tx_.reset();
  return encode(disarm());
}

json Agent::op_rollback() {
  if (!tx_) throw UsageError("no change is applied on this peer: nothing to roll back");
  act::RestoreReport report = tx_->tx->rollback();
  tx_.reset();
  disarm();
  return encode(report);
}

json Agent::op_rollback_all() {
  if (tx_) throw UsageError("a change is applied on this peer: keep it or roll it back first");
  act::ChangeSession& s = session();
  RollbackAllResult r{.report = s.rollback_all(), .restored_first = restored_first_};
  restored_first_ = {};
  return encode(r);
}

json Agent::op_probe_start(const json& a) {
  const ProbeArgs p = decode_probe(a);
  if (sampler_) throw UsageError("the probes already run on this peer: stop them first");
  auto s = std::make_unique<probes::Sampler>(probes::SamplerOptions{.interfaces = probes::watch(Place::host(), p.interfaces),
                                                                   .interval = std::chrono::milliseconds(p.interval_ms),
                                                                   .ethtool = p.ethtool,
                                                                   .wireguard = p.wireguard});
  s->start();
  sampler_ = std::move(s);
  return json::object();
}

json Agent::op_probe_stop() {
  if (!sampler_) throw UsageError("the probes do not run on this peer: start them first");
  auto s = std::move(sampler_);
  probes::SamplerResult res = s->stop();
  return encode(ProbeResult{.summary = std::move(res.summary), .seconds = std::move(res.seconds)});
}

workload::ServerOptions Agent::iperf3_options(const Iperf3Args& a) const {
  act::ensure_dir(opt_.run_dir);
  std::string addr = a.bind_address;
  for (auto& c : addr) {
    if (c == ':') c = '_';
  }
  return {.place = Place::host(), .bind_address = a.bind_address, .port = a.port,
          .pidfile = fmt::format("{}/iperf3-agent-{}-{}.pid", opt_.run_dir, addr, a.port)};
}

// The agent that owns a server is in PIDFILE.owner: the server's pid when our pid file names a live
// iperf3 and its owner is not a live process (or left no owner file), else 0.
int Agent::orphan_server(const workload::ServerOptions& opts) const {
  const int pid = workload::server_state(opts).pid;
  if (pid == 0) return 0;
  const auto owner = read_file(opts.pidfile + ".owner");
  int owner_pid = 0;
  if (owner) owner_pid = static_cast<int>(std::strtol(owner->c_str(), nullptr, 10));
  return owner_pid > 0 && workload::process_alive(owner_pid) ? 0 : pid;  // this agent's own included: not an orphan
}

// Records this agent as the owner of the server on `opts`' pid file, before it starts one (so a
// second agent never finds it listening without an owner) or when it adopts one.
void Agent::own_server(const workload::ServerOptions& opts) {
  try {
    write_file_atomic(opts.pidfile + ".owner", std::to_string(::getpid()) + "\n");
  } catch (const std::exception& e) {
    spdlog::warn("recording this agent as the iperf3 server's owner: {}", e.what());
  }
  const bool known = std::any_of(servers_.begin(), servers_.end(), [&](const workload::ServerOptions& s) {
    return s.bind_address == opts.bind_address && s.port == opts.port;
  });
  if (!known) servers_.push_back(opts);
}

json Agent::op_iperf3_ensure(const json& a) {
  const auto opts = iperf3_options(decode_iperf3(a));
  if (workload::is_listening(opts.place, opts.bind_address, opts.port)) {
    // A server an earlier agent started from this pid file, and that agent died (killed: its
    // finish() never stopped it): this agent's now, stopped at its end (found by an exploratory
    // test: every later search adopted it as someone else's, and it served on for good). This
    // agent's own server (a second ensure) is not an orphan: not started again.
    if (const int pid = orphan_server(opts)) {
      own_server(opts);
      spdlog::info("adopted iperf3 server pid {} on {}:{} (its agent is gone)", pid, opts.bind_address, opts.port);
      return encode(Iperf3Result{.started = true, .listening = true, .pid = pid});
    }
    // Someone serves it already (by hand, a running agent, or this one): not started here.
    return encode(Iperf3Result{.started = false, .listening = true, .pid = 0});
  }
  own_server(opts);
  workload::ServerState st;
  try {
    st = workload::start_server(opts, *default_runner());
  } catch (...) {
    ::unlink((opts.pidfile + ".owner").c_str());
    servers_.erase(std::remove_if(servers_.begin(), servers_.end(), [&](const workload::ServerOptions& s) {
                     return s.bind_address == opts.bind_address && s.port == opts.port;
                   }), servers_.end());
    throw;
  }
  spdlog::info("started iperf3 server pid {} on {}:{}", st.pid, opts.bind_address, opts.port);
  return encode(Iperf3Result{.started = true, .listening = st.listening, .pid = st.pid});
}

json Agent::op_iperf3_stop(const json& a) {
  const auto opts = iperf3_options(decode_iperf3(a));
  Iperf3Result r;
  for (auto it = servers_.begin(); it != servers_.end(); ++it) {
    if (it->bind_address == opts.bind_address && it->port == opts.port) {
      r.started = workload::stop_server(opts);
      ::unlink((opts.pidfile + ".owner").c_str());
      servers_.erase(it);
      break;
    }
  }
  r.listening = workload::is_listening(opts.place, opts.bind_address, opts.port);
  return encode(r);
}

// ---- the end

void Agent::finish(const std::string& why) {
  if (finished_) return;
  finished_ = true;
  act::RestoreReport report;
  if (tx_) {
    spdlog::warn("{}: rolling back the applied change", why);
    try {
      report = tx_->tx->rollback();
    } catch (const std::exception& e) {
      spdlog::error("rollback failed: {}", e.what());
      report.items.push_back({.id = "(transaction)", .outcome = act::Outcome::Failed, .detail = e.what()});
    }
    tx_.reset();
    for (const auto& item : report.items) spdlog::warn("{}", item.line());
    act::append_restore_record(opt_.state_dir, {.at_ms = unix_ms(), .pid = ::getpid(), .by = "agent", .why = why, .report = report});
  }
  if (sampler_) {
    try {
      sampler_->stop();
    } catch (const std::exception& e) {
      spdlog::warn("stopping the probes: {}", e.what());
    }
    sampler_.reset();
  }
  for (const auto& s : servers_) {
    try {
      workload::stop_server(s);
      ::unlink((s.pidfile + ".owner").c_str());
    } catch (const std::exception& e) {
      spdlog::warn("stopping the iperf3 server on {}:{}: {}", s.bind_address, s.port, e.what());
    }
  }
  servers_.clear();
  finish_ok_ = report.ok();
  session_.reset();  // releases the lock, so the guardian can take it if it must
  std::lock_guard lk(lease_mu_);
  if (guardian_) {
    if (report.ok()) {
      guardian_->stop();
    } else {
      spdlog::error("not everything was restored: the guardian retries when this agent exits");
      guardian_->abandon();
    }
    guardian_.reset();
  }
  armed_ = false;
}

int run_agent(AgentOptions options) {
  struct Shared {
    Agent agent;
    std::mutex out_mu, q_mu;
    std::condition_variable q_cv;
    std::deque<std::optional<LineFramer::Line>> queue;
    explicit Shared(AgentOptions o) : agent(std::move(o)) {}
    void emit(const std::string& line) {
      std::lock_guard lk(out_mu);
      const std::string data = line + "\n";
      size_t done = 0;
      while (done < data.size()) {
        ssize_t n = ::write(1, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the controller is gone; EOF on stdin follows
        done += static_cast<size_t>(n);
      }
    }
    void push(std::optional<LineFramer::Line> l) {
      std::lock_guard lk(q_mu);
      queue.push_back(std::move(l));
      q_cv.notify_one();
    }
  };
  auto shared = std::make_shared<Shared>(std::move(options));
  spdlog::info("agent pid {} serving (protocol {}, state {})", ::getpid(), kProtocolVersion, act::state_dir());
  // Heartbeats are answered here, on the reader thread, so a long request never starves the lease.
  std::thread([shared] {
    LineFramer framer(kMaxRequestBytes);
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (auto& line : framer.feed(std::string_view(buf, static_cast<size_t>(n)))) {
        if (!line.oversized && Agent::is_heartbeat(line.text)) {
          shared->emit(shared->agent.handle_line(line.text));
        } else {
          shared->push(std::move(line));
        }
      }
    }
    if (framer.has_partial()) spdlog::warn("the session ended in the middle of a request line");
    shared->agent.tighten_lease();
    shared->push(std::nullopt);
  }).detach();

  for (;;) {
    std::optional<LineFramer::Line> item;
    {
      std::unique_lock lk(shared->q_mu);
      shared->q_cv.wait(lk, [&] { return !shared->queue.empty(); });
      item = std::move(shared->queue.front());
      shared->queue.pop_front();
    }
    if (!item) {
      shared->agent.finish("the SSH session ended (EOF on stdin)");
      break;
    }
    shared->emit(item->oversized ? shared->agent.oversized_reply() : shared->agent.handle_line(item->text));
    if (shared->agent.done()) break;
  }
  return shared->agent.finished_clean() ? 0 : 1;
}

}  // namespace wgopt::peer

// The search world (see search_world.hpp).
#include "tests/experiments/search_world.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <sstream>

#include "actuators/catalog.hpp"
#include "experiments/search/policies.hpp"
#include "common/util.hpp"
#include "workload/iperf3_result.hpp"
#include "experiments/search/remote_end.hpp"
#include "experiments/study/study_store.hpp"

namespace fs = std::filesystem;

namespace wgopt::test {

using namespace wgopt::experiments;

namespace {

// Liveness fails above this tunnel MTU: the path black-holes larger packets.
constexpr int kBlackHoleAbove = 1400;

class NoRunner : public CommandRunner {
 public:
  explicit NoRunner(std::vector<std::string>& log) : log_(log) {}
  CommandResult run(const Command& cmd) override {
    log_.push_back("UNEXPECTED command: " + render_argv(cmd.argv));
    CommandResult r;
    r.exit_code = 1;
    r.err = "not in the search world";
    return r;
  }

 private:
  std::vector<std::string>& log_;
};

class RecordingGuardian : public act::Guardian {
 public:
  RecordingGuardian(std::function<void(const std::string&)> event, std::function<void()> on_arm)
      : event_(std::move(event)), on_arm_(std::move(on_arm)) {}
  ~RecordingGuardian() override { event_("guardian destroyed"); }
  void arm(std::chrono::milliseconds deadline) override {
    event_(fmt::format("guardian arm {} ms", deadline.count()));
    on_arm_();
  }
  void disarm() override { event_("guardian disarm"); }
  void stop() override { event_("guardian stop"); }

 private:
  std::function<void(const std::string&)> event_;
  std::function<void()> on_arm_;
};


// The peer's agent as the search sees it (experiments::PeerLink), over the server's fake host: its
// own journal and lock (the peer's state dir), its own transactions, a scripted loss of the session.
class FakePeerLink : public PeerLink {
 public:
  FakePeerLink(act::Host host, const std::string& state_dir, std::function<void(const std::string&)> event, const Script& script,
               int& probes, bool& cut)
      : host_(std::move(host)), event_(std::move(event)), script_(script), probes_(probes), cut_(cut) {
    hello_.protocol = peer::kProtocolVersion;
    hello_.wgopt_version = "world";
    hello_.state_dir = state_dir;
    hello_.facts = {.hostname = "peer", .kernel = "6.18.0-world", .sku = "world-sku", .boot_id = "b", .nproc = 2};
    hello_.facts.nic_driver = {{"veth0", "veth"}};  // the agent reads them for the interfaces it is asked about
    hello_.facts.wireguard_mode = {{"wg0", "userspace"}};
    session_.emplace(state_dir, [this](const Place&, const std::string& id) { return act::find_knob(host_, id, opts_); },
                     act::SessionOptions{.run_dir = state_dir + "/run"});
  }
  std::string name() const override { return "root@peer.test"; }
  const peer::HelloResult& hello() const override { return hello_; }
  bool lost() const override { return lost_ || cut_; }
  peer::DiscoverResult discover(const peer::DiscoverArgs& a) override {
    check();
    opts_ = {.interfaces = a.interfaces, .allow_underlay_mtu = a.allow_underlay_mtu, .wireguard = a.wireguard};
    knobs_ = act::discover_knobs(host_, opts_);
    event_(fmt::format("peer discover [{}]: {} knobs", fmt::join(a.interfaces, ","), knobs_.size()));
    peer::DiscoverResult r;
    for (const auto& k : knobs_) {
      peer::KnobRow row{k->descriptor(), k->presence(), std::nullopt, ""};
      if (row.presence.present) {
        try {
          row.value = k->read();
        } catch (const Error& e) {
          row.read_error = e.what();
        }
      }
      r.knobs.push_back(row);
    }
    return r;
  }
  void apply(const std::vector<act::Change>& changes, const peer::DiscoverArgs&) override {
    check();
    std::string what;
    for (const auto& c : changes) what += (what.empty() ? "" : ", ") + c.id + "=" + c.value;
    event_("peer apply (lease armed): " + what);
    tx_ = std::make_unique<act::Transaction>(*session_, host_, knobs_);
    try {
      tx_->apply(changes);
    } catch (...) {
      tx_.reset();
      throw;
    }
  }
  void keep() override {
    check();
    event_("peer keep");
    tx_->keep();
    tx_.reset();
  }
  act::RestoreReport rollback() override {
    check();
    event_("peer rollback");
    auto r = tx_->rollback();
    tx_.reset();
    return r;
  }
  void probe_start(const peer::ProbeArgs& a) override {
    check();
    event_(fmt::format("peer probes start [{}]", fmt::join(a.interfaces, ",")));
  }
  peer::ProbeResult probe_stop() override {
    check();
    if (++probes_ == script_.peer_lost_at_probe) lose("the ssh session ended (scripted)");
    event_("peer probes stop");
    peer::ProbeResult r;
    r.summary.top_soft_cpu = 1;
    r.summary.top_soft_pct = 30;
    return r;
  }
  peer::Iperf3Result ensure_iperf3_server(const std::string& a, int port) override {
    check();
    event_(fmt::format("peer iperf3 server on {}:{}: started", a, port));
    return {.started = true, .listening = true, .pid = 4242};
  }
  void stop_iperf3_server(const std::string& a, int port) override {
    check();
    event_(fmt::format("peer iperf3 server on {}:{}: stopped", a, port));
  }
  peer::ReconnectResult reconnect() override {
    if (script_.interrupt_at_reconnect && interrupted_) {  // as AgentClient's hello wait sees a signal
      *interrupted_ = true;
      event_("peer reconnect: Ctrl-C while the hello is awaited");
      throw Cancelled("Ctrl-C (or SIGTERM) while waiting for peer peer.test to answer `hello`");
    }
    if (script_.peer_unreachable) {
      event_("peer reconnect: refused");
      throw Error("ssh: connect to host peer.test port 22: Connection timed out");
    }
    lost_ = false;
    event_("peer reconnect: ok");
    peer::ReconnectResult r;
    r.hello = hello_;
    if (restored_) r.restores.push_back({.at_ms = 1, .pid = 2, .by = "agent", .why = "EOF", .report = *restored_});
    restored_.reset();
    return r;
  }
  void close() override {
    if (!closed_) event_("peer close");
    closed_ = true;
  }
  std::atomic<bool>* interrupted_ = nullptr;  // the search's flag (Script::interrupt_at_reconnect)

 private:
  void check() {
    if (lost_) throw peer::PeerLost("peer root@peer.test: the session is lost");
    if (cut_) {
      cut_ = false;
      lose("the heartbeat found the session gone (scripted)");
    }
  }
  // The session dies: the peer's agent sees EOF and restores its open transaction by itself.
  [[noreturn]] void lose(const std::string& why) {
    lost_ = true;
    if (tx_) {
      restored_ = tx_->rollback();
      tx_.reset();
    }
    event_(fmt::format("peer session lost; the peer restored {} knob(s) by itself", restored_ ? restored_->items.size() : 0));
    throw peer::PeerLost("peer root@peer.test: " + why);
  }

  act::Host host_;
  std::function<void(const std::string&)> event_;
  const Script& script_;
  int& probes_;
  bool& cut_;
  peer::HelloResult hello_;
  act::DiscoverOptions opts_;
  std::vector<act::KnobPtr> knobs_;
  std::optional<act::ChangeSession> session_;
  std::unique_ptr<act::Transaction> tx_;
  std::optional<act::RestoreReport> restored_;
  bool lost_ = false, closed_ = false;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int to_int(const std::optional<std::string>& s) { return s ? std::stoi(trim(*s)) : -1; }

}  // namespace

std::string EndValues::line() const { return fmt::format("mtu={} txq={} rmem_max={} cc={}", mtu, txqueuelen, rmem_max, cc); }

SearchWorld::SearchWorld(Script s) : script(s), cli_(2), srv_(2) {
  cli_.host.place = Place::netns("tcli");
  srv_.host.place = Place::netns("tsrv");
  // On tmpfs: the journal and the study fsync every write, which costs seconds per case on a disk.
  char tmpl[] = "/dev/shm/wgopt-search-world-XXXXXX";
  dir_ = ::mkdtemp(tmpl);
}

SearchWorld::~SearchWorld() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void SearchWorld::write(bool server, const std::string& path, const std::string& value) {
  (server ? srv_ : cli_).files->write(path, value);
}

void SearchWorld::start_poor() {
  for (bool server : {false, true}) {
    write(server, "/sys/class/net/wg0/mtu", "1280");
    write(server, "/sys/class/net/wg0/tx_queue_len", "100");
    write(server, "/proc/sys/net/ipv4/tcp_rmem", "4096 16384 16384");
    write(server, "/proc/sys/net/ipv4/tcp_congestion_control", "reno");
  }
}

void SearchWorld::start_good() {
  for (bool server : {false, true}) {
    write(server, "/sys/class/net/wg0/mtu", "1400");
    write(server, "/sys/class/net/wg0/tx_queue_len", "1000");
    write(server, "/proc/sys/net/ipv4/tcp_rmem", "4096 131072 4194304");
    write(server, "/proc/sys/net/ipv4/tcp_congestion_control", "bbr");
  }
}

EndValues SearchWorld::values(bool server) const {
  auto& files = *(server ? srv_ : cli_).files;
  EndValues v;
  v.mtu = to_int(files.read("/sys/class/net/wg0/mtu"));
  v.txqueuelen = to_int(files.read("/sys/class/net/wg0/tx_queue_len"));
  auto rmem = split_ws(files.read("/proc/sys/net/ipv4/tcp_rmem").value_or("0 0 0"));
  v.rmem_max = rmem.size() == 3 ? std::stoll(rmem[2]) : -1;
  v.cc = trim(files.read("/proc/sys/net/ipv4/tcp_congestion_control").value_or("?"));
  return v;
}

double SearchWorld::throughput(const EndValues& v) const {
  if (script.flat) return 400;
  auto matters = [&](const char* knob) { return std::find(script.inert.begin(), script.inert.end(), knob) == script.inert.end(); };
  double tp = 300;
  if (matters("mtu")) tp += (std::min(v.mtu, kBlackHoleAbove) - 1280) * 1.5;
  if (matters("txqueuelen") && v.txqueuelen >= 500) tp += 60;
  if (matters("rmem")) tp += std::clamp(25 * std::log2(static_cast<double>(std::max<long long>(v.rmem_max, 1)) / 16384.0), 0.0, 100.0);
  if (matters("cc") && v.cc == "bbr") tp += 80;
  if (matters("cc") && v.cc == "reno") tp -= 20;
  return tp;
}

void SearchWorld::event(const std::string& line) {
  if (pending_wait_ms_ > 0) {
    log.push_back(fmt::format("wait {} ms", pending_wait_ms_));
    pending_wait_ms_ = 0;
  }
  log.push_back(line);
}

// With a far end (--ssh), its probes run around the measurement, as measure_objective runs them.
Evaluation SearchWorld::measure(const Objective& objective, const MeasureOptions& mo) {
  if (mo.far_end) mo.far_end->start();
  Evaluation ev = measure_here(objective, mo);
  if (mo.far_end) {
    const probes::Summary far = mo.far_end->stop();
    for (auto& sc : ev.scenarios) sc.far_probes = far;
  }
  return ev;
}

Evaluation SearchWorld::measure_here(const Objective& objective, const MeasureOptions& mo) {
  const int k = ++measures_;
  const EndValues c = values(false), s = values(true);
  // A screening measurement (shorter than the default objective's 10 s) says so in the trace.
  const std::string length = objective.duration == Objective{}.duration ? "" : fmt::format(" ({} s)", objective.duration.count());
  const std::string seen = fmt::format("measure {}{}: client {} | server {}", k, length, c.line(), s.line());
  Evaluation ev;
  if (k == script.other_sets_txqueuelen_at_measure) {
    write(false, "/sys/class/net/wg0/tx_queue_len", "777");
    event(seen + ": someone else sets the client's txqueuelen to 777");
  }
  if (k == script.interrupt_at_measure) {
    interrupted = true;
    ev.state = Evaluation::State::Interrupted;
    ev.note = "interrupted";
    event(seen + " -> interrupted");
    return ev;
  }
  if (k == script.peer_cut_at_measure) {
    peer_cut_ = true;
    event(seen + ": the peer's session is cut");
    if (mo.abandoned && mo.abandoned()) {
      ev.state = Evaluation::State::Failed;
      ev.note = kAbandonedNote;
      ev.seconds = 1;
      clock_ms_ += 1000;
      event(fmt::format("measure {} -> abandoned at once", k));
      return ev;
    }
  }
  const double planned = static_cast<double>(objective.duration.count()) * static_cast<double>(objective.scenarios.size());
  if (std::find(script.refused_measures.begin(), script.refused_measures.end(), k) != script.refused_measures.end()) {
    ScenarioOutcome out;
    out.scenario = objective.scenarios.front().name;
    out.run.status = workload::RunStatus::connect_failed;
    out.run.iperf3_error = "unable to connect to server - server may have stopped running or use a different port, firewall "
                           "issue, etc.: Connection refused";
    out.run.message = "iperf3 could not connect: " + out.run.iperf3_error;
    ev.state = Evaluation::State::Failed;
    ev.note = out.scenario + ": " + out.run.message;
    ev.scenarios.push_back(out);
    ev.seconds = 1;
    clock_ms_ += 1000;
    event(seen + " -> refused");
    return ev;
  }
  const bool scripted_failure = std::find(script.fail_measures.begin(), script.fail_measures.end(), k) != script.fail_measures.end();
  if (scripted_failure || std::min(c.txqueuelen, s.txqueuelen) < script.fail_below_txqueuelen) {
    ev.state = Evaluation::State::Failed;
    ev.note = "tcp: iperf3 error: unable to send (queue too short)";
    ev.seconds = 2;
    clock_ms_ += 2000;
    event(seen + " -> failed");
    return ev;
  }
  // Deterministic noise of about +-5 Mbit/s from the measurement's number.
  const double noise = static_cast<double>((static_cast<unsigned>(k) * 2654435761u >> 8) % 41) * 0.25 - 5;
  const bool low = std::find(script.low_measures.begin(), script.low_measures.end(), k) != script.low_measures.end();
  const double tp = (throughput(c) + throughput(s)) / 2 + noise - (low ? 100 : 0);
  ScenarioOutcome out;
  out.scenario = objective.scenarios.front().name;
  out.series_mbps.assign(static_cast<size_t>(objective.duration.count()), tp);
  out.series_mean_mbps = tp;
  // A measurement the pruner stopped after `seconds`, for `reason`.
  auto pruned = [&](const std::string& reason, int seconds) {
    out.pruned = true;
    out.prune_reason = reason;
    ev.state = Evaluation::State::Pruned;
    ev.note = out.scenario + ": " + out.prune_reason;
    ev.seconds = seconds;
    ev.saved_seconds = planned - ev.seconds;
    ev.scenarios.push_back(out);
    clock_ms_ += seconds * 1000;
  };
  if (std::find(script.stall_measures.begin(), script.stall_measures.end(), k) != script.stall_measures.end() &&
      out.series_mbps.size() >= 5) {
    if (script.stall_pruned && mo.prune) {  // the pruner stops it on its first second at nothing
      out.series_mbps = {tp, 0.0};
      out.series_mean_mbps = tp / 2;
      pruned("a second at no rate", 2);
      event(seen + " -> stalls, pruned at its first second at no rate");
      return ev;
    }
    std::fill(out.series_mbps.begin() + 1, out.series_mbps.begin() + 4, 0.0);
    out.series_mean_mbps = tp * static_cast<double>(out.series_mbps.size() - 3) / static_cast<double>(out.series_mbps.size());
    event(seen + " -> stalls 3 s");
  }
  if (mo.prune) {
    auto it = mo.prune->find(out.scenario);
    if (it != mo.prune->end() && it->second.mean_mbps > 0 && tp < 0.8 * it->second.mean_mbps) {
      pruned(fmt::format("rate {:.1f} below 80% of {:.1f}", tp, it->second.mean_mbps), 7);
      event(seen + fmt::format(" -> pruned at {:.2f}", tp));
      return ev;
    }
  }
  Measurement m;
  for (const auto& spec : objective.scenarios) {
    ScenarioMeasurement sm;
    sm.throughput_mbps = tp;
    m[spec.name] = sm;
    ScenarioOutcome o = out;
    o.scenario = spec.name;
    o.measurement = sm;
    if (spec.name != out.scenario) ev.scenarios.push_back(o);
  }
  out.measurement = m[out.scenario];
  ev.scenarios.insert(ev.scenarios.begin(), out);
  ev.score = score(objective, m);
  ev.seconds = planned + 1;
  clock_ms_ += static_cast<long long>(ev.seconds * 1000);
  event(seen + fmt::format(" -> {:.2f}", ev.score->value));
  return ev;
}

SearchOptions SearchWorld::options() const {
  SearchOptions o;
  o.testbed = true;
  o.testbed_prefix = "trace";
  o.include = {"wg0/mtu", "wg0/txqueuelen", "net.ipv4.tcp_rmem", "net.ipv4.tcp_congestion_control"};
  o.trials = 8;
  o.baseline_rounds = 3;
  o.confirm_rounds = 3;
  o.seed = 7;
  o.quiet = true;
  o.simplify = false;
  o.max_checks = experiments::kMaxSimplificationChecks;  // the simplification cases' checks, as many as a --budget 2h plans
  o.study_path = dir_ + "/study.sqlite";
  o.profile_path = dir_ + "/profile.yaml";
  return o;
}

SearchOptions SearchWorld::ssh_options() const {
  SearchOptions o = options();
  o.testbed = false;
  o.peer = "100.64.0.1";
  o.interfaces = {"wg0", "veth0"};
  o.ssh = peer::SshOptions{.target = "root@peer.test"};
  return o;
}

SearchEnv SearchWorld::env() {
  SearchEnv env;
  env.runner = std::make_shared<NoRunner>(log);
  env.clock = [this] { return std::chrono::steady_clock::time_point(std::chrono::milliseconds(clock_ms_.load())); };
  env.unix_time = [this] { return 1.8e9 + static_cast<double>(clock_ms_.load()) / 1000.0; };
  env.sleep = [this](std::chrono::milliseconds d) {
    clock_ms_ += d.count();
    pending_wait_ms_ += d.count();
    if (++sleeps_ == script.interrupt_at_sleep) {
      interrupted = true;
      event("Ctrl-C during a wait");
    }
  };
  env.state_dir = dir_ + "/state";
  env.run_dir = dir_ + "/run";
  env.knob_lookup = [this](const Place& place, const std::string& id) -> act::KnobPtr {
    const act::Host* h = place == cli_.host.place ? &cli_.host : place == srv_.host.place ? &srv_.host : nullptr;
    if (!h) return nullptr;
    return act::find_knob(*h, id, {.interfaces = {"wg0", "veth0"}, .wireguard = {"wg0"}});
  };
  env.require_root = [this] { event("require root"); };
  env.plant = [this](const SearchOptions& o, const std::function<void(const std::string&)>&) {
    SearchPlant sp;
    if (o.ssh) {  // peer mode: this end only; the server end is the peer's, reached by connect_peer
      event(fmt::format("plant: peer {} over ssh {}", o.peer, o.ssh->target));
      sp.plant.client = cli_.host.place;
      sp.plant.server_address = o.peer;
      sp.plant.rate_iface = {cli_.host.place, "wg0"};
      sp.plant.client_wg = "wg0";
      sp.plant.client_underlay = "veth0";
      sp.ends.push_back({"local", SearchEnd::Role::Primary, cli_.host, o.interfaces, {"wg0"}});
      return sp;
    }
    event(fmt::format("plant: testbed {}{}", o.testbed_prefix, script.testbed_brought_up ? " (brought up)" : ""));
    if (script.testbed_brought_up) sp.take_down = [this] { event("testbed taken down"); };
    if (script.interrupt_at_setup) interrupted = true;
    if (script.server_restartable) {
      sp.restart_server = [this] {
        event("iperf3 server started again");
        return std::string("started the testbed's iperf3 server again");
      };
    }
    sp.plant.client = cli_.host.place;
    sp.plant.server_address = "100.64.0.1";
    sp.plant.rate_iface = {srv_.host.place, "wg0"};
    sp.plant.client_wg = "wg0";
    sp.plant.client_underlay = "veth0";
    sp.ends.push_back({"client", SearchEnd::Role::Primary, cli_.host, {"wg0", "veth0"}, {"wg0"}});
    sp.ends.push_back({"server", SearchEnd::Role::Mirror, srv_.host, {"wg0", "veth0"}, {"wg0"}});
    return sp;
  };
  env.measure = [this](const Plant&, const Objective& obj, const MeasureOptions& mo) { return measure(obj, mo); };
  env.tunnel_alive = [this](const Plant&, std::string& why) {
    const int mtu = values(false).mtu;
    if (++checks_ == script.kill_ping_at_check) {
      interrupted = true;
      why = "ping was killed by SIGINT";
      event("tunnel check: Ctrl-C killed its ping");
      return false;
    }
    const bool listed = std::find(script.dead_checks.begin(), script.dead_checks.end(), checks_) != script.dead_checks.end();
    if (listed || checks_ == script.dead_at_check || (script.dead_after_measure > 0 && measures_ >= script.dead_after_measure) ||
        (script.dead_from_check > 0 && checks_ >= script.dead_from_check &&
         (script.dead_until_check == 0 || checks_ <= script.dead_until_check))) {
      why = "the peer stopped answering";
      event("tunnel check: dead (scripted)");
      return false;
    }
    if (mtu > kBlackHoleAbove) {
      why = fmt::format("no reply to a {}-byte don't-fragment ping across the tunnel (MTU {})", mtu - 28, mtu);
      event("tunnel check: dead");
      return false;
    }
    event("tunnel check: alive");
    return true;
  };
  env.host_facts = [](const SearchPlant&, const std::string& sku) {
    return nlohmann::json{{"kernel", "6.18.0-world"}, {"nproc", 2},           {"place", "netns tcli"},
                          {"mirrored_to", "netns tsrv"}, {"sku", sku.empty() ? "world-sku" : sku}, {"nic_driver", "veth"},
                          {"wireguard_mode", "userspace"}};
  };
  env.detect_tuners = [this] {
    if (!script.tuners.empty()) event(fmt::format("other tuners: {} found", script.tuners.size()));
    return script.tuners;
  };
  env.start_guardian = [this](const SearchOptions&, const std::string&) -> std::unique_ptr<act::Guardian> {
    event("guardian start");
    return std::make_unique<RecordingGuardian>([this](const std::string& l) { event(l); },
                                               [this] {
                                                 if (++arms_ == script.interrupt_at_arm) {
                                                   interrupted = true;
                                                   event("Ctrl-C while applying");
                                                 }
                                                 if (arms_ == script.kill_apply_at_arm) {
                                                   interrupted = true;
                                                   cli_.files->fail_next_write = "the command was killed by SIGINT";
                                                   event("Ctrl-C while applying: its command killed");
                                                 }
                                               });
  };
  env.connect_peer = [this](const SearchOptions& o, const SearchPlant&, const std::atomic<bool>&) -> std::unique_ptr<PeerLink> {
    event("peer connect " + o.ssh->target);
    auto link = std::make_unique<FakePeerLink>(srv_.host, dir_ + "/peer-state", [this](const std::string& l) { event(l); }, script,
                                               peer_probes_, peer_cut_);
    link->interrupted_ = &interrupted;
    return link;
  };
  return env;
}

SearchReport SearchWorld::run(const SearchOptions& o) {
  event("== run_search");
  interrupted = false;  // each run is a new command: a Ctrl-C of an earlier run is not this run's
  auto report = run_search(o, interrupted, env());
  event(fmt::format("== returned: {}", to_string(report.outcome)));
  return report;
}

SearchReport SearchWorld::run_saying(SearchOptions o, std::string& said) {
  o.quiet = false;
  std::ostringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  try {
    auto report = run(o);
    std::cerr.rdbuf(old);
    said = err.str();
    return report;
  } catch (...) {
    std::cerr.rdbuf(old);
    said = err.str();
    throw;
  }
}

std::string SearchWorld::relative(std::string text) const {
  for (size_t p; (p = text.find(dir_)) != std::string::npos;) text.replace(p, dir_.size(), "<dir>");
  return text;
}

std::string SearchWorld::trace(const SearchReport& r, const std::string& study_path, const std::string& profile_path) const {
  std::string t = "== events\n";
  for (const auto& l : log) t += l + "\n";
  t += "== report\n";
  nlohmann::json j = r.to_json();
  j["table"] = r.table;
  j["drifted"] = r.drifted;
  j["kernel_was"] = r.kernel_was;
  j["kernel_now"] = r.kernel_now;
  j["recorded_score"] = r.recorded_score;
  j["regressed"] = r.regressed;
  j["warm_trials"] = r.warm_trials;
  j["baseline_throughput_mbps"] = r.baseline_throughput_mbps;
  j["winner_throughput_mbps"] = r.winner_throughput_mbps;
  t += j.dump(1) + "\n";
  if (fs::exists(study_path)) {
    auto store = StudyStore::open_read_only(study_path);
    auto info = store.info();
    t += "== study\n";
    t += fmt::format("created {} seed {} strategy {} budget '{}' max_trials {} status {}\n", info.created, info.seed,
                     info.strategy, info.budget, info.max_trials.value_or(0), info.status);
    t += "host " + info.host.dump() + "\n";
    for (const auto& tr : store.trials()) {
      t += fmt::format("trial {} {} score {} note '{}' params {} timings {:.3f}/{:.3f}/{:.3f}/{:.3f}\n", tr.number,
                       to_string(tr.state), tr.score ? fmt::format("{:.4f}", *tr.score) : "-", tr.note, tr.params.dump(),
                       tr.timings.started_at - 1.8e9, tr.timings.applied_s, tr.timings.settled_s, tr.timings.measured_s);
    }
    for (const auto& b : store.baselines()) t += fmt::format("baseline round {} score {:.4f}\n", b.round, b.score);
    for (const auto& c : store.confirmations()) {
      t += fmt::format("confirmation round {} {} trial {} score {:.4f}\n", c.round, c.arm, c.trial, c.score);
    }
    if (auto res = store.result()) {
      t += fmt::format("result {} winner {} params {}\nevidence {}\nprofile {}\n", to_string(res->outcome), res->winner_trial.value_or(0),
                       res->params.dump(), res->evidence.dump(), res->profile_path);
    }
  }
  if (fs::exists(profile_path)) t += "== profile\n" + slurp(profile_path);
  return relative(t);
}

void check_trace(const std::string& name, const std::string& actual) {
  const std::string path = std::string(WGOPT_FIXTURES_DIR) + "/search_trace/" + name + ".txt";
  if (std::getenv("WGOPT_UPDATE_TRACES")) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << actual;
    WARN("rewrote " << path << ": review `git diff` before committing it");
    return;
  }
  INFO("golden trace " << path << " (WGOPT_UPDATE_TRACES=1 rewrites it; review the diff)");
  REQUIRE(fs::exists(path));
  const std::string expected = slurp(path);
  if (expected == actual) return;
  const std::string out = fs::temp_directory_path().string() + "/search_trace-" + name + ".actual.txt";
  std::ofstream(out) << actual;
  auto e = split_lines(expected), a = split_lines(actual);
  size_t i = 0;
  while (i < e.size() && i < a.size() && e[i] == a[i]) ++i;
  FAIL("trace " << name << " differs at line " << i + 1 << "\n  expected: " << (i < e.size() ? e[i] : "<end>")
                << "\n  actual:   " << (i < a.size() ? a[i] : "<end>") << "\n  whole actual trace: " << out);
}

}  // namespace wgopt::test

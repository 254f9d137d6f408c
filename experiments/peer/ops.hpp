#pragma once
// The agent's operations: for each op, its arguments and its result as typed structs with their JSON
// (the controller encodes args and decodes results; the agent the other way round). Decoding args is
// where the agent validates what arrives: every decode_* throws ArgsError naming the field and the
// rule, before anything is read or written on the peer.
//
//   op              args                              result
//   hello           HelloArgs                         HelloResult (versions, host facts, restores since)
//   status          -                                 StatusResult (lock holder, journal, lease, restores)
//   discover        DiscoverArgs                      DiscoverResult (descriptor, presence, value per knob)
//   read            ReadArgs                          ReadResult (id -> canonical value)
//   validate        ChangesArgs                       ValidateResult (canonical values, in order)
//   equal           EqualArgs                         EqualResult
//   preview         ChangesArgs                       ApplyReply (the steps a transaction would write; nothing written)
//   apply           ApplyArgs (changes + lease)       ApplyReply (steps, what was restored first)
//   keep | rollback -                                 - | RestoreReport
//   rollback_all    -                                 RollbackAllResult
//   arm             ArmArgs                           LeaseState;  disarm / heartbeat: - -> LeaseState
//   probe_start     ProbeArgs                         -
//   probe_stop      -                                 ProbeResult (probes::Summary + per-second series)
//   iperf3_ensure   Iperf3Args                        Iperf3Result;  iperf3_stop: Iperf3Args -> Iperf3Result
//   ping            -                                 PingResult
//   bye             -                                 -  (the agent restores anything open and exits)
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actuators/knob.hpp"
#include "actuators/restore.hpp"
#include "actuators/transaction.hpp"
#include "common/error.hpp"
#include "actuators/restore_log.hpp"
#include "probes/samples.hpp"

namespace wgopt::peer {

// A request's arguments are wrong (missing, mistyped, out of range, an invalid name).
class ArgsError : public UsageError {
 public:
  using UsageError::UsageError;
};

// The ops the agent knows, in the order of the table above.
const std::vector<std::string>& known_ops();

// Lease bounds: a lease shorter than a heartbeat round trip would expire on a healthy link; a longer
// one than this would break the promise that a lost peer restores itself within seconds.
inline constexpr long long kMinLeaseMs = 1000;
inline constexpr long long kMaxLeaseMs = 120000;

struct HelloArgs {
  int protocol = 0;
  std::string wgopt_version;
  long long since_ms = 0;               // report restores recorded at or after this time
  std::vector<std::string> interfaces;  // facts (driver, WireGuard mode) for these
  // A reconnect after a lost session: a change it left open with no one holding the lock (its agent
  // and guardian died) is restored before the reply, and in its restores. Other hellos never write.
  bool restore_open = false;
};
struct PeerFacts {
  std::string hostname, kernel, sku, boot_id;
  int nproc = 0;
  bool irqbalance_running = false;
  std::map<std::string, std::string> nic_driver;      // interface -> driver ("" unknown)
  std::map<std::string, std::string> wireguard_mode;  // interface -> kernel|userspace|not-wireguard|unknown: ...
};
struct JournalState {
  int entries = 0;     // knobs wgopt changed on the peer and has not restored (kept or open)
  bool open = false;   // a transaction is open in the journal
};
struct HelloResult {
  int protocol = 0;
  std::string wgopt_version;
  int pid = 0;                  // the agent's pid on the peer
  long long now_ms = 0;         // the peer's clock (unix ms) when it answered: restores are stamped with it
  std::string state_dir;        // the peer's WGOPT_STATE_DIR (journal, lock, guardian)
  std::string run_dir;          // the peer's run dir (iperf3 pid files)
  PeerFacts facts;
  std::optional<int> lock_holder;  // another process holds the peer's lock (an old agent still restoring)
  JournalState journal;
  std::vector<act::RestoreRecord> restores;  // since HelloArgs::since_ms
};
struct StatusResult {
  std::optional<int> lock_holder;  // a process other than this agent holds the lock
  JournalState journal;
  bool transaction_open = false;
  bool armed = false;
  long long lease_deadline_ms = 0;
  std::vector<act::RestoreRecord> restores;  // since StatusArgs::since_ms
};
struct StatusArgs {
  long long since_ms = 0;
};

struct DiscoverArgs {
  std::vector<std::string> interfaces;  // empty: all but loopback
  bool allow_underlay_mtu = false;
  std::vector<std::string> wireguard;
};
struct KnobRow {
  act::Descriptor descriptor;
  act::Presence presence;
  std::optional<std::string> value;  // when present and readable
  std::string read_error;            // when present and not readable
};
struct DiscoverResult {
  std::vector<KnobRow> knobs;
};

struct ReadArgs {
  std::vector<std::string> ids;
  DiscoverArgs discover;  // allow_underlay_mtu / wireguard hints for resolving ids
};
struct ReadResult {
  std::vector<std::pair<std::string, std::string>> values;  // in the order asked
};

struct ChangesArgs {
  std::vector<act::Change> changes;  // target is ignored: the peer is one place
  DiscoverArgs discover;
};
struct ValidateResult {
  std::vector<std::string> canonical;  // per change, in order
};
struct EqualItem {
  std::string id, a, b;
};
struct EqualArgs {
  std::vector<EqualItem> items;
  DiscoverArgs discover;
};
struct EqualResult {
  std::vector<bool> equal;
};

struct ApplyArgs {
  std::vector<act::Change> changes;
  DiscoverArgs discover;
  long long lease_ms = 10000;  // the peer's guardian restores unless heartbeats renew it in time
};
struct ApplyReply {
  std::vector<act::Step> steps;
  act::RestoreReport restored_first;  // what the peer's session restored before (an earlier crash)
  long long lease_deadline_ms = 0;
};
struct RollbackAllResult {
  act::RestoreReport report;
  act::RestoreReport restored_first;
};

struct ArmArgs {
  long long lease_ms = 10000;
};
struct LeaseState {
  bool armed = false;
  long long deadline_ms = 0;  // peer's unix ms
};

struct ProbeArgs {
  std::vector<std::string> interfaces;  // on the peer, in the agent's own network namespace
  long long interval_ms = 1000;
  bool ethtool = true;
  bool wireguard = true;
};
struct ProbeResult {
  probes::Summary summary;
  std::vector<probes::SecondSample> seconds;
};

struct Iperf3Args {
  std::string bind_address;
  int port = 5201;
};
struct Iperf3Result {
  bool started = false;    // ensure: this agent started it now; stop: it stopped one it had started
  bool listening = false;  // something listens on address:port now
  int pid = 0;             // the server this agent started (0: another program serves the port)
};

struct PingResult {
  long long now_ms = 0;
  int pid = 0;
};

// JSON both ways. decode_* validate (ArgsError); the struct <-> json helpers below are what the
// client uses for results (they throw nlohmann exceptions or Error on a malformed result).
HelloArgs decode_hello(const nlohmann::json& a);
StatusArgs decode_status(const nlohmann::json& a);
DiscoverArgs decode_discover(const nlohmann::json& a);
ReadArgs decode_read(const nlohmann::json& a);
ChangesArgs decode_changes(const nlohmann::json& a);
EqualArgs decode_equal(const nlohmann::json& a);
ApplyArgs decode_apply(const nlohmann::json& a);
ArmArgs decode_arm(const nlohmann::json& a);
ProbeArgs decode_probe(const nlohmann::json& a);
Iperf3Args decode_iperf3(const nlohmann::json& a);
// An op without arguments accepts only {}.
void decode_none(const nlohmann::json& a);
// Decodes `args` with the decoder of `op` and discards the result: the one check a fuzzer needs.
// Throws ArgsError for bad args and for an unknown op.
void validate_args(const std::string& op, const nlohmann::json& args);

nlohmann::json encode(const HelloArgs& a);
nlohmann::json encode(const StatusArgs& a);
nlohmann::json encode(const DiscoverArgs& a);
nlohmann::json encode(const ReadArgs& a);
nlohmann::json encode(const ChangesArgs& a);
nlohmann::json encode(const EqualArgs& a);
nlohmann::json encode(const ApplyArgs& a);
nlohmann::json encode(const ArmArgs& a);
nlohmann::json encode(const ProbeArgs& a);
nlohmann::json encode(const Iperf3Args& a);

nlohmann::json encode(const HelloResult& r);
nlohmann::json encode(const StatusResult& r);
nlohmann::json encode(const DiscoverResult& r);
nlohmann::json encode(const ReadResult& r);
nlohmann::json encode(const ValidateResult& r);
nlohmann::json encode(const EqualResult& r);
nlohmann::json encode(const ApplyReply& r);
nlohmann::json encode(const RollbackAllResult& r);
nlohmann::json encode(const LeaseState& r);
nlohmann::json encode(const ProbeResult& r);
nlohmann::json encode(const Iperf3Result& r);
nlohmann::json encode(const PingResult& r);
nlohmann::json encode(const act::RestoreReport& r);

template <typename T>
T decode_result(const nlohmann::json& j);  // specialised for each result type above
// The specialisations (ops.cpp), declared before any use instantiates the primary template.
template <>
HelloResult decode_result<HelloResult>(const nlohmann::json& j);
template <>
StatusResult decode_result<StatusResult>(const nlohmann::json& j);
template <>
DiscoverResult decode_result<DiscoverResult>(const nlohmann::json& j);
template <>
ReadResult decode_result<ReadResult>(const nlohmann::json& j);
template <>
ValidateResult decode_result<ValidateResult>(const nlohmann::json& j);
template <>
EqualResult decode_result<EqualResult>(const nlohmann::json& j);
template <>
ApplyReply decode_result<ApplyReply>(const nlohmann::json& j);
template <>
act::RestoreReport decode_result<act::RestoreReport>(const nlohmann::json& j);
template <>
RollbackAllResult decode_result<RollbackAllResult>(const nlohmann::json& j);
template <>
LeaseState decode_result<LeaseState>(const nlohmann::json& j);
template <>
ProbeResult decode_result<ProbeResult>(const nlohmann::json& j);
template <>
Iperf3Result decode_result<Iperf3Result>(const nlohmann::json& j);
template <>
PingResult decode_result<PingResult>(const nlohmann::json& j);

}  // namespace wgopt::peer

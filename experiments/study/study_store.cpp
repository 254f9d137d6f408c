#include "experiments/study/study_store.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "common/error.hpp"
#include "common/processes.hpp"
#include "common/util.hpp"
#include "experiments/study/sqlite_db.hpp"

namespace wgopt::experiments {

using nlohmann::json;
namespace fs = std::filesystem;

using namespace sqlite_db;

namespace {

constexpr int kApplicationId = 0x77676f70;  // "wgop"

const char* kSchema = R"sql(
CREATE TABLE study (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  created TEXT NOT NULL,
  host_json TEXT NOT NULL,
  space_json TEXT NOT NULL,
  objective_yaml TEXT NOT NULL,
  seed INTEGER NOT NULL,
  strategy TEXT NOT NULL,
  budget TEXT NOT NULL,
  max_trials INTEGER,
  status TEXT NOT NULL,
  search_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE trials (
  number INTEGER PRIMARY KEY,
  params_json TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'complete', 'pruned', 'failed', 'infeasible')),
  score REAL,
  metrics_json TEXT NOT NULL DEFAULT '{}',
  probes_json TEXT NOT NULL DEFAULT '{}',
  note TEXT NOT NULL DEFAULT '',
  started_at REAL NOT NULL,
  applied_s REAL NOT NULL DEFAULT 0,
  settled_s REAL NOT NULL DEFAULT 0,
  measured_s REAL NOT NULL DEFAULT 0
);
CREATE TABLE baseline (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  round INTEGER NOT NULL,
  score REAL NOT NULL,
  metrics_json TEXT NOT NULL,
  measured_at REAL NOT NULL
);
CREATE TABLE confirmation (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  round INTEGER NOT NULL,
  arm TEXT NOT NULL CHECK (arm IN ('baseline', 'candidate')),
  trial INTEGER NOT NULL,
  score REAL NOT NULL,
  metrics_json TEXT NOT NULL,
  measured_at REAL NOT NULL
);
CREATE TABLE result (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  outcome TEXT NOT NULL,
  winner_trial INTEGER,
  params_json TEXT NOT NULL,
  evidence_json TEXT NOT NULL,
  profile_path TEXT NOT NULL,
  finished_at REAL NOT NULL
);
)sql";

std::string iso_now() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(t));
}

// The tables and columns each schema version has: what verify() requires before a resume writes.
struct TableColumns {
  const char* table;
  std::vector<const char*> columns;
};
std::vector<TableColumns> expected_tables(int version) {
  std::vector<TableColumns> t{
      {"study", {"id", "created", "host_json", "space_json", "objective_yaml", "seed", "strategy", "budget", "max_trials", "status"}},
      {"trials", {"number", "params_json", "state", "score", "metrics_json", "probes_json", "note", "started_at", "applied_s",
                  "settled_s", "measured_s"}},
      {"baseline", {"id", "round", "score", "metrics_json", "measured_at"}},
      {"confirmation", {"id", "round", "arm", "trial", "score", "metrics_json", "measured_at"}},
      {"result", {"id", "outcome", "winner_trial", "params_json", "evidence_json", "profile_path", "finished_at"}}};
  if (version >= 2) t[0].columns.push_back("search_json");
  return t;
}

constexpr const char* kStatusList = "running, finished, interrupted, failed";

bool valid_status(const std::string& s) {
  return s == "running" || s == "finished" || s == "interrupted" || s == "failed";
}

std::string_view kStates[] = {"running", "complete", "pruned", "failed", "infeasible"};

}  // namespace

std::string_view to_string(TrialState s) { return kStates[static_cast<int>(s)]; }

std::optional<TrialState> parse_trial_state(std::string_view text) {
  for (int i = 0; i < 5; ++i) {
    if (kStates[i] == text) return static_cast<TrialState>(i);
  }
  return std::nullopt;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

StudyStore StudyStore::create(const std::string& path, StudyInfo info) {
  std::error_code ec;
  if (!valid_status(info.status)) throw Error(fmt::format("study status '{}' is not one of {}", info.status, kStatusList));
  // The file is ours from its creation (O_EXCL), locked before SQLite opens it: two searches given
  // one new --study path at once cannot both write it, and the loser never removes the winner's.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST) {
    throw UsageError(fmt::format("study file '{}' already exists: continue it with --resume or choose another path", path));
  }
  if (fd < 0) throw Error(fmt::format("cannot create study file '{}': {}", path, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {  // only a process that opened it after our O_EXCL and locked it first
    ::close(fd);
    throw Error(fmt::format("study file '{}' was locked by another process as it was created: choose another path", path));
  }
  try {
    return create_new(path, std::move(info), fd);
  } catch (...) {
    // A half-written file would make the next attempt fail with "already exists".
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix, ec);
    throw;
  }
}

StudyStore StudyStore::create_new(const std::string& path, StudyInfo info, int locked_fd) {
  StudyStore s(path, nullptr);
  s.writer_fd_ = locked_fd;  // the store closes it, after the database
  s.db_ = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  configure(s.db_, path);
  if (info.created.empty()) info.created = iso_now();
  Transaction tx(s.db_, path);
  exec(s.db_, path, kSchema, "creating the schema");
  exec(s.db_, path, fmt::format("PRAGMA application_id={}", kApplicationId).c_str(), "setting the application id");
  exec(s.db_, path, fmt::format("PRAGMA user_version={}", kStudySchemaVersion).c_str(), "setting the schema version");
  Stmt(s.db_, path,
       "INSERT INTO study (id, created, host_json, space_json, objective_yaml, seed, strategy, budget, max_trials, "
       "status, search_json) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(1, info.created)
      .bind(2, info.host.dump())
      .bind(3, info.space.dump())
      .bind(4, info.objective_yaml)
      .bind(5, static_cast<std::int64_t>(info.seed))  // stored as the same 64 bits
      .bind(6, info.strategy)
      .bind(7, info.budget)
      .bind(8, info.max_trials)
      .bind(9, info.status)
      .bind(10, info.search.dump())
      .run();
  tx.commit();
  return s;
}

namespace {

void require_exists(const std::string& path, const char* fix) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw UsageError(fmt::format("study file '{}' does not exist: {}", path, fix));
  if (fs::is_directory(path, ec)) {
    throw UsageError(fmt::format("study file '{}' is not a wgopt study (a directory): pass a file written by wgopt search", path));
  }
}

}  // namespace

void StudyStore::check_identity() {
  const std::string& path = path_;
  auto not_a_study = [&](const std::string& what) {
    return UsageError(fmt::format("study file '{}' is not a wgopt study ({}): pass a file written by wgopt search", path, what));
  };
  // SQLite takes an empty file for an empty database, which has no application id either.
  std::error_code size_ec;
  if (fs::file_size(path, size_ec) == 0 && !size_ec) {
    throw UsageError(fmt::format("study file '{}' is empty (0 bytes): pass a file written by wgopt search", path));
  }
  // The first read is where SQLite notices a file that is not a database at all.
  std::int64_t app_id = 0, version = 0;
  {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA application_id", -1, &st, nullptr) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
      std::string msg = sqlite3_errmsg(db_);
      sqlite3_finalize(st);
      throw not_a_study(msg);
    }
    app_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  if (app_id != kApplicationId) throw not_a_study("an SQLite database of another program");
  {
    Stmt st(db_, path, "PRAGMA user_version");
    st.step();
    version = st.integer(0);
  }
  if (version > kStudySchemaVersion) {
    throw UsageError(fmt::format("study file '{}' has schema version {} but this wgopt reads up to {}: upgrade wgopt",
                                 path, version, kStudySchemaVersion));
  }
  if (version < 1) throw not_a_study(fmt::format("schema version {}", version));
  version_ = static_cast<int>(version);
}

void StudyStore::verify() const {
  auto damaged = [&](const std::string& what) {
    return UsageError(fmt::format("study file '{}' is damaged ({}): it cannot be resumed; start a new search "
                                  "(`wgopt report` may still read what is left)",
                                  path_, what));
  };
  {
    // integrity_check reads every page; "ok" alone means sound, else one row per problem.
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA integrity_check(1)", -1, &st, nullptr) != SQLITE_OK) {
      std::string msg = sqlite3_errmsg(db_);
      sqlite3_finalize(st);
      throw damaged("PRAGMA integrity_check: " + msg);
    }
    const int rc = sqlite3_step(st);
    std::string first = rc == SQLITE_ROW && sqlite3_column_text(st, 0)
                            ? reinterpret_cast<const char*>(sqlite3_column_text(st, 0))
                            : std::string(sqlite3_errmsg(db_));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW || first != "ok") throw damaged("PRAGMA integrity_check: " + first.substr(0, 200));
  }
  for (const auto& [table, columns] : expected_tables(version_)) {
    Stmt st(db_, path_, "SELECT name FROM pragma_table_info(?)");
    st.bind(1, table);
    std::vector<std::string> have;
    while (st.step()) have.push_back(st.text(0));
    if (have.empty()) throw damaged(fmt::format("table '{}' is missing", table));
    for (const char* c : columns) {
      if (std::find(have.begin(), have.end(), c) == have.end()) {
        throw damaged(fmt::format("table '{}' has no column '{}'", table, c));
      }
    }
  }
}

StudyStore StudyStore::open_read_only(const std::string& path) {
  require_exists(path, "check the path (wgopt search prints it; by default studies are in /var/lib/wgopt/studies)");
  StudyStore s(path, open_db(path, SQLITE_OPEN_READONLY));
  s.check_identity();
  return s;
}

bool TrialRecord::interrupted() const { return state == TrialState::Failed && note.starts_with(kStoppedTrialNote); }

bool TrialRecord::outage() const {
  return state == TrialState::Failed && (note.starts_with(kOutageTrialNote) || note.starts_with(kStallTrialNote));
}

bool TrialRecord::stall_void() const { return state == TrialState::Failed && note.starts_with(kStallTrialNote); }

StudyStore StudyStore::open(const std::string& path) {
  require_exists(path, "check the path, or start a new study without --resume");
  StudyStore s(path, open_db(path, SQLITE_OPEN_READWRITE));
  s.check_identity();
  s.hold_writer_lock();  // before open() marks `running` trials failed: they may be a live search's
  configure(s.db_, path);

  Transaction tx(s.db_, path);
  {
    Stmt st(s.db_, path, "SELECT number FROM trials WHERE state = 'running' ORDER BY number");
    while (st.step()) s.recovered_.push_back(st.int32(0));
  }
  Stmt(s.db_, path, "UPDATE trials SET state = 'failed', note = ? WHERE state = 'running'").bind(1, kInterruptedTrialNote).run();
  tx.commit();
  return s;
}

StudyStore::StudyStore(StudyStore&& o) noexcept
    : path_(std::move(o.path_)), db_(o.db_), writer_fd_(o.writer_fd_), version_(o.version_), recovered_(std::move(o.recovered_)) {
  o.db_ = nullptr;
  o.writer_fd_ = -1;
}

StudyStore& StudyStore::operator=(StudyStore&& o) noexcept {
  if (this != &o) {
    sqlite3_close(db_);
    if (writer_fd_ >= 0) ::close(writer_fd_);
    path_ = std::move(o.path_);
    db_ = o.db_;
    writer_fd_ = o.writer_fd_;
    version_ = o.version_;
    recovered_ = std::move(o.recovered_);
    o.db_ = nullptr;
    o.writer_fd_ = -1;
  }
  return *this;
}

// SQLite's own locks are POSIX record locks, which closing any descriptor of the file drops: the
// writer's descriptor is closed after the database, and only ever then.
StudyStore::~StudyStore() {
  sqlite3_close(db_);
  if (writer_fd_ >= 0) ::close(writer_fd_);
}

void StudyStore::hold_writer_lock() {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("cannot open study '{}' to lock it: {}", path_, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    const int holder = e == EWOULDBLOCK ? flock_holder(fd) : 0;
    ::close(fd);
    if (e != EWOULDBLOCK) throw Error(fmt::format("cannot lock study '{}': {}", path_, std::strerror(e)));
    throw UsageError(fmt::format("study '{}' is being written by another wgopt{}: wait for its search to end, or stop it "
                                 "first (`wgopt report {}` shows what it has recorded so far)",
                                 path_, holder > 0 ? fmt::format(" (pid {})", holder) : "", path_));
  }
  writer_fd_ = fd;
}

std::optional<int> StudyStore::writer(const std::string& path) { return flock_holder_of(path); }

StudyInfo StudyStore::info() const {
  Stmt st(db_, path_,
          version_ >= 2 ? "SELECT created, host_json, space_json, objective_yaml, seed, strategy, budget, max_trials, status, "
                          "search_json FROM study"
                        : "SELECT created, host_json, space_json, objective_yaml, seed, strategy, budget, max_trials, status, "
                          "'{}' FROM study");
  if (!st.step()) throw Error(fmt::format("study file '{}' has no study record: the file is damaged", path_));
  StudyInfo i;
  i.created = st.text(0);
  i.host = st.js(1);
  i.space = st.js(2);
  i.objective_yaml = st.text(3);
  i.seed = static_cast<std::uint64_t>(st.integer(4));
  i.strategy = st.text(5);
  i.budget = st.text(6);
  if (!st.null(7)) i.max_trials = st.int32(7);
  i.status = st.text(8);
  i.search = st.js(9);
  return i;
}

void StudyStore::set_status(const std::string& status) { change_status(status, false); }

void StudyStore::withdraw_result(const std::string& status) {
  if (status == "running" || status == "finished") {
    throw Error(fmt::format("a withdrawn result leaves the study interrupted or failed, not '{}'", status));
  }
  change_status(status, true);
}

void StudyStore::change_status(const std::string& status, bool drop_result) {
  if (!valid_status(status)) throw Error(fmt::format("study status '{}' is not one of {}", status, kStatusList));
  Transaction tx(db_, path_);
  if (drop_result) Stmt(db_, path_, "DELETE FROM result").run();
  Stmt(db_, path_, "UPDATE study SET status = ?").bind(1, status).run();
  // A study no search writes any more has no trial running: the one Ctrl-C stopped is said so now,
  // not at the resume (found by an exploratory test: `wgopt report` of an interrupted study listed
  // it "running", and its --json said "running": false beside it).
  if (status != "running") {
    Stmt(db_, path_, "UPDATE trials SET state = 'failed', note = ? WHERE state = 'running'").bind(1, kStoppedTrialNote).run();
  }
  tx.commit();
  if (status != "running") become_one_file();  // interrupted or failed: `wgopt report` reads it next
}

int StudyStore::begin_trial(const json& params, double started_at) {
  Transaction tx(db_, path_);
  Stmt(db_, path_,
       "INSERT INTO trials (number, params_json, state, started_at) "
       "VALUES ((SELECT COALESCE(MAX(number), 0) + 1 FROM trials), ?, 'running', ?)")
      .bind(1, params.dump())
      .bind(2, started_at)
      .run();
  int number = static_cast<int>(sqlite3_last_insert_rowid(db_));
  tx.commit();
  return number;
}

void StudyStore::finish_trial(const TrialRecord& r) {
  if (r.state == TrialState::Running) {
    throw Error(fmt::format("trial {} cannot be finished in state running: pass its final state", r.number));
  }
  Transaction tx(db_, path_);
  Stmt(db_, path_,
       "UPDATE trials SET params_json = ?, state = ?, score = ?, metrics_json = ?, probes_json = ?, note = ?, "
       "started_at = ?, applied_s = ?, settled_s = ?, measured_s = ? WHERE number = ? AND state = 'running'")
      .bind(1, r.params.dump())
      .bind(2, std::string(to_string(r.state)))
      .bind(3, r.score)
      .bind(4, r.metrics.dump())
      .bind(5, r.probes.dump())
      .bind(6, r.note)
      .bind(7, r.timings.started_at)
      .bind(8, r.timings.applied_s)
      .bind(9, r.timings.settled_s)
      .bind(10, r.timings.measured_s)
      .bind(11, r.number)
      .run();
  if (sqlite3_changes(db_) != 1) {
    throw Error(fmt::format("study file '{}': trial {} is not running, so it cannot be finished", path_, r.number));
  }
  tx.commit();
}

std::vector<TrialRecord> StudyStore::trials() const {
  Stmt st(db_, path_,
          "SELECT number, params_json, state, score, metrics_json, probes_json, note, started_at, applied_s, "
          "settled_s, measured_s FROM trials ORDER BY number");
  std::vector<TrialRecord> out;
  while (st.step()) {
    TrialRecord r;
    r.number = st.int32(0);
    r.params = st.js(1);
    auto state = parse_trial_state(st.text(2));
    if (!state) throw Error(fmt::format("study file '{}': trial {} has unknown state '{}'", path_, r.number, st.text(2)));
    r.state = *state;
    if (!st.null(3)) r.score = st.real(3);
    r.metrics = st.js(4);
    r.probes = st.js(5);
    r.note = st.text(6);
    r.timings = {st.real(7), st.real(8), st.real(9), st.real(10)};
    out.push_back(std::move(r));
  }
  return out;
}

void StudyStore::add_baseline(const BaselineRecord& r) {
  Stmt(db_, path_, "INSERT INTO baseline (round, score, metrics_json, measured_at) VALUES (?, ?, ?, ?)")
      .bind(1, r.round)
      .bind(2, r.score)
      .bind(3, r.metrics.dump())
      .bind(4, r.measured_at)
      .run();
}

std::vector<BaselineRecord> StudyStore::baselines() const {
  Stmt st(db_, path_, "SELECT round, score, metrics_json, measured_at FROM baseline ORDER BY id");
  std::vector<BaselineRecord> out;
  while (st.step()) out.push_back({st.int32(0), st.real(1), st.js(2), st.real(3)});
  return out;
}

void StudyStore::add_confirmation(const ConfirmationRecord& r) {
  if (r.arm != "baseline" && r.arm != "candidate") {
    throw Error(fmt::format("confirmation arm '{}' is neither 'baseline' nor 'candidate'", r.arm));
  }
  Stmt(db_, path_,
       "INSERT INTO confirmation (round, arm, trial, score, metrics_json, measured_at) VALUES (?, ?, ?, ?, ?, ?)")
      .bind(1, r.round)
      .bind(2, r.arm)
      .bind(3, r.trial)
      .bind(4, r.score)
      .bind(5, r.metrics.dump())
      .bind(6, r.measured_at)
      .run();
}

std::vector<ConfirmationRecord> StudyStore::confirmations() const {
  Stmt st(db_, path_, "SELECT round, arm, trial, score, metrics_json, measured_at FROM confirmation ORDER BY id");
  std::vector<ConfirmationRecord> out;
  while (st.step()) {
    out.push_back({st.int32(0), st.text(1), st.int32(2), st.real(3), st.js(4),
                   st.real(5)});
  }
  return out;
}

void StudyStore::set_result(const StudyResult& r) {
  Transaction tx(db_, path_);
  Stmt(db_, path_,
       "INSERT OR REPLACE INTO result (id, outcome, winner_trial, params_json, evidence_json, profile_path, "
       "finished_at) VALUES (1, ?, ?, ?, ?, ?, ?)")
      .bind(1, to_string(r.outcome))
      .bind(2, r.winner_trial)
      .bind(3, r.params.dump())
      .bind(4, r.evidence.dump())
      .bind(5, r.profile_path)
      .bind(6, r.finished_at)
      .run();
  Stmt(db_, path_, "UPDATE study SET status = 'finished'").run();
  tx.commit();
  become_one_file();
}

void StudyStore::become_one_file() {
  // Best effort: with a reader attached SQLite keeps WAL, which is just as correct. --resume and
  // retune's warm start switch back to WAL when they open it for writing.
  sqlite3_exec(db_, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
}

std::optional<StudyResult> StudyStore::result() const {
  Stmt st(db_, path_, "SELECT outcome, winner_trial, params_json, evidence_json, profile_path, finished_at FROM result");
  if (!st.step()) return std::nullopt;
  StudyResult r;
  const std::string outcome = st.text(0);
  const auto parsed = parse_search_outcome(outcome);
  if (!parsed) throw Error(fmt::format("{}: the result's outcome '{}' is not one wgopt writes; is the study from a newer wgopt?", path_, one_line(outcome, 60)));
  r.outcome = *parsed;
  if (!st.null(1)) r.winner_trial = st.int32(1);
  r.params = st.js(2);
  r.evidence = st.js(3);
  r.profile_path = st.text(4);
  r.finished_at = st.real(5);
  return r;
}

}  // namespace wgopt::experiments

#pragma once
// The study file: one SQLite database per search, holding everything needed to report on it and to
// `--resume` it after a crash or Ctrl-C: the study's metadata, every trial in order, the baseline
// measurements, the confirmation rounds and the result.
//
// Durability: WAL journal with synchronous=FULL and one transaction per write, so a record that a
// call returned from survives SIGKILL and power loss. A trial is written twice: begin_trial() inserts
// it as `running` before the candidate is applied, finish_trial() sets its final state. A trial
// still `running` when the file is next opened was interrupted by a crash; open() marks it failed
// with a note and lists it in recovered_trials().
//
// Identity: PRAGMA application_id = 0x77676f70 ("wgop") and PRAGMA user_version = schema version.
// Anything else (a text file, another program's database, a newer schema) is refused with one line
// that says what the file is and what to do. Schema 2 added study.search_json (the plant and the
// knob selection, so `--resume S` alone continues the same search); schema 1 files are still read.


#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/study/search_outcome.hpp"

struct sqlite3;

namespace wgopt::experiments {

inline constexpr int kStudySchemaVersion = 2;

enum class TrialState { Running, Complete, Pruned, Failed, Infeasible };
std::string_view to_string(TrialState s);                             // "running", "complete", ...
std::optional<TrialState> parse_trial_state(std::string_view text);  // nullopt if unknown

struct StudyInfo {
  std::string created;                          // ISO 8601 UTC; create() fills it in when empty
  nlohmann::json host = nlohmann::json::object();   // kernel, nproc, NIC driver, WireGuard mode, SKU
  nlohmann::json space = nlohmann::json::object();  // the search space as the optimizer describes it
  std::string objective_yaml;                   // objective_to_yaml() of the objective used
  std::uint64_t seed = 0;
  std::string strategy;                         // "bo", "random", "coordinate"
  std::string budget;                           // as typed ("2h"); empty when only a trial cap
  std::optional<int> max_trials;
  std::string status = "running";               // running | finished | interrupted | failed
  // What defines the search besides the space: the plant and the knob selection, as the search's
  // options recorded them (experiments/search/study_open.hpp). Empty in schema 1 files.
  nlohmann::json search = nlohmann::json::object();
};

// Seconds since the Unix epoch for timestamps, durations in seconds.
struct TrialTimings {
  double started_at = 0;  // when the trial began (before apply)
  double applied_s = 0;   // applying the candidate (transaction, verify, liveness check)
  double settled_s = 0;   // waiting for the system to settle
  double measured_s = 0;  // running the workload with the probes on
};

struct TrialRecord {
  int number = 0;                                   // 1, 2, 3 ... in the order trials began
  nlohmann::json params = nlohmann::json::object(); // knob name -> canonical value
  TrialState state = TrialState::Running;
  std::optional<double> score;                      // set for complete (and pruned: partial) trials
  nlohmann::json metrics = nlohmann::json::object();  // score breakdown, throughput per scenario ...
  nlohmann::json probes = nlohmann::json::object();   // probe summary
  std::string note;                                 // why failed / infeasible / pruned
  TrialTimings timings;
  // Stopped before it was measured (Ctrl-C or a crash) and marked failed by open(): its
  // configuration taught nothing, so it is not evidence for the model.
  bool interrupted() const;
  // Voided by an outage outside wgopt (the search's trial loop: the tunnel was down with the
  // host's own values too): recorded failed, not evidence for the model either.
  bool outage() const;
  // One of those: voided for a stall under its values with the path up by the check, and measured
  // again to tell an outage that ended from the values' own (kStallTrialNote).
  bool stall_void() const;
  bool not_evidence() const { return interrupted() || outage(); }
};

// The start of the note of a trial an outside outage voided (TrialRecord::outage).
inline constexpr const char* kOutageTrialNote = "outside outage: ";
// ... and of one voided for a stall (TrialRecord::stall_void).
inline constexpr const char* kStallTrialNote = "stalled, measured again: ";

// The note open() gives a trial it found `running` (its search died without a word: kill -9, a crash).
inline constexpr const char* kInterruptedTrialNote = "interrupted (wgopt stopped during this trial); marked failed on resume";
// ... and the note set_status() gives one when its search stops (Ctrl-C, a failure). Both are
// TrialRecord::interrupted().
inline constexpr const char* kStoppedTrialNote = "interrupted (wgopt stopped during this trial)";

struct BaselineRecord {
  int round = 0;
  double score = 0;
  nlohmann::json metrics = nlohmann::json::object();
  double measured_at = 0;
};

struct ConfirmationRecord {
  int round = 0;
  std::string arm;        // "baseline" | "candidate"
  int trial = 0;          // the candidate's trial number
  double score = 0;
  nlohmann::json metrics = nlohmann::json::object();
  double measured_at = 0;
};

struct StudyResult {
  SearchOutcome outcome = SearchOutcome::NoTrials;
  std::optional<int> winner_trial;
  nlohmann::json params = nlohmann::json::object(); // the profile now on the host
  nlohmann::json evidence = nlohmann::json::object();  // scores with intervals, host facts
  std::string profile_path;
  double finished_at = 0;
};

class StudyStore {
 public:
  // Creates a new study file. Throws UsageError if `path` already exists (resume it or pick another
  // path) and wgopt::Error if it cannot be written (then no file is left behind).
  static StudyStore create(const std::string& path, StudyInfo info);
  // Opens an existing study for resuming; trials left `running` are marked failed (see top).
  // Throws UsageError when the file is missing or not a wgopt study, or has a newer schema.
  static StudyStore open(const std::string& path);
  // Opens an existing study for reading only (wgopt report): the same checks and errors as open(),
  // but nothing is written, so the trials of a search still running stay `running` and
  // recovered_trials() is empty. The write calls fail on such a store.
  static StudyStore open_read_only(const std::string& path);
  // The pid of the wgopt writing the study at `path` on this host (create() and open() hold an
  // exclusive flock on the file for the store's life; the kernel drops it when its holder dies, even
  // by SIGKILL), nullopt when none does: a study left "running" without a writer was killed or
  // crashed. Reads /proc/locks only; the lock is never touched. It opens and closes a descriptor of
  // the file, which drops this process's POSIX locks on it (SQLite's): not while this process has
  // a store of it open (load_report keeps one descriptor across the store instead).
  static std::optional<int> writer(const std::string& path);

  StudyStore(StudyStore&& other) noexcept;
  StudyStore& operator=(StudyStore&& other) noexcept;
  StudyStore(const StudyStore&) = delete;
  StudyStore& operator=(const StudyStore&) = delete;
  ~StudyStore();

  const std::string& path() const { return path_; }
  StudyInfo info() const;
  // Reads the whole file and checks it is sound, writing nothing: PRAGMA integrity_check, and every
  // table and column of the file's schema version present. Throws UsageError naming the file and
  // the first problem ("table 'baseline' is missing"). For --resume, before anything is changed.
  void verify() const;
  // running | finished | interrupted | failed; throws wgopt::Error for anything else.
  void set_status(const std::string& status);
  // Numbers of the trials open() found `running` and marked failed (empty after create()).
  const std::vector<int>& recovered_trials() const { return recovered_; }

  // Inserts the next trial as running and returns its number. Write this before applying.
  int begin_trial(const nlohmann::json& params, double started_at);
  // Records how a running trial ended. Throws wgopt::Error if `r.number` is not a running trial or
  // r.state is Running.
  void finish_trial(const TrialRecord& r);
  // Every trial, in number order (the order to replay into a fresh optimizer on resume).
  std::vector<TrialRecord> trials() const;

  void add_baseline(const BaselineRecord& r);
  std::vector<BaselineRecord> baselines() const;  // in insertion order
  void add_confirmation(const ConfirmationRecord& r);
  std::vector<ConfirmationRecord> confirmations() const;  // in insertion order
  // Writes (or replaces) the result and sets the status to "finished", in one transaction.
  void set_result(const StudyResult& r);
  std::optional<StudyResult> result() const;
  // Removes the result and sets the status (interrupted or failed), in one transaction: the winner
  // it recorded did not stay on the host after all (its final apply failed, search.cpp), so the
  // study no longer names it. Throws wgopt::Error for running or finished.
  void withdraw_result(const std::string& status);

 private:
  StudyStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  // The schema and the study record in the empty file create() made, whose flock `locked_fd` holds.
  static StudyStore create_new(const std::string& path, StudyInfo info, int locked_fd);
  // Checks the application id and schema version (kept in version_); throws UsageError for anything else.
  void check_identity();
  // set_status, and with `drop_result` withdraw_result, in one transaction.
  void change_status(const std::string& status, bool drop_result);
  // A study that stops (finished, interrupted, failed) becomes one self-contained file again (no
  // -wal/-shm beside it), so it can be copied or mailed as is and opened read-only (wgopt report)
  // without creating files next to it.
  void become_one_file();
  // Takes the writer's flock (writer()); throws UsageError naming the pid that holds it.
  void hold_writer_lock();

  std::string path_;
  sqlite3* db_ = nullptr;
  int writer_fd_ = -1;  // the flock that says a wgopt writes this study (writer()); closed after db_
  int version_ = kStudySchemaVersion;  // the file's schema version (check_identity reads it)
  std::vector<int> recovered_;
};

// Now as seconds since the Unix epoch (for TrialTimings::started_at and the *_at fields).
double unix_now();

}  // namespace wgopt::experiments

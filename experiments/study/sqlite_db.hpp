#pragma once
// Thin RAII over the SQLite C API for the study file: prepared statements, transactions, and errors
// that name the file ("study file 'x': committing failed: disk I/O error"). Internal to
// experiments/; not a general database layer.
#include <fmt/format.h>
#include <sqlite3.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/error.hpp"

namespace wgopt::experiments::sqlite_db {

[[noreturn]] inline void fail(sqlite3* db, const std::string& path, const std::string& doing) {
  throw Error(fmt::format("study file '{}': {} failed: {}", path, doing, db ? sqlite3_errmsg(db) : "out of memory"));
}

// A prepared statement, finalized on scope exit. Binds are 1-based like SQLite's.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& path, const char* sql) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail(db, path, "preparing a query");
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, const std::string& v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(int i, const char* v) { return bind(i, std::string(v)); }
  Stmt& bind(int i, double v) { check(sqlite3_bind_double(stmt_, i, v)); return *this; }
  Stmt& bind(int i, int v) { check(sqlite3_bind_int64(stmt_, i, v)); return *this; }
  Stmt& bind(int i, std::int64_t v) { check(sqlite3_bind_int64(stmt_, i, v)); return *this; }
  template <class T>
  Stmt& bind(int i, const std::optional<T>& v) {
    if (v) return bind(i, *v);
    check(sqlite3_bind_null(stmt_, i));
    return *this;
  }

  // true while there is a row.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, path_, "a query");
  }
  void run() { while (step()) {} }

  std::string text(int col) const {
    auto p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string{};
  }
  // A number column holding text or a blob (a hand-edited study) is damage, not 0 (found by an
  // exploratory test: a score 'abc' read as 0.0).
  double real(int col) const {
    number_at(col);
    return sqlite3_column_double(stmt_, col);
  }
  std::int64_t integer(int col) const {
    number_at(col);
    return sqlite3_column_int64(stmt_, col);
  }
  // A count or a trial number: one outside int's range is damage, not a wrapped number (found by
  // an exploratory test: trial 9223372036854775807 reported as -1).
  int int32(int col) const {
    const std::int64_t v = integer(col);
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
      const char* name = sqlite3_column_name(stmt_, col);
      throw Error(fmt::format("study file '{}' holds {} in column {}, out of range: the file is damaged", path_, v, name ? name : "?"));
    }
    return static_cast<int>(v);
  }
  bool null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  void number_at(int col) const {
    const int type = sqlite3_column_type(stmt_, col);
    if (type == SQLITE_INTEGER || type == SQLITE_FLOAT || type == SQLITE_NULL) return;
    const char* name = sqlite3_column_name(stmt_, col);
    throw Error(fmt::format("study file '{}' holds a value that is not a number in column {}: the file is damaged", path_,
                            name ? name : "?"));
  }
  nlohmann::json js(int col) const {
    try {
      return nlohmann::json::parse(text(col));
    } catch (const nlohmann::json::exception& e) {
      const char* name = sqlite3_column_name(stmt_, col);
      throw Error(fmt::format("study file '{}' holds malformed JSON in column {} ({}): the file is damaged", path_, name ? name : "?",
                              e.what()));
    }
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, path_, "binding a value");
  }
  sqlite3* db_;
  const std::string& path_;
  sqlite3_stmt* stmt_ = nullptr;
};

inline void exec(sqlite3* db, const std::string& path, const char* sql, const std::string& doing) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db, path, doing);
}

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted (an exception on the way).
class Transaction {
 public:
  Transaction(sqlite3* db, const std::string& path) : db_(db), path_(path) {
    exec(db, path, "BEGIN IMMEDIATE", "starting a transaction");
  }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, path_, "COMMIT", "committing");
    done_ = true;
  }

 private:
  sqlite3* db_;
  const std::string& path_;
  bool done_ = false;
};

inline sqlite3* open_db(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw Error(fmt::format("study file '{}' cannot be opened: {}", path, msg));
  }
  sqlite3_busy_timeout(db, 5000);  // another wgopt (report) may be reading
  return db;
}

// WAL: readers (wgopt report) never block the loop; FULL: a committed trial survives power loss.
inline void configure(sqlite3* db, const std::string& path) {
  exec(db, path, "PRAGMA journal_mode=WAL", "switching to the WAL journal");
  exec(db, path, "PRAGMA synchronous=FULL", "setting synchronous=FULL");
}

}  // namespace wgopt::experiments::sqlite_db

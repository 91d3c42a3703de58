#include "catalog/sqlite_catalog.h"

#include <sqlite3.h>

#include <cstddef>
#include <string_view>

#include "core/error.h"

namespace ferry {

// ---------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------

namespace {

// Never edit a migration once released: add a new one at the end.
const char* const kMigration1 = R"sql(
CREATE TABLE peers (
  name          TEXT    NOT NULL PRIMARY KEY,
  type          TEXT    NOT NULL,
  spec_json     TEXT    NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE pipes (
  name          TEXT    NOT NULL PRIMARY KEY,
  spec_json     TEXT    NOT NULL,
  state         TEXT    NOT NULL,
  last_error    TEXT    NOT NULL DEFAULT '',
  retry_count   INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
-- History outlives its pipe: no foreign key.
CREATE TABLE transitions (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  pipe       TEXT    NOT NULL,
  at_ms      INTEGER NOT NULL,
  from_state TEXT,
  to_state   TEXT    NOT NULL,
  reason     TEXT    NOT NULL
);
CREATE TABLE pipe_tables (
  pipe                TEXT    NOT NULL REFERENCES pipes(name) ON DELETE CASCADE,
  source              TEXT    NOT NULL,
  destination         TEXT    NOT NULL,
  state               TEXT    NOT NULL,
  partitions_total    INTEGER NOT NULL DEFAULT 0,
  partitions_done     INTEGER NOT NULL DEFAULT 0,
  rows_loaded         INTEGER NOT NULL DEFAULT 0,
  load_started_at_ms  INTEGER NOT NULL DEFAULT 0,
  load_finished_at_ms INTEGER NOT NULL DEFAULT 0,
  partition_ms_total  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (pipe, source)
);
CREATE TABLE partitions (
  pipe        TEXT    NOT NULL,
  tbl         TEXT    NOT NULL,
  idx         INTEGER NOT NULL,
  "range"     TEXT    NOT NULL,
  done        INTEGER NOT NULL DEFAULT 0,
  rows        INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (pipe, tbl, idx),
  FOREIGN KEY (pipe, tbl) REFERENCES pipe_tables(pipe, source) ON DELETE CASCADE
);
CREATE TABLE checkpoints (
  pipe          TEXT    NOT NULL REFERENCES pipes(name) ON DELETE CASCADE,
  "key"         TEXT    NOT NULL,
  position      TEXT    NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (pipe, "key")
);
CREATE TABLE pipe_meta (
  pipe    TEXT NOT NULL REFERENCES pipes(name) ON DELETE CASCADE,
  "key"   TEXT NOT NULL,
  "value" TEXT NOT NULL,
  PRIMARY KEY (pipe, "key")
);
)sql";

const char* const kMigration2 = R"sql(
CREATE INDEX transitions_by_pipe ON transitions(pipe, id);
)sql";

const char* const kCreateSchemaVersion = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (
  version       INTEGER NOT NULL PRIMARY KEY,
  applied_at_ms INTEGER NOT NULL,
  description   TEXT    NOT NULL
)
)sql";

ErrorKind kind_of(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
    case SQLITE_INTERRUPT:
      return ErrorKind::Transient;
    default:
      return ErrorKind::Permanent;
  }
}

Error pipe_missing(const std::string& pipe) { return config_error("pipe '" + pipe + "' does not exist"); }

PipeState parse_state(const std::string& s, const std::string& pipe) {
  auto st = pipe_state_from_string(s);
  if (!st) throw permanent_error("catalog: pipe '" + pipe + "' has an unknown state '" + s + "'");
  return *st;
}

}  // namespace

const std::vector<CatalogMigration>& sqlite_catalog_migrations() {
  static const std::vector<CatalogMigration> m = {
      {1, "peers, pipes, transitions, tables, partitions, checkpoints, meta", kMigration1},
      {2, "index transitions by pipe", kMigration2},
  };
  return m;
}

// ---------------------------------------------------------------------------
// Statement and transaction guards (the caller holds mu_)
// ---------------------------------------------------------------------------

class SqliteCatalog::Stmt {
 public:
  Stmt(SqliteCatalog& c, const char* sql, const char* op) : c_(c), st_(c.prepare(sql)), op_(op) {}
  ~Stmt() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  template <typename... Args>
  Stmt& bind(const Args&... args) {
    int i = 1;
    (bind_one(i++, args), ...);
    return *this;
  }

  // true: a row is available; false: done. Throws on error.
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    c_.fail(op_, rc);
  }
  // Runs a statement that returns no rows.
  void run() {
    while (step()) {
    }
  }

  bool is_null(int col) { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  int64_t i64(int col) { return sqlite3_column_int64(st_, col); }
  std::string text(int col) {
    const unsigned char* p = sqlite3_column_text(st_, col);
    if (!p) return {};
    return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(st_, col)));
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) c_.fail(op_, rc);
  }
  void bind_one(int i, const std::string& v) {
    check(sqlite3_bind_text64(st_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  void bind_one(int i, const char* v) { check(sqlite3_bind_text(st_, i, v, -1, SQLITE_TRANSIENT)); }
  void bind_one(int i, int64_t v) { check(sqlite3_bind_int64(st_, i, v)); }
  void bind_one(int i, int v) { check(sqlite3_bind_int64(st_, i, v)); }
  void bind_one(int i, std::nullptr_t) { check(sqlite3_bind_null(st_, i)); }

  SqliteCatalog& c_;
  sqlite3_stmt* st_;
  const char* op_;
};

// BEGIN IMMEDIATE on construction; rolls back unless commit() succeeded.
class SqliteCatalog::Tx {
 public:
  Tx(SqliteCatalog& c, const char* op) : c_(c), op_(op) { c_.exec("BEGIN IMMEDIATE", op_); }
  ~Tx() {
    if (!done_) sqlite3_exec(c_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;
  void commit() {
    c_.exec("COMMIT", op_);
    done_ = true;
  }

 private:
  SqliteCatalog& c_;
  const char* op_;
  bool done_ = false;
};

// ---------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------

SqliteCatalog::SqliteCatalog(const std::string& path, Clock* clock)
    : path_(path), clock_(clock ? clock : &Clock::system()) {
  if (path_.empty()) throw config_error("catalog: empty path");
  int rc = sqlite3_open_v2(path_.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw Error(kind_of(rc) == ErrorKind::Transient ? ErrorKind::Transient : ErrorKind::Config,
                "catalog: cannot open '" + path_ + "': " + msg);
  }
  try {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    {
      std::lock_guard lock(mu_);
      // journal_mode answers with the mode in effect (":memory:" stays "memory").
      Stmt jm(*this, "PRAGMA journal_mode=WAL", "open (journal_mode)");
      if (jm.step()) {
        std::string mode = jm.text(0);
        if (mode != "wal" && mode != "memory")
          throw permanent_error("catalog: cannot use WAL journal mode for '" + path_ + "' (got '" + mode + "')");
      }
    }
    exec("PRAGMA synchronous=FULL", "open (synchronous)");
    exec("PRAGMA foreign_keys=ON", "open (foreign_keys)");
    migrate();
  } catch (...) {
    for (auto& [_, st] : stmts_) sqlite3_finalize(st);
    stmts_.clear();
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteCatalog::~SqliteCatalog() {
  for (auto& [_, st] : stmts_) sqlite3_finalize(st);
  if (db_) sqlite3_close_v2(db_);
}

void SqliteCatalog::fail(const char* op, int rc) {
  std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  throw Error(kind_of(rc), std::string("catalog ") + op + ": " + msg + " (" + path_ + ")");
}

sqlite3_stmt* SqliteCatalog::prepare(const char* sql) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) return it->second;
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr);
  if (rc != SQLITE_OK) fail("prepare", rc);
  stmts_.emplace(sql, st);
  return st;
}

void SqliteCatalog::exec(const char* sql, const char* op) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw Error(kind_of(rc), std::string("catalog ") + op + ": " + msg + " (" + path_ + ")");
  }
}

int64_t SqliteCatalog::now_ms() const { return to_epoch_ms(clock_->now()); }

int SqliteCatalog::read_schema_version() {
  Stmt st(*this, "SELECT COALESCE(MAX(version), 0) FROM schema_version", "read schema version");
  return st.step() ? static_cast<int>(st.i64(0)) : 0;
}

int SqliteCatalog::schema_version() {
  std::lock_guard lock(mu_);
  return read_schema_version();
}

void SqliteCatalog::migrate() {
  std::lock_guard lock(mu_);
  const auto& migrations = sqlite_catalog_migrations();
  const int known = migrations.back().version;
  int version;
  {
    Tx tx(*this, "migrate");
    exec(kCreateSchemaVersion, "migrate (schema_version)");
    version = read_schema_version();
    if (version > known)
      throw config_error("catalog '" + path_ + "' has schema version " + std::to_string(version) +
                         ", newer than this ferry supports (" + std::to_string(known) +
                         "); it was written by a newer ferry: upgrade ferry to open it");
    tx.commit();
  }
  for (const auto& m : migrations) {
    if (m.version <= version) continue;
    Tx tx(*this, "migrate");
    // Another process may have migrated the file meanwhile.
    if (read_schema_version() >= m.version) {
      tx.commit();
      continue;
    }
    try {
      exec(m.sql, "migrate");
    } catch (const Error& e) {
      throw Error(e.kind(), "catalog: migration to schema version " + std::to_string(m.version) + " (" +
                                m.description + ") failed: " + e.what());
    }
    Stmt(*this, "INSERT INTO schema_version(version, applied_at_ms, description) VALUES (?, ?, ?)", "migrate")
        .bind(m.version, now_ms(), m.description)
        .run();
    tx.commit();
  }
}

void SqliteCatalog::require_pipe(const std::string& pipe, const char* op) {
  Stmt st(*this, "SELECT 1 FROM pipes WHERE name = ?", op);
  if (!st.bind(pipe).step()) throw pipe_missing(pipe);
}

// ---------------------------------------------------------------------------
// Peers
// ---------------------------------------------------------------------------

void SqliteCatalog::upsert_peer(const std::string& name, const std::string& type, const std::string& spec_json) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "upsert_peer");
  Stmt(*this,
       "INSERT INTO peers(name, type, spec_json, updated_at_ms) VALUES (?, ?, ?, ?) "
       "ON CONFLICT(name) DO UPDATE SET type = excluded.type, spec_json = excluded.spec_json, "
       "updated_at_ms = excluded.updated_at_ms",
       "upsert_peer")
      .bind(name, type, spec_json, now_ms())
      .run();
  tx.commit();
}

std::vector<std::pair<std::string, std::string>> SqliteCatalog::list_peers() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  Stmt st(*this, "SELECT name, spec_json FROM peers ORDER BY name", "list_peers");
  while (st.step()) out.emplace_back(st.text(0), st.text(1));
  return out;
}

// ---------------------------------------------------------------------------
// Pipes
// ---------------------------------------------------------------------------

#define FERRY_PIPE_COLUMNS "name, spec_json, state, last_error, retry_count, created_at_ms, updated_at_ms"

PipeRecord SqliteCatalog::read_pipe(Stmt& st) {
  PipeRecord r;
  r.name = st.text(0);
  r.spec_json = st.text(1);
  r.state = parse_state(st.text(2), r.name);
  r.last_error = st.text(3);
  r.retry_count = static_cast<int>(st.i64(4));
  r.created_at_ms = st.i64(5);
  r.updated_at_ms = st.i64(6);
  return r;
}

void SqliteCatalog::create_pipe(const std::string& name, const std::string& spec_json, const std::string& reason) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "create_pipe");
  {
    Stmt st(*this, "SELECT 1 FROM pipes WHERE name = ?", "create_pipe");
    if (st.bind(name).step()) throw config_error("pipe '" + name + "' already exists");
  }
  const int64_t now = now_ms();
  const char* state = to_string(PipeState::Provisioning);
  Stmt(*this,
       "INSERT INTO pipes(name, spec_json, state, last_error, retry_count, created_at_ms, updated_at_ms) "
       "VALUES (?, ?, ?, '', 0, ?, ?)",
       "create_pipe")
      .bind(name, spec_json, state, now, now)
      .run();
  Stmt(*this, "INSERT INTO transitions(pipe, at_ms, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?)",
       "create_pipe")
      .bind(name, now, nullptr, state, reason)
      .run();
  tx.commit();
}

void SqliteCatalog::update_pipe_spec(const std::string& name, const std::string& spec_json) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "update_pipe_spec");
  Stmt(*this, "UPDATE pipes SET spec_json = ?, updated_at_ms = ? WHERE name = ?", "update_pipe_spec")
      .bind(spec_json, now_ms(), name)
      .run();
  if (sqlite3_changes(db_) == 0) throw pipe_missing(name);
  tx.commit();
}

std::optional<PipeRecord> SqliteCatalog::get_pipe(const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt st(*this, "SELECT " FERRY_PIPE_COLUMNS " FROM pipes WHERE name = ?", "get_pipe");
  if (!st.bind(name).step()) return std::nullopt;
  return read_pipe(st);
}

std::vector<PipeRecord> SqliteCatalog::list_pipes() {
  std::lock_guard lock(mu_);
  std::vector<PipeRecord> out;
  Stmt st(*this, "SELECT " FERRY_PIPE_COLUMNS " FROM pipes ORDER BY name", "list_pipes");
  while (st.step()) out.push_back(read_pipe(st));
  return out;
}

void SqliteCatalog::delete_pipe(const std::string& name) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "delete_pipe");
  require_pipe(name, "delete_pipe");
  // Explicit (not only ON DELETE CASCADE) so the rule lives here; transitions stay.
  Stmt(*this, "DELETE FROM partitions WHERE pipe = ?", "delete_pipe").bind(name).run();
  Stmt(*this, "DELETE FROM pipe_tables WHERE pipe = ?", "delete_pipe").bind(name).run();
  Stmt(*this, "DELETE FROM checkpoints WHERE pipe = ?", "delete_pipe").bind(name).run();
  Stmt(*this, "DELETE FROM pipe_meta WHERE pipe = ?", "delete_pipe").bind(name).run();
  Stmt(*this, "DELETE FROM pipes WHERE name = ?", "delete_pipe").bind(name).run();
  tx.commit();
}

void SqliteCatalog::set_state(const std::string& pipe, PipeState to, const std::string& reason,
                              const std::string& error) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "set_state");
  std::string from;
  {
    Stmt st(*this, "SELECT state FROM pipes WHERE name = ?", "set_state");
    if (!st.bind(pipe).step()) throw pipe_missing(pipe);
    from = st.text(0);
  }
  const int64_t now = now_ms();
  const char* to_s = to_string(to);
  // SET expressions see the old row: retry_count survives only a same-state "transition".
  Stmt(*this,
       "UPDATE pipes SET retry_count = CASE WHEN state = ?1 THEN retry_count ELSE 0 END, "
       "state = ?1, last_error = ?2, updated_at_ms = ?3 WHERE name = ?4",
       "set_state")
      .bind(to_s, error, now, pipe)
      .run();
  Stmt(*this, "INSERT INTO transitions(pipe, at_ms, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?)",
       "set_state")
      .bind(pipe, now, from, to_s, reason)
      .run();
  tx.commit();
}

void SqliteCatalog::record_retry(const std::string& pipe, int retry_count, const std::string& error) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "record_retry");
  Stmt(*this, "UPDATE pipes SET retry_count = ?, last_error = ?, updated_at_ms = ? WHERE name = ?",
       "record_retry")
      .bind(retry_count, error, now_ms(), pipe)
      .run();
  if (sqlite3_changes(db_) == 0) throw pipe_missing(pipe);
  tx.commit();
}

std::vector<Transition> SqliteCatalog::history(const std::string& pipe) {
  std::lock_guard lock(mu_);
  std::vector<Transition> out;
  Stmt st(*this,
          "SELECT id, pipe, at_ms, from_state, to_state, reason FROM transitions WHERE pipe = ? ORDER BY id",
          "history");
  st.bind(pipe);
  while (st.step()) {
    Transition t;
    t.id = st.i64(0);
    t.pipe = st.text(1);
    t.at_ms = st.i64(2);
    if (!st.is_null(3)) t.from = parse_state(st.text(3), t.pipe);
    t.to = parse_state(st.text(4), t.pipe);
    t.reason = st.text(5);
    out.push_back(std::move(t));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Tables and partitions
// ---------------------------------------------------------------------------

void SqliteCatalog::upsert_table(const TableStatus& t) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "upsert_table");
  require_pipe(t.pipe, "upsert_table");
  // ON CONFLICT ... DO UPDATE, never INSERT OR REPLACE: a replace would delete
  // the row and cascade to the table's partitions.
  Stmt(*this,
       "INSERT INTO pipe_tables(pipe, source, destination, state, partitions_total, partitions_done, "
       "rows_loaded, load_started_at_ms, load_finished_at_ms, partition_ms_total) "
       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
       "ON CONFLICT(pipe, source) DO UPDATE SET destination = excluded.destination, state = excluded.state, "
       "partitions_total = excluded.partitions_total, partitions_done = excluded.partitions_done, "
       "rows_loaded = excluded.rows_loaded, load_started_at_ms = excluded.load_started_at_ms, "
       "load_finished_at_ms = excluded.load_finished_at_ms, partition_ms_total = excluded.partition_ms_total",
       "upsert_table")
      .bind(t.pipe, t.source, t.destination, t.state, t.partitions_total, t.partitions_done, t.rows_loaded,
            t.load_started_at_ms, t.load_finished_at_ms, t.partition_ms_total)
      .run();
  tx.commit();
}

std::vector<TableStatus> SqliteCatalog::tables(const std::string& pipe) {
  std::lock_guard lock(mu_);
  std::vector<TableStatus> out;
  // rowid order = registration order (an upsert keeps the row and its rowid).
  Stmt st(*this,
          "SELECT pipe, source, destination, state, partitions_total, partitions_done, rows_loaded, "
          "load_started_at_ms, load_finished_at_ms, partition_ms_total FROM pipe_tables WHERE pipe = ? "
          "ORDER BY rowid",
          "tables");
  st.bind(pipe);
  while (st.step()) {
    TableStatus t;
    t.pipe = st.text(0);
    t.source = st.text(1);
    t.destination = st.text(2);
    t.state = st.text(3);
    t.partitions_total = st.i64(4);
    t.partitions_done = st.i64(5);
    t.rows_loaded = st.i64(6);
    t.load_started_at_ms = st.i64(7);
    t.load_finished_at_ms = st.i64(8);
    t.partition_ms_total = st.i64(9);
    out.push_back(std::move(t));
  }
  return out;
}

void SqliteCatalog::delete_table(const std::string& pipe, const std::string& source) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "delete_table");
  require_pipe(pipe, "delete_table");
  Stmt(*this, "DELETE FROM partitions WHERE pipe = ? AND tbl = ?", "delete_table").bind(pipe, source).run();
  Stmt(*this, "DELETE FROM pipe_tables WHERE pipe = ? AND source = ?", "delete_table").bind(pipe, source).run();
  tx.commit();
}

void SqliteCatalog::save_partition_plan(const std::string& pipe, const std::string& table,
                                        const std::vector<PartitionRecord>& parts, int64_t now_ms) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "save_partition_plan");
  require_pipe(pipe, "save_partition_plan");
  {
    Stmt st(*this, "SELECT 1 FROM pipe_tables WHERE pipe = ? AND source = ?", "save_partition_plan");
    if (!st.bind(pipe, table).step())
      throw config_error("table '" + table + "' of pipe '" + pipe + "' is not registered (upsert_table first)");
  }
  Stmt(*this, "DELETE FROM partitions WHERE pipe = ? AND tbl = ?", "save_partition_plan").bind(pipe, table).run();
  for (const auto& p : parts) {
    Stmt(*this,
         "INSERT INTO partitions(pipe, tbl, idx, \"range\", done, rows, duration_ms) VALUES (?, ?, ?, ?, 0, 0, 0)",
         "save_partition_plan")
        .bind(pipe, table, p.index, p.range)
        .run();
  }
  // An empty plan (nothing to load) is finished at once instead of staying "loading" forever.
  const bool empty = parts.empty();
  Stmt(*this,
       "UPDATE pipe_tables SET partitions_total = ?, partitions_done = 0, rows_loaded = 0, "
       "partition_ms_total = 0, state = ?, load_started_at_ms = ?, load_finished_at_ms = ? "
       "WHERE pipe = ? AND source = ?",
       "save_partition_plan")
      .bind(static_cast<int64_t>(parts.size()), empty ? "loaded" : "loading", now_ms,
            empty ? now_ms : int64_t{0}, pipe, table)
      .run();
  tx.commit();
}

std::vector<PartitionRecord> SqliteCatalog::partitions(const std::string& pipe, const std::string& table) {
  std::lock_guard lock(mu_);
  std::vector<PartitionRecord> out;
  Stmt st(*this,
          "SELECT pipe, tbl, idx, \"range\", done, rows, duration_ms FROM partitions "
          "WHERE pipe = ? AND tbl = ? ORDER BY idx",
          "partitions");
  st.bind(pipe, table);
  while (st.step()) {
    PartitionRecord p;
    p.pipe = st.text(0);
    p.table = st.text(1);
    p.index = st.i64(2);
    p.range = st.text(3);
    p.done = st.i64(4) != 0;
    p.rows = st.i64(5);
    p.duration_ms = st.i64(6);
    out.push_back(std::move(p));
  }
  return out;
}

void SqliteCatalog::finish_partition(const std::string& pipe, const std::string& table, int64_t index,
                                     int64_t rows, int64_t duration_ms) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "finish_partition");
  {
    Stmt st(*this, "SELECT done FROM partitions WHERE pipe = ? AND tbl = ? AND idx = ?", "finish_partition");
    if (!st.bind(pipe, table, index).step())
      throw config_error("partition " + std::to_string(index) + " of table '" + table + "' of pipe '" + pipe +
                         "' does not exist");
    if (st.i64(0) != 0) {  // already counted: a replayed call changes nothing
      tx.commit();
      return;
    }
  }
  Stmt(*this, "UPDATE partitions SET done = 1, rows = ?, duration_ms = ? WHERE pipe = ? AND tbl = ? AND idx = ?",
       "finish_partition")
      .bind(rows, duration_ms, pipe, table, index)
      .run();
  Stmt(*this,
       "UPDATE pipe_tables SET partitions_done = partitions_done + 1, rows_loaded = rows_loaded + ?1, "
       "partition_ms_total = partition_ms_total + ?2, "
       "state = CASE WHEN partitions_done + 1 >= partitions_total THEN 'loaded' ELSE state END, "
       "load_finished_at_ms = CASE WHEN partitions_done + 1 >= partitions_total THEN ?3 "
       "ELSE load_finished_at_ms END "
       "WHERE pipe = ?4 AND source = ?5",
       "finish_partition")
      .bind(rows, duration_ms, now_ms(), pipe, table)
      .run();
  tx.commit();
}

void SqliteCatalog::clear_partitions(const std::string& pipe, const std::string& table) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "clear_partitions");
  require_pipe(pipe, "clear_partitions");
  Stmt(*this, "DELETE FROM partitions WHERE pipe = ? AND tbl = ?", "clear_partitions").bind(pipe, table).run();
  tx.commit();
}

// ---------------------------------------------------------------------------
// Checkpoints and meta
// ---------------------------------------------------------------------------

void SqliteCatalog::commit_checkpoint(const std::string& pipe, const std::string& key, const std::string& position) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "commit_checkpoint");
  require_pipe(pipe, "commit_checkpoint");
  Stmt(*this,
       "INSERT INTO checkpoints(pipe, \"key\", position, updated_at_ms) VALUES (?, ?, ?, ?) "
       "ON CONFLICT(pipe, \"key\") DO UPDATE SET position = excluded.position, "
       "updated_at_ms = excluded.updated_at_ms",
       "commit_checkpoint")
      .bind(pipe, key, position, now_ms())
      .run();
  tx.commit();
}

std::optional<std::string> SqliteCatalog::checkpoint(const std::string& pipe, const std::string& key) {
  std::lock_guard lock(mu_);
  Stmt st(*this, "SELECT position FROM checkpoints WHERE pipe = ? AND \"key\" = ?", "checkpoint");
  if (!st.bind(pipe, key).step()) return std::nullopt;
  return st.text(0);
}

void SqliteCatalog::clear_checkpoints(const std::string& pipe) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "clear_checkpoints");
  require_pipe(pipe, "clear_checkpoints");
  Stmt(*this, "DELETE FROM checkpoints WHERE pipe = ?", "clear_checkpoints").bind(pipe).run();
  tx.commit();
}

void SqliteCatalog::put_meta(const std::string& pipe, const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  Tx tx(*this, "put_meta");
  require_pipe(pipe, "put_meta");
  Stmt(*this,
       "INSERT INTO pipe_meta(pipe, \"key\", \"value\") VALUES (?, ?, ?) "
       "ON CONFLICT(pipe, \"key\") DO UPDATE SET \"value\" = excluded.\"value\"",
       "put_meta")
      .bind(pipe, key, value)
      .run();
  tx.commit();
}

std::optional<std::string> SqliteCatalog::get_meta(const std::string& pipe, const std::string& key) {
  std::lock_guard lock(mu_);
  Stmt st(*this, "SELECT \"value\" FROM pipe_meta WHERE pipe = ? AND \"key\" = ?", "get_meta");
  if (!st.bind(pipe, key).step()) return std::nullopt;
  return st.text(0);
}

// ---------------------------------------------------------------------------
// open_catalog
// ---------------------------------------------------------------------------

std::unique_ptr<Catalog> open_catalog(const std::string& location) {
  std::string_view loc = location;
  auto starts = [&](std::string_view p) { return loc.substr(0, p.size()) == p; };
  if (starts("postgres://") || starts("postgresql://"))
    throw config_error("catalog '" + location +
                       "': a PostgreSQL catalog is not supported yet; use sqlite:PATH or a file path");
  std::string path;
  if (starts("sqlite://")) {
    path = std::string(loc.substr(9));  // sqlite:///abs/path -> /abs/path
  } else if (starts("sqlite:")) {
    path = std::string(loc.substr(7));
  } else {
    auto scheme_end = loc.find("://");
    if (scheme_end != std::string_view::npos)
      throw config_error("catalog '" + location + "': unknown scheme '" + std::string(loc.substr(0, scheme_end)) +
                         "' (expected sqlite:PATH or a file path)");
    path = location;
  }
  if (path.empty()) throw config_error("catalog '" + location + "': empty path");
  return std::make_unique<SqliteCatalog>(path, nullptr);
}

}  // namespace ferry

// The embedded catalog: one SQLite file (WAL, synchronous=FULL).
//
// Beyond the Catalog contract (catalog.h), this implementation:
//  - runs every public mutating call in one BEGIN IMMEDIATE ... COMMIT;
//  - serialises all calls on one connection with a mutex (thread-safe), and
//    waits up to 5 s (busy_timeout) for other processes holding the file;
//  - keeps a versioned schema (table `schema_version`, one row per applied
//    migration); opening an older file migrates it, one transaction per
//    migration; opening a file written by a newer ferry fails;
//  - calls that name a pipe which does not exist throw
//    Error(Config, "pipe 'x' does not exist") (except the read calls, which
//    return nothing); create_pipe of an existing pipe throws
//    Error(Config, "pipe 'x' already exists");
//  - SQLite failures throw ferry::Error naming the operation and SQLite's
//    message: Transient for busy/locked/I/O/full, Permanent otherwise.
//
// Semantics chosen where catalog.h leaves room:
//  - set_state always appends a transition (also to the same state); it
//    resets retry_count to 0 only when the state actually changes.
//  - save_partition_plan needs the table registered by upsert_table first;
//    the plan's partitions are stored not done (done/rows/duration ignored).
//  - finish_partition of an unknown partition throws Config; of a partition
//    already done is a no-op (nothing is counted twice).
//  - clear_partitions removes the plan only; the table's counters stay (they
//    are the load statistics shown to users).
//  - delete_table also removes the table's partitions.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "core/clock.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ferry {

// One schema migration: applied in its own transaction, in order.
struct CatalogMigration {
  int version;              // 1, 2, ... (contiguous)
  const char* description;  // stored in schema_version
  const char* sql;          // one or more statements
};

// All migrations this binary knows, oldest first. The last one's version is
// SqliteCatalog::kSchemaVersion.
const std::vector<CatalogMigration>& sqlite_catalog_migrations();

class SqliteCatalog final : public Catalog {
 public:
  static constexpr int kSchemaVersion = 2;

  // `path` is a file path or ":memory:". `clock` (not owned; must outlive the
  // catalog) defaults to Clock::system().
  explicit SqliteCatalog(const std::string& path, Clock* clock = nullptr);
  ~SqliteCatalog() override;
  SqliteCatalog(const SqliteCatalog&) = delete;
  SqliteCatalog& operator=(const SqliteCatalog&) = delete;

  const std::string& path() const { return path_; }
  // The schema version of the open file (== kSchemaVersion once opened).
  int schema_version();

  void upsert_peer(const std::string& name, const std::string& type, const std::string& spec_json) override;
  std::vector<std::pair<std::string, std::string>> list_peers() override;

  void create_pipe(const std::string& name, const std::string& spec_json, const std::string& reason) override;
  void update_pipe_spec(const std::string& name, const std::string& spec_json) override;
  std::optional<PipeRecord> get_pipe(const std::string& name) override;
  std::vector<PipeRecord> list_pipes() override;
  void delete_pipe(const std::string& name) override;

  void set_state(const std::string& pipe, PipeState to, const std::string& reason,
                 const std::string& error = "") override;
  void record_retry(const std::string& pipe, int retry_count, const std::string& error) override;
  std::vector<Transition> history(const std::string& pipe) override;

  void upsert_table(const TableStatus& t) override;
  std::vector<TableStatus> tables(const std::string& pipe) override;
  void delete_table(const std::string& pipe, const std::string& source) override;

  void save_partition_plan(const std::string& pipe, const std::string& table,
                           const std::vector<PartitionRecord>& parts, int64_t now_ms) override;
  std::vector<PartitionRecord> partitions(const std::string& pipe, const std::string& table) override;
  void finish_partition(const std::string& pipe, const std::string& table, int64_t index, int64_t rows,
                        int64_t duration_ms) override;
  void clear_partitions(const std::string& pipe, const std::string& table) override;

  void commit_checkpoint(const std::string& pipe, const std::string& key, const std::string& position) override;
  std::optional<std::string> checkpoint(const std::string& pipe, const std::string& key) override;
  void clear_checkpoints(const std::string& pipe) override;

  void put_meta(const std::string& pipe, const std::string& key, const std::string& value) override;
  std::optional<std::string> get_meta(const std::string& pipe, const std::string& key) override;

 private:
  class Stmt;
  class Tx;

  sqlite3_stmt* prepare(const char* sql);  // cached by address: pass string literals; caller holds mu_
  void exec(const char* sql, const char* op);
  [[noreturn]] void fail(const char* op, int rc);
  void migrate();
  int read_schema_version();
  int64_t now_ms() const;
  void require_pipe(const std::string& pipe, const char* op);
  PipeRecord read_pipe(Stmt& st);

  std::string path_;
  Clock* clock_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
  std::unordered_map<const char*, sqlite3_stmt*> stmts_;
};

}  // namespace ferry

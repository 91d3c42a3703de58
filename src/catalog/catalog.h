// The catalog: ferry's durable memory of peers, pipes, their states,
// per-table load progress, checkpoints and transition history.
//
// Contract (every implementation):
//  - Each public mutating call is one transaction: after a crash (kill -9 at
//    any instruction) the catalog holds either all of a call's writes or none.
//  - `commit_checkpoint` is the only way a source position advances; callers
//    invoke it only after the destination acknowledged the data up to it.
//  - Secrets are never stored: peers are stored without passwords.
//  - Thread-safe: one Catalog may be shared by the pipes of one process.
//  - Errors: ferry::Error. Config when a call names a pipe that does not exist (read
//    calls return nothing instead); Transient when the store is busy or its disk
//    fails (retry); Permanent otherwise. A failed call wrote nothing.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/pipe_state.h"

namespace ferry {

struct PipeRecord {
  std::string name;
  std::string spec_json;  // the PipeSpec as JSON (no secrets)
  PipeState state = PipeState::Provisioning;
  std::string last_error;
  int retry_count = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct Transition {
  int64_t id = 0;
  std::string pipe;
  int64_t at_ms = 0;
  std::optional<PipeState> from;  // nullopt for the creation
  PipeState to = PipeState::Provisioning;
  std::string reason;
};

// Initial-load status of one table of a pipe.
struct TableStatus {
  std::string pipe;
  std::string source;       // source table as configured
  std::string destination;  // destination table name
  std::string state;        // "pending" | "loading" | "loaded" | "streaming" | "removed"
  int64_t partitions_total = 0;
  int64_t partitions_done = 0;
  int64_t rows_loaded = 0;
  int64_t load_started_at_ms = 0;
  int64_t load_finished_at_ms = 0;
  int64_t partition_ms_total = 0;  // sum of finished partitions' durations (average = total/done)
};

// One planned snapshot partition. `range` is opaque to the catalog
// (the source encodes e.g. a ctid block range or a key range).
struct PartitionRecord {
  std::string pipe;
  std::string table;  // source table
  int64_t index = 0;
  std::string range;
  bool done = false;
  int64_t rows = 0;
  int64_t duration_ms = 0;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  // --- peers (stored without secrets) ---
  virtual void upsert_peer(const std::string& name, const std::string& type, const std::string& spec_json) = 0;
  virtual std::vector<std::pair<std::string, std::string>> list_peers() = 0;  // (name, spec_json)

  // --- pipes ---
  // Creates the pipe in Provisioning and records the creation transition.
  // Throws if it exists.
  virtual void create_pipe(const std::string& name, const std::string& spec_json, const std::string& reason) = 0;
  virtual void update_pipe_spec(const std::string& name, const std::string& spec_json) = 0;
  virtual std::optional<PipeRecord> get_pipe(const std::string& name) = 0;
  virtual std::vector<PipeRecord> list_pipes() = 0;
  // Deletes the pipe and everything that belongs to it (tables, partitions,
  // checkpoints, cursors); the history is kept.
  virtual void delete_pipe(const std::string& name) = 0;

  // Changes the state and appends the transition in one transaction.
  // `error` replaces last_error (empty clears it).
  virtual void set_state(const std::string& pipe, PipeState to, const std::string& reason,
                         const std::string& error = "") = 0;
  // Records a retry (count and last error) without a state change.
  virtual void record_retry(const std::string& pipe, int retry_count, const std::string& error) = 0;
  virtual std::vector<Transition> history(const std::string& pipe) = 0;

  // --- per-table status ---
  virtual void upsert_table(const TableStatus& t) = 0;
  virtual std::vector<TableStatus> tables(const std::string& pipe) = 0;
  virtual void delete_table(const std::string& pipe, const std::string& source) = 0;

  // --- snapshot partitions ---
  // Stores a table's plan (replacing any earlier plan) and sets the table's
  // partitions_total, done=0, rows=0, state "loading", started now.
  virtual void save_partition_plan(const std::string& pipe, const std::string& table,
                                   const std::vector<PartitionRecord>& parts, int64_t now_ms) = 0;
  virtual std::vector<PartitionRecord> partitions(const std::string& pipe, const std::string& table) = 0;
  // Marks one partition done and adds its rows/duration to the table status, atomically.
  virtual void finish_partition(const std::string& pipe, const std::string& table, int64_t index,
                                int64_t rows, int64_t duration_ms) = 0;
  virtual void clear_partitions(const std::string& pipe, const std::string& table) = 0;

  // --- checkpoints (source positions, opaque strings) ---
  // key: "" for the pipe-wide position (LSN, binlog), or a table for cursors.
  virtual void commit_checkpoint(const std::string& pipe, const std::string& key, const std::string& position) = 0;
  virtual std::optional<std::string> checkpoint(const std::string& pipe, const std::string& key) = 0;
  virtual void clear_checkpoints(const std::string& pipe) = 0;

  // --- free-form per-pipe state the runner needs across restarts
  //     (slot name, snapshot consistent point, incremental run stats) ---
  virtual void put_meta(const std::string& pipe, const std::string& key, const std::string& value) = 0;
  virtual std::optional<std::string> get_meta(const std::string& pipe, const std::string& key) = 0;
};

// Opens "sqlite:PATH" or a plain path. Creates and migrates the schema.
std::unique_ptr<Catalog> open_catalog(const std::string& location);

}  // namespace ferry

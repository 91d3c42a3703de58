// Destination: where the runner writes (DESIGN.md section 8). Implementations live
// in connectors/<db>/; the runner owns the pipe state, destinations only report.
//
// Thread safety: one thread at a time, except load_snapshot, which load threads call
// concurrently (each call with its own CopyStream; implementations use a connection
// per call). take_unrepresentable may be called while loads run.
//
// Durability: a method returns when its effect is durable at the destination; the
// runner advances a checkpoint only after that. Every write is idempotent under
// replay (versions decide), so a crash between the write and the checkpoint is safe.
// Destinations without row versions (PostgreSQL) instead hold the checkpoint
// themselves (capabilities().holds_checkpoint, below): exactly-once.
//
// Errors: ferry::Error (core/error.h). Transient: unreachable or a retryable server
// error (the runner retries); Permanent: the request cannot succeed (a value or type
// the table cannot take, with table, column and value named); Config: a pipe setting
// this server cannot honour, with the fix.
//
// Capabilities: beyond snapshots, capabilities() says which groups of methods exist;
// callers ask it first. A method outside them throws Permanent (a programming error).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/api/change.h"
#include "connectors/api/copy_stream.h"
#include "connectors/api/table_digest.h"
#include "core/error.h"
#include "core/schema.h"

namespace ferry {

struct PeerSpec;
struct PipeSpec;
enum class PeerType;
struct CheckResult;

// Where and how one source table lands.
struct DestinationTable {
  std::string name;                   // destination table name
  std::vector<std::string> order_by;  // user's order key (ClickHouse), key columns get appended
  // Per column: the destination type to create instead of the mapped one (`column_types`).
  std::map<std::string, std::string> column_types;
  OnUnrepresentable on_unrepresentable = OnUnrepresentable::Fail;
  // PostgreSQL/MariaDB: the table gets `_ferry_is_deleted` and deletes set it (the row keeps its
  // last values). Applies follow the column: a table that has it is soft-deleting.
  bool soft_delete = false;
};

// The soft-delete flag column of PostgreSQL and MariaDB destination tables.
inline constexpr const char* kSoftDeleteColumn = "_ferry_is_deleted";

// Values written under OnUnrepresentable::Null or Clamp, per destination table and column.
struct UnrepresentableCount {
  std::string table;        // destination table
  std::string column;
  int64_t count = 0;
  std::string first_value;  // the first such value, as the source rendered it (truncated)
};

// What a destination can do beyond creating tables and loading snapshots. Fixed per
// connector type; exchange_tables depends on the server (can_exchange_tables).
struct DestinationCapabilities {
  bool apply_changes = false;  // apply_changes, add_missing_columns: modes with CDC
  bool stale_rows = false;     // delete_stale_rows: reset and re-added tables end equal to the source
  bool table_admin = false;    // table_exists .. rename_tables, carry_deleted_rows: reset, keyless staging, resync
  bool holds_checkpoint = false;  // stored_checkpoint, apply_changes_checkpointed, clear_checkpoint
  // A log of messages (Kafka): loading a table again appends to what is there, so a
  // resync publishes the snapshot again into the same targets (nothing to swap).
  bool republishes = false;
};

class Destination {
 public:
  virtual ~Destination() = default;

  virtual DestinationCapabilities capabilities() const = 0;

  // e.g. "ClickHouse 18.16.1"; throws Transient when unreachable.
  virtual std::string server_version() = 0;

  // Creates the table for `source` (already projected: excluded columns
  // removed) when it does not exist. Throws Permanent naming table, column and
  // type when a column cannot be mapped.
  virtual void ensure_table(const TableSchema& source, const DestinationTable& table) = 0;

  // Streams rows (a snapshot partition, or an incremental copy's range) into the
  // table without holding them in memory, every row with row version `version`
  // (the snapshot's consistent point, or the incremental run): upserts by key, so a
  // partition loaded again after a crash leaves no duplicates, and a key's row with a
  // higher version replaces its earlier rows. Returns rows written.
  virtual int64_t load_snapshot(const TableSchema& source, const DestinationTable& table, CopyStream& rows,
                                uint64_t version) = 0;

  // Applies a batch of row changes idempotently: applying the same batch
  // again (a replay after a crash) leaves the same result, and a row never
  // regresses to an older version. Within the batch the last change to a key
  // wins. Deletes keep the row's last known values (soft delete); Unchanged
  // and Absent cells are filled from the last known row. Returns when the
  // destination has durably accepted the batch.
  virtual void apply_changes(const ChangeBatch& batch);  // capabilities().apply_changes

  // --- destination-held checkpoint (capabilities().holds_checkpoint) ---
  // For transactional destinations without row versions, where replaying a batch
  // is not harmless in general (PostgreSQL, MariaDB). The pipe's stream position is
  // stored at the destination in the same transaction as the batch, so the two are
  // durable together or not at all; the catalog's checkpoint follows the
  // destination's and never leads it: the runner reads stored_checkpoint() when it
  // opens the stream and skips what the destination already has (a crash between
  // the destination's commit and the catalog's write), and writes the catalog only
  // after apply_changes_checkpointed returned.
  // `position` is a position safe to resume from (the end of the last source
  // transaction the batch holds completely). The runner ends batches at transaction
  // boundaries for these destinations; only a transaction too big to hold (cdc_phase.cpp)
  // leaves its beginning in a batch, which a resume replays: full row images in commit order
  // from a point every applied change is at or after converge (Unchanged cells keep
  // the stored value, which a later change in the replay sets again if it changed).
  // The position stored for `pipe`; 0 when none.
  virtual uint64_t stored_checkpoint(const std::string& pipe);
  // apply_changes(batch) and storing `position` for `pipe`, in one transaction (an
  // empty batch only stores the position). Positions never move back: a lower
  // `position` than the stored one keeps the stored one.
  virtual void apply_changes_checkpointed(const ChangeBatch& batch, const std::string& pipe, uint64_t position);
  // Forgets `pipe`'s stored position (a new stream start: reset, a recreated pipe).
  virtual void clear_checkpoint(const std::string& pipe);

  // Adds columns of `source` the destination table lacks (source schema change).
  virtual void add_missing_columns(const TableSchema& source, const DestinationTable& table);

  // After a full load of `table` in which every row the source had got a version
  // >= `version`: deletes (soft-deletes, where deletes are soft) the keys whose
  // latest row is live and older than `version`, i.e. rows the source no longer has
  // (deleted while the pipe could not stream: before a reset, or while a table was
  // out of the pipe). Deletes carry `version`, so later changes win over them.
  // Idempotent. Returns the keys deleted. capabilities().stale_rows.
  virtual int64_t delete_stale_rows(const DestinationTable& table, uint64_t version);

  // Values written under OnUnrepresentable::Null/Clamp since the last call (and
  // forgets them). The runner adds them to the table statistics.
  virtual std::vector<UnrepresentableCount> take_unrepresentable() { return {}; }

  // --- periodic incremental copy ---
  // The highest version among the table's rows (0 when empty or missing).
  virtual uint64_t max_version(const DestinationTable& table) { return 0; }

  virtual int64_t count_rows(const DestinationTable& table) = 0;
  virtual void drop_table(const std::string& table) = 0;

  // --- reset and keyless staging (capabilities().table_admin) ---
  virtual bool table_exists(const std::string& table);
  // Removes every row, keeps the table (no-op when it does not exist).
  virtual void truncate_table(const std::string& table);
  // Puts `staged` in place of `target` and drops the old target; without a target,
  // `staged` is renamed. Crash-safe: at no point is `target` missing unless
  // `ferry_old_<target>` (the old rows) or `staged` (the new rows) exists.
  virtual void swap_table(const std::string& staged, const std::string& target);
  // Renames `from` to `to` (`to` must not exist).
  virtual void rename_table(const std::string& from, const std::string& to);

  // --- resync (pipe/resync.h; capabilities().table_admin) ---
  // Renames every (from, to) pair in one statement, in order, so that readers
  // find each target name taken by its new table (never missing).
  virtual void rename_tables(const std::vector<std::pair<std::string, std::string>>& renames);
  // Whether exchange_tables works here. Default false.
  virtual bool can_exchange_tables() { return false; }
  // Swaps the names of `a` and `b` in one atomic step.
  virtual void exchange_tables(const std::string& a, const std::string& b);
  // An identity of the table that survives renames and exchanges; "" when the
  // destination has none. Default "".
  virtual std::string table_identity(const std::string& table) { return {}; }
  // Copies the rows soft-deleted in `from` (latest row per key) into `to`, except
  // keys that `to` holds a row for, keeping their versions. `source` (projected)
  // names the key. Columns of `to` that `from` lacks or types differently get
  // their defaults. Returns rows copied.
  virtual int64_t carry_deleted_rows(const TableSchema& source, const std::string& from, const std::string& to);

  // --- settings and value checks (pipe/precheck.h; nothing changes at the destination) ---
  // Whether `table`'s settings (order key, column types) can be honoured for
  // `source` (projected) by this server. Throws Config naming the setting, the cause
  // and the fix; Transient when unreachable. Default: nothing to check.
  virtual void check_table(const TableSchema& source, const DestinationTable& table) {}
  // The columns whose destination type holds less than the source type (a date
  // range, decimals without NaN), each with that type as created. Default: none.
  virtual std::vector<std::pair<std::string, std::string>> narrower_columns(const TableSchema& source,
                                                                            const DestinationTable& table) {
    return {};
  }
  // Whether `value` (the source's canonical text, not NULL) of `column` can be
  // stored exactly. Default: true.
  virtual bool value_fits(const TableSchema& source, const DestinationTable& table, const std::string& column,
                          const std::string& value) {
    return true;
  }

  // --- compare (pipe/compare.h) ---
  // Hashes the live rows of `table`, created for `source` (projected); the destination
  // outlives the digester. Config error naming the destination type when it cannot.
  // Default: cannot.
  virtual std::unique_ptr<TableDigester> digester(const TableSchema& source, const DestinationTable& table);

  // --- pre-check (pipe/precheck.h) ---
  // Appends this destination's checks for `pipe`; `new_pipe`: not yet in the
  // catalog (non-empty destination tables are then a warning). Never throws for
  // a server problem (see Source::precheck). Default: connectivity only.
  virtual void precheck(const PipeSpec& pipe, bool new_pipe, std::vector<CheckResult>& out);
};

// Config error naming the peer when its type cannot be a destination.
std::unique_ptr<Destination> make_destination(const PeerSpec& peer);
// The capabilities of destinations of `type`; nullopt when ferry cannot write to it.
std::optional<DestinationCapabilities> destination_capabilities(PeerType type);

}  // namespace ferry

// ClickHouse as a ferry destination (DESIGN.md section 4).
//
// Tables: source columns + _ferry_version UInt64, _ferry_is_deleted UInt8,
// _ferry_synced_at; ReplacingMergeTree(_ferry_version) ordered by the user's order_by
// plus the key columns (MergeTree ORDER BY tuple() without key). Snapshot rows carry
// the version of their snapshot's consistent point, so a partition loaded twice
// collapses under FINAL and a reload is newer than every change before it.
// Not thread-safe: the runner uses one destination per worker thread.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "connectors/clickhouse/capabilities.h"
#include "connectors/clickhouse/clickhouse_apply.h"
#include "connectors/clickhouse/http_client.h"
#include "connectors/clickhouse/rowbinary_encoder.h"
#include "connectors/clickhouse/type_map.h"
#include "connectors/api/destination.h"

namespace ferry::clickhouse {

struct DestinationOptions {
  // Pass _ferry_is_deleted to ReplacingMergeTree where the server supports it (23.2+),
  // so that merges drop deleted rows (DESIGN: only when the user asks for it).
  bool remove_deleted_rows = false;
};

struct ExistingColumn {
  std::string name;
  std::string type;  // as ClickHouse reports it, e.g. "Nullable(Decimal(10, 2))"
  bool in_sorting_key = false;  // part of the table's ORDER BY
};

// What the last apply_changes() did (summed over its tables), for tests and logs.
struct ApplyStats {
  size_t rows_written = 0;    // rows inserted (after collapsing changes per key; order_soft_deletes too)
  size_t keys_looked_up = 0;  // keys whose last row was read from ClickHouse
  size_t keys_found = 0;      // ... and found there
  size_t unknown_cells = 0;   // cells known neither from the batch nor from ClickHouse
  size_t skipped_rows = 0;    // changes without a usable key value
  size_t truncates = 0;
  // Tables whose ORDER BY has columns besides the key (every key is looked up there):
  size_t order_soft_deletes = 0;  // rows soft-deleted under an ORDER BY tuple their key left
  size_t stale_rows = 0;          // keys not written: ClickHouse holds a newer row (replay)
};

class ClickHouseDestination final : public Destination {
 public:
  explicit ClickHouseDestination(const PeerSpec& peer, DestinationOptions options = {});
  ClickHouseDestination(HttpOptions http, std::string database, DestinationOptions options = {});

  // "ClickHouse 18.16.1"; Transient when unreachable.
  static constexpr DestinationCapabilities kCapabilities{.apply_changes = true, .stale_rows = true, .table_admin = true};
  DestinationCapabilities capabilities() const override { return kCapabilities; }
  std::string server_version() override;
  // CREATE DATABASE IF NOT EXISTS, CREATE TABLE IF NOT EXISTS; a table that already
  // exists must have every source column.
  void ensure_table(const TableSchema& source, const DestinationTable& table) override;
  // One streaming INSERT (FORMAT RowBinary: values arrive bit-exact) of the rows, each with
  // _ferry_version = `version` and _ferry_is_deleted = 0, so a later copy of a key replaces
  // it under FINAL; returns rows sent. Values written under on_unrepresentable Null/Clamp
  // are counted for take_unrepresentable() (and the first of each column is logged once).
  int64_t load_snapshot(const TableSchema& source, const DestinationTable& table, CopyStream& rows,
                        uint64_t version) override;
  void check_table(const TableSchema& source, const DestinationTable& table) override;  // plan_table
  std::vector<std::pair<std::string, std::string>> narrower_columns(const TableSchema& source,
                                                                    const DestinationTable& table) override;
  // Encodes the value as a load would under OnUnrepresentable::Fail.
  bool value_fits(const TableSchema& source, const DestinationTable& table, const std::string& column,
                  const std::string& value) override;
  // Counts live rows below `version` (no FINAL: cheap when there are none), then
  // stale_rows_sql. Keyless tables (MergeTree) are never swept: they are loaded whole.
  int64_t delete_stale_rows(const DestinationTable& table, uint64_t version) override;
  std::vector<UnrepresentableCount> take_unrepresentable() override;
  // SELECT max(_ferry_version); 0 when the table does not exist.
  uint64_t max_version(const DestinationTable& table) override;
  // SELECT count() FROM t FINAL WHERE _ferry_is_deleted = 0 (no FINAL for keyless MergeTree).
  int64_t count_rows(const DestinationTable& table) override;
  void drop_table(const std::string& table) override;
  bool table_exists(const std::string& table) override;  // system.tables
  void truncate_table(const std::string& table) override;  // TRUNCATE TABLE when it exists
  // RENAME TABLE target TO ferry_old_<target>, staged TO target (one statement; 18.16
  // has no EXCHANGE TABLES, and RENAME also works in Atomic databases), then DROP the old.
  void swap_table(const std::string& staged, const std::string& target) override;
  void rename_table(const std::string& from, const std::string& to) override;

  // Resync (clickhouse_resync.cpp). RENAME TABLE a TO b, c TO d: one statement.
  void rename_tables(const std::vector<std::pair<std::string, std::string>>& renames) override;
  // 20.10+ and an Atomic database.
  bool can_exchange_tables() override;
  void exchange_tables(const std::string& a, const std::string& b) override;  // EXCHANGE TABLES a AND b
  std::string table_identity(const std::string& table) override;  // system.tables uuid where the server has one
  // INSERT INTO to SELECT ... FROM from FINAL WHERE _ferry_is_deleted = 1 AND key NOT IN
  // (SELECT key FROM to); nothing for keyless tables or when the key's types changed.
  int64_t carry_deleted_rows(const TableSchema& source, const std::string& from, const std::string& to) override;

  // Applies the batch table by table (see clickhouse_apply.h): per table, the keys whose
  // last row is needed are looked up first (one query per 2000 keys, keys sent as an
  // external table), then the rows are written with one streaming INSERT (one per
  // segment between truncates). The destination table is found by name; its columns
  // (system.columns) and, when ensure_table/add_missing_columns told it, the source
  // schema decide how values are converted. Columns of the table the batch does not
  // carry get their defaults.
  // Tables whose ORDER BY has columns besides the key (system.columns is_in_sorting_key):
  // every key of the batch is looked up, and a key whose ORDER BY values changed gets
  // its stored row soft-deleted under the old tuple (encode_output_ordered). Each lookup
  // query there takes up to 100000 keys: the key is not a prefix of the ORDER BY, so
  // ClickHouse reads the key columns of the whole table for each query.
  void apply_changes(const ChangeBatch& batch) override;
  // ALTER TABLE ADD COLUMN (Nullable) for source columns the table lacks. Columns
  // dropped at the source stay in ClickHouse (old rows keep their values; new rows get
  // NULL / the default there).
  void add_missing_columns(const TableSchema& source, const DestinationTable& table) override;
  const ApplyStats& last_apply_stats() const { return stats_; }

  // Pre-check: connectivity and version, database creatable, writable (creates,
  // writes and drops a probe table ferry_precheck_<random>), and for a new pipe
  // destination tables that already hold rows (warn).
  void precheck(const PipeSpec& pipe, bool new_pipe, std::vector<CheckResult>& out) override;
  // clickhouse_digest.h, over plan(source, table).
  std::unique_ptr<TableDigester> digester(const TableSchema& source, const DestinationTable& table) override;

  // For CDC and resync work.
  const Capabilities& capabilities();  // SELECT version() once, then cached
  // The mapping ensure_table/load_snapshot use for `source`.
  TablePlan plan(const TableSchema& source, const DestinationTable& table);
  // Columns of an existing table in order (system.columns); empty when it does not exist.
  std::vector<ExistingColumn> table_columns(const std::string& table);
  // Engine of the database (e.g. "Ordinary", "Atomic"); EXCHANGE TABLES needs Atomic
  // and capabilities().has_exchange_tables.
  std::string database_engine();
  const std::string& database() const { return database_; }
  HttpClient& client() { return client_; }

 private:
  // What apply_changes knows about one destination table.
  struct ApplyTable {
    std::optional<TablePlan> plan;       // from ensure_table / add_missing_columns
    std::vector<std::string> key_names;  // the source's key columns (with plan)
    bool columns_loaded = false;
    std::vector<ExistingColumn> existing;
    // Layout for the batch column list `layout` (rebuilt when it or the above change).
    bool ready = false;
    std::vector<std::string> layout;
    std::vector<std::string> types;  // ClickHouse type per batch column
    std::vector<uint32_t> key;       // batch column indexes of the key; empty: append
    std::vector<uint32_t> order;     // ... of ORDER BY columns besides the key (keyed only)
    std::unique_ptr<RowBinaryEncoder> encoder;  // rows
    std::unique_ptr<TsvEncoder> key_encoder;    // lookup keys (TSV Strings for CAST)
    std::string insert_sql;
    std::string lookup_sql;
  };

  std::string table_engine(const std::string& table);
  // Adds the encoder's counts of committed rows of `table` to unrepresentable_ (warns once
  // per column), and resets them.
  void note_unrepresentable(const std::string& table, RowBinaryEncoder& encoder);
  void remember_plan(const TablePlan& plan, const TableSchema& source);
  ApplyTable& prepare_apply(const ChangeTable& table);
  void lookup_rows(ApplyTable& at);
  void apply_table(const ChangeBatch& batch, uint32_t table);

  HttpClient client_;
  std::string database_;
  DestinationOptions options_;
  std::optional<Capabilities> caps_;
  bool database_ready_ = false;

  std::map<std::string, ApplyTable> apply_tables_;
  ChangeMerger merger_;
  LookupRows lookup_;
  std::string keys_, scratch_;
  ApplyStats stats_;
  std::vector<UnrepresentableCount> unrepresentable_;  // since the last take_unrepresentable()
  std::set<std::string> warned_;                       // "table\ncolumn" already logged
};

}  // namespace ferry::clickhouse

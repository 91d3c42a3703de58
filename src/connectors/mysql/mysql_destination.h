// MariaDB/MySQL as a ferry destination (README "MariaDB destination").
//
// Tables: the source's columns with the types of mysql_dest_types.h, the same primary key,
// InnoDB, in the peer's `database` (created when missing), identifiers quoted; no ferry
// columns. Deletes are hard deletes, or with soft_delete set `_ferry_is_deleted` (the row keeps
// its last values; kept in resyncs; a row written again is live again).
//
// Exactly-once: capabilities().holds_checkpoint. apply_changes_checkpointed writes the
// batch and the pipe's position into `ferry_checkpoints` (in the peer's database) in ONE
// InnoDB transaction; see Destination::stored_checkpoint for the runner's side. A batch is
// applied set-based per table segment (apply_plan.h): rows with unchanged (TOAST) cells
// as UPDATEs of their stored row, then multi-row DELETE ... WHERE key IN, then multi-row
// INSERT ... ON DUPLICATE KEY UPDATE; a TRUNCATE inside a batch is a DELETE (TRUNCATE
// would commit the transaction).
//
// Snapshot partitions: one transaction each of multi-row INSERT ... ON DUPLICATE KEY
// UPDATE, so a partition loaded again after a crash leaves no duplicates (keyless tables:
// plain INSERT).
//
// Sessions: utf8mb4, time_zone '+00:00', sql_mode STRICT_ALL_TABLES (a value the column
// cannot take is an error, never a silent truncation), foreign_key_checks = 0 (rows of a
// batch arrive in set order, not the source's; the source checked them). Triggers fire.
//
// Values the column type cannot hold follow the table's on_unrepresentable (fail: the
// error names table, column and value; null: NULL, counted; clamp: dates and timestamps to
// 1000-01-01 / 9999-12-31, others fail; text: such columns are created as text).
//
// Thread safety: as Destination; load_snapshot opens its own connection per call.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/api/destination.h"
#include "connectors/mysql/mysql_dest_types.h"
#include "core/spec.h"

namespace ferry::mysql {

class MysqlConnection;

class MysqlDestination final : public Destination {
 public:
  explicit MysqlDestination(const PeerSpec& peer);
  ~MysqlDestination() override;

  static constexpr DestinationCapabilities kCapabilities{
      .apply_changes = true, .stale_rows = false, .table_admin = true, .holds_checkpoint = true};
  DestinationCapabilities capabilities() const override { return kCapabilities; }
  std::string server_version() override;  // "MariaDB 10.11.6-MariaDB-..."
  void ensure_table(const TableSchema& source, const DestinationTable& table) override;
  int64_t load_snapshot(const TableSchema& source, const DestinationTable& table, CopyStream& rows,
                        uint64_t version) override;
  void apply_changes(const ChangeBatch& batch) override;
  uint64_t stored_checkpoint(const std::string& pipe) override;
  void apply_changes_checkpointed(const ChangeBatch& batch, const std::string& pipe, uint64_t position) override;
  void clear_checkpoint(const std::string& pipe) override;
  void add_missing_columns(const TableSchema& source, const DestinationTable& table) override;
  void check_table(const TableSchema& source, const DestinationTable& table) override;  // maps every column
  bool value_fits(const TableSchema& source, const DestinationTable& table, const std::string& column,
                  const std::string& value) override;
  std::vector<UnrepresentableCount> take_unrepresentable() override;
  int64_t count_rows(const DestinationTable& table) override;
  void drop_table(const std::string& table) override;
  bool table_exists(const std::string& table) override;
  void truncate_table(const std::string& table) override;
  // One RENAME TABLE (target -> ferry_old_<target>, staged -> target), then DROP the old.
  void swap_table(const std::string& staged, const std::string& target) override;
  void rename_table(const std::string& from, const std::string& to) override;
  void rename_tables(const std::vector<std::pair<std::string, std::string>>& renames) override;  // one RENAME TABLE
  // Soft-deleting tables (_ferry_is_deleted at both): the deleted rows of `from` whose key
  // `to` lacks, still deleted. Otherwise nothing.
  int64_t carry_deleted_rows(const TableSchema& source, const std::string& from, const std::string& to) override;
  // Connectivity, version, database creatable, writable (probe table), max_allowed_packet,
  // non-empty tables of a new pipe (warn).
  void precheck(const PipeSpec& pipe, bool new_pipe, std::vector<CheckResult>& out) override;

  // mysql_digest.h over the destination table, rendering as `source`'s canonical text (compare).
  std::unique_ptr<TableDigester> digester(const TableSchema& source, const DestinationTable& table) override;

  std::string qualified(const std::string& table) const;

 private:
  struct TableInfo {
    std::vector<std::string> columns;
    std::vector<ValueType> types;
  };
  std::unique_ptr<MysqlConnection> open_session();
  MysqlConnection& conn();
  ServerFlavor flavor(MysqlConnection& c);
  // The table's columns as the server has them (cached; empty when missing).
  const TableInfo& table_info(MysqlConnection& c, const std::string& table);
  // The value types of `columns` of `table`; Permanent naming the table or the column when missing.
  std::vector<ValueType> types_of(MysqlConnection& c, const std::string& table, const std::vector<std::string>& columns);
  void forget_table(const std::string& table);
  bool has_soft_delete(const std::string& table);
  OnUnrepresentable policy(const std::string& table);
  // Appends the literal of `value` (nullopt: NULL) for `column` of `table`, applying the
  // table's on_unrepresentable when the type cannot hold it.
  void append_value(std::string& out, const std::string& table, const std::string& column, const ValueType& type,
                    std::optional<std::string_view> value);
  void apply_in_transaction(const ChangeBatch& batch, const std::string* pipe, uint64_t position);
  void ensure_checkpoint_table();

  PeerSpec peer_;
  std::string database_;
  std::unique_ptr<MysqlConnection> conn_;
  bool checkpoint_table_ready_ = false;
  std::mutex mu_;  // guards the maps below (load_snapshot runs on several threads)
  std::optional<ServerFlavor> flavor_;
  std::map<std::string, TableInfo> info_;
  std::map<std::string, OnUnrepresentable> policies_;
  std::map<std::pair<std::string, std::string>, UnrepresentableCount> unrepresentable_;
};

}  // namespace ferry::mysql

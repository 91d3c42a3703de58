// PostgreSQL as a ferry destination (README "PostgreSQL destination").
//
// Tables: the source's columns with the types of pg_dest_types.h, the same primary
// key, in the peer's `schema` (default public), identifiers quoted; no ferry columns.
// Deletes are hard deletes, or with soft_delete set _ferry_is_deleted (kept in resyncs).
//
// Exactly-once: capabilities().holds_checkpoint. apply_changes_checkpointed writes the
// batch and the pipe's position into ferry.checkpoints in ONE transaction; see
// Destination::stored_checkpoint for the runner's side. The batch is applied
// set-based per table segment (apply_plan.h, pg_apply_sql.h): staging COPY, then
// fill Unchanged cells from the stored rows, DELETE ... USING, INSERT ... ON CONFLICT
// DO UPDATE; TRUNCATE between segments.
//
// Snapshot partitions: one transaction each, COPY into a temp table LIKE the target
// then INSERT ... ON CONFLICT DO UPDATE, so a partition loaded again after a crash
// leaves no duplicates (keyless tables: COPY straight into the table).
//
// Triggers and foreign keys: every session sets session_replication_role = replica
// when the user may (superuser, as PostgreSQL's own subscriptions do), so user
// triggers and FK checks do not fire on replicated rows (the source already checked
// them; rows of one batch arrive in set order, not the source's). Without the right
// they fire; pre-check warns.
//
// Thread safety: as Destination; load_snapshot opens its own connection per call.
// Errors: PostgreSQL errors keep their SQLSTATE kind (pg_connection.h); a failed
// transaction is rolled back and the connection reopened on the next call.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "connectors/api/destination.h"
#include "connectors/postgres/pg_apply_sql.h"
#include "connectors/postgres/pg_connection.h"
#include "core/spec.h"

namespace ferry::postgres {

class PgDestination final : public Destination {
 public:
  explicit PgDestination(const PeerSpec& peer);

  static constexpr DestinationCapabilities kCapabilities{
      .apply_changes = true, .stale_rows = false, .table_admin = true, .holds_checkpoint = true};
  DestinationCapabilities capabilities() const override { return kCapabilities; }
  std::string server_version() override;  // "PostgreSQL 15.x"
  // CREATE SCHEMA / TABLE IF NOT EXISTS; an existing table must have every source column.
  void ensure_table(const TableSchema& source, const DestinationTable& table) override;
  int64_t load_snapshot(const TableSchema& source, const DestinationTable& table, CopyStream& rows,
                        uint64_t version) override;
  void apply_changes(const ChangeBatch& batch) override;
  uint64_t stored_checkpoint(const std::string& pipe) override;
  void apply_changes_checkpointed(const ChangeBatch& batch, const std::string& pipe, uint64_t position) override;
  void clear_checkpoint(const std::string& pipe) override;
  // ALTER TABLE ADD COLUMN (nullable) for source columns the table lacks.
  void add_missing_columns(const TableSchema& source, const DestinationTable& table) override;
  void check_table(const TableSchema& source, const DestinationTable& table) override;  // maps every column
  int64_t count_rows(const DestinationTable& table) override;
  void drop_table(const std::string& table) override;
  bool table_exists(const std::string& table) override;
  void truncate_table(const std::string& table) override;
  // One transaction: target -> ferry_old_<target>, staged -> target, DROP the old.
  void swap_table(const std::string& staged, const std::string& target) override;
  void rename_table(const std::string& from, const std::string& to) override;
  void rename_tables(const std::vector<std::pair<std::string, std::string>>& renames) override;  // one transaction
  std::string table_identity(const std::string& table) override;  // the table's oid
  // Soft-deleting tables (_ferry_is_deleted at both): the deleted rows of `from` whose key
  // `to` lacks, still deleted. Otherwise nothing (hard deletes leave none).
  int64_t carry_deleted_rows(const TableSchema& source, const std::string& from, const std::string& to) override;
  // Connectivity, version, schema creatable, writable (probe table), replication role
  // for triggers/foreign keys (warn), non-empty tables of a new pipe (warn).
  void precheck(const PipeSpec& pipe, bool new_pipe, std::vector<CheckResult>& out) override;
  // pg_digest.h over <schema>.<table> (compare).
  std::unique_ptr<TableDigester> digester(const TableSchema& source, const DestinationTable& table) override;

  const std::string& schema() const { return schema_; }
  std::string qualified(const std::string& table) const;
  // The table's columns and their types (format_type), in order; empty when missing.
  std::vector<std::pair<std::string, std::string>> table_columns(PgConnection& conn, const std::string& table);

 private:
  struct ApplyTable {
    PgApplyTable sql;
    std::vector<std::string> layout;  // the batch columns it was built for
  };
  PgConnection& conn();
  std::unique_ptr<PgConnection> open_session();
  bool has_soft_delete(const std::string& table);
  void apply_in_transaction(const ChangeBatch& batch, const std::string* pipe, uint64_t position);
  ApplyTable& prepare(const ChangeTable& table);
  void ensure_checkpoint_table();
  void forget_session();

  PeerSpec peer_;
  std::string schema_;
  std::unique_ptr<PgConnection> conn_;
  std::map<std::string, ApplyTable> apply_;  // by destination table
  bool checkpoint_table_ready_ = false;
  int staging_counter_ = 0;
  std::atomic<bool> warned_role_{false};
  // Tables where a snapshot partition met rows already there (a redone partition, a reset):
  // their later partitions load by upsert straight away.
  std::mutex upsert_tables_mu_;
  std::set<std::string> upsert_tables_;
  std::string copy_buf_;
};

}  // namespace ferry::postgres

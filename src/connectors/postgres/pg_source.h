// PostgreSQL as a source: table discovery, consistent snapshots (exported
// snapshots), ctid-range partitions read with COPY.
#pragma once
#include <memory>
#include <string>

#include "connectors/api/source.h"
#include "core/check.h"
#include "core/spec.h"

namespace ferry {

class PgConnection;

class PgSource final : public Source {
 public:
  explicit PgSource(PeerSpec peer);
  ~PgSource() override;

  static constexpr SourceCapabilities kCapabilities{.change_stream = true, .incremental = true, .positions = true, .column_ranges = true};
  SourceCapabilities capabilities() const override { return kCapabilities; }
  std::string server_version() override;
  std::string default_schema() const override { return "public"; }
  TableSchema describe(const std::string& table) override;
  void check_readable(const TableSchema& table) override;
  std::unique_ptr<SnapshotPoint> open_snapshot(bool exact_position = false, int readers = 1) override;
  std::pair<std::optional<std::string>, std::optional<std::string>> column_min_max(const TableSchema& table,
                                                                                 const std::string& column) override;
  std::vector<std::string> plan_partitions(const TableSchema& table, int64_t rows_per_partition) override;
  std::unique_ptr<CopyStream> read_partition(const TableSchema& projected, const std::string& range,
                                             const SnapshotPoint& point) override;

  void prepare_stream(const std::string& pipe, const std::vector<std::string>& tables) override;
  bool stream_exists(const std::string& pipe) override;
  std::unique_ptr<SnapshotPoint> create_stream(const std::string& pipe, bool with_snapshot, uint64_t& position,
                                               int readers = 1) override;
  std::unique_ptr<ChangeStream> open_stream(const std::string& pipe, uint64_t position) override;
  void drop_stream(const std::string& pipe) override;
  int64_t stream_lag_bytes(const std::string& pipe) override;
  std::string format_position(uint64_t position) const override;
  uint64_t parse_position(const std::string& text) const override;

  // Periodic incremental copy.
  CursorProbe probe_cursor(const TableSchema& table, const std::string& cursor_column,
                           const std::optional<std::string>& last) override;
  std::unique_ptr<CopyStream> read_range(const TableSchema& projected, const std::string& cursor_column,
                                         const std::optional<std::string>& lower, const std::string& upper) override;
  // SELECT <columns> FROM <table> WHERE cursor > 'lower' AND cursor <= 'upper' (literals
  // take the cursor column's type).
  static std::string range_query(const TableSchema& projected, const std::string& cursor_column,
                                 const std::optional<std::string>& lower, const std::string& upper);

  // Pre-check: connectivity and version, then for streaming modes wal_level,
  // replication privilege, free replication slots and wal senders, publication
  // creatable. The per-table checks are pipe/precheck.cpp's.
  void precheck(const PipeSpec& pipe, std::vector<CheckResult>& out) override;
  std::unique_ptr<TableDigester> digester(const TableSchema& projected) override;  // pg_digest.h
  // The wal_level check from the value of SHOW wal_level (seam for tests).
  static CheckResult wal_level_check(const std::string& wal_level);

  // The SELECT list / FROM / WHERE that reads `range` of `projected`.
  static std::string partition_query(const TableSchema& projected, const std::string& range);

 private:
  PgConnection& meta();
  std::vector<std::string> plan_key_ranges(const TableSchema& table, int64_t rows_per_partition);
  PeerSpec peer_;
  std::unique_ptr<PgConnection> meta_;  // discovery connection, opened lazily
};

}  // namespace ferry

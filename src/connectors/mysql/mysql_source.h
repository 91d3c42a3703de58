// MariaDB (10.5+, tested on 10.11) and MySQL 8 (version-aware, untested here) as a source:
// table discovery from information_schema, one consistent snapshot shared by parallel
// connections (mysql_snapshot.h), primary-key range partitions streamed in COPY text
// with the canonical renderings (mysql_types.h), periodic incremental copy, pre-check.
// Tables are named "db.table" (the peer's database when only "table" is given).
// The change stream (prepare_stream, create_stream, open_stream ...) is built separately.
#pragma once
#include <memory>
#include <mutex>
#include <string>

#include "connectors/api/source.h"
#include "core/check.h"
#include "core/spec.h"

namespace ferry::mysql {

class MysqlConnection;

class MysqlSource : public Source {
 public:
  // `snapshot_connections`: connections a snapshot point opens (the most partitions read
  // at once; more readers wait for a free one).
  explicit MysqlSource(PeerSpec peer, int snapshot_connections = kDefaultSnapshotConnections);
  ~MysqlSource() override;
  static constexpr int kDefaultSnapshotConnections = 4;

  std::string server_version() override;
  TableSchema describe(const std::string& table) override;
  void check_readable(const TableSchema& table) override;
  std::unique_ptr<SnapshotPoint> open_snapshot(bool exact_position = false) override;
  std::vector<std::string> plan_partitions(const TableSchema& table, int64_t rows_per_partition) override;
  std::unique_ptr<CopyStream> read_partition(const TableSchema& projected, const std::string& range,
                                             const SnapshotPoint& point) override;
  std::pair<std::optional<std::string>, std::optional<std::string>> column_min_max(const TableSchema& table,
                                                                                 const std::string& column) override;

  CursorProbe probe_cursor(const TableSchema& table, const std::string& cursor_column,
                           const std::optional<std::string>& last) override;
  std::unique_ptr<CopyStream> read_range(const TableSchema& projected, const std::string& cursor_column,
                                         const std::optional<std::string>& lower, const std::string& upper) override;

  // Connectivity and version; for streaming modes log_bin, binlog_format=ROW,
  // binlog_row_image=FULL, binlog_row_metadata=FULL (where the server has it), server_id,
  // replication grants, GTID mode (info) and binlog retention (warn).
  void precheck(const PipeSpec& pipe, std::vector<CheckResult>& out) override;

  // Pure pieces (unit-tested).
  // "db.table" (backquotes allowed) -> {db, table}; db defaults to `default_db`. Throws
  // Config when no database can be determined.
  static std::pair<std::string, std::string> split_table(const std::string& table, const std::string& default_db);
  // SELECT list / FROM / WHERE reading `range` ("all", or "key:START:END" on the single
  // integer key; empty bounds are open) of `projected`.
  static std::string partition_query(const TableSchema& projected, const std::string& range);
  // Ranges of about equal key width for keys in [lo, hi], first and last open-ended.
  static std::vector<std::string> key_ranges(__int128 lo, __int128 hi, int64_t parts);
  // The SQL literal comparing a column of type `c` with its canonical text `text` (numbers
  // unquoted so DECIMAL compares exactly; TIMESTAMP without its +00). Throws Permanent
  // for a value that is not of the column's form.
  static std::string cursor_literal(const Column& c, const std::string& text);

 private:
  MysqlConnection& meta();  // discovery connection, opened lazily; callers hold mu_
  PeerSpec peer_;
  int snapshot_connections_;
  std::mutex mu_;
  std::unique_ptr<MysqlConnection> meta_;
};

}  // namespace ferry::mysql

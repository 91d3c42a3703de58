// MariaDB (10.5+, tested on 10.11) and MySQL 8 (version-aware, untested here) as a source:
// table discovery from information_schema, one consistent snapshot shared by parallel
// connections (mysql_snapshot.h), primary-key range partitions streamed in COPY text
// with the canonical renderings (mysql_types.h), periodic incremental copy, pre-check.
// Tables are named "db.table" (the peer's database when only "table" is given).
// Change streams read the binlog (mysql_change_stream.h; the CDC methods are in
// mysql_source_stream.cpp): MariaDB keeps no replication slot, so a pipe's stream start
// is only its checkpoint in ferry's catalog.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/api/source.h"
#include "core/check.h"
#include "core/spec.h"

namespace ferry::mysql {

class MysqlConnection;
class MysqlStreamControl;

class MysqlSource : public Source {
 public:
  explicit MysqlSource(PeerSpec peer);
  ~MysqlSource() override;

  static constexpr SourceCapabilities kCapabilities{
      .change_stream = true, .incremental = true, .positions = true, .column_ranges = true};
  SourceCapabilities capabilities() const override { return kCapabilities; }
  std::string server_version() override;
  std::string default_schema() const override { return peer_.database; }
  TableSchema describe(const std::string& table) override;
  void check_readable(const TableSchema& table) override;
  std::unique_ptr<SnapshotPoint> open_snapshot(bool exact_position = false, int readers = 1) override;
  std::vector<std::string> plan_partitions(const TableSchema& table, int64_t rows_per_partition) override;
  std::unique_ptr<CopyStream> read_partition(const TableSchema& projected, const std::string& range,
                                             const SnapshotPoint& point) override;
  std::pair<std::optional<std::string>, std::optional<std::string>> column_min_max(const TableSchema& table,
                                                                                 const std::string& column) override;

  CursorProbe probe_cursor(const TableSchema& table, const std::string& cursor_column,
                           const std::optional<std::string>& last) override;
  std::unique_ptr<CopyStream> read_range(const TableSchema& projected, const std::string& cursor_column,
                                         const std::optional<std::string>& lower, const std::string& upper) override;

  // --- change data capture (mysql_source_stream.cpp) ---
  // Remembers the pipe's tables for its streams (nothing at the server).
  void prepare_stream(const std::string& pipe, const std::vector<std::string>& tables) override;
  // True while the server writes a binlog: a pipe's stream needs nothing else there (a
  // purged checkpoint shows when the stream opens: SourceLost).
  bool stream_exists(const std::string& pipe) override;
  bool can_resume_stream(const std::string& pipe, uint64_t position) override;
  // The current binlog position; with a snapshot, the snapshot's own position.
  std::unique_ptr<SnapshotPoint> create_stream(const std::string& pipe, bool with_snapshot, uint64_t& position,
                                               int readers = 1) override;
  // Streams the tables last given to prepare_stream (Permanent when none were).
  std::unique_ptr<ChangeStream> open_stream(const std::string& pipe, uint64_t position) override;
  void drop_stream(const std::string& pipe) override {}  // nothing at the server
  // Binlog bytes beyond the position the pipe's stream last acknowledged.
  int64_t stream_lag_bytes(const std::string& pipe) override;
  // "binlog.000042:1234"
  std::string format_position(uint64_t position) const override;
  uint64_t parse_position(const std::string& text) const override;

  // Connectivity and version; for streaming modes log_bin, binlog_format=ROW,
  // binlog_row_image=FULL, binlog_row_metadata=FULL (where the server has it), server_id,
  // replication grants, GTID mode (info) and binlog retention (warn).
  void precheck(const PipeSpec& pipe, std::vector<CheckResult>& out) override;
  std::unique_ptr<TableDigester> digester(const TableSchema& projected) override;  // mysql_digest.h

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
  std::mutex mu_;
  std::unique_ptr<MysqlConnection> meta_;
  // CDC: positions and pipe tables (own lock: format_position is const and called anywhere).
  MysqlStreamControl& control() const;  // callers hold stream_mu_
  mutable std::mutex stream_mu_;
  mutable std::unique_ptr<MysqlStreamControl> control_;
  std::map<std::string, std::vector<std::string>> stream_tables_;  // pipe -> "db.table"
  std::map<std::string, std::shared_ptr<std::atomic<uint64_t>>> acknowledged_;  // pipe -> its stream's
};

}  // namespace ferry::mysql

// SQLite as a source: a database file read with the SQLite library, for
// trying ferry without a database server. Snapshot (one partition per table)
// and periodic incremental copy; no change streams.
//
// Tables are named "t" or "main.t" (an attached schema name before the dot).
// Types follow SQLite's affinity rules on the declared type (see
// map_sqlite_type); values are rendered in PostgreSQL COPY text framing:
// integers and reals as numbers, text escaped, blobs of BLOB columns as bytea
// hex, NULL as \N. Dates and timestamps are whatever text the column holds;
// they must be ISO ("2024-01-31", "2024-01-31 12:00:00") to be loaded as such.
#pragma once
#include "connectors/api/copy_stream.h"
#include <memory>
#include <string>
#include <string_view>

#include "connectors/api/source.h"
#include "core/spec.h"

struct sqlite3;

namespace ferry::sqlite {

// Declared SQLite column type -> logical type (pure). "INTEGER", "BIGINT" -> Int64;
// "BOOLEAN" -> Bool; "TEXT", "VARCHAR(20)", "" -> String; "BLOB" -> Bytes;
// "REAL", "DOUBLE" -> Float64; "DECIMAL(10,2)" -> Decimal; "NUMERIC" -> NumericText;
// "DATE" -> Date; "DATETIME", "TIMESTAMP" -> Timestamp; "UUID" -> Uuid; "JSON" -> Json.
void map_sqlite_type(const std::string& declared, Column& column);

class SqliteSource final : public Source {
 public:
  explicit SqliteSource(PeerSpec peer);
  ~SqliteSource() override;

  static constexpr SourceCapabilities kCapabilities{.incremental = true};
  SourceCapabilities capabilities() const override { return kCapabilities; }
  std::string server_version() override;
  std::string default_schema() const override { return "main"; }
  TableSchema describe(const std::string& table) override;
  void check_readable(const TableSchema& table) override;
  std::unique_ptr<SnapshotPoint> open_snapshot(bool exact_position = false, int readers = 1) override;
  std::vector<std::string> plan_partitions(const TableSchema& table, int64_t rows_per_partition) override;
  std::unique_ptr<CopyStream> read_partition(const TableSchema& projected, const std::string& range,
                                             const SnapshotPoint& point) override;

  CursorProbe probe_cursor(const TableSchema& table, const std::string& cursor_column,
                           const std::optional<std::string>& last) override;
  std::unique_ptr<CopyStream> read_range(const TableSchema& projected, const std::string& cursor_column,
                                         const std::optional<std::string>& lower, const std::string& upper) override;

 private:
  sqlite3* db();
  PeerSpec peer_;
  sqlite3* db_ = nullptr;  // discovery connection, opened lazily
};

}  // namespace ferry::sqlite

// ClickHouse as a source (over HTTP): snapshot (one partition per table) and
// periodic incremental copy; no change streams.
//
// Tables are named "db.t" or "t" (the peer's database, else "default").
// Describe reads system.tables / system.columns; the key is the sorting key of
// a ReplacingMergeTree table (read with FINAL, so only the current version of
// a row is copied); other engines have no key (rows are appended at the
// destination). Rows are read with FORMAT TabSeparated, whose escapes agree
// with PostgreSQL COPY text for the values ferry maps; DateTime values are
// rendered in UTC with a "+00" offset (timestamptz). Answers stream: the server
// buffers the result (wait_end_of_query=1, spilling to disk) so that an error
// is an HTTP error and never half a result.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "connectors/clickhouse/http_client.h"
#include "connectors/api/source.h"
#include "core/spec.h"

namespace ferry::clickhouse {

// ClickHouse column type -> logical type (pure). Nullable()/LowCardinality()
// unwrapped (Nullable sets `nullable`); Int8/UInt8/Int16 -> Int16, UInt16/Int32 ->
// Int32, UInt32/Int64 -> Int64, UInt64 -> Decimal(20, 0), wider -> NumericText, Float32/64,
// Decimal*(..) -> Decimal, String/FixedString/Enum/IPv4/IPv6 -> String, Date ->
// Date, DateTime/DateTime64 -> TimestampTz, UUID -> Uuid, Bool -> Int16 (0/1);
// Array, Tuple, Map, Nested, AggregateFunction... -> Unsupported.
void map_clickhouse_type(const std::string& type, Column& column);

// The SQL text that compares as the cursor column's value `value` (its type).
std::string cursor_literal(const Column& column, const std::string& value);

class ClickHouseSource final : public Source {
 public:
  explicit ClickHouseSource(const PeerSpec& peer);
  ~ClickHouseSource() override;

  static constexpr SourceCapabilities kCapabilities{.incremental = true};
  SourceCapabilities capabilities() const override { return kCapabilities; }
  std::string server_version() override;
  std::string default_schema() const override { return database_; }
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

  // SELECT <column expressions> FROM <table> [FINAL] [WHERE lower < c <= upper]
  // FORMAT TabSeparated (for tests).
  static std::string range_query(const TableSchema& projected, bool final, const std::string& cursor_column,
                                 const std::optional<std::string>& lower, const std::optional<std::string>& upper);

 private:
  // Whether the table is read with FINAL (ReplacingMergeTree), as describe found it.
  bool reads_final(const TableSchema& table);

  HttpOptions http_;
  std::string database_;
  HttpClient client_;
  std::mutex mu_;                       // guards final_ (partitions are read from several threads)
  std::map<std::string, bool> final_;   // "db.t" -> read with FINAL
};

}  // namespace ferry::clickhouse

// Row images of binlog ROWS events, decoded into ferry's canonical text renderings
// (the table in src/core/schema.h; the snapshot side, mysql_types.h, renders the same
// text for every value, tested by mysql_to_clickhouse_snapshot_test):
//   integers        decimal, unsigned when the column is (TINYINT(1) too: 0/1)
//   FLOAT/DOUBLE    shortest text that reads back to the same bits (std::to_chars)
//   DECIMAL(P,S)    exact, S fractional digits ("-12.50")
//   DATE            YYYY-MM-DD ("0000-00-00" for the zero date, kept as text)
//   DATETIME(n)     YYYY-MM-DD hh:mm:ss[.f{n}]
//   TIMESTAMP(n)    YYYY-MM-DD hh:mm:ss[.f{n}]+00 (UTC; 0 is "0000-00-00 00:00:00")
//   TIME(n)         [-]hh:mm:ss[.f{n}] (hours up to 838)
//   YEAR            4 digits ("0000" for 0)
//   BIT(n)          n binary digits, as PostgreSQL renders bit(n)
//   ENUM / SET      the label(s), comma-separated; the index when labels are unknown
//   CHAR/VARCHAR/TEXT/JSON  the bytes as stored (utf8mb4)
//   BINARY/VARBINARY/BLOB   \x + lowercase hex, like PostgreSQL bytea (BINARY(n): all n
//                           bytes, the trailing zeros the log leaves out restored)
//   GEOMETRY        \x + hex of the WKB (the 4-byte SRID prefix dropped)
// Pure, like binlog_event.h; values are copied into the caller's RowImage.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/mysql/binlog_event.h"

namespace ferry::mysql {

enum ColumnType : uint8_t {
  kTypeDecimal = 0, kTypeTiny = 1, kTypeShort = 2, kTypeLong = 3, kTypeFloat = 4, kTypeDouble = 5, kTypeNull = 6,
  kTypeTimestamp = 7, kTypeLongLong = 8, kTypeInt24 = 9, kTypeDate = 10, kTypeTime = 11, kTypeDatetime = 12,
  kTypeYear = 13, kTypeNewDate = 14, kTypeVarchar = 15, kTypeBit = 16, kTypeTimestamp2 = 17, kTypeDatetime2 = 18,
  kTypeTime2 = 19, kTypeJson = 245, kTypeNewDecimal = 246, kTypeEnum = 247, kTypeSet = 248, kTypeTinyBlob = 249,
  kTypeMediumBlob = 250, kTypeLongBlob = 251, kTypeBlob = 252, kTypeVarString = 253, kTypeString = 254,
  kTypeGeometry = 255,
};

// One column as a TABLE_MAP describes it, with what the optional metadata (or the
// caller, from the server's catalog) adds.
struct BinlogColumn {
  uint8_t type = 0;        // ColumnType; for STRING-encoded ENUM/SET: kTypeEnum / kTypeSet
  uint16_t meta = 0;       // type metadata (length, precision/scale, fsp, ...)
  bool nullable = true;
  bool is_unsigned = false;
  bool binary = false;     // binary charset: rendered as \x hex
  std::string name;        // empty unless binlog_row_metadata=FULL (or set by the caller)
  std::vector<std::string> labels;  // ENUM / SET values
};

struct BinlogTableMap {
  uint64_t table_id = 0;
  std::string database;
  std::string table;
  std::vector<BinlogColumn> columns;
  bool has_signedness = false;  // the optional metadata said which numeric columns are unsigned
  bool has_names = false;
  // SIMPLE_PRIMARY_KEY / PRIMARY_KEY_WITH_PREFIX (binlog_row_metadata=FULL): column
  // indexes of the primary key in key order. With FULL metadata and no such field the
  // table has no primary key; without FULL metadata has_primary_key stays false.
  std::vector<uint32_t> primary_key;
  bool has_primary_key = false;

  // Copies the event and decodes types, metadata and the optional metadata
  // (SIGNEDNESS, DEFAULT_CHARSET, COLUMN_CHARSET, COLUMN_NAME, SET/ENUM_STR_VALUE,
  // SIMPLE_PRIMARY_KEY, PRIMARY_KEY_WITH_PREFIX).
  static BinlogTableMap from(const TableMapEvent& e);
};

struct BinlogCell {
  enum State : uint8_t { Absent, Null, Value } state = Absent;  // Absent: not in the image (MINIMAL)
  std::string text;
};
using RowImage = std::vector<BinlogCell>;  // one cell per table column

struct RowChange {
  RowsEvent::Kind kind = RowsEvent::Write;
  RowImage before;  // Update, Delete
  RowImage after;   // Write, Update
};

// Decodes every row of a ROWS event of `table` (its TABLE_MAP, same table id) and
// appends them to `out`. Throws Permanent naming table and column when an image is
// malformed or a column type is not supported.
void decode_rows(const RowsEvent& event, const BinlogTableMap& table, std::vector<RowChange>& out);

// The same into `out` reusing its elements (their strings keep their capacity, so a
// steady stream decodes without heap allocations); returns the number of rows decoded
// (out[0, n) hold them, later elements are stale; the image a kind has no use for
// (`before` of a Write, `after` of a Delete) is stale too). Same errors as decode_rows.
size_t decode_rows_reusing(const RowsEvent& event, const BinlogTableMap& table, std::vector<RowChange>& out);

}  // namespace ferry::mysql

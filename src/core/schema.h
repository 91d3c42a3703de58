// Table schemas as ferry sees them: every connector maps its native types to a
// logical type, and destinations map logical types to theirs. Values travel
// between them as the canonical text rendering below, in COPY text framing for bulk
// data (COPY escapes come on top of it). Every source produces exactly this text
// (snapshot reads and change streams alike), every destination reads it. Tested per
// type: tests/unit/pg_types_test.cpp and the PostgreSQL snapshot test, MariaDB's in
// tests/unit/mysql_types_test.cpp and binlog_rows_test.cpp, and snapshot text == binlog
// text in tests/integration/mysql_to_clickhouse_snapshot_test.cpp.
//
//   LogicalType   canonical text                                     examples
//   Int8..Int64   decimal, '-' for negatives                         -128, 9223372036854775807
//   UInt8..UInt64 decimal                                            255, 18446744073709551615
//   Float32/64    shortest text that reads back to the same bits     0.1, 3.4028235e+38, -0, 5e-324
//                 (std::to_chars); Infinity, -Infinity, NaN          (PostgreSQL: its extra_float_digits=1
//                                                                     output, which is also shortest)
//   Decimal       exact, exactly `scale` fractional digits           -12.50; NaN/Infinity (PostgreSQL)
//   NumericText   PostgreSQL numeric text                            3.14159265358979323846
//   Bool          t / f                                              t
//   String, Json, Enum, Set, Inet, Interval, Time
//                 the characters (UTF-8) as the source shows them;   abc, {"a": 1}, red, a,c
//                 Set: labels comma-separated in definition order
//   Bytes         \x + lowercase hex                                 \x00ff
//   Geometry      \x + lowercase hex of the WKB (MariaDB's 4-byte    \x0101000000...
//                 SRID prefix dropped)
//   Bit           one binary digit per bit, most significant first  0101 (bit(4))
//   Year          4 digits; 0000 is MariaDB's zero year              2024, 0000
//   Date          YYYY-MM-DD; MariaDB's zero date 0000-00-00 (and     2024-02-29, 0000-00-00
//                 dates with a zero month or day) kept as is;
//                 PostgreSQL infinity/-infinity, BC suffix
//   Time          [-]hh:mm:ss[.f{precision}] (MariaDB: hours to 838) -838:59:59.000000
//   Timestamp     YYYY-MM-DD hh:mm:ss[.fraction]                    2024-01-02 03:04:05.678901
//                 PostgreSQL: trailing zeros of the fraction trimmed;
//                 MariaDB DATETIME(n): exactly n digits, zero date
//                 0000-00-00 00:00:00[.000] kept
//   TimestampTz   as Timestamp, in UTC, then +00                     2024-01-02 03:04:05.5+00
//                 MariaDB TIMESTAMP(n): exactly n digits; its zero
//                 value is 0000-00-00 00:00:00[.0...] without +00
//   Uuid          8-4-4-4-12 lowercase hex
//   Array         PostgreSQL array literal of the element's text     {1,NULL,3}
//
// Zero dates, and dates/timestamps outside what a destination type holds, are
// "unrepresentable" there (OnUnrepresentable).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

enum class LogicalType {
  Int8, Int16, Int32, Int64,
  UInt8, UInt16, UInt32, UInt64,  // MariaDB/MySQL UNSIGNED integers

  Float32, Float64,
  Decimal,        // bounded numeric: precision/scale set
  NumericText,    // unbounded numeric: stays text to be lossless
  Bool,
  String,         // text, varchar, char
  Bytes,          // bytea (text rendering is \x hex)
  Date, Time, Timestamp, TimestampTz, Interval,
  Uuid, Json, Enum, Inet,
  Set,            // MariaDB SET: labels comma-separated
  Bit,            // bit(n): n binary digits; n in precision
  Year,           // MariaDB YEAR: 4 digits, 0000 = zero year
  Geometry,       // spatial types: WKB as \x hex
  Array,          // element type in `element`
  Unsupported,    // no mapping: the pipe fails at Setup naming table, column and type
};
const char* to_string(LogicalType t);

// What a destination does with a value its mapped column type cannot hold (a year-1
// date in a ClickHouse Date): the pipe setting `on_unrepresentable`. Never silent:
// every Null/Clamp value is counted per table and column (Destination::take_unrepresentable).
enum class OnUnrepresentable : uint8_t {
  Fail,   // the pipe fails naming table, column and value (default)
  Text,   // columns whose destination type is narrower than the source's are created as text
  Null,   // such columns are created nullable; the value is written as NULL
  Clamp,  // the nearest value the type holds (dates: its first or last day)
};
const char* to_string(OnUnrepresentable p);
std::optional<OnUnrepresentable> on_unrepresentable_from_string(std::string_view s);

struct Column {
  std::string name;
  std::string source_type;  // as the source names it, e.g. "numeric(10,2)", "integer[]"
  LogicalType type = LogicalType::String;
  LogicalType element = LogicalType::String;  // for Array
  int precision = 0;        // Decimal precision; Timestamp/TimestampTz/Time fractional digits
                            // (-1 = default); Bit: number of bits
  int scale = 0;
  bool nullable = true;
  int key_position = 0;     // 1-based position in the primary key / replica identity; 0 = not a key column
};

struct TableSchema {
  std::string schema;  // source schema / database
  std::string name;    // source table name
  std::vector<Column> columns;
  int64_t estimated_rows = 0;
  int64_t estimated_bytes = 0;
  int64_t pages = 0;   // PostgreSQL relpages (ctid partitioning)
  std::string replica_identity;  // postgres: d, f, i, n

  std::vector<std::string> key_columns() const;  // in key order
  const Column* find(const std::string& column) const;
  std::string display_name() const { return schema.empty() ? name : schema + "." + name; }
};

}  // namespace ferry

// Table schemas as ferry sees them: every connector maps its native types to a
// logical type, and destinations map logical types to theirs. Values travel
// between them as the source's canonical text rendering (PostgreSQL's text
// output for PostgreSQL sources), in COPY text framing for bulk data.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

enum class LogicalType {
  Int16, Int32, Int64,
  Float32, Float64,
  Decimal,        // bounded numeric: precision/scale set
  NumericText,    // unbounded numeric: stays text to be lossless
  Bool,
  String,         // text, varchar, char
  Bytes,          // bytea (text rendering is \x hex)
  Date, Time, Timestamp, TimestampTz, Interval,
  Uuid, Json, Enum, Inet,
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
  int precision = 0;        // Decimal precision; Timestamp/Time fractional digits (-1 = default)
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

// MariaDB / MySQL column types -> ferry logical types, and the snapshot side of the
// canonical text renderings (pure). The renderings are the ones of src/core/schema.h
// and must equal what the binlog decoder (binlog_rows.h) produces for the same value:
// CDC rows come from it, snapshot rows from here.
//
// Mapping (information_schema.COLUMNS DATA_TYPE / COLUMN_TYPE):
//   tinyint [unsigned]     Int8 / UInt8 (TINYINT(1) too: it holds -128..127, so it is
//                          not narrowed to Bool; its text is the number, 0/1 as used)
//   smallint               Int16 / UInt16
//   mediumint, int         Int32 / UInt32
//   bigint                 Int64 / UInt64
//   float / double, real   Float32 / Float64 (FLOAT(M,D) too: the stored value is a float)
//   decimal(P,S)           Decimal P,S
//   bit(n)                 Bit, precision n
//   year                   Year
//   date                   Date
//   datetime(n)            Timestamp, precision n
//   timestamp(n)           TimestampTz, precision n (read in UTC)
//   time(n)                Time, precision n
//   char, varchar, *text   String; Json when MariaDB's JSON alias (a json_valid check)
//   json (MySQL)           Json
//   binary, varbinary, *blob   Bytes
//   enum / set             Enum / Set
//   geometry, point, ...   Geometry (WKB)
//   anything else (inet4, inet6, uuid, vector ...)   Unsupported, named at Setup
#pragma once
#include "connectors/api/copy_stream.h"
#include <string>
#include <string_view>

#include "core/schema.h"

namespace ferry::mysql {

struct MysqlColumnInfo {
  std::string name;
  std::string data_type;    // information_schema DATA_TYPE, e.g. "int"
  std::string column_type;  // COLUMN_TYPE, e.g. "int(10) unsigned", "decimal(65,30)", "bit(64)"
  bool nullable = true;
  int numeric_precision = -1;   // -1 when NULL
  int numeric_scale = -1;
  int datetime_precision = -1;
  bool is_json = false;     // MariaDB: a CHECK (json_valid(col)) constraint
};

// Fills type, precision, scale, source_type, nullable and name. Never throws:
// unknown types map to Unsupported.
Column map_mysql_column(const MysqlColumnInfo& info);

// How a value of a column is selected and turned into canonical text.
enum class MysqlRender : uint8_t {
  Verbatim,     // the text protocol's text is canonical (integers, DECIMAL, DATE, DATETIME, TIME, YEAR,
                // character strings, ENUM, SET, JSON)
  Float32,      // selected as CAST(c AS DOUBLE) (exact for a float), re-rendered shortest for a float
  Float64,      // selected as CAST(c AS DOUBLE), re-rendered shortest (to_chars)
  Bit,          // raw big-endian bytes -> `bits` binary digits
  Hex,          // raw bytes -> \x hex
  Geometry,     // MariaDB's internal value (4-byte SRID + WKB) -> \x hex of the WKB
  TimestampUtc, // text in UTC (session time_zone +00:00) + "+00"; the zero value stays as is
};
MysqlRender render_of(const Column& c);

// The SELECT-list expression that reads `c` (quoted identifier, maybe cast).
std::string select_expression(const Column& c);

// Appends the canonical text (not COPY-escaped) of one non-NULL value as the text
// protocol returned it. Throws Permanent naming `column` when the value is malformed.
void render_mysql_value(MysqlRender r, int bits, std::string_view raw, std::string& out, std::string_view column);

}  // namespace ferry::mysql

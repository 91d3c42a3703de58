// MariaDB/MySQL as a destination: the column type created for each logical type and the
// SQL literal written for each canonical text value (core/schema.h). Pure, no I/O.
//
// Mapping (README "MariaDB destination" has the table): a MariaDB/MySQL source column keeps
// its own type (a replica is the same table); other sources get the nearest lossless type:
// integers -> the same width (UNSIGNED kept), real/double -> FLOAT/DOUBLE, numeric(p,s) ->
// DECIMAL(p,s) (p <= 65, s <= 30, else refused), unbounded numeric -> DECIMAL(65,30),
// boolean -> BOOLEAN, text -> VARCHAR(n)/LONGTEXT (key: VARCHAR(<=768)) in utf8mb4 with a
// binary NO PAD collation (keys 'a', 'A' and 'a ' stay apart), bytea -> LONGBLOB (key:
// VARBINARY), timestamp[tz] -> DATETIME(p) (UTC), time -> TIME(p), uuid -> CHAR(36) (MariaDB's
// UUID refuses non-RFC 4122 variants), json -> JSON (MariaDB; LONGTEXT on MySQL, whose JSON re-renders
// the text), arrays, intervals, inet, time with time zone, enum labels -> text.
//
// Unrepresentable values (then the pipe's on_unrepresentable policy applies): NaN and
// Infinity of floats and decimals, dates and timestamps outside years 0..9999 (PostgreSQL's
// infinity, BC and 5-digit years), unbounded numerics beyond DECIMAL(65,30).
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "core/schema.h"

namespace ferry::mysql {

// How a canonical text value becomes a literal for a column, decided by the column's type
// alone (as created, or as the server reports it: information_schema COLUMN_TYPE).
enum class LiteralKind {
  Integer,   // digits, unquoted (t/f of a boolean source as 1/0)
  Float32,   // the float widened to double, shortest text, as a double literal
  Float64,   // shortest text as a double literal
  Decimal,   // exact digits, unquoted, within DECIMAL(precision, scale)
  Text,      // quoted and escaped, as rendered
  Hex,       // \x.. -> X'..'
  Geometry,  // \x.. WKB -> ST_GeomFromWKB(X'..')
  Bit,       // binary digits -> b'..'
  Date,      // quoted; infinity, BC, years past 9999 unrepresentable
  Timestamp, // as Date; a trailing +00 (UTC renderings) dropped: sessions run in UTC
};

struct ValueType {
  LiteralKind kind = LiteralKind::Text;
  int precision = 0, scale = 0;  // Decimal
};

// The kind of a column type ("decimal(12,2)", "int(10) unsigned", "varchar(64) CHARACTER
// SET ...", "point").
ValueType value_type(std::string_view column_type);

struct ServerFlavor {
  bool mariadb = true;
  unsigned long version = 101100;  // 10.11.0 = 101100, MySQL 8.0.36 = 80036
};

// The type to create for `c`; `key_chars` > 0 when it is part of the primary key: the
// characters a text key column may take (mysql_key_chars). `column_types` overrides
// it. `as_text`: keep the rendering as text when the type is narrower than the source's
// (on_unrepresentable: text). Throws Permanent naming table, column and type when nothing
// holds the type losslessly.
std::string mysql_column_type(const Column& c, int key_chars, const std::string& table,
                              const std::map<std::string, std::string>& column_types, bool as_text,
                              ServerFlavor server);

// The characters each text or binary key column of `source` may take so that the primary
// key fits InnoDB's 3072 bytes (utf8mb4: 4 bytes a character; other key columns counted
// as 16 bytes), at most 768.
int mysql_key_chars(const TableSchema& source);

// Whether values of `c` can be unrepresentable in its mapped type (pre-check, as_text).
bool mysql_narrower(const Column& c);

// Appends the literal for `value` (canonical text, not NULL). Returns false when the
// value cannot be stored (nothing appended), or is not a valid rendering of the kind.
bool append_mysql_literal(std::string& out, const ValueType& type, std::string_view value);

// 'value' with \0 \n \r \\ ' " and ^Z escaped (sessions use utf8mb4 and a sql_mode
// without NO_BACKSLASH_ESCAPES).
void append_quoted(std::string& out, std::string_view value);

// The nearest value the type holds, for on_unrepresentable: clamp (dates and timestamps:
// the first or last day of years 1000..9999); empty when it has none.
std::string clamped_literal(const ValueType& type, std::string_view value);

}  // namespace ferry::mysql

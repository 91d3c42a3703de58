// Column types of tables ferry creates in a PostgreSQL destination (README: "PostgreSQL
// destination"). Every mapping holds every value of the source type, and the
// canonical text (core/schema.h) is its input: COPY and casts from text read it.
//
//   LogicalType           PostgreSQL type
//   Int8, Int16, UInt8    smallint
//   Int32, UInt16         integer
//   Int64, UInt32         bigint
//   UInt64                numeric(20,0)
//   Float32 / Float64     real / double precision (shortest text: bit-exact)
//   Decimal(p,s)          numeric(p,s); NumericText: numeric
//   Bool                  boolean
//   String                PostgreSQL sources: the source type (character varying(n),
//                         character(n), money, macaddr, bit(n), ranges, ...); else text
//   Bytes, Geometry       bytea (Geometry: the WKB)
//   Date                  date (MariaDB zero dates are refused by PostgreSQL: Permanent)
//   Time                  PostgreSQL sources: the source type; MariaDB TIME: interval
//   Timestamp(p)          timestamp(p); TimestampTz(p): timestamp(p) with time zone
//   Interval              interval (PostgreSQL sources: the source type)
//   Uuid                  uuid
//   Json                  jsonb when the source is jsonb, else json (keeps the text)
//   Enum, Set             text (labels)
//   Inet                  the source type (inet, cidr)
//   Bit(n)                bit(n)
//   Year                  smallint
//   Array                 the source type (PostgreSQL arrays of built-in element types)
//   Unsupported           refused
// PostgreSQL renders some values in another text than the source did while the value
// is the same: fractional seconds without trailing zeros (MariaDB DATETIME(6)), YEAR
// without leading zeros, MariaDB TIME as an interval.
// `column_types` overrides the type per column (taken verbatim; PostgreSQL checks it).
#pragma once
#include <map>
#include <string>

#include "core/schema.h"

namespace ferry::postgres {

// The PostgreSQL type for `column` of `table` (for messages); throws Permanent naming
// table, column and source type when there is none.
std::string pg_column_type(const Column& column, const std::string& table,
                           const std::map<std::string, std::string>& overrides = {});

}  // namespace ferry::postgres

#include "connectors/postgres/pg_dest_types.h"

#include <string_view>

#include <fmt/format.h>

#include "core/error.h"

namespace ferry::postgres {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// Text-rendered types only PostgreSQL sources name this way (MariaDB says varchar(n), char(n)).
bool pg_text_type(std::string_view t) {
  for (std::string_view p : {"character varying", "character(", "money", "xml", "macaddr", "line", "lseg", "box",
                             "path", "circle", "polygon", "point", "tsvector", "tsquery", "oid", "pg_lsn",
                             "bit(", "bit varying", "txid_snapshot", "pg_snapshot", "\"char\"", "name"}) {
    if (starts_with(t, p)) return true;
  }
  return t == "character" || ends_with(t, "range") || ends_with(t, "multirange");
}

}  // namespace

std::string pg_column_type(const Column& c, const std::string& table, const std::map<std::string, std::string>& overrides) {
  if (auto it = overrides.find(c.name); it != overrides.end()) return it->second;
  const std::string& st = c.source_type;
  auto fraction = [&](const char* base, const char* suffix) {
    if (c.precision >= 0 && c.precision <= 6) return fmt::format("{}({}){}", base, c.precision, suffix);
    return fmt::format("{}{}", base, suffix);
  };
  switch (c.type) {
    case LogicalType::Int8: case LogicalType::Int16: case LogicalType::UInt8: return "smallint";
    case LogicalType::Int32: case LogicalType::UInt16: return "integer";
    case LogicalType::Int64: case LogicalType::UInt32: return "bigint";
    case LogicalType::UInt64: return "numeric(20,0)";
    case LogicalType::Float32: return "real";
    case LogicalType::Float64: return "double precision";
    case LogicalType::Decimal:
      if (c.precision > 0) return fmt::format("numeric({},{})", c.precision, c.scale);
      return "numeric";
    case LogicalType::NumericText: return "numeric";
    case LogicalType::Bool: return "boolean";
    case LogicalType::String: return pg_text_type(st) ? st : "text";
    case LogicalType::Bytes: case LogicalType::Geometry: return "bytea";
    case LogicalType::Date: return "date";
    case LogicalType::Time:
      if (st.find("time zone") != std::string::npos) return st;  // PostgreSQL's spelling
      return "interval";  // MariaDB TIME: -838:59:59 .. 838:59:59
    case LogicalType::Timestamp:
      if (starts_with(st, "timestamp") && st.find("without time zone") != std::string::npos) return st;
      return fraction("timestamp", "");
    case LogicalType::TimestampTz:
      if (starts_with(st, "timestamp") && st.find("with time zone") != std::string::npos) return st;
      return fraction("timestamp", " with time zone");
    case LogicalType::Interval: return starts_with(st, "interval") ? st : "interval";
    case LogicalType::Uuid: return "uuid";
    case LogicalType::Json: return st == "jsonb" ? "jsonb" : "json";
    case LogicalType::Enum: case LogicalType::Set: return "text";
    case LogicalType::Inet: return st == "cidr" ? "cidr" : "inet";
    case LogicalType::Bit: return fmt::format("bit({})", c.precision > 0 ? c.precision : 1);
    case LogicalType::Year: return "smallint";
    case LogicalType::Array:
      if (ends_with(st, "[]")) return st;
      break;
    case LogicalType::Unsupported: break;
  }
  throw Error(ErrorKind::Permanent, fmt::format("table {}: column \"{}\" has type {} that ferry cannot map to a "
                                                "PostgreSQL type (set column_types for it)", table, c.name, st));
}

}  // namespace ferry::postgres

#include "connectors/postgres/pg_types.h"

#include <cstdlib>
#include <string_view>

namespace ferry {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// "numeric(10,2)" -> 10, 2; "timestamp(3) with time zone" -> 3
bool parse_typmod(std::string_view t, int& a, int& b) {
  auto open = t.find('(');
  if (open == std::string_view::npos) return false;
  a = std::atoi(std::string(t.substr(open + 1)).c_str());
  auto comma = t.find(',', open);
  auto close = t.find(')', open);
  b = (comma != std::string_view::npos && comma < close) ? std::atoi(std::string(t.substr(comma + 1)).c_str()) : 0;
  return true;
}

LogicalType scalar_type(std::string_view t, char typtype, int& precision, int& scale) {
  precision = -1;
  scale = 0;
  if (typtype == 'e') return LogicalType::Enum;
  if (typtype == 'c' || typtype == 'p') return LogicalType::Unsupported;
  if (typtype == 'r' || typtype == 'm') return LogicalType::String;  // ranges: text rendering
  if (t == "smallint") return LogicalType::Int16;
  if (t == "integer") return LogicalType::Int32;
  if (t == "bigint") return LogicalType::Int64;
  if (t == "real") return LogicalType::Float32;
  if (t == "double precision") return LogicalType::Float64;
  if (t == "boolean") return LogicalType::Bool;
  if (starts_with(t, "numeric")) {
    int p = 0, s = 0;
    if (parse_typmod(t, p, s) && p > 0) {
      precision = p;
      scale = s;
      return LogicalType::Decimal;
    }
    return LogicalType::NumericText;
  }
  if (t == "text" || starts_with(t, "character varying") || starts_with(t, "character") || t == "name" ||
      t == "\"char\"" || t == "citext")
    return LogicalType::String;
  if (t == "bytea") return LogicalType::Bytes;
  if (t == "date") return LogicalType::Date;
  if (starts_with(t, "timestamp")) {
    int p = 6, unused = 0;
    parse_typmod(t, p, unused);
    precision = p;
    return t.find("with time zone") != std::string_view::npos ? LogicalType::TimestampTz : LogicalType::Timestamp;
  }
  if (starts_with(t, "time")) {
    int p = 6, unused = 0;
    parse_typmod(t, p, unused);
    precision = p;
    return LogicalType::Time;  // time with time zone too: kept as text
  }
  if (starts_with(t, "interval")) return LogicalType::Interval;
  if (t == "uuid") return LogicalType::Uuid;
  if (t == "json" || t == "jsonb") return LogicalType::Json;
  if (t == "inet" || t == "cidr") return LogicalType::Inet;
  // Types whose text rendering is their lossless form; stored as text.
  for (std::string_view text_type : {"money", "xml", "macaddr", "macaddr8", "point", "line", "lseg", "box", "path",
                                     "polygon", "circle", "tsvector", "tsquery", "oid", "pg_lsn", "bit", "txid_snapshot",
                                     "pg_snapshot"}) {
    if (starts_with(t, text_type)) return LogicalType::String;
  }
  return LogicalType::Unsupported;
}

}  // namespace

void map_pg_type(const PgTypeInfo& info, Column& column) {
  column.source_type = info.type_text;
  if (!info.element_text.empty()) {
    int p = 0, s = 0;
    LogicalType elem = scalar_type(info.element_text, info.element_typtype, p, s);
    column.type = elem == LogicalType::Unsupported ? LogicalType::Unsupported : LogicalType::Array;
    column.element = elem;
    column.precision = p;
    column.scale = s;
    return;
  }
  column.type = scalar_type(info.type_text, info.typtype, column.precision, column.scale);
}

}  // namespace ferry

#include "connectors/mysql/mysql_types.h"

#include <charconv>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"
#include "core/ident.h"

namespace ferry::mysql {

namespace {

// "bit(64)" -> 64; "decimal(65,30)" -> 65 (first number in parentheses); fallback when absent.
int first_arg(std::string_view t, int fallback) {
  size_t open = t.find('(');
  if (open == std::string_view::npos) return fallback;
  return std::atoi(std::string(t.substr(open + 1)).c_str());
}

bool any_of(std::string_view s, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (s == n) return true;
  return false;
}

}  // namespace

Column map_mysql_column(const MysqlColumnInfo& info) {
  Column c;
  c.name = info.name;
  c.source_type = info.column_type.empty() ? info.data_type : info.column_type;
  c.nullable = info.nullable;
  c.precision = -1;
  const std::string& t = info.data_type;
  const bool is_unsigned = info.column_type.find("unsigned") != std::string::npos;
  auto integer = [&](LogicalType s, LogicalType u) { c.type = is_unsigned ? u : s; };
  if (t == "tinyint") integer(LogicalType::Int8, LogicalType::UInt8);
  else if (t == "smallint") integer(LogicalType::Int16, LogicalType::UInt16);
  else if (t == "mediumint" || t == "int" || t == "integer") integer(LogicalType::Int32, LogicalType::UInt32);
  else if (t == "bigint") integer(LogicalType::Int64, LogicalType::UInt64);
  else if (t == "float") c.type = LogicalType::Float32;
  else if (t == "double" || t == "real" || t == "double precision") c.type = LogicalType::Float64;
  else if (t == "decimal" || t == "numeric") {
    c.type = LogicalType::Decimal;
    c.precision = info.numeric_precision > 0 ? info.numeric_precision : first_arg(info.column_type, 10);
    c.scale = info.numeric_scale >= 0 ? info.numeric_scale : 0;
  } else if (t == "bit") {
    c.type = LogicalType::Bit;
    c.precision = info.numeric_precision > 0 ? info.numeric_precision : first_arg(info.column_type, 1);
  } else if (t == "year") {
    c.type = LogicalType::Year;
  } else if (t == "date") {
    c.type = LogicalType::Date;
  } else if (t == "datetime" || t == "timestamp" || t == "time") {
    c.type = t == "datetime" ? LogicalType::Timestamp : t == "timestamp" ? LogicalType::TimestampTz : LogicalType::Time;
    c.precision = info.datetime_precision >= 0 ? info.datetime_precision : 0;
  } else if (any_of(t, {"char", "varchar", "tinytext", "text", "mediumtext", "longtext"})) {
    c.type = info.is_json ? LogicalType::Json : LogicalType::String;
  } else if (t == "json") {
    c.type = LogicalType::Json;
  } else if (any_of(t, {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"})) {
    c.type = LogicalType::Bytes;
  } else if (t == "enum") {
    c.type = LogicalType::Enum;
  } else if (t == "set") {
    c.type = LogicalType::Set;
  } else if (any_of(t, {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                        "geometrycollection", "geomcollection"})) {
    c.type = LogicalType::Geometry;
  } else {
    c.type = LogicalType::Unsupported;
  }
  return c;
}

MysqlRender render_of(const Column& c) {
  switch (c.type) {
    case LogicalType::Float32: return MysqlRender::Float32;
    case LogicalType::Float64: return MysqlRender::Float64;
    case LogicalType::Bit: return MysqlRender::Bit;
    case LogicalType::Bytes: return MysqlRender::Hex;
    case LogicalType::Geometry: return MysqlRender::Geometry;
    case LogicalType::TimestampTz: return MysqlRender::TimestampUtc;
    default: return MysqlRender::Verbatim;
  }
}

std::string select_expression(const Column& c) {
  std::string id = quote_mysql_ident(c.name);
  switch (render_of(c)) {
    // The text protocol prints a FLOAT with 6 significant digits (16777217 -> 16777200) and
    // FLOAT(M,D)/DOUBLE(M,D) with D decimals; as DOUBLE it prints the shortest text that
    // reads back to the same double, and a float widens to double exactly.
    case MysqlRender::Float32:
    case MysqlRender::Float64:
      return "CAST(" + id + " AS DOUBLE)";
    default:
      return id;
  }
}

namespace {

[[noreturn]] void malformed(std::string_view column, std::string_view what, std::string_view raw) {
  std::string v(raw.substr(0, 60));
  throw Error(ErrorKind::Permanent, fmt::format("MariaDB/MySQL column {}: {} (value '{}')", column, what, v));
}

void append_hex(std::string& out, std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  out += "\\x";
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
}

}  // namespace

void render_mysql_value(MysqlRender r, int bits, std::string_view raw, std::string& out, std::string_view column) {
  switch (r) {
    case MysqlRender::Verbatim:
      out.append(raw);
      return;
    case MysqlRender::Float32:
    case MysqlRender::Float64: {
      double d = 0;
      auto res = std::from_chars(raw.data(), raw.data() + raw.size(), d);
      if (res.ec != std::errc() || res.ptr != raw.data() + raw.size()) malformed(column, "not a number", raw);
      char buf[64];
      if (r == MysqlRender::Float64) {
        out.append(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
        return;
      }
      float f = static_cast<float>(d);
      if (static_cast<double>(f) != d) malformed(column, "FLOAT value is not a float", raw);
      out.append(buf, std::to_chars(buf, buf + sizeof buf, f).ptr);
      return;
    }
    case MysqlRender::Bit: {
      if (bits < 1 || bits > 64 || raw.size() > 8) malformed(column, "BIT value wider than 64 bits", raw);
      uint64_t v = 0;
      for (unsigned char b : raw) v = (v << 8) | b;
      for (int i = bits; i-- > 0;) out += ((v >> i) & 1) ? '1' : '0';
      return;
    }
    case MysqlRender::Hex:
      append_hex(out, raw);
      return;
    case MysqlRender::Geometry:
      if (raw.size() < 4) malformed(column, "geometry shorter than its SRID", raw);
      append_hex(out, raw.substr(4));
      return;
    case MysqlRender::TimestampUtc:
      out.append(raw);
      if (raw.rfind("0000-00-00", 0) != 0) out += "+00";
      return;
  }
}

}  // namespace ferry::mysql

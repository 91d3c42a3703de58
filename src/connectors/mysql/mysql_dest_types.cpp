#include "connectors/mysql/mysql_dest_types.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "core/error.h"

namespace ferry::mysql {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// n of "name(n)..." or -1.
int type_length(std::string_view t) {
  size_t open = t.find('(');
  if (open == std::string_view::npos) return -1;
  int n = -1;
  auto [p, ec] = std::from_chars(t.data() + open + 1, t.data() + t.size(), n);
  return ec == std::errc() ? n : -1;
}

bool any_prefix(std::string_view t, std::initializer_list<std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](std::string_view p) { return starts_with(t, p); });
}

std::string text_collation(const ServerFlavor& s) {
  return s.mariadb ? " CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin" : " CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_bin";
}

std::string fraction(const char* base, int precision) {
  return fmt::format("{}({})", base, precision >= 0 && precision <= 6 ? precision : 6);
}

// A text column: for keys VARCHAR of at most `key_chars` characters (the key's share of
// InnoDB's 3072 key bytes), else VARCHAR(n) when short (a row holds 65535 bytes of
// VARCHARs), else LONGTEXT.
std::string text_type(int n, int key_chars, const ServerFlavor& s) {
  if (key_chars > 0) return fmt::format("varchar({})", n > 0 && n <= key_chars ? n : key_chars) + text_collation(s);
  if (n > 0 && n <= 255) return fmt::format("varchar({})", n) + text_collation(s);
  return "longtext" + text_collation(s);
}

std::string mapped(const Column& c, int key, const std::string& table, const ServerFlavor& s) {
  const std::string st = lower(c.source_type);
  switch (c.type) {
    case LogicalType::Int8: return st == "tinyint(1)" ? "tinyint(1)" : "tinyint";  // MariaDB's BOOLEAN spelling
    case LogicalType::Int16: return "smallint";
    case LogicalType::Int32: return starts_with(st, "mediumint") ? "mediumint" : "int";
    case LogicalType::Int64: return "bigint";
    case LogicalType::UInt8: return "tinyint unsigned";
    case LogicalType::UInt16: return "smallint unsigned";
    case LogicalType::UInt32:
      return starts_with(st, "mediumint") ? "mediumint unsigned" : "int unsigned";
    case LogicalType::UInt64: return "bigint unsigned";
    case LogicalType::Float32: return "float";
    case LogicalType::Float64: return "double";
    case LogicalType::Decimal:
      if (c.precision > 0 && c.precision <= 65 && c.scale >= 0 && c.scale <= 30)
        return fmt::format("decimal({},{})", c.precision, c.scale);
      throw Error(ErrorKind::Permanent,
                  fmt::format("table {}: column \"{}\" has type {}, wider than MariaDB's DECIMAL(65,30) (set "
                              "column_types for it, e.g. longtext to keep the text)", table, c.name, c.source_type));
    case LogicalType::NumericText: return "decimal(65,30)";
    case LogicalType::Bool: return "boolean";
    case LogicalType::String:
      if (any_prefix(st, {"tinytext", "mediumtext", "longtext"})) return st + text_collation(s);
      if (starts_with(st, "char(") && type_length(st) > 0)
        return fmt::format("char({})", type_length(st)) + text_collation(s);
      if (starts_with(st, "varchar(") && type_length(st) > 0 && (!key || type_length(st) <= key))
        return fmt::format("varchar({})", type_length(st)) + text_collation(s);  // a MariaDB source's own
      if (starts_with(st, "character varying(")) return text_type(type_length(st), key, s);
      // PostgreSQL character(n) keeps its padding as text; MariaDB CHAR would strip it.
      if (starts_with(st, "character(")) return text_type(type_length(st), key, s);
      return text_type(-1, key, s);
    case LogicalType::Bytes:
      if (any_prefix(st, {"binary(", "varbinary("})) return st;
      if (any_prefix(st, {"tinyblob", "blob", "mediumblob", "longblob"}) && !key) return "longblob";
      return key ? "varbinary(3072)" : "longblob";
    case LogicalType::Geometry:
      if (any_prefix(st, {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                          "geometrycollection"}))
        return st;
      return "longblob";
    case LogicalType::Date: return "date";
    case LogicalType::Time:
      if (st.find("with time zone") != std::string::npos) return "varchar(32)" + text_collation(s);
      return fraction("time", c.precision);
    case LogicalType::Timestamp: return fraction("datetime", c.precision);
    case LogicalType::TimestampTz:
      // MariaDB's TIMESTAMP stays TIMESTAMP (1970..2038 is all it holds anyway); others land
      // in DATETIME, in UTC.
      if (starts_with(st, "timestamp") && st.find("time zone") == std::string::npos)
        return fraction("timestamp", c.precision);
      return fraction("datetime", c.precision);
    case LogicalType::Uuid:
      // Not MariaDB's UUID type: it refuses values whose variant bits are not RFC 4122's,
      // which PostgreSQL's uuid holds (e.g. md5(...)::uuid).
      return "char(36) CHARACTER SET ascii COLLATE ascii_bin";
    case LogicalType::Json:
      if (s.mariadb) return "json";
      return "longtext" + text_collation(s);  // MySQL's JSON re-renders the text
    case LogicalType::Enum:
      if (starts_with(st, "enum(")) return c.source_type;
      return text_type(255, key, s);
    case LogicalType::Set:
      if (starts_with(st, "set(")) return c.source_type;
      return text_type(-1, key, s);
    case LogicalType::Bit:
      if (c.precision >= 1 && c.precision <= 64) return fmt::format("bit({})", c.precision);
      return text_type(c.precision, key, s);
    case LogicalType::Year: return "year";
    case LogicalType::Inet: case LogicalType::Interval: case LogicalType::Array:
      return text_type(-1, key, s);
    case LogicalType::Unsupported: break;
  }
  throw Error(ErrorKind::Permanent, fmt::format("table {}: column \"{}\" has type {} that ferry cannot map to a "
                                                "MariaDB type (set column_types for it)", table, c.name, c.source_type));
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// [-]digits[.digits]: integer and fraction digit counts.
bool decimal_digits(std::string_view v, size_t& int_digits, size_t& frac_digits) {
  if (!v.empty() && v[0] == '-') v.remove_prefix(1);
  size_t dot = v.find('.');
  std::string_view ip = v.substr(0, dot), fp = dot == std::string_view::npos ? std::string_view() : v.substr(dot + 1);
  if (!all_digits(ip) || (dot != std::string_view::npos && !all_digits(fp))) return false;
  size_t lead = 0;
  while (lead + 1 < ip.size() && ip[lead] == '0') ++lead;
  int_digits = ip[lead] == '0' ? 0 : ip.size() - lead;  // "0.5" has no integer digits
  frac_digits = fp.size();
  return true;
}

void append_double_literal(std::string& out, std::string_view shortest) {
  out += shortest;
  if (shortest.find_first_of("eE") == std::string_view::npos) out += "e0";  // a double, not a DECIMAL, literal
}

bool append_hex(std::string& out, std::string_view v) {
  if (v.size() < 2 || v[0] != '\\' || v[1] != 'x' || v.size() % 2 != 0) return false;
  for (size_t i = 2; i < v.size(); ++i)
    if (!std::isxdigit(static_cast<unsigned char>(v[i]))) return false;
  out += "X'";
  out.append(v.data() + 2, v.size() - 2);
  out += '\'';
  return true;
}

// YYYY-MM-DD... with a 4-digit year and no era suffix (0000-00-00 included).
bool four_digit_year_date(std::string_view v) {
  if (v.size() < 10 || v[4] != '-' || v[7] != '-') return false;
  if (!all_digits(v.substr(0, 4)) || !all_digits(v.substr(5, 2)) || !all_digits(v.substr(8, 2))) return false;
  return v.find(" BC") == std::string_view::npos;
}

}  // namespace

std::string mysql_column_type(const Column& c, int key, const std::string& table,
                              const std::map<std::string, std::string>& column_types, bool as_text,
                              ServerFlavor server) {
  if (auto it = column_types.find(c.name); it != column_types.end()) return it->second;
  if (as_text && mysql_narrower(c)) return text_type(-1, key, server);
  return mapped(c, key, table, server);
}

bool mysql_variable_key(const Column& c) {
  switch (c.type) {
    case LogicalType::String: case LogicalType::Bytes: case LogicalType::Enum: case LogicalType::Set:
    case LogicalType::Inet: case LogicalType::Interval: case LogicalType::Array: case LogicalType::Json:
    case LogicalType::Bit: case LogicalType::Time:
      return true;
    default:
      return false;
  }
}

int mysql_key_chars(const TableSchema& source) {
  int variable = 0, fixed = 0;
  for (const auto& name : source.key_columns())
    for (const auto& c : source.columns)
      if (c.name == name) ++(mysql_variable_key(c) ? variable : fixed);
  if (variable == 0) return 768;
  return std::clamp((3072 - 16 * fixed) / 4 / variable, 1, 768);
}

ValueType value_type(std::string_view column_type) {
  const std::string t = lower(column_type);
  if (any_prefix(t, {"tinyint", "smallint", "mediumint", "int", "bigint", "boolean", "bool"}))
    return {LiteralKind::Integer};
  if (starts_with(t, "float")) return {LiteralKind::Float32};
  if (any_prefix(t, {"double", "real"})) return {LiteralKind::Float64};
  if (any_prefix(t, {"decimal", "numeric"})) {
    ValueType v{LiteralKind::Decimal, 10, 0};
    size_t open = t.find('(');
    if (open != std::string::npos) {
      const char* end = t.data() + t.size();
      auto r = std::from_chars(t.data() + open + 1, end, v.precision);
      v.scale = 0;
      if (r.ec == std::errc() && r.ptr < end && *r.ptr == ',') std::from_chars(r.ptr + 1, end, v.scale);
    }
    return v;
  }
  if (any_prefix(t, {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"})) return {LiteralKind::Hex};
  if (any_prefix(t, {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                     "geometrycollection"}))
    return {LiteralKind::Geometry};
  if (starts_with(t, "bit")) return {LiteralKind::Bit};
  if (t == "date") return {LiteralKind::Date};
  if (any_prefix(t, {"datetime", "timestamp"})) return {LiteralKind::Timestamp};
  return {LiteralKind::Text};  // char, varchar, text, json, enum, set, uuid, time, year
}

bool mysql_narrower(const Column& c) {
  switch (c.type) {
    case LogicalType::Float32: case LogicalType::Float64: case LogicalType::Decimal: case LogicalType::NumericText:
    case LogicalType::Date: case LogicalType::Timestamp: case LogicalType::TimestampTz:
      return true;
    default:
      return false;
  }
}

void append_quoted(std::string& out, std::string_view v) {
  out += '\'';
  for (char ch : v) {
    switch (ch) {
      case '\0': out += "\\0"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '"': out += "\\\""; break;
      case '\x1a': out += "\\Z"; break;
      default: out += ch;
    }
  }
  out += '\'';
}

bool append_mysql_literal(std::string& out, const ValueType& type, std::string_view v) {
  switch (type.kind) {
    case LiteralKind::Integer: {
      if (v == "t" || v == "f") {  // a boolean source
        out += v == "t" ? '1' : '0';
        return true;
      }
      std::string_view d = !v.empty() && v[0] == '-' ? v.substr(1) : v;
      if (!all_digits(d)) return false;
      out += v;
      return true;
    }
    case LiteralKind::Float32: {
      float f = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), f);
      if (ec != std::errc() || p != v.data() + v.size() || f != f || f - f != 0) return false;  // NaN, Infinity
      // The float's exact value is a double: its shortest double text reads back to it
      // without a second rounding.
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, static_cast<double>(f));
      append_double_literal(out, std::string_view(buf, r.ptr - buf));
      return true;
    }
    case LiteralKind::Float64: {
      double d = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
      if (ec != std::errc() || p != v.data() + v.size() || d != d || d - d != 0) return false;
      append_double_literal(out, v);
      return true;
    }
    case LiteralKind::Decimal: {
      size_t int_digits = 0, frac_digits = 0;
      if (!decimal_digits(v, int_digits, frac_digits)) return false;  // NaN, Infinity
      // More fraction digits would be rounded, more integer digits refused: both lose the value.
      if (int_digits > size_t(std::max(type.precision - type.scale, 0)) || frac_digits > size_t(type.scale))
        return false;
      out += v;
      return true;
    }
    case LiteralKind::Text: append_quoted(out, v); return true;
    case LiteralKind::Hex: return append_hex(out, v);
    case LiteralKind::Geometry: {
      std::string hex;
      if (!append_hex(hex, v)) return false;
      out += "ST_GeomFromWKB(" + hex + ")";
      return true;
    }
    case LiteralKind::Bit:
      if (v.empty() || v.size() > 64 || !std::all_of(v.begin(), v.end(), [](char ch) { return ch == '0' || ch == '1'; }))
        return false;
      out += "b'";
      out += v;
      out += '\'';
      return true;
    case LiteralKind::Date:
      if (!four_digit_year_date(v) || v.size() != 10) return false;
      append_quoted(out, v);
      return true;
    case LiteralKind::Timestamp: {
      if (!four_digit_year_date(v)) return false;
      std::string_view t = v;
      if (t.size() > 3 && t.substr(t.size() - 3) == "+00") t.remove_suffix(3);
      if (t.find_first_of("+", 10) != std::string_view::npos || t.find('-', 10) != std::string_view::npos)
        return false;  // an offset other than UTC
      append_quoted(out, t);
      return true;
    }
  }
  return false;
}

std::string clamped_literal(const ValueType& type, std::string_view v) {
  if (type.kind != LiteralKind::Date && type.kind != LiteralKind::Timestamp) return {};
  const bool low = starts_with(v, "-") || v.find(" BC") != std::string_view::npos;
  if (type.kind == LiteralKind::Date) return low ? "'1000-01-01'" : "'9999-12-31'";
  return low ? "'1000-01-01 00:00:00'" : "'9999-12-31 23:59:59.999999'";
}

}  // namespace ferry::mysql

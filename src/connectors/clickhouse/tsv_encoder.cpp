#include "connectors/clickhouse/tsv_encoder.h"

#include <cstdint>
#include <cstdio>

#include "connectors/clickhouse/pg_text.h"
#include "core/error.h"

namespace ferry::clickhouse {

namespace {

// One byte of a value, escaped for a ClickHouse TSV field.
inline void append_escaped_byte(std::string& out, char b) {
  switch (b) {
    case '\\':
      out.append("\\\\", 2);
      break;
    case '\t':
      out.append("\\t", 2);
      break;
    case '\n':
      out.append("\\n", 2);
      break;
    case '\r':
      out.append("\\r", 2);
      break;
    case '\0':
      out.append("\\0", 2);
      break;
    default:
      out.push_back(b);
  }
}

// One byte of an array element inside '...' (ClickHouse quoted syntax, read straight
// out of the TSV field, so it must not contain raw tabs or newlines either).
inline void append_quoted_byte(std::string& out, char b) {
  if (b == '\'') {
    out.append("\\'", 2);
  } else {
    append_escaped_byte(out, b);
  }
}

// A COPY text string value as ClickHouse TSV: same escapes except octal/hex/other.
void append_text(std::string& out, std::string_view raw) {
  size_t i = 0;
  while (i < raw.size()) {
    char c = raw[i];
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    char n = i + 1 < raw.size() ? raw[i + 1] : '\0';
    switch (n) {
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
      case 'v':
      case '\\':
        out.push_back('\\');
        out.push_back(n);
        i += 2;
        break;
      default:
        append_escaped_byte(out, decode_copy_escape(raw, i));
    }
  }
}

inline void put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// Appends "YYYY-MM-DD hh:mm:ss.ffffff" (years within 1000..9999: callers range-check).
void append_timestamp(std::string& out, const Timestamp& ts) {
  int y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(ts.day, y, m, d);
  char buf[26];
  put2(buf, y / 100);
  put2(buf + 2, y % 100);
  buf[4] = '-';
  put2(buf + 5, static_cast<int>(m));
  buf[7] = '-';
  put2(buf + 8, static_cast<int>(d));
  buf[10] = ' ';
  put2(buf + 11, ts.seconds / 3600);
  buf[13] = ':';
  put2(buf + 14, ts.seconds / 60 % 60);
  buf[16] = ':';
  put2(buf + 17, ts.seconds % 60);
  buf[19] = '.';
  int us = ts.micros;
  for (int k = 25; k >= 20; --k) {
    buf[k] = static_cast<char>('0' + us % 10);
    us /= 10;
  }
  out.append(buf, sizeof buf);
}

std::string range_reason(const ClickHouseColumn& c) {
  return day_range_reason(c.min_day, c.max_day);
}

}  // namespace

void append_tsv_escaped(std::string& out, std::string_view bytes) {
  for (char b : bytes) append_escaped_byte(out, b);
}

TsvEncoder::TsvEncoder(const TablePlan& plan)
    : table_(plan.source + " (ClickHouse " + plan.database + "." + plan.table + ")"), columns_(plan.columns) {}

void TsvEncoder::fail(const ClickHouseColumn& c, std::string_view raw, std::string_view reason) const {
  constexpr size_t kMax = 80;
  std::string shown;
  if (raw.size() > kMax) {
    size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(raw[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    shown = std::string(raw.substr(0, cut)) + "...";
  } else {
    shown = std::string(raw);
  }
  throw permanent_error("table " + table_ + ": column " + c.name + ": cannot convert value '" + shown + "' (" +
                        c.source_type + ") to ClickHouse " + c.type + ": " + std::string(reason));
}

void TsvEncoder::fail_row(size_t row, std::string_view reason) const {
  throw permanent_error("table " + table_ + ": malformed COPY data at row " + std::to_string(row + 1) +
                        " of a chunk: " + std::string(reason) + " (expected " + std::to_string(columns_.size()) +
                        " fields)");
}

size_t TsvEncoder::encode(std::string_view chunk, std::string& out) {
  out.reserve(out.size() + chunk.size() + chunk.size() / 8 + 64);
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  const size_t n = columns_.size();
  size_t rows = 0;
  while (p < end) {
    for (size_t i = 0; i < n; ++i) {
      const char* f = p;
      bool backslash = false;
      while (p < end) {
        char ch = *p;
        if (ch == '\t' || ch == '\n') break;
        backslash |= ch == '\\';
        ++p;
      }
      if (p == end) fail_row(rows, "the chunk does not end with a newline");
      const char delim = *p;
      const bool last = i + 1 == n;
      if (last && delim != '\n') fail_row(rows, "more fields than columns");
      if (!last && delim != '\t') fail_row(rows, "fewer fields than columns");
      encode_field(columns_[i], std::string_view(f, static_cast<size_t>(p - f)), backslash, out);
      out.push_back(delim);
      ++p;
    }
    ++rows;
  }
  return rows;
}

void TsvEncoder::encode_field(const ClickHouseColumn& c, std::string_view raw, bool backslash, std::string& out) {
  if (backslash && raw.size() == 2 && raw[0] == '\\' && raw[1] == 'N') {
    if (c.nullable) {
      out.append("\\N", 2);
    } else {
      fail(c, raw, "NULL in a column that is not Nullable in ClickHouse (a key or order_by column)");
    }
    return;
  }
  switch (c.codec) {
    case Codec::Verbatim:
    case Codec::Uuid:
      out.append(raw);
      return;
    case Codec::Text:
      if (!backslash) {
        out.append(raw);
      } else {
        append_text(out, raw);
      }
      return;
    case Codec::Float:
      if (raw == "Infinity") {
        out.append("inf", 3);
      } else if (raw == "-Infinity") {
        out.append("-inf", 4);
      } else if (raw == "NaN") {
        out.append("nan", 3);
      } else {
        out.append(raw);
      }
      return;
    case Codec::Decimal:
      if (!valid_decimal(raw)) fail(c, raw, decimal_reason(raw));
      out.append(raw);
      return;
    case Codec::Bool: {
      int v = bool_value(raw);
      if (v < 0) fail(c, raw, "not a boolean");
      out.push_back(v ? '1' : '0');
      return;
    }
    case Codec::Bytes:
      unescape_copy_field(raw, scratch_);
      encode_bytes(c, scratch_, raw, out);
      return;
    case Codec::Date: {
      size_t i = 0;
      int32_t day = 0;
      if (!parse_date(raw, i, day) || i != raw.size()) fail(c, raw, "not a date ClickHouse can hold (YYYY-MM-DD, AD)");
      if (day < c.min_day || day > c.max_day) fail(c, raw, range_reason(c));
      out.append(raw);
      return;
    }
    case Codec::DateTime64:
    case Codec::DateTime64Utc: {
      Timestamp ts;
      if (!parse_timestamp(raw, c.codec == Codec::DateTime64Utc, ts))
        fail(c, raw, "not a timestamp ClickHouse can hold (YYYY-MM-DD hh:mm:ss[.ffffff], AD)");
      if (ts.day < c.min_day || ts.day > c.max_day) fail(c, raw, range_reason(c));
      append_timestamp(out, ts);
      return;
    }
    case Codec::Array:
      unescape_copy_field(raw, scratch_);
      encode_array(c, scratch_, raw, out);
      return;
  }
}

void TsvEncoder::encode_value(size_t i, std::string_view value, std::string& out) {
  const ClickHouseColumn& c = columns_[i];
  switch (c.codec) {
    case Codec::Text:
      append_tsv_escaped(out, value);
      return;
    case Codec::Bytes:
      encode_bytes(c, value, value, out);
      return;
    case Codec::Array:
      encode_array(c, value, value, out);
      return;
    default:
      // Numbers, booleans, UUIDs, dates and timestamps are never rendered with a
      // backslash, tab or newline; one that has them is malformed.
      for (char ch : value)
        if (ch == '\\' || ch == '\t' || ch == '\n' || ch == '\r') fail(c, value, "unexpected control character");
      encode_field(c, value, false, out);
      return;
  }
}

void TsvEncoder::append_default(const ClickHouseColumn& c, std::string& out) {
  switch (c.codec) {
    case Codec::Verbatim:
    case Codec::Float:
    case Codec::Decimal:
    case Codec::Bool:
      out.push_back('0');
      return;
    case Codec::Text:
    case Codec::Bytes:
      return;  // ''
    case Codec::Uuid:
      out.append("00000000-0000-0000-0000-000000000000");
      return;
    case Codec::Date:
      out.append("1970-01-01");
      return;
    case Codec::DateTime64:
    case Codec::DateTime64Utc:
      out.append("1970-01-01 00:00:00.000000");
      return;
    case Codec::Array:
      out.append("[]");
      return;
  }
}

void TsvEncoder::encode_bytes(const ClickHouseColumn& c, std::string_view s, std::string_view raw, std::string& out) {
  if (const char* why = decode_bytea(s, element_)) fail(c, raw, why);
  append_tsv_escaped(out, element_);
}

void TsvEncoder::encode_array(const ClickHouseColumn& c, std::string_view s, std::string_view raw, std::string& out) {
  out.push_back('[');
  bool first = true;
  const char* why = walk_pg_array(s, element_, [&](std::string_view v, bool is_null) {
    if (!first) out.push_back(',');
    first = false;
    if (is_null) {
      out.append("NULL", 4);
    } else {
      encode_element(c, raw, v, out);
    }
  });
  if (why) fail(c, raw, why);
  out.push_back(']');
}

void TsvEncoder::encode_element(const ClickHouseColumn& c, std::string_view raw, std::string_view v, std::string& out) {
  switch (c.element) {
    case Codec::Verbatim:
      for (char ch : v)
        if (!is_digit(ch) && ch != '-' && ch != '+') fail(c, raw, "not an integer element");
      out.append(v);
      return;
    case Codec::Float:
      if (v == "Infinity") {
        out.append("inf", 3);
      } else if (v == "-Infinity") {
        out.append("-inf", 4);
      } else if (v == "NaN") {
        out.append("-nan", 4);  // "nan" after '[' or ',' is taken for the start of NULL by 18.16
      } else {
        for (char ch : v)
          if (!is_digit(ch) && ch != '-' && ch != '+' && ch != '.' && ch != 'e' && ch != 'E')
            fail(c, raw, "not a number element");
        out.append(v);
      }
      return;
    case Codec::Decimal:
      if (!valid_decimal(v)) fail(c, raw, decimal_reason(v));
      out.append(v);
      return;
    case Codec::Bool: {
      int b = bool_value(v);
      if (b < 0) fail(c, raw, "not a boolean element");
      out.push_back(b ? '1' : '0');
      return;
    }
    case Codec::Uuid:
      out.push_back('\'');
      for (char ch : v) append_quoted_byte(out, ch);
      out.push_back('\'');
      return;
    case Codec::Date: {
      size_t i = 0;
      int32_t day = 0;
      if (!parse_date(v, i, day) || i != v.size())
        fail(c, raw, "element is not a date ClickHouse can hold (YYYY-MM-DD, AD)");
      if (day < c.min_day || day > c.max_day) fail(c, raw, "element " + std::string(v) + " is " + range_reason(c));
      out.push_back('\'');
      out.append(v);
      out.push_back('\'');
      return;
    }
    case Codec::Text:
    default:
      out.push_back('\'');
      for (char ch : v) append_quoted_byte(out, ch);
      out.push_back('\'');
      return;
  }
}

}  // namespace ferry::clickhouse

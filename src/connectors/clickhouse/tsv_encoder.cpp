#include "connectors/clickhouse/tsv_encoder.h"

#include <cstdint>
#include <cstdio>

#include "core/error.h"

namespace ferry::clickhouse {

namespace {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_octal(char c) { return c >= '0' && c <= '7'; }
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

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

// Decodes the escape at raw[i] == '\\'; returns the byte and advances i past it.
// Handles \b \f \n \r \t \v, octal \NNN, hex \xHH, and \c = c.
inline char decode_escape(std::string_view raw, size_t& i) {
  ++i;  // the backslash
  if (i >= raw.size()) return '\\';
  char n = raw[i++];
  switch (n) {
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'v':
      return '\v';
    case 'x': {
      int v = 0, digits = 0;
      while (digits < 2 && i < raw.size() && hex_value(raw[i]) >= 0) v = v * 16 + hex_value(raw[i++]), ++digits;
      return digits ? static_cast<char>(v) : 'x';
    }
    default:
      if (is_octal(n)) {
        int v = n - '0', digits = 1;
        while (digits < 3 && i < raw.size() && is_octal(raw[i])) v = v * 8 + (raw[i++] - '0'), ++digits;
        return static_cast<char>(v & 0xFF);
      }
      return n;
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
        append_escaped_byte(out, decode_escape(raw, i));
    }
  }
}

bool equals_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Decimal text: [+-]digits[.digits]
bool valid_decimal(std::string_view v) {
  size_t i = 0, digits = 0;
  bool dot = false;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) ++i;
  for (; i < v.size(); ++i) {
    if (is_digit(v[i])) {
      ++digits;
    } else if (v[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digits > 0;
}

const char* decimal_reason(std::string_view v) {
  if (v.find("NaN") != std::string_view::npos || v.find("nfinity") != std::string_view::npos)
    return "ClickHouse Decimal has no NaN or Infinity";
  return "not a decimal number";
}

// Bool renderings: t/f (PostgreSQL), true/false, 1/0.
int bool_value(std::string_view v) {
  if (v == "t" || v == "true" || v == "1") return 1;
  if (v == "f" || v == "false" || v == "0") return 0;
  return -1;
}

// n digits at s[i..]; advances i.
bool read_fixed(std::string_view s, size_t& i, int n, int& out) {
  if (i + n > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[i + k];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  i += n;
  out = v;
  return true;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

// YYYY-MM-DD (4 or more year digits) at the start of s; advances i.
bool parse_date(std::string_view s, size_t& i, int32_t& day) {
  int y = 0, m = 0, d = 0;
  size_t start = i;
  while (i < s.size() && is_digit(s[i]) && i - start < 7) y = y * 10 + (s[i++] - '0');
  if (i - start < 4 || i >= s.size() || s[i] != '-') return false;
  ++i;
  if (!read_fixed(s, i, 2, m) || i >= s.size() || s[i] != '-') return false;
  ++i;
  if (!read_fixed(s, i, 2, d)) return false;
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return false;
  day = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

struct Timestamp {
  int32_t day = 0;
  int32_t seconds = 0;  // of the day
  int32_t micros = 0;
};

// "YYYY-MM-DD hh:mm:ss[.ffffff][(+|-)hh[:mm[:ss]]]"; the offset only when with_zone.
// The result is UTC when an offset was given.
bool parse_timestamp(std::string_view s, bool with_zone, Timestamp& ts) {
  size_t i = 0;
  if (!parse_date(s, i, ts.day)) return false;
  int hh = 0, mm = 0, ss = 0;
  if (i >= s.size() || s[i] != ' ') return false;
  ++i;
  if (!read_fixed(s, i, 2, hh) || i >= s.size() || s[i] != ':') return false;
  ++i;
  if (!read_fixed(s, i, 2, mm) || i >= s.size() || s[i] != ':') return false;
  ++i;
  if (!read_fixed(s, i, 2, ss)) return false;
  if (hh > 23 || mm > 59 || ss > 59) return false;
  ts.micros = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && is_digit(s[i])) {
      if (digits == 6) return false;  // more precision than DateTime64(6) holds
      ts.micros = ts.micros * 10 + (s[i++] - '0');
      ++digits;
    }
    if (digits == 0) return false;
    for (; digits < 6; ++digits) ts.micros *= 10;
  }
  ts.seconds = hh * 3600 + mm * 60 + ss;
  if (with_zone) {
    if (i >= s.size() || (s[i] != '+' && s[i] != '-')) return false;
    int sign = s[i++] == '-' ? -1 : 1;
    int oh = 0, om = 0, os = 0;
    if (!read_fixed(s, i, 2, oh)) return false;
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!read_fixed(s, i, 2, om)) return false;
      if (i < s.size() && s[i] == ':') {
        ++i;
        if (!read_fixed(s, i, 2, os)) return false;
      }
    }
    int64_t total = static_cast<int64_t>(ts.day) * 86400 + ts.seconds - sign * (oh * 3600 + om * 60 + os);
    int64_t d = total >= 0 ? total / 86400 : -((-total + 86399) / 86400);
    ts.day = static_cast<int32_t>(d);
    ts.seconds = static_cast<int32_t>(total - d * 86400);
  }
  return i == s.size();
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

std::string day_text(int32_t day) {
  int y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(day, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

std::string range_reason(const ClickHouseColumn& c) {
  return "outside the range the ClickHouse column holds (" + day_text(c.min_day) + " .. " + day_text(c.max_day) + ")";
}

}  // namespace

void unescape_copy_field(std::string_view raw, std::string& out) {
  out.clear();
  size_t i = 0;
  while (i < raw.size()) {
    if (raw[i] != '\\') {
      out.push_back(raw[i++]);
    } else {
      out.push_back(decode_escape(raw, i));
    }
  }
}

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
  if (s.size() >= 2 && s[0] == '\\' && s[1] == 'x') {
    if (s.size() % 2) fail(c, raw, "odd number of hex digits");
    for (size_t i = 2; i < s.size(); i += 2) {
      int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
      if (hi < 0 || lo < 0) fail(c, raw, "not a hex digit");
      append_escaped_byte(out, static_cast<char>(hi * 16 + lo));
    }
  } else {
    // bytea_output = escape: \\ is a backslash, \NNN an octal byte.
    for (size_t i = 0; i < s.size();) {
      if (s[i] != '\\') {
        append_escaped_byte(out, s[i++]);
      } else if (i + 1 < s.size() && s[i + 1] == '\\') {
        append_escaped_byte(out, '\\');
        i += 2;
      } else if (i + 3 < s.size() && is_octal(s[i + 1]) && is_octal(s[i + 2]) && is_octal(s[i + 3])) {
        append_escaped_byte(
            out, static_cast<char>(((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')) & 0xFF));
        i += 4;
      } else {
        fail(c, raw, "malformed bytea escape");
      }
    }
  }
}

void TsvEncoder::encode_array(const ClickHouseColumn& c, std::string_view s, std::string_view raw, std::string& out) {
  size_t i = 0;
  if (!s.empty() && s[0] == '[') fail(c, raw, "arrays with explicit bounds are not supported");
  if (s.empty() || s[0] != '{') fail(c, raw, "not an array literal");
  ++i;
  out.push_back('[');
  if (i < s.size() && s[i] == '}') {
    ++i;
  } else {
    bool first = true;
    for (;;) {
      if (i >= s.size()) fail(c, raw, "unterminated array literal");
      if (s[i] == '{') fail(c, raw, "multi-dimensional arrays are not supported (the column is one-dimensional)");
      std::string_view v;
      bool is_null = false;
      if (s[i] == '"') {
        ++i;
        element_.clear();
        for (;;) {
          if (i >= s.size()) fail(c, raw, "unterminated quoted array element");
          char ch = s[i++];
          if (ch == '"') break;
          if (ch == '\\') {
            if (i >= s.size()) fail(c, raw, "unterminated quoted array element");
            ch = s[i++];
          }
          element_.push_back(ch);
        }
        v = element_;
      } else {
        size_t start = i;
        while (i < s.size() && s[i] != ',' && s[i] != '}') ++i;
        v = s.substr(start, i - start);
        is_null = equals_nocase(v, "NULL");
        if (v.empty()) fail(c, raw, "empty array element");
      }
      if (!first) out.push_back(',');
      first = false;
      if (is_null) {
        out.append("NULL", 4);
      } else {
        encode_element(c, raw, v, out);
      }
      if (i >= s.size()) fail(c, raw, "unterminated array literal");
      if (s[i] == ',') {
        ++i;
        continue;
      }
      if (s[i] == '}') {
        ++i;
        break;
      }
      fail(c, raw, "malformed array literal");
    }
  }
  if (i != s.size()) fail(c, raw, "trailing characters after the array literal");
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

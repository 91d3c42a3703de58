#include "connectors/clickhouse/pg_text.h"

#include <cstdio>

#include "connectors/clickhouse/capabilities.h"

namespace ferry::clickhouse {

namespace {

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

}  // namespace

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

int bool_value(std::string_view v) {
  if (v == "t" || v == "true" || v == "1") return 1;
  if (v == "f" || v == "false" || v == "0") return 0;
  return -1;
}

int infinity_sign(std::string_view v) {
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    int sign = v[0] == '-' ? -1 : 1;
    return equals_nocase(v.substr(1), "infinity") ? sign : 0;
  }
  return equals_nocase(v, "infinity") ? 1 : 0;
}

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

// PostgreSQL's latest date is in 5874897 AD; no source renders a later year, and later
// ones would not fit a 32-bit day number.
constexpr int kMaxSourceYear = 5874897;

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
  if (y > kMaxSourceYear) return false;
  day = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

bool is_zero_part_date(std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || (s.size() > 10 && s[10] != ' ')) return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!is_digit(s[i])) return false;
  return (s[5] == '0' && s[6] == '0') || (s[8] == '0' && s[9] == '0');
}

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

std::string day_text(int32_t day) {
  int y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(day, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

std::string day_range_reason(int32_t min_day, int32_t max_day) {
  return "outside the range the ClickHouse column holds (" + day_text(min_day) + " .. " + day_text(max_day) + ")";
}

const char* decode_bytea(std::string_view s, std::string& out) {
  out.clear();
  if (s.size() >= 2 && s[0] == '\\' && s[1] == 'x') {
    if (s.size() % 2) return "odd number of hex digits";
    for (size_t i = 2; i < s.size(); i += 2) {
      int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
      if (hi < 0 || lo < 0) return "not a hex digit";
      out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return nullptr;
  }
  // bytea_output = escape: \\ is a backslash, \NNN an octal byte.
  for (size_t i = 0; i < s.size();) {
    if (s[i] != '\\') {
      out.push_back(s[i++]);
    } else if (i + 1 < s.size() && s[i + 1] == '\\') {
      out.push_back('\\');
      i += 2;
    } else if (i + 3 < s.size() && is_octal(s[i + 1]) && is_octal(s[i + 2]) && is_octal(s[i + 3])) {
      out.push_back(static_cast<char>(((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')) & 0xFF));
      i += 4;
    } else {
      return "malformed bytea escape";
    }
  }
  return nullptr;
}

}  // namespace ferry::clickhouse

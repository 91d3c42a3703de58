// Parsing of PostgreSQL text renderings, shared by the ClickHouse encoders (pure, no
// allocation except into the caller's buffers).
//
// Values arrive either COPY-escaped (a field of COPY text) or unescaped (one value, as
// the CDC path has it); the helpers below take the unescaped form unless they say so.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/api/copy_stream.h"

namespace ferry::clickhouse {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// COPY framing (connectors/api/copy_stream.h).
using ferry::decode_copy_escape;
using ferry::hex_value;
using ferry::is_octal;
using ferry::is_copy_null;
using ferry::unescape_copy_field;

bool equals_nocase(std::string_view a, std::string_view b);

// Bool renderings t/f (PostgreSQL), true/false, 1/0: 1 or 0; -1 for anything else.
int bool_value(std::string_view v);

// PostgreSQL's infinite dates/timestamps ("infinity", "-infinity") and numerics
// ("Infinity", "-Infinity"): +1 or -1; 0 for anything else.
int infinity_sign(std::string_view v);

// Decimal text [+-]digits[.digits] (what PostgreSQL prints for numeric).
bool valid_decimal(std::string_view v);
// Why a value is not a decimal ("ClickHouse Decimal has no NaN or Infinity" or "not a decimal number").
const char* decimal_reason(std::string_view v);

// YYYY-MM-DD (4 to 7 year digits, AD) at s[i..] as days since 1970-01-01; advances i.
// False when malformed or not a calendar date.
bool parse_date(std::string_view s, size_t& i, int32_t& day);

// MariaDB's zero date and dates with a zero part ("0000-00-00", "2024-00-10", also as the
// date part of a timestamp "0000-00-00 00:00:00"): valid source values no calendar type
// holds, so they are unrepresentable, not malformed.
bool is_zero_part_date(std::string_view s);

struct Timestamp {
  int32_t day = 0;      // days since 1970-01-01
  int32_t seconds = 0;  // of the day
  int32_t micros = 0;
};

// The whole of s as "YYYY-MM-DD hh:mm:ss[.ffffff][(+|-)hh[:mm[:ss]]]"; the offset is
// required (and only accepted) when with_zone, and the result is then UTC.
bool parse_timestamp(std::string_view s, bool with_zone, Timestamp& ts);

// "YYYY-MM-DD" of a day, for messages and TSV.
std::string day_text(int32_t day);
// "outside the range the ClickHouse column holds (min .. max)"
std::string day_range_reason(int32_t min_day, int32_t max_day);

// bytea text (hex "\x0a0b" or the escape format with \\ and \NNN), unescaped, decoded into
// `out` (cleared first). Returns nullptr, or why the text is malformed.
const char* decode_bytea(std::string_view s, std::string& out);

// Walks a one-dimensional PostgreSQL array literal {a,"b c",NULL} (already unescaped from
// COPY text), calling on_element(std::string_view value, bool is_null) per element, in
// order; quoted elements are unquoted into `scratch` (so a value is valid only during the
// call). Returns nullptr, or why the literal is malformed (on_element may throw).
template <class OnElement>
const char* walk_pg_array(std::string_view s, std::string& scratch, OnElement&& on_element) {
  size_t i = 0;
  if (!s.empty() && s[0] == '[') return "arrays with explicit bounds are not supported";
  if (s.empty() || s[0] != '{') return "not an array literal";
  ++i;
  if (i < s.size() && s[i] == '}') {
    ++i;
  } else {
    for (;;) {
      if (i >= s.size()) return "unterminated array literal";
      if (s[i] == '{') return "multi-dimensional arrays are not supported (the column is one-dimensional)";
      std::string_view v;
      bool is_null = false;
      if (s[i] == '"') {
        ++i;
        scratch.clear();
        for (;;) {
          if (i >= s.size()) return "unterminated quoted array element";
          char ch = s[i++];
          if (ch == '"') break;
          if (ch == '\\') {
            if (i >= s.size()) return "unterminated quoted array element";
            ch = s[i++];
          }
          scratch.push_back(ch);
        }
        v = scratch;
      } else {
        size_t start = i;
        while (i < s.size() && s[i] != ',' && s[i] != '}') ++i;
        v = s.substr(start, i - start);
        is_null = equals_nocase(v, "NULL");
        if (v.empty()) return "empty array element";
      }
      on_element(v, is_null);
      if (i >= s.size()) return "unterminated array literal";
      if (s[i] == ',') {
        ++i;
        continue;
      }
      if (s[i] == '}') {
        ++i;
        break;
      }
      return "malformed array literal";
    }
  }
  if (i != s.size()) return "trailing characters after the array literal";
  return nullptr;
}

}  // namespace ferry::clickhouse

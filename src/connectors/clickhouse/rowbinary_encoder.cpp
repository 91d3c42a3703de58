#include "connectors/clickhouse/rowbinary_encoder.h"

#include <bit>
#include <charconv>
#include <cstring>
#include <limits>

#include "connectors/clickhouse/pg_text.h"
#include "core/error.h"

namespace ferry::clickhouse {

static_assert(std::endian::native == std::endian::little, "RowBinary is little-endian; so is this encoder's host");

namespace {

using Wire = RowBinaryEncoder::Wire;
using Layout = RowBinaryEncoder::Layout;
using int128 = __int128;
using uint128 = unsigned __int128;

template <class T>
inline void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

inline void put_varint(std::string& out, uint64_t v) {
  char b[10];
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  out.append(b, n);
}

inline void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

// "Wrapper(inner)" -> inner, when t is wrapped so.
bool unwrap(std::string_view& t, std::string_view wrapper) {
  if (t.size() > wrapper.size() + 1 && t.substr(0, wrapper.size()) == wrapper && t[wrapper.size()] == '(' &&
      t.back() == ')') {
    t = t.substr(wrapper.size() + 1, t.size() - wrapper.size() - 2);
    return true;
  }
  return false;
}

// Leading unsigned integer of t (after spaces); advances t.
bool take_int(std::string_view& t, int& v) {
  while (!t.empty() && t[0] == ' ') t.remove_prefix(1);
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  if (r.ec != std::errc()) return false;
  t.remove_prefix(static_cast<size_t>(r.ptr - t.data()));
  return true;
}

bool scalar_layout(std::string_view t, Layout& l) {
  static const std::pair<std::string_view, Wire> fixed[] = {
      {"Int8", Wire::Int8},       {"Int16", Wire::Int16},     {"Int32", Wire::Int32},     {"Int64", Wire::Int64},
      {"UInt8", Wire::UInt8},     {"Bool", Wire::UInt8},      {"UInt16", Wire::UInt16},   {"UInt32", Wire::UInt32},
      {"UInt64", Wire::UInt64},   {"Float32", Wire::Float32}, {"Float64", Wire::Float64}, {"String", Wire::String},
      {"UUID", Wire::Uuid},       {"Date", Wire::Date},       {"Date32", Wire::Date32}};
  for (const auto& [name, wire] : fixed) {
    if (t == name) {
      l.wire = wire;
      return true;
    }
  }
  std::string_view args = t;
  if (unwrap(args, "Decimal")) {
    int p = 0, s = 0;
    if (!take_int(args, p) || args.empty() || args[0] != ',') return false;
    args.remove_prefix(1);
    if (!take_int(args, s) || !args.empty() || p < 1 || p > 38 || s < 0 || s > p) return false;
    l.wire = p <= 9 ? Wire::Decimal32 : p <= 18 ? Wire::Decimal64 : Wire::Decimal128;
    l.precision = static_cast<uint8_t>(p);
    l.scale = static_cast<uint8_t>(s);
    return true;
  }
  if (unwrap(args, "DateTime64")) {
    int p = 0;
    if (!take_int(args, p) || p > 9) return false;
    l.wire = Wire::DateTime64;
    l.precision = static_cast<uint8_t>(p);
    return true;
  }
  return false;
}

bool is_integer(Wire w) { return w <= Wire::UInt64; }

bool codec_fits(Codec codec, Wire w) {
  switch (codec) {
    case Codec::Verbatim:
    case Codec::Bool:
      return is_integer(w);
    case Codec::Float:
      return w == Wire::Float32 || w == Wire::Float64;
    case Codec::Decimal:
      return w == Wire::Decimal32 || w == Wire::Decimal64 || w == Wire::Decimal128;
    case Codec::Text:
    case Codec::Bytes:
      return w == Wire::String;
    case Codec::Uuid:
      return w == Wire::Uuid;
    case Codec::Date:
      return w == Wire::Date || w == Wire::Date32;
    case Codec::DateTime64:
    case Codec::DateTime64Utc:
      return w == Wire::DateTime64;
    case Codec::Array:
      return false;
  }
  return false;
}

bool write_integer(Wire w, std::string_view v, std::string& out) {
  const char* b = v.data();
  const char* e = b + v.size();
  if (w >= Wire::UInt8) {
    uint64_t u = 0;
    auto r = std::from_chars(b, e, u);
    if (r.ec != std::errc() || r.ptr != e) return false;
    switch (w) {
      case Wire::UInt8:
        if (u > 0xFF) return false;
        put(out, static_cast<uint8_t>(u));
        return true;
      case Wire::UInt16:
        if (u > 0xFFFF) return false;
        put(out, static_cast<uint16_t>(u));
        return true;
      case Wire::UInt32:
        if (u > 0xFFFFFFFFu) return false;
        put(out, static_cast<uint32_t>(u));
        return true;
      default:
        put(out, u);
        return true;
    }
  }
  int64_t s = 0;
  auto r = std::from_chars(b, e, s);
  if (r.ec != std::errc() || r.ptr != e) return false;
  switch (w) {
    case Wire::Int8:
      if (s < -128 || s > 127) return false;
      put(out, static_cast<int8_t>(s));
      return true;
    case Wire::Int16:
      if (s < -32768 || s > 32767) return false;
      put(out, static_cast<int16_t>(s));
      return true;
    case Wire::Int32:
      if (s < std::numeric_limits<int32_t>::min() || s > std::numeric_limits<int32_t>::max()) return false;
      put(out, static_cast<int32_t>(s));
      return true;
    default:
      put(out, s);
      return true;
  }
}

// PostgreSQL float text -> bits. NaN is always the canonical quiet NaN.
bool write_float(Wire w, std::string_view v, std::string& out) {
  const char* b = v.data();
  const char* e = b + v.size();
  if (v == "NaN") {
    if (w == Wire::Float32) {
      put(out, std::numeric_limits<float>::quiet_NaN());
    } else {
      put(out, std::numeric_limits<double>::quiet_NaN());
    }
    return true;
  }
  if (w == Wire::Float32) {
    float f = 0;
    auto r = std::from_chars(b, e, f);
    if (r.ec != std::errc() || r.ptr != e || f != f) return false;
    put(out, f);
  } else {
    double d = 0;
    auto r = std::from_chars(b, e, d);
    if (r.ec != std::errc() || r.ptr != e || d != d) return false;
    put(out, d);
  }
  return true;
}

uint128 pow10(int n) {
  uint128 p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

void write_decimal(const Layout& l, int128 v, std::string& out) {
  switch (l.wire) {
    case Wire::Decimal32:
      put(out, static_cast<int32_t>(v));
      return;
    case Wire::Decimal64:
      put(out, static_cast<int64_t>(v));
      return;
    default:
      put(out, static_cast<uint64_t>(static_cast<uint128>(v)));
      put(out, static_cast<uint64_t>(static_cast<uint128>(v) >> 64));
      return;
  }
}

// [+-]digits[.digits] scaled by 10^S, exactly; nullptr or why not.
const char* parse_decimal(const Layout& l, std::string_view v, int128& result) {
  size_t i = 0;
  bool negative = false;
  if (i < v.size() && (v[i] == '-' || v[i] == '+')) negative = v[i++] == '-';
  uint128 n = 0;
  int digits = 0, fraction = 0;  // significant digits so far; digits after the point
  bool any = false, dot = false;
  for (; i < v.size(); ++i) {
    char c = v[i];
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (!is_digit(c)) return "not a decimal number";
    any = true;
    if (dot && ++fraction > l.scale) {
      if (c != '0') return "more fractional digits than the column's scale";
      continue;  // trailing zeros do not change the value
    }
    if (n == 0 && c == '0') continue;  // leading zeros
    if (++digits > l.precision) return "outside the range of the column's precision";
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (!any) return "not a decimal number";
  // The scaled value has digits + missing digits: at most P.
  const int missing = l.scale - (fraction < l.scale ? fraction : l.scale);
  if (n != 0 && digits + missing > l.precision) return "outside the range of the column's precision";
  n *= pow10(missing);
  result = negative ? -static_cast<int128>(n) : static_cast<int128>(n);
  return nullptr;
}

bool parse_uuid(std::string_view v, uint64_t& hi, uint64_t& lo) {
  if (v.size() != 36) return false;
  uint64_t half[2] = {0, 0};
  int nibbles = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (v[i] != '-') return false;
      continue;
    }
    int h = hex_value(v[i]);
    if (h < 0) return false;
    uint64_t& x = half[nibbles / 16];
    x = (x << 4) | static_cast<uint64_t>(h);
    ++nibbles;
  }
  hi = half[0];
  lo = half[1];
  return true;
}

void write_day(Wire w, int32_t day, std::string& out) {
  if (w == Wire::Date) {
    put(out, static_cast<uint16_t>(day));
  } else {
    put(out, day);
  }
}

void write_datetime64(const Layout& l, int32_t day, int64_t seconds, int64_t micros, std::string& out) {
  int64_t us = (static_cast<int64_t>(day) * 86400 + seconds) * 1000000 + micros;
  if (l.precision >= 6) {
    for (int k = 6; k < l.precision; ++k) us *= 10;
  } else {
    for (int k = l.precision; k < 6; ++k) us /= 10;  // callers checked that nothing is lost
  }
  put(out, us);
}

std::string truncated(std::string_view raw, size_t max) {
  if (raw.size() <= max) return std::string(raw);
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(raw[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
  return std::string(raw.substr(0, cut)) + "...";
}

}  // namespace

RowBinaryEncoder::RowBinaryEncoder(const TablePlan& plan)
    : table_(plan.source + " (ClickHouse " + plan.database + "." + plan.table + ")"), columns_(plan.columns) {
  for (const auto& c : columns_) {
    Layout l;
    std::string_view t = c.type;
    unwrap(t, "LowCardinality");
    bool ok = false;
    if (unwrap(t, "Array")) {
      l.array = true;
      unwrap(t, "LowCardinality");
      l.nullable = unwrap(t, "Nullable");
      ok = c.codec == Codec::Array && scalar_layout(t, l) && codec_fits(c.element, l.wire) && c.element != Codec::Bytes;
    } else {
      l.nullable = unwrap(t, "Nullable");
      ok = scalar_layout(t, l) && codec_fits(c.codec, l.wire);
    }
    if (!ok)
      throw permanent_error("table " + table_ + ": column " + c.name + ": ferry cannot write ClickHouse type " +
                            c.type + " from " + c.source_type + " in RowBinary");
    layouts_.push_back(l);
  }
  counts_.assign(columns_.size(), 0);
  first_.assign(columns_.size(), std::string());
}

void RowBinaryEncoder::set_row_trailer(uint64_t version, bool is_deleted) {
  std::memcpy(trailer_, &version, 8);
  trailer_[8] = is_deleted ? 1 : 0;
  has_trailer_ = true;
}

void RowBinaryEncoder::append_trailer(std::string& out, uint64_t version, bool is_deleted) {
  put(out, version);
  out.push_back(is_deleted ? 1 : 0);
}

void RowBinaryEncoder::reset_unrepresentable() {
  counts_.assign(columns_.size(), 0);
  for (auto& f : first_) f.clear();
}

void RowBinaryEncoder::fail(const ClickHouseColumn& c, std::string_view raw, std::string_view reason) const {
  throw permanent_error("table " + table_ + ": column " + c.name + ": cannot convert value '" + truncated(raw, 80) +
                        "' (" + c.source_type + ") to ClickHouse " + c.type + ": " + std::string(reason));
}

void RowBinaryEncoder::fail_row(size_t row, std::string_view reason) const {
  throw permanent_error("table " + table_ + ": malformed COPY data at row " + std::to_string(row + 1) +
                        " of a chunk: " + std::string(reason) + " (expected " + std::to_string(columns_.size()) +
                        " fields)");
}

size_t RowBinaryEncoder::encode(std::string_view chunk, std::string& out) {
  out.reserve(out.size() + chunk.size() + 64);
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
      const bool last = i + 1 == n;
      if (last && *p != '\n') fail_row(rows, "more fields than columns");
      if (!last && *p != '\t') fail_row(rows, "fewer fields than columns");
      encode_field(i, std::string_view(f, static_cast<size_t>(p - f)), backslash, out);
      ++p;
    }
    if (has_trailer_) out.append(trailer_, sizeof trailer_);
    ++rows;
  }
  return rows;
}

void RowBinaryEncoder::encode_field(size_t i, std::string_view raw, bool backslash, std::string& out) {
  if (!backslash) {
    encode_present(i, raw, raw, out);
  } else if (is_copy_null(raw)) {
    encode_null(i, out);
  } else {
    unescape_copy_field(raw, scratch_);
    encode_present(i, scratch_, raw, out);
  }
}

void RowBinaryEncoder::encode_value(size_t i, std::string_view value, std::string& out) {
  encode_present(i, value, value, out);
}

void RowBinaryEncoder::encode_null(size_t i, std::string& out) {
  const ClickHouseColumn& c = columns_[i];
  if (!layouts_[i].nullable || layouts_[i].array)
    fail(c, "\\N", "NULL in a column that is not Nullable in ClickHouse (a key or order_by column)");
  out.push_back(1);
}

void RowBinaryEncoder::encode_present(size_t i, std::string_view v, std::string_view raw, std::string& out) {
  const Layout& l = layouts_[i];
  if (l.array) {
    encode_array(i, v, raw, out);
  } else if (!l.nullable) {
    encode_scalar(i, columns_[i].codec, l, v, raw, out);  // never NULL: the policy throws instead
  } else {
    const size_t flag = out.size();
    out.push_back(0);
    if (!encode_scalar(i, columns_[i].codec, l, v, raw, out)) out[flag] = 1;
  }
}

void RowBinaryEncoder::encode_array(size_t i, std::string_view v, std::string_view raw, std::string& out) {
  const ClickHouseColumn& c = columns_[i];
  const Layout& l = layouts_[i];
  elements_.clear();
  uint64_t count = 0;
  const char* why = walk_pg_array(v, element_, [&](std::string_view e, bool is_null) {
    ++count;
    if (!l.nullable) {
      if (is_null) fail(c, raw, "NULL element in an array of non-Nullable elements");
      encode_scalar(i, c.element, l, e, raw, elements_);
      return;
    }
    if (is_null) {
      elements_.push_back(1);
      return;
    }
    const size_t flag = elements_.size();
    elements_.push_back(0);
    if (!encode_scalar(i, c.element, l, e, raw, elements_)) elements_[flag] = 1;
  });
  if (why) fail(c, raw, why);
  put_varint(out, count);
  out.append(elements_);
}

bool RowBinaryEncoder::unrepresentable(size_t i, bool nullable, bool can_clamp, std::string_view v,
                                       std::string_view raw, std::string_view reason) {
  const ClickHouseColumn& c = columns_[i];
  bool null = false;
  switch (c.on_unrepresentable) {
    case OnUnrepresentable::Fail:
    case OnUnrepresentable::Text:
      fail(c, raw, reason);
    case OnUnrepresentable::Null:
      if (!nullable)
        fail(c, raw, std::string(reason) + "; on_unrepresentable: null needs a Nullable column, and this one is not");
      null = true;
      break;
    case OnUnrepresentable::Clamp:
      if (!can_clamp) {
        if (!nullable)
          fail(c, raw, std::string(reason) + "; on_unrepresentable: clamp writes NULL for it, and the column is not Nullable");
        null = true;
      }
      break;
  }
  if (counts_[i]++ == 0) first_[i] = truncated(v, 100);
  return null;
}

bool RowBinaryEncoder::encode_scalar(size_t i, Codec codec, const Layout& l, std::string_view v, std::string_view raw,
                                     std::string& out) {
  const ClickHouseColumn& c = columns_[i];
  switch (codec) {
    case Codec::Verbatim:
      if (!write_integer(l.wire, v, out)) fail(c, raw, "not an integer the column holds");
      return true;
    case Codec::Bool: {
      int b = bool_value(v);
      if (b < 0) fail(c, raw, "not a boolean");
      write_integer(l.wire, b ? "1" : "0", out);
      return true;
    }
    case Codec::Float:
      if (!write_float(l.wire, v, out)) fail(c, raw, "not a number the column holds");
      return true;
    case Codec::Text:
      put_string(out, v);
      return true;
    case Codec::Bytes:
      if (const char* why = decode_bytea(v, bytes_)) fail(c, raw, why);
      put_string(out, bytes_);
      return true;
    case Codec::Uuid: {
      uint64_t hi = 0, lo = 0;
      if (!parse_uuid(v, hi, lo)) fail(c, raw, "not a UUID");
      put(out, hi);
      put(out, lo);
      return true;
    }
    case Codec::Decimal: {
      int128 d = 0;
      if (const char* why = parse_decimal(l, v, d)) {
        const int inf = infinity_sign(v);
        if (v != "NaN" && inf == 0) fail(c, raw, why);
        if (unrepresentable(i, l.nullable, inf != 0, v, raw, "ClickHouse Decimal has no NaN or Infinity")) return false;
        const int128 largest = static_cast<int128>(pow10(l.precision) - 1);
        d = inf > 0 ? largest : -largest;
      }
      write_decimal(l, d, out);
      return true;
    }
    case Codec::Date: {
      size_t at = 0;
      int32_t day = 0;
      int inf = infinity_sign(v);
      const bool zero = inf == 0 && is_zero_part_date(v) && v.size() == 10;
      if (zero) inf = -1;  // clamps to the first day
      if (inf == 0 && (!parse_date(v, at, day) || at != v.size()))
        fail(c, raw, "not a date ClickHouse can hold (YYYY-MM-DD, AD)");
      if (inf != 0 || day < c.min_day || day > c.max_day) {
        if (unrepresentable(i, l.nullable, true, v, raw,
                            zero ? "a zero date, which ClickHouse Date cannot hold" : day_range_reason(c.min_day, c.max_day)))
          return false;
        day = inf < 0 || (inf == 0 && day < c.min_day) ? c.min_day : c.max_day;
      }
      write_day(l.wire, day, out);
      return true;
    }
    case Codec::DateTime64:
    case Codec::DateTime64Utc: {
      Timestamp ts;
      int inf = infinity_sign(v);
      const bool zero = inf == 0 && is_zero_part_date(v);
      if (zero) inf = -1;  // MariaDB's zero timestamp: clamps to the first tick
      if (inf == 0 && !parse_timestamp(v, codec == Codec::DateTime64Utc, ts))
        fail(c, raw, "not a timestamp ClickHouse can hold (YYYY-MM-DD hh:mm:ss[.ffffff], AD)");
      int32_t unit = 1;  // microseconds per tick
      for (int k = l.precision; k < 6; ++k) unit *= 10;
      if (inf == 0 && ts.micros % unit) fail(c, raw, "more fractional digits than the column holds");
      if (inf != 0 || ts.day < c.min_day || ts.day > c.max_day) {
        if (unrepresentable(i, l.nullable, true, v, raw,
                            zero ? "a zero date, which ClickHouse cannot hold" : day_range_reason(c.min_day, c.max_day)))
          return false;
        if (inf < 0 || (inf == 0 && ts.day < c.min_day)) {
          ts = {c.min_day, 0, 0};
        } else {
          ts = {c.max_day, 86399, 1000000 - unit};  // the last tick of max_day
        }
      }
      write_datetime64(l, ts.day, ts.seconds, ts.micros, out);
      return true;
    }
    case Codec::Array:
      break;
  }
  fail(c, raw, "unsupported conversion");
}

}  // namespace ferry::clickhouse

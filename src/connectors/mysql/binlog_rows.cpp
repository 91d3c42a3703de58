#include "connectors/mysql/binlog_rows.h"

#include <bit>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"

namespace ferry::mysql {

namespace {

constexpr int kBinaryCollation = 63;

bool is_numeric(uint8_t t) {
  return t == kTypeTiny || t == kTypeShort || t == kTypeInt24 || t == kTypeLong || t == kTypeLongLong ||
         t == kTypeFloat || t == kTypeDouble || t == kTypeNewDecimal || t == kTypeDecimal;
}

// The columns the optional metadata's charset fields count: the server's
// is_character_type(real_type), which includes GEOMETRY (a blob underneath).
bool is_character(uint8_t t) {
  return t == kTypeString || t == kTypeVarString || t == kTypeVarchar || t == kTypeBlob || t == kTypeTinyBlob ||
         t == kTypeMediumBlob || t == kTypeLongBlob || t == kTypeGeometry;
}

// Type metadata bytes in TABLE_MAP, per column type.
uint16_t read_meta(uint8_t type, std::span<const uint8_t> m, size_t& pos, const std::string& table) {
  auto need = [&](size_t n) {
    if (m.size() - pos < n)
      throw Error(ErrorKind::Permanent, fmt::format("binlog: table map of {}: column metadata truncated", table));
  };
  switch (type) {
    case kTypeFloat: case kTypeDouble: case kTypeBlob: case kTypeTinyBlob: case kTypeMediumBlob: case kTypeLongBlob:
    case kTypeGeometry: case kTypeJson: case kTypeTime2: case kTypeDatetime2: case kTypeTimestamp2:
      need(1);
      return m[pos++];
    case kTypeVarchar: case kTypeVarString: case kTypeBit: {  // little-endian
      need(2);
      uint16_t v = uint16_t(m[pos] | (m[pos + 1] << 8));
      pos += 2;
      return v;
    }
    case kTypeNewDecimal: case kTypeString: case kTypeEnum: case kTypeSet: {  // big-endian
      need(2);
      uint16_t v = uint16_t((m[pos] << 8) | m[pos + 1]);
      pos += 2;
      return v;
    }
    default:
      return 0;
  }
}

std::span<const uint8_t> bytes_of(std::string_view v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size()};
}

// Reads the TLV fields of the optional metadata into the columns.
void read_optional_metadata(std::string_view raw, BinlogTableMap& t) {
  std::span<const uint8_t> b = bytes_of(raw);
  size_t pos = 0;
  auto fail = [&](const char* what) -> void {
    throw Error(ErrorKind::Permanent, fmt::format("binlog: table map of {}.{}: optional metadata {} at offset {}",
                                                  t.database, t.table, what, pos));
  };
  std::vector<size_t> character, numeric, enums, sets;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    uint8_t ty = t.columns[i].type;
    if (is_character(ty)) character.push_back(i);
    if (is_numeric(ty)) numeric.push_back(i);
    if (ty == kTypeEnum) enums.push_back(i);
    if (ty == kTypeSet) sets.push_back(i);
  }
  auto strings = [&](size_t end) {
    std::vector<std::string> out;
    uint64_t n = read_lenenc(b.first(end), pos);
    for (uint64_t k = 0; k < n; ++k) {
      uint64_t len = read_lenenc(b.first(end), pos);
      if (len > end - pos) fail("string runs past its field");
      out.emplace_back(reinterpret_cast<const char*>(b.data() + pos), len);
      pos += len;
    }
    return out;
  };
  while (pos < b.size()) {
    uint8_t type = b[pos++];
    uint64_t len = read_lenenc(b, pos);
    if (len > b.size() - pos) fail("field runs past the event");
    size_t end = pos + len;
    switch (type) {
      case 1:  // SIGNEDNESS: one bit per numeric column, most significant first
        for (size_t k = 0; k < numeric.size(); ++k) {
          size_t byte = pos + k / 8;
          if (byte >= end) fail("signedness bitmap too short");
          t.columns[numeric[k]].is_unsigned = (b[byte] >> (7 - k % 8)) & 1;
        }
        t.has_signedness = true;
        pos = end;
        break;
      case 2: {  // DEFAULT_CHARSET: default collation, then (character column index, collation) pairs
        uint64_t def = read_lenenc(b.first(end), pos);
        for (size_t i : character) t.columns[i].binary = def == kBinaryCollation;
        while (pos < end) {
          uint64_t idx = read_lenenc(b.first(end), pos);
          uint64_t coll = read_lenenc(b.first(end), pos);
          if (idx < character.size()) t.columns[character[idx]].binary = coll == kBinaryCollation;
        }
        break;
      }
      case 3:  // COLUMN_CHARSET: one collation per character column
        for (size_t i : character) {
          if (pos >= end) fail("column charsets too short");
          t.columns[i].binary = read_lenenc(b.first(end), pos) == kBinaryCollation;
        }
        pos = end;
        break;
      case 4:  // COLUMN_NAME
        for (auto& c : t.columns) {
          uint64_t n = read_lenenc(b.first(end), pos);
          if (n > end - pos) fail("column name runs past its field");
          c.name.assign(reinterpret_cast<const char*>(b.data() + pos), n);
          pos += n;
        }
        t.has_names = true;
        pos = end;
        break;
      case 5:  // SET_STR_VALUE
        for (size_t i : sets) t.columns[i].labels = strings(end);
        pos = end;
        break;
      case 6:  // ENUM_STR_VALUE
        for (size_t i : enums) t.columns[i].labels = strings(end);
        pos = end;
        break;
      case 8:  // SIMPLE_PRIMARY_KEY: column indexes
      case 9:  // PRIMARY_KEY_WITH_PREFIX: (column index, prefix length) pairs
        while (pos < end) {
          uint64_t idx = read_lenenc(b.first(end), pos);
          if (idx >= t.columns.size()) fail("primary key column out of range");
          t.primary_key.push_back(uint32_t(idx));
          if (type == 9) read_lenenc(b.first(end), pos);
        }
        t.has_primary_key = true;
        break;
      default:
        pos = end;
    }
  }
}

// --- values -------------------------------------------------------------------------------

class RowReader {
 public:
  RowReader(std::string_view rows, const BinlogTableMap& t) : b_(bytes_of(rows)), t_(t) {}
  bool done() const { return pos_ >= b_.size(); }
  size_t pos() const { return pos_; }

  [[noreturn]] void fail(size_t column, const std::string& what) const {
    std::string col = column < t_.columns.size() && !t_.columns[column].name.empty()
                          ? t_.columns[column].name
                          : fmt::format("#{}", column + 1);
    throw Error(ErrorKind::Permanent,
                fmt::format("binlog: row of {}.{}, column {}: {} at offset {}", t_.database, t_.table, col, what, pos_));
  }
  const uint8_t* take(size_t n, size_t column) {
    if (b_.size() - pos_ < n) fail(column, fmt::format("value needs {} bytes, {} left", n, b_.size() - pos_));
    const uint8_t* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint64_t le(size_t n, size_t column) {
    const uint8_t* p = take(n, column);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
    return v;
  }
  uint64_t be(size_t n, size_t column) {
    const uint8_t* p = take(n, column);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
  }

 private:
  std::span<const uint8_t> b_;
  const BinlogTableMap& t_;
  size_t pos_ = 0;
};

// Hand-rolled number text: fmt's format-string machinery dominated decoding profiles.
void append_int(std::string& out, int64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}
void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}
// At least `width` digits, zero-padded ("{:0N}").
void append_padded(std::string& out, uint64_t v, int width) {
  char buf[24];
  char* end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  for (int n = int(end - buf); n < width; ++n) out += '0';
  out.append(buf, end);
}

void append_hex(std::string& out, const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  out += "\\x";
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
}

// Fractional seconds of a temporal2 value: (fsp + 1) / 2 big-endian bytes, as microseconds.
int64_t read_fraction(RowReader& r, int fsp, size_t column) {
  switch (fsp) {
    case 0: return 0;
    case 1: case 2: return int64_t(r.be(1, column)) * 10000;
    case 3: case 4: return int64_t(r.be(2, column)) * 100;
    case 5: case 6: return int64_t(r.be(3, column));
    default: r.fail(column, fmt::format("fractional second precision {}", fsp));
  }
}

void append_fraction(std::string& out, int64_t micros, int fsp) {
  if (fsp <= 0) return;
  char six[6];
  for (int i = 5; i >= 0; --i, micros /= 10) six[i] = char('0' + micros % 10);
  out += '.';
  out.append(six, static_cast<size_t>(std::min(fsp, 6)));
}

void append_datetime(std::string& out, int year, int month, int day, int hour, int minute, int second) {
  append_padded(out, uint64_t(year), 4);
  out += '-';
  append_padded(out, uint64_t(month), 2);
  out += '-';
  append_padded(out, uint64_t(day), 2);
  out += ' ';
  append_padded(out, uint64_t(hour), 2);
  out += ':';
  append_padded(out, uint64_t(minute), 2);
  out += ':';
  append_padded(out, uint64_t(second), 2);
}

// Seconds since the epoch as UTC text with "+00"; 0 is the zero timestamp.
void append_timestamp(std::string& out, int64_t seconds, int64_t micros, int fsp) {
  if (seconds == 0 && micros == 0) {
    out += "0000-00-00 00:00:00";
    append_fraction(out, 0, fsp);
    return;
  }
  int64_t days = seconds / 86400, rem = seconds % 86400;
  // civil_from_days (H. Hinnant): proleptic Gregorian date of a day number
  int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = yoe + era * 400 + (m <= 2);
  append_datetime(out, int(y), int(m), int(d), int(rem / 3600), int(rem / 60 % 60), int(rem % 60));
  append_fraction(out, micros, fsp);
  out += "+00";
}

// Exact text of a binary DECIMAL(precision, scale).
void append_decimal(RowReader& r, int precision, int scale, std::string& out, size_t column) {
  static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
  if (precision < 1 || precision > 65 || scale < 0 || scale > precision)
    r.fail(column, fmt::format("DECIMAL({}, {})", precision, scale));
  int intg = precision - scale;
  int intg0 = intg / 9, intg0x = intg % 9, frac0 = scale / 9, frac0x = scale % 9;
  size_t size = size_t(intg0 * 4 + dig2bytes[intg0x] + frac0 * 4 + dig2bytes[frac0x]);
  const uint8_t* raw = r.take(size, column);
  uint8_t buf[40];
  std::memcpy(buf, raw, size);
  bool negative = !(buf[0] & 0x80);
  buf[0] ^= 0x80;
  if (negative)
    for (size_t i = 0; i < size; ++i) buf[i] ^= 0xff;
  size_t p = 0;
  auto group = [&](int bytes) {
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | buf[p++];
    return v;
  };
  // Digits into a local buffer (at most 65 plus sign and point), then appended at once.
  char text[80];
  size_t n = 0;
  auto put = [&](uint32_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i, v /= 10) text[n + size_t(i)] = char('0' + v % 10);
    n += size_t(digits);
  };
  if (intg0x) put(group(dig2bytes[intg0x]), intg0x);
  for (int i = 0; i < intg0; ++i) put(group(4), 9);
  size_t first = 0;
  while (first < n && text[first] == '0') ++first;
  bool int_zero = first == n;
  size_t frac_start = n;
  for (int i = 0; i < frac0; ++i) put(group(4), 9);
  if (frac0x) put(group(dig2bytes[frac0x]), frac0x);
  bool zero = int_zero;
  for (size_t i = frac_start; zero && i < n; ++i) zero = text[i] == '0';
  if (negative && !zero) out += '-';
  if (int_zero) out += '0';
  else out.append(text + first, frac_start - first);
  if (scale > 0) {
    out += '.';
    out.append(text + frac_start, n - frac_start);
  }
}

void decode_value(RowReader& r, const BinlogColumn& c, size_t column, std::string& out) {
  switch (c.type) {
    case kTypeTiny: {
      uint64_t v = r.le(1, column);
      c.is_unsigned ? append_uint(out, v) : append_int(out, int8_t(v));
      return;
    }
    case kTypeShort: {
      uint64_t v = r.le(2, column);
      c.is_unsigned ? append_uint(out, v) : append_int(out, int16_t(v));
      return;
    }
    case kTypeInt24: {
      uint64_t v = r.le(3, column);
      c.is_unsigned ? append_uint(out, v) : append_int(out, (v & 0x800000) ? int64_t(v) - 0x1000000 : int64_t(v));
      return;
    }
    case kTypeLong: {
      uint64_t v = r.le(4, column);
      c.is_unsigned ? append_uint(out, v) : append_int(out, int32_t(v));
      return;
    }
    case kTypeLongLong: {
      uint64_t v = r.le(8, column);
      c.is_unsigned ? append_uint(out, v) : append_int(out, int64_t(v));
      return;
    }
    case kTypeFloat: {
      float f = std::bit_cast<float>(uint32_t(r.le(4, column)));
      char buf[32];
      out.append(buf, std::to_chars(buf, buf + sizeof buf, f).ptr);
      return;
    }
    case kTypeDouble: {
      double d = std::bit_cast<double>(r.le(8, column));
      char buf[32];
      out.append(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
      return;
    }
    case kTypeNewDecimal:
      append_decimal(r, c.meta >> 8, c.meta & 0xff, out, column);
      return;
    case kTypeYear: {
      uint64_t v = r.le(1, column);
      append_padded(out, v == 0 ? 0 : 1900 + v, 4);
      return;
    }
    case kTypeDate:
    case kTypeNewDate: {
      uint64_t v = r.le(3, column);
      append_padded(out, v >> 9, 4);
      out += '-';
      append_padded(out, (v >> 5) & 15, 2);
      out += '-';
      append_padded(out, v & 31, 2);
      return;
    }
    case kTypeDatetime2: {
      int64_t v = int64_t(r.be(5, column)) - 0x8000000000LL;
      int64_t micros = read_fraction(r, c.meta, column);
      if (v < 0) r.fail(column, "negative DATETIME");
      int64_t ymd = v >> 17, ym = ymd >> 5, hms = v & 0x1ffff;
      append_datetime(out, int(ym / 13), int(ym % 13), int(ymd & 31), int(hms >> 12), int((hms >> 6) & 63),
                      int(hms & 63));
      append_fraction(out, micros, c.meta);
      return;
    }
    case kTypeTimestamp2: {
      int64_t seconds = int64_t(r.be(4, column));
      append_timestamp(out, seconds, read_fraction(r, c.meta, column), c.meta);
      return;
    }
    case kTypeTime2: {
      // MySQL's my_time_packed_from_binary: (hms << 24) + microseconds, offset so that it sorts.
      int64_t packed = 0;
      int fsp = c.meta;
      if (fsp >= 5) {
        packed = int64_t(r.be(6, column)) - 0x800000000000LL;
      } else {
        int64_t intpart = int64_t(r.be(3, column)) - 0x800000;
        int64_t frac = 0;
        if (fsp >= 3) {
          frac = int64_t(r.be(2, column));
          if (intpart < 0 && frac) { ++intpart; frac -= 0x10000; }
          frac *= 100;
        } else if (fsp >= 1) {
          frac = int64_t(r.be(1, column));
          if (intpart < 0 && frac) { ++intpart; frac -= 0x100; }
          frac *= 10000;
        }
        packed = intpart * (int64_t(1) << 24) + frac;
      }
      bool negative = packed < 0;
      if (negative) packed = -packed;
      int64_t hms = packed >> 24, micros = packed & 0xffffff;
      if (negative) out += '-';
      append_padded(out, uint64_t((hms >> 12) % 1024), 2);
      out += ':';
      append_padded(out, uint64_t((hms >> 6) & 63), 2);
      out += ':';
      append_padded(out, uint64_t(hms & 63), 2);
      append_fraction(out, micros, fsp);
      return;
    }
    case kTypeTimestamp:  // the pre-5.6 format: seconds, little-endian
      append_timestamp(out, int64_t(r.le(4, column)), 0, 0);
      return;
    case kTypeVarchar:
    case kTypeVarString:
    case kTypeString: {
      size_t len = r.le(c.meta < 256 ? 1 : 2, column);
      const uint8_t* p = r.take(len, column);
      if (c.binary) {
        append_hex(out, p, len);
        // BINARY(n) is logged without its trailing zero bytes; its value (what SELECT
        // returns) has all n of them.
        if (c.type == kTypeString)
          for (size_t k = len; k < c.meta; ++k) out += "00";
      } else {
        out.append(reinterpret_cast<const char*>(p), len);
      }
      return;
    }
    case kTypeBlob: case kTypeTinyBlob: case kTypeMediumBlob: case kTypeLongBlob: case kTypeJson: case kTypeGeometry: {
      if (c.meta < 1 || c.meta > 4) r.fail(column, fmt::format("blob length size {}", c.meta));
      size_t len = r.le(c.meta, column);
      const uint8_t* p = r.take(len, column);
      if (c.type == kTypeGeometry) {
        if (len < 4) r.fail(column, "geometry shorter than its SRID");
        append_hex(out, p + 4, len - 4);
      } else if (c.binary) {
        append_hex(out, p, len);
      } else {
        out.append(reinterpret_cast<const char*>(p), len);
      }
      return;
    }
    case kTypeBit: {
      size_t bits = size_t(c.meta >> 8) * 8 + (c.meta & 0xff);
      if (bits > 64) r.fail(column, fmt::format("BIT({}) is wider than 64 bits", bits));
      uint64_t v = r.be((bits + 7) / 8, column);
      for (size_t i = bits; i-- > 0;) out += ((v >> i) & 1) ? '1' : '0';
      return;
    }
    case kTypeEnum: {
      if (c.meta < 1 || c.meta > 2) r.fail(column, fmt::format("enum value size {}", c.meta));
      uint64_t v = r.le(c.meta, column);
      if (v == 0) return;  // the '' error value
      if (v <= c.labels.size()) out += c.labels[v - 1];
      else append_uint(out, v);
      return;
    }
    case kTypeSet: {
      if (c.meta < 1 || c.meta > 8) r.fail(column, fmt::format("set value size {}", c.meta));
      uint64_t v = r.le(c.meta, column);
      bool first = true;
      for (size_t i = 0; i < 64; ++i) {
        if (!((v >> i) & 1)) continue;
        if (!first) out += ',';
        first = false;
        if (i < c.labels.size()) out += c.labels[i];
        else append_uint(out, uint64_t(1) << i);
      }
      return;
    }
    default:
      r.fail(column, fmt::format("column type {} is not supported", c.type));
  }
}

size_t bits_set(std::string_view bitmap, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += (uint8_t(bitmap[i / 8]) >> (i % 8)) & 1;
  return count;
}

void read_image(RowReader& r, const BinlogTableMap& t, std::string_view present, RowImage& image) {
  const size_t n = t.columns.size();
  image.resize(n);
  for (BinlogCell& c : image) {  // keeps the strings' capacity
    c.state = BinlogCell::Absent;
    c.text.clear();
  }
  size_t count = bits_set(present, n);
  if (count == 0) r.fail(0, "row image without columns");  // would never advance
  const uint8_t* nulls = r.take((count + 7) / 8, 0);
  size_t k = 0;  // index among present columns
  for (size_t i = 0; i < n; ++i) {
    if (!((uint8_t(present[i / 8]) >> (i % 8)) & 1)) continue;
    BinlogCell& cell = image[i];
    if ((nulls[k / 8] >> (k % 8)) & 1) {
      cell.state = BinlogCell::Null;
    } else {
      cell.state = BinlogCell::Value;
      decode_value(r, t.columns[i], i, cell.text);
    }
    ++k;
  }
}

}  // namespace

BinlogTableMap BinlogTableMap::from(const TableMapEvent& e) {
  BinlogTableMap t;
  t.table_id = e.table_id;
  t.database = std::string(e.database);
  t.table = std::string(e.table);
  std::span<const uint8_t> meta = bytes_of(e.metadata);
  size_t pos = 0;
  const std::string name = t.database + "." + t.table;
  for (size_t i = 0; i < e.column_count; ++i) {
    BinlogColumn c;
    c.type = uint8_t(e.column_types[i]);
    c.meta = read_meta(c.type, meta, pos, name);
    c.nullable = (uint8_t(e.null_bitmap[i / 8]) >> (i % 8)) & 1;
    if (c.type == kTypeString && c.meta >= 256) {  // real type and length share the two bytes
      uint8_t b0 = uint8_t(c.meta >> 8), b1 = uint8_t(c.meta & 0xff);
      if ((b0 & 0x30) != 0x30) {
        c.meta = uint16_t(b1 | (((b0 & 0x30) ^ 0x30) << 4));
        c.type = uint8_t(b0 | 0x30);
      } else {
        c.type = b0;
        c.meta = b1;
      }
    }
    t.columns.push_back(std::move(c));
  }
  if (pos != meta.size())
    throw Error(ErrorKind::Permanent, fmt::format("binlog: table map of {}: {} metadata bytes left over", name,
                                                  meta.size() - pos));
  read_optional_metadata(e.optional_metadata, t);
  return t;
}

void decode_rows(const RowsEvent& event, const BinlogTableMap& table, std::vector<RowChange>& out) {
  std::vector<RowChange> rows;
  size_t n = decode_rows_reusing(event, table, rows);
  for (size_t i = 0; i < n; ++i) out.push_back(std::move(rows[i]));
}

size_t decode_rows_reusing(const RowsEvent& event, const BinlogTableMap& table, std::vector<RowChange>& out) {
  if (event.column_count != table.columns.size())
    throw Error(ErrorKind::Permanent, fmt::format("binlog: rows event of {}.{} has {} columns, its table map {}",
                                                  table.database, table.table, event.column_count,
                                                  table.columns.size()));
  RowReader r(event.rows, table);
  size_t count = 0;
  while (!r.done()) {
    if (count == out.size()) out.emplace_back();
    RowChange& change = out[count++];
    change.kind = event.kind;
    switch (event.kind) {
      case RowsEvent::Write:
        read_image(r, table, event.present, change.after);
        break;
      case RowsEvent::Delete:
        read_image(r, table, event.present, change.before);
        break;
      case RowsEvent::Update:
        read_image(r, table, event.present, change.before);
        read_image(r, table, event.present_after, change.after);
        break;
    }
  }
  return count;
}

}  // namespace ferry::mysql

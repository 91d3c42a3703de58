// RowBinary rows in tests: decoded into TSV-like text (as ClickHouse renders values in
// TabSeparated), and lookup answers built from such text, so that expectations stay readable.
#pragma once
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "connectors/clickhouse/pg_text.h"
#include "connectors/clickhouse/rowbinary_encoder.h"
#include "connectors/clickhouse/tsv_answer.h"
#include "connectors/clickhouse/tsv_encoder.h"

namespace ferry::test {

using namespace ferry::clickhouse;

using RbWire = RowBinaryEncoder::Wire;
using RbLayout = RowBinaryEncoder::Layout;

template <class T>
inline T take(std::string_view d, size_t& p) {
  T v{};
  EXPECT_LE(p + sizeof v, d.size());
  if (p + sizeof v <= d.size()) std::memcpy(&v, d.data() + p, sizeof v);
  p += sizeof v;
  return v;
}

inline uint64_t take_varint(std::string_view d, size_t& p) {
  uint64_t v = 0;
  for (int shift = 0; p < d.size(); shift += 7) {
    auto b = static_cast<unsigned char>(d[p++]);
    v |= uint64_t(b & 0x7F) << shift;
    if (!(b & 0x80)) break;
  }
  return v;
}

template <class F>
inline std::string float_text(F f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[64];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, f).ptr);
}

inline std::string decimal_text(__int128 v, int scale) {
  bool negative = v < 0;
  unsigned __int128 u = negative ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + int(u % 10)));
    u /= 10;
  } while (u);
  while (digits.size() < static_cast<size_t>(scale) + 1) digits.insert(digits.begin(), '0');
  if (scale) digits.insert(digits.end() - scale, '.');
  return (negative ? "-" : "") + digits;
}

// One value (no Nullable flag), rendered like ClickHouse TSV (quoted inside arrays).
inline void render_value(const RbLayout& l, bool quoted, std::string_view d, size_t& p, std::string& out) {
  switch (l.wire) {
    case RbWire::Int8: out += std::to_string(take<int8_t>(d, p)); return;
    case RbWire::Int16: out += std::to_string(take<int16_t>(d, p)); return;
    case RbWire::Int32: out += std::to_string(take<int32_t>(d, p)); return;
    case RbWire::Int64: out += std::to_string(take<int64_t>(d, p)); return;
    case RbWire::UInt8: out += std::to_string(take<uint8_t>(d, p)); return;
    case RbWire::UInt16: out += std::to_string(take<uint16_t>(d, p)); return;
    case RbWire::UInt32: out += std::to_string(take<uint32_t>(d, p)); return;
    case RbWire::UInt64: out += std::to_string(take<uint64_t>(d, p)); return;
    case RbWire::Float32: out += float_text(take<float>(d, p)); return;
    case RbWire::Float64: out += float_text(take<double>(d, p)); return;
    case RbWire::Decimal32: out += decimal_text(take<int32_t>(d, p), l.scale); return;
    case RbWire::Decimal64: out += decimal_text(take<int64_t>(d, p), l.scale); return;
    case RbWire::Decimal128: {
      uint64_t lo = take<uint64_t>(d, p), hi = take<uint64_t>(d, p);
      out += decimal_text(static_cast<__int128>((static_cast<unsigned __int128>(hi) << 64) | lo), l.scale);
      return;
    }
    case RbWire::String: {
      size_t n = take_varint(d, p);
      std::string_view bytes = d.substr(p, n);
      p += n;
      if (!quoted) {
        append_tsv_escaped(out, bytes);
        return;
      }
      out += '\'';
      for (char c : bytes) {
        if (c == '\'') out += '\\';
        append_tsv_escaped(out, std::string_view(&c, 1));
      }
      out += '\'';
      return;
    }
    case RbWire::Uuid: {
      uint64_t hi = take<uint64_t>(d, p), lo = take<uint64_t>(d, p);
      std::string h = fmt::format("{:016x}{:016x}", hi, lo);
      std::string u = h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
                      h.substr(20);
      out += quoted ? "'" + u + "'" : u;
      return;
    }
    case RbWire::Date:
    case RbWire::Date32: {
      int32_t day = l.wire == RbWire::Date ? take<uint16_t>(d, p) : take<int32_t>(d, p);
      out += quoted ? "'" + day_text(day) + "'" : day_text(day);
      return;
    }
    case RbWire::DateTime64: out += std::to_string(take<int64_t>(d, p)); return;
  }
}

inline void render_field(const RbLayout& l, std::string_view d, size_t& p, std::string& out) {
  auto element = [&](bool in_array) {
    if (l.nullable && take<uint8_t>(d, p)) {
      out += in_array ? "NULL" : "\\N";
      return;
    }
    render_value(l, in_array, d, p, out);
  };
  if (!l.array) {
    element(false);
    return;
  }
  out += '[';
  for (uint64_t k = 0, n = take_varint(d, p); k < n; ++k) {
    if (k) out += ',';
    element(true);
  }
  out += ']';
}

// RowBinary rows of the encoder's columns + version + is_deleted, as TSV lines.
inline std::vector<std::string> decode_rows(const RowBinaryEncoder& enc, std::string_view d) {
  std::vector<std::string> rows;
  size_t p = 0;
  while (p < d.size()) {
    std::string row;
    for (size_t j = 0; j < enc.columns(); ++j) {
      render_field(enc.layout(j), d, p, row);
      row += '\t';
    }
    row += std::to_string(take<uint64_t>(d, p));
    row += '\t';
    row += std::to_string(take<uint8_t>(d, p));
    row += '\n';
    rows.push_back(row);
  }
  EXPECT_EQ(p, d.size());
  return rows;
}

// A lookup answer in RowBinary from TSV lines "state \t columns... \t version \t deleted".
inline std::string answer(RowBinaryEncoder& enc, std::string_view tsv) {
  std::string out;
  for (const std::vector<std::string>& fields : tsv_rows(tsv)) {  // NULL stays \N
    EXPECT_EQ(fields.size(), enc.columns() + 3) << fields[0];
    uint32_t state = static_cast<uint32_t>(std::stoul(fields[0]));
    out.append(reinterpret_cast<const char*>(&state), 4);
    for (size_t j = 0; j < enc.columns(); ++j) {
      if (fields[j + 1] == "\\N") {
        enc.encode_null(j, out);
      } else {
        enc.encode_value(j, fields[j + 1], out);
      }
    }
    RowBinaryEncoder::append_trailer(out, std::stoull(fields[enc.columns() + 1]), fields[enc.columns() + 2] == "1");
    if (fields[enc.columns() + 2] != "0" && fields[enc.columns() + 2] != "1") out.back() = 2;  // malformed on purpose
  }
  return out;
}

}  // namespace ferry::test

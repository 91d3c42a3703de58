// RowBinary fields as ClickHouse writes them: their lengths (RowBinaryEncoder::field_end)
// and the default field of a column.
#include <cstring>

#include "connectors/clickhouse/rowbinary_encoder.h"

namespace ferry::clickhouse {

using Wire = RowBinaryEncoder::Wire;
using Layout = RowBinaryEncoder::Layout;

namespace {

size_t fixed_width(Wire w) {
  switch (w) {
    case Wire::Int8:
    case Wire::UInt8:
      return 1;
    case Wire::Int16:
    case Wire::UInt16:
    case Wire::Date:
      return 2;
    case Wire::Int32:
    case Wire::UInt32:
    case Wire::Float32:
    case Wire::Decimal32:
    case Wire::Date32:
      return 4;
    case Wire::Int64:
    case Wire::UInt64:
    case Wire::Float64:
    case Wire::Decimal64:
    case Wire::DateTime64:
      return 8;
    case Wire::Decimal128:
    case Wire::Uuid:
      return 16;
    case Wire::String:
      return 0;
  }
  return 0;
}

// LEB128 at data[pos]; npos when cut off (or longer than 10 bytes).
size_t read_varint(std::string_view data, size_t pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos >= data.size()) return std::string_view::npos;
    const auto b = static_cast<unsigned char>(data[pos++]);
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return pos;
  }
  return std::string_view::npos;
}

// One value (no Nullable flag) of wire `w` at data[pos].
size_t value_end(Wire w, std::string_view data, size_t pos) {
  if (w != Wire::String) {
    const size_t end = pos + fixed_width(w);
    return end <= data.size() ? end : std::string_view::npos;
  }
  uint64_t len = 0;
  pos = read_varint(data, pos, len);
  if (pos == std::string_view::npos || len > data.size() - pos) return std::string_view::npos;
  return pos + static_cast<size_t>(len);
}

// A value preceded by its Nullable flag when `nullable`.
size_t element_end(const Layout& l, std::string_view data, size_t pos) {
  if (l.nullable) {
    if (pos >= data.size()) return std::string_view::npos;
    if (data[pos++] != 0) return pos;  // NULL: the flag only
  }
  return value_end(l.wire, data, pos);
}

}  // namespace

size_t RowBinaryEncoder::field_end(const Layout& l, std::string_view data, size_t pos) {
  if (!l.array) return element_end(l, data, pos);
  uint64_t count = 0;
  pos = read_varint(data, pos, count);
  for (uint64_t k = 0; k < count && pos != std::string_view::npos; ++k) pos = element_end(l, data, pos);
  return pos;
}

void RowBinaryEncoder::append_default(size_t i, std::string& out) const {
  const Layout& l = layouts_[i];
  if (l.array) {
    out.push_back(0);  // []
  } else if (l.nullable) {
    out.push_back(1);  // NULL
  } else if (l.wire == Wire::String) {
    out.push_back(0);  // ''
  } else {
    out.append(fixed_width(l.wire), '\0');
  }
}

}  // namespace ferry::clickhouse

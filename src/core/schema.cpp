#include "core/schema.h"

#include <algorithm>

namespace ferry {

const char* to_string(LogicalType t) {
  switch (t) {
    case LogicalType::Int8: return "int8";
    case LogicalType::Int16: return "int16";
    case LogicalType::Int32: return "int32";
    case LogicalType::Int64: return "int64";
    case LogicalType::UInt8: return "uint8";
    case LogicalType::UInt16: return "uint16";
    case LogicalType::UInt32: return "uint32";
    case LogicalType::UInt64: return "uint64";
    case LogicalType::Float32: return "float32";
    case LogicalType::Float64: return "float64";
    case LogicalType::Decimal: return "decimal";
    case LogicalType::NumericText: return "numeric";
    case LogicalType::Bool: return "bool";
    case LogicalType::String: return "string";
    case LogicalType::Bytes: return "bytes";
    case LogicalType::Date: return "date";
    case LogicalType::Time: return "time";
    case LogicalType::Timestamp: return "timestamp";
    case LogicalType::TimestampTz: return "timestamptz";
    case LogicalType::Interval: return "interval";
    case LogicalType::Uuid: return "uuid";
    case LogicalType::Json: return "json";
    case LogicalType::Enum: return "enum";
    case LogicalType::Inet: return "inet";
    case LogicalType::Set: return "set";
    case LogicalType::Bit: return "bit";
    case LogicalType::Year: return "year";
    case LogicalType::Geometry: return "geometry";
    case LogicalType::Array: return "array";
    case LogicalType::Unsupported: return "unsupported";
  }
  return "?";
}

std::vector<std::string> TableSchema::key_columns() const {
  std::vector<const Column*> keys;
  for (const auto& c : columns)
    if (c.key_position > 0) keys.push_back(&c);
  std::sort(keys.begin(), keys.end(), [](auto a, auto b) { return a->key_position < b->key_position; });
  std::vector<std::string> out;
  for (auto* c : keys) out.push_back(c->name);
  return out;
}

const Column* TableSchema::find(const std::string& column) const {
  for (const auto& c : columns)
    if (c.name == column) return &c;
  return nullptr;
}

}  // namespace ferry

namespace ferry {

const char* to_string(OnUnrepresentable p) {
  switch (p) {
    case OnUnrepresentable::Fail: return "fail";
    case OnUnrepresentable::Text: return "text";
    case OnUnrepresentable::Null: return "null";
    case OnUnrepresentable::Clamp: return "clamp";
  }
  return "fail";
}

std::optional<OnUnrepresentable> on_unrepresentable_from_string(std::string_view s) {
  for (auto p : {OnUnrepresentable::Fail, OnUnrepresentable::Text, OnUnrepresentable::Null, OnUnrepresentable::Clamp})
    if (s == to_string(p)) return p;
  return std::nullopt;
}

}  // namespace ferry

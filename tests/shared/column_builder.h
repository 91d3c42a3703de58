// Columns of hand-made TableSchemas in tests (unit and integration).
#pragma once
#include <string>
#include <utility>

#include "core/schema.h"

namespace ferry::test {

// `key`: 1-based position in the primary key, 0 for none.
inline Column col(std::string name, LogicalType type, bool nullable = true, int key = 0, std::string source_type = "") {
  Column c;
  c.name = std::move(name);
  c.type = type;
  c.nullable = nullable;
  c.key_position = key;
  c.source_type = std::move(source_type);
  return c;
}

// Decimal(precision, scale).
inline Column decimal_col(std::string name, int precision, int scale, bool nullable = true) {
  Column c = col(std::move(name), LogicalType::Decimal, nullable);
  c.precision = precision;
  c.scale = scale;
  return c;
}

// NOT NULL one-dimensional array (nullable arrays are text in ClickHouse) of `element`, with
// the element's precision and scale.
inline Column array_col(std::string name, LogicalType element, int precision = -1, int scale = 0) {
  Column c = col(std::move(name), LogicalType::Array, false);
  c.element = element;
  c.precision = precision;
  c.scale = scale;
  return c;
}

}  // namespace ferry::test

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

}  // namespace ferry::test

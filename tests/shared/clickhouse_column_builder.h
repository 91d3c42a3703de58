// Columns of hand-made ClickHouse TablePlans in tests (unit and integration).
#pragma once
#include <string>
#include <utility>

#include "connectors/clickhouse/type_map.h"

namespace ferry::test {

inline clickhouse::ClickHouseColumn ch_column(std::string name, std::string type, clickhouse::Codec codec,
                                              bool nullable, clickhouse::Codec element = clickhouse::Codec::Text) {
  clickhouse::ClickHouseColumn c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.codec = codec;
  c.element = element;
  c.nullable = nullable;
  c.source_type = "test";
  return c;
}

}  // namespace ferry::test

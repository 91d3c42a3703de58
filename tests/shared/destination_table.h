// DestinationTables of hand-made tables in tests (unit and integration).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "connectors/api/destination.h"

namespace ferry::test {

// Table `name` with the user's `order_by`; no column_types, the default policy.
inline DestinationTable dest_table(std::string name, std::vector<std::string> order_by = {}) {
  DestinationTable d;
  d.name = std::move(name);
  d.order_by = std::move(order_by);
  return d;
}

}  // namespace ferry::test

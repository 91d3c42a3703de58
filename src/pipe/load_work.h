// One partition of an initial load, as the runner's load workers take it
// (runner internals, shared by the snapshot and resync phases).
#pragma once
#include <string>

#include "catalog/catalog.h"
#include "connectors/api/destination.h"
#include "core/schema.h"
#include "pipe/runner.h"

namespace ferry {

struct PipeRunner::LoadWork {
  const TableSchema* schema = nullptr;  // projected source table (outlives the load)
  DestinationTable dest;
  std::string table;  // source table as configured
  PartitionRecord part;
  uint64_t version = 0;  // row version: the consistent point's position (incremental pipes: 0)
};

}  // namespace ferry

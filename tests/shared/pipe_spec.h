// PipeSpecs of hand-made pipes in tests (unit and integration).
#pragma once
#include <string>
#include <vector>

#include "core/spec.h"

namespace ferry::test {

// A table of a pipe: `source` (and `destination`), everything else defaulted.
inline TableMapping table_mapping(const std::string& source, const std::string& destination = "") {
  TableMapping m;
  m.source = source;
  m.destination = destination;
  return m;
}

// A pipe `name` from peer "src" to peer "dst" moving `tables` (source names, each with the
// default mapping), with default settings.
inline PipeSpec pipe_spec(const std::string& name, PipeMode mode, const std::vector<std::string>& tables) {
  PipeSpec p;
  p.name = name;
  p.source = "src";
  p.destination = "dst";
  p.mode = mode;
  for (const auto& t : tables) p.tables.push_back(table_mapping(t));
  return p;
}

}  // namespace ferry::test

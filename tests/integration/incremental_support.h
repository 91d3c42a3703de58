// Helpers for tests of incremental pipes (any source into ClickHouse).
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/spec.h"
#include "support.h"

namespace ferry::test {

// A table of an incremental pipe copied by `cursor` (from `initial_value`, if given).
TableMapping mapping(const std::string& source, const std::string& cursor,
                     std::optional<std::string> initial_value = std::nullopt);

// Pipe "inc" from "src" to "dst" in mode incremental: `delay` behind the source, an hourly
// schedule (tests run it with run_once), no retries.
PipeSpec incremental_pipe(const std::vector<TableMapping>& tables,
                          std::chrono::milliseconds delay = std::chrono::milliseconds(1000));

// One run (`ferry run --once`): returns the state run() left the pipe in.
PipeState run_once(Catalog& catalog, const PipeSpec& pipe, const PeerSpec& source, const PeerSpec& destination);

// Live rows of the sandbox's ClickHouse `table` (FINAL, not soft-deleted), ordered by `order`.
std::vector<std::vector<std::string>> ch_live(Sandbox& sb, const std::string& table, const std::string& columns,
                                              const std::string& order = "id");

}  // namespace ferry::test

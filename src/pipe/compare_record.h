// The last comparison of each table of a pipe (pipe/compare.h), kept in the catalog's
// per-pipe meta under "compare:<table as configured>" as a small JSON object, so
// `ferry pipe tables`, the API's table list and /metrics can show it without a schema change.
// Written by the server's POST /api/v1/pipes/{name}/compare and by `ferry compare --catalog`.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "pipe/compare.h"

namespace ferry {

class Catalog;

struct CompareRecord {
  int64_t at_ms = 0;            // when the comparison finished
  std::string level;            // objects | count | content
  std::string outcome;          // equal | different | still changing | missing
  int64_t source_rows = -1, destination_rows = -1;  // -1: not counted
  int64_t differing_buckets = 0, still_changing_buckets = 0;
  int64_t differences = 0;      // differing keys found (up to the key limit)
  double seconds = 0;
};

// The catalog key of `table` (as configured).
std::string compare_meta_key(const std::string& table);

// Stores each comparison as its table's last one (one put_meta per table). A pipe the
// catalog does not have (deleted meanwhile) is skipped, not an error.
void record_comparisons(Catalog& catalog, const std::string& pipe, CompareLevel level,
                        const std::vector<TableComparison>& tables, int64_t now_ms);
// The table's last comparison; nullopt when there was none (or the stored text is not one).
std::optional<CompareRecord> last_comparison(Catalog& catalog, const std::string& pipe, const std::string& table);

// {"at","level","outcome","source_rows","destination_rows","differing_buckets",
//  "still_changing_buckets","differences","seconds"} (rows null when not counted).
nlohmann::json to_json(const CompareRecord& r);

}  // namespace ferry

// `ferry compare`: proves that a pipe's destination tables equal its source tables, at
// three levels, with the hashing done inside each database (connectors/api/table_digest.h):
//   objects  the table exists at both ends and the destination has every moved column
//   count    live row counts (ClickHouse: FINAL, not soft-deleted)
//   content  per-bucket row digests over the canonical renderings; buckets that differ are
//            narrowed down to the keys that differ (missing at the destination, extra there,
//            or changed), listed up to a limit. Memory is bounded by the bucket count and
//            one bucket's keys.
// On a live pipe the source moves while it is read, and neither end can be read at the
// checkpoint's position, so differing buckets are digested again (`rounds`, `settle` apart):
// a bucket that agrees in a later round is equal; one whose digests still moved between
// the last two rounds is "still changing" (reported apart, not a difference); the rest differ.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "connectors/api/table_digest.h"

namespace ferry {

enum class CompareLevel { Objects, Count, Content };
// "objects" | "count" | "content"; Config error naming the value otherwise.
CompareLevel parse_compare_level(const std::string& text);

struct CompareOptions {
  CompareLevel level = CompareLevel::Content;
  size_t key_limit = 20;          // differing keys listed per table
  int rounds = 1;                 // digests of differing buckets (3 for a streaming pipe)
  std::chrono::milliseconds settle{2000};
  int64_t rows_per_bucket = 1000;
  size_t bucket_key_limit = 100000;  // keys read per bucket and end when narrowing down
};

struct KeyDifference {
  std::string kind;  // "missing" (not at the destination), "extra" (only there), "changed"
  std::string key;   // "id=5" or "a=1, b=x"
  bool operator==(const KeyDifference&) const = default;
};

struct TableComparison {
  std::string table;  // the pipe's table as configured (TableStatus::source: the catalog's key)
  std::string source_table;
  std::string destination_table;
  std::string outcome = "equal";        // equal | different | still changing | missing
  std::vector<std::string> problems;    // objects level
  std::vector<std::string> not_compared;  // columns or checks left out, with the reason
  int64_t source_rows = -1, destination_rows = -1;  // -1: not counted
  uint64_t buckets = 0;
  size_t differing_buckets = 0;
  size_t still_changing_buckets = 0;
  std::vector<KeyDifference> differences;
  bool differences_truncated = false;
  double seconds = 0;
};

// Compares one table; `source` (projected) names its columns and key.
TableComparison compare_table(const TableSchema& source, const std::string& destination_table,
                              TableDigester& source_digester, TableDigester& destination_digester,
                              const CompareOptions& options);

struct PipeSpec;
struct PeerSpec;
// Compares every table of `pipe`, or only the one whose source or destination name is
// `table` (Config error when none is). Connectors are made from the peers; a source or
// destination type that cannot be compared is a Config error naming it.
std::vector<TableComparison> compare_pipe(const PipeSpec& pipe, const PeerSpec& source, const PeerSpec& destination,
                                          const CompareOptions& options, const std::string& table = "");
// The options a pipe's comparison takes by default: 3 rounds, 2 sync intervals apart (at
// least 2 s), while it streams; 1 round otherwise.
CompareOptions compare_options_for(const PipeSpec& pipe, CompareLevel level);

// --- pure steps, for tests ---
// The buckets whose digests differ (present at one end only, or unequal), in order.
std::vector<uint64_t> differing_buckets(const std::vector<BucketDigest>& source,
                                        const std::vector<BucketDigest>& destination);
// The keys that differ between the two ends' rows of one bucket, in key text order.
std::vector<KeyDifference> key_differences(const std::vector<std::string>& key_names,
                                           const std::vector<KeyDigest>& source,
                                           const std::vector<KeyDigest>& destination);

nlohmann::json to_json(const TableComparison& c);
std::string to_text(const TableComparison& c);
// The document `ferry compare --output json` prints and POST /api/v1/pipes/{name}/compare
// answers: {"pipe","level","equal","tables":[to_json...]}.
nlohmann::json comparison_json(const std::string& pipe, CompareLevel level, const std::vector<TableComparison>& tables);
const char* to_string(CompareLevel level);

}  // namespace ferry

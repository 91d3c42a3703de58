// The JSON documents of the REST API (DESIGN.md section 7), built from the
// catalog. `ferry pipe ... --catalog PATH` prints the same documents, so a
// reader of the catalog file and a client of the server see one format.
//
// No document ever carries a secret: peers are stored without passwords, and
// peers_json drops any password field that might still be present.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "pipe/lifecycle.h"
#include "server/pipe_manager.h"

namespace ferry {

// Streaming lag as last recorded by the runner (catalog meta keys "lag_bytes"
// and "last_commit_time_ms"); absent until the pipe streamed.
struct PipeLag {
  std::optional<int64_t> bytes;
  std::optional<int64_t> last_commit_ms;
  std::optional<double> seconds;  // now - last_commit_ms
};
PipeLag pipe_lag(Catalog& catalog, const std::string& pipe);

// {"name","state","mode","source","destination","settings","error","retry_count","checkpoint",
//  "lag_bytes","last_commit_at","lag_seconds","updated_at","tables":[...],"actions":{...}}
// plus "incremental" (incremental_status_json) for pipes that ran incrementally.
nlohmann::json pipe_status_json(Catalog& catalog, const PipeRecord& rec);
// [{"source","destination","state","rows_loaded","partitions_total",
//   "partitions_done","avg_partition_ms","load_started_at","load_finished_at","unrepresentable",
//   "last_compare" (pipe/compare_record.h to_json, null before the first comparison)}]
nlohmann::json pipe_tables_json(Catalog& catalog, const std::string& pipe);
// {"pause": {"allowed": bool, "reason": why not or null}, ...} for every API action in
// `state` (the lifecycle's own refusal messages), so a client can disable what is refused.
nlohmann::json pipe_actions_json(PipeState state, std::optional<PipeMode> mode);
// [{"at","from","to","reason"}]
nlohmann::json pipe_history_json(Catalog& catalog, const std::string& pipe);
// [{"name","type",...connection fields without secrets}]
nlohmann::json peers_json(Catalog& catalog);

// The actions the API accepts as POST /api/v1/pipes/{name}/{action}.
inline constexpr const char* kApiActions[] = {"pause", "resume", "resync", "reset", "delete"};

struct ApiError {
  int status = 400;
  std::string message;
};

// Validates the action name and the optional JSON body
// {"table": string, "clear_destination": bool, "confirm": bool, "drop_destination": bool}.
// Errors name the cause: the valid actions, the parser's message, or the field
// and its expected type.
std::variant<ActionRequest, ApiError> parse_action_request(const std::string& action, const std::string& body);

// The optional JSON body of POST /api/v1/pipes/{name}/compare:
// {"table": string, "level": "objects"|"count"|"content", "limit": 1..kMaxCompareLimit}.
std::variant<CompareRequest, ApiError> parse_compare_request(const std::string& body);
inline constexpr int64_t kMaxCompareLimit = 10000;

nlohmann::json action_result_json(const ActionResult& r);  // {"message","state"}
nlohmann::json apply_result_json(const ApplyResult& r);    // {"created","updated","removed","unchanged"}
nlohmann::json error_json(const std::string& message);     // {"error": message}

}  // namespace ferry

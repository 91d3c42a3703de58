// Periodic incremental copy (DESIGN.md section 5): the helpers around the
// runner's incremental phase (src/pipe/incremental_phase.cpp) that other code
// needs: the cursor type rule (Setup refuses a bad cursor) and the status
// document (`ferry pipe status`, REST API).
//
// Catalog layout of an incremental pipe:
//  - checkpoint(pipe, <source table>) = the table's last copied cursor value
//    (committed only after the destination accepted the rows up to it);
//  - meta "incremental_run" = the number of the last run started, which is also
//    the row version the destination writes (monotonic per pipe);
//  - meta "incremental_status" = JSON the runner keeps up to date for status.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/schema.h"

namespace ferry {

class Catalog;
struct TableMapping;

inline constexpr const char* kIncrementalRunMeta = "incremental_run";
inline constexpr const char* kIncrementalStatusMeta = "incremental_status";

// Why `column` cannot be a cursor, or "" when it can. Allowed: numeric
// (integers, numeric/decimal, floats), character (text, varchar, char; ClickHouse
// String/FixedString) and temporal (date, timestamp, timestamptz; ClickHouse Date,
// DateTime). Everything else (uuid, bool, json, bytea, arrays, enums, time of day,
// intervals, ...) has no order that grows with inserts and updates.
std::string cursor_type_problem(const Column& column);

// Throws Permanent naming table, column and type when the mapping's cursor
// column is missing from `table` or cannot be a cursor.
void check_cursor_column(const TableSchema& table, const TableMapping& mapping);

// Before a load of an incremental pipe's table (Setup, resync): the cursor column
// (check_cursor_column), and order_by limited to key columns. Throws Permanent.
void check_incremental_table(const TableSchema& table, const TableMapping& mapping);

// The incremental part of a pipe's status, or null when the pipe never ran
// incrementally:
// {"run": N, "phase": "waiting"|"copying"|"idle", "next_run_at": time|null,
//  "last_run": {"run","started_at","finished_at","rows","result"} | null,
//  "tables": [{"source","cursor_column","cursor","upper","rows_last_run","rows_total",
//              "null_cursor_rows","cursor_went_backwards","warnings":[...]}]}
// "cursor" is the stored (committed) cursor of the table.
nlohmann::json incremental_status_json(Catalog& catalog, const std::string& pipe);

}  // namespace ferry

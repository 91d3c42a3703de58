// SQL of the PostgreSQL destination's set-based apply (pure: unit-tested in
// tests/unit/pg_apply_sql_test.cpp). One batch segment of one table (apply_plan.h) is:
//   COPY staging FROM STDIN     rows: op ('U'/'D'), unchanged flags, the batch columns
//                               (typed like the target, nullable), the fill key
//   fill_sql                    Unchanged cells take the stored row's values (TOAST)
//   delete_sql                  DELETE ... USING staging: deletes and old keys
//   upsert_sql                  INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE
// Staging columns are typed like the target's, so COPY reads values with the target
// type's input function exactly like a snapshot load (no text casts that truncate).
#pragma once
#include "connectors/api/copy_stream.h"
#include <cstdint>
#include <string>
#include <vector>

namespace ferry::postgres {

struct PgApplyTable {
  std::string target;                // quoted, schema-qualified
  std::string staging;               // temp table name (plain identifier)
  std::vector<std::string> columns;  // batch columns (unquoted names)
  std::vector<std::string> types;    // the target's type of each (format_type)
  std::vector<uint32_t> key;         // indexes into columns; empty: keyless (append only)
  bool soft_delete = false;          // the target has _ferry_is_deleted: deletes set it, upserts clear it
};

// Staging column names besides the batch's own columns.
inline constexpr const char* kOpColumn = "ferry_op";
inline constexpr const char* kUnchangedColumn = "ferry_unchanged";  // '' or one '0'/'1' per column
std::string fill_key_column(size_t i);                               // "ferry_fill_key<i>"

std::string staging_ddl(const PgApplyTable& t);  // CREATE TEMP TABLE ... ON COMMIT DELETE ROWS
std::string copy_staging_sql(const PgApplyTable& t);
std::string fill_sql(const PgApplyTable& t);    // "" when every column is a key column
std::string delete_sql(const PgApplyTable& t);
std::string upsert_sql(const PgApplyTable& t);  // keyless: a plain INSERT ... SELECT
// Rows whose Unchanged cells found no stored row (skipped; logged).
std::string unresolved_sql(const PgApplyTable& t);

// Snapshot partition: `load` is a temp table LIKE the target holding the COPYed rows.
// `soft_delete`: rows loaded again are live again.
std::string snapshot_upsert_sql(const std::string& target, const std::string& load,
                                const std::vector<std::string>& columns, const std::vector<std::string>& key,
                                bool soft_delete = false);

}  // namespace ferry::postgres

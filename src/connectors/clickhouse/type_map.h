// Logical type -> ClickHouse column type, and the DDL/DML text built from it (pure).
//
// One TablePlan decides, per column, both the ClickHouse type (for CREATE TABLE) and
// how the TSV encoder converts the source's text rendering into it, so the two can
// never disagree.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/clickhouse/capabilities.h"
#include "connectors/api/destination.h"
#include "core/schema.h"

namespace ferry::clickhouse {

// How a value in PostgreSQL COPY text becomes ClickHouse TabSeparated text.
enum class Codec : uint8_t {
  Verbatim,       // integers: text renderings agree
  Text,           // String: COPY escapes normalised to ones ClickHouse reads
  Float,          // Infinity/-Infinity/NaN -> inf/-inf/nan
  Decimal,        // digits only; NaN/Infinity are refused
  Bool,           // t/f -> 1/0
  Bytes,          // bytea "\x0a0b" -> the raw bytes, TSV-escaped
  Uuid,           // verbatim (quoted inside arrays)
  Date,           // YYYY-MM-DD, range-checked
  DateTime64,     // timestamp -> "YYYY-MM-DD hh:mm:ss.ffffff", range-checked
  DateTime64Utc,  // timestamptz -> same, converted to UTC, offset removed
  Array,          // PG array literal -> ClickHouse array literal, elements per `element`
                  // (NOT NULL array columns only; nullable ones stay text)
};

struct ClickHouseColumn {
  std::string name;  // same as the source column
  std::string type;  // full ClickHouse type as written in DDL, e.g. "Nullable(Decimal(10, 2))"
  Codec codec = Codec::Text;
  Codec element = Codec::Text;  // Array only
  bool nullable = false;        // the ClickHouse column is Nullable(T)
  int32_t min_day = 0;          // Date / DateTime64 (or their array elements): accepted range,
  int32_t max_day = 0;          //   days since 1970-01-01, inclusive
  std::string source_type;      // for messages
  // A value outside [min_day, max_day] (or a decimal NaN/Infinity): fail, NULL or clamp
  // (Text never reaches the encoders: plan_table made such columns String).
  OnUnrepresentable on_unrepresentable = OnUnrepresentable::Fail;
};

struct TablePlan {
  std::string source;    // source display name, for messages ("public.orders")
  std::string database;  // ClickHouse database
  std::string table;     // ClickHouse table
  std::vector<ClickHouseColumn> columns;
  std::vector<std::string> order_by;  // empty: ORDER BY tuple()
  bool keyed = false;                 // ReplacingMergeTree (has key columns) vs MergeTree
  bool nullable_sort_key = false;     // needs SETTINGS allow_nullable_key = 1
  std::vector<std::string> not_null_sort;  // nullable order_by columns sorted as assumeNotNull(c) (< 20.7)
};

inline constexpr std::string_view kVersionColumn = "_ferry_version";
inline constexpr std::string_view kIsDeletedColumn = "_ferry_is_deleted";
inline constexpr std::string_view kSyncedAtColumn = "_ferry_synced_at";

// Whether the column's type holds less than the source type: dates and timestamps (a
// range), decimals (no NaN/Infinity), and arrays of them.
bool narrower_than_source(const ClickHouseColumn& c);

// Maps one column. Throws Permanent "table T: column C has type X that ferry cannot map
// to ClickHouse" for Unsupported.
ClickHouseColumn map_column(const Column& column, bool force_not_null, const Capabilities& caps,
                            std::string_view table_display);

// Maps the whole table; ORDER BY = table.order_by then missing key columns (nullable
// ones: allow_nullable_key from 20.7, else assumeNotNull(c)). `table.column_types`
// replace the mapped types; under OnUnrepresentable::Text the columns narrower than
// the source (dates, timestamps, decimals) become String, under Null they become
// Nullable. Throws Config for an unknown order_by or column_types column and for a
// column type ferry cannot write or the server lacks; Permanent for unmappable types
// and for columns named like ferry's own _ferry_* columns.
TablePlan plan_table(const TableSchema& source, const DestinationTable& table, std::string_view database,
                     const Capabilities& caps);

// `db`.`table`
std::string qualified_name(std::string_view database, std::string_view table);
std::string create_database_sql(std::string_view database);
// CREATE TABLE IF NOT EXISTS ... ENGINE = ReplacingMergeTree(_ferry_version[, _ferry_is_deleted]) ...
// `is_deleted_arg`: pass _ferry_is_deleted to the engine (only used when the server has it).
std::string create_table_sql(const TablePlan& plan, const Capabilities& caps, bool is_deleted_arg = false);

// "Nullable(T)" -> true; the type inside Nullable(), or `type` itself.
bool is_nullable_type(std::string_view type);
std::string_view strip_nullable(std::string_view type);

// The column ferry would write for an existing ClickHouse column of `type`, when the
// source's type is not known (only the ClickHouse type): the codec is derived from the
// ClickHouse type, so a String is taken as text (a bytea source column would need
// Codec::Bytes) and DateTime64 as timestamptz (values with an offset). Throws Permanent
// for types ferry never creates.
ClickHouseColumn column_from_clickhouse_type(std::string_view name, std::string_view type, const Capabilities& caps);

// ALTER TABLE `db`.`t` ADD COLUMN `c` Nullable(T) [AFTER `after`]: a column the source
// gained. Always Nullable (rows already in the table have no value for it), except arrays,
// which cannot be Nullable in ClickHouse and default to [].
std::string add_column_sql(std::string_view database, std::string_view table, const ClickHouseColumn& column,
                           std::string_view after = {});

}  // namespace ferry::clickhouse

// Periodic incremental copy, pure parts: cursor type rules, type maps of the
// ClickHouse and SQLite sources, range queries, and the status document.
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "connectors/clickhouse/clickhouse_source.h"
#include "connectors/postgres/pg_source.h"
#include "connectors/postgres/pg_types.h"
#include "connectors/sqlite/sqlite_source.h"
#include "core/error.h"
#include "pipe/incremental.h"
#include "core/spec.h"

using namespace ferry;

namespace {

Column col(LogicalType type, const std::string& source_type, const std::string& name = "c") {
  Column c;
  c.name = name;
  c.type = type;
  c.source_type = source_type;
  return c;
}

Column pg_col(const std::string& type_text, char typtype = 'b') {
  Column c;
  c.name = "c";
  PgTypeInfo info;
  info.type_text = type_text;
  info.typtype = typtype;
  map_pg_type(info, c);
  return c;
}

Column ch_col(const std::string& type, const std::string& name = "c") {
  Column c;
  c.name = name;
  clickhouse::map_clickhouse_type(type, c);
  return c;
}

Column lite_col(const std::string& declared) {
  Column c;
  c.name = "c";
  sqlite::map_sqlite_type(declared, c);
  return c;
}

}  // namespace

TEST(IncrementalCursor, PostgresTypesAllowedAndRefused) {
  for (const char* ok : {"smallint", "integer", "bigint", "numeric(10,2)", "numeric", "real", "double precision", "text",
                         "character varying(20)", "character(3)", "citext", "date", "timestamp without time zone",
                         "timestamp(3) with time zone"})
    EXPECT_EQ(cursor_type_problem(pg_col(ok)), "") << ok;
  for (const char* bad : {"uuid", "boolean", "json", "jsonb", "bytea", "time without time zone", "interval", "inet",
                          "money", "xml", "point", "tsvector", "name", "\"char\""})
    EXPECT_NE(cursor_type_problem(pg_col(bad)), "") << bad;
  EXPECT_NE(cursor_type_problem(pg_col("mood", 'e')), "");  // enums
  EXPECT_NE(cursor_type_problem(pg_col("int4range", 'r')), "");
  Column arr;
  PgTypeInfo info;
  info.type_text = "integer[]";
  info.element_text = "integer";
  map_pg_type(info, arr);
  EXPECT_NE(cursor_type_problem(arr), "");
  EXPECT_EQ(cursor_type_problem(pg_col("uuid")), "UUIDs have no order that grows with inserts and updates");
}

TEST(IncrementalCursor, ClickHouseAndSqliteTypesAllowedAndRefused) {
  for (const char* ok : {"UInt64", "Int32", "Nullable(Int64)", "Float64", "Decimal(10, 2)", "String",
                         "LowCardinality(String)", "Nullable(FixedString(8))", "Date", "DateTime", "DateTime('UTC')",
                         "DateTime64(3, 'UTC')"})
    EXPECT_EQ(cursor_type_problem(ch_col(ok)), "") << ok;
  for (const char* bad : {"UUID", "Enum8('a' = 1)", "Array(Int32)", "IPv4", "Tuple(Int8, String)"})
    EXPECT_NE(cursor_type_problem(ch_col(bad)), "") << bad;
  for (const char* ok : {"INTEGER", "BIGINT", "REAL", "DOUBLE", "NUMERIC", "DECIMAL(10,2)", "TEXT", "VARCHAR(20)",
                         "DATE", "DATETIME", "TIMESTAMP"})
    EXPECT_EQ(cursor_type_problem(lite_col(ok)), "") << ok;
  for (const char* bad : {"BLOB", "BOOLEAN", "UUID", "JSON"}) EXPECT_NE(cursor_type_problem(lite_col(bad)), "") << bad;
  // No declared type: any value, compared by storage class; refused as not a character type.
  EXPECT_NE(cursor_type_problem(lite_col("")), "");
}

TEST(IncrementalCursor, CheckNamesTableColumnAndType) {
  TableSchema t;
  t.schema = "public";
  t.name = "orders";
  t.columns = {col(LogicalType::Uuid, "uuid", "id"), col(LogicalType::Int64, "bigint", "seq")};
  t.columns[0].key_position = 1;
  TableMapping m;
  m.source = "public.orders";
  m.cursor = "id";
  try {
    check_cursor_column(t, m);
    FAIL() << "uuid accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_NE(std::string(e.what()).find("table public.orders: cursor column \"id\" has type uuid, which cannot be a "
                                         "cursor"),
              std::string::npos)
        << e.what();
  }
  m.cursor = "missing";
  EXPECT_THROW(check_cursor_column(t, m), Error);
  m.cursor = "seq";
  EXPECT_NO_THROW(check_cursor_column(t, m));
}

TEST(IncrementalSqliteTypes, AffinityRules) {
  EXPECT_EQ(lite_col("INTEGER").type, LogicalType::Int64);
  EXPECT_EQ(lite_col("unsigned big int").type, LogicalType::Int64);
  EXPECT_EQ(lite_col("BOOLEAN").type, LogicalType::Bool);
  EXPECT_EQ(lite_col("VARCHAR(255)").type, LogicalType::String);
  EXPECT_EQ(lite_col("CLOB").type, LogicalType::String);
  EXPECT_EQ(lite_col("").type, LogicalType::String);
  EXPECT_EQ(lite_col("").source_type, "(no type)");
  EXPECT_EQ(lite_col("BLOB").type, LogicalType::Bytes);
  EXPECT_EQ(lite_col("DOUBLE PRECISION").type, LogicalType::Float64);
  EXPECT_EQ(lite_col("FLOAT").type, LogicalType::Float64);
  EXPECT_EQ(lite_col("DATE").type, LogicalType::Date);
  EXPECT_EQ(lite_col("datetime").type, LogicalType::Timestamp);
  EXPECT_EQ(lite_col("TIMESTAMP").type, LogicalType::Timestamp);
  Column d = lite_col("DECIMAL(10, 2)");
  EXPECT_EQ(d.type, LogicalType::Decimal);
  EXPECT_EQ(d.precision, 10);
  EXPECT_EQ(d.scale, 2);
  EXPECT_EQ(lite_col("NUMERIC").type, LogicalType::NumericText);
  EXPECT_EQ(lite_col("MONEYISH").type, LogicalType::NumericText);
  EXPECT_EQ(lite_col("UUID").type, LogicalType::Uuid);
}

TEST(IncrementalSqliteTypes, CopyEscaping) {
  std::string out;
  sqlite::append_copy_escaped(out, "a\tb\nc\\d\re");
  EXPECT_EQ(out, "a\\tb\\nc\\\\d\\re");
}

TEST(IncrementalClickHouseTypes, Map) {
  EXPECT_EQ(ch_col("UInt8").type, LogicalType::Int16);
  EXPECT_EQ(ch_col("UInt16").type, LogicalType::Int32);
  EXPECT_EQ(ch_col("UInt32").type, LogicalType::Int64);
  EXPECT_EQ(ch_col("UInt64").type, LogicalType::Decimal);
  EXPECT_EQ(ch_col("UInt64").precision, 20);
  EXPECT_EQ(ch_col("UInt128").type, LogicalType::NumericText);
  EXPECT_EQ(ch_col("Int64").type, LogicalType::Int64);
  EXPECT_FALSE(ch_col("Int64").nullable);
  Column n = ch_col("Nullable(Int32)");
  EXPECT_EQ(n.type, LogicalType::Int32);
  EXPECT_TRUE(n.nullable);
  EXPECT_EQ(n.source_type, "Nullable(Int32)");
  Column d = ch_col("Decimal(12, 3)");
  EXPECT_EQ(d.type, LogicalType::Decimal);
  EXPECT_EQ(d.precision, 12);
  EXPECT_EQ(d.scale, 3);
  Column d64 = ch_col("Decimal64(4)");
  EXPECT_EQ(d64.precision, 18);
  EXPECT_EQ(d64.scale, 4);
  EXPECT_EQ(ch_col("LowCardinality(Nullable(String))").type, LogicalType::String);
  EXPECT_TRUE(ch_col("LowCardinality(Nullable(String))").nullable);
  EXPECT_EQ(ch_col("FixedString(16)").type, LogicalType::String);
  EXPECT_EQ(ch_col("Enum8('a' = 1, 'b' = 2)").type, LogicalType::String);
  EXPECT_EQ(ch_col("Date").type, LogicalType::Date);
  EXPECT_EQ(ch_col("DateTime").type, LogicalType::TimestampTz);
  EXPECT_EQ(ch_col("DateTime('Europe/Moscow')").type, LogicalType::TimestampTz);
  Column dt64 = ch_col("DateTime64(6, 'UTC')");
  EXPECT_EQ(dt64.type, LogicalType::TimestampTz);
  EXPECT_EQ(dt64.precision, 6);
  EXPECT_EQ(ch_col("UUID").type, LogicalType::Uuid);
  EXPECT_EQ(ch_col("Array(Int32)").type, LogicalType::Unsupported);
  EXPECT_EQ(ch_col("AggregateFunction(sum, UInt64)").type, LogicalType::Unsupported);
}

TEST(IncrementalClickHouseTypes, CursorLiterals) {
  EXPECT_EQ(clickhouse::cursor_literal(ch_col("UInt64"), "42"), "CAST('42' AS UInt64)");
  EXPECT_EQ(clickhouse::cursor_literal(ch_col("Nullable(Decimal(10, 2))"), "1.50"), "CAST('1.50' AS Decimal(10, 2))");
  EXPECT_EQ(clickhouse::cursor_literal(ch_col("String"), "it's"), "'it\\'s'");
  EXPECT_EQ(clickhouse::cursor_literal(ch_col("Date"), "2024-01-01"), "toDate('2024-01-01')");
  EXPECT_EQ(clickhouse::cursor_literal(ch_col("DateTime"), "2024-01-01 00:00:00"),
            "parseDateTimeBestEffort('2024-01-01 00:00:00', 'UTC')");
  EXPECT_EQ(clickhouse::cursor_literal(ch_col("DateTime64(3)"), "2024-01-01 00:00:00.5"),
            "toDateTime64('2024-01-01 00:00:00.5', 3, 'UTC')");
}

TEST(IncrementalRangeQueries, PostgresAndClickHouse) {
  TableSchema t;
  t.schema = "public";
  t.name = "My Table";
  t.columns = {col(LogicalType::Int64, "bigint", "id"), col(LogicalType::TimestampTz, "timestamp with time zone", "at")};
  EXPECT_EQ(PgSource::range_query(t, "at", std::nullopt, "2024-01-01 00:00:00+00"),
            "SELECT \"id\", \"at\" FROM \"public\".\"My Table\" WHERE \"at\" <= '2024-01-01 00:00:00+00'");
  EXPECT_EQ(PgSource::range_query(t, "at", "2023-12-31 00:00:00+00", "it's"),
            "SELECT \"id\", \"at\" FROM \"public\".\"My Table\" WHERE \"at\" > '2023-12-31 00:00:00+00' AND \"at\" <= "
            "'it''s'");

  TableSchema c;
  c.schema = "db";
  c.name = "events";
  c.columns = {ch_col("UInt64", "id"), ch_col("DateTime", "at")};
  EXPECT_EQ(clickhouse::ClickHouseSource::range_query(c, false, "id", "1", std::string("9")),
            "SELECT `id`, concat(toString(`at`, 'UTC'), '+00') FROM `db`.`events` WHERE `id` > CAST('1' AS UInt64) AND "
            "`id` <= CAST('9' AS UInt64) FORMAT TabSeparated");
  EXPECT_EQ(clickhouse::ClickHouseSource::range_query(c, true, "", std::nullopt, std::nullopt),
            "SELECT `id`, concat(toString(`at`, 'UTC'), '+00') FROM `db`.`events` FINAL SETTINGS "
            "optimize_move_to_prewhere = 0 FORMAT TabSeparated");
}

TEST(IncrementalStatus, DocumentFromTheCatalog) {
  std::string dir = std::filesystem::temp_directory_path() / ("ferry_incstatus_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto catalog = open_catalog(dir + "/c.db");
    catalog->create_pipe("p", "{}", "created");
    EXPECT_TRUE(incremental_status_json(*catalog, "p").is_null());  // never ran incrementally
    catalog->put_meta("p", kIncrementalStatusMeta, R"({
      "run": 3, "phase": "waiting", "delay_until_ms": 1700000001000, "next_run_at_ms": 1700000300000,
      "last_run": {"run": 2, "started_at_ms": 1700000000000, "finished_at_ms": 1700000000500, "rows": 7, "result": "ok"},
      "tables": {"public.t": {"cursor_column": "ts", "upper": "9", "rows_last_run": 7, "rows_total": 10,
                              "null_cursor_rows": 1, "cursor_went_backwards": false,
                              "warnings": ["1 row(s) have a NULL cursor \"ts\" and are not copied"]}}})");
    catalog->commit_checkpoint("p", "public.t", "8");
    nlohmann::json j = incremental_status_json(*catalog, "p");
    EXPECT_EQ(j["run"], 3);
    EXPECT_EQ(j["phase"], "waiting");
    EXPECT_EQ(j["copy_at"], "2023-11-14T22:13:21.000Z");
    EXPECT_EQ(j["next_run_at"], "2023-11-14T22:18:20.000Z");
    EXPECT_EQ(j["last_run"]["rows"], 7);
    EXPECT_EQ(j["last_run"]["finished_at"], "2023-11-14T22:13:20.500Z");
    ASSERT_EQ(j["tables"].size(), 1u);
    EXPECT_EQ(j["tables"][0]["source"], "public.t");
    EXPECT_EQ(j["tables"][0]["cursor"], "8");  // the committed cursor, not the run's bound
    EXPECT_EQ(j["tables"][0]["upper"], "9");
    EXPECT_EQ(j["tables"][0]["null_cursor_rows"], 1);
    EXPECT_EQ(j["tables"][0]["warnings"].size(), 1u);
  }
  std::filesystem::remove_all(dir);
}

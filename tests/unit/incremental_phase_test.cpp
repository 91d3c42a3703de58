// Periodic incremental copy, pure parts: cursor type rules of every source and the
// status document (type maps and range queries of the sources: <source>_test.cpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "connectors/clickhouse/clickhouse_source.h"  // map_clickhouse_type
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

#include <gtest/gtest.h>

#include "connectors/clickhouse/capabilities.h"
#include "connectors/clickhouse/type_map.h"
#include "core/error.h"
#include "../shared/destination_table.h"
#include "../shared/clickhouse_column_builder.h"
#include "../shared/column_builder.h"

using namespace ferry;
using namespace ferry::clickhouse;

using namespace ferry::test;

namespace {

// NOT NULL array column.
Column array(std::string name, LogicalType element, std::string source_type = "") {
  Column c = col(std::move(name), LogicalType::Array, false);
  c.element = element;
  c.source_type = std::move(source_type);
  return c;
}

const Capabilities v18 = Capabilities::from_version("18.16.1");
const Capabilities v21 = Capabilities::from_version("21.8.15.7");
const Capabilities v23 = Capabilities::from_version("23.8.2.7 (official build)");

std::string type_of(const Column& c, const Capabilities& caps, bool key = false) {
  return map_column(c, key, caps, "public.t").type;
}

}  // namespace

TEST(ClickHouseTypeMap, ScalarTypes) {
  EXPECT_EQ(type_of(col("a", LogicalType::Int16), v18), "Nullable(Int16)");
  EXPECT_EQ(type_of(col("a", LogicalType::Int32, false), v18), "Int32");
  EXPECT_EQ(type_of(col("a", LogicalType::Int64), v18, true), "Int64");  // key: never Nullable
  EXPECT_EQ(type_of(col("a", LogicalType::Float32, false), v18), "Float32");
  EXPECT_EQ(type_of(col("a", LogicalType::Float64, false), v18), "Float64");
  EXPECT_EQ(type_of(decimal_col("a", 10, 2), v18), "Nullable(Decimal(10, 2))");
  EXPECT_EQ(type_of(decimal_col("a", 38, 38), v18), "Nullable(Decimal(38, 38))");
  EXPECT_EQ(type_of(decimal_col("a", 39, 2), v18), "Nullable(String)");
  EXPECT_EQ(type_of(decimal_col("a", -1, 0), v18), "Nullable(String)");
  for (auto t : {LogicalType::NumericText, LogicalType::Time, LogicalType::Interval, LogicalType::Json,
                 LogicalType::Enum, LogicalType::Inet, LogicalType::String, LogicalType::Bytes})
    EXPECT_EQ(type_of(col("a", t, false), v23), "String") << to_string(t);
  EXPECT_EQ(type_of(col("a", LogicalType::Bool, false), v18), "UInt8");
  EXPECT_EQ(type_of(col("a", LogicalType::Bool, false), v23), "UInt8");
  EXPECT_EQ(type_of(col("a", LogicalType::Uuid), v18), "Nullable(UUID)");

  EXPECT_EQ(type_of(col("a", LogicalType::Date, false), v18), "Date");
  EXPECT_EQ(type_of(col("a", LogicalType::Date, false), v23), "Date32");
  EXPECT_EQ(type_of(col("a", LogicalType::Timestamp, false), v18), "String");
  EXPECT_EQ(type_of(col("a", LogicalType::Timestamp, false), v21), "DateTime64(6, 'UTC')");
  EXPECT_EQ(type_of(col("a", LogicalType::TimestampTz), v18), "Nullable(String)");
  EXPECT_EQ(type_of(col("a", LogicalType::TimestampTz), v23), "Nullable(DateTime64(6, 'UTC'))");
}

TEST(ClickHouseTypeMap, Codecs) {
  EXPECT_EQ(map_column(col("a", LogicalType::Int64), false, v18, "t").codec, Codec::Verbatim);
  EXPECT_EQ(map_column(col("a", LogicalType::Float32), false, v18, "t").codec, Codec::Float);
  EXPECT_EQ(map_column(decimal_col("a", 10, 2), false, v18, "t").codec, Codec::Decimal);
  EXPECT_EQ(map_column(decimal_col("a", 50, 2), false, v18, "t").codec, Codec::Text);
  EXPECT_EQ(map_column(col("a", LogicalType::Bytes), false, v18, "t").codec, Codec::Bytes);
  EXPECT_EQ(map_column(col("a", LogicalType::Bool), false, v18, "t").codec, Codec::Bool);
  EXPECT_EQ(map_column(col("a", LogicalType::Timestamp), false, v18, "t").codec, Codec::Text);
  EXPECT_EQ(map_column(col("a", LogicalType::Timestamp), false, v23, "t").codec, Codec::DateTime64);
  EXPECT_EQ(map_column(col("a", LogicalType::TimestampTz), false, v23, "t").codec, Codec::DateTime64Utc);
  auto d = map_column(col("a", LogicalType::Date), false, v18, "t");
  EXPECT_EQ(d.codec, Codec::Date);
  EXPECT_EQ(d.min_day, 0);
  EXPECT_EQ(d.max_day, days_from_civil(2105, 12, 31));
  auto d32 = map_column(col("a", LogicalType::Date), false, v23, "t");
  EXPECT_EQ(d32.min_day, days_from_civil(1900, 1, 1));
}

TEST(ClickHouseTypeMap, Arrays) {
  EXPECT_EQ(type_of(array("a", LogicalType::Int32), v18), "Array(Nullable(Int32))");
  EXPECT_EQ(type_of(array("a", LogicalType::Int64), v18, true), "Array(Nullable(Int64))");
  EXPECT_EQ(type_of(array("a", LogicalType::Float64), v18), "Array(Nullable(Float64))");
  Column dec = array("a", LogicalType::Decimal);
  dec.precision = 12;
  dec.scale = 3;
  EXPECT_EQ(type_of(dec, v18), "Array(Nullable(Decimal(12, 3)))");
  dec.precision = 60;
  EXPECT_EQ(type_of(dec, v18), "String");
  EXPECT_EQ(type_of(array("a", LogicalType::Bool), v18), "Array(Nullable(UInt8))");
  EXPECT_EQ(type_of(array("a", LogicalType::String, "text[]"), v18), "Array(Nullable(String))");
  EXPECT_EQ(type_of(array("a", LogicalType::Uuid), v18), "Array(Nullable(UUID))");
  EXPECT_EQ(type_of(array("a", LogicalType::Date), v18), "Array(Nullable(Date))");
  EXPECT_EQ(type_of(array("a", LogicalType::Date), v23), "Array(Nullable(Date32))");
  // Other elements keep the PostgreSQL array text.
  EXPECT_EQ(type_of(array("a", LogicalType::Timestamp), v23), "String");
  EXPECT_EQ(type_of(array("a", LogicalType::Json), v18), "String");
  EXPECT_EQ(type_of(array("a", LogicalType::NumericText), v18), "String");
  EXPECT_EQ(type_of(array("a", LogicalType::String, "box[]"), v18), "String");
  // No Nullable(Array) in ClickHouse: a nullable array column keeps the PostgreSQL text,
  // unless it is a key column (never NULL).
  Column nullable_ints = array("a", LogicalType::Int32);
  nullable_ints.nullable = true;
  EXPECT_EQ(type_of(nullable_ints, v23), "Nullable(String)");
  EXPECT_EQ(map_column(nullable_ints, false, v23, "t").codec, Codec::Text);
  EXPECT_EQ(type_of(nullable_ints, v23, true), "Array(Nullable(Int32))");
  EXPECT_EQ(map_column(array("a", LogicalType::Json), false, v18, "t").codec, Codec::Text);
  auto a = map_column(array("a", LogicalType::Float32), false, v18, "t");
  EXPECT_EQ(a.codec, Codec::Array);
  EXPECT_EQ(a.element, Codec::Float);
  EXPECT_FALSE(a.nullable);
}

TEST(ClickHouseTypeMap, UnsupportedNamesTableColumnAndType) {
  Column c = col("geom", LogicalType::Unsupported);
  c.source_type = "geometry";
  try {
    map_column(c, false, v18, "public.shapes");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_STREQ(e.what(), "table public.shapes: column geom has type geometry that ferry cannot map to ClickHouse");
  }
  Column arr = array("xs", LogicalType::Unsupported, "mytype[]");
  EXPECT_THROW(map_column(arr, false, v18, "t"), Error);
}

namespace {
TableSchema weird_table() {
  TableSchema t;
  t.schema = "public";
  t.name = "Wéird `t' \"x\"";
  t.columns.push_back(col("Id", LogicalType::Int64, false, 1));
  t.columns.push_back(col("col with space", LogicalType::String));
  t.columns.push_back(col("ünï `q'\\", LogicalType::Int32, false));
  t.columns.push_back(col("region", LogicalType::String, false, 2));
  return t;
}
}  // namespace

TEST(ClickHouseTypeMap, CreateTableDdl18) {
  TableSchema t = weird_table();
  TablePlan p = plan_table(t, dest_table("Wéird `t' \"x\"", {"ünï `q'\\"}), "my db", v18);
  EXPECT_TRUE(p.keyed);
  ASSERT_EQ(p.order_by.size(), 3u);
  EXPECT_EQ(p.order_by[0], "ünï `q'\\");
  EXPECT_EQ(p.order_by[1], "Id");
  EXPECT_EQ(p.order_by[2], "region");
  EXPECT_EQ(create_table_sql(p, v18),
            "CREATE TABLE IF NOT EXISTS `my db`.`Wéird \\`t' \"x\"` (\n"
            "  `Id` Int64,\n"
            "  `col with space` Nullable(String),\n"
            "  `ünï \\`q'\\\\` Int32,\n"
            "  `region` String,\n"
            "  `_ferry_version` UInt64 DEFAULT 0,\n"
            "  `_ferry_is_deleted` UInt8 DEFAULT 0,\n"
            "  `_ferry_synced_at` DateTime DEFAULT now()\n"
            ") ENGINE = ReplacingMergeTree(`_ferry_version`) ORDER BY (`ünï \\`q'\\\\`, `Id`, `region`)");
  EXPECT_EQ(create_database_sql("my `db"), "CREATE DATABASE IF NOT EXISTS `my \\`db`");
}

TEST(ClickHouseTypeMap, CreateTableDdlNewServers) {
  TableSchema t = weird_table();
  TablePlan p = plan_table(t, dest_table("dest"), "db", v23);
  std::string sql = create_table_sql(p, v23, true);
  EXPECT_NE(sql.find("`_ferry_synced_at` DateTime64(3) DEFAULT now64()"), std::string::npos) << sql;
  EXPECT_NE(sql.find("ENGINE = ReplacingMergeTree(`_ferry_version`, `_ferry_is_deleted`) ORDER BY (`Id`, `region`)"),
            std::string::npos)
      << sql;
  // is_deleted only where the server has it.
  auto v22 = Capabilities::from_version("22.8.1");
  EXPECT_NE(
      create_table_sql(plan_table(t, dest_table("dest"), "db", v22), v22, true).find("ReplacingMergeTree(`_ferry_version`)"),
      std::string::npos);
}

TEST(ClickHouseTypeMap, KeylessTablesUseMergeTree) {
  TableSchema t;
  t.name = "log";
  t.columns.push_back(col("msg", LogicalType::String));
  TablePlan p = plan_table(t, dest_table("log"), "db", v18);
  EXPECT_FALSE(p.keyed);
  std::string sql = create_table_sql(p, v18);
  EXPECT_NE(sql.find(") ENGINE = MergeTree ORDER BY tuple()"), std::string::npos) << sql;
  EXPECT_EQ(sql.find("Replacing"), std::string::npos);
}

TEST(ClickHouseTypeMap, OrderByValidation) {
  TableSchema t = weird_table();
  try {
    plan_table(t, dest_table("x", {"nope"}), "db", v18);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("order_by column nope"), std::string::npos);
  }
  // Nullable order_by column: sorted by assumeNotNull() before 20.7, with the setting after.
  TablePlan p18 = plan_table(t, dest_table("x", {"col with space"}), "db", v18);
  EXPECT_FALSE(p18.nullable_sort_key);
  EXPECT_NE(create_table_sql(p18, v18).find("ORDER BY (assumeNotNull(`col with space`), `Id`, `region`)"),
            std::string::npos)
      << create_table_sql(p18, v18);
  TablePlan p = plan_table(t, dest_table("x", {"col with space"}), "db", v23);
  EXPECT_TRUE(p.nullable_sort_key);
  EXPECT_NE(create_table_sql(p, v23).find("SETTINGS allow_nullable_key = 1"), std::string::npos);
  // Duplicates in order_by collapse; key columns are not repeated.
  p = plan_table(t, dest_table("x", {"region", "region", "Id"}), "db", v18);
  ASSERT_EQ(p.order_by.size(), 2u);
  EXPECT_EQ(p.order_by[0], "region");
  EXPECT_EQ(p.order_by[1], "Id");
}

TEST(ClickHouseTypeMap, RefusesFerryColumnNames) {
  TableSchema t;
  t.name = "x";
  t.columns.push_back(col("_ferry_version", LogicalType::Int64));
  EXPECT_THROW(plan_table(t, dest_table("x"), "db", v18), Error);
}

namespace {
TableSchema dated_table() {
  TableSchema t;
  t.schema = "public";
  t.name = "people";
  Column id = col("id", LogicalType::Int64);
  id.key_position = 1;
  id.nullable = false;
  t.columns.push_back(id);
  Column born = col("born", LogicalType::Date);
  born.nullable = false;
  t.columns.push_back(born);
  Column amount = col("amount", LogicalType::Decimal);
  amount.precision = 10;
  amount.scale = 2;
  t.columns.push_back(amount);
  t.columns.push_back(col("note", LogicalType::String));
  return t;
}
DestinationTable dest_with(OnUnrepresentable policy, std::map<std::string, std::string> types = {}) {
  DestinationTable d;
  d.name = "people";
  d.column_types = std::move(types);
  d.on_unrepresentable = policy;
  return d;
}
}  // namespace

// column_types replaces the mapped type; String keeps the source text (Codec::Text);
// nullable source columns stay nullable; unknown columns, types ferry cannot write and
// types the server lacks are Config errors naming the column.
TEST(ClickHouseTypeMap, ColumnTypesOverride) {
  TablePlan p = plan_table(dated_table(), dest_with(OnUnrepresentable::Fail, {{"born", "String"}, {"amount", "String"}}),
                           "db", v18);
  EXPECT_EQ(p.columns[1].type, "String");
  EXPECT_EQ(p.columns[1].codec, Codec::Text);
  EXPECT_EQ(p.columns[2].type, "Nullable(String)");
  EXPECT_EQ(p.columns[3].type, "Nullable(String)");
  auto config_error_of = [](const DestinationTable& d, const Capabilities& caps) -> std::string {
    try {
      plan_table(dated_table(), d, "db", caps);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Config) << e.what();
      return e.what();
    }
    return "";
  };
  std::string why = config_error_of(dest_with(OnUnrepresentable::Fail, {{"nope", "String"}}), v18);
  EXPECT_NE(why.find("nope"), std::string::npos) << why;
  why = config_error_of(dest_with(OnUnrepresentable::Fail, {{"born", "Date32"}}), v18);
  EXPECT_NE(why.find("column_types.born = Date32"), std::string::npos) << why;
  EXPECT_NE(why.find("18.16.1"), std::string::npos) << why;
  EXPECT_EQ(config_error_of(dest_with(OnUnrepresentable::Fail, {{"born", "Date32"}}), v23), "");
  why = config_error_of(dest_with(OnUnrepresentable::Fail, {{"born", "LowCardinality(String)"}}), v23);
  EXPECT_NE(why.find("ferry writes only"), std::string::npos) << why;
  why = config_error_of(dest_with(OnUnrepresentable::Fail, {{"id", "Nullable(Int64)"}}), v23);
  EXPECT_NE(why.find("key"), std::string::npos) << why;
}

// The policy reaches every column; text makes narrower columns String, null makes them
// Nullable (not key columns), clamp and fail keep the mapping.
TEST(ClickHouseTypeMap, UnrepresentablePolicyShapesColumns) {
  TablePlan text = plan_table(dated_table(), dest_with(OnUnrepresentable::Text), "db", v18);
  EXPECT_EQ(text.columns[1].type, "String");
  EXPECT_EQ(text.columns[2].type, "Nullable(String)");
  EXPECT_EQ(text.columns[0].type, "Int64");
  TablePlan null = plan_table(dated_table(), dest_with(OnUnrepresentable::Null), "db", v18);
  EXPECT_EQ(null.columns[1].type, "Nullable(Date)");
  EXPECT_EQ(null.columns[1].on_unrepresentable, OnUnrepresentable::Null);
  TablePlan clamp = plan_table(dated_table(), dest_with(OnUnrepresentable::Clamp), "db", v18);
  EXPECT_EQ(clamp.columns[1].type, "Date");
  EXPECT_EQ(clamp.columns[1].on_unrepresentable, OnUnrepresentable::Clamp);
}

TEST(ClickHouseApplyTypes, ColumnFromClickHouseType) {
  Capabilities caps = Capabilities::from_version("18.16.1");
  auto c = column_from_clickhouse_type("x", "Nullable(Decimal(10, 2))", caps);
  EXPECT_EQ(c.codec, Codec::Decimal);
  EXPECT_TRUE(c.nullable);
  c = column_from_clickhouse_type("x", "Array(Nullable(Float32))", caps);
  EXPECT_EQ(c.codec, Codec::Array);
  EXPECT_EQ(c.element, Codec::Float);
  EXPECT_FALSE(c.nullable);
  EXPECT_EQ(column_from_clickhouse_type("x", "UInt8", caps).codec, Codec::Bool);
  EXPECT_EQ(column_from_clickhouse_type("x", "Date", caps).max_day, kDateMaxDay);
  EXPECT_THROW(column_from_clickhouse_type("x", "Map(String, String)", caps), Error);
  EXPECT_EQ(add_column_sql("db", "t", ch_column("r", "Int32", Codec::Verbatim, false), "body"),
            "ALTER TABLE `db`.`t` ADD COLUMN `r` Nullable(Int32) AFTER `body`");
  EXPECT_EQ(add_column_sql("db", "t", ch_column("a", "Array(Nullable(Int32))", Codec::Array, false)),
            "ALTER TABLE `db`.`t` ADD COLUMN `a` Array(Nullable(Int32))");
  EXPECT_EQ(add_column_sql("db", "t", ch_column("s", "Nullable(String)", Codec::Text, true)),
            "ALTER TABLE `db`.`t` ADD COLUMN `s` Nullable(String)");
}

// The ClickHouse source without a server: its type map, cursor literals and range queries.
#include <gtest/gtest.h>

#include <string>

#include "connectors/clickhouse/clickhouse_source.h"
#include "core/schema.h"

using namespace ferry;

namespace {

Column ch_col(const std::string& type, const std::string& name = "c") {
  Column c;
  c.name = name;
  clickhouse::map_clickhouse_type(type, c);
  return c;
}

}  // namespace

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

TEST(IncrementalRangeQueries, ClickHouse) {
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

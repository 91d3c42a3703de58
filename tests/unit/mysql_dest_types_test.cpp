// MariaDB destination types and literals (connectors/mysql/mysql_dest_types.h): pure.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "../shared/column_builder.h"
#include "connectors/mysql/mysql_dest_types.h"
#include "core/error.h"

using namespace ferry;
using namespace ferry::mysql;
using ferry::test::col;
using ferry::test::decimal_col;

namespace {

const ServerFlavor kMariadb{true, 101106};
const ServerFlavor kMysql{false, 80036};

std::string type_of(const Column& c, int key_chars = 0, ServerFlavor s = kMariadb, bool as_text = false) {
  return mysql_column_type(c, key_chars, "db.t", {}, as_text, s);
}

// The literal, or "<unrepresentable>".
std::string literal(const std::string& column_type, std::string_view value) {
  std::string out;
  return append_mysql_literal(out, value_type(column_type), value) ? out : "<unrepresentable>";
}

}  // namespace

TEST(MysqlDestTypes, PostgresTypesMapToTheNearestLosslessType) {
  EXPECT_EQ(type_of(col("a", LogicalType::Int16, true, 0, "smallint")), "smallint");
  EXPECT_EQ(type_of(col("a", LogicalType::Int32, true, 0, "integer")), "int");
  EXPECT_EQ(type_of(col("a", LogicalType::Float32, true, 0, "real")), "float");
  EXPECT_EQ(type_of(col("a", LogicalType::Float64, true, 0, "double precision")), "double");
  EXPECT_EQ(type_of(decimal_col("a", 12, 3)), "decimal(12,3)");
  EXPECT_EQ(type_of(col("a", LogicalType::NumericText, true, 0, "numeric")), "decimal(65,30)");
  EXPECT_EQ(type_of(col("a", LogicalType::Bool, true, 0, "boolean")), "boolean");
  EXPECT_EQ(type_of(col("a", LogicalType::String, true, 0, "text")),
            "longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin");
  EXPECT_EQ(type_of(col("a", LogicalType::String, true, 0, "character varying(10)")),
            "varchar(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin");
  EXPECT_EQ(type_of(col("a", LogicalType::String, true, 0, "character varying(10)"), 768, kMysql),
            "varchar(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_bin");
  EXPECT_EQ(type_of(col("a", LogicalType::Bytes, true, 0, "bytea")), "longblob");
  Column ts = col("a", LogicalType::Timestamp, true, 0, "timestamp without time zone");
  ts.precision = -1;  // no typmod
  EXPECT_EQ(type_of(ts), "datetime(6)");
  Column ts3 = col("a", LogicalType::TimestampTz, true, 0, "timestamp(3) with time zone");
  ts3.precision = 3;
  EXPECT_EQ(type_of(ts3), "datetime(3)");
  EXPECT_EQ(type_of(col("a", LogicalType::Uuid, true, 0, "uuid")), "char(36) CHARACTER SET ascii COLLATE ascii_bin");
  EXPECT_EQ(type_of(col("a", LogicalType::Json, true, 0, "jsonb")), "json");
  EXPECT_EQ(type_of(col("a", LogicalType::Json, true, 0, "json"), 0, kMysql),
            "longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_bin");  // MySQL's JSON re-renders
  EXPECT_THROW(type_of(decimal_col("a", 100, 2)), Error);
  EXPECT_THROW(type_of(col("a", LogicalType::Unsupported, true, 0, "tsvector")), Error);
}

TEST(MysqlDestTypes, MariadbSourceTypesStayTheirOwn) {
  EXPECT_EQ(type_of(col("a", LogicalType::UInt64, true, 0, "bigint(20) unsigned")), "bigint unsigned");
  EXPECT_EQ(type_of(col("a", LogicalType::Int32, true, 0, "mediumint(9)")), "mediumint");
  EXPECT_EQ(type_of(col("a", LogicalType::String, true, 0, "varchar(2000)")),
            "varchar(2000) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin");
  EXPECT_EQ(type_of(col("a", LogicalType::Enum, true, 0, "enum('x','y')")), "enum('x','y')");
  EXPECT_EQ(type_of(col("a", LogicalType::Set, true, 0, "set('a','b')")), "set('a','b')");
  EXPECT_EQ(type_of(col("a", LogicalType::Geometry, true, 0, "point")), "point");
  Column ts = col("a", LogicalType::TimestampTz, true, 0, "timestamp(3)");
  ts.precision = 3;
  EXPECT_EQ(type_of(ts), "timestamp(3)");
}

TEST(MysqlDestTypes, KeysFitInnodbsKeyLength) {
  TableSchema t;
  t.columns = {col("k1", LogicalType::Int32, false, 1, "integer"), col("k2", LogicalType::String, false, 2, "text"),
               col("k3", LogicalType::String, false, 3, "text"), col("v", LogicalType::String, true, 0, "text")};
  const int chars = mysql_key_chars(t);
  EXPECT_EQ(chars, (3072 - 16) / 4 / 2);
  EXPECT_LE(16 + 2 * 4 * chars, 3072);
  EXPECT_EQ(type_of(t.columns[1], chars), fmt::format("varchar({}) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin", chars));
  TableSchema ints;
  ints.columns = {col("id", LogicalType::Int64, false, 1, "bigint")};
  EXPECT_EQ(mysql_key_chars(ints), 768);
}

TEST(MysqlDestTypes, LiteralsAreExactAndEscaped) {
  EXPECT_EQ(literal("bigint unsigned", "18446744073709551615"), "18446744073709551615");
  EXPECT_EQ(literal("tinyint(1)", "t"), "1");
  EXPECT_EQ(literal("tinyint(1)", "f"), "0");
  EXPECT_EQ(literal("int", "1; DROP TABLE x"), "<unrepresentable>");
  EXPECT_EQ(literal("double", "0.1"), "0.1e0");
  EXPECT_EQ(literal("double", "5e-324"), "5e-324");
  EXPECT_EQ(literal("double", "-0"), "-0e0");
  EXPECT_EQ(literal("float", "0.1"), "0.10000000149011612e0");  // the float's exact value, as a double
  EXPECT_EQ(literal("double", "NaN"), "<unrepresentable>");
  EXPECT_EQ(literal("float", "Infinity"), "<unrepresentable>");
  EXPECT_EQ(literal("decimal(12,2)", "-12.50"), "-12.50");
  EXPECT_EQ(literal("decimal(2,2)", "0.50"), "0.50");
  EXPECT_EQ(literal("decimal(12,2)", "NaN"), "<unrepresentable>");
  EXPECT_EQ(literal("decimal(12,2)", "1.005"), "<unrepresentable>");  // would round
  EXPECT_EQ(literal("decimal(65,30)", std::string(36, '9')), "<unrepresentable>");
  EXPECT_EQ(literal("longtext", "a'b\"c\\d\n\r\t\x1a" + std::string(1, '\0')), "'a\\'b\\\"c\\\\d\\n\\r\t\\Z\\0'");
  EXPECT_EQ(literal("longblob", "\\x00ff"), "X'00ff'");
  EXPECT_EQ(literal("longblob", "\\x0"), "<unrepresentable>");
  EXPECT_EQ(literal("point", "\\x0101"), "ST_GeomFromWKB(X'0101')");
  EXPECT_EQ(literal("bit(4)", "0101"), "b'0101'");
  EXPECT_EQ(literal("date", "0000-00-00"), "'0000-00-00'");
  EXPECT_EQ(literal("date", "infinity"), "<unrepresentable>");
  EXPECT_EQ(literal("date", "0044-03-15 BC"), "<unrepresentable>");
  EXPECT_EQ(literal("date", "12024-01-01"), "<unrepresentable>");
  EXPECT_EQ(literal("datetime(6)", "2024-01-02 03:04:05.5+00"), "'2024-01-02 03:04:05.5'");
  EXPECT_EQ(literal("timestamp(3)", "0000-00-00 00:00:00.000"), "'0000-00-00 00:00:00.000'");
  EXPECT_EQ(literal("datetime(6)", "2024-01-02 03:04:05+05"), "<unrepresentable>");
  EXPECT_EQ(clamped_literal(value_type("date"), "infinity"), "'9999-12-31'");
  EXPECT_EQ(clamped_literal(value_type("datetime"), "0044-03-15 00:00:00 BC"), "'1000-01-01 00:00:00'");
  EXPECT_EQ(clamped_literal(value_type("double"), "NaN"), "");
}

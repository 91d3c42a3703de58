// The logical types MariaDB brought (unsigned integers, YEAR, BIT, SET, geometry, zero
// dates) in ClickHouse: the mapped column types, their RowBinary bytes, and the
// on_unrepresentable policy for zero dates (pure).
#include <gtest/gtest.h>

#include <cstring>

#include "connectors/clickhouse/rowbinary_encoder.h"
#include "connectors/clickhouse/type_map.h"
#include "core/error.h"
#include "../shared/column_builder.h"
#include "../shared/encoder_probe.h"

using namespace ferry;
using namespace ferry::clickhouse;
using namespace ferry::test;

namespace {

const Capabilities& v18 = kClickHouse18;
const Capabilities& v23 = kClickHouse23;

std::string type_of(const Column& c, const Capabilities& caps = v18,
                    OnUnrepresentable policy = OnUnrepresentable::Fail) {
  return one_column_plan(c, caps, policy).columns.at(0).type;
}

// Hex of one COPY value encoded for column c.
std::string one(const Column& c, std::string_view v, const Capabilities& caps = v18,
                OnUnrepresentable policy = OnUnrepresentable::Fail) {
  return hex(encode_one<RowBinaryEncoder>(one_column_plan(c, caps, policy), v));
}

std::string error_of(const Column& c, std::string_view v, const Capabilities& caps = v18) {
  return permanent_error([&] { one(c, v, caps); }, v);
}

}  // namespace

TEST(ClickHouseMysqlTypes, MappedTypes) {
  EXPECT_EQ(type_of(col("a", LogicalType::Int8)), "Nullable(Int8)");
  EXPECT_EQ(type_of(col("a", LogicalType::UInt8, false)), "UInt8");
  EXPECT_EQ(type_of(col("a", LogicalType::UInt16, false)), "UInt16");
  EXPECT_EQ(type_of(col("a", LogicalType::UInt32, false)), "UInt32");
  EXPECT_EQ(type_of(col("a", LogicalType::UInt64, false)), "UInt64");
  EXPECT_EQ(type_of(col("a", LogicalType::Year, false)), "UInt16");
  EXPECT_EQ(type_of(col("a", LogicalType::Bit, false)), "String");
  EXPECT_EQ(type_of(col("a", LogicalType::Set, false)), "String");
  EXPECT_EQ(type_of(col("a", LogicalType::Geometry)), "Nullable(String)");
  // Zero dates make a Date narrower than the source: text / null turn it into String / Nullable.
  EXPECT_EQ(type_of(col("a", LogicalType::Date, false), v18, OnUnrepresentable::Text), "String");
  EXPECT_EQ(type_of(col("a", LogicalType::Date, false), v18, OnUnrepresentable::Null), "Nullable(Date)");
}

TEST(ClickHouseMysqlTypes, RowBinaryOfIntegersYearBitsAndGeometry) {
  EXPECT_EQ(one(col("a", LogicalType::UInt64, false), "18446744073709551615"), "ffffffffffffffff");
  EXPECT_EQ(one(col("a", LogicalType::UInt8, false), "255"), "ff");
  EXPECT_EQ(one(col("a", LogicalType::Int8, false), "-128"), "80");
  EXPECT_EQ(one(col("a", LogicalType::UInt32, false), "4294967295"), "ffffffff");
  EXPECT_EQ(one(col("a", LogicalType::Year, false), "2155"), "6b08");
  EXPECT_EQ(one(col("a", LogicalType::Year, false), "0000"), "0000");
  EXPECT_EQ(one(col("a", LogicalType::Bit, false), "0101"), "0430313031");
  EXPECT_EQ(one(col("a", LogicalType::Set, false), "a,c"), "03612c63");
  // WKB bytes land raw (like a blob).
  EXPECT_EQ(one(col("a", LogicalType::Geometry, false), "\\\\x0102"), "020102");
  EXPECT_NE(error_of(col("a", LogicalType::UInt8, false), "256").find("not an integer the column holds"),
            std::string::npos);
  EXPECT_NE(error_of(col("a", LogicalType::UInt64, false), "-1").find("not an integer"), std::string::npos);
}

TEST(ClickHouseMysqlTypes, ZeroDatesFollowOnUnrepresentable) {
  Column d = col("d", LogicalType::Date);
  std::string e = error_of(d, "0000-00-00");
  EXPECT_NE(e.find("zero date"), std::string::npos) << e;
  EXPECT_NE(e.find("0000-00-00"), std::string::npos) << e;
  EXPECT_EQ(one(d, "0000-00-00", v18, OnUnrepresentable::Null), "01");
  EXPECT_EQ(one(d, "0000-00-00", v18, OnUnrepresentable::Clamp), "000000");  // 1970-01-01
  EXPECT_EQ(one(d, "2024-00-10", v18, OnUnrepresentable::Clamp), "000000");  // a zero month
  EXPECT_EQ(one(d, "1969-12-31", v18, OnUnrepresentable::Clamp), "000000");
  // Not a date at all is still malformed, whatever the policy.
  EXPECT_THROW(one(d, "2024-13-01", v18, OnUnrepresentable::Clamp), Error);
  // DateTime64 (newer servers): the zero timestamp clamps to the first tick.
  Column ts = col("ts", LogicalType::Timestamp);
  ts.precision = 3;
  EXPECT_EQ(one(ts, "0000-00-00 00:00:00.000", v23, OnUnrepresentable::Null), "01");
  EXPECT_EQ(type_of(ts, v18), "Nullable(String)");  // 18.16 keeps timestamps as text
  Column tz = col("tz", LogicalType::TimestampTz);
  EXPECT_EQ(one(tz, "2024-01-02 03:04:05.5+00", v23), "00607455c0ed0d0600");
}

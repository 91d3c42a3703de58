#include <gtest/gtest.h>

#include "connectors/postgres/pg_types.h"
#include "core/error.h"

using namespace ferry;

namespace {
Column map(const std::string& text, char typtype = 'b', const std::string& elem = "", char elem_typtype = 'b') {
  Column c;
  map_pg_type({text, typtype, elem, elem_typtype}, c);
  return c;
}
}  // namespace

TEST(PgTypes, Scalars) {
  EXPECT_EQ(map("smallint").type, LogicalType::Int16);
  EXPECT_EQ(map("integer").type, LogicalType::Int32);
  EXPECT_EQ(map("bigint").type, LogicalType::Int64);
  EXPECT_EQ(map("real").type, LogicalType::Float32);
  EXPECT_EQ(map("double precision").type, LogicalType::Float64);
  EXPECT_EQ(map("boolean").type, LogicalType::Bool);
  EXPECT_EQ(map("text").type, LogicalType::String);
  EXPECT_EQ(map("character varying(20)").type, LogicalType::String);
  EXPECT_EQ(map("character(5)").type, LogicalType::String);
  EXPECT_EQ(map("bytea").type, LogicalType::Bytes);
  EXPECT_EQ(map("date").type, LogicalType::Date);
  EXPECT_EQ(map("time without time zone").type, LogicalType::Time);
  EXPECT_EQ(map("interval").type, LogicalType::Interval);
  EXPECT_EQ(map("uuid").type, LogicalType::Uuid);
  EXPECT_EQ(map("jsonb").type, LogicalType::Json);
  EXPECT_EQ(map("inet").type, LogicalType::Inet);
  EXPECT_EQ(map("mood", 'e').type, LogicalType::Enum);
  EXPECT_EQ(map("money").type, LogicalType::String);
}

TEST(PgTypes, NumericBoundedAndFree) {
  Column c = map("numeric(12,3)");
  EXPECT_EQ(c.type, LogicalType::Decimal);
  EXPECT_EQ(c.precision, 12);
  EXPECT_EQ(c.scale, 3);
  EXPECT_EQ(map("numeric(5)").scale, 0);
  EXPECT_EQ(map("numeric").type, LogicalType::NumericText);
}

TEST(PgTypes, Timestamps) {
  Column c = map("timestamp(3) with time zone");
  EXPECT_EQ(c.type, LogicalType::TimestampTz);
  EXPECT_EQ(c.precision, 3);
  c = map("timestamp without time zone");
  EXPECT_EQ(c.type, LogicalType::Timestamp);
  EXPECT_EQ(c.precision, 6);
}

TEST(PgTypes, Arrays) {
  Column c = map("integer[]", 'b', "integer");
  EXPECT_EQ(c.type, LogicalType::Array);
  EXPECT_EQ(c.element, LogicalType::Int32);
  c = map("numeric(10,2)[]", 'b', "numeric(10,2)");
  EXPECT_EQ(c.element, LogicalType::Decimal);
  EXPECT_EQ(c.precision, 10);
  EXPECT_EQ(map("pair[]", 'b', "pair", 'c').type, LogicalType::Unsupported);
}

TEST(PgTypes, CompositeAndUnknownAreUnsupported) {
  EXPECT_EQ(map("pair", 'c').type, LogicalType::Unsupported);
  EXPECT_EQ(map("some_extension_type").type, LogicalType::Unsupported);
  EXPECT_EQ(map("int4range", 'r').type, LogicalType::String);
}

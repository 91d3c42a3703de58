// The PostgreSQL source without a server: the queries it reads partitions and ranges with.
#include <gtest/gtest.h>

#include <optional>

#include "connectors/postgres/pg_source.h"
#include "core/error.h"
#include "../shared/column_builder.h"

using namespace ferry;
using ferry::test::col;

TEST(PgSource, PartitionQueriesQuoteAndBoundRanges) {
  TableSchema t;
  t.schema = "My Schema";
  t.name = "Tab\"le";
  t.columns.push_back({"Id", "integer", LogicalType::Int32});
  t.columns.push_back({"na me", "text", LogicalType::String});
  EXPECT_EQ(PgSource::partition_query(t, "ctid:10:20"),
            "SELECT \"Id\", \"na me\" FROM \"My Schema\".\"Tab\"\"le\" WHERE ctid >= '(10,0)'::tid AND ctid < '(20,0)'::tid");
  EXPECT_EQ(PgSource::partition_query(t, "ctid:20:"),
            "SELECT \"Id\", \"na me\" FROM \"My Schema\".\"Tab\"\"le\" WHERE ctid >= '(20,0)'::tid");
  EXPECT_EQ(PgSource::partition_query(t, "all"), "SELECT \"Id\", \"na me\" FROM \"My Schema\".\"Tab\"\"le\"");
  t.columns[0].key_position = 1;
  EXPECT_EQ(PgSource::partition_query(t, "key::100"),
            "SELECT \"Id\", \"na me\" FROM \"My Schema\".\"Tab\"\"le\" WHERE \"Id\" < 100");
  EXPECT_EQ(PgSource::partition_query(t, "key:100:200"),
            "SELECT \"Id\", \"na me\" FROM \"My Schema\".\"Tab\"\"le\" WHERE \"Id\" >= 100 AND \"Id\" < 200");
  EXPECT_EQ(PgSource::partition_query(t, "key:-5:"), "SELECT \"Id\", \"na me\" FROM \"My Schema\".\"Tab\"\"le\" WHERE \"Id\" >= -5");
  EXPECT_THROW(PgSource::partition_query(t, "bogus:1:2"), ferry::Error);
}

TEST(IncrementalRangeQueries, Postgres) {
  TableSchema t;
  t.schema = "public";
  t.name = "My Table";
  t.columns = {col("id", LogicalType::Int64, true, 0, "bigint"), col("at", LogicalType::TimestampTz, true, 0, "timestamp with time zone")};
  EXPECT_EQ(PgSource::range_query(t, "at", std::nullopt, "2024-01-01 00:00:00+00"),
            "SELECT \"id\", \"at\" FROM \"public\".\"My Table\" WHERE \"at\" <= '2024-01-01 00:00:00+00'");
  EXPECT_EQ(PgSource::range_query(t, "at", "2023-12-31 00:00:00+00", "it's"),
            "SELECT \"id\", \"at\" FROM \"public\".\"My Table\" WHERE \"at\" > '2023-12-31 00:00:00+00' AND \"at\" <= "
            "'it''s'");

}

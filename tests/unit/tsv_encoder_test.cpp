#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "connectors/clickhouse/tsv_encoder.h"
#include "core/error.h"
#include "../shared/destination_table.h"
#include "../shared/column_builder.h"
#include "../shared/encoder_probe.h"
#include "../shared/fixture_file.h"

using namespace ferry;
using namespace ferry::clickhouse;

using namespace ferry::test;

namespace {

// The columns of tests/fixtures/clickhouse/all_types.copy.
TableSchema all_types() {
  TableSchema t;
  t.schema = "public";
  t.name = "all_types";
  t.columns = {col("id", LogicalType::Int64, false, 1),
               col("i16", LogicalType::Int16),
               col("f32", LogicalType::Float32),
               col("f64", LogicalType::Float64),
               col("dec", LogicalType::Decimal),
               col("num", LogicalType::NumericText),
               col("flag", LogicalType::Bool),
               col("txt", LogicalType::String),
               col("bin", LogicalType::Bytes),
               col("day", LogicalType::Date),
               col("ts", LogicalType::Timestamp),
               col("tstz", LogicalType::TimestampTz),
               col("u", LogicalType::Uuid),
               col("js", LogicalType::Json),
               array_col("ints", LogicalType::Int32),
               array_col("texts", LogicalType::String),
               array_col("dates", LogicalType::Date),
               array_col("floats", LogicalType::Float64),
               array_col("jsons", LogicalType::Json),
               col("maybe_ints", LogicalType::Array)};
  t.columns[18].nullable = true;
  t.columns[19].element = LogicalType::Int32;
  t.columns[4].precision = 10;
  t.columns[4].scale = 2;
  return t;
}

const Capabilities& v18 = kClickHouse18;
const Capabilities& v23 = kClickHouse23;

// Encodes one single-column value.
std::string one(const Column& c, std::string_view value, const Capabilities& caps = v23) {
  std::string out = encode_one<TsvEncoder>(one_column_plan(c, caps), value);
  EXPECT_FALSE(out.empty());
  if (!out.empty()) out.pop_back();
  return out;
}

std::string error_of(const Column& c, std::string_view value, const Capabilities& caps = v23) {
  return permanent_error([&] { one(c, value, caps); }, value);
}

}  // namespace

TEST(ClickHouseTsvEncoder, FixtureAllTypesNewServer) {
  TsvEncoder enc(plan_table(all_types(), dest_table("all_types"), "db", v23));
  std::string out;
  EXPECT_EQ(enc.encode(fixture_file("clickhouse/all_types.copy"), out), 3u);
  EXPECT_EQ(out, fixture_file("clickhouse/all_types_v23.tsv"));
}

TEST(ClickHouseTsvEncoder, FixtureAllTypes18) {
  TsvEncoder enc(plan_table(all_types(), dest_table("all_types"), "db", v18));
  std::string out = "kept|";  // appends to what the buffer holds
  EXPECT_EQ(enc.encode(fixture_file("clickhouse/all_types.copy"), out), 3u);
  EXPECT_EQ(out, "kept|" + fixture_file("clickhouse/all_types_v18.tsv"));
}

TEST(ClickHouseTsvEncoder, ChunkSplitAnywhereBetweenRowsGivesSameOutput) {
  std::string copy = fixture_file("clickhouse/all_types.copy");
  TsvEncoder enc(plan_table(all_types(), dest_table("all_types"), "db", v23));
  std::string out;
  size_t rows = 0, start = 0;
  for (size_t i = 0; i < copy.size(); ++i) {
    if (copy[i] != '\n') continue;
    rows += enc.encode(std::string_view(copy).substr(start, i + 1 - start), out);
    start = i + 1;
  }
  EXPECT_EQ(rows, 3u);
  EXPECT_EQ(out, fixture_file("clickhouse/all_types_v23.tsv"));
  std::string empty;
  EXPECT_EQ(enc.encode("", empty), 0u);
  EXPECT_EQ(empty, "");
}

TEST(ClickHouseTsvEncoder, StringsPassThroughWithCompatibleEscapes) {
  Column s = col("s", LogicalType::String);
  EXPECT_EQ(one(s, "plain ünï"), "plain ünï");
  EXPECT_EQ(one(s, R"(tab\tnl\ncr\rbs\\bsp\bff\fvt\v)"), R"(tab\tnl\ncr\rbs\\bsp\bff\fvt\v)");
  EXPECT_EQ(one(s, R"(quotes ' " ` ok)"), R"(quotes ' " ` ok)");
  EXPECT_EQ(one(s, R"(\\N)"), R"(\\N)");  // the two-character string \N, not NULL
  EXPECT_EQ(one(s, R"(\N)"), R"(\N)");    // NULL
  EXPECT_EQ(one(s, ""), "");
  // Octal and hex escapes (valid COPY text, never sent by PostgreSQL) are decoded.
  EXPECT_EQ(one(s, R"(\101\x42\7\x9)"), "AB\x07\\t");
  EXPECT_EQ(one(s, R"(\0)"), R"(\0)");
  EXPECT_EQ(one(s, R"(a\qb)"), "aqb");
  // Control characters PostgreSQL sends raw stay raw.
  EXPECT_EQ(one(s, "a\x01z"), "a\x01z");
}

TEST(ClickHouseTsvEncoder, BoolsAndNumbers) {
  Column b = col("b", LogicalType::Bool);
  EXPECT_EQ(one(b, "t"), "1");
  EXPECT_EQ(one(b, "f"), "0");
  EXPECT_EQ(one(b, "\\N"), "\\N");
  EXPECT_TRUE(contains(error_of(b, "maybe"), "not a boolean"));

  Column f = col("f", LogicalType::Float64);
  EXPECT_EQ(one(f, "Infinity"), "inf");
  EXPECT_EQ(one(f, "-Infinity"), "-inf");
  EXPECT_EQ(one(f, "NaN"), "nan");
  EXPECT_EQ(one(f, "-1.2345678901234567e-300"), "-1.2345678901234567e-300");

  EXPECT_EQ(one(col("i", LogicalType::Int64), "-9223372036854775808"), "-9223372036854775808");

  Column d = col("price", LogicalType::Decimal);
  d.precision = 10;
  d.scale = 2;
  EXPECT_EQ(one(d, "-12345678.90"), "-12345678.90");
  std::string e = error_of(d, "NaN");
  EXPECT_TRUE(contains(e, "column price")) << e;
  EXPECT_TRUE(contains(e, "'NaN'")) << e;
  EXPECT_TRUE(contains(e, "no NaN")) << e;
  EXPECT_TRUE(contains(error_of(d, "Infinity"), "no NaN or Infinity"));
  EXPECT_TRUE(contains(error_of(d, "1.2.3"), "not a decimal"));
}

TEST(ClickHouseTsvEncoder, Bytea) {
  Column b = col("b", LogicalType::Bytes);
  EXPECT_EQ(one(b, R"(\\x0a0b)"), "\\n\x0b");
  EXPECT_EQ(one(b, R"(\\x5c27095c)"), R"(\\'\t\\)");
  EXPECT_EQ(one(b, R"(\\xDEADbeef)"), "\xde\xad\xbe\xef");
  EXPECT_EQ(one(b, R"(\\x)"), "");
  // bytea_output = escape
  EXPECT_EQ(one(b, R"(ab\\\\c\\001)"), "ab\\\\c\x01");
  EXPECT_TRUE(contains(error_of(b, R"(\\x0)"), "odd number"));
  EXPECT_TRUE(contains(error_of(b, R"(\\xzz)"), "hex"));
}

TEST(ClickHouseTsvEncoder, DatesAreRangeChecked) {
  Column d = col("born", LogicalType::Date);
  EXPECT_EQ(one(d, "2020-02-29", v18), "2020-02-29");
  EXPECT_EQ(one(d, "1970-01-01", v18), "1970-01-01");
  EXPECT_EQ(one(d, "2105-12-31", v18), "2105-12-31");
  std::string e = error_of(d, "1969-12-31", v18);
  EXPECT_TRUE(contains(e, "column born")) << e;
  EXPECT_TRUE(contains(e, "1970-01-01 .. 2105-12-31")) << e;
  EXPECT_TRUE(contains(error_of(d, "2106-01-01", v18), "outside the range"));
  // Date32 on newer servers.
  EXPECT_EQ(one(d, "1900-01-01", v23), "1900-01-01");
  EXPECT_TRUE(contains(error_of(d, "1899-12-31", v23), "1900-01-01 .. 2299-12-31"));
  EXPECT_TRUE(contains(error_of(d, "infinity", v23), "not a date"));
  EXPECT_TRUE(contains(error_of(d, "0044-03-15 BC", v23), "not a date"));
  EXPECT_TRUE(contains(error_of(d, "2021-02-29", v23), "not a date"));
}

TEST(ClickHouseTsvEncoder, Timestamps) {
  Column ts = col("ts", LogicalType::Timestamp);
  EXPECT_EQ(one(ts, "2020-01-02 03:04:05"), "2020-01-02 03:04:05.000000");
  EXPECT_EQ(one(ts, "2020-01-02 03:04:05.1"), "2020-01-02 03:04:05.100000");
  EXPECT_EQ(one(ts, "1900-01-01 00:00:00.000001"), "1900-01-01 00:00:00.000001");
  EXPECT_TRUE(contains(error_of(ts, "1899-12-31 23:59:59"), "outside the range"));
  EXPECT_TRUE(contains(error_of(ts, "infinity"), "not a timestamp"));
  EXPECT_TRUE(contains(error_of(ts, "2020-01-02 03:04:05+00"), "not a timestamp"));
  // 18.16: kept as text.
  EXPECT_EQ(one(ts, "2020-01-02 03:04:05", v18), "2020-01-02 03:04:05");

  Column tz = col("tz", LogicalType::TimestampTz);
  EXPECT_EQ(one(tz, "2020-01-02 03:04:05.123456+00"), "2020-01-02 03:04:05.123456");
  EXPECT_EQ(one(tz, "2020-01-01 01:00:00-03"), "2020-01-01 04:00:00.000000");
  EXPECT_EQ(one(tz, "2020-01-01 01:00:00+05:30"), "2019-12-31 19:30:00.000000");
  EXPECT_TRUE(contains(error_of(tz, "1900-01-01 00:00:00+00:01:15"), "outside the range"));  // UTC 1899-12-31 23:58:45
  EXPECT_EQ(one(tz, "2000-02-29 23:59:59.999999-00:00:01"), "2000-03-01 00:00:00.999999");
  EXPECT_TRUE(contains(error_of(tz, "2020-01-02 03:04:05"), "not a timestamp"));
  EXPECT_EQ(one(tz, "2020-01-02 03:04:05+00", v18), "2020-01-02 03:04:05+00");
}

TEST(ClickHouseTsvEncoder, Arrays) {
  Column ints = array_col("xs", LogicalType::Int32);
  EXPECT_EQ(one(ints, "{1,2,NULL}"), "[1,2,NULL]");
  EXPECT_EQ(one(ints, "{}"), "[]");
  EXPECT_TRUE(contains(error_of(ints, "\\N"), "not Nullable"));
  EXPECT_TRUE(contains(error_of(ints, "{{1,2},{3,4}}"), "multi-dimensional"));
  EXPECT_TRUE(contains(error_of(ints, "[0:1]={1,2}"), "explicit bounds"));
  EXPECT_TRUE(contains(error_of(ints, "{1,2"), "unterminated"));
  EXPECT_TRUE(contains(error_of(ints, "{1,x}"), "integer"));

  Column texts = array_col("names", LogicalType::String);
  // PG: {a,"b c","q\"uote",NULL,"NULL"} with COPY escaping on top.
  EXPECT_EQ(one(texts, R"({a,"b c","q\\"uote",NULL,"NULL"})"), R"(['a','b c','q"uote',NULL,'NULL'])");
  EXPECT_EQ(one(texts, R"({"it's","back\\\\slash","tab\there","nl\nx",ünï})"),
            R"(['it\'s','back\\slash','tab\there','nl\nx','ünï'])");
  EXPECT_EQ(one(texts, R"({"{}",",","\\"\\""})"), R"(['{}',',','""'])");
  EXPECT_EQ(one(texts, R"({null,Null})"), "[NULL,NULL]");

  Column bools = array_col("bs", LogicalType::Bool);
  EXPECT_EQ(one(bools, "{t,f,NULL}"), "[1,0,NULL]");
  Column floats = array_col("fs", LogicalType::Float32);
  EXPECT_EQ(one(floats, "{NaN,Infinity,-Infinity,1.5e-07}"), "[-nan,inf,-inf,1.5e-07]");
  Column decs = array_col("ds", LogicalType::Decimal, 5, 2);
  EXPECT_EQ(one(decs, "{1.25,-0.50,NULL}"), "[1.25,-0.50,NULL]");
  EXPECT_TRUE(contains(error_of(decs, "{1.25,NaN}"), "no NaN"));
  Column uuids = array_col("us", LogicalType::Uuid);
  EXPECT_EQ(one(uuids, "{6f1b5e34-6f2b-4b8a-9f5e-2f1a1b2c3d4e,NULL}"), "['6f1b5e34-6f2b-4b8a-9f5e-2f1a1b2c3d4e',NULL]");
  Column dates = array_col("days", LogicalType::Date);
  EXPECT_EQ(one(dates, "{2020-01-02,NULL}", v18), "['2020-01-02',NULL]");
  EXPECT_TRUE(contains(error_of(dates, "{1960-01-01}", v18), "outside the range"));
  // Elements ferry does not map, and nullable arrays: the PostgreSQL text stays as a String.
  EXPECT_EQ(one(array_col("js", LogicalType::Json), R"({"{\\"a\\": 1}"})"), R"({"{\\"a\\": 1}"})");
  Column nullable_ints = array_col("maybe", LogicalType::Int32);
  nullable_ints.nullable = true;
  EXPECT_EQ(one(nullable_ints, "{1,NULL}"), "{1,NULL}");
  EXPECT_EQ(one(nullable_ints, "\\N"), "\\N");
  EXPECT_EQ(one(nullable_ints, "{}"), "{}");
}

TEST(ClickHouseTsvEncoder, NullInKeyColumnIsAnError) {
  std::string e = error_of(col("id", LogicalType::Int64, false, 1), "\\N");
  EXPECT_TRUE(contains(e, "column id")) << e;
  EXPECT_TRUE(contains(e, "not Nullable")) << e;
}

TEST(ClickHouseTsvEncoder, ErrorsNameTableColumnAndTruncatedValue) {
  TableSchema t;
  t.schema = "public";
  t.name = "orders";
  Column c = col("amount", LogicalType::Decimal);
  c.precision = 10;
  c.scale = 2;
  c.source_type = "numeric(10,2)";
  t.columns = {c};
  TsvEncoder enc(plan_table(t, dest_table("orders_v2"), "lake", v18));
  std::string out;
  std::string value = "1" + std::string(200, 'x');
  try {
    enc.encode(value + "\n", out);
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_TRUE(contains(m, "table public.orders (ClickHouse lake.orders_v2)")) << m;
    EXPECT_TRUE(contains(m, "column amount")) << m;
    EXPECT_TRUE(contains(m, "numeric(10,2)")) << m;
    EXPECT_TRUE(contains(m, "'1xxxxxxxxx")) << m;
    EXPECT_TRUE(contains(m, "...'")) << m;
    EXPECT_LT(m.size(), 300u) << m;
  }
}

TEST(ClickHouseTsvEncoder, MalformedRows) {
  TableSchema t;
  t.name = "t";
  t.columns = {col("a", LogicalType::Int32), col("b", LogicalType::String)};
  TsvEncoder enc(plan_table(t, dest_table("t"), "db", v18));
  std::string out;
  EXPECT_THROW(enc.encode("1\tx\t3\n", out), Error);
  EXPECT_THROW(enc.encode("1\n", out), Error);
  EXPECT_THROW(enc.encode("1\tx", out), Error);
  out.clear();
  EXPECT_EQ(enc.encode("1\tx\n2\t\n", out), 2u);
  EXPECT_EQ(out, "1\tx\n2\t\n");
}

TEST(ClickHouseTsvEncoder, OneMegabyteChunkInOnePass) {
  TableSchema schema = all_types();
  TsvEncoder enc(plan_table(schema, dest_table("all_types"), "db", v23));
  std::string row1 = fixture_file("clickhouse/all_types.copy");
  std::string chunk;
  while (chunk.size() < (1u << 20)) chunk += row1;
  size_t expected_rows = 3 * (chunk.size() / row1.size());
  std::string out;
  out.reserve(2 << 20);
  auto t0 = std::chrono::steady_clock::now();
  size_t rows = 0;
  for (int i = 0; i < 20; ++i) {
    out.clear();
    rows = enc.encode(chunk, out);
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(rows, expected_rows);
  // Generous bound (sanitizer builds, shared CI cores): 20 MB must not take seconds.
  EXPECT_LT(ms, 4000) << "20 x 1 MB took " << ms << " ms";
  std::printf("[ perf ] 20 x %zu KB chunk: %lld ms (%.0f MB/s)\n", chunk.size() / 1024, static_cast<long long>(ms),
              ms ? 20.0 * chunk.size() / 1048576.0 / (ms / 1000.0) : 0.0);
}

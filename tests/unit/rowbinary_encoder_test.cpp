#include <gtest/gtest.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "connectors/clickhouse/rowbinary_encoder.h"
#include "core/error.h"
#include "../shared/column_builder.h"
#include "../shared/encoder_probe.h"
#include "../shared/fixture_file.h"

using namespace ferry;
using namespace ferry::clickhouse;
using namespace ferry::test;

namespace {

const Capabilities& v18 = kClickHouse18;
const Capabilities& v23 = kClickHouse23;

TablePlan plan_of(const Column& c, const Capabilities& caps, OnUnrepresentable policy = OnUnrepresentable::Fail) {
  return one_column_plan(c, caps, policy);
}

// Hex of one single-column COPY value as encode() writes it.
std::string one(const Column& c, std::string_view copy_value, const Capabilities& caps = v23,
                OnUnrepresentable policy = OnUnrepresentable::Fail) {
  return hex(encode_one<RowBinaryEncoder>(one_column_plan(c, caps, policy), copy_value));
}

std::string error_of(const Column& c, std::string_view value, const Capabilities& caps = v23,
                     OnUnrepresentable policy = OnUnrepresentable::Fail) {
  return permanent_error([&] { one(c, value, caps, policy); }, value);
}

}  // namespace

TEST(ClickHouseRowBinaryEncoder, Integers) {
  EXPECT_EQ(one(col("a", LogicalType::Int16, false), "-32768"), "0080");
  EXPECT_EQ(one(col("a", LogicalType::Int32, false), "1"), "01000000");
  EXPECT_EQ(one(col("a", LogicalType::Int64, false), "-2"), "feffffffffffffff");
  EXPECT_EQ(one(col("a", LogicalType::Int64, false), "9223372036854775807"), "ffffffffffffff7f");
  EXPECT_EQ(one(col("a", LogicalType::Int32), "7"), "00" + le<int32_t>(7));  // Nullable: flag 0, value
  EXPECT_EQ(one(col("a", LogicalType::Int32), "\\N"), "01");                  // NULL: flag only
  std::string e = error_of(col("small", LogicalType::Int16), "40000");
  EXPECT_TRUE(contains(e, "column small")) << e;
  EXPECT_TRUE(contains(e, "'40000'")) << e;
  EXPECT_TRUE(contains(e, "table db.t")) << e;
  EXPECT_TRUE(contains(error_of(col("a", LogicalType::Int32), "1.5"), "not an integer"));
  EXPECT_TRUE(contains(error_of(col("a", LogicalType::Int32, false, 1), "\\N"), "not Nullable"));
}

TEST(ClickHouseRowBinaryEncoder, FloatsKeepEveryBit) {
  Column f64 = col("f", LogicalType::Float64, false);
  Column f32 = col("f", LogicalType::Float32, false);
  EXPECT_EQ(one(f64, "1.5"), le<uint64_t>(0x3FF8000000000000));
  EXPECT_EQ(one(f64, "-0"), le<uint64_t>(0x8000000000000000));
  EXPECT_EQ(one(f64, "5e-324"), le<uint64_t>(1));  // subnormal (TSV made 18.16 read it as 0)
  EXPECT_EQ(one(f64, "2.2250738585072014e-308"), le<uint64_t>(0x0010000000000000));
  EXPECT_EQ(one(f64, "1.7976931348623157e+308"), le<uint64_t>(0x7FEFFFFFFFFFFFFF));
  EXPECT_EQ(one(f64, "Infinity"), le<uint64_t>(0x7FF0000000000000));
  EXPECT_EQ(one(f64, "-Infinity"), le<uint64_t>(0xFFF0000000000000));
  EXPECT_EQ(one(f64, "NaN"), le<uint64_t>(0x7FF8000000000000));
  EXPECT_EQ(one(f32, "1.5"), le<uint32_t>(0x3FC00000));
  EXPECT_EQ(one(f32, "1e-45"), le<uint32_t>(1));
  EXPECT_EQ(one(f32, "3.4028235e+38"), le<uint32_t>(0x7F7FFFFF));
  EXPECT_EQ(one(f32, "NaN"), le<uint32_t>(0x7FC00000));
  EXPECT_EQ(one(f32, "-Infinity"), le<uint32_t>(0xFF800000));
  EXPECT_TRUE(contains(error_of(f64, "1e999"), "not a number"));
  EXPECT_TRUE(contains(error_of(f64, "abc"), "not a number"));

  // Random bit patterns through their shortest text (what PostgreSQL 15 prints) and back.
  std::mt19937_64 rng(42);
  RowBinaryEncoder enc64(plan_of(f64, v23));
  RowBinaryEncoder enc32(plan_of(f32, v23));
  for (int k = 0; k < 20000; ++k) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, 8);
    float f;
    uint32_t bits32 = static_cast<uint32_t>(bits);
    std::memcpy(&f, &bits32, 4);
    char text[64];
    std::string out;
    if (d == d) {
      char* end = std::to_chars(text, text + sizeof text - 1, d).ptr;
      *end = '\n';
      enc64.encode(std::string_view(text, static_cast<size_t>(end - text) + 1), out);
      ASSERT_EQ(hex(out), le(bits)) << std::string_view(text, static_cast<size_t>(end - text));
    }
    if (f == f) {
      out.clear();
      char* end = std::to_chars(text, text + sizeof text - 1, f).ptr;
      *end = '\n';
      enc32.encode(std::string_view(text, static_cast<size_t>(end - text) + 1), out);
      ASSERT_EQ(hex(out), le(bits32)) << std::string_view(text, static_cast<size_t>(end - text));
    }
  }
}

TEST(ClickHouseRowBinaryEncoder, DecimalsAreExactScaledIntegers) {
  EXPECT_EQ(one(decimal_col("d", 9, 2, false), "12.50"), le<int32_t>(1250));
  EXPECT_EQ(one(decimal_col("d", 9, 2, false), "12.5"), le<int32_t>(1250));
  EXPECT_EQ(one(decimal_col("d", 9, 2, false), "-0.01"), le<int32_t>(-1));
  EXPECT_EQ(one(decimal_col("d", 9, 2, false), "1.230"), le<int32_t>(123));  // trailing zero beyond the scale
  EXPECT_EQ(one(decimal_col("d", 9, 0, false), "-999999999"), le<int32_t>(-999999999));
  EXPECT_EQ(one(decimal_col("d", 10, 2, false), "12345678.91"), le<int64_t>(1234567891));
  EXPECT_EQ(one(decimal_col("d", 18, 18, false), "0.000000000000000001"), le<int64_t>(1));
  // Int128: low half, then high half. 10^20 = 0x56bc75e2d63100000.
  EXPECT_EQ(one(decimal_col("d", 38, 0, false), "100000000000000000000"),
            le<uint64_t>(0x6bc75e2d63100000) + le<uint64_t>(5));
  EXPECT_EQ(one(decimal_col("d", 38, 2, false), "-0.01"), le<int64_t>(-1) + le<int64_t>(-1));
  EXPECT_EQ(one(decimal_col("d", 38, 0, false), "99999999999999999999999999999999999999"),
            le<uint64_t>(0x098a223fffffffff) + le<uint64_t>(0x4b3b4ca85a86c47a));
  EXPECT_EQ(one(decimal_col("d", 10, 2), "\\N"), "01");
  EXPECT_TRUE(contains(error_of(decimal_col("d", 10, 2), "1.234"), "more fractional digits"));
  EXPECT_TRUE(contains(error_of(decimal_col("d", 10, 2), "123456789.00"), "precision"));
  EXPECT_TRUE(contains(error_of(decimal_col("d", 10, 2), "1e5"), "not a decimal"));
  EXPECT_TRUE(contains(error_of(decimal_col("d", 10, 2), "NaN"), "no NaN or Infinity"));
  EXPECT_TRUE(contains(error_of(decimal_col("d", 10, 2), "Infinity"), "no NaN or Infinity"));
}

TEST(ClickHouseRowBinaryEncoder, StringsAndBytes) {
  Column s = col("s", LogicalType::String, false);
  EXPECT_EQ(one(s, ""), "00");
  EXPECT_EQ(one(s, "ab"), "026162");
  EXPECT_EQ(one(s, R"(a\tb\nc\\d)"), "07" + hex("a\tb\nc\\d"));  // COPY escapes decoded
  EXPECT_EQ(one(s, R"(\\N)"), "02" + hex("\\N"));                  // the string \N, not NULL
  EXPECT_EQ(one(s, R"(\101\x42)"), "024142");                      // octal and hex escapes
  EXPECT_EQ(one(s, "ünï"), "05" + hex("ünï"));
  EXPECT_EQ(one(s, std::string(200, 'x')), "c801" + hex(std::string(200, 'x')));  // LEB128 length
  EXPECT_EQ(one(col("s", LogicalType::String), "\\N"), "01");
  Column b = col("b", LogicalType::Bytes, false);
  EXPECT_EQ(one(b, R"(\\x00ff0a5c09)"), "0500ff0a5c09");
  EXPECT_EQ(one(b, R"(\\x)"), "00");
  EXPECT_EQ(one(b, R"(a\\\\b\\001)"), "04615c6201");  // bytea_output = escape
  EXPECT_TRUE(contains(error_of(b, R"(\\x0)"), "odd number"));
}

TEST(ClickHouseRowBinaryEncoder, BoolUuidDates) {
  EXPECT_EQ(one(col("b", LogicalType::Bool, false), "t"), "01");
  EXPECT_EQ(one(col("b", LogicalType::Bool, false), "f"), "00");
  EXPECT_TRUE(contains(error_of(col("b", LogicalType::Bool), "x"), "not a boolean"));
  // Verified against 18.16: toUUID('00112233-4455-6677-8899-aabbccddeeff') FORMAT RowBinary.
  EXPECT_EQ(one(col("u", LogicalType::Uuid, false), "00112233-4455-6677-8899-aabbccddeeff"),
            "7766554433221100ffeeddccbbaa9988");
  EXPECT_TRUE(contains(error_of(col("u", LogicalType::Uuid), "0011"), "not a UUID"));
  Column d = col("d", LogicalType::Date, false);
  EXPECT_EQ(one(d, "2020-01-02", v18), le<uint16_t>(18263));  // Date: UInt16
  EXPECT_EQ(one(d, "1970-01-01", v18), le<uint16_t>(0));
  EXPECT_EQ(one(d, "1900-01-01", v23), le<int32_t>(-25567));  // Date32: Int32
  EXPECT_TRUE(contains(error_of(d, "1969-12-31", v18), "outside the range"));
  EXPECT_TRUE(contains(error_of(d, "infinity", v18), "outside the range"));
  EXPECT_TRUE(contains(error_of(d, "2020-13-01", v18), "not a date"));
}

TEST(ClickHouseRowBinaryEncoder, Timestamps) {
  Column ts = col("ts", LogicalType::Timestamp, false);
  Column tz = col("tz", LogicalType::TimestampTz, false);
  EXPECT_EQ(one(ts, "2020-01-02 03:04:05.123456"), le<int64_t>(1577934245123456));
  EXPECT_EQ(one(ts, "1969-12-31 23:59:59.5"), le<int64_t>(-500000));
  EXPECT_EQ(one(tz, "2000-01-01 05:30:00+05:30"), le<int64_t>(946684800000000));
  EXPECT_EQ(one(tz, "1999-12-31 23:00:00-01"), le<int64_t>(946684800000000));
  EXPECT_TRUE(contains(error_of(ts, "2400-01-01 00:00:00"), "outside the range"));
  EXPECT_TRUE(contains(error_of(tz, "2020-01-01 00:00:00"), "not a timestamp"));  // no offset
  // 18.16 has no DateTime64: timestamps are the PostgreSQL text.
  EXPECT_EQ(one(ts, "2020-01-02 03:04:05", v18), "13" + hex("2020-01-02 03:04:05"));
}

TEST(ClickHouseRowBinaryEncoder, Arrays) {
  EXPECT_EQ(one(array_col("a", LogicalType::Int32), "{1,2,NULL}"),
            "03" "00" + le<int32_t>(1) + "00" + le<int32_t>(2) + "01");
  EXPECT_EQ(one(array_col("a", LogicalType::Int32), "{}"), "00");
  EXPECT_EQ(one(array_col("a", LogicalType::String), R"({a,"b c","q\\"uote","NULL",NULL,""})"),
            "06" "000161" "0003622063" "0006" + hex("q\"uote") + "00044e554c4c" "01" "0000");
  EXPECT_EQ(one(array_col("a", LogicalType::Float64), "{1.5,NaN,-Infinity}"),
            "03" "00" + le<uint64_t>(0x3FF8000000000000) + "00" + le<uint64_t>(0x7FF8000000000000) + "00" +
                le<uint64_t>(0xFFF0000000000000));
  EXPECT_EQ(one(array_col("a", LogicalType::Decimal, 10, 2), "{1.00,NULL}"), "02" "00" + le<int64_t>(100) + "01");
  EXPECT_EQ(one(array_col("a", LogicalType::Date), "{2020-01-02}", v18), "01" "00" + le<uint16_t>(18263));
  EXPECT_EQ(one(array_col("a", LogicalType::Uuid), "{00112233-4455-6677-8899-aabbccddeeff}"),
            "0100" "7766554433221100ffeeddccbbaa9988");
  EXPECT_TRUE(contains(error_of(array_col("a", LogicalType::Int32), "{{1}}"), "multi-dimensional"));
  EXPECT_TRUE(contains(error_of(array_col("a", LogicalType::Int32), "{1,x}"), "not an integer"));
  EXPECT_TRUE(contains(error_of(array_col("a", LogicalType::Int32), "\\N"), "not Nullable"));
  // Nullable arrays are the PostgreSQL text.
  Column maybe = col("m", LogicalType::Array);
  maybe.element = LogicalType::Int32;
  EXPECT_EQ(one(maybe, "{1}"), "00" "03" + hex("{1}"));
}

TEST(ClickHouseRowBinaryEncoder, PolicyNull) {
  Column d = col("d", LogicalType::Date);
  RowBinaryEncoder enc(plan_of(d, v18, OnUnrepresentable::Null));
  std::string out;
  EXPECT_EQ(enc.encode("infinity\n2020-01-02\n1969-01-01\n", out), 3u);
  EXPECT_EQ(hex(out), "01" "00" + le<uint16_t>(18263) + "01");
  EXPECT_EQ(enc.unrepresentable_counts(), std::vector<int64_t>{2});
  EXPECT_EQ(enc.first_unrepresentable(0), "infinity");
  enc.reset_unrepresentable();
  EXPECT_EQ(enc.unrepresentable_counts(), std::vector<int64_t>{0});
  EXPECT_EQ(enc.first_unrepresentable(0), "");
  // Not Nullable (a key): NULL is impossible.
  std::string e = error_of(col("k", LogicalType::Date, false, 1), "infinity", v18, OnUnrepresentable::Null);
  EXPECT_TRUE(contains(e, "column k")) << e;
  EXPECT_TRUE(contains(e, "Nullable")) << e;
  // Array elements are always Nullable.
  EXPECT_EQ(one(array_col("a", LogicalType::Date), "{2020-01-02,-infinity}", v18, OnUnrepresentable::Null),
            "02" "00" + le<uint16_t>(18263) + "01");
  EXPECT_EQ(one(decimal_col("d", 10, 2), "NaN", v23, OnUnrepresentable::Null), "01");
  EXPECT_EQ(one(col("ts", LogicalType::TimestampTz), "infinity", v23, OnUnrepresentable::Null), "01");
}

TEST(ClickHouseRowBinaryEncoder, PolicyClamp) {
  Column d = col("d", LogicalType::Date, false);
  EXPECT_EQ(one(d, "9999-12-31", v18, OnUnrepresentable::Clamp), le<uint16_t>(kDateMaxDay));
  EXPECT_EQ(one(d, "infinity", v18, OnUnrepresentable::Clamp), le<uint16_t>(kDateMaxDay));
  EXPECT_EQ(one(d, "-infinity", v18, OnUnrepresentable::Clamp), le<uint16_t>(0));
  EXPECT_EQ(one(d, "1900-01-01", v18, OnUnrepresentable::Clamp), le<uint16_t>(0));
  EXPECT_EQ(one(d, "1000-01-01", v23, OnUnrepresentable::Clamp), le<int32_t>(v23.ext_min_day));
  Column ts = col("ts", LogicalType::Timestamp, false);
  EXPECT_EQ(one(ts, "-infinity", v23, OnUnrepresentable::Clamp),
            le<int64_t>(int64_t{v23.ext_min_day} * 86400 * 1000000));
  EXPECT_EQ(one(ts, "infinity", v23, OnUnrepresentable::Clamp),
            le<int64_t>((int64_t{v23.ext_max_day} + 1) * 86400 * 1000000 - 1));
  // Decimals: +-Infinity to the largest/smallest value; NaN to NULL when Nullable.
  EXPECT_EQ(one(decimal_col("d", 10, 2, false), "Infinity", v23, OnUnrepresentable::Clamp), le<int64_t>(9999999999));
  EXPECT_EQ(one(decimal_col("d", 9, 2, false), "-Infinity", v23, OnUnrepresentable::Clamp), le<int32_t>(-999999999));
  EXPECT_EQ(one(decimal_col("d", 10, 2), "NaN", v23, OnUnrepresentable::Clamp), "01");
  std::string e = error_of(decimal_col("dn", 10, 2, false), "NaN", v23, OnUnrepresentable::Clamp);
  EXPECT_TRUE(contains(e, "column dn")) << e;
  EXPECT_TRUE(contains(e, "'NaN'")) << e;
  RowBinaryEncoder enc(plan_of(array_col("a", LogicalType::Date), v18, OnUnrepresentable::Clamp));
  std::string out;
  EXPECT_EQ(enc.encode("{infinity,2020-01-02}\n{0001-01-01}\n", out), 2u);
  EXPECT_EQ(hex(out), "02" "00" + le<uint16_t>(kDateMaxDay) + "00" + le<uint16_t>(18263) + "01" "00" +
                          le<uint16_t>(0));
  EXPECT_EQ(enc.unrepresentable_counts(), std::vector<int64_t>{2});
  EXPECT_EQ(enc.first_unrepresentable(0), "infinity");
}

TEST(ClickHouseRowBinaryEncoder, PolicyFailIsTheDefault) {
  std::string e = error_of(col("d", LogicalType::Date), "infinity", v18);
  EXPECT_TRUE(contains(e, "column d")) << e;
  EXPECT_TRUE(contains(e, "'infinity'")) << e;
}

TEST(ClickHouseRowBinaryEncoder, RowsTrailerAndMalformedRows) {
  TableSchema t;
  t.schema = "public";
  t.name = "t";
  t.columns = {col("id", LogicalType::Int32, false, 1), col("s", LogicalType::String)};
  DestinationTable d;
  d.name = "t";
  RowBinaryEncoder enc(plan_table(t, d, "db", v18));
  enc.set_row_trailer(0x0102030405060708, false);
  std::string out = "kept";
  EXPECT_EQ(enc.encode("1\tab\n2\t\\N\n", out), 2u);
  const std::string trailer = le<uint64_t>(0x0102030405060708) + "00";
  EXPECT_EQ(hex(out), hex("kept") + le<int32_t>(1) + "00026162" + trailer + le<int32_t>(2) + "01" + trailer);
  std::string x;
  RowBinaryEncoder::append_trailer(x, 7, true);
  EXPECT_EQ(hex(x), le<uint64_t>(7) + "01");
  EXPECT_TRUE(contains([&] {
    try {
      enc.encode("1\n", x);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  }(), "fewer fields"));
  EXPECT_THROW(enc.encode("1\ta\tb\n", x), Error);
  EXPECT_THROW(enc.encode("1\ta", x), Error);  // no newline at the end
  // encode_value takes unescaped text; encode_null a NULL.
  x.clear();
  enc.encode_value(1, "a\tb", x);
  enc.encode_null(1, x);
  EXPECT_EQ(hex(x), "0003" + hex("a\tb") + "01");
  EXPECT_THROW(enc.encode_null(0, x), Error);
}

TEST(ClickHouseRowBinaryEncoder, FixtureAllTypesChunkSplitGivesSameBytes) {
  TableSchema t;
  t.schema = "public";
  t.name = "all_types";
  t.columns = {col("id", LogicalType::Int64, false, 1), col("i16", LogicalType::Int16),
               col("f32", LogicalType::Float32),       col("f64", LogicalType::Float64),
               decimal_col("dec", 10, 2),                  col("num", LogicalType::NumericText),
               col("flag", LogicalType::Bool),         col("txt", LogicalType::String),
               col("bin", LogicalType::Bytes),         col("day", LogicalType::Date),
               col("ts", LogicalType::Timestamp),      col("tstz", LogicalType::TimestampTz),
               col("u", LogicalType::Uuid),            col("js", LogicalType::Json),
               array_col("ints", LogicalType::Int32),      array_col("texts", LogicalType::String),
               array_col("dates", LogicalType::Date),      array_col("floats", LogicalType::Float64),
               array_col("jsons", LogicalType::Json),      col("maybe_ints", LogicalType::Array)};
  t.columns[18].nullable = true;
  t.columns[19].element = LogicalType::Int32;
  DestinationTable d;
  d.name = "all_types";
  const std::string copy = fixture_file("clickhouse/all_types.copy");
  for (const Capabilities* caps : {&v18, &v23}) {
    RowBinaryEncoder whole(plan_table(t, d, "db", *caps));
    std::string expected;
    EXPECT_EQ(whole.encode(copy, expected), 3u);
    RowBinaryEncoder split(plan_table(t, d, "db", *caps));
    std::string out;
    size_t rows = 0, start = 0;
    for (size_t i = 0; i < copy.size(); ++i) {
      if (copy[i] != '\n') continue;
      rows += split.encode(std::string_view(copy).substr(start, i + 1 - start), out);
      start = i + 1;
    }
    EXPECT_EQ(rows, 3u);
    EXPECT_EQ(hex(out), hex(expected));
    // Row 1 starts with id 1 (Int64) and i16 -32768 (Nullable(Int16)).
    EXPECT_EQ(hex(out).substr(0, 22), le<int64_t>(1) + "00" "0080");
  }
}

TEST(ClickHouseRowBinaryEncoder, FieldEndWalksWhatTheEncoderWritesAndDefaults) {
  TableSchema t;
  t.schema = "public";
  t.name = "t";
  t.columns = {col("id", LogicalType::Int64, false, 1), col("s", LogicalType::String),
               decimal_col("d", 38, 2),                     col("u", LogicalType::Uuid),
               array_col("a", LogicalType::String),         array_col("f", LogicalType::Float32),
               col("day", LogicalType::Date)};
  DestinationTable d;
  d.name = "t";
  RowBinaryEncoder enc(plan_table(t, d, "db", v23));
  std::string out;
  ASSERT_EQ(enc.encode("1\tabc\t-1.25\t00112233-4455-6677-8899-aabbccddeeff\t{x,NULL,\"\"}\t{1.5,NULL}\t\\N\n"
                       "2\t\\N\t\\N\t\\N\t{}\t{}\t2020-01-02\n",
                       out),
            2u);
  size_t pos = 0;
  for (int row = 0; row < 2; ++row)
    for (size_t j = 0; j < enc.columns(); ++j) {
      size_t end = RowBinaryEncoder::field_end(enc.layout(j), out, pos);
      ASSERT_NE(end, std::string_view::npos) << row << " " << j;
      // Cut off anywhere inside the field: npos.
      for (size_t cut = pos; cut < end; ++cut)
        EXPECT_EQ(RowBinaryEncoder::field_end(enc.layout(j), std::string_view(out).substr(0, cut), pos),
                  std::string_view::npos);
      pos = end;
    }
  EXPECT_EQ(pos, out.size());
  std::string defaults;
  for (size_t j = 0; j < enc.columns(); ++j) enc.append_default(j, defaults);
  // id 0, s NULL, d NULL, u NULL, a [], f [], day NULL
  EXPECT_EQ(hex(defaults), "0000000000000000" "01" "01" "01" "00" "00" "01");
}

// MariaDB / MySQL column types -> logical types, and the snapshot's canonical text
// renderings per type (src/core/schema.h), pure.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>

#include "connectors/mysql/mysql_source.h"
#include "connectors/mysql/mysql_types.h"
#include "core/error.h"

using namespace ferry;
using namespace ferry::mysql;

namespace {

Column map(const std::string& data_type, const std::string& column_type, int np = -1, int ns = -1, int dp = -1,
           bool json = false) {
  MysqlColumnInfo i;
  i.name = "c";
  i.data_type = data_type;
  i.column_type = column_type;
  i.numeric_precision = np;
  i.numeric_scale = ns;
  i.datetime_precision = dp;
  i.is_json = json;
  return map_mysql_column(i);
}

std::string render(MysqlRender r, std::string_view raw, int bits = 0) {
  std::string out;
  render_mysql_value(r, bits, raw, out, "t.c");
  return out;
}

}  // namespace

TEST(MysqlTypes, Integers) {
  EXPECT_EQ(map("tinyint", "tinyint(4)").type, LogicalType::Int8);
  EXPECT_EQ(map("tinyint", "tinyint(1)").type, LogicalType::Int8);  // not Bool: it holds -128..127
  EXPECT_EQ(map("tinyint", "tinyint(3) unsigned").type, LogicalType::UInt8);
  EXPECT_EQ(map("smallint", "smallint(6)").type, LogicalType::Int16);
  EXPECT_EQ(map("smallint", "smallint(5) unsigned").type, LogicalType::UInt16);
  EXPECT_EQ(map("mediumint", "mediumint(9)").type, LogicalType::Int32);
  EXPECT_EQ(map("mediumint", "mediumint(8) unsigned").type, LogicalType::UInt32);
  EXPECT_EQ(map("int", "int(11)").type, LogicalType::Int32);
  EXPECT_EQ(map("int", "int(10) unsigned zerofill").type, LogicalType::UInt32);
  EXPECT_EQ(map("bigint", "bigint(20)").type, LogicalType::Int64);
  EXPECT_EQ(map("bigint", "bigint(20) unsigned").type, LogicalType::UInt64);
  EXPECT_EQ(map("int", "int(11)").source_type, "int(11)");
}

TEST(MysqlTypes, NumbersAndBits) {
  EXPECT_EQ(map("float", "float").type, LogicalType::Float32);
  EXPECT_EQ(map("float", "float(7,3)").type, LogicalType::Float32);
  EXPECT_EQ(map("double", "double").type, LogicalType::Float64);
  Column d = map("decimal", "decimal(65,30)", 65, 30);
  EXPECT_EQ(d.type, LogicalType::Decimal);
  EXPECT_EQ(d.precision, 65);
  EXPECT_EQ(d.scale, 30);
  Column u = map("decimal", "decimal(10,2) unsigned", 10, 2);
  EXPECT_EQ(u.type, LogicalType::Decimal);
  EXPECT_EQ(u.precision, 10);
  Column b = map("bit", "bit(64)", 64);
  EXPECT_EQ(b.type, LogicalType::Bit);
  EXPECT_EQ(b.precision, 64);
  EXPECT_EQ(map("bit", "bit(1)").precision, 1);  // from COLUMN_TYPE when NUMERIC_PRECISION is NULL
  EXPECT_EQ(map("year", "year(4)").type, LogicalType::Year);
}

TEST(MysqlTypes, Temporal) {
  EXPECT_EQ(map("date", "date").type, LogicalType::Date);
  Column dt = map("datetime", "datetime(3)", -1, -1, 3);
  EXPECT_EQ(dt.type, LogicalType::Timestamp);
  EXPECT_EQ(dt.precision, 3);
  EXPECT_EQ(map("datetime", "datetime", -1, -1, 0).precision, 0);
  Column ts = map("timestamp", "timestamp(6)", -1, -1, 6);
  EXPECT_EQ(ts.type, LogicalType::TimestampTz);
  EXPECT_EQ(ts.precision, 6);
  Column t = map("time", "time(2)", -1, -1, 2);
  EXPECT_EQ(t.type, LogicalType::Time);
  EXPECT_EQ(t.precision, 2);
}

TEST(MysqlTypes, StringsBytesAndOthers) {
  for (const char* s : {"char", "varchar", "tinytext", "text", "mediumtext", "longtext"})
    EXPECT_EQ(map(s, s).type, LogicalType::String) << s;
  EXPECT_EQ(map("longtext", "longtext", -1, -1, -1, /*json=*/true).type, LogicalType::Json);  // MariaDB JSON
  EXPECT_EQ(map("json", "json").type, LogicalType::Json);                                    // MySQL JSON
  for (const char* s : {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"})
    EXPECT_EQ(map(s, s).type, LogicalType::Bytes) << s;
  EXPECT_EQ(map("enum", "enum('a','b')").type, LogicalType::Enum);
  EXPECT_EQ(map("set", "set('a','b')").type, LogicalType::Set);
  for (const char* s : {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                        "geometrycollection"})
    EXPECT_EQ(map(s, s).type, LogicalType::Geometry) << s;
  for (const char* s : {"inet6", "inet4", "uuid", "vector"}) EXPECT_EQ(map(s, s).type, LogicalType::Unsupported) << s;
}

TEST(MysqlTypes, RenderAndSelectPerType) {
  Column f = map("float", "float");
  EXPECT_EQ(render_of(f), MysqlRender::Float32);
  EXPECT_EQ(select_expression(f), "CAST(`c` AS DOUBLE)");
  EXPECT_EQ(render_of(map("double", "double")), MysqlRender::Float64);
  EXPECT_EQ(render_of(map("bit", "bit(3)")), MysqlRender::Bit);
  EXPECT_EQ(render_of(map("blob", "blob")), MysqlRender::Hex);
  EXPECT_EQ(render_of(map("point", "point")), MysqlRender::Geometry);
  EXPECT_EQ(render_of(map("timestamp", "timestamp")), MysqlRender::TimestampUtc);
  for (const char* s : {"int", "decimal", "date", "datetime", "time", "year", "varchar", "enum", "set"})
    EXPECT_EQ(render_of(map(s, s)), MysqlRender::Verbatim) << s;
  EXPECT_EQ(select_expression(map("int", "int")), "`c`");
}

// What MariaDB's text protocol sends for CAST(f AS DOUBLE), and the canonical text.
TEST(MysqlRendering, FloatsAreShortestRoundTrip) {
  EXPECT_EQ(render(MysqlRender::Float64, "0.30000000000000004"), "0.30000000000000004");
  EXPECT_EQ(render(MysqlRender::Float64, "1.7976931348623157e308"), "1.7976931348623157e+308");
  EXPECT_EQ(render(MysqlRender::Float64, "5e-324"), "5e-324");
  // to_chars picks the shorter of fixed and scientific (the binlog decoder does the same).
  EXPECT_EQ(render(MysqlRender::Float64, "1.2345678901234568e20"), "123456789012345683968");
  EXPECT_EQ(render(MysqlRender::Float64, "1.2345678901234568e25"), "1.2345678901234568e+25");
  EXPECT_EQ(render(MysqlRender::Float64, "0.000001"), "1e-06");
  EXPECT_EQ(render(MysqlRender::Float64, "-0"), "-0");
  // A float widened to double: printed as the float's shortest text.
  EXPECT_EQ(render(MysqlRender::Float32, "3.4028234663852886e38"), "3.4028235e+38");
  EXPECT_EQ(render(MysqlRender::Float32, "16777216"), "16777216");
  EXPECT_EQ(render(MysqlRender::Float32, "0.30000001192092896"), "0.3");
  EXPECT_EQ(render(MysqlRender::Float32, "1.401298464324817e-45"), "1e-45");
  // The bits survive: the canonical text reads back to the float.
  float back = 0;
  std::string t = render(MysqlRender::Float32, "0.10000000149011612");
  std::sscanf(t.c_str(), "%f", &back);
  EXPECT_EQ(std::bit_cast<uint32_t>(back), std::bit_cast<uint32_t>(0.1f));
  EXPECT_THROW(render(MysqlRender::Float32, "0.1"), Error);  // not a float's exact value
  EXPECT_THROW(render(MysqlRender::Float64, "abc"), Error);
}

TEST(MysqlRendering, BitsBytesGeometryTimestamps) {
  EXPECT_EQ(render(MysqlRender::Bit, std::string("\x00\x0a", 2), 10), "0000001010");
  EXPECT_EQ(render(MysqlRender::Bit, std::string("\x01", 1), 1), "1");
  EXPECT_EQ(render(MysqlRender::Bit, std::string(8, '\xff'), 64), std::string(64, '1'));
  EXPECT_THROW(render(MysqlRender::Bit, std::string(9, '\x01'), 64), Error);
  EXPECT_EQ(render(MysqlRender::Hex, std::string("\x00\xff\x10", 3)), "\\x00ff10");
  EXPECT_EQ(render(MysqlRender::Hex, ""), "\\x");
  EXPECT_EQ(render(MysqlRender::Geometry, std::string("\x00\x00\x00\x00\x01\x02", 6)), "\\x0102");  // SRID dropped
  EXPECT_EQ(render(MysqlRender::TimestampUtc, "2024-01-02 03:04:05.500"), "2024-01-02 03:04:05.500+00");
  EXPECT_EQ(render(MysqlRender::TimestampUtc, "0000-00-00 00:00:00.000"), "0000-00-00 00:00:00.000");  // zero: no zone
  EXPECT_EQ(render(MysqlRender::Verbatim, "0000-00-00"), "0000-00-00");
  EXPECT_EQ(render(MysqlRender::Verbatim, "18446744073709551615"), "18446744073709551615");
}

TEST(MysqlRendering, CopyEscapes) {
  std::string out;
  append_copy_escaped(out, "a\tb\nc\\d\re");
  EXPECT_EQ(out, "a\\tb\\nc\\\\d\\re");
}

TEST(MysqlSource, SplitsTableNames) {
  EXPECT_EQ(MysqlSource::split_table("shop.orders", ""), (std::pair<std::string, std::string>{"shop", "orders"}));
  EXPECT_EQ(MysqlSource::split_table("orders", "shop"), (std::pair<std::string, std::string>{"shop", "orders"}));
  EXPECT_EQ(MysqlSource::split_table("`my.db`.`t``x`", ""), (std::pair<std::string, std::string>{"my.db", "t`x"}));
  try {
    MysqlSource::split_table("orders", "");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("orders"), std::string::npos);
  }
}

TEST(MysqlSource, KeyRangesCoverTheKeySpace) {
  EXPECT_EQ(MysqlSource::key_ranges(1, 100, 1), std::vector<std::string>{"all"});
  EXPECT_EQ(MysqlSource::key_ranges(1, 100, 4),
            (std::vector<std::string>{"key::26", "key:26:51", "key:51:76", "key:76:"}));
  // The whole unsigned 64-bit range: no overflow.
  auto r = MysqlSource::key_ranges(0, (__int128)UINT64_MAX, 2);
  EXPECT_EQ(r, (std::vector<std::string>{"key::9223372036854775808", "key:9223372036854775808:"}));
}

TEST(MysqlSource, PartitionQueries) {
  TableSchema t;
  t.schema = "shop";
  t.name = "orders";
  Column id = map("bigint", "bigint(20) unsigned");
  id.name = "id";
  id.key_position = 1;
  Column f = map("float", "float");
  f.name = "price";
  t.columns = {id, f};
  EXPECT_EQ(MysqlSource::partition_query(t, "all"), "SELECT `id`, CAST(`price` AS DOUBLE) FROM `shop`.`orders`");
  EXPECT_EQ(MysqlSource::partition_query(t, "key:10:20"),
            "SELECT `id`, CAST(`price` AS DOUBLE) FROM `shop`.`orders` WHERE `id` >= 10 AND `id` < 20");
  EXPECT_EQ(MysqlSource::partition_query(t, "key::20"),
            "SELECT `id`, CAST(`price` AS DOUBLE) FROM `shop`.`orders` WHERE `id` < 20");
  EXPECT_THROW(MysqlSource::partition_query(t, "key:1;DROP:2"), Error);
  EXPECT_THROW(MysqlSource::partition_query(t, "ctid:1:2"), Error);
}

TEST(MysqlSource, CursorLiterals) {
  Column d = map("decimal", "decimal(65,30)", 65, 30);
  EXPECT_EQ(MysqlSource::cursor_literal(d, "12.500000000000000000000000000001"), "12.500000000000000000000000000001");
  EXPECT_THROW(MysqlSource::cursor_literal(d, "1 OR 1=1"), Error);
  Column ts = map("timestamp", "timestamp(6)", -1, -1, 6);
  EXPECT_EQ(MysqlSource::cursor_literal(ts, "2024-01-02 03:04:05.000001+00"), "'2024-01-02 03:04:05.000001'");
  Column s = map("varchar", "varchar(10)");
  EXPECT_EQ(MysqlSource::cursor_literal(s, "it's \\"), "'it''s \\\\'");
}

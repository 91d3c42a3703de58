// ClickHouseDestination against the real server of FERRY_TEST_CH_URL (18.16 in the test
// environment): DDL with weird names, every mapped type through load_snapshot and back,
// idempotent reloads, errors and their kinds.
#include "../shared/chunks_stream.h"
#include "connectors/clickhouse/clickhouse_destination.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "connectors/clickhouse/tsv_answer.h"
#include "connectors/clickhouse/tsv_encoder.h"
#include "core/error.h"
#include "core/ident.h"
#include "core/spec.h"
#include "clickhouse_fixture.h"
#include "test_env.h"
#include "../shared/destination_table.h"
#include "../shared/column_builder.h"

using namespace ferry;
using namespace ferry::clickhouse;

using namespace ferry::test;

namespace {

// Generates rows on the fly (nothing held in memory); optionally throws after n chunks.
class GeneratedStream : public CopyStream {
 public:
  GeneratedStream(int64_t rows, int64_t rows_per_chunk, int throw_after_chunks = -1)
      : rows_(rows), per_chunk_(rows_per_chunk), throw_after_(throw_after_chunks) {}
  bool next_chunk(std::string& out) override {
    if (next_ >= rows_) return false;
    if (throw_after_ >= 0 && chunks_ == throw_after_) throw transient_error("source went away (test)");
    ++chunks_;
    for (int64_t i = 0; i < per_chunk_ && next_ < rows_; ++i, ++next_)
      out += std::to_string(next_) + "\tname " + std::to_string(next_) + "\tt\n";
    return true;
  }
  int chunks() const { return chunks_; }

 private:
  int64_t rows_, per_chunk_, next_ = 0;
  int throw_after_;
  int chunks_ = 0;
};

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// Hex of the little-endian bytes of a double, as hex(reinterpretAsFixedString(x)) shows them.
std::string bits(double v) {
  std::string bytes(sizeof v, '\0');
  std::memcpy(bytes.data(), &v, sizeof v);
  return hex(bytes);
}

// Rows of a TabSeparated answer, fields left escaped as ClickHouse sent them.
std::vector<std::vector<std::string>> raw_tsv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = std::min(text.find('\n', pos), text.size());
    auto fields = clickhouse::split_tsv_line(std::string_view(text).substr(pos, eol - pos));
    rows.emplace_back(fields.begin(), fields.end());
    pos = eol + 1;
  }
  return rows;
}

using ClickHouseDestinationTest = ferry::test::ClickHouseDatabaseTest;

// One column of the every-type table: two COPY values and how they read back.
struct TypeCase {
  Column column;
  std::string copy1, copy2;
  std::string select;  // "{}" = the quoted column
  std::string expect1, expect2;
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

}  // namespace

TEST_F(ClickHouseDestinationTest, ReportsVersionAndCapabilities) {
  std::string v = dest_->server_version();
  EXPECT_EQ(v.rfind("ClickHouse ", 0), 0u) << v;
  const Capabilities& caps = dest_->capabilities();
  EXPECT_GT(caps.major, 0);
  std::string server = ch("SELECT version()");
  EXPECT_EQ(server.substr(0, caps.version.size()), caps.version);
  if (!caps.at_least(20, 1)) {
    EXPECT_FALSE(caps.has_datetime64);
  }
  // Verify the capability flags against the server itself.
  auto type_works = [&](const std::string& type) {
    try {
      ch("SELECT CAST(NULL AS Nullable(" + type + "))");
      return true;
    } catch (const Error&) {
      return false;
    }
  };
  EXPECT_EQ(type_works("DateTime64(6, 'UTC')"), caps.has_datetime64);
  EXPECT_EQ(type_works("Date32"), caps.has_date32);
  EXPECT_EQ(type_works("Bool"), caps.has_bool);
  EXPECT_TRUE(type_works("UUID"));
  EXPECT_TRUE(type_works("Decimal(38, 10)"));
}

TEST_F(ClickHouseDestinationTest, EveryMappedTypeRoundTripsWithWeirdNames) {
  const Capabilities& caps = dest_->capabilities();
  const bool dt64 = caps.has_datetime64;
  const std::string uuid = "6f1b5e34-6f2b-4b8a-9f5e-2f1a1b2c3d4e";
  auto dec = [](Column c, int p, int s) {
    c.precision = p;
    c.scale = s;
    return c;
  };
  auto arr = [](Column c, LogicalType element) {  // NOT NULL arrays become Array(Nullable(T))
    c.element = element;
    c.nullable = false;
    return c;
  };
  const std::string tricky_copy = R"(a\tb\nc\\d'e"f ünï 日本 \b\f\v \r end `x`)";
  const std::string tricky_raw = "a\tb\nc\\d'e\"f ünï 日本 \b\f\v \r end `x`";
  // texts: a, "b c", q"uote, NULL, the string NULL, back\slash, tab<TAB>here, ünï, it's, ''
  std::string texts_hex = "[";
  for (const char* e :
       {"a", "b c", "q\"uote", (const char*)nullptr, "NULL", "back\\slash", "tab\there", "ünï", "it's", ""}) {
    if (texts_hex.size() > 1) texts_hex += ",";
    texts_hex += e ? "'" + hex(e) + "'" : "'null'";
  }
  texts_hex += "]";
  std::vector<TypeCase> cases = {
      {col("Id", LogicalType::Int64, false, 1), "1", "2", "{}", "1", "2"},
      {col("Small Int", LogicalType::Int16), "-32768", "\\N", "{}", "-32768", "\\N"},
      {col("int 32", LogicalType::Int32), "2147483647", "\\N", "{}", "2147483647", "\\N"},
      {col("BIG int", LogicalType::Int64), "-9223372036854775808", "\\N", "{}", "-9223372036854775808", "\\N"},
      {col("réel", LogicalType::Float32), "1.5", "-Infinity", "{}", "1.5", "-inf"},
      // Compared by bits: 18.16 prints floats in its own way (-1.2345678901234568e-300).
      {col("double \"q\"", LogicalType::Float64), "-1.2345678901234567e-300", "NaN",
       "if(isNaN({}), 'nan', hex(reinterpretAsFixedString(assumeNotNull({}))))", bits(-1.2345678901234567e-300), "nan"},
      {dec(col("price (10,2)", LogicalType::Decimal), 10, 2), "12.50", "-0.01", "{}", "12.50", "-0.01"},
      {dec(col("Big Dec", LogicalType::Decimal), 38, 10), "1234567890123456789012345678.0123456789", "\\N", "{}",
       "1234567890123456789012345678.0123456789", "\\N"},
      {col("num", LogicalType::NumericText), "NaN", "123456789012345678901234567890.123456789", "{}", "NaN",
       "123456789012345678901234567890.123456789"},
      {col("Flag", LogicalType::Bool), "t", "f", "{}", "1", "0"},
      {col("ünï `q'\\ text", LogicalType::String), tricky_copy, R"(\\N)", "hex({})", hex(tricky_raw), "5C4E"},
      {col("bytes", LogicalType::Bytes), R"(\\x00ff0a5c09)", R"(\\x)", "hex({})", "00FF0A5C09", ""},
      // 18.16 renders day 0 (1970-01-01) as 0000-00-00; the day number shows it is stored right.
      {col("day", LogicalType::Date), "2020-01-02", "1970-01-01", "toInt32({})", "18263", "0"},
      {col("time", LogicalType::Time), "13:45:00.5", "\\N", "{}", "13:45:00.5", "\\N"},
      {col("ts", LogicalType::Timestamp), "2020-01-02 03:04:05.123456", "1999-12-31 23:59:59", "toString({})",
       "2020-01-02 03:04:05.123456", dt64 ? "1999-12-31 23:59:59.000000" : "1999-12-31 23:59:59"},
      {col("tstz", LogicalType::TimestampTz), "2020-01-02 03:04:05.5+00", "\\N", "toString({})",
       dt64 ? "2020-01-02 03:04:05.500000" : "2020-01-02 03:04:05.5+00", "\\N"},
      {col("iv", LogicalType::Interval), "1 year 2 mons 3 days 04:05:06", "\\N", "{}", "1 year 2 mons 3 days 04:05:06",
       "\\N"},
      {col("u", LogicalType::Uuid), uuid, "\\N", "{}", uuid, "\\N"},
      {col("js", LogicalType::Json), R"({"a": "b\\\\c"})", "\\N", "hex({})", hex(R"({"a": "b\\c"})"), "\\N"},
      {col("mood", LogicalType::Enum), "happy", "\\N", "{}", "happy", "\\N"},
      {col("ip", LogicalType::Inet), "192.168.0.1/24", "\\N", "{}", "192.168.0.1/24", "\\N"},
      {arr(col("ints", LogicalType::Array), LogicalType::Int32), "{1,2,NULL}", "{}", "{}", "[1,2,NULL]", "[]"},
      {arr(col("texts", LogicalType::Array, true, 0, "text[]"), LogicalType::String),
       R"({a,"b c","q\\"uote",NULL,"NULL","back\\\\slash","tab\there",ünï,it's,""})", "{}",
       "arrayMap(x -> ifNull(hex(x), 'null'), {})", texts_hex, "[]"},
      {arr(col("days", LogicalType::Array), LogicalType::Date), "{2020-01-02,NULL}", "{}", "{}", "['2020-01-02',NULL]",
       "[]"},
      {arr(col("floats", LogicalType::Array), LogicalType::Float64), "{1.5,Infinity,-Infinity,NaN,NULL}", "{}",
       "arrayMap(x -> toString(x), {})", "['1.5','inf','-inf','nan',NULL]", "[]"},
      {arr(col("bools", LogicalType::Array), LogicalType::Bool), "{t,f,NULL}", "{}", "{}", "[1,0,NULL]", "[]"},
      {dec(arr(col("decs", LogicalType::Array), LogicalType::Decimal), 5, 2), "{1.25,-0.50,NULL}", "{}", "{}",
       "[1.25,-0.50,NULL]", "[]"},
      {arr(col("uuids", LogicalType::Array), LogicalType::Uuid), "{" + uuid + ",NULL}", "{}", "{}",
       "['" + uuid + "',NULL]", "[]"},
      {arr(col("jsons", LogicalType::Array, true, 0, "json[]"), LogicalType::Json), R"({"{\\"a\\": 1}"})", "{}",
       "hex({})", hex(R"({"{\"a\": 1}"})"), hex("{}")},
      // Nullable arrays keep the PostgreSQL text (ClickHouse has no Nullable(Array)).
      {[] {
         Column c = col("Maybe Ints", LogicalType::Array, true, 0, "integer[]");
         c.element = LogicalType::Int32;
         return c;
       }(),
       "{1,NULL}", "\\N", "{}", "{1,NULL}", "\\N"},
  };
  TableSchema schema;
  schema.schema = "public";
  schema.name = "Wéird `t' \"x\" Tab";
  for (const auto& c : cases) schema.columns.push_back(c.column);
  DestinationTable dt = dest_table("Wéird `t' \"x\" Tab");

  dest_->ensure_table(schema, dt);
  dest_->ensure_table(schema, dt);  // idempotent

  std::string row1, row2;
  for (size_t i = 0; i < cases.size(); ++i) {
    row1 += (i ? "\t" : "") + cases[i].copy1;
    row2 += (i ? "\t" : "") + cases[i].copy2;
  }
  ChunksStream rows({row1 + "\n", row2 + "\n"});
  EXPECT_EQ(dest_->load_snapshot(schema, dt, rows, 1), 2);
  EXPECT_EQ(dest_->count_rows(dt), 2);

  std::string select = "SELECT ";
  for (size_t i = 0; i < cases.size(); ++i)
    select += (i ? ", " : "") + replace_all(cases[i].select, "{}", quote_backtick_ident(cases[i].column.name));
  select += " FROM " + table(dt.name) + " FINAL ORDER BY `Id` FORMAT TabSeparated";
  auto got = raw_tsv_rows(ch(select));
  ASSERT_EQ(got.size(), 2u);
  for (size_t r = 0; r < 2; ++r) {
    ASSERT_EQ(got[r].size(), cases.size());
    for (size_t i = 0; i < cases.size(); ++i) {
      const std::string& expect = r == 0 ? cases[i].expect1 : cases[i].expect2;
      EXPECT_EQ(got[r][i], expect) << "row " << r + 1 << ", column " << cases[i].column.name << " ("
                                   << to_string(cases[i].column.type) << ")";
    }
  }

  // The _ferry_* columns: snapshot rows have the load's version, are not deleted, and got a
  // sync time (the DEFAULT of a column the INSERT does not list, also under RowBinary).
  EXPECT_EQ(ch("SELECT count() FROM " + table(dt.name) +
               " WHERE _ferry_version = 1 AND _ferry_is_deleted = 0 AND "
               "_ferry_synced_at > toDateTime('2020-01-01 00:00:00') FORMAT TabSeparated"),
            "2\n");

  // The column list, in order, with ClickHouse's own type names.
  auto columns = dest_->table_columns(dt.name);
  ASSERT_EQ(columns.size(), cases.size() + 3);
  EXPECT_EQ(columns[0].name, "Id");
  EXPECT_EQ(columns[0].type, "Int64");
  EXPECT_EQ(columns[10].name, "ünï `q'\\ text");
  EXPECT_EQ(columns[10].type, "Nullable(String)");
  EXPECT_EQ(columns[6].type, "Nullable(Decimal(10, 2))");
  EXPECT_EQ(columns[cases.size()].name, "_ferry_version");
  EXPECT_EQ(columns[cases.size() + 2].name, "_ferry_synced_at");
  EXPECT_TRUE(dest_->table_columns("no such table").empty());
  EXPECT_FALSE(dest_->database_engine().empty());
}

TEST_F(ClickHouseDestinationTest, LoadingThePartitionTwiceLeavesNoDuplicates) {
  TableSchema schema;
  schema.name = "orders";
  schema.columns = {col("id", LogicalType::Int64, false, 1), col("name", LogicalType::String),
                    col("paid", LogicalType::Bool)};
  DestinationTable dt = dest_table("orders", {"name"});
  // order_by column "name" is nullable: sorted by assumeNotNull(name) on servers
  // without allow_nullable_key, one row per key all the same.
  dest_->ensure_table(schema, dt);
  for (int i = 0; i < 2; ++i) {
    ChunksStream rows({"1\ta\tt\n2\tb\tf\n", "3\tc\tt\n", "4\t\\N\tt\n"});
    EXPECT_EQ(dest_->load_snapshot(schema, dt, rows, 1), 4);
  }
  EXPECT_EQ(dest_->count_rows(dt), 4);
  EXPECT_EQ(ch("SELECT id, name, paid FROM " + table("orders") + " FINAL ORDER BY id FORMAT TabSeparated"),
            "1\ta\t1\n2\tb\t0\n3\tc\t1\n4\t\\N\t1\n");
  std::string order = dest_->capabilities().has_nullable_key ? "ORDER BY (name, id)" : "ORDER BY (assumeNotNull(name), id)";
  EXPECT_NE(ch("SHOW CREATE TABLE " + table("orders") + " FORMAT TabSeparated").find(order), std::string::npos)
      << ch("SHOW CREATE TABLE " + table("orders") + " FORMAT TabSeparated");

  // A soft-deleted row (newer version, _ferry_is_deleted = 1) is no longer counted.
  ch("INSERT INTO " + table("orders") +
     " (id, name, paid, _ferry_version, _ferry_is_deleted) VALUES (2, 'b', 0, 7, 1)");
  EXPECT_EQ(dest_->count_rows(dt), 3);
}

TEST_F(ClickHouseDestinationTest, KeylessTableIsAPlainMergeTree) {
  TableSchema schema;
  schema.name = "events";
  schema.columns = {col("msg", LogicalType::String)};
  DestinationTable dt = dest_table("events");
  dest_->ensure_table(schema, dt);
  ChunksStream rows({"x\ny\n"});
  EXPECT_EQ(dest_->load_snapshot(schema, dt, rows, 1), 2);
  EXPECT_EQ(dest_->count_rows(dt), 2);
  EXPECT_EQ(ch("SELECT engine FROM system.tables WHERE database = " + quote_ch_literal(database_) +
               " AND name = 'events' FORMAT TabSeparated"),
            "MergeTree\n");
  dest_->drop_table("events");
  EXPECT_TRUE(dest_->table_columns("events").empty());
  dest_->drop_table("events");  // dropping a missing table is fine
}

TEST_F(ClickHouseDestinationTest, StreamsLargePartitionsInChunks) {
  TableSchema schema;
  schema.name = "big";
  schema.columns = {col("id", LogicalType::Int64, false, 1), col("name", LogicalType::String),
                    col("flag", LogicalType::Bool)};
  DestinationTable dt = dest_table("big");
  dest_->ensure_table(schema, dt);
  GeneratedStream rows(300000, 10000);
  EXPECT_EQ(dest_->load_snapshot(schema, dt, rows, 1), 300000);
  EXPECT_EQ(rows.chunks(), 30);
  EXPECT_EQ(dest_->count_rows(dt), 300000);
  EXPECT_EQ(ch("SELECT sum(id), countIf(flag = 1) FROM " + table("big") + " FORMAT TabSeparated"),
            "44999850000\t300000\n");
}

TEST_F(ClickHouseDestinationTest, SourceFailureAbortsTheInsertAndPropagates) {
  TableSchema schema;
  schema.name = "aborted";
  schema.columns = {col("id", LogicalType::Int64, false, 1), col("name", LogicalType::String),
                    col("flag", LogicalType::Bool)};
  DestinationTable dt = dest_table("aborted");
  dest_->ensure_table(schema, dt);
  GeneratedStream rows(100000, 1000, 5);
  try {
    dest_->load_snapshot(schema, dt, rows, 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Transient);
    EXPECT_STREQ(e.what(), "source went away (test)");
  }
  // The server saw a broken request: nothing of it was committed.
  EXPECT_EQ(dest_->count_rows(dt), 0);
  // The client (and its connection) is still usable.
  ChunksStream ok({"1\tx\tt\n"});
  EXPECT_EQ(dest_->load_snapshot(schema, dt, ok, 1), 1);
  EXPECT_EQ(dest_->count_rows(dt), 1);
}

TEST_F(ClickHouseDestinationTest, UnconvertibleValueFailsNamingTableColumnAndValue) {
  TableSchema schema;
  schema.schema = "public";
  schema.name = "prices";
  Column price = col("Price", LogicalType::Decimal, true, 0, "numeric(10,2)");
  price.precision = 10;
  price.scale = 2;
  schema.columns = {col("id", LogicalType::Int64, false, 1), price};
  DestinationTable dt = dest_table("prices");
  dest_->ensure_table(schema, dt);
  ChunksStream rows({"1\t1.00\n", "2\tNaN\n"});
  try {
    dest_->load_snapshot(schema, dt, rows, 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_NE(m.find("public.prices"), std::string::npos) << m;
    EXPECT_NE(m.find("column Price"), std::string::npos) << m;
    EXPECT_NE(m.find("'NaN'"), std::string::npos) << m;
  }
  EXPECT_EQ(dest_->count_rows(dt), 0);
}

TEST_F(ClickHouseDestinationTest, UnrepresentableValuesFollowThePolicyAndAreCounted) {
  TableSchema schema;
  schema.schema = "public";
  schema.name = "events";
  Column price = col("price", LogicalType::Decimal);
  price.precision = 10;
  price.scale = 2;
  schema.columns = {col("id", LogicalType::Int64, false, 1), col("day", LogicalType::Date), price};
  for (OnUnrepresentable policy : {OnUnrepresentable::Clamp, OnUnrepresentable::Null}) {
    DestinationTable dt = dest_table(std::string("events_") + to_string(policy));
    dt.on_unrepresentable = policy;
    dest_->ensure_table(schema, dt);
    ChunksStream rows({"1\tinfinity\tInfinity\n2\t1969-07-20\t-Infinity\n", "3\t2020-01-02\tNaN\n"});
    EXPECT_EQ(dest_->load_snapshot(schema, dt, rows, 1), 3);
    const bool clamp = policy == OnUnrepresentable::Clamp;
    // Date holds 1970-01-01 .. 2105-12-31 (day 49672); Decimal(10, 2) at most 99999999.99.
    EXPECT_EQ(ch("SELECT id, toInt32(day), price FROM " + table(dt.name) + " ORDER BY id FORMAT TabSeparated"),
              clamp ? "1\t49672\t99999999.99\n2\t0\t-99999999.99\n3\t18263\t\\N\n"
                    : "1\t\\N\t\\N\n2\t\\N\t\\N\n3\t18263\t\\N\n");
    std::vector<UnrepresentableCount> counts = dest_->take_unrepresentable();
    ASSERT_EQ(counts.size(), 2u);
    EXPECT_EQ(counts[0].table, dt.name);
    EXPECT_EQ(counts[0].column, "day");
    EXPECT_EQ(counts[0].count, 2);
    EXPECT_EQ(counts[0].first_value, "infinity");
    EXPECT_EQ(counts[1].column, "price");
    EXPECT_EQ(counts[1].count, 3);
    EXPECT_EQ(counts[1].first_value, "Infinity");
    EXPECT_TRUE(dest_->take_unrepresentable().empty());  // taken
  }
}

TEST_F(ClickHouseDestinationTest, UnmappableTypeFailsNamingTableColumnAndType) {
  TableSchema schema;
  schema.schema = "public";
  schema.name = "shapes";
  schema.columns = {col("id", LogicalType::Int64, false, 1),
                    col("Geom", LogicalType::Unsupported, true, 0, "geometry")};
  try {
    dest_->ensure_table(schema, dest_table("shapes"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_STREQ(e.what(), "table public.shapes: column Geom has type geometry that ferry cannot map to ClickHouse");
  }
  EXPECT_TRUE(dest_->table_columns("shapes").empty());
}

TEST_F(ClickHouseDestinationTest, ExistingTableWithoutAColumnIsRefused) {
  ch("CREATE DATABASE IF NOT EXISTS " + quote_backtick_ident(database_));
  ch("CREATE TABLE " + table("old") +
     " (id Int64, _ferry_version UInt64) ENGINE = ReplacingMergeTree(_ferry_version) ORDER BY id");
  TableSchema schema;
  schema.name = "old";
  schema.columns = {col("id", LogicalType::Int64, false, 1), col("added later", LogicalType::String)};
  try {
    dest_->ensure_table(schema, dest_table("old"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_NE(std::string(e.what()).find("without column(s) added later"), std::string::npos) << e.what();
  }
}

TEST_F(ClickHouseDestinationTest, ServerErrorsCarryCodeAndKind) {
  try {
    dest_->client().query("SELEC 1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_NE(std::string(e.what()).find("ClickHouse error 62"), std::string::npos) << e.what();
  }
  try {
    dest_->count_rows(dest_table("missing"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
  }
  // Inserting into a table that does not exist: the server's answer, not a send error.
  TableSchema schema;
  schema.name = "never created";
  schema.columns = {col("id", LogicalType::Int64, false, 1)};
  ChunksStream rows({"1\n"});
  try {
    dest_->load_snapshot(schema, dest_table("never created"), rows, 1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_NE(std::string(e.what()).find("ClickHouse error"), std::string::npos) << e.what();
  }
}

TEST_F(ClickHouseDestinationTest, WrongPasswordIsPermanentAndNotLeaked) {
  PeerSpec p = peer_;
  p.user = "default";
  p.password = "s3cret-not-the-password";
  ClickHouseDestination d(p);
  try {
    d.server_version();
    FAIL() << "wrong password accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent) << e.what();
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
  }
}

TEST_F(ClickHouseDestinationTest, UnreachableServerIsTransient) {
  PeerSpec p = peer_;
  p.url = "http://127.0.0.1:1";  // nothing listens on port 1
  ClickHouseDestination d(p);
  try {
    d.server_version();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Transient) << e.what();
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
  }
  TableSchema schema;
  schema.name = "t";
  schema.columns = {col("id", LogicalType::Int64, false, 1)};
  HttpOptions o;
  o.url = "http://127.0.0.1:1";
  ClickHouseDestination d2(o, "db");
  ChunksStream rows({"1\n"});
  // load_snapshot needs the version first (capabilities), then the insert: both Transient.
  try {
    d2.load_snapshot(schema, dest_table("t"), rows, 1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Transient) << e.what();
  }
}

TEST_F(ClickHouseDestinationTest, UnansweredRequestTimesOutAsTransient) {
  // A socket that listens (the kernel completes the handshake) but never answers.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  HttpOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  o.query_timeout_ms = 300;
  HttpClient client(o);
  try {
    client.query("SELECT 1");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Transient) << e.what();
    EXPECT_NE(std::string(e.what()).find("imed out"), std::string::npos) << e.what();
  }
  close(fd);
}

TEST_F(ClickHouseDestinationTest, FactoryBuildsClickHouseOnly) {
  EXPECT_NE(dynamic_cast<ClickHouseDestination*>(make_destination(peer_).get()), nullptr);
  PeerSpec pg;
  pg.name = "shop";
  pg.type = PeerType::SQLite;  // no SQLite destination (postgres is one now)
  try {
    make_destination(pg);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("destination not supported yet"), std::string::npos);
  }
}

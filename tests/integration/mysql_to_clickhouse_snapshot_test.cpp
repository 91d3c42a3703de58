// Snapshot pipes from MariaDB 10.11 into ClickHouse 18.16 against the real servers:
// every MariaDB type value by value (floats by bits), the snapshot's text equal to the
// binlog decoder's for the same rows (so snapshot and CDC agree), one consistent point
// across parallel partitions under concurrent writes, kill -9 mid-load, and errors.
#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <charconv>
#include <cfloat>
#include <map>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "connectors/clickhouse/pg_text.h"
#include "connectors/mysql/binlog_client.h"
#include "connectors/mysql/binlog_rows.h"
#include "connectors/mysql/mysql_snapshot.h"
#include "connectors/mysql/mysql_source.h"
#include "core/error.h"
#include "core/ident.h"
#include "pipe/runner.h"
#include "cdc_support.h"
#include "mysql_support.h"
#include "../shared/pipe_spec.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;

namespace {

using Rows = std::vector<std::vector<std::string>>;

PipeSpec snapshot_pipe(const std::vector<std::string>& tables, int parallelism = 2, int64_t rows_per_partition = 1000) {
  PipeSpec p = pipe_spec("snap", PipeMode::Snapshot, tables);
  p.settings.snapshot_parallelism = parallelism;
  p.settings.snapshot_rows_per_partition = rows_per_partition;
  p.settings.max_retries = 0;
  return p;
}

// Scientific shortest text: MariaDB reads it as a DOUBLE literal, exactly (a float's
// value is written as the double it widens to, so no double rounding happens).
std::string literal(double d) {
  char buf[64];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific).ptr);
}

uint64_t bits_of_le_hex(const std::string& hex) {
  uint64_t v = 0;
  for (size_t i = hex.size(); i >= 2; i -= 2) v = (v << 8) | std::stoull(hex.substr(i - 2, 2), nullptr, 16);
  return v;
}

// Every row of a COPY text stream, fields unescaped, NULL as nullopt.
std::vector<std::vector<std::optional<std::string>>> read_all(CopyStream& s) {
  std::vector<std::vector<std::optional<std::string>>> out;
  std::string chunk;
  while (s.next_chunk(chunk)) {}
  size_t pos = 0;
  while (pos < chunk.size()) {
    size_t eol = chunk.find('\n', pos);
    std::string_view line(chunk.data() + pos, eol - pos);
    pos = eol + 1;
    std::vector<std::optional<std::string>> row;
    size_t s0 = 0;
    for (;;) {
      size_t tab = line.find('\t', s0);
      std::string_view f = line.substr(s0, tab == std::string_view::npos ? std::string_view::npos : tab - s0);
      if (clickhouse::is_copy_null(f)) {
        row.push_back(std::nullopt);
      } else {
        std::string v;
        clickhouse::unescape_copy_field(f, v);
        row.push_back(v);
      }
      if (tab == std::string_view::npos) break;
      s0 = tab + 1;
    }
    out.push_back(std::move(row));
  }
  return out;
}

const char* kEveryTypeTable = R"SQL(
  CREATE TABLE every (
    id INT PRIMARY KEY,
    i8 TINYINT, u8 TINYINT UNSIGNED, b1 TINYINT(1), i16 SMALLINT, u16 SMALLINT UNSIGNED,
    i24 MEDIUMINT, u24 MEDIUMINT UNSIGNED, i32 INT, u32 INT UNSIGNED, i64 BIGINT, u64 BIGINT UNSIGNED,
    f FLOAT, d DOUBLE, f73 FLOAT(7,3),
    dec65 DECIMAL(65,30), dec10 DECIMAL(10,2),
    y YEAR, bit1 BIT(1), bit10 BIT(10), bit64 BIT(64),
    e ENUM('red','green','blue'), s SET('a','b','c','d'),
    dte DATE, dz DATE, dt0 DATETIME, dt3 DATETIME(3), dt6 DATETIME(6), ts0 TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL,
    tm TIME(6),
    j JSON, g GEOMETRY, pt POINT, bl BLOB, bin4 BINARY(4), vb VARBINARY(10),
    txt TEXT, ch CHAR(5), vc VARCHAR(50)
  ) CHARACTER SET utf8mb4)SQL";

const char* kEveryTypeRows = R"SQL(
  SET SESSION sql_mode = '';
  INSERT INTO every VALUES
   (1, -128, 0, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
    -3.4028234663852886e38, -1.7976931348623157e308, -9999.999,
    '-99999999999999999999999999999999999.999999999999999999999999999999', -99999999.99,
    1901, b'0', b'0000000000', b'0', 'red', '', '1970-01-01', '0000-00-00', '0000-00-00 00:00:00',
    '1000-01-01 00:00:00.000', '1000-01-01 00:00:00.000000', '0000-00-00 00:00:00', '1970-01-01 00:00:01.000000',
    '-838:59:59.000000',
    '{}', ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('POINT(-1.5 2.25)'), '', 'a', '',
    '', '', ''),
   (2, 127, 255, 1, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807,
    18446744073709551615,
    1.401298464324817e-45, 4.9406564584124654e-324, 1.5,
    '99999999999999999999999999999999999.999999999999999999999999999999', 99999999.99,
    2155, b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111',
    'blue', 'a,b,c,d', '2105-12-31', '2024-02-29', '9999-12-31 23:59:59', '2024-02-29 12:34:56.789',
    '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07', '2024-02-29 12:34:56.000001', '838:59:59.999999',
    '{"a": [1, 2.5, "x"], "b": {"c": null}}',
    ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))'), ST_GeomFromText('POINT(1e300 -1e-300)'),
    X'00FF10', X'0102', X'00000000000000000000',
    'tab\there\nnewline\\backslash ''quote" ünïcødé 日本 🦀', 'ab  ', 'x'),
   (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL),
   (4, 0, 1, 5, 0, 1, 0, 1, 0, 1, 0, 9223372036854775808,
    0.1, 0.1, 0, 0, 0, 0, b'1', b'1000000001', b'1000000000000000000000000000000000000000000000000000000000000001',
    'green', 'b,d', '2000-01-01', '2024-00-10', '2024-02-29 00:00:00', '2024-02-29 00:00:00.5',
    '2024-02-29 00:00:00.000001', '2024-02-29 23:59:59', '1999-12-31 23:59:59.999999', '00:00:00',
    '"str"', ST_GeomFromText('LINESTRING(0 0,1 1,2 2)'), NULL, X'5C09', X'61620000', X'5C',
    '\\N', ' ', 'ü'))SQL";

}  // namespace

// Every MariaDB type loads value by value: for each column a MariaDB expression and a
// ClickHouse expression render the same text for every row.
TEST(MysqlToClickHouseSnapshot, EveryTypeRoundTrips) {
  Sandbox sb("my_types");
  MysqlDatabase my(sb);
  my.exec(kEveryTypeTable);
  my.exec("SET SESSION sql_mode = ''");
  std::string rows = kEveryTypeRows;
  my.exec(rows.substr(rows.find("INSERT")));
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  // The zero date in `dz` cannot be a ClickHouse Date: kept as the source text.
  PipeSpec spec = snapshot_pipe({my.name() + ".every"});
  spec.tables[0].column_types = {{"dz", "String"}};
  PipeRunner runner(*catalog, spec, my.peer(), sb.ch_peer());
  ASSERT_EQ(runner.run(), PipeState::Completed) << catalog->get_pipe("snap")->last_error;

  struct Check {
    std::string column, my, ch;
  };
  auto same = [](const std::string& c) { return Check{c, "CAST(" + c + " AS CHAR)", "toString(" + c + ")"}; };
  auto bits = [](const std::string& c, int n) {
    return Check{c, fmt::format("LPAD(BIN({0} + 0), {1}, '0')", c, n), c};
  };
  auto hex = [](const std::string& c) { return Check{c, "HEX(" + c + ")", "hex(" + c + ")"}; };
  std::vector<Check> checks = {
      same("i8"), same("u8"), same("b1"), same("i16"), same("u16"), same("i24"), same("u24"), same("i32"),
      same("u32"), same("i64"), same("u64"),
      {"dec65", "CAST(dec65 AS CHAR)", "dec65"},
      {"dec10", "CAST(dec10 * 100 AS SIGNED)", "toString(toInt64(dec10 * 100))"},
      {"y", "CAST(y + 0 AS CHAR)", "toString(y)"},
      bits("bit1", 1), bits("bit10", 10), bits("bit64", 64),
      {"e", "e", "e"}, {"s", "s", "s"},
      // Days since the epoch: ClickHouse 18.16 prints day 0 as 0000-00-00.
      {"dte", "CAST(DATEDIFF(dte, '1970-01-01') AS CHAR)", "toString(toInt32(dte))"},
      {"dz", "CAST(dz AS CHAR)", "dz"},
      {"dt0", "CAST(dt0 AS CHAR)", "dt0"}, {"dt3", "CAST(dt3 AS CHAR)", "dt3"}, {"dt6", "CAST(dt6 AS CHAR)", "dt6"},
      // TIMESTAMP in UTC with +00 (the session is UTC); the zero value without it.
      {"ts0", "IF(ts0 = 0, CAST(ts0 AS CHAR), CONCAT(CAST(ts0 AS CHAR), '+00'))", "ts0"},
      {"ts6", "IF(ts6 = 0, CAST(ts6 AS CHAR), CONCAT(CAST(ts6 AS CHAR), '+00'))", "ts6"},
      {"tm", "CAST(tm AS CHAR)", "tm"},
      {"j", "j", "j"},
      {"g", "HEX(ST_AsBinary(g))", "hex(g)"}, {"pt", "HEX(ST_AsBinary(pt))", "hex(pt)"},
      hex("bl"), hex("bin4"), hex("vb"),
      {"txt", "txt", "txt"}, {"ch", "ch", "ch"}, {"vc", "vc", "vc"},
  };
  for (const auto& c : checks) {
    Rows expected = my.rows(fmt::format("SELECT CAST(id AS CHAR), {} FROM every ORDER BY id", c.my));
    Rows got = sb.ch_rows(fmt::format("SELECT toString(id), {} FROM {} FINAL ORDER BY id", c.ch, ch_table(sb, "every")));
    ASSERT_EQ(expected.size(), 4u);
    ASSERT_EQ(expected, got) << "column " << c.column;
  }
  // Mapped ClickHouse types.
  Rows types = sb.ch_rows(fmt::format("SELECT name, type FROM system.columns WHERE database = '{}' AND table = 'every' "
                                      "AND name IN ('u64', 'b1', 'y', 'bit64', 's', 'dte', 'ts6', 'g', 'dec65', 'dec10') "
                                      "ORDER BY name", sb.name()));
  EXPECT_EQ(types, (Rows{{"b1", "Nullable(Int8)"}, {"bit64", "Nullable(String)"}, {"dec10", "Nullable(Decimal(10, 2))"},
                         {"dec65", "Nullable(String)"}, {"dte", "Nullable(Date)"}, {"g", "Nullable(String)"},
                         {"s", "Nullable(String)"}, {"ts6", "Nullable(String)"}, {"u64", "Nullable(UInt64)"},
                         {"y", "Nullable(UInt16)"}}));
  // Floats by bits: the values inserted above.
  Rows fl = sb.ch_rows(fmt::format("SELECT hex(reinterpretAsFixedString(f)), hex(reinterpretAsFixedString(d)), "
                                   "hex(reinterpretAsFixedString(f73)) FROM {} FINAL WHERE id != 3 ORDER BY id",
                                   ch_table(sb, "every")));
  ASSERT_EQ(fl.size(), 3u);
  EXPECT_EQ(bits_of_le_hex(fl[0][0]), std::bit_cast<uint32_t>(-FLT_MAX));
  EXPECT_EQ(bits_of_le_hex(fl[0][1]), std::bit_cast<uint64_t>(-DBL_MAX));
  EXPECT_EQ(bits_of_le_hex(fl[0][2]), std::bit_cast<uint32_t>(-9999.999f));
  EXPECT_EQ(bits_of_le_hex(fl[1][0]), 1u);  // the smallest subnormal float
  EXPECT_EQ(bits_of_le_hex(fl[1][1]), 1u);  // the smallest subnormal double
  EXPECT_EQ(bits_of_le_hex(fl[2][0]), std::bit_cast<uint32_t>(0.1f));
  EXPECT_EQ(bits_of_le_hex(fl[2][1]), std::bit_cast<uint64_t>(0.1));
}

// Random bit patterns of FLOAT and DOUBLE arrive bit for bit (MariaDB's text protocol
// prints a FLOAT with 6 digits; the source reads it as DOUBLE and re-renders it).
TEST(MysqlToClickHouseSnapshot, FloatsArriveBitForBit) {
  Sandbox sb("my_floats");
  MysqlDatabase my(sb);
  my.exec("CREATE TABLE floats (id INT PRIMARY KEY, f FLOAT NOT NULL, d DOUBLE NOT NULL)");
  std::mt19937_64 rng(20241203);
  std::vector<std::pair<float, double>> values = {{FLT_MAX, DBL_MAX}, {FLT_MIN, DBL_MIN}, {16777216.0f, 9007199254740993.0},
                                                  {1.0000001f, 1.0000000000000002}, {0.3f, 0.30000000000000004}};
  while (values.size() < 3000) {
    float f = std::bit_cast<float>(uint32_t(rng()));
    double d = std::bit_cast<double>(uint64_t(rng()));
    if (std::isfinite(f) && std::isfinite(d) && f != 0 && d != 0) values.emplace_back(f, d);
  }
  for (size_t start = 0; start < values.size(); start += 500) {
    std::string sql = "INSERT INTO floats VALUES ";
    for (size_t i = start; i < std::min(values.size(), start + 500); ++i)
      sql += fmt::format("{}({}, {}, {})", i == start ? "" : ",", i, literal(values[i].first), literal(values[i].second));
    my.exec(sql);
  }
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  PipeRunner runner(*catalog, snapshot_pipe({my.name() + ".floats"}, 2, 1000), my.peer(), sb.ch_peer());
  ASSERT_EQ(runner.run(), PipeState::Completed) << catalog->get_pipe("snap")->last_error;
  Rows ch = sb.ch_rows(fmt::format("SELECT toString(id), hex(reinterpretAsFixedString(f)), "
                                   "hex(reinterpretAsFixedString(d)) FROM {} FINAL ORDER BY id", ch_table(sb, "floats")));
  ASSERT_EQ(ch.size(), values.size());
  size_t wrong = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    bool ok = bits_of_le_hex(ch[i][1]) == std::bit_cast<uint32_t>(values[i].first) &&
              bits_of_le_hex(ch[i][2]) == std::bit_cast<uint64_t>(values[i].second);
    if (!ok && ++wrong <= 5)
      ADD_FAILURE() << "row " << i << ": float " << literal(values[i].first) << " double " << literal(values[i].second);
  }
  EXPECT_EQ(wrong, 0u);
}

// The snapshot's text of every value equals what the binlog decoder makes of the same
// row: CDC rows (binlog) and snapshot rows (SELECT) of one table are interchangeable.
TEST(MysqlToClickHouseSnapshot, SnapshotTextEqualsBinlogText) {
  Sandbox sb("my_binlog");
  MysqlDatabase my(sb);
  my.exec(kEveryTypeTable);
  my.exec("SET SESSION sql_mode = ''");
  auto master = my.conn().first_row("SHOW MASTER STATUS");
  ASSERT_TRUE(master);
  mysql::BinlogPosition start{*(*master)[0], std::stoull(*(*master)[1])};
  std::string rows = kEveryTypeRows;
  my.exec(rows.substr(rows.find("INSERT")));
  my.exec("INSERT INTO every (id, f, d) VALUES (5, -0e0, -0e0), (6, 3.4028234663852886e38, 2.2250738585072014e-308)");

  // The rows as the binlog carries them.
  std::map<std::string, std::vector<std::optional<std::string>>> from_binlog;  // by id
  {
    mysql::MysqlEndpoint ep{my.peer().host, my.peer().port, my.peer().user, ""};
    mysql::BinlogClientOptions options;
    options.server_id = 4000000101u;
    options.stop_at_end = true;
    mysql::BinlogClient client(ep, start, options);
    std::map<uint64_t, mysql::BinlogTableMap> maps;
    mysql::BinlogEvent ev;
    while (client.next(ev)) {
      if (auto* tm = std::get_if<mysql::TableMapEvent>(&ev.body)) maps[tm->table_id] = mysql::BinlogTableMap::from(*tm);
      if (auto* r = std::get_if<mysql::RowsEvent>(&ev.body)) {
        const auto& map = maps.at(r->table_id);
        if (map.database != my.name() || map.table != "every") continue;
        std::vector<mysql::RowChange> changes;
        mysql::decode_rows(*r, map, changes);
        for (const auto& c : changes) {
          std::vector<std::optional<std::string>> row;
          for (const auto& cell : c.after)
            row.push_back(cell.state == mysql::BinlogCell::Value ? std::optional<std::string>(cell.text) : std::nullopt);
          from_binlog[*row[0]] = row;
        }
      }
    }
  }
  ASSERT_EQ(from_binlog.size(), 6u);

  // The same rows read by the snapshot.
  mysql::MysqlSource source(my.peer());
  TableSchema schema = source.describe(my.name() + ".every");
  auto point = source.open_snapshot(true, 2);
  auto stream = source.read_partition(schema, "all", *point);
  auto snapshot = read_all(*stream);
  ASSERT_EQ(snapshot.size(), 6u);
  for (const auto& row : snapshot) {
    const auto& b = from_binlog.at(*row[0]);
    ASSERT_EQ(row.size(), b.size());
    for (size_t i = 0; i < row.size(); ++i)
      EXPECT_EQ(row[i], b[i]) << "row id " << *row[0] << " column " << schema.columns[i].name << " ("
                              << schema.columns[i].source_type << ")";
  }
}

// Parallel partitions read one point while a writer moves amounts between rows in
// transactions (the total never changes): the loaded total is the constant, and the
// loaded rows are exactly the source as of the snapshot's binlog position (the current
// rows with the binlog's changes after that position undone).
TEST(MysqlToClickHouseSnapshot, ParallelPartitionsShareOnePointUnderWrites) {
  Sandbox sb("my_consistent");
  MysqlDatabase my(sb);
  const int n = 20000;
  my.exec("CREATE TABLE accounts (id INT PRIMARY KEY, amount BIGINT NOT NULL)");
  my.exec("INSERT INTO accounts SELECT seq, 100 FROM seq_1_to_20000");
  my.exec("ANALYZE TABLE accounts");
  std::atomic<bool> stop{false};
  std::atomic<int64_t> transfers{0};
  std::thread writer([&] {
    auto c = mysql::MysqlConnection::open(my.peer());
    std::mt19937 rng(7);
    while (!stop) {
      int a = int(rng() % n) + 1, b = int(rng() % n) + 1, x = int(rng() % 50) + 1;
      c->exec("START TRANSACTION");
      c->exec(fmt::format("UPDATE accounts SET amount = amount - {} WHERE id = {}", x, a));
      c->exec(fmt::format("UPDATE accounts SET amount = amount + {} WHERE id = {}", x, b));
      c->exec("COMMIT");
      ++transfers;
    }
  });
  eventually([&] { return transfers > 200; }, 30);
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  PipeRunner runner(*catalog, snapshot_pipe({my.name() + ".accounts"}, 4, 2000), my.peer(), sb.ch_peer());
  PipeState state = runner.run();
  int64_t during = transfers;
  stop = true;
  writer.join();
  ASSERT_EQ(state, PipeState::Completed) << catalog->get_pipe("snap")->last_error;
  ASSERT_GE(catalog->tables("snap").at(0).partitions_total, 5);
  const std::string t = ch_table(sb, "accounts");
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + t + " FINAL"), std::to_string(n));
  EXPECT_EQ(sb.ch_value("SELECT sum(amount) FROM " + t + " FINAL"), std::to_string(n * 100));
  EXPECT_GT(during, 200);

  // The source as of the snapshot: undo the binlog's changes after its position.
  uint64_t version = std::stoull(sb.ch_value("SELECT toString(any(_ferry_version)) FROM " + t));
  EXPECT_EQ(sb.ch_value("SELECT toString(uniqExact(_ferry_version)) FROM " + t), "1");
  std::string file = *(*my.conn().first_row("SHOW MASTER STATUS"))[0];
  file = fmt::format("{}.{:06}", file.substr(0, file.find('.')), version >> 32);
  std::map<std::string, std::string> as_of;
  for (const auto& r : my.rows("SELECT CAST(id AS CHAR), CAST(amount AS CHAR) FROM accounts")) as_of[r[0]] = r[1];
  std::vector<mysql::RowChange> after;
  {
    mysql::MysqlEndpoint ep{my.peer().host, my.peer().port, my.peer().user, ""};
    mysql::BinlogClientOptions options;
    options.server_id = 4000000102u;
    options.stop_at_end = true;
    mysql::BinlogClient client(ep, {file, version & 0xffffffffu}, options);
    std::map<uint64_t, mysql::BinlogTableMap> maps;
    mysql::BinlogEvent ev;
    while (client.next(ev)) {
      if (auto* tm = std::get_if<mysql::TableMapEvent>(&ev.body)) maps[tm->table_id] = mysql::BinlogTableMap::from(*tm);
      if (auto* r = std::get_if<mysql::RowsEvent>(&ev.body)) {
        const auto& map = maps.at(r->table_id);
        if (map.database == my.name() && map.table == "accounts") mysql::decode_rows(*r, map, after);
      }
    }
  }
  EXPECT_FALSE(after.empty()) << "no writes after the snapshot: the test did not test concurrency";
  for (auto it = after.rbegin(); it != after.rend(); ++it) as_of[it->before[0].text] = it->before[1].text;
  Rows loaded = sb.ch_rows("SELECT toString(id), toString(amount) FROM " + t + " FINAL");
  ASSERT_EQ(loaded.size(), as_of.size());
  size_t differ = 0;
  for (const auto& r : loaded)
    if (as_of.at(r[0]) != r[1] && ++differ <= 5) ADD_FAILURE() << "id " << r[0] << ": loaded " << r[1] << ", source "
                                                                << as_of.at(r[0]) << " at the snapshot";
  EXPECT_EQ(differ, 0u);
}

// A zero date in a DATE column under each on_unrepresentable policy.
TEST(MysqlToClickHouseSnapshot, ZeroDatesFollowOnUnrepresentable) {
  Sandbox sb("my_zero");
  MysqlDatabase my(sb);
  my.exec("SET SESSION sql_mode = ''");
  my.exec("CREATE TABLE z (id INT PRIMARY KEY, d DATE, nd DATE NOT NULL)");
  my.exec("INSERT INTO z VALUES (1, '0000-00-00', '0000-00-00'), (2, '2024-02-29', '2024-02-29')");
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  const std::string t = ch_table(sb, "z");
  {
    PipeRunner runner(*catalog, snapshot_pipe({my.name() + ".z"}), my.peer(), sb.ch_peer());
    EXPECT_EQ(runner.run(), PipeState::Failed);
    std::string e = catalog->get_pipe("snap")->last_error;
    EXPECT_NE(e.find("0000-00-00"), std::string::npos) << e;
    EXPECT_NE(e.find("zero date"), std::string::npos) << e;
  }
  struct Case {
    OnUnrepresentable policy;
    Rows expected;
  };
  for (const Case& c : {Case{OnUnrepresentable::Null, {{"1", "\\N", "\\N"}, {"2", "2024-02-29", "2024-02-29"}}},
                        Case{OnUnrepresentable::Clamp, {{"1", "0", "0"}, {"2", "2024-02-29", "2024-02-29"}}},
                        Case{OnUnrepresentable::Text, {{"1", "0000-00-00", "0000-00-00"}, {"2", "2024-02-29", "2024-02-29"}}}}) {
    sb.ch("DROP TABLE IF EXISTS " + t);
    std::unique_ptr<Catalog> fresh = open_catalog(sb.dir() + "/" + to_string(c.policy) + ".db");
    PipeSpec p = snapshot_pipe({my.name() + ".z"});
    p.settings.on_unrepresentable = c.policy;
    PipeRunner runner(*fresh, p, my.peer(), sb.ch_peer());
    ASSERT_EQ(runner.run(), PipeState::Completed) << to_string(c.policy) << ": " << fresh->get_pipe("snap")->last_error;
    // Clamp writes day 0, which ClickHouse 18.16 prints as 0000-00-00: compared as day numbers.
    std::string d = c.policy == OnUnrepresentable::Clamp ? "toString(toInt32(d))" : "toString(d)";
    std::string nd = c.policy == OnUnrepresentable::Clamp ? "toString(toInt32(nd))" : "toString(nd)";
    Rows got = sb.ch_rows(fmt::format("SELECT toString(id), {}, {} FROM {} FINAL ORDER BY id", d, nd, t));
    if (c.policy == OnUnrepresentable::Clamp) got[1] = {got[1][0], "2024-02-29", "2024-02-29"};  // day 19782
    EXPECT_EQ(got, c.expected) << to_string(c.policy);
  }
}

// kill -9 of `ferry run` in the middle of the load; the restart redoes only the
// partitions that were not recorded done and converges exactly.
TEST(MysqlToClickHouseSnapshot, KillNineMidLoadThenRestart) {
  Sandbox sb("my_kill");
  MysqlDatabase my(sb);
  my.exec("CREATE TABLE k (id BIGINT UNSIGNED PRIMARY KEY, payload VARCHAR(200))");
  my.exec("INSERT INTO k SELECT seq, REPEAT(MD5(seq), 4) FROM seq_1_to_300000");
  my.exec("ANALYZE TABLE k");
  std::string config = my.write_config(sb, fmt::format(R"(
  snap:
    source: src
    destination: dst
    mode: snapshot
    tables: [ {}.k ]
    settings: {{ snapshot_parallelism: 2, snapshot_rows_per_partition: 10000 }}
)", my.name()));
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  CutLoad cut;
  ASSERT_NO_FATAL_FAILURE(kill_nine_mid_load(config, catalog_arg, "snap", 5, cut));
  ASSERT_NO_FATAL_FAILURE(finish_cut_load(config, catalog_arg, cut));
  const std::string t = ch_table(sb, "k");
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + t + " FINAL WHERE _ferry_is_deleted = 0"), "300000");
  EXPECT_EQ(sb.ch_value("SELECT toString(sum(id)) FROM " + t + " FINAL"), my.value("SELECT SUM(id) FROM k"));
  EXPECT_EQ(sb.ch_value("SELECT toString(sum(length(payload))) FROM " + t + " FINAL"),
            my.value("SELECT SUM(LENGTH(payload)) FROM k"));
  EXPECT_EQ(sb.ch_rows("SELECT payload FROM " + t + " FINAL WHERE id IN (1, 150001, 300000) ORDER BY id"),
            my.rows("SELECT payload FROM k WHERE id IN (1, 150001, 300000) ORDER BY id"));
  auto catalog = open_catalog(catalog_arg);
  EXPECT_EQ(catalog->get_pipe("snap")->state, PipeState::Completed);
  EXPECT_EQ(catalog->tables("snap")[0].rows_loaded, 300000);
}

// The pipe's snapshot_parallelism sizes the snapshot point's pool: while the load is
// held after a partition, exactly that many sessions of the pipe hold a consistent
// snapshot transaction (this test's own session holds none).
TEST(MysqlToClickHouseSnapshot, SnapshotParallelismSizesThePointsConnections) {
  Sandbox sb("my_par");
  MysqlDatabase my(sb);
  my.exec("CREATE TABLE p (id INT PRIMARY KEY, v VARCHAR(20))");
  my.exec("INSERT INTO p SELECT seq, CONCAT('v', seq) FROM seq_1_to_6000");
  std::string hold = sb.dir() + "/hold";
  TestHooks hooks;
  hooks.hold_at = "load-partition-done";
  hooks.hold_file = hold;
  for (int parallelism : {3, 1}) {
    sb.ch("DROP TABLE IF EXISTS " + ch_table(sb, "p"));
    std::unique_ptr<Catalog> fresh = open_catalog(sb.dir() + fmt::format("/par{}.db", parallelism));
    write_file(hold, "");
    PipeSpec spec = snapshot_pipe({my.name() + ".p"}, parallelism, 1000);
    BackgroundPipe pipe(sb, *fresh, spec, my.peer(), &hooks);
    FileRemovedAtExit release{hold};
    ASSERT_TRUE(eventually([&] {
      auto t = fresh->tables("snap");
      return !t.empty() && t[0].partitions_done > 0;
    }, 60));
    std::string open_snapshots = my.value(
        "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id <> CONNECTION_ID()");
    EXPECT_EQ(open_snapshots, std::to_string(parallelism));
    std::remove(hold.c_str());
    EXPECT_TRUE(pipe.wait_for(PipeState::Completed));
    EXPECT_EQ(pipe.stop(), PipeState::Completed);
    EXPECT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "p") + " FINAL"), "6000");
  }
}

TEST(MysqlToClickHouseSnapshot, DescribeKeysAndMissingTable) {
  Sandbox sb("my_describe");
  MysqlDatabase my(sb);
  my.exec("CREATE TABLE comp (a INT, b VARCHAR(10), c INT, PRIMARY KEY (b, a))");
  my.exec("CREATE TABLE uniq (a INT NOT NULL, b INT NULL, UNIQUE KEY aa (b), UNIQUE KEY ua (a))");
  my.exec("CREATE TABLE nokey (a INT)");
  mysql::MysqlSource source(my.peer());
  TableSchema comp = source.describe(my.name() + ".comp");
  EXPECT_EQ(comp.key_columns(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(source.plan_partitions(comp, 1), std::vector<std::string>{"all"});
  EXPECT_EQ(source.describe("uniq").key_columns(), std::vector<std::string>{"a"});  // default database; NOT NULL unique
  TableSchema nokey = source.describe(my.name() + ".nokey");
  EXPECT_TRUE(nokey.key_columns().empty());
  EXPECT_EQ(source.plan_partitions(nokey, 1), std::vector<std::string>{"all"});
  try {
    source.describe(my.name() + ".missing");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_NE(std::string(e.what()).find(my.name() + ".missing"), std::string::npos) << e.what();
  }
  // A pipe on a missing table fails naming it.
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  PipeRunner runner(*catalog, snapshot_pipe({my.name() + ".missing"}), my.peer(), sb.ch_peer());
  EXPECT_EQ(runner.run(), PipeState::Failed);
  EXPECT_NE(catalog->get_pipe("snap")->last_error.find("missing"), std::string::npos);
}

TEST(MysqlToClickHouseSnapshot, WrongPasswordIsPermanentWithoutThePassword) {
  Sandbox sb("my_auth");
  MysqlDatabase my(sb);
  my.exec("CREATE USER IF NOT EXISTS 'ferry_pw'@'%' IDENTIFIED BY 'right-secret'");
  PeerSpec p = my.peer();
  p.user = "ferry_pw";
  p.password = "wrong-secret-123";
  try {
    mysql::MysqlSource(p).server_version();
    FAIL() << "connected";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_EQ(std::string(e.what()).find("wrong-secret-123"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ferry_pw"), std::string::npos) << e.what();
  }
  p.port = 1;  // nothing listens there
  try {
    mysql::MysqlSource(p).server_version();
    FAIL() << "connected";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Transient) << e.what();
  }
  my.exec("DROP USER 'ferry_pw'@'%'");
}

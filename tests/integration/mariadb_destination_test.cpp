// The MariaDB destination (peer type mysql as destination) against the real server:
// PostgreSQL -> MariaDB and MariaDB -> MariaDB. Values are compared exactly: as the text
// MariaDB shows against the PostgreSQL rendering of the same type, floats by their bits.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "cdc_support.h"
#include "mysql_support.h"
#include "connectors/api/destination.h"
#include "core/check.h"
#include "pipe/compare.h"

namespace ferry::test {
namespace {

// A MariaDB database as the destination: the MysqlDatabase of a second sandbox, as peer "dst".
struct MariadbDestination {
  explicit MariadbDestination(const std::string& tag) : sb(tag), db(sb) {}
  PeerSpec peer() const {
    PeerSpec p = db.peer();
    p.name = "dst";
    return p;
  }
  Sandbox sb;
  MysqlDatabase db;
};

std::string peer_yaml(const PeerSpec& p) {
  return fmt::format("{{ type: mysql, host: \"{}\", port: {}, user: \"{}\", database: \"{}\" }}", p.host, p.port,
                     p.user, p.database);
}

// The bits of a double rendered as text (a PostgreSQL or MariaDB shortest rendering).
uint64_t double_bits(const std::string& text) {
  double d = 0;
  if (text == "-0") d = -0.0;
  else d = std::strtod(text.c_str(), nullptr);
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

uint32_t float_bits(const std::string& text) {
  float f = static_cast<float>(std::strtod(text.c_str(), nullptr));
  if (text.size() && text[0] == '-' && f == 0) f = -0.0f;
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// PostgreSQL rows of `table` and MariaDB rows of the same columns, ordered by `key`, as text.
std::pair<Rows, Rows> pg_and_mariadb(Sandbox& sb, MysqlDatabase& dst, const std::string& table,
                                     const std::vector<std::string>& cols, const std::string& key) {
  std::string pg_cols, my_cols;
  for (const auto& c : cols) {
    pg_cols += (pg_cols.empty() ? "" : ", ") + fmt::format("CASE WHEN {0} IS NOT NULL THEN format('%s', {0}) END", c);
    my_cols += (my_cols.empty() ? "" : ", ") + fmt::format("CAST(`{}` AS CHAR)", c);
  }
  return {sb.pg_rows(fmt::format("SELECT {} FROM {} ORDER BY {}", pg_cols, table, key)),
          dst.rows(fmt::format("SELECT {} FROM `{}` ORDER BY {}", my_cols, table, key))};
}

::testing::AssertionResult converges(Sandbox& sb, MysqlDatabase& dst, const std::string& table,
                                     const std::vector<std::string>& cols, const std::string& key = "id",
                                     std::chrono::seconds timeout = 60s) {
  return sides_converge([&] { return pg_and_mariadb(sb, dst, table, cols, key); }, table, "postgres", timeout, "mariadb");
}

const char* kTypes = R"SQL(
  CREATE TABLE types (id int PRIMARY KEY, i2 smallint, i4 int, i8 bigint, f4 real, f8 double precision,
    n numeric(12,3), nu numeric, b boolean, t text, vc varchar(10), ch char(4), by bytea, d date, tm time(3),
    ts timestamp, tz timestamptz, u uuid, j json, ia int[]);
)SQL";

std::string types_rows(int id0) {
  return fmt::format(R"SQL(
  INSERT INTO types VALUES
   ({0}, -32768, -2147483648, -9223372036854775808, -0, 5e-324, -999999999.999, 12345678901234567890.123456789,
    true, E'tab\there\nnew\\back ''q'' "dq"', 'héllo', 'ab', '\x00ff5c0a091a27', '0001-01-01', '23:59:59.999',
    '2024-02-29 12:34:56.123456', '2024-01-02 03:04:05.678901+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '{{"a": [1, 2.50]}}', '{{1,NULL,3}}'),
   ({1}, 32767, 2147483647, 9223372036854775807, 3.4028235e+38, 0.1, 0.001, -0.000000000000000000000000000001,
    false, '', '', '', '\x', '9999-12-31', '00:00:00', '1000-01-01 00:00:00', '1970-01-01 00:00:00.5+00',
    'eccbc87e-4b5c-e2fe-2830-8fd9f2a7baf3', '[]', '{{}}'),
   ({2}, 0, 0, 0, 1.17549435e-38, 1.7976931348623157e308, 0, 0, NULL, 'ünïcødé ☃ 😀', NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL),
   ({3}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL);
)SQL", id0 + 1, id0 + 2, id0 + 3, id0 + 4);
}

// Every column of PostgreSQL's rendering as MariaDB shows the column it was mapped to
// (README "MariaDB destination"); floats apart, by bits.
const std::vector<std::pair<std::string, std::string>> kTypeColumns = {
    {"i2", "format('%s', i2)"}, {"i4", "format('%s', i4)"}, {"i8", "format('%s', i8)"},
    {"n", "format('%s', n)"}, {"nu", "(nu::numeric(65,30))::text"},
    {"b", "CASE WHEN b THEN '1' ELSE '0' END"}, {"t", "t"}, {"vc", "vc"}, {"ch", "format('%s', ch)"},
    {"by", "encode(by, 'hex')"}, {"d", "format('%s', d)"},
    {"tm", "to_char(date '2000-01-01' + tm, 'HH24:MI:SS.MS')"},
    {"ts", "to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US')"},
    {"tz", "to_char(tz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"},
    {"u", "format('%s', u)"}, {"j", "format('%s', j)"}, {"ia", "format('%s', ia)"}};

void expect_types_equal(Sandbox& sb, MysqlDatabase& dst) {
  std::string pg_cols = "format('%s', id), f4::text, f8::text", my_cols =
                            "CAST(id AS CHAR), CAST(CAST(f4 AS DOUBLE) AS CHAR), CAST(f8 AS CHAR)";
  for (const auto& [name, pg] : kTypeColumns) {
    pg_cols += fmt::format(", CASE WHEN {} IS NOT NULL THEN {} END", name, pg);
    my_cols += name == "by" ? ", LOWER(HEX(`by`))" : fmt::format(", CAST(`{}` AS CHAR)", name);
  }
  Rows pg = sb.pg_rows("SELECT " + pg_cols + " FROM types ORDER BY id");
  Rows my = dst.rows("SELECT " + my_cols + " FROM types ORDER BY id");
  ASSERT_EQ(pg.size(), my.size());
  for (size_t r = 0; r < pg.size(); ++r) {
    const std::string& id = pg[r][0];
    EXPECT_EQ(my[r][0], id);
    if (pg[r][1] == "\\N") EXPECT_EQ(my[r][1], "\\N") << "f4 of row " << id;
    else EXPECT_EQ(float_bits(my[r][1]), float_bits(pg[r][1])) << "f4 of row " << id << ": " << pg[r][1] << " -> " << my[r][1];
    if (pg[r][2] == "\\N") EXPECT_EQ(my[r][2], "\\N") << "f8 of row " << id;
    else EXPECT_EQ(double_bits(my[r][2]), double_bits(pg[r][2])) << "f8 of row " << id << ": " << pg[r][2] << " -> " << my[r][2];
    for (size_t c = 0; c < kTypeColumns.size(); ++c)
      EXPECT_EQ(my[r][c + 3], pg[r][c + 3]) << kTypeColumns[c].first << " of row " << id;
  }
}

TEST(PgToMariadb, TypesArriveExactlyInSnapshotAndStream) {
  Sandbox sb("pgmy");
  MariadbDestination dst("pgmy_dst");
  sb.pg_exec(kTypes);
  sb.pg_exec(types_rows(0));
  auto catalog = open_catalog(sb.catalog_path());
  BackgroundPipe pipe(*catalog, pg_to_ch_pipe("pgmy", {"public.types"}), sb.pg_peer(), dst.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  sb.pg_exec(types_rows(10));
  sb.pg_exec("UPDATE types SET t = 'upd', f8 = -0 WHERE id = 3; DELETE FROM types WHERE id = 12");
  ASSERT_TRUE(eventually([&] { return dst.db.value("SELECT COUNT(*) FROM types") == "7" &&
                                      dst.db.value("SELECT t FROM types WHERE id = 3") == "upd"; }, 60));
  expect_types_equal(sb, dst.db);
  // The types created, as a reader of the replica sees them.
  EXPECT_EQ(dst.db.rows("SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                        "DATABASE() AND TABLE_NAME = 'types' AND COLUMN_NAME IN ('f4', 'nu', 'b', 'ts', 'tz', 'u', 'by') "
                        "ORDER BY COLUMN_NAME"),
            (Rows{{"b", "tinyint(1)"}, {"by", "longblob"}, {"f4", "float"}, {"nu", "decimal(65,30)"},
                  {"ts", "datetime(6)"}, {"tz", "datetime(6)"}, {"u", "char(36)"}}));
  pipe.stop();
  // ferry compare renders MariaDB's cells as PostgreSQL's text: equal, floats and the unbounded
  // numeric left out (named); a changed timestamp fraction or boolean is found by key.
  PipeSpec spec = pg_to_ch_pipe("pgmy", {"public.types"});
  auto equal = compare_pipe(spec, sb.pg_peer(), dst.peer(), CompareOptions{});
  ASSERT_EQ(equal.size(), 1u);
  EXPECT_EQ(equal[0].outcome, "equal") << to_text(equal[0]);
  EXPECT_EQ(equal[0].not_compared.size(), 3u) << to_text(equal[0]);
  dst.db.exec("UPDATE types SET ts = '2024-02-29 12:34:56.123457' WHERE id = 1");
  dst.db.exec("UPDATE types SET b = 0 WHERE id = 11");
  auto changed = compare_pipe(spec, sb.pg_peer(), dst.peer(), CompareOptions{});
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].differences,
            (std::vector<KeyDifference>{{"changed", "id=1"}, {"changed", "id=11"}})) << to_text(changed[0]);
}

// NaN and infinity have no MariaDB value: with on_unrepresentable null they arrive as NULL
// and are counted; with the default (fail) the pipe fails naming table, column and value.
TEST(PgToMariadb, UnrepresentableValuesFollowThePolicy) {
  Sandbox sb("pgmynan");
  MariadbDestination dst("pgmynan_dst");
  sb.pg_exec("CREATE TABLE m (id int PRIMARY KEY, f double precision, d date); "
             "INSERT INTO m VALUES (1, 'NaN', '2024-01-01'), (2, 1.5, 'infinity'), (3, 2.5, '2024-01-03')");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec failing = pg_to_ch_pipe("nanfail", {"public.m"});
  {
    BackgroundPipe pipe(*catalog, failing, sb.pg_peer(), dst.peer());
    EXPECT_FALSE(pipe.wait_for(PipeState::Running, 30s));
  }
  auto rec = catalog->get_pipe("nanfail");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->state, PipeState::Failed);
  EXPECT_NE(rec->last_error.find("cannot hold the value"), std::string::npos) << rec->last_error;
  dst.db.exec("DROP TABLE m");
  PipeSpec nulls = pg_to_ch_pipe("nannull", {"public.m"});
  nulls.settings.on_unrepresentable = OnUnrepresentable::Null;
  BackgroundPipe pipe(*catalog, nulls, sb.pg_peer(), dst.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  sb.pg_exec("INSERT INTO m VALUES (4, '-Infinity', '-infinity')");
  ASSERT_TRUE(eventually([&] { return dst.db.value("SELECT COUNT(*) FROM m") == "4"; }, 60));
  EXPECT_EQ(dst.db.rows("SELECT id, CAST(f AS CHAR), CAST(d AS CHAR) FROM m ORDER BY id"),
            (Rows{{"1", "\\N", "2024-01-01"}, {"2", "1.5", "\\N"}, {"3", "2.5", "2024-01-03"}, {"4", "\\N", "\\N"}}));
  pipe.stop();
}

TEST(PgToMariadb, MixedChangesKeyUpdatesToastAndTruncateConverge) {
  Sandbox sb("pgmymix");
  MariadbDestination dst("pgmymix_dst");
  sb.pg_exec(kMixedChangesTables);
  auto catalog = open_catalog(sb.catalog_path());
  BackgroundPipe pipe(*catalog, pg_to_ch_pipe("mixed", {"public.a", "public.c"}), sb.pg_peer(), dst.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  sb.pg_exec(kMixedChanges);
  EXPECT_TRUE(converges(sb, dst.db, "a", {"id", "v", "big"}));
  EXPECT_TRUE(converges(sb, dst.db, "c", {"k1", "k2", "payload"}, "k1, k2, payload"));
  pipe.stop();
}

// The exactly-once proof, as for PostgreSQL: a trigger at the destination logs every applied
// row; a crash right after the destination committed a batch (and its position in
// ferry_checkpoints), before the catalog recorded it, must not apply the batch again.
TEST(PgToMariadb, CrashBetweenDestinationCommitAndCatalogDoesNotApplyTwice) {
  Sandbox sb("pgmyonce");
  MariadbDestination dst("pgmyonce_dst");
  sb.pg_exec("CREATE TABLE cnt (id int PRIMARY KEY, n int NOT NULL); INSERT INTO cnt VALUES (1, 0), (2, 0);");
  std::string config = write_file(sb.dir() + "/ferry.yaml",
                                  fmt::format("peers:\n  src: {{ type: postgres, dsn: \"{}\" }}\n  dst: {}\npipes:\n"
                                              "  once:\n    source: src\n    destination: dst\n    mode: snapshot+cdc\n"
                                              "    tables: [ public.cnt ]\n    settings: {{ sync_interval: 200ms }}\n",
                                              sb.pg_dsn(), peer_yaml(dst.db.peer())));
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  pid_t pid = spawn_ferry_run(config, catalog_arg);
  ASSERT_TRUE(converges(sb, dst.db, "cnt", {"id", "n"}));
  ASSERT_TRUE(stop_ferry_run(pid));
  dst.db.exec("CREATE TABLE applied (id int, n int)");
  dst.db.exec("CREATE TRIGGER log_ins AFTER INSERT ON cnt FOR EACH ROW INSERT INTO applied VALUES (NEW.id, NEW.n)");
  dst.db.exec("CREATE TRIGGER log_upd AFTER UPDATE ON cnt FOR EACH ROW INSERT INTO applied VALUES (NEW.id, NEW.n)");
  for (int i = 0; i < 30; ++i) sb.pg_exec("UPDATE cnt SET n = n + 1 WHERE id = 1");
  setenv("FERRY_CRASH_AT", "cdc-destination-committed", 1);
  pid = spawn_ferry_run(config, catalog_arg);
  unsetenv("FERRY_CRASH_AT");
  ASSERT_TRUE(killed_by_sigkill(pid));
  std::string applied_n = dst.db.value("SELECT n FROM cnt WHERE id = 1");
  ASSERT_NE(applied_n, "0");
  uint64_t stored = std::stoull(dst.db.value("SELECT position FROM ferry_checkpoints WHERE pipe = 'once'"));
  {
    auto catalog = open_catalog(sb.catalog_path());
    auto cp = catalog->checkpoint("once", "");
    ASSERT_TRUE(cp.has_value());
    unsigned hi = 0, lo = 0;
    ASSERT_EQ(std::sscanf(cp->c_str(), "%X/%X", &hi, &lo), 2) << *cp;
    EXPECT_LT((uint64_t(hi) << 32) | lo, stored) << "the catalog should be behind the destination after the crash";
  }
  pid = spawn_ferry_run(config, catalog_arg);
  for (int i = 0; i < 5; ++i) sb.pg_exec("UPDATE cnt SET n = n + 1 WHERE id = 2");
  EXPECT_TRUE(converges(sb, dst.db, "cnt", {"id", "n"}));
  ASSERT_TRUE(stop_ferry_run(pid));
  EXPECT_EQ(dst.db.value("SELECT COUNT(*) FROM (SELECT id, n FROM applied GROUP BY id, n HAVING COUNT(*) > 1) d"), "0");
  EXPECT_EQ(dst.db.value("SELECT COUNT(*) FROM applied WHERE id = 1 AND n = " + applied_n), "1");
}

TEST(PgToMariadb, PauseResumeResyncAndResetConverge) {
  Sandbox sb("pgmylife");
  MariadbDestination dst("pgmylife_dst");
  sb.pg_exec("CREATE TABLE acc (id int PRIMARY KEY, v text); INSERT INTO acc SELECT g, 'v' || g FROM generate_series(1, 5000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = pg_to_ch_pipe("life", {"public.acc"});
  std::atomic<bool> writing{true};
  std::atomic<int> next{100000};
  std::thread writer([&] {
    PgConnection conn(sb.pg_dsn(), "");
    while (writing) {
      int id = next++;
      conn.exec(fmt::format("INSERT INTO acc VALUES ({0}, 'w'); UPDATE acc SET v = v || '+' WHERE id = {0} % 5000 + 1;", id));
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
  });
  {
    BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    EXPECT_EQ(pipe.pause(), PipeState::Paused);
  }
  int at_pause = next;
  eventually([&] { return next > at_pause + 50; }, 10);
  {
    PipeRunner runner(*catalog, spec, sb.pg_peer(), dst.peer());
    ASSERT_TRUE(std::holds_alternative<Accepted>(runner.resume()));
  }
  {
    BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  {
    PipeRunner runner(*catalog, spec, sb.pg_peer(), dst.peer());
    auto out = runner.resync("");
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  dst.db.exec("INSERT INTO acc VALUES (-1, 'marks the old table')");
  {
    BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running, 120s));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(dst.db.value("SELECT COUNT(*) FROM acc WHERE id = -1"), "0");  // the rebuilt table took the name
    EXPECT_EQ(dst.db.value("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND "
                           "(TABLE_NAME LIKE 'acc\\_resync%' OR TABLE_NAME LIKE 'ferry\\_old%')"), "0");
    EXPECT_EQ(pipe.pause(), PipeState::Paused);
  }
  writing = false;
  writer.join();
  dst.db.exec("UPDATE acc SET v = 'damaged' WHERE id <= 100");  // a reset repairs the destination
  {
    PipeRunner runner(*catalog, spec, sb.pg_peer(), dst.peer());
    auto out = runner.reset(false, true);
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  sb.pg_exec("UPDATE acc SET v = 'after reset' WHERE id = 7");
  EXPECT_TRUE(converges(sb, dst.db, "acc", {"id", "v"}));
}

// The destination's pre-check: every item passes on a fresh database; a trigger on a table of
// the pipe and rows in it are warnings naming them.
TEST(PgToMariadb, PrecheckReportsEveryItem) {
  Sandbox sb("pgmypre");
  MariadbDestination dst("pgmypre_dst");
  PipeSpec spec = pg_to_ch_pipe("pre", {"public.acc"});
  auto dest = make_destination(dst.peer());
  std::vector<CheckResult> out;
  dest->precheck(spec, true, out);
  std::string names;
  for (const auto& r : out) {
    names += r.name + ";";
    EXPECT_EQ(r.status, CheckResult::Pass) << r.name << ": " << r.reason;
  }
  EXPECT_EQ(names, "destination connectivity;destination version;destination create;destination writable;"
                   "destination max_allowed_packet;destination triggers and foreign keys;");
  dst.db.exec("CREATE TABLE acc (id int PRIMARY KEY, n int)");
  dst.db.exec("INSERT INTO acc VALUES (1, 1)");
  dst.db.exec("CREATE TRIGGER acc_audit AFTER INSERT ON acc FOR EACH ROW SET @x = 1");
  out.clear();
  dest->precheck(spec, true, out);
  std::string warnings;
  for (const auto& r : out)
    if (r.status == CheckResult::Warn) warnings += r.name + ": " + r.reason + ";";
  EXPECT_NE(warnings.find("triggers fire on every replicated row: acc.acc_audit"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("already holds rows"), std::string::npos) << warnings;
}

// MariaDB -> MariaDB: every MariaDB column type keeps its type and its value (snapshot and
// binlog rows), zero dates and 64-bit unsigned values included; floats compared by bits.
TEST(MariadbToMariadb, TypesRoundTripExactly) {
  Sandbox sb("mymyty");
  MysqlDatabase src(sb);
  MariadbDestination dst("mymyty_dst");
  src.exec("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'");  // zero dates
  src.exec("CREATE TABLE ty (id int PRIMARY KEY, ti tinyint, tb tinyint(1), tu tinyint unsigned, mi mediumint, "
           "bu bigint unsigned, f float, d double, de decimal(65,30), vc varchar(20), ch char(5), tx text, "
           "bl blob, vb varbinary(8), dt date, dtm datetime(6), ts timestamp(3) NULL, tm time(6), yr year, "
           "js json, en enum('a','b'), st set('x','y','z'), bt bit(4), pt point)");
  const std::string values =
      "-128, 1, 255, -8388608, 18446744073709551615, 0.1, 5e-324, -12345678901234567890.123456789012345678901234567890, "
      "'h\xc3\xa9llo \\\\ ''q''', 'ab', 'a\\tb\\nc', 0x00FF1A27, 0x0102, '0000-00-00', '2024-01-02 03:04:05.500000', "
      "'2024-01-02 03:04:05.678', '-838:59:59.000000', 2024, '{\"a\": [1, 2.50]}', 'b', 'x,z', b'0101', POINT(1.5, -2)";
  std::string nulls;
  for (int i = 0; i < 23; ++i) nulls += ", NULL";
  src.exec("INSERT INTO ty VALUES (1, " + values + "), (2" + nulls + ")");
  auto catalog = open_catalog(sb.catalog_path());
  BackgroundPipe pipe(*catalog, pg_to_ch_pipe("mymyty", {src.name() + ".ty"}), src.peer(), dst.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  src.exec("INSERT INTO ty VALUES (3, " + values + ")");
  src.exec("UPDATE ty SET vc = 'upd', f = -0, d = 1.7976931348623157e308 WHERE id = 1");
  ASSERT_TRUE(eventually([&] { return dst.db.value("SELECT COUNT(*) FROM ty") == "3" &&
                                      dst.db.value("SELECT vc FROM ty WHERE id = 1") == "upd"; }, 60));
  std::string cols = "id, CAST(CAST(f AS DOUBLE) AS CHAR), CAST(d AS CHAR)";
  for (const char* c : {"ti", "tb", "tu", "mi", "bu", "de", "vc", "ch", "tx", "dt", "dtm", "ts", "tm", "yr", "js",
                        "en", "st"})
    cols += fmt::format(", CAST({} AS CHAR)", c);
  cols += ", HEX(bl), HEX(vb), BIN(bt), ST_AsText(pt)";
  Rows a = src.rows("SELECT " + cols + " FROM ty ORDER BY id"), b = dst.db.rows("SELECT " + cols + " FROM ty ORDER BY id");
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(a[0][9], "upd");
  for (size_t r = 0; r < a.size(); ++r) {
    if (a[r][1] != "\\N") EXPECT_EQ(float_bits(b[r][1]), float_bits(a[r][1])) << "f of row " << a[r][0];
    if (a[r][2] != "\\N") EXPECT_EQ(double_bits(b[r][2]), double_bits(a[r][2])) << "d of row " << a[r][0];
    for (size_t c = 0; c < a[r].size(); ++c)
      if (c != 1 && c != 2) EXPECT_EQ(b[r][c], a[r][c]) << "column " << c << " of row " << a[r][0];
  }
  const std::string types = "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE "
                            "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ty' ORDER BY ORDINAL_POSITION";
  // TEXT and BLOB widen to LONGTEXT and LONGBLOB (PostgreSQL's text is spelled the same).
  Rows expected = src.rows(types);
  expected[11][1] = "longtext";
  expected[12][1] = "longblob";
  EXPECT_EQ(dst.db.rows(types), expected);
  pipe.stop();
}

// MariaDB -> MariaDB under a live workload (transfers, inserts, deletes, key updates in
// multi-statement transactions) with kill -9 of `ferry run` ten times: the replica ends
// equal row by row with the source's column types, `ferry compare` agrees, and a value
// changed at the replica is then named by key.
TEST(MariadbToMariadb, KillNineUnderLiveLoadConverges) {
  Sandbox sb("mymy");
  MysqlDatabase src(sb);
  MariadbDestination dst("mymy_dst");
  src.exec("CREATE TABLE acc (id INT PRIMARY KEY, balance BIGINT NOT NULL, note VARCHAR(2000) NOT NULL, "
           "amount DECIMAL(12,2), at DATETIME(6), flags SET('a','b','c'), kind ENUM('x','y'))");
  src.exec("INSERT INTO acc SELECT seq, 1000, CONCAT('n', seq), seq / 100, '2024-01-02 03:04:05.123456', 'a,c', 'y' "
           "FROM seq_1_to_3000");
  std::string config = write_file(
      sb.dir() + "/ferry.yaml",
      fmt::format("peers:\n  src: {}\n  dst: {}\npipes:\n  mymy:\n    source: src\n    destination: dst\n"
                  "    mode: snapshot+cdc\n    tables: [ {{ source: {}.acc, destination: acc }} ]\n"
                  "    settings: {{ sync_interval: 200ms, batch_size: 500, snapshot_rows_per_partition: 500 }}\n",
                  peer_yaml(src.peer()), peer_yaml(dst.db.peer()), src.name()));
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  MysqlTransferWriter writer(src.peer(), [](int id) {
    return fmt::format("{}, 0, 'fresh \\\\ tab\\t''q''', NULL, NULL, '', NULL", id);
  });
  kill_nine_rounds(config, catalog_arg, 10, 5, 700, 1200);
  ASSERT_EQ(writer.stop(), "");
  pid_t pid = spawn_ferry_run(config, catalog_arg);
  const std::string select = "SELECT CAST(id AS CHAR), CAST(balance AS CHAR), note, CAST(amount AS CHAR), "
                             "CAST(at AS CHAR), flags, kind FROM acc ORDER BY id";
  EXPECT_TRUE(sides_converge([&] { return std::make_pair(src.rows(select), dst.db.rows(select)); }, "acc", "mariadb source",
                             120s, "mariadb destination"));
  // The replica's columns are the source's.
  const std::string types = "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE "
                            "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'acc' ORDER BY ORDINAL_POSITION";
  EXPECT_EQ(dst.db.rows(types), src.rows(types));
  EXPECT_TRUE(stop_ferry_run(pid));
  EXPECT_EQ(dst.db.value("SELECT COUNT(*) FROM ferry_checkpoints WHERE pipe = 'mymy'"), "1");
  std::string out;
  EXPECT_EQ(run_ferry({"compare", "-f", config, "--pipe", "mymy", "--level", "content"}, &out), 0) << out;
  const std::string changed = dst.db.value("SELECT MIN(id) FROM acc");
  dst.db.exec("UPDATE acc SET at = '2001-01-01 00:00:00' WHERE id = " + changed);
  EXPECT_EQ(run_ferry({"compare", "-f", config, "--pipe", "mymy", "--level", "content", "--output", "json"}, &out), 1);
  EXPECT_NE(out.find("\"id=" + changed + "\""), std::string::npos) << out;
}

// PostgreSQL -> MariaDB under a live workload (PgTransferWriter: transfers, inserts, deletes,
// key updates, TOAST values left unchanged) with kill -9 of `ferry run` ten times: converges
// value by value, and `ferry compare --level content` (PostgreSQL digests against MariaDB's) agrees.
TEST(PgToMariadb, KillNineTenTimesUnderLiveLoadConverges) {
  Sandbox sb("pgmykill");
  MariadbDestination dst("pgmykill_dst");
  create_transfer_table(sb);
  std::string config = write_file(
      sb.dir() + "/ferry.yaml",
      fmt::format("peers:\n  src: {{ type: postgres, dsn: \"{}\" }}\n  dst: {}\npipes:\n  kill:\n    source: src\n"
                  "    destination: dst\n    mode: snapshot+cdc\n    tables: [ public.acc ]\n"
                  "    settings: {{ sync_interval: 200ms, batch_size: 500, snapshot_rows_per_partition: 500 }}\n",
                  sb.pg_dsn(), peer_yaml(dst.db.peer())));
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  PgTransferWriter writer(sb);
  kill_nine_rounds(config, catalog_arg, 10, 7, 600, 1200);
  writer.stop();
  pid_t pid = spawn_ferry_run(config, catalog_arg);
  EXPECT_TRUE(converges(sb, dst.db, "acc", {"id", "balance", "note", "big"}, "id", 120s));
  EXPECT_TRUE(stop_ferry_run(pid));
  std::string out;
  EXPECT_EQ(run_ferry({"compare", "-f", config, "--pipe", "kill", "--level", "content"}, &out), 0) << out;
}

}  // namespace
}  // namespace ferry::test

namespace ferry::test {
namespace {

// soft_delete: deleted rows stay with _ferry_is_deleted = 1 and their last values; a key
// inserted again is live again; TRUNCATE flags every row; a resync carries the deleted rows
// into the rebuilt table; ferry compare sees the live rows only.
TEST(PgToMariadb, SoftDeleteKeepsDeletedRowsFlagged) {
  Sandbox sb("pgmysoft");
  MariadbDestination dst("pgmysoft_dst");
  sb.pg_exec("CREATE TABLE s (id int PRIMARY KEY, v text); INSERT INTO s SELECT g, 'v' || g FROM generate_series(1, 100) g;"
             "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 5);");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = pg_to_ch_pipe("soft", {"public.s", "public.t"});
  spec.settings.soft_delete = true;
  {
    BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    sb.pg_exec("UPDATE s SET v = 'last' WHERE id = 3; DELETE FROM s WHERE id IN (3, 4, 5); INSERT INTO s VALUES (4, 'back');"
               "TRUNCATE t; INSERT INTO t VALUES (2);");
    ASSERT_TRUE(eventually([&] { return dst.db.value("SELECT COUNT(*) FROM s WHERE _ferry_is_deleted") == "2" &&
                                        dst.db.value("SELECT COUNT(*) FROM t WHERE NOT _ferry_is_deleted") == "1"; }, 60));
    EXPECT_EQ(dst.db.rows("SELECT id, v, _ferry_is_deleted FROM s WHERE id BETWEEN 3 AND 5 ORDER BY id"),
              (Rows{{"3", "last", "1"}, {"4", "back", "0"}, {"5", "v5", "1"}}));
    EXPECT_EQ(dst.db.rows("SELECT id, _ferry_is_deleted FROM t ORDER BY id"),
              (Rows{{"1", "1"}, {"2", "0"}, {"3", "1"}, {"4", "1"}, {"5", "1"}}));
    EXPECT_EQ(pipe.pause(), PipeState::Paused);
  }
  auto compared = compare_pipe(spec, sb.pg_peer(), dst.peer(), CompareOptions{});
  ASSERT_EQ(compared.size(), 2u);
  for (const auto& c : compared) EXPECT_EQ(c.outcome, "equal") << to_text(c);
  {
    PipeRunner runner(*catalog, spec, sb.pg_peer(), dst.peer());
    auto out = runner.resync("public.s");
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running, 120s));
  EXPECT_TRUE(eventually([&] {
    return dst.db.rows("SELECT id, v, _ferry_is_deleted FROM s WHERE id BETWEEN 3 AND 5 ORDER BY id") ==
           Rows{{"3", "last", "1"}, {"4", "back", "0"}, {"5", "v5", "1"}};
  }, 60));
  EXPECT_EQ(dst.db.value("SELECT COUNT(*) FROM s"), "100");
  pipe.stop();
}

}  // namespace
}  // namespace ferry::test

namespace ferry::test {
namespace {

// column_types overrides the mapping: a double kept as text holds NaN and Infinity exactly as
// PostgreSQL renders them, and a text column created as VARCHAR(8) refuses a longer value
// (strict mode) with an error naming the column, never truncating it.
TEST(PgToMariadb, ColumnTypesOverrideTheMapping) {
  Sandbox sb("pgmyct");
  MariadbDestination dst("pgmyct_dst");
  sb.pg_exec("CREATE TABLE m (id int PRIMARY KEY, f double precision, s text); "
             "INSERT INTO m VALUES (1, 'NaN', 'short'), (2, '-Infinity', NULL), (3, 0.1, 'eight ch')");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = pg_to_ch_pipe("ct", {"public.m"});
  spec.tables[0].column_types = {{"f", "longtext"}, {"s", "varchar(8)"}};
  {
    BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    EXPECT_EQ(dst.db.rows("SELECT id, f, s FROM m ORDER BY id"),
              (Rows{{"1", "NaN", "short"}, {"2", "-Infinity", "\\N"}, {"3", "0.1", "eight ch"}}));
    EXPECT_EQ(dst.db.value("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND "
                           "TABLE_NAME = 'm' AND COLUMN_NAME = 's'"), "varchar");
    sb.pg_exec("INSERT INTO m VALUES (4, 1, 'nine char')");
    EXPECT_TRUE(reaches_state(*catalog, "ct", PipeState::Failed, 60));
  }
  auto rec = catalog->get_pipe("ct");
  ASSERT_TRUE(rec.has_value());
  EXPECT_NE(rec->last_error.find("Data too long for column 's'"), std::string::npos) << rec->last_error;
  EXPECT_EQ(dst.db.value("SELECT COUNT(*) FROM m"), "3");
}

}  // namespace
}  // namespace ferry::test

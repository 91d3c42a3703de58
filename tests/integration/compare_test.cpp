// ferry compare against real PostgreSQL and ClickHouse: equal tables are equal at every
// level (every type's digest agrees across the two servers), each kind of difference is
// found and named by key, and a compare under live writes reports no false difference.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/spec.h"
#include "connectors/postgres/pg_connection.h"
#include "pipe/compare.h"
#include "pipe/runner.h"
#include "cdc_support.h"
#include "mysql_support.h"
#include "support.h"
#include "../shared/pipe_spec.h"

using namespace ferry;
using namespace ferry::test;

namespace {

PipeSpec snapshot_of(const std::string& table) {
  PipeSpec p = pipe_spec("cmp", PipeMode::Snapshot, {table});
  p.settings.snapshot_parallelism = 2;
  p.settings.snapshot_rows_per_partition = 1000;
  p.settings.max_retries = 0;
  return p;
}

TableComparison compare_one(Sandbox& sb, const PipeSpec& pipe, CompareLevel level, int rounds = 1) {
  CompareOptions o;
  o.level = level;
  o.rounds = rounds;
  o.settle = std::chrono::milliseconds(500);
  auto all = compare_pipe(pipe, sb.pg_peer(), sb.ch_peer(), o);
  EXPECT_EQ(all.size(), 1u);
  return all.empty() ? TableComparison{} : all[0];
}

// Runs the ferry binary with `args`, stdout and stderr to `log`; the exit code and the
// child's peak RSS in KiB (getrusage of the waited-for child).
std::pair<int, long> run_ferry_measured(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<std::string> all = {FERRY_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(FERRY_BINARY, argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, usage.ru_maxrss};
}

}  // namespace

TEST(Compare, EveryTypeIsEqualAtEveryLevel) {
  Sandbox sb("cmp_types");
  sb.pg_exec(R"SQL(
    CREATE TYPE mood AS ENUM ('sad', 'ok');
    CREATE TABLE t (
      id integer PRIMARY KEY, c_small smallint, c_big bigint, c_num numeric(12,3), c_free numeric,
      c_real real, c_double double precision, c_bool boolean, c_text text, c_bytea bytea, c_date date,
      c_time time, c_ts timestamp, c_tstz timestamptz, c_interval interval, c_uuid uuid, c_json json,
      c_jsonb jsonb, c_enum mood, c_inet inet, c_ints integer[] NOT NULL DEFAULT '{}');
    INSERT INTO t VALUES
      (1, -32768, -9223372036854775808, -123456789.123, 3.14159265358979323846, -1.5e-10, 2.718281828459045,
       true, E'tab\there\nnew ü 日本 '' "', '\x00ff10', '1999-12-31', '23:59:59.999999', '2024-02-29 12:34:56.789012',
       '2024-02-29 12:34:56.5+03', '1 year 2 mons 04:05:06.7', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
       '{"a": [1, 2]}', '{"b": null}', 'ok', '10.0.0.0/8', '{1,2}'),
      (2, 32767, 9223372036854775807, 0, 'NaN', 'Infinity', '-Infinity', false, '', '', '1970-01-01', '00:00:00',
       '1970-01-01 00:00:00', '2000-01-01 00:00:00+00', '-1 days', '00000000-0000-0000-0000-000000000000', '[]', '[]',
       'sad', '::1', '{}'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, DEFAULT),
      (4, 0, 0, 0.001, 1e-30, 'NaN', 5e-324, true, '-', E'\\x2d', '2105-12-31', '12:00', '2030-06-15 01:02:03',
       '2030-06-15 01:02:03.000001-07', '0', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '"s"', '1', 'ok', '1.2.3.4', '{-1}'),
      (5, 1, 1, -0.5, -0, '-0', '-0', false, '1:a', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       '{}');
  )SQL");
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = snapshot_of("public.t");
  ASSERT_EQ(PipeRunner(*catalog, pipe, sb.pg_peer(), sb.ch_peer()).run(), PipeState::Completed);

  TableComparison objects = compare_one(sb, pipe, CompareLevel::Objects);
  EXPECT_EQ(objects.outcome, "equal");
  EXPECT_TRUE(objects.problems.empty());
  TableComparison count = compare_one(sb, pipe, CompareLevel::Count);
  EXPECT_EQ(count.outcome, "equal");
  EXPECT_EQ(count.source_rows, 5);
  EXPECT_EQ(count.destination_rows, 5);
  TableComparison content = compare_one(sb, pipe, CompareLevel::Content);
  EXPECT_EQ(content.outcome, "equal") << to_text(content);
  EXPECT_TRUE(content.differences.empty()) << to_text(content);
  // Only the array column is left out: ClickHouse cannot render an Array back as PostgreSQL text.
  ASSERT_EQ(content.not_compared.size(), 1u) << to_text(content);
  EXPECT_NE(content.not_compared[0].find("c_ints"), std::string::npos) << content.not_compared[0];

  // One ulp of a double, one character of a string: each found.
  sb.pg_exec("UPDATE t SET c_double = 2.7182818284590455 WHERE id = 1; UPDATE t SET c_text = '1:b' WHERE id = 5");
  TableComparison changed = compare_one(sb, pipe, CompareLevel::Content);
  EXPECT_EQ(changed.outcome, "different");
  EXPECT_EQ(changed.differences,
            (std::vector<KeyDifference>{{"changed", "id=1"}, {"changed", "id=5"}})) << to_text(changed);
}

TEST(Compare, EachKindOfDifferenceIsNamedByKey) {
  Sandbox sb("cmp_diff");
  sb.pg_exec("CREATE TABLE t (id bigint PRIMARY KEY, v text, f double precision);"
             "INSERT INTO t SELECT g, 'v' || g, g / 7.0 FROM generate_series(1, 3000) g");
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = snapshot_of("public.t");
  ASSERT_EQ(PipeRunner(*catalog, pipe, sb.pg_peer(), sb.ch_peer()).run(), PipeState::Completed);
  EXPECT_EQ(compare_one(sb, pipe, CompareLevel::Content).outcome, "equal");

  // A changed value, a row missing at the destination, an extra row there, and a row the
  // destination soft-deleted although the source has it.
  sb.pg_exec("UPDATE t SET v = 'changed' WHERE id = 17; DELETE FROM t WHERE id = 42; INSERT INTO t VALUES (5000, 'new', 1)");
  std::string table = ch_table(sb, "t");
  sb.ch("INSERT INTO " + table + " (id, v, f, _ferry_version, _ferry_is_deleted) SELECT id, v, f, _ferry_version + 1, 1 FROM " +
        table + " FINAL WHERE id = 99");

  TableComparison count = compare_one(sb, pipe, CompareLevel::Count);
  EXPECT_EQ(count.outcome, "different");
  EXPECT_EQ(count.source_rows, 3000);
  EXPECT_EQ(count.destination_rows, 2999);

  TableComparison c = compare_one(sb, pipe, CompareLevel::Content);
  EXPECT_EQ(c.outcome, "different");
  EXPECT_EQ(c.buckets, 3u);
  EXPECT_EQ(c.differences, (std::vector<KeyDifference>{{"changed", "id=17"}, {"extra", "id=42"}, {"missing", "id=5000"},
                                                      {"missing", "id=99"}}))
      << to_text(c);

  // The command line: JSON, exit status 1, the same keys.
  std::string config = sb.write_config("  cmp:\n    source: src\n    destination: dst\n    mode: snapshot\n    tables: [ public.t ]\n");
  std::string out;
  EXPECT_EQ(run_ferry({"compare", "-f", config, "--pipe", "cmp", "--output", "json"}, &out), 1) << out;
  nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_FALSE(j["equal"].get<bool>());
  ASSERT_EQ(j["tables"].size(), 1u);
  EXPECT_EQ(j["tables"][0]["differences"].size(), 4u) << out;
  EXPECT_EQ(j["tables"][0]["differences"][3]["key"], "id=99") << out;
  EXPECT_EQ(run_ferry({"compare", "-f", config, "--pipe", "cmp", "--level", "objects"}, &out), 0) << out;
  EXPECT_NE(run_ferry({"compare", "-f", config, "--pipe", "cmp", "--table", "nope"}, &out), 0);
  EXPECT_NE(out.find("no table named 'nope'"), std::string::npos) << out;
}

TEST(Compare, LiveWritesGiveNoFalseDifference) {
  Sandbox sb("cmp_live");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY, n bigint NOT NULL, pad text);"
             "INSERT INTO t SELECT g, 0, repeat('x', 50) FROM generate_series(1, 5000) g");
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = pg_to_ch_pipe("cmp", {"public.t"});
  BackgroundPipe bg(sb, *catalog, pipe);
  ASSERT_TRUE(bg.wait_for(PipeState::Running));

  std::atomic<bool> writing{true};
  std::thread writer([&] {
    auto conn = PgConnection::open(sb.pg_peer());
    for (int i = 0; writing; ++i) {
      conn->exec(fmt::format("UPDATE t SET n = n + 1 WHERE id % 97 = {}", i % 97));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  CompareOptions o = compare_options_for(pipe, CompareLevel::Content);
  TableComparison during = compare_pipe(pipe, sb.pg_peer(), sb.ch_peer(), o).at(0);
  writing = false;
  writer.join();
  EXPECT_NE(during.outcome, "different") << to_text(during);
  EXPECT_TRUE(during.differences.empty()) << to_text(during);
  // Once the writes stop and the pipe caught up, the same comparison says equal.
  EXPECT_TRUE(eventually([&] { return compare_pipe(pipe, sb.pg_peer(), sb.ch_peer(), o).at(0).outcome == "equal"; },
                         60));
  bg.stop();
}

TEST(Compare, MariaDbTypesAreEqualAndChangesFound) {
  Sandbox sb("cmp_my");
  MysqlDatabase my(sb);
  my.exec(R"SQL(CREATE TABLE t (
      id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, b1 TINYINT(1), si SMALLINT, mi MEDIUMINT,
      iu INT UNSIGNED, bu BIGINT UNSIGNED, de DECIMAL(20,5), f FLOAT, d DOUBLE, bt BIT(5), y YEAR, dt DATE,
      dtm DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(2), ch CHAR(3), vc VARCHAR(20), tx TEXT, bl BLOB,
      bn BINARY(4), en ENUM('a','b'), st SET('x','y','z'), js JSON))SQL");
  my.exec(R"SQL(INSERT INTO t VALUES
      (1, -128, 255, 1, -32768, -8388608, 4294967295, 18446744073709551615, -123456789012345.12345, 1.5, 2.5,
       b'10101', 2155, '2105-12-31', '2024-02-29 12:34:56.789012', '2038-01-19 03:14:07.999', '-838:59:59.99',
       'ab', 'x''y', 'ünï 日本\ttab', x'00ff', x'01', 'b', 'x,z', '{"a": [1, 2]}'),
      (2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', 1901, '2024-01-01', '1970-01-01 00:00:00', '1970-01-01 00:00:01',
       '00:00:00', '', '', '', '', x'', 'a', '', '[]'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL))SQL");
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = snapshot_of(my.name() + ".t");
  ASSERT_EQ(PipeRunner(*catalog, pipe, my.peer(), sb.ch_peer()).run(), PipeState::Completed);

  CompareOptions o;
  TableComparison c = compare_pipe(pipe, my.peer(), sb.ch_peer(), o).at(0);
  EXPECT_EQ(c.outcome, "equal") << to_text(c);
  // Floats: MariaDB's SQL reaches neither their bits nor their shortest text.
  ASSERT_EQ(c.not_compared.size(), 2u) << to_text(c);
  EXPECT_EQ(c.not_compared[0].rfind("column f ", 0), 0u) << c.not_compared[0];
  EXPECT_EQ(c.not_compared[1].rfind("column d ", 0), 0u) << c.not_compared[1];

  my.exec("UPDATE t SET dtm = '2024-02-29 12:34:56.789013' WHERE id = 1");
  my.exec("UPDATE t SET bl = x'00' WHERE id = 2");
  TableComparison changed = compare_pipe(pipe, my.peer(), sb.ch_peer(), o).at(0);
  EXPECT_EQ(changed.differences, (std::vector<KeyDifference>{{"changed", "id=1"}, {"changed", "id=2"}}))
      << to_text(changed);
}

// A million rows compare equal at content level with the memory of a few thousand bucket
// digests: the rows never leave the databases. (The bound is generous; a compare that read
// the rows would need several hundred MB here.)
TEST(Compare, AMillionRowsCompareEqualInBoundedMemory) {
  Sandbox sb("cmp_million");
  sb.pg_exec("CREATE TABLE t (id bigint PRIMARY KEY, v text, f double precision, d date);"
             "INSERT INTO t SELECT g, 'value ' || md5(g::text), g / 7.0, date '2000-01-01' + (g % 9000) "
             "FROM generate_series(1, 1000000) g; ANALYZE t");
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = snapshot_of("public.t");
  pipe.settings.snapshot_rows_per_partition = 250000;
  ASSERT_EQ(PipeRunner(*catalog, pipe, sb.pg_peer(), sb.ch_peer()).run(), PipeState::Completed);
  ASSERT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "t")), "1000000");

  std::string config = sb.write_config("  cmp:\n    source: src\n    destination: dst\n    mode: snapshot\n    tables: [ public.t ]\n");
  std::string log = sb.dir() + "/compare.log";
  auto [rc, peak_kib] = run_ferry_measured({"compare", "-f", config, "--pipe", "cmp", "--output", "json"}, log);
  std::ifstream in(log);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(rc, 0) << out;
  nlohmann::json j = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_TRUE(j["equal"].get<bool>()) << out;
  EXPECT_EQ(j["tables"][0]["source_rows"], 1000000);
  EXPECT_EQ(j["tables"][0]["buckets"], 1000);
  EXPECT_LT(peak_kib, 200 * 1024) << "peak RSS of ferry compare: " << peak_kib << " KiB";
  std::cout << fmt::format("1M rows compared at content level: {:.2f} s, {:.0f} rows/s, peak RSS {} MiB\n",
                           j["tables"][0]["seconds"].get<double>(), j["tables"][0]["rows_per_second"].get<double>(),
                           peak_kib / 1024);
}

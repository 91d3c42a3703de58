// MariaDB -> PostgreSQL (the PostgreSQL destination from a mysql peer): every column type
// of a snapshot row and of a streamed row, compared with the exact text PostgreSQL shows.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "connectors/mysql/mysql_connection.h"
#include "mysql_support.h"
#include "pg_destination_support.h"

namespace ferry::test {
namespace {

std::string row_values(int id) {
  return fmt::format(
      "({}, -128, 255, 18446744073709551615, 0.1, 5e-324, -12.50, 'héllo', 'a\\tb\\nc\\\\d', 0x00FF, '2024-02-29', "
      "'2024-01-02 03:04:05.500000', '2024-01-02 03:04:05.678', '-838:59:59.000000', 2024, '{{\"a\": 1}}', 'b', 'x,z', "
      "b'0101')", id);
}

TEST(MysqlToPostgres, TypesArriveExactlyInSnapshotAndStream) {
  Sandbox sb("mypg");
  MysqlDatabase db(sb);
  PgDestinationDb dst(sb);
  db.exec("CREATE TABLE ty (id int PRIMARY KEY, ti tinyint, tu tinyint unsigned, bu bigint unsigned, f float, "
          "d double, de decimal(10,2), vc varchar(20), tx text, bl blob, dt date, dtm datetime(6), ts timestamp(3) NULL, "
          "tm time(6), yr year, js json, en enum('a','b'), st set('x','y','z'), bt bit(4))");
  db.exec("INSERT INTO ty VALUES " + row_values(1) + ", (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
          "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = pg_to_ch_pipe("mypg", {db.name() + ".ty"});
  BackgroundPipe pipe(*catalog, spec, db.peer(), dst.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  db.exec("INSERT INTO ty VALUES " + row_values(3));
  db.exec("UPDATE ty SET vc = 'upd' WHERE id = 2");
  const std::vector<std::string> expected = {
      "-128", "255", "18446744073709551615", "0.1", "5e-324", "-12.50", "héllo", "a\tb\nc\\d", "\\x00ff",
      "2024-02-29", "2024-01-02 03:04:05.5", "2024-01-02 03:04:05.678+00", "-838:59:59", "2024", "{\"a\": 1}", "b",
      "x,z", "0101"};
  std::string list;
  for (const char* c : {"ti", "tu", "bu", "f", "d", "de", "vc", "tx", "bl", "dt", "dtm", "ts", "tm", "yr", "js", "en",
                        "st", "bt"})
    list += fmt::format("{0}CASE WHEN {1} IS NOT NULL THEN format('%s', {1}) END", list.empty() ? "" : ", ", c);
  ASSERT_TRUE(eventually([&] { return dst.value("SELECT count(*) FROM ty WHERE vc IS NOT DISTINCT FROM 'upd' OR id <> 2") == "3"; }, 60));
  for (int id : {1, 3}) {
    auto rows = dst.rows(fmt::format("SELECT {} FROM ty WHERE id = {}", list, id));
    ASSERT_EQ(rows.size(), 1u) << id;
    EXPECT_EQ(rows[0], expected) << "row " << id;
  }
  auto nulls = dst.rows("SELECT " + list + " FROM ty WHERE id = 2");
  ASSERT_EQ(nulls.size(), 1u);
  for (size_t i = 0; i < nulls[0].size(); ++i) {
    if (i == 6) EXPECT_EQ(nulls[0][i], "upd");
    else EXPECT_EQ(nulls[0][i], "\\N") << i;
  }
  pipe.stop();
}

// A live MariaDB workload (transfers, inserts, deletes, primary key updates in multi-statement
// transactions) with kill -9 of `ferry run` ten times: the PostgreSQL table ends equal value by
// value, and `ferry compare --level content` agrees.
TEST(MysqlToPostgres, KillNineTenTimesUnderLiveLoadConverges) {
  Sandbox sb("mypgkill");
  MysqlDatabase db(sb);
  PgDestinationDb dst(sb);
  db.exec("CREATE TABLE acc (id INT PRIMARY KEY, balance BIGINT NOT NULL, note VARCHAR(2000) NOT NULL)");
  db.exec("INSERT INTO acc SELECT seq, 1000, CONCAT('n', seq) FROM seq_1_to_3000");
  PeerSpec src = db.peer();
  std::string config = write_file(
      sb.dir() + "/ferry.yaml",
      fmt::format("peers:\n  src: {{ type: mysql, host: \"{}\", port: {}, user: \"{}\", database: \"{}\" }}\n"
                  "  dst: {{ type: postgres, dsn: \"{}\" }}\n"
                  "pipes:\n  mypgkill:\n    source: src\n    destination: dst\n    mode: snapshot+cdc\n"
                  "    tables: [ {{ source: {}.acc, destination: acc }} ]\n"
                  "    settings: {{ sync_interval: 200ms, batch_size: 500, snapshot_rows_per_partition: 500 }}\n",
                  src.host, src.port, src.user, src.database, dst.dsn(), db.name()));
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  MysqlTransferWriter writer(src, [](int id) { return fmt::format("{}, 0, 'fresh \\\\ tab\\t'", id); });
  kill_nine_rounds(config, catalog_arg, 10, 3, 600, 1200);
  ASSERT_EQ(writer.stop(), "");
  pid_t pid = spawn_ferry_run(config, catalog_arg);
  EXPECT_TRUE(sides_converge(
      [&] {
        return std::make_pair(db.rows("SELECT CAST(id AS CHAR), CAST(balance AS CHAR), note FROM acc ORDER BY id"),
                              dst.rows("SELECT id::text, balance::text, note FROM acc ORDER BY acc.id"));
      },
      "acc", "mariadb", 120s, "postgres"));
  std::string out;
  EXPECT_EQ(run_ferry({"compare", "-f", config, "--pipe", "mypgkill", "--level", "content"}, &out), 0) << out;
  EXPECT_TRUE(stop_ferry_run(pid));
}

}  // namespace
}  // namespace ferry::test

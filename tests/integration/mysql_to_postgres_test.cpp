// MariaDB -> PostgreSQL (the PostgreSQL destination from a mysql peer): every column type
// of a snapshot row and of a streamed row, compared with the exact text PostgreSQL shows.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "catalog/catalog.h"
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

}  // namespace
}  // namespace ferry::test

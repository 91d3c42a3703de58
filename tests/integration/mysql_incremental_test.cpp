// Periodic incremental copy (mode incremental) from MariaDB 10.11 into ClickHouse: rows
// arrive by their cursor column (TIMESTAMP(6) in UTC, BIGINT UNSIGNED up to 2^64-1,
// DECIMAL), the stored cursor is the canonical text, deletes are not propagated.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "incremental_support.h"
#include "mysql_support.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;

namespace {

using Rows = std::vector<std::vector<std::string>>;

// A pipe copying `source` by `cursor`, 200 ms behind the source.
PipeSpec cursor_pipe(const std::string& source, const std::string& cursor) {
  return incremental_pipe({mapping(source, cursor)}, std::chrono::milliseconds(200));
}

}  // namespace

TEST(MysqlIncremental, TimestampCursorCopiesInsertsAndUpdates) {
  Sandbox sb("my_inc");
  MysqlDatabase my(sb);
  my.exec("CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(40), n DECIMAL(10,2), "
          "updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))");
  my.exec("INSERT INTO items (id, v, n) SELECT seq, CONCAT('v', seq), seq * 1.5 FROM seq_1_to_5");
  auto catalog = open_catalog(sb.catalog_path());
  const std::string source = my.name() + ".items";
  PipeSpec pipe = cursor_pipe(source, "updated_at");
  ASSERT_EQ(run_once(*catalog, pipe, my.peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  const std::string cols = "toString(id), v, toString(toInt64(n * 100))";
  const std::string my_cols = "SELECT CAST(id AS CHAR), v, CAST(n * 100 AS SIGNED) FROM items ORDER BY id";
  EXPECT_EQ(ch_live(sb, "items", cols), my.rows(my_cols));
  // The cursor is the canonical text: UTC with +00.
  EXPECT_EQ(catalog->checkpoint("inc", source), my.value("SELECT CONCAT(CAST(MAX(updated_at) AS CHAR), '+00') FROM items"));

  my.exec("INSERT INTO items (id, v, n) VALUES (6, 'six', 6), (7, 'tab\\there', NULL)");
  my.exec("UPDATE items SET v = 'changed', updated_at = NOW(6) + INTERVAL 1 SECOND WHERE id = 2");
  my.exec("DELETE FROM items WHERE id = 4");
  ASSERT_EQ(run_once(*catalog, pipe, my.peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  Rows expected = my.rows(my_cols);
  expected.insert(expected.begin() + 3, {"4", "v4", "600"});  // the deleted row stays with its last values
  EXPECT_EQ(ch_live(sb, "items", cols), expected);
  EXPECT_EQ(catalog->checkpoint("inc", source), my.value("SELECT CONCAT(CAST(MAX(updated_at) AS CHAR), '+00') FROM items"));
  EXPECT_EQ(catalog->tables("inc").at(0).rows_loaded, 8);

  // Nothing changed: nothing copied, the cursor stays.
  auto before = catalog->checkpoint("inc", source);
  ASSERT_EQ(run_once(*catalog, pipe, my.peer(), sb.ch_peer()), PipeState::Running);
  EXPECT_EQ(catalog->checkpoint("inc", source), before);
  EXPECT_EQ(catalog->tables("inc").at(0).rows_loaded, 8);
}

TEST(MysqlIncremental, UnsignedAndDecimalCursorsCompareExactly) {
  Sandbox sb("my_inc_u");
  MysqlDatabase my(sb);
  my.exec("CREATE TABLE seqs (id INT PRIMARY KEY, ver BIGINT UNSIGNED NOT NULL, amount DECIMAL(65,30) NOT NULL)");
  my.exec("INSERT INTO seqs VALUES (1, 18446744073709551613, 0.000000000000000000000000000001), "
          "(2, 18446744073709551614, 0.000000000000000000000000000002)");
  auto catalog = open_catalog(sb.catalog_path());
  const std::string source = my.name() + ".seqs";
  PipeSpec by_ver = cursor_pipe(source, "ver");
  ASSERT_EQ(run_once(*catalog, by_ver, my.peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  EXPECT_EQ(catalog->checkpoint("inc", source), "18446744073709551614");
  my.exec("INSERT INTO seqs VALUES (3, 18446744073709551615, 0.000000000000000000000000000003)");
  ASSERT_EQ(run_once(*catalog, by_ver, my.peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  EXPECT_EQ(catalog->checkpoint("inc", source), "18446744073709551615");
  EXPECT_EQ(ch_live(sb, "seqs", "toString(id), toString(ver), amount"),
            my.rows("SELECT CAST(id AS CHAR), CAST(ver AS CHAR), CAST(amount AS CHAR) FROM seqs ORDER BY id"));
  EXPECT_EQ(catalog->tables("inc").at(0).rows_loaded, 3);

  // A DECIMAL(65,30) cursor: values a double cannot tell apart are told apart.
  Sandbox sb2("my_inc_d");
  MysqlDatabase my2(sb2);
  my2.exec("CREATE TABLE seqs (id INT PRIMARY KEY, amount DECIMAL(65,30) NOT NULL)");
  my2.exec("INSERT INTO seqs VALUES (1, 1.000000000000000000000000000001)");
  auto catalog2 = open_catalog(sb2.catalog_path());
  const std::string source2 = my2.name() + ".seqs";
  PipeSpec by_amount = cursor_pipe(source2, "amount");
  ASSERT_EQ(run_once(*catalog2, by_amount, my2.peer(), sb2.ch_peer()), PipeState::Running)
      << catalog2->get_pipe("inc")->last_error;
  my2.exec("INSERT INTO seqs VALUES (2, 1.000000000000000000000000000002)");
  ASSERT_EQ(run_once(*catalog2, by_amount, my2.peer(), sb2.ch_peer()), PipeState::Running)
      << catalog2->get_pipe("inc")->last_error;
  EXPECT_EQ(catalog2->checkpoint("inc", source2), "1.000000000000000000000000000002");
  EXPECT_EQ(catalog2->tables("inc").at(0).rows_loaded, 2);
}

// The binlog client (src/connectors/mysql/binlog_client.*) against the real MariaDB
// 10.11 of scripts/test-servers: events streamed on the replication protocol decode
// with the pure decoder, row values arrive as canonical text, a rotation is followed
// and row versions keep growing across it, and a purged binlog is SourceLost.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "connectors/mysql/binlog_client.h"
#include "connectors/mysql/binlog_rows.h"
#include "core/error.h"
#include "mysql_support.h"

using namespace ferry;
using namespace ferry::mysql;
using namespace ferry::test;

TEST(MysqlBinlogStream, StreamsDecodesAndFollowsRotation) {
  Mariadb db;
  db.exec("DROP DATABASE IF EXISTS ferry_stream; CREATE DATABASE ferry_stream;"
          "CREATE TABLE ferry_stream.t (id INT PRIMARY KEY, v VARCHAR(20), amount DECIMAL(12,3), at DATETIME(6))");
  BinlogPosition start = db.position();
  db.exec("INSERT INTO ferry_stream.t VALUES (1, 'before', 12.5, '2024-01-02 03:04:05.678901')");
  db.exec("FLUSH BINARY LOGS");
  db.exec("BEGIN; UPDATE ferry_stream.t SET v = 'after', amount = -0.001 WHERE id = 1;"
          "INSERT INTO ferry_stream.t VALUES (2, 'two', NULL, NULL); COMMIT;");

  BinlogClientOptions options;
  options.server_id = 4000000001u;
  options.stop_at_end = true;
  BinlogClient client(db.endpoint(), start, options);
  std::vector<BinlogTableMap> maps;
  std::vector<RowChange> changes;
  std::vector<uint64_t> versions;
  std::vector<std::string> files;
  BinlogEvent ev;
  while (client.next(ev)) {
    if (auto* r = std::get_if<Rotate>(&ev.body)) files.emplace_back(r->next_file);
    if (auto* tm = std::get_if<TableMapEvent>(&ev.body)) maps.push_back(BinlogTableMap::from(*tm));
    if (auto* rows = std::get_if<RowsEvent>(&ev.body)) {
      ASSERT_FALSE(maps.empty());
      if (maps.back().database != "ferry_stream") continue;
      decode_rows(*rows, maps.back(), changes);
    }
    if (std::holds_alternative<Xid>(ev.body)) versions.push_back(client.position().version());
  }
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].after[1].text, "before");
  EXPECT_EQ(changes[0].after[2].text, "12.500");
  EXPECT_EQ(changes[0].after[3].text, "2024-01-02 03:04:05.678901");
  EXPECT_EQ(changes[1].kind, RowsEvent::Update);
  EXPECT_EQ(changes[1].before[1].text, "before");  // binlog_row_image=FULL
  EXPECT_EQ(changes[1].after[1].text, "after");
  EXPECT_EQ(changes[1].after[2].text, "-0.001");
  EXPECT_EQ(changes[2].after[2].state, BinlogCell::Null);
  // The stream moved to the next file, and the commit after the rotation has the higher version.
  ASSERT_GE(files.size(), 2u);
  EXPECT_NE(files.front(), files.back());
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_LT(versions[0], versions[1]);
  EXPECT_EQ(client.position().file, db.position().file);
}

TEST(MysqlBinlogStream, PurgedBinlogIsSourceLost) {
  Mariadb db;
  BinlogPosition gone{"binlog.000000", 4};  // never existed: the server answers as for a purged file
  BinlogClientOptions options;
  options.server_id = 4000000002u;
  options.stop_at_end = true;
  try {
    BinlogClient client(db.endpoint(), gone, options);
    BinlogEvent ev;
    while (client.next(ev)) {
    }
    FAIL() << "streamed from a missing binlog";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::SourceLost) << e.what();
    EXPECT_NE(std::string(e.what()).find("resync"), std::string::npos) << e.what();
  }
}


// A position past the end of its file (the binlog was reset since) is SourceLost at
// open, naming the position, like a purged one.
TEST(MysqlBinlogStream, PositionPastItsFileIsSourceLost) {
  Mariadb db;
  BinlogPosition now = db.position();
  BinlogPosition beyond{now.file, now.offset + 100000};
  BinlogClientOptions options;
  options.server_id = 4000000003u;
  try {
    BinlogClient client(db.endpoint(), beyond, options);
    FAIL() << "opened a stream past the end of " << now.file;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::SourceLost) << e.what();
    EXPECT_NE(std::string(e.what()).find(beyond.to_string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("resync"), std::string::npos) << e.what();
  }
}

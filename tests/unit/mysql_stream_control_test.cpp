// Pure pieces of the MariaDB stream control (src/connectors/mysql/mysql_stream_control.*):
// the status statement per server version, binlog bytes beyond a position, position
// text round trips across file indexes, and replica server ids.
#include <gtest/gtest.h>

#include "connectors/mysql/mysql_stream_control.h"
#include "core/error.h"

using namespace ferry;
using namespace ferry::mysql;

TEST(MysqlStreamControl, StatusStatementFollowsTheServerVersion) {
  EXPECT_EQ(binlog_status_statement("10.11.19-MariaDB-0+deb12u1-log"), "SHOW MASTER STATUS");
  EXPECT_EQ(binlog_status_statement("11.4.2-MariaDB"), "SHOW MASTER STATUS");
  EXPECT_EQ(binlog_status_statement("5.7.44-log"), "SHOW MASTER STATUS");
  EXPECT_EQ(binlog_status_statement("8.0.36"), "SHOW MASTER STATUS");
  EXPECT_EQ(binlog_status_statement("8.2.0"), "SHOW BINARY LOG STATUS");
  EXPECT_EQ(binlog_status_statement("8.4.1"), "SHOW BINARY LOG STATUS");
  EXPECT_EQ(binlog_status_statement("9.0.0"), "SHOW BINARY LOG STATUS");
}

TEST(MysqlStreamControl, BytesAfterAPosition) {
  std::vector<BinlogFile> files = {{"binlog.000007", 1000}, {"binlog.000008", 500}, {"binlog.000010", 300}};
  EXPECT_EQ(binlog_bytes_after(files, {"binlog.000007", 400}), 600 + 500 + 300);
  EXPECT_EQ(binlog_bytes_after(files, {"binlog.000008", 500}), 300);
  EXPECT_EQ(binlog_bytes_after(files, {"binlog.000010", 300}), 0);
  EXPECT_EQ(binlog_bytes_after(files, {"binlog.000003", 4}), 1800);  // purged file: everything left
}

TEST(MysqlStreamControl, PositionsRoundTripThroughVersions) {
  for (const char* text : {"binlog.000001:4", "binlog.000042:1234", "mysql-bin.999999:4294967295",
                           "binlog.1000000:256"}) {
    BinlogPosition p = BinlogPosition::parse(text);
    std::string base = binlog_base_name(p.file);
    EXPECT_EQ(binlog_position_of(p.version(), base).to_string(), text);
  }
  EXPECT_EQ(binlog_base_name("my.host-bin.000003"), "my.host-bin");
  EXPECT_THROW(binlog_base_name("binlog"), Error);
  // Versions grow across a rotation even when the offset falls.
  EXPECT_LT(BinlogPosition::parse("binlog.000001:900000").version(), BinlogPosition::parse("binlog.000002:4").version());
}

TEST(MysqlStreamControl, ReplicaServerIdsAreStableAndAvoidTheServer) {
  uint32_t a = replica_server_id("orders", 1);
  EXPECT_EQ(a, replica_server_id("orders", 1));
  EXPECT_NE(a, replica_server_id("orders2", 1));
  EXPECT_NE(a, 0u);
  uint32_t other = replica_server_id("orders", a);  // the server itself has that id
  EXPECT_NE(other, a);
  EXPECT_NE(other, 0u);
}

// MysqlSnapshotPoint (src/connectors/mysql/mysql_snapshot.h) against MariaDB 10.11: its
// connections share one view, without writes at the first attempt, under constant commits
// through retries or the read-lock fallback, and with one connection when RELOAD is missing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "connectors/mysql/mysql_snapshot.h"
#include "mysql_support.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;

// Each connection of a point sees the same rows, whichever partition it reads; also
// when commits keep landing while the point opens (retries, then the brief lock).
TEST(MysqlSnapshotPoint, ConnectionsAgree) {
  Sandbox sb("my_point");
  MysqlDatabase my(sb);
  my.exec("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  my.exec("INSERT INTO t (v) VALUES (1)");
  {
    mysql::MysqlSnapshotPoint point(my.peer(), 3, /*attempts=*/5);
    EXPECT_EQ(point.attempts(), 1);  // nothing commits meanwhile: the first lock-free attempt agrees
    EXPECT_EQ(point.id(), point.binlog_position().to_string());
    EXPECT_EQ(point.position(), point.binlog_position().version());
    my.exec("INSERT INTO t (v) VALUES (2)");
    std::vector<std::unique_ptr<mysql::MysqlSnapshotPoint::Lease>> leases;
    for (int i = 0; i < 3; ++i) leases.push_back(point.borrow());
    for (auto& l : leases) EXPECT_EQ(l->conn().value("SELECT COUNT(*) FROM t"), "1");
    auto master = my.conn().first_row("SHOW MASTER STATUS");
    EXPECT_GT((mysql::BinlogPosition{*(*master)[0], std::stoull(*(*master)[1])}).version(), point.position());
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> inserts{0};
  std::thread writer([&] {
    auto c = mysql::MysqlConnection::open(my.peer());
    while (!stop) {
      c->exec("INSERT INTO t (v) VALUES (3)");
      ++inserts;
    }
  });
  eventually([&] { return inserts > 100; }, 30);
  std::vector<int> attempts;
  for (int round = 0; round < 5; ++round) {
    mysql::MysqlSnapshotPoint point(my.peer(), 6);  // the default: under the brief lock
    attempts.push_back(point.attempts());
    EXPECT_EQ(point.attempts(), 0);
    std::vector<std::unique_ptr<mysql::MysqlSnapshotPoint::Lease>> leases;
    for (int i = 0; i < 6; ++i) leases.push_back(point.borrow());
    std::string first = leases[0]->conn().value("SELECT CONCAT(COUNT(*), ':', MAX(id)) FROM t");
    for (auto& l : leases) EXPECT_EQ(l->conn().value("SELECT CONCAT(COUNT(*), ':', MAX(id)) FROM t"), first);
  }
  stop = true;
  writer.join();
  std::string seen;
  for (int a : attempts) seen += std::to_string(a) + " ";
  std::printf("attempts per point under writes (0 = opened under the lock): %s\n", seen.c_str());
}

// The lock path: with RELOAD the pool opens under FLUSH TABLES WITH READ LOCK; without it
// the point keeps one connection. Either way one consistent view while commits go on.
TEST(MysqlSnapshotPoint, LockFallbackAndWithoutReloadOneConnection) {
  Sandbox sb("my_noreload");
  MysqlDatabase my(sb);
  my.exec("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  my.exec("DROP USER IF EXISTS 'ferry_ro'@'%'");
  my.exec("CREATE USER 'ferry_ro'@'%'");
  my.exec(fmt::format("GRANT SELECT ON `{}`.* TO 'ferry_ro'@'%'", my.name()));
  PeerSpec ro = my.peer();
  ro.user = "ferry_ro";
  std::atomic<bool> stop{false};
  std::atomic<int64_t> inserts{0};
  std::thread writer([&] {
    auto c = mysql::MysqlConnection::open(my.peer());
    while (!stop) {
      c->exec("INSERT INTO t (v) VALUES (1)");
      ++inserts;
    }
  });
  eventually([&] { return inserts > 100; }, 30);
  auto same_view = [&](mysql::MysqlSnapshotPoint& point) {
    std::vector<std::unique_ptr<mysql::MysqlSnapshotPoint::Lease>> leases;
    for (int i = 0; i < point.connections(); ++i) leases.push_back(point.borrow());
    std::string first = leases[0]->conn().value("SELECT CONCAT(COUNT(*), ':', MAX(id)) FROM t");
    int64_t until = inserts + 200;
    while (inserts < until) std::this_thread::yield();  // commits keep coming
    for (auto& l : leases) EXPECT_EQ(l->conn().value("SELECT CONCAT(COUNT(*), ':', MAX(id)) FROM t"), first);
  };
  {
    mysql::MysqlSnapshotPoint locked(my.peer(), 4, /*attempts=*/0);
    EXPECT_EQ(locked.attempts(), 0);
    EXPECT_EQ(locked.connections(), 4);
    same_view(locked);
  }
  {
    mysql::MysqlSnapshotPoint reduced(ro, 4, /*attempts=*/0);
    EXPECT_EQ(reduced.attempts(), -1);
    EXPECT_EQ(reduced.connections(), 1);
    same_view(reduced);
  }
  stop = true;
  writer.join();
  my.exec("DROP USER 'ferry_ro'@'%'");
}


// MariaDB sessions for tests of the mysql source, on the test MariaDB of
// scripts/test-servers (FERRY_TEST_MYSQL_HOST/PORT/USER).
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "connectors/mysql/binlog_client.h"
#include "connectors/mysql/binlog_position.h"
#include "connectors/mysql/mysql_connection.h"
#include <gtest/gtest.h>

#include "core/spec.h"
#include "support.h"

namespace ferry::test {

// The server's endpoint (no database, no password).
mysql::MysqlEndpoint mariadb_endpoint();

// A plain server-wide session (no default database) for tests of the binlog client and
// change stream: statements ';'-separated, rows with NULL as "NULL".
class Mariadb {
 public:
  Mariadb();
  ~Mariadb();
  Mariadb(const Mariadb&) = delete;
  Mariadb& operator=(const Mariadb&) = delete;

  // Runs one or more statements (';'-separated), discarding results; throws naming the statement.
  void exec(const std::string& sql);
  // Rows of a query, every value as text, NULL as "NULL".
  std::vector<std::vector<std::string>> rows(const std::string& sql);
  std::string value(const std::string& sql) { return rows(sql).at(0).at(0); }
  // The end of the binlog now (SHOW MASTER STATUS).
  mysql::BinlogPosition position();
  const mysql::MysqlEndpoint& endpoint() const { return endpoint_; }

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
  mysql::MysqlEndpoint endpoint_;
};

// A MariaDB database beside a Sandbox (its ClickHouse database is the destination):
// created fresh, dropped at the end.
class MysqlDatabase {
 public:
  explicit MysqlDatabase(const Sandbox& sb);  // database named like the sandbox
  ~MysqlDatabase();

  const std::string& name() const { return name_; }
  // Peer "src" of type mysql (FERRY_TEST_MYSQL_HOST/PORT/USER), default database name().
  PeerSpec peer() const;
  mysql::MysqlConnection& conn() { return *conn_; }  // session in UTC, default database name()
  void exec(const std::string& sql) { conn_->exec(sql); }
  // A new session (after restart_mariadb()).
  void reconnect();
  // Rows as text, NULL as "\\N".
  std::vector<std::vector<std::string>> rows(const std::string& sql);
  std::string value(const std::string& sql) { return conn_->value(sql); }
  // dir()/ferry.yaml with peers src (this database) and dst (the sandbox's ClickHouse
  // database) followed by `pipes_yaml`; returns its path.
  std::string write_config(const Sandbox& sb, const std::string& pipes_yaml) const;

 private:
  std::string name_;
  std::unique_ptr<mysql::MysqlConnection> conn_;
};

// Restarts the MariaDB of scripts/test-servers (FERRY_SERVERS_DIR) by its pid, on the
// same port; returns once it answers. Every open connection to it breaks.
void restart_mariadb();

using Rows = std::vector<std::vector<std::string>>;

// A live MariaDB workload on table acc (id INT key, balance BIGINT, note VARCHAR, ...) of
// `source`'s database until stop(): transactions of a transfer between two rows, an insert
// of `insert_values(id)` (the VALUES list), a delete of an inserted row and a primary key
// update.
class MysqlTransferWriter {
 public:
  MysqlTransferWriter(const PeerSpec& source, std::function<std::string(int id)> insert_values);
  ~MysqlTransferWriter() { stop(); }
  // Stops and joins; the writer's error, "" when none.
  std::string stop();

 private:
  std::atomic<bool> writing_{true};
  std::string error_;
  std::thread thread_;
};

// Live rows of `table` on both sides (MariaDB, and the sandbox's ClickHouse table FINAL
// without soft-deleted rows), every column as text, ordered by id (columns NOT NULL).
std::pair<Rows, Rows> mysql_and_ch(Sandbox& sb, MysqlDatabase& db, const std::string& table,
                                   const std::vector<std::string>& cols);

// Waits until both sides hold the same rows, value by value; else names the first difference.
::testing::AssertionResult mysql_converges(Sandbox& sb, MysqlDatabase& db, const std::string& table,
                                           const std::vector<std::string>& cols,
                                           std::chrono::seconds timeout = std::chrono::seconds(90));

}  // namespace ferry::test

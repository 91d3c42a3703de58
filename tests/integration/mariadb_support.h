// A plain client session on the test MariaDB of scripts/test-servers
// (FERRY_TEST_MYSQL_HOST/PORT/USER), for integration tests of the MariaDB source.
#pragma once
#include <mysql.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "connectors/mysql/binlog_client.h"
#include "connectors/mysql/binlog_position.h"
#include "test_env.h"

namespace ferry::test {

class Mariadb {
 public:
  Mariadb() : mysql_(mysql_init(nullptr)) {
    endpoint_.host = require_env("FERRY_TEST_MYSQL_HOST");
    endpoint_.port = std::stoi(require_env("FERRY_TEST_MYSQL_PORT"));
    endpoint_.user = require_env("FERRY_TEST_MYSQL_USER");
    if (!mysql_real_connect(mysql_, endpoint_.host.c_str(), endpoint_.user.c_str(), nullptr, nullptr,
                            static_cast<unsigned>(endpoint_.port), nullptr, CLIENT_MULTI_STATEMENTS))
      throw std::runtime_error(mysql_error(mysql_));
    mysql_set_character_set(mysql_, "utf8mb4");
  }
  ~Mariadb() { mysql_close(mysql_); }
  Mariadb(const Mariadb&) = delete;
  Mariadb& operator=(const Mariadb&) = delete;

  // Runs one or more statements (';'-separated), discarding results.
  void exec(const std::string& sql) {
    if (mysql_query(mysql_, sql.c_str())) throw std::runtime_error(sql.substr(0, 200) + ": " + mysql_error(mysql_));
    do {
      if (MYSQL_RES* r = mysql_store_result(mysql_)) mysql_free_result(r);
    } while (mysql_next_result(mysql_) == 0);
    if (mysql_errno(mysql_)) throw std::runtime_error(sql.substr(0, 200) + ": " + mysql_error(mysql_));
  }
  // Rows of a query, every value as text, NULL as "NULL".
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    if (mysql_query(mysql_, sql.c_str())) throw std::runtime_error(sql + ": " + mysql_error(mysql_));
    MYSQL_RES* r = mysql_store_result(mysql_);
    std::vector<std::vector<std::string>> out;
    while (MYSQL_ROW row = r ? mysql_fetch_row(r) : nullptr) {
      unsigned long* lengths = mysql_fetch_lengths(r);
      auto& o = out.emplace_back();
      for (unsigned i = 0; i < mysql_num_fields(r); ++i)
        o.push_back(row[i] ? std::string(row[i], lengths[i]) : "NULL");
    }
    if (r) mysql_free_result(r);
    return out;
  }
  std::string value(const std::string& sql) { return rows(sql).at(0).at(0); }
  mysql::BinlogPosition position() {
    auto r = rows("SHOW MASTER STATUS").at(0);
    return {r.at(0), std::stoull(r.at(1))};
  }
  const mysql::MysqlEndpoint& endpoint() const { return endpoint_; }

 private:
  MYSQL* mysql_;
  mysql::MysqlEndpoint endpoint_;
};

}  // namespace ferry::test

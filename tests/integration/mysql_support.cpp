#include "mysql_support.h"

#include <cstdio>

#include <fmt/format.h>

#include "core/ident.h"

namespace ferry::test {

namespace {

PeerSpec server_peer(const std::string& database) {
  PeerSpec p;
  p.name = "src";
  p.type = PeerType::MySQL;
  p.host = env_or_fail("FERRY_TEST_MYSQL_HOST");
  p.port = std::stoi(env_or_fail("FERRY_TEST_MYSQL_PORT"));
  p.user = env_or_fail("FERRY_TEST_MYSQL_USER");
  p.database = database;
  return p;
}

}  // namespace

MysqlDatabase::MysqlDatabase(const Sandbox& sb) : name_(sb.name()) {
  auto admin = mysql::MysqlConnection::open(server_peer(""));
  admin->exec("DROP DATABASE IF EXISTS " + quote_mysql_ident(name_));
  admin->exec("CREATE DATABASE " + quote_mysql_ident(name_) + " CHARACTER SET utf8mb4");
  conn_ = mysql::MysqlConnection::open(peer());
}

MysqlDatabase::~MysqlDatabase() {
  try {
    conn_->exec("DROP DATABASE IF EXISTS " + quote_mysql_ident(name_));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mysql cleanup: %s\n", e.what());
  }
}

PeerSpec MysqlDatabase::peer() const { return server_peer(name_); }

std::vector<std::vector<std::string>> MysqlDatabase::rows(const std::string& sql) {
  std::vector<std::vector<std::string>> out;
  for (const auto& r : conn_->rows(sql)) {
    std::vector<std::string> row;
    for (const auto& v : r) row.push_back(v ? *v : "\\N");
    out.push_back(std::move(row));
  }
  return out;
}

std::string MysqlDatabase::write_config(const Sandbox& sb, const std::string& pipes_yaml) const {
  PeerSpec p = peer();
  return write_file(sb.dir() + "/ferry.yaml",
                    fmt::format("peers:\n  src: {{ type: mysql, host: \"{}\", port: {}, user: \"{}\", database: \"{}\" }}\n"
                                "  dst: {{ type: clickhouse, url: \"{}\", database: \"{}\" }}\npipes:\n{}",
                                p.host, p.port, p.user, p.database, env_or_fail("FERRY_TEST_CH_URL"), sb.name(),
                                pipes_yaml));
}

}  // namespace ferry::test

#include "mysql_support.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <fmt/ranges.h>

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

void MysqlDatabase::reconnect() { conn_ = mysql::MysqlConnection::open(peer()); }

void restart_mariadb() {
  std::string dir = env_or_fail("FERRY_SERVERS_DIR");
  auto pid = [&] {
    std::ifstream in(dir + "/my.pid");
    long p = 0;
    in >> p;
    return p;
  };
  long before = pid();
  std::string command = fmt::format("{} restart my '{}'", FERRY_TEST_SERVERS_SCRIPT, dir);
  int status = std::system(command.c_str());
  ASSERT_EQ(status, 0) << command;
  ASSERT_NE(pid(), before) << "MariaDB was not restarted";
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

std::pair<Rows, Rows> mysql_and_ch(Sandbox& sb, MysqlDatabase& db, const std::string& table,
                                   const std::vector<std::string>& cols) {
  std::string my_cols, ch_cols;
  for (const auto& c : cols) {
    my_cols += (my_cols.empty() ? "" : ", ") + fmt::format("CAST({} AS CHAR)", quote_mysql_ident(c));
    ch_cols += (ch_cols.empty() ? "" : ", ") + fmt::format("toString({})", quote_backtick_ident(c));
  }
  Rows my = db.rows(fmt::format("SELECT {} FROM {} ORDER BY id", my_cols, quote_mysql_ident(table)));
  Rows ch = sb.ch_rows(fmt::format("SELECT {} FROM {}.{} FINAL WHERE _ferry_is_deleted = 0 ORDER BY id", ch_cols,
                                   quote_backtick_ident(sb.name()), quote_backtick_ident(table)));
  return {my, ch};
}

::testing::AssertionResult mysql_converges(Sandbox& sb, MysqlDatabase& db, const std::string& table,
                                           const std::vector<std::string>& cols, std::chrono::seconds timeout) {
  std::pair<Rows, Rows> last;
  std::string error;
  bool same = eventually(
      [&] {
        try {
          last = mysql_and_ch(sb, db, table, cols);
          error.clear();
          return last.first == last.second;
        } catch (const std::exception& e) {
          error = e.what();
          return false;
        }
      },
      int(timeout.count()));
  if (same) return ::testing::AssertionSuccess();
  auto r = ::testing::AssertionFailure() << table << ": " << error << " mariadb has " << last.first.size()
                                         << " rows, clickhouse " << last.second.size();
  for (size_t i = 0; i < std::min(last.first.size(), last.second.size()); ++i)
    if (last.first[i] != last.second[i]) {
      r << "; first difference at row " << i << ": mariadb [" << fmt::format("{}", fmt::join(last.first[i], "|"))
        << "] ch [" << fmt::format("{}", fmt::join(last.second[i], "|")) << "]";
      break;
    }
  return r;
}

}  // namespace ferry::test

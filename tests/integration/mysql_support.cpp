#include "mysql_support.h"

#include <mysql.h>

#include <cstdio>
#include <random>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "cdc_support.h"
#include "core/ident.h"

namespace ferry::test {

mysql::MysqlEndpoint mariadb_endpoint() {
  mysql::MysqlEndpoint e;
  e.host = env_or_fail("FERRY_TEST_MYSQL_HOST");
  e.port = std::stoi(env_or_fail("FERRY_TEST_MYSQL_PORT"));
  e.user = env_or_fail("FERRY_TEST_MYSQL_USER");
  return e;
}

namespace {

PeerSpec server_peer(const std::string& database) {
  mysql::MysqlEndpoint e = mariadb_endpoint();
  PeerSpec p;
  p.name = "src";
  p.type = PeerType::MySQL;
  p.host = e.host;
  p.port = e.port;
  p.user = e.user;
  p.database = database;
  return p;
}

}  // namespace

struct Mariadb::Handle {
  MYSQL* mysql = mysql_init(nullptr);
  ~Handle() { mysql_close(mysql); }
};

Mariadb::Mariadb() : handle_(std::make_unique<Handle>()), endpoint_(mariadb_endpoint()) {
  MYSQL* m = handle_->mysql;
  if (!mysql_real_connect(m, endpoint_.host.c_str(), endpoint_.user.c_str(), nullptr, nullptr,
                          static_cast<unsigned>(endpoint_.port), nullptr, CLIENT_MULTI_STATEMENTS))
    throw std::runtime_error(mysql_error(m));
  mysql_set_character_set(m, "utf8mb4");
}

Mariadb::~Mariadb() = default;

void Mariadb::exec(const std::string& sql) {
  MYSQL* m = handle_->mysql;
  if (mysql_query(m, sql.c_str())) throw std::runtime_error(sql.substr(0, 200) + ": " + mysql_error(m));
  do {
    if (MYSQL_RES* r = mysql_store_result(m)) mysql_free_result(r);
  } while (mysql_next_result(m) == 0);
  if (mysql_errno(m)) throw std::runtime_error(sql.substr(0, 200) + ": " + mysql_error(m));
}

std::vector<std::vector<std::string>> Mariadb::rows(const std::string& sql) {
  MYSQL* m = handle_->mysql;
  if (mysql_query(m, sql.c_str())) throw std::runtime_error(sql + ": " + mysql_error(m));
  MYSQL_RES* r = mysql_store_result(m);
  std::vector<std::vector<std::string>> out;
  while (MYSQL_ROW row = r ? mysql_fetch_row(r) : nullptr) {
    unsigned long* lengths = mysql_fetch_lengths(r);
    auto& o = out.emplace_back();
    for (unsigned i = 0; i < mysql_num_fields(r); ++i) o.push_back(row[i] ? std::string(row[i], lengths[i]) : "NULL");
  }
  if (r) mysql_free_result(r);
  return out;
}

mysql::BinlogPosition Mariadb::position() {
  auto r = rows("SHOW MASTER STATUS").at(0);
  return {r.at(0), std::stoull(r.at(1))};
}

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
  pid_t before = test_server_pid("my");
  std::string command =
      fmt::format("{} restart my '{}'", FERRY_TEST_SERVERS_SCRIPT, env_or_fail("FERRY_SERVERS_DIR"));
  int status = std::system(command.c_str());
  ASSERT_EQ(status, 0) << command;
  ASSERT_NE(test_server_pid("my"), before) << "MariaDB was not restarted";
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
  return sides_converge([&] { return mysql_and_ch(sb, db, table, cols); }, table, "mariadb", timeout);
}

MysqlTransferWriter::MysqlTransferWriter(const PeerSpec& source, std::function<std::string(int id)> insert_values)
    : thread_([this, source, insert_values] {
        try {
          auto conn = mysql::MysqlConnection::open(source);
          std::mt19937 rng(11);
          int next_id = 100000;
          while (writing_) {
            int a = 1 + rng() % 3000, b = 1 + rng() % 3000, moved = 1 + rng() % 3000;
            conn->exec("START TRANSACTION");
            conn->exec(fmt::format("UPDATE acc SET balance = balance - 1 WHERE id = {}", a));
            conn->exec(fmt::format("UPDATE acc SET balance = balance + 1, note = CONCAT(note, '+') WHERE id = {}", b));
            conn->exec(fmt::format("INSERT INTO acc VALUES ({})", insert_values(next_id)));
            conn->exec(fmt::format("DELETE FROM acc WHERE id = {} AND id > 100000", next_id - 3));
            conn->exec(fmt::format("UPDATE IGNORE acc SET id = id + 1000000 WHERE id = {}", moved));
            conn->exec("COMMIT");
            ++next_id;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
          }
        } catch (const std::exception& e) {
          error_ = e.what();
        }
      }) {}

std::string MysqlTransferWriter::stop() {
  writing_ = false;
  if (thread_.joinable()) thread_.join();
  return error_;
}

}  // namespace ferry::test

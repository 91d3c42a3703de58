#include "connectors/mysql/binlog_admin.h"

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include <fmt/format.h>

#include "core/error.h"

namespace ferry::mysql {

namespace {

bool connection_error(unsigned int code) {
  return code == CR_CONNECTION_ERROR || code == CR_CONN_HOST_ERROR || code == CR_SERVER_GONE_ERROR ||
         code == CR_SERVER_LOST || code == CR_UNKNOWN_HOST || code == ER_CON_COUNT_ERROR ||
         code == ER_SERVER_SHUTDOWN || code == CR_COMMANDS_OUT_OF_SYNC;
}

}  // namespace

struct BinlogAdmin::Handle {
  MYSQL* mysql = nullptr;
  ~Handle() {
    if (mysql) mysql_close(mysql);
  }
};

BinlogAdmin::BinlogAdmin(MysqlEndpoint endpoint)
    : endpoint_(std::move(endpoint)), where_(fmt::format("{}:{}", endpoint_.host, endpoint_.port)) {}

BinlogAdmin::~BinlogAdmin() = default;

void BinlogAdmin::connect() {
  auto h = std::make_unique<Handle>();
  h->mysql = mysql_init(nullptr);
  if (!h->mysql) throw Error(ErrorKind::Transient, "MariaDB client: out of memory");
  unsigned int timeout = 10;
  mysql_optionsv(h->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(h->mysql, MYSQL_OPT_READ_TIMEOUT, &timeout);
  if (!mysql_real_connect(h->mysql, endpoint_.host.c_str(), endpoint_.user.c_str(),
                          endpoint_.password.empty() ? nullptr : endpoint_.password.c_str(), nullptr,
                          static_cast<unsigned int>(endpoint_.port), nullptr, 0)) {
    unsigned int code = mysql_errno(h->mysql);
    throw Error(connection_error(code) ? ErrorKind::Transient : ErrorKind::Permanent,
                fmt::format("MariaDB at {}: connect: {} (error {})", where_, mysql_error(h->mysql), code));
  }
  mysql_set_character_set(h->mysql, "utf8mb4");
  handle_ = std::move(h);
}

std::vector<std::vector<std::optional<std::string>>> BinlogAdmin::rows(const std::string& sql) {
  if (!handle_) connect();
  MYSQL* m = handle_->mysql;
  if (mysql_query(m, sql.c_str())) {
    unsigned int code = mysql_errno(m);
    std::string msg = fmt::format("MariaDB at {}: {}: {} (error {})", where_, sql, mysql_error(m), code);
    if (connection_error(code)) {
      handle_.reset();  // the next query reconnects
      throw Error(ErrorKind::Transient, msg);
    }
    throw Error(ErrorKind::Permanent, msg);
  }
  std::vector<std::vector<std::optional<std::string>>> out;
  MYSQL_RES* res = mysql_store_result(m);
  if (!res) return out;
  unsigned int fields = mysql_num_fields(res);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    unsigned long* lengths = mysql_fetch_lengths(res);
    auto& r = out.emplace_back();
    for (unsigned int i = 0; i < fields; ++i)
      r.push_back(row[i] ? std::optional<std::string>(std::string(row[i], lengths[i])) : std::nullopt);
  }
  mysql_free_result(res);
  return out;
}

std::string BinlogAdmin::quote(const std::string& value) {
  if (!handle_) connect();
  std::string out(value.size() * 2 + 1, '\0');
  unsigned long n = mysql_real_escape_string(handle_->mysql, out.data(), value.data(), value.size());
  out.resize(n);
  return "'" + out + "'";
}

}  // namespace ferry::mysql

#include "connectors/mysql/mysql_connection.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <fmt/format.h>

#include "core/error.h"
#include "core/spec.h"

namespace ferry::mysql {

bool transient_mysql_error(unsigned int code) {
  switch (code) {
    case CR_CONNECTION_ERROR: case CR_CONN_HOST_ERROR: case CR_SERVER_GONE_ERROR: case CR_SERVER_LOST:
    case CR_UNKNOWN_HOST: case CR_IPSOCK_ERROR: case CR_SERVER_LOST_EXTENDED:
    case ER_CON_COUNT_ERROR: case ER_SERVER_SHUTDOWN: case ER_TOO_MANY_USER_CONNECTIONS:
    case ER_LOCK_WAIT_TIMEOUT: case ER_LOCK_DEADLOCK: case ER_CONNECTION_KILLED: case ER_QUERY_INTERRUPTED:
    case ER_NET_READ_ERROR: case ER_NET_READ_INTERRUPTED: case ER_NET_ERROR_ON_WRITE: case ER_NET_WRITE_INTERRUPTED:
      return true;
    default:
      return false;
  }
}

std::unique_ptr<MysqlConnection> MysqlConnection::open(const PeerSpec& peer) {
  std::unique_ptr<MysqlConnection> c(new MysqlConnection());
  std::string host = peer.host.empty() ? "127.0.0.1" : peer.host;
  unsigned int port = static_cast<unsigned int>(peer.port > 0 ? peer.port : 3306);
  c->where_ = fmt::format("{}:{}", host, port);
  c->mysql_ = mysql_init(nullptr);
  if (!c->mysql_) throw Error(ErrorKind::Transient, "MariaDB client: out of memory");
  unsigned int timeout = 10;
  mysql_optionsv(c->mysql_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(c->mysql_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (!mysql_real_connect(c->mysql_, host.c_str(), peer.user.c_str(),
                          peer.password.empty() ? nullptr : peer.password.c_str(),
                          peer.database.empty() ? nullptr : peer.database.c_str(), port, nullptr, 0)) {
    unsigned int code = mysql_errno(c->mysql_);
    std::string msg = mysql_error(c->mysql_);
    ErrorKind kind = transient_mysql_error(code) ? ErrorKind::Transient : ErrorKind::Permanent;
    throw Error(kind, fmt::format("cannot connect to MariaDB/MySQL at {} as \"{}\": {} (error {})", c->where_,
                                  peer.user, msg, code));
  }
  // Canonical renderings: TIMESTAMP in UTC; long streamed reads must not time out while
  // the destination is slow to take the rows.
  c->exec("SET time_zone = '+00:00', net_write_timeout = 3600, net_read_timeout = 3600");
  return c;
}

MysqlConnection::~MysqlConnection() {
  if (mysql_) mysql_close(mysql_);
}

void MysqlConnection::fail(const std::string& doing) {
  unsigned int code = mysql_errno(mysql_);
  std::string msg = mysql_error(mysql_);
  ErrorKind kind = transient_mysql_error(code) ? ErrorKind::Transient : ErrorKind::Permanent;
  std::string what = doing.size() > 300 ? doing.substr(0, 300) + "..." : doing;
  throw Error(kind, fmt::format("MariaDB/MySQL at {}: {}: {} (error {})", where_, what, msg, code));
}

void MysqlConnection::exec(const std::string& sql) {
  if (mysql_real_query(mysql_, sql.data(), sql.size())) fail(sql);
  if (MYSQL_RES* r = mysql_store_result(mysql_)) mysql_free_result(r);
  else if (mysql_errno(mysql_)) fail(sql);
}

std::vector<Row> MysqlConnection::rows(const std::string& sql) {
  if (mysql_real_query(mysql_, sql.data(), sql.size())) fail(sql);
  MYSQL_RES* r = mysql_store_result(mysql_);
  if (!r) {
    if (mysql_errno(mysql_)) fail(sql);
    return {};
  }
  std::vector<Row> out;
  unsigned int n = mysql_num_fields(r);
  while (MYSQL_ROW row = mysql_fetch_row(r)) {
    unsigned long* len = mysql_fetch_lengths(r);
    Row v(n);
    for (unsigned int i = 0; i < n; ++i)
      if (row[i]) v[i] = std::string(row[i], len[i]);
    out.push_back(std::move(v));
  }
  mysql_free_result(r);
  return out;
}

std::optional<Row> MysqlConnection::first_row(const std::string& sql) {
  std::vector<Row> r = rows(sql);
  if (r.empty()) return std::nullopt;
  return std::move(r[0]);
}

std::string MysqlConnection::value(const std::string& sql) {
  std::optional<Row> r = first_row(sql);
  return r && !r->empty() && (*r)[0] ? *(*r)[0] : "";
}

MysqlConnection::Stream::Stream(MysqlConnection& c, MYSQL_RES* r) : conn_(c), res_(r), fields_(mysql_num_fields(r)) {}

MysqlConnection::Stream::~Stream() {
  // Reads what is left (the server sends it anyway) so the connection stays usable.
  if (res_) mysql_free_result(res_);
}

void MysqlConnection::Stream::abandon() {
  if (!res_) return;
  mariadb_cancel(conn_.mysql_);  // shuts the socket down: freeing the result then reads nothing
  mysql_free_result(res_);
  res_ = nullptr;
}

char** MysqlConnection::Stream::next(unsigned long*& lengths) {
  MYSQL_ROW row = mysql_fetch_row(res_);
  if (!row) {
    if (mysql_errno(conn_.mysql_)) conn_.fail("reading rows");
    return nullptr;
  }
  lengths = mysql_fetch_lengths(res_);
  return row;
}

std::unique_ptr<MysqlConnection::Stream> MysqlConnection::stream(const std::string& sql) {
  if (mysql_real_query(mysql_, sql.data(), sql.size())) fail(sql);
  MYSQL_RES* r = mysql_use_result(mysql_);
  if (!r) fail(sql);
  return std::unique_ptr<Stream>(new Stream(*this, r));
}

std::string MysqlConnection::literal(std::string_view text) {
  std::string out(text.size() * 2 + 1, '\0');
  unsigned long n = mysql_real_escape_string(mysql_, out.data(), text.data(), static_cast<unsigned long>(text.size()));
  out.resize(n);
  return "'" + out + "'";
}

std::string MysqlConnection::server_version() const { return mysql_get_server_info(mysql_); }
bool MysqlConnection::is_mariadb() const { return mariadb_connection(mysql_); }
unsigned long MysqlConnection::server_version_number() const { return mysql_get_server_version(mysql_); }

}  // namespace ferry::mysql

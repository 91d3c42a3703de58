#include "connectors/postgres/pg_connection.h"

#include <libpq-fe.h>

#include <cstring>

#include <fmt/format.h>

#include "core/error.h"
#include "core/spec.h"

namespace ferry {

const char* const kPgCanonicalSessionSql =
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
    "SET extra_float_digits = 1; SET bytea_output = 'hex'; SET client_encoding = 'UTF8'";

namespace {

ErrorKind kind_for_sqlstate(const char* state) {
  if (!state) return ErrorKind::Transient;  // no SQLSTATE: the connection broke
  std::string s(state);
  if (s.rfind("08", 0) == 0) return ErrorKind::Transient;  // connection exception
  if (s.rfind("53", 0) == 0) return ErrorKind::Transient;  // insufficient resources
  if (s == "57P01" || s == "57P02" || s == "57P03" || s == "57014") return ErrorKind::Transient;
  if (s == "40001" || s == "40P01" || s == "55P03") return ErrorKind::Transient;
  return ErrorKind::Permanent;
}

ErrorKind kind_for_connect_failure(const std::string& msg) {
  for (const char* permanent : {"password authentication failed", "does not exist", "no pg_hba.conf entry",
                                "permission denied", "must be superuser or replication role",
                                "invalid connection option", "missing \"=\"", "invalid URI"}) {
    if (msg.find(permanent) != std::string::npos) return ErrorKind::Permanent;
  }
  return ErrorKind::Transient;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

PgResult::~PgResult() {
  if (r_) PQclear(r_);
}
int PgResult::rows() const { return PQntuples(r_); }
int PgResult::columns() const { return PQnfields(r_); }
bool PgResult::is_null(int row, int col) const { return PQgetisnull(r_, row, col); }
std::string PgResult::get(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
}

PgConnection::PgConnection(const std::string& conninfo, const std::string& password, bool replication) {
  // Keywords are passed separately so the password never appears in a string we might log.
  const char* keys[5];
  const char* vals[5];
  int n = 0;
  keys[n] = "dbname";
  vals[n++] = conninfo.c_str();  // expand_dbname=1: the conninfo string is parsed in place
  if (!password.empty()) {
    keys[n] = "password";
    vals[n++] = password.c_str();
  }
  if (replication) {
    keys[n] = "replication";
    vals[n++] = "database";
  }
  keys[n] = "application_name";
  vals[n++] = "ferry";
  keys[n] = nullptr;
  vals[n] = nullptr;
  conn_ = PQconnectdbParams(keys, vals, 1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = conn_ ? trim(PQerrorMessage(conn_)) : "out of memory";
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    throw Error(kind_for_connect_failure(msg), "cannot connect to PostgreSQL: " + msg);
  }
  PGresult* r = PQexec(conn_, kPgCanonicalSessionSql);
  check(r, "session setup");
  PQclear(r);
}

PgConnection::~PgConnection() {
  if (copy_buf_) PQfreemem(copy_buf_);
  if (conn_) PQfinish(conn_);
}

std::unique_ptr<PgConnection> PgConnection::open(const PeerSpec& peer, bool replication) {
  return std::make_unique<PgConnection>(peer.dsn, peer.password, replication);
}

std::string PgConnection::last_error() const { return conn_ ? trim(PQerrorMessage(conn_)) : ""; }

void PgConnection::check(PGresult* r, const std::string& what) {
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_OUT || st == PGRES_COPY_IN ||
      st == PGRES_COPY_BOTH || st == PGRES_EMPTY_QUERY)
    return;
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
  std::string msg = r ? trim(PQresultErrorMessage(r)) : last_error();
  if (msg.empty()) msg = last_error();
  if (r) PQclear(r);
  ErrorKind kind = kind_for_sqlstate(state);
  if (PQstatus(conn_) != CONNECTION_OK) kind = ErrorKind::Transient;
  throw Error(kind, fmt::format("PostgreSQL {}: {}{}", what, msg, state ? fmt::format(" (SQLSTATE {})", state) : ""));
}

PgResult PgConnection::exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  check(r, "query failed");
  return PgResult(r);
}

PgResult PgConnection::exec_params(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                             nullptr, 0);
  check(r, "query failed");
  return PgResult(r);
}

std::string PgConnection::query_value(const std::string& sql) {
  PgResult r = exec(sql);
  if (r.rows() < 1 || r.columns() < 1) return "";
  return r.get(0, 0);
}

void PgConnection::start_copy_out(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  check(r, "COPY failed");
  PQclear(r);
}

const char* PgConnection::get_copy_row(int& len) {
  if (copy_buf_) {
    PQfreemem(copy_buf_);
    copy_buf_ = nullptr;
  }
  len = PQgetCopyData(conn_, &copy_buf_, 0);
  if (len > 0) return copy_buf_;
  if (len == -1) {  // end of copy: collect the final status
    PGresult* r = PQgetResult(conn_);
    check(r, "COPY failed");
    PQclear(r);
    while ((r = PQgetResult(conn_)) != nullptr) PQclear(r);
    return nullptr;
  }
  throw Error(ErrorKind::Transient, "PostgreSQL COPY failed: " + last_error());
}

void PgConnection::put_copy_data(const std::string& data) {
  if (data.empty()) return;
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1)
    throw Error(ErrorKind::Transient, "PostgreSQL COPY failed: " + last_error());
}

void PgConnection::end_copy_in() {
  if (PQputCopyEnd(conn_, nullptr) != 1) throw Error(ErrorKind::Transient, "PostgreSQL COPY failed: " + last_error());
  PGresult* r = PQgetResult(conn_);
  check(r, "COPY failed");
  PQclear(r);
  while ((r = PQgetResult(conn_)) != nullptr) PQclear(r);
}

int PgConnection::server_version_num() const { return PQserverVersion(conn_); }

}  // namespace ferry

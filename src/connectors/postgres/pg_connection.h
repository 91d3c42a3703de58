// Thin RAII wrapper over libpq: errors become ferry::Error with a kind
// derived from the SQLSTATE, so the runner can retry what is transient.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace ferry {

struct PeerSpec;

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r) {}
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&&) = delete;
  ~PgResult();
  int rows() const;
  int columns() const;
  bool is_null(int row, int col) const;
  std::string get(int row, int col) const;  // "" for NULL
  PGresult* raw() const { return r_; }

 private:
  PGresult* r_;
};

class PgConnection {
 public:
  // conninfo is a libpq connection string; `password` (may be empty) is
  // passed separately so it never ends up in a logged string.
  // `replication` opens a logical replication connection.
  PgConnection(const std::string& conninfo, const std::string& password, bool replication = false);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  static std::unique_ptr<PgConnection> open(const PeerSpec& peer, bool replication = false);

  PgResult exec(const std::string& sql);
  // $1..$n parameters as text.
  PgResult exec_params(const std::string& sql, const std::vector<std::optional<std::string>>& params);
  void exec_command(const std::string& sql) { exec(sql); }
  std::string query_value(const std::string& sql);

  // COPY ... TO STDOUT: begins the copy; then read rows with get_copy_row.
  void start_copy_out(const std::string& sql);
  // Returns a pointer to the next row (valid until the next call) and its
  // length, or nullptr at the end of the copy. Throws on error.
  const char* get_copy_row(int& len);

  // COPY ... FROM STDIN: begin with start_copy_in, send COPY text with put_copy_data
  // (blocking), then end_copy_in collects the COPY's outcome (throws its error).
  void start_copy_in(const std::string& sql) { start_copy_out(sql); }
  void put_copy_data(const std::string& data);
  void end_copy_in();

  int server_version_num() const;
  PGconn* raw() { return conn_; }
  std::string last_error() const;
  // The SQLSTATE of the last error thrown by this connection ("" when none had one).
  const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  void check(PGresult* r, const std::string& what);
  PGconn* conn_ = nullptr;
  char* copy_buf_ = nullptr;
  std::string last_sqlstate_;
};

// Session settings every ferry source session uses so values render in
// one canonical form: UTC timestamps, ISO dates, shortest exact floats, hex bytea.
extern const char* const kPgCanonicalSessionSql;

}  // namespace ferry

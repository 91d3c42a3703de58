// Thin RAII wrapper over MariaDB Connector/C (libmariadb) for SQL sessions (the
// binlog stream is binlog_client.h). Errors become ferry::Error:
//   Transient  server unreachable, connection lost, too many connections, shutdown,
//              lock wait timeout / deadlock
//   Permanent  access denied, unknown database/table/column, syntax, anything else
// Messages name host:port and the statement's purpose, never the password.
// Sessions speak utf8mb4 and run with time_zone '+00:00' (TIMESTAMP values in UTC).
// Not thread-safe: one connection per thread at a time.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

typedef struct st_mysql MYSQL;
typedef struct st_mysql_res MYSQL_RES;

namespace ferry {

struct PeerSpec;

namespace mysql {

using Row = std::vector<std::optional<std::string>>;  // nullopt = NULL

// The error kind for a client or server error number (seam for tests).
bool transient_mysql_error(unsigned int code);

class MysqlConnection {
 public:
  // Connects to the peer's host:port as its user (password from PeerSpec::password), default
  // database peer.database (may be empty). Throws as described above.
  static std::unique_ptr<MysqlConnection> open(const PeerSpec& peer);
  ~MysqlConnection();
  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  void exec(const std::string& sql);                 // discards any result
  std::vector<Row> rows(const std::string& sql);     // whole result in memory (small results only)
  std::optional<Row> first_row(const std::string& sql);
  std::string value(const std::string& sql);         // first column of the first row; "" for none/NULL

  // Streaming read (mysql_use_result): rows come from the network one by one, so a big
  // table is never held in memory. Until the stream ends or is destroyed, the connection
  // runs nothing else.
  class Stream {
   public:
    ~Stream();
    Stream(const Stream&) = delete;
    // The next row: pointers valid until the next call (NULL fields are nullptr), lengths
    // in `lengths`. nullptr at the end. Throws Transient when the connection breaks.
    char** next(unsigned long*& lengths);
    unsigned int fields() const { return fields_; }
    // Gives up on the rest of the result without reading it (the server would send it
    // all): the connection is closed and unusable afterwards.
    void abandon();

   private:
    friend class MysqlConnection;
    Stream(MysqlConnection& c, MYSQL_RES* r);
    MysqlConnection& conn_;
    MYSQL_RES* res_;
    unsigned int fields_ = 0;
  };
  std::unique_ptr<Stream> stream(const std::string& sql);

  // 'text' with quotes and backslashes escaped for this connection's charset.
  std::string literal(std::string_view text);
  // "10.11.6-MariaDB-0+deb12u1" and whether it is MariaDB (else MySQL).
  std::string server_version() const;
  bool is_mariadb() const;
  unsigned long server_version_number() const;  // 101106
  const std::string& where() const { return where_; }  // host:port, for messages

  // Throws the current error of the connection: `doing` is what was attempted.
  [[noreturn]] void fail(const std::string& doing);

 private:
  MysqlConnection() = default;
  MYSQL* mysql_ = nullptr;
  std::string where_;
};

}  // namespace mysql
}  // namespace ferry

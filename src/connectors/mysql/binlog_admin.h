// A plain SQL session on a MariaDB / MySQL server for the change stream's side
// questions (binlog files and positions, column names and keys from
// information_schema). Connects lazily, on the first query; reconnects after a
// broken connection on the next one. Not thread-safe.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/mysql/binlog_client.h"

namespace ferry::mysql {

class BinlogAdmin {
 public:
  explicit BinlogAdmin(MysqlEndpoint endpoint);
  ~BinlogAdmin();
  BinlogAdmin(const BinlogAdmin&) = delete;
  BinlogAdmin& operator=(const BinlogAdmin&) = delete;

  // Rows of a query, NULL as nullopt. Throws Transient when the server cannot be
  // reached or the connection broke, Permanent for a refused statement (naming it).
  std::vector<std::vector<std::optional<std::string>>> rows(const std::string& sql);
  // A string literal for `value` ('...' with the server's escaping).
  std::string quote(const std::string& value);
  const std::string& where() const { return where_; }

 private:
  void connect();
  MysqlEndpoint endpoint_;
  std::string where_;
  struct Handle;
  std::unique_ptr<Handle> handle_;
};

}  // namespace ferry::mysql

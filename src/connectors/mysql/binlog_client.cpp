#include "connectors/mysql/binlog_client.h"

#include <mysql.h>
#include <mariadb_rpl.h>
#include <mysqld_error.h>
#include <errmsg.h>

#include <cstring>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"

namespace ferry::mysql {

namespace {

constexpr uint32_t kDumpNonBlock = 1;  // BINLOG_DUMP_NON_BLOCK

ErrorKind kind_of(unsigned int code) {
  switch (code) {
    case CR_CONNECTION_ERROR: case CR_CONN_HOST_ERROR: case CR_SERVER_GONE_ERROR: case CR_SERVER_LOST:
    case CR_UNKNOWN_HOST: case ER_CON_COUNT_ERROR: case ER_SERVER_SHUTDOWN:
    case ER_CONNECTION_KILLED:  // KILL, or a restart ending every connection
      return ErrorKind::Transient;
    default:
      return ErrorKind::Permanent;
  }
}

// The stream cannot start at `at`: its binlog is gone (purged, or the binlog was reset).
Error binlog_gone(const BinlogPosition& at, const std::string& where, const std::string& detail) {
  return Error(ErrorKind::SourceLost,
               fmt::format("the binlog at {} is gone from the MariaDB server at {} ({}): changes since the checkpoint "
                           "cannot be read; run `ferry pipe resync` to rebuild the pipe",
                           at.to_string(), where, detail));
}

}  // namespace

struct BinlogClient::Impl {
  MYSQL* mysql = nullptr;
  MARIADB_RPL* rpl = nullptr;
  MARIADB_RPL_EVENT* event = nullptr;
  std::string where;

  ~Impl() {
    if (event) mariadb_free_rpl_event(event);
    if (rpl) mariadb_rpl_close(rpl);
    if (mysql) mysql_close(mysql);
  }
  [[noreturn]] void fail_mysql(const std::string& doing) {
    unsigned int code = mysql_errno(mysql);
    throw Error(kind_of(code), fmt::format("MariaDB at {}: {}: {} (error {})", where, doing, mysql_error(mysql), code));
  }
  void exec(const std::string& sql) {
    if (mysql_query(mysql, sql.c_str())) fail_mysql(sql);
  }
  // The first two columns of each row of a query (NULL as "").
  std::vector<std::pair<std::string, std::string>> pairs(const std::string& sql) {
    exec(sql);
    MYSQL_RES* res = mysql_store_result(mysql);
    if (!res) fail_mysql(sql);
    std::vector<std::pair<std::string, std::string>> out;
    const unsigned int fields = mysql_num_fields(res);
    while (MYSQL_ROW row = mysql_fetch_row(res))
      out.emplace_back(row[0] ? row[0] : "", fields > 1 && row[1] ? row[1] : "");
    mysql_free_result(res);
    return out;
  }
  std::string value(const std::string& sql) {
    auto rows = pairs(sql);
    return rows.empty() ? "" : rows[0].first;
  }
  // Throws SourceLost unless `start` lies in a binlog file the server still has. The
  // dump thread would say so too, but only on the first fetch and in words that differ
  // between servers and versions; a position past a file's end (the binlog was reset)
  // would read as "impossible position".
  void check_start(const BinlogPosition& start) {
    for (const auto& [name, size] : pairs("SHOW BINARY LOGS")) {
      if (name != start.file) continue;
      if (start.offset > std::stoull(size))
        throw binlog_gone(start, where, fmt::format("{} now has {} bytes only: the binlog was reset", name, size));
      return;
    }
    throw binlog_gone(start, where, fmt::format("no file {} in SHOW BINARY LOGS: purged", start.file));
  }
};

BinlogClient::BinlogClient(const MysqlEndpoint& endpoint, const BinlogPosition& start,
                           const BinlogClientOptions& options)
    : impl_(std::make_unique<Impl>()), position_(start) {
  Impl& d = *impl_;
  d.where = fmt::format("{}:{}", endpoint.host, endpoint.port);
  d.mysql = mysql_init(nullptr);
  if (!d.mysql) throw Error(ErrorKind::Transient, "MariaDB client: out of memory");
  unsigned int timeout = 10;
  mysql_optionsv(d.mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  // Heartbeats arrive every `heartbeat`: a read that waits much longer means a dead connection.
  unsigned int read_timeout = static_cast<unsigned int>(std::max<int64_t>(10, 3 * options.heartbeat.count() / 1000));
  mysql_optionsv(d.mysql, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
  if (!mysql_real_connect(d.mysql, endpoint.host.c_str(), endpoint.user.c_str(),
                          endpoint.password.empty() ? nullptr : endpoint.password.c_str(), nullptr,
                          static_cast<unsigned int>(endpoint.port), nullptr, 0))
    d.fail_mysql("connect");
  // Events carry the server's checksums (verified by decode_event); annotate and GTID
  // events are sent (capability 4: MARIA_SLAVE_CAPABILITY_GTID).
  d.check_start(start);
  d.exec("SET @master_binlog_checksum = @@global.binlog_checksum");
  bool checksum = d.value("SELECT @@global.binlog_checksum") == "CRC32";
  d.exec("SET @mariadb_slave_capability = 4");
  d.exec(fmt::format("SET @master_heartbeat_period = {}", int64_t(options.heartbeat.count()) * 1000000));
  d.rpl = mariadb_rpl_init(d.mysql);
  if (!d.rpl) d.fail_mysql("mariadb_rpl_init");
  mariadb_rpl_optionsv(d.rpl, MARIADB_RPL_SERVER_ID, options.server_id);
  mariadb_rpl_optionsv(d.rpl, MARIADB_RPL_FILENAME, start.file.c_str(), start.file.size());
  mariadb_rpl_optionsv(d.rpl, MARIADB_RPL_START, static_cast<unsigned long>(start.offset));
  mariadb_rpl_optionsv(d.rpl, MARIADB_RPL_FLAGS, options.stop_at_end ? kDumpNonBlock : uint32_t(0));
  if (mariadb_rpl_open(d.rpl)) {
    std::string msg = mariadb_rpl_error(d.rpl);
    throw Error(ErrorKind::Transient, fmt::format("MariaDB at {}: cannot start the binlog stream at {}: {}", d.where,
                                                  start.to_string(), msg));
  }
  // Until the FORMAT_DESCRIPTION arrives, the artificial ROTATE that starts the stream
  // carries the checksum the server agreed to send.
  format_.checksum = checksum;
}

BinlogClient::~BinlogClient() = default;

bool BinlogClient::next(BinlogEvent& event, std::span<const uint8_t>* bytes) {
  Impl& d = *impl_;
  d.event = mariadb_rpl_fetch(d.rpl, d.event);
  if (!d.event) {
    unsigned int code = mysql_errno(d.mysql);
    if (code == 0) return false;  // end of stream (stop_at_end)
    std::string msg = mysql_error(d.mysql);
    // Purged between the check at open and the dump thread's first read.
    if (code == ER_MASTER_FATAL_ERROR_READING_BINLOG && msg.find("ould not find first log file") != std::string::npos)
      throw binlog_gone(position_, d.where, "purged: " + msg);
    throw Error(code == ER_MASTER_FATAL_ERROR_READING_BINLOG ? ErrorKind::Permanent : kind_of(code),
                fmt::format("MariaDB at {}: binlog stream: {} (error {})", d.where, msg, code));
  }
  std::span<const uint8_t> raw(d.event->raw_data + d.event->raw_data_ofs, d.event->raw_data_size - d.event->raw_data_ofs);
  event = decode_event(raw, &format_);
  if (auto* f = std::get_if<FormatDescription>(&event.body)) {
    format_ = *f;
    have_format_ = true;
  }
  if (auto* r = std::get_if<Rotate>(&event.body)) {
    position_.file = std::string(r->next_file);
    position_.offset = r->position;
  } else if (event.header.log_pos != 0 && event.header.type != kHeartbeatEvent) {
    position_.offset = event.header.log_pos;
  }
  if (bytes) *bytes = raw;
  return true;
}

}  // namespace ferry::mysql

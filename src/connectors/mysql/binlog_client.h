// A binlog reader on the MariaDB replication protocol (I/O; decoding is binlog_event.h).
//
// Registers as a replica with its own server id and streams the binary log from a
// position (COM_BINLOG_DUMP through MariaDB Connector/C's mariadb_rpl), asking for
// CRC32 checksums and heartbeats, so that an idle server still answers within the
// heartbeat period. Not thread-safe; one client per stream.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "connectors/mysql/binlog_event.h"
#include "connectors/mysql/binlog_position.h"

namespace ferry::mysql {

struct MysqlEndpoint {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string user;
  std::string password;  // never logged
};

struct BinlogClientOptions {
  uint32_t server_id = 0;  // unique among the server's replicas (ferry derives it from the pipe)
  std::chrono::milliseconds heartbeat{1000};
  bool stop_at_end = false;  // BINLOG_DUMP_NON_BLOCK: end of stream at the current end of the log (tests)
};

class BinlogClient {
 public:
  // Connects and starts streaming at `start`. Throws Transient when the server cannot
  // be reached, Permanent for refused credentials or privileges (REPLICATION SLAVE), and
  // SourceLost, naming `start` and saying resync, when its binlog file no longer exists
  // (purged) or is shorter than its offset (the binlog was reset) (SHOW BINARY LOGS
  // before the dump starts: needs REPLICATION CLIENT / BINLOG MONITOR).
  BinlogClient(const MysqlEndpoint& endpoint, const BinlogPosition& start, const BinlogClientOptions& options);
  ~BinlogClient();
  BinlogClient(const BinlogClient&) = delete;
  BinlogClient& operator=(const BinlogClient&) = delete;

  // Waits for the next event and decodes it; `bytes` (optional) receives its raw bytes,
  // valid until the next call. Returns false at the end of the stream (stop_at_end).
  // Heartbeats are returned like other events. Throws Transient when the connection
  // breaks, Permanent for a malformed event.
  bool next(BinlogEvent& event, std::span<const uint8_t>* bytes = nullptr);

  // The position after the last event returned (file from ROTATE events, offset from
  // each event's log_pos).
  const BinlogPosition& position() const { return position_; }
  const FormatDescription& format() const { return format_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  FormatDescription format_;
  bool have_format_ = false;
  BinlogPosition position_;
};

}  // namespace ferry::mysql

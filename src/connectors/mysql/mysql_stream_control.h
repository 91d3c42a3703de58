// What a MariaDB / MySQL source needs around its change streams, besides the stream
// itself (mysql_change_stream.h): the server's current binlog position, whether a
// position can still be streamed from, how many binlog bytes lie beyond it, the text
// form of positions, and the replica server id of a pipe.
//
// MariaDB keeps no per-replica state (no slots): a pipe's stream start is only its
// checkpoint in ferry's catalog, and the server purges binlogs by its own rules
// (expire_logs_days, PURGE BINARY LOGS) whatever ferry has read.
//
// Positions travel as uint64 versions (BinlogPosition::version(): file index << 32 |
// offset); their text is "binlog.000042:1234", whose base name ("binlog") the control
// learns from parse_position() or, failing that, from the server. Not thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/mysql/binlog_admin.h"
#include "connectors/mysql/binlog_position.h"

namespace ferry::mysql {

struct BinlogFile {
  std::string name;  // "binlog.000042"
  uint64_t size = 0;
};

// --- pure pieces ---
// The statement that reports the current binlog position on a server of `version`
// (SELECT VERSION()): MySQL 8.2 and later renamed SHOW MASTER STATUS.
std::string binlog_status_statement(std::string_view version);
// Bytes of the binlog beyond `from`: the rest of its file and every later file.
int64_t binlog_bytes_after(const std::vector<BinlogFile>& files, const BinlogPosition& from);
// "binlog" of "binlog.000042"; throws Permanent when the name has no numeric suffix.
std::string binlog_base_name(std::string_view file);
// The position of a version in the binlog files named `base` ("binlog" -> binlog.000042).
BinlogPosition binlog_position_of(uint64_t version, std::string_view base);
// A replica server id for `pipe`: a stable hash of its name, never 0 and never `own_id`
// (the source server's @@server_id), so that two pipes rarely share one (MariaDB ends
// the older dump connection of a server id that connects twice).
uint32_t replica_server_id(std::string_view pipe, uint32_t own_id);

class MysqlStreamControl {
 public:
  explicit MysqlStreamControl(const MysqlEndpoint& endpoint);

  // The end of the binlog now: a commit boundary (Transient when unreachable; Permanent
  // when binary logging is off, naming log_bin).
  BinlogPosition current_position();
  // The server's binlog files, oldest first.
  std::vector<BinlogFile> binary_logs();
  // Whether a stream can start at `position`: its file is still on the server.
  bool can_stream_from(const BinlogPosition& position);
  // Binlog bytes after `version` (0 when the binlog files are unknown).
  int64_t lag_bytes(uint64_t version);
  // The replica server id of `pipe` on this server.
  uint32_t server_id(const std::string& pipe);

  std::string format_position(uint64_t version);
  uint64_t parse_position(const std::string& text);
  BinlogPosition position_of(uint64_t version);

 private:
  const std::string& base_name();
  BinlogAdmin admin_;
  std::string base_;  // learnt
};

}  // namespace ferry::mysql

// The CopyData payloads of PostgreSQL's streaming replication protocol (START_REPLICATION ...
// LOGICAL in copy-both mode), as documented in "Streaming Replication Protocol", and LSN text
// helpers. Pure: no I/O, no libpq.
//
// Server -> client: XLogData ('w', carries one pgoutput message) and Primary keepalive ('k').
// Client -> server: Standby status update ('r').
// All integers are big-endian; times are microseconds since 2000-01-01 00:00:00 UTC.
//
// Errors: malformed input throws ferry::Error(ErrorKind::Permanent,
// "replication protocol: <what> at offset N"); nothing is read outside the input span.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace ferry {
namespace pgrepl {

// 'w': Byte1('w') Int64 start Int64 end Int64 clock Byte[n] data
struct XLogData {
  uint64_t wal_start = 0;           // WAL position of the start of `data`
  uint64_t wal_end = 0;             // current end of WAL on the server
  int64_t server_time = 0;          // server's clock at transmission (microseconds since 2000-01-01)
  std::span<const uint8_t> data;    // one pgoutput message: a view INTO the input (same lifetime)
};

// 'k': Byte1('k') Int64 end Int64 clock Byte1 reply
struct PrimaryKeepalive {
  uint64_t wal_end = 0;
  int64_t server_time = 0;
  bool reply_requested = false;     // the client should answer at once (or be disconnected)
};

// 'r': Byte1('r') Int64 written Int64 flushed Int64 applied Int64 clock Byte1 reply
struct StandbyStatusUpdate {
  uint64_t written_lsn = 0;   // last WAL byte + 1 received and written
  uint64_t flushed_lsn = 0;   // last WAL byte + 1 durably stored: the slot's confirmed_flush_lsn
  uint64_t applied_lsn = 0;   // last WAL byte + 1 applied
  int64_t client_time = 0;    // client's clock, microseconds since 2000-01-01 UTC
  bool reply_requested = false;
};
inline constexpr size_t kStandbyStatusUpdateSize = 1 + 8 + 8 + 8 + 8 + 1;

}  // namespace pgrepl

using ReplicationMessage = std::variant<pgrepl::XLogData, pgrepl::PrimaryKeepalive>;

// Parses one CopyData payload received from the server ('w' or 'k'). Anything else (other
// types, truncated, trailing bytes after a keepalive, reply flag other than 0/1) throws.
ReplicationMessage parse_replication_message(std::span<const uint8_t> copy_data);

// The CopyData payload of a standby status update (send it with PQputCopyData + PQflush).
std::array<uint8_t, pgrepl::kStandbyStatusUpdateSize> build_standby_status_update(
    const pgrepl::StandbyStatusUpdate& update);
std::array<uint8_t, pgrepl::kStandbyStatusUpdateSize> build_standby_status_update(
    uint64_t written_lsn, uint64_t flushed_lsn, uint64_t applied_lsn, int64_t client_time,
    bool reply_requested = false);

// Microseconds since 2000-01-01 UTC for a wall-clock time (e.g. Clock::now()).
int64_t to_pg_time(std::chrono::system_clock::time_point t);

// "16/B374D848" -> 0x16B374D848. Same syntax as PostgreSQL's pg_lsn input: 1-8 hex digits,
// '/', 1-8 hex digits, nothing else. Throws ferry::Error(Permanent, "invalid LSN ...") otherwise.
uint64_t parse_lsn(std::string_view text);
// 0x16B374D848 -> "16/B374D848" (PostgreSQL's %X/%X: upper case, no zero padding).
std::string format_lsn(uint64_t lsn);

}  // namespace ferry

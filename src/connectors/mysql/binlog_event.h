// Decoder of MariaDB / MySQL binary log events (binlog format v4), as read from a
// binlog file or received on the replication protocol (COM_BINLOG_DUMP[_GTID]).
//
// Pure: bytes of one event in, one decoded event out; no I/O. The only state is the
// FORMAT_DESCRIPTION event, which the caller passes back in (it says whether events end
// with a CRC32 checksum and how long each type's post-header is).
//
// LIFETIME: std::string_view members point INTO the input bytes (the event's body);
// a decoded event is valid only while its buffer is. Copy what must outlive it
// (TableMap events are copied by BinlogTableMap::from()).
//
// Errors: malformed input (truncated event, size that disagrees with the header, bad
// checksum, lengths running past the end) throws ferry::Error(Permanent,
// "binlog: <what> at offset N"); compressed and encrypted events are refused with an
// error that names the server setting to change. The decoder never reads outside its input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ferry::mysql {

enum EventType : uint8_t {
  kQueryEvent = 2,
  kStopEvent = 3,
  kRotateEvent = 4,
  kFormatDescriptionEvent = 15,
  kXidEvent = 16,
  kTableMapEvent = 19,
  kWriteRowsV1 = 23,
  kUpdateRowsV1 = 24,
  kDeleteRowsV1 = 25,
  kHeartbeatEvent = 27,
  kWriteRowsV2 = 30,
  kUpdateRowsV2 = 31,
  kDeleteRowsV2 = 32,
  kMysqlGtidEvent = 33,
  kMysqlAnonymousGtidEvent = 34,
  kPreviousGtidsEvent = 35,
  kAnnotateRowsEvent = 160,
  kBinlogCheckpointEvent = 161,
  kMariaGtidEvent = 162,
  kMariaGtidListEvent = 163,
  kStartEncryptionEvent = 164,
  kQueryCompressedEvent = 165,
  kWriteRowsCompressedV1 = 169,  // 166..171: compressed rows events (MariaDB)
};

inline constexpr size_t kEventHeaderSize = 19;
inline constexpr uint8_t kBinlogMagic[4] = {0xfe, 'b', 'i', 'n'};

struct EventHeader {
  uint32_t timestamp = 0;  // seconds since the epoch
  uint8_t type = 0;
  uint32_t server_id = 0;
  uint32_t event_size = 0;  // header + body (+ checksum)
  uint32_t log_pos = 0;     // position of the NEXT event in the binlog file (0 for artificial events)
  uint16_t flags = 0;
};

struct FormatDescription {
  uint16_t binlog_version = 0;
  std::string server_version;
  uint8_t header_length = kEventHeaderSize;
  std::vector<uint8_t> post_header_lengths;  // index = type - 1
  bool checksum = false;                     // events end with a 4-byte CRC32
  uint8_t post_header_length(uint8_t type) const;
};

struct Rotate {
  uint64_t position = 0;
  std::string_view next_file;
};

struct Query {
  uint32_t thread_id = 0;
  uint16_t error_code = 0;
  std::string_view database;
  std::string_view sql;
};

struct Xid {
  uint64_t xid = 0;
};

struct Gtid {
  uint32_t domain = 0;
  uint32_t server_id = 0;
  uint64_t sequence = 0;
  bool operator==(const Gtid&) const = default;
};

// MariaDB GTID event: the start of an event group (a transaction, or one DDL statement).
struct MariaGtid {
  Gtid gtid;               // server_id from the event header
  uint8_t flags = 0;
  bool standalone() const { return flags & 1; }  // FL_STANDALONE: no XID ends the group (DDL)
};

struct MariaGtidList {
  std::vector<Gtid> gtids;
};

struct AnnotateRows {
  std::string_view sql;
};

struct BinlogCheckpoint {
  std::string_view file;
};

// TABLE_MAP as on the wire; see binlog_rows.h for its decoded form.
struct TableMapEvent {
  uint64_t table_id = 0;
  std::string_view database;
  std::string_view table;
  std::string_view column_types;  // one byte per column
  std::string_view metadata;      // per-type metadata, concatenated
  std::string_view null_bitmap;
  std::string_view optional_metadata;  // TLV fields (binlog_row_metadata=MINIMAL/FULL), may be empty
  uint64_t column_count = 0;
};

struct RowsEvent {
  enum Kind : uint8_t { Write, Update, Delete } kind = Write;
  uint64_t table_id = 0;
  uint16_t flags = 0;  // bit 0: end of statement
  uint64_t column_count = 0;
  std::string_view present;        // bitmap of the columns in the before image (or the only image)
  std::string_view present_after;  // Update only: bitmap of the after image's columns
  std::string_view rows;           // the row images, decoded by decode_rows (binlog_rows.h)
};

struct Heartbeat {
  std::string_view log_file;
};

struct OtherEvent {};  // an event ferry does not need (STOP, PREVIOUS_GTIDS, MySQL GTID, ...)

using EventBody = std::variant<OtherEvent, FormatDescription, Rotate, Query, Xid, MariaGtid, MariaGtidList,
                               AnnotateRows, BinlogCheckpoint, TableMapEvent, RowsEvent, Heartbeat>;

struct BinlogEvent {
  EventHeader header;
  EventBody body;
};

// Decodes one whole event (header included). `format`: the last FORMAT_DESCRIPTION
// seen (nullptr before the first: only a FORMAT_DESCRIPTION, a ROTATE or a HEARTBEAT
// decode then). Verifies the CRC32 when `format` says events carry one.
BinlogEvent decode_event(std::span<const uint8_t> event, const FormatDescription* format);

// Splits a binlog file's bytes (magic included) into events and decodes them, keeping
// the FORMAT_DESCRIPTION it meets. For fixtures and tests.
std::vector<BinlogEvent> decode_binlog_file(std::span<const uint8_t> file, FormatDescription& format);

// CRC32 (ISO-HDLC, as zlib and the binlog use).
uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc = 0);

// MySQL length-encoded integer at `pos` (advanced past it); throws when truncated.
uint64_t read_lenenc(std::span<const uint8_t> bytes, size_t& pos);

}  // namespace ferry::mysql

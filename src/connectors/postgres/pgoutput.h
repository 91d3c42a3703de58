// Decoder of the messages of PostgreSQL's logical replication output plugin `pgoutput`
// (protocol version 1, the format documented in "Logical Replication Message Formats").
//
// Pure: bytes in, one decoded message out; no I/O, no libpq, no state kept between calls.
// The bytes are the payload of one XLogData ('w') CopyData message after its 25-byte header
// (see replication_protocol.h), or one `data` value of pg_logical_slot_*_binary_changes().
//
// LIFETIME: every std::string_view in a decoded message (names, prefixes, tuple values,
// message contents) points INTO the input bytes; nothing is copied. A decoded message is only
// valid while the buffer passed to decode_pgoutput() is alive and unchanged (e.g. until the
// libpq CopyData buffer is PQfreemem'd). Copy what must outlive it (e.g. Relation messages,
// which later Insert/Update/Delete messages refer to by OID).
//
// Errors: any malformed input (truncated message, unknown message type, negative or
// out-of-range length or count, string without its NUL terminator, unknown tuple value kind,
// old/new tuple column count mismatch, trailing bytes...) throws
// ferry::Error(ErrorKind::Permanent, "pgoutput: <what> at offset N"), N being the offset in
// the input where the problem was found. The decoder never reads outside the input span.
// Protocol version 2+ messages (streaming: 'S' 'E' 'c' 'A'; two-phase: 'b' 'P' 'K' 'r' 'p')
// are rejected with such an error too.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

namespace ferry {
namespace pgoutput {

// Timestamps on the wire: microseconds since 2000-01-01 00:00:00 UTC (PostgreSQL's epoch).
// LSNs: 64-bit WAL positions (see format_lsn/parse_lsn in replication_protocol.h).

// 'B'
struct Begin {
  uint64_t final_lsn = 0;    // LSN of the transaction's commit record (== Commit::commit_lsn)
  int64_t commit_time = 0;   // commit timestamp, microseconds since 2000-01-01 UTC
  uint32_t xid = 0;
  bool operator==(const Begin&) const = default;
};

// 'C'
struct Commit {
  uint8_t flags = 0;         // unused by PostgreSQL; anything but 0 is rejected (as PostgreSQL does)
  uint64_t commit_lsn = 0;   // LSN of the commit record
  uint64_t end_lsn = 0;      // end LSN of the commit record: the position to acknowledge
  int64_t commit_time = 0;   // microseconds since 2000-01-01 UTC
  bool operator==(const Commit&) const = default;
};

// 'O': the transaction was replayed from another node through a replication origin.
struct Origin {
  uint64_t commit_lsn = 0;   // LSN of the commit on the origin server
  std::string_view name;
  bool operator==(const Origin&) const = default;
};

// One column of a Relation message.
struct RelationColumn {
  static constexpr uint8_t kKeyFlag = 1;
  uint8_t flags = 0;          // bit 0: part of the replica identity (the key)
  std::string_view name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1; // atttypmod; -1 when the type has none
  bool is_key() const { return (flags & kKeyFlag) != 0; }
  bool operator==(const RelationColumn&) const = default;
};

enum class ReplicaIdentity : char {
  Default = 'd',  // primary key columns (or nothing if there is none)
  Nothing = 'n',
  Full = 'f',     // all columns
  Index = 'i',    // columns of a chosen unique index
};

// 'R': describes a relation. Sent before the first change of a relation in a decoding session
// and again whenever its definition changed. Columns are in the order of tuple values.
struct Relation {
  uint32_t oid = 0;
  std::string_view namespace_name;  // empty means pg_catalog
  std::string_view name;
  ReplicaIdentity replica_identity = ReplicaIdentity::Default;
  std::vector<RelationColumn> columns;
  bool operator==(const Relation&) const = default;
};

// 'Y': describes a non-built-in data type used by a following Relation.
struct Type {
  uint32_t oid = 0;
  std::string_view namespace_name;  // empty means pg_catalog
  std::string_view name;
  bool operator==(const Type&) const = default;
};

enum class ValueKind : char {
  Null = 'n',
  UnchangedToast = 'u',  // TOASTed value that did not change; the value is not sent
  Text = 't',            // value in the type's text output format
  Binary = 'b',          // value in the type's binary send format (option binary = true)
};

struct TupleValue {
  ValueKind kind = ValueKind::Null;
  std::string_view data;  // the value for Text and Binary (may contain any byte for Binary); else empty
  bool is_null() const { return kind == ValueKind::Null; }
  bool is_unchanged_toast() const { return kind == ValueKind::UnchangedToast; }
  bool operator==(const TupleValue&) const = default;
};

struct TupleData {
  std::vector<TupleValue> values;  // one per column of the relation, in Relation::columns order
  size_t offset = 0;               // offset of the tuple (its column count) in the message
  // Compares the values only (not where they were found).
  bool operator==(const TupleData& other) const { return values == other.values; }
};

// 'I'
struct Insert {
  uint32_t relation_oid = 0;
  TupleData new_tuple;
  bool operator==(const Insert&) const = default;
};

enum class OldTupleKind : char {
  None = 0,    // no old tuple sent (the key did not change, identity DEFAULT/INDEX)
  Key = 'K',   // old values of the replica identity columns; other columns are 'n'
  Full = 'O',  // the whole old row (REPLICA IDENTITY FULL)
};

// 'U'
struct Update {
  uint32_t relation_oid = 0;
  OldTupleKind old_kind = OldTupleKind::None;
  std::optional<TupleData> old_tuple;  // set iff old_kind != None
  TupleData new_tuple;                 // unchanged TOASTed columns are ValueKind::UnchangedToast
  bool operator==(const Update&) const = default;
};

// 'D'
struct Delete {
  uint32_t relation_oid = 0;
  OldTupleKind old_kind = OldTupleKind::Key;  // Key or Full, never None
  TupleData old_tuple;
  bool operator==(const Delete&) const = default;
};

// 'T'
struct Truncate {
  static constexpr uint8_t kCascade = 1;
  static constexpr uint8_t kRestartIdentity = 2;
  uint8_t options = 0;
  std::vector<uint32_t> relation_oids;
  bool cascade() const { return (options & kCascade) != 0; }
  bool restart_identity() const { return (options & kRestartIdentity) != 0; }
  bool operator==(const Truncate&) const = default;
};

// 'M': pg_logical_emit_message() (sent when the option messages = true).
struct Message {
  static constexpr uint8_t kTransactional = 1;
  uint8_t flags = 0;
  uint64_t lsn = 0;
  std::string_view prefix;
  std::string_view content;  // arbitrary bytes, may contain NULs
  bool transactional() const { return (flags & kTransactional) != 0; }
  bool operator==(const Message&) const = default;
};

}  // namespace pgoutput

using PgOutputMessage = std::variant<pgoutput::Begin, pgoutput::Commit, pgoutput::Origin, pgoutput::Relation,
                                     pgoutput::Type, pgoutput::Insert, pgoutput::Update, pgoutput::Delete,
                                     pgoutput::Truncate, pgoutput::Message>;

// Decodes one complete pgoutput message (the whole span must be exactly one message).
// Throws ferry::Error(ErrorKind::Permanent, "pgoutput: ... at offset N") on malformed input.
PgOutputMessage decode_pgoutput(std::span<const uint8_t> bytes);

// The same decoding for a stream of messages, reusing its buffers: the tuple value vectors
// of one message are recycled for the next, so once they have grown to the widest tuple,
// decoding a row change allocates nothing. Still pure (no I/O); the only state kept between
// calls is spare capacity, so every message decodes exactly as decode_pgoutput() decodes it.
// Not thread-safe: one decoder per stream.
// LIFETIME: the returned message is owned by the decoder and valid until the next decode()
// call (and, as above, only while the input bytes are alive). Throws like decode_pgoutput();
// after a throw the decoder is still usable.
class PgOutputDecoder {
 public:
  const PgOutputMessage& decode(std::span<const uint8_t> bytes);

 private:
  PgOutputMessage message_;
  std::vector<std::vector<pgoutput::TupleValue>> spare_;  // emptied value vectors, capacity kept
};

// The inverse of decode_pgoutput: the wire bytes of a message (encode(decode(b)) == b for
// every b that decodes, and decode(encode(m)) == m for every m that decode can return). For tests and tools (e.g. feeding a CDC
// consumer synthetic messages); throws ferry::Error(Permanent) for what cannot be encoded
// (more than 32767 columns, a value longer than 2^31-1 bytes, NUL inside a name, Delete
// without old tuple kind, old tuple kind without tuple).
std::vector<uint8_t> encode_pgoutput(const PgOutputMessage& message);

// The message type byte of a decoded message ('B', 'C', 'O', 'R', 'Y', 'I', 'U', 'D', 'T', 'M').
char pgoutput_message_type(const PgOutputMessage& message);
// "Begin", "Commit", ..., also for the rejected protocol 2+ types; "unknown" otherwise.
const char* pgoutput_message_type_name(char type);

// Checks that a tuple has one value per column of its relation (whose Relation message the
// caller kept); throws ferry::Error(Permanent, "pgoutput: column count mismatch ...") if not.
void check_tuple_columns(const pgoutput::TupleData& tuple, size_t relation_columns);

// PostgreSQL timestamps (microseconds since 2000-01-01 UTC) <-> microseconds since the Unix
// epoch. Saturate instead of overflowing (PostgreSQL's +/-infinity are INT64_MAX/INT64_MIN).
inline constexpr int64_t kPgEpochUnixMicros = 946'684'800LL * 1'000'000;
int64_t pg_time_to_unix_micros(int64_t pg_time);
int64_t unix_micros_to_pg_time(int64_t unix_micros);

}  // namespace ferry

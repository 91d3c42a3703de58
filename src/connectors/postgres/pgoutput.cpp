#include "connectors/postgres/pgoutput.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "core/error.h"

namespace ferry {
namespace {

using namespace pgoutput;

std::string describe_byte(uint8_t b) {
  if (b >= 0x20 && b < 0x7f) return fmt::format("'{}' (0x{:02x})", static_cast<char>(b), b);
  return fmt::format("0x{:02x}", b);
}

// Bounds-checked big-endian reader over one message. Every read checks the remaining length
// first; failures throw with the offset where the item being read starts.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

  [[noreturn]] void fail(const std::string& what, size_t at) const {
    throw Error(ErrorKind::Permanent, fmt::format("pgoutput: {} at offset {}", what, at));
  }
  [[noreturn]] void fail(const std::string& what) const { fail(what, pos_); }

  void need(size_t n, const char* what) const {
    if (remaining() < n)
      fail(fmt::format("truncated message: {} needs {} byte{}, {} left", what, n, n == 1 ? "" : "s", remaining()));
  }

  uint8_t u8(const char* what) {
    need(1, what);
    return bytes_[pos_++];
  }
  uint16_t u16(const char* what) { return static_cast<uint16_t>(be(2, what)); }
  uint32_t u32(const char* what) { return static_cast<uint32_t>(be(4, what)); }
  uint64_t u64(const char* what) { return be(8, what); }
  int16_t i16(const char* what) { return static_cast<int16_t>(u16(what)); }
  int32_t i32(const char* what) { return static_cast<int32_t>(u32(what)); }
  int64_t i64(const char* what) { return static_cast<int64_t>(u64(what)); }

  // A NUL-terminated string; the view excludes the terminator.
  std::string_view cstring(const char* what) {
    const uint8_t* start = bytes_.data() + pos_;
    const void* nul = remaining() == 0 ? nullptr : std::memchr(start, 0, remaining());
    if (nul == nullptr) fail(fmt::format("missing NUL terminator of {}", what));
    size_t len = static_cast<const uint8_t*>(nul) - start;
    pos_ += len + 1;
    return {reinterpret_cast<const char*>(start), len};
  }

  std::string_view nonempty_cstring(const char* what) {
    size_t at = pos_;
    std::string_view s = cstring(what);
    if (s.empty()) fail(fmt::format("empty {}", what), at);
    return s;
  }

  // Int32 length (must be >= 0) followed by that many bytes.
  std::string_view counted_bytes(const char* what) {
    size_t at = pos_;
    int32_t len = i32(what);
    if (len < 0) fail(fmt::format("negative length {} of {}", len, what), at);
    if (static_cast<size_t>(len) > remaining())
      fail(fmt::format("length {} of {} exceeds the {} remaining bytes", len, what, remaining()), at);
    std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }

  void expect_end(const char* message) const {
    if (remaining() != 0)
      fail(fmt::format("{} trailing byte{} after {} message", remaining(), remaining() == 1 ? "" : "s", message));
  }

 private:
  uint64_t be(size_t n, const char* what) {
    need(n, what);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | bytes_[pos_ + i];
    pos_ += n;
    return v;
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

// Value vectors handed from one decoded message to the next (empty for decode_pgoutput()).
using Spares = std::vector<std::vector<TupleValue>>;

std::vector<TupleValue> take(Spares& spares) {
  if (spares.empty()) return {};
  std::vector<TupleValue> v = std::move(spares.back());
  spares.pop_back();
  return v;
}

void give_back(Spares& spares, TupleData& tuple) {
  if (tuple.values.capacity() == 0) return;
  tuple.values.clear();
  spares.push_back(std::move(tuple.values));
}

// Moves the value vectors of `message` to the spares.
void reclaim(PgOutputMessage& message, Spares& spares) {
  if (auto* m = std::get_if<Insert>(&message)) {
    give_back(spares, m->new_tuple);
  } else if (auto* m = std::get_if<Update>(&message)) {
    if (m->old_tuple) give_back(spares, *m->old_tuple);
    give_back(spares, m->new_tuple);
  } else if (auto* m = std::get_if<Delete>(&message)) {
    give_back(spares, m->old_tuple);
  }
}

void read_tuple(Reader& r, const char* which, TupleData& tuple, Spares& spares) {
  tuple.offset = r.offset();
  tuple.values = take(spares);
  int16_t ncols = r.i16("tuple column count");
  if (ncols < 0) r.fail(fmt::format("negative column count {} in {} tuple", ncols, which), tuple.offset);
  // Every column takes at least one byte: a count larger than what is left cannot be right,
  // and must not drive the allocation.
  if (static_cast<size_t>(ncols) > r.remaining())
    r.fail(fmt::format("truncated message: {} tuple has {} columns but only {} bytes left", which, ncols,
                       r.remaining()));
  tuple.values.resize(static_cast<size_t>(ncols));
  for (int i = 0; i < ncols; ++i) {
    size_t at = r.offset();
    uint8_t kind = r.u8("tuple value kind");
    TupleValue& v = tuple.values[static_cast<size_t>(i)];
    switch (kind) {
      case 'n': v.kind = ValueKind::Null; break;
      case 'u': v.kind = ValueKind::UnchangedToast; break;
      case 't':
        v.kind = ValueKind::Text;
        v.data = r.counted_bytes("text value");
        break;
      case 'b':
        v.kind = ValueKind::Binary;
        v.data = r.counted_bytes("binary value");
        break;
      default:
        r.fail(fmt::format("unknown value kind {} of column {} in {} tuple", describe_byte(kind), i, which), at);
    }
  }
}

Begin read_begin(Reader& r) {
  Begin m;
  m.final_lsn = r.u64("Begin final LSN");
  m.commit_time = r.i64("Begin commit timestamp");
  m.xid = r.u32("Begin xid");
  r.expect_end("Begin");
  return m;
}

Commit read_commit(Reader& r) {
  Commit m;
  size_t at = r.offset();
  m.flags = r.u8("Commit flags");
  if (m.flags != 0) r.fail(fmt::format("unknown Commit flags 0x{:02x}", m.flags), at);
  m.commit_lsn = r.u64("Commit LSN");
  m.end_lsn = r.u64("Commit end LSN");
  m.commit_time = r.i64("Commit timestamp");
  r.expect_end("Commit");
  return m;
}

Origin read_origin(Reader& r) {
  Origin m;
  m.commit_lsn = r.u64("Origin commit LSN");
  m.name = r.nonempty_cstring("origin name");
  r.expect_end("Origin");
  return m;
}

Relation read_relation(Reader& r) {
  Relation m;
  m.oid = r.u32("Relation OID");
  m.namespace_name = r.cstring("relation namespace");
  m.name = r.nonempty_cstring("relation name");
  size_t at = r.offset();
  uint8_t ident = r.u8("replica identity");
  switch (ident) {
    case 'd': case 'n': case 'f': case 'i': m.replica_identity = static_cast<ReplicaIdentity>(ident); break;
    default: r.fail(fmt::format("unknown replica identity {}", describe_byte(ident)), at);
  }
  at = r.offset();
  int16_t ncols = r.i16("relation column count");
  if (ncols < 0) r.fail(fmt::format("negative relation column count {}", ncols), at);
  // Each column takes at least flags(1) + name's NUL(1) + type OID(4) + typmod(4) bytes: a count
  // larger than what is left cannot be right, and must not drive the allocation.
  constexpr size_t kMinColumn = 10;
  if (static_cast<size_t>(ncols) > r.remaining() / kMinColumn)
    r.fail(fmt::format("truncated message: relation has {} columns but only {} bytes left", ncols, r.remaining()));
  m.columns.reserve(static_cast<size_t>(ncols));
  for (int i = 0; i < ncols; ++i) {
    RelationColumn c;
    c.flags = r.u8("column flags");
    c.name = r.nonempty_cstring("column name");
    c.type_oid = r.u32("column type OID");
    c.type_modifier = r.i32("column type modifier");
    m.columns.push_back(c);
  }
  r.expect_end("Relation");
  return m;
}

Type read_type(Reader& r) {
  Type m;
  m.oid = r.u32("Type OID");
  m.namespace_name = r.cstring("type namespace");
  m.name = r.nonempty_cstring("type name");
  r.expect_end("Type");
  return m;
}

void read_insert(Reader& r, Insert& m, Spares& spares) {
  m.relation_oid = r.u32("Insert relation OID");
  size_t at = r.offset();
  uint8_t tag = r.u8("Insert tuple tag");
  if (tag != 'N') r.fail(fmt::format("expected 'N' (new tuple) in Insert, found {}", describe_byte(tag)), at);
  read_tuple(r, "new", m.new_tuple, spares);
  r.expect_end("Insert");
}

void read_update(Reader& r, Update& m, Spares& spares) {
  m.relation_oid = r.u32("Update relation OID");
  size_t at = r.offset();
  uint8_t tag = r.u8("Update tuple tag");
  if (tag == 'K' || tag == 'O') {
    m.old_kind = static_cast<OldTupleKind>(tag);
    read_tuple(r, tag == 'K' ? "old key" : "old", m.old_tuple.emplace(), spares);
    at = r.offset();
    tag = r.u8("Update new tuple tag");
    if (tag != 'N')
      r.fail(fmt::format("expected 'N' (new tuple) after the old tuple in Update, found {}", describe_byte(tag)), at);
  } else if (tag != 'N') {
    r.fail(fmt::format("expected 'K', 'O' or 'N' in Update, found {}", describe_byte(tag)), at);
  }
  read_tuple(r, "new", m.new_tuple, spares);
  if (m.old_tuple && m.old_tuple->values.size() != m.new_tuple.values.size())
    r.fail(fmt::format("column count mismatch in Update: old tuple has {} columns, new tuple {}",
                       m.old_tuple->values.size(), m.new_tuple.values.size()),
           m.new_tuple.offset);
  r.expect_end("Update");
}

void read_delete(Reader& r, Delete& m, Spares& spares) {
  m.relation_oid = r.u32("Delete relation OID");
  size_t at = r.offset();
  uint8_t tag = r.u8("Delete tuple tag");
  if (tag != 'K' && tag != 'O')
    r.fail(fmt::format("expected 'K' or 'O' (old tuple) in Delete, found {}", describe_byte(tag)), at);
  m.old_kind = static_cast<OldTupleKind>(tag);
  read_tuple(r, tag == 'K' ? "old key" : "old", m.old_tuple, spares);
  r.expect_end("Delete");
}

Truncate read_truncate(Reader& r) {
  Truncate m;
  size_t at = r.offset();
  int32_t n = r.i32("Truncate relation count");
  if (n < 0) r.fail(fmt::format("negative Truncate relation count {}", n), at);
  m.options = r.u8("Truncate options");
  if (static_cast<size_t>(n) > r.remaining() / 4)
    r.fail(fmt::format("truncated message: Truncate of {} relations needs {} bytes, {} left", n,
                       static_cast<size_t>(n) * 4, r.remaining()));
  m.relation_oids.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) m.relation_oids.push_back(r.u32("Truncate relation OID"));
  r.expect_end("Truncate");
  return m;
}

Message read_message(Reader& r) {
  Message m;
  m.flags = r.u8("Message flags");
  m.lsn = r.u64("Message LSN");
  m.prefix = r.cstring("Message prefix");
  m.content = r.counted_bytes("Message content");
  r.expect_end("Message");
  return m;
}

// Decodes into `out`, whose value vectors the caller has already moved to `spares`.
void decode_into(std::span<const uint8_t> bytes, PgOutputMessage& out, Spares& spares) {
  Reader r(bytes);
  if (bytes.empty()) r.fail("empty message");
  uint8_t type = r.u8("message type");
  switch (type) {
    case 'B': out = read_begin(r); return;
    case 'C': out = read_commit(r); return;
    case 'O': out = read_origin(r); return;
    case 'R': out = read_relation(r); return;
    case 'Y': out = read_type(r); return;
    case 'I': read_insert(r, out.emplace<Insert>(), spares); return;
    case 'U': read_update(r, out.emplace<Update>(), spares); return;
    case 'D': read_delete(r, out.emplace<Delete>(), spares); return;
    case 'T': out = read_truncate(r); return;
    case 'M': out = read_message(r); return;
    case 'S': case 'E': case 'c': case 'A':
      r.fail(fmt::format("{} message {} belongs to protocol version 2 streaming, which is not supported",
                         pgoutput_message_type_name(static_cast<char>(type)), describe_byte(type)),
             0);
    case 'b': case 'P': case 'K': case 'r': case 'p':
      r.fail(fmt::format("{} message {} belongs to protocol version 3 two-phase commit, which is not supported",
                         pgoutput_message_type_name(static_cast<char>(type)), describe_byte(type)),
             0);
    default:
      r.fail(fmt::format("unknown message type {}", describe_byte(type)), 0);
  }
}

}  // namespace

PgOutputMessage decode_pgoutput(std::span<const uint8_t> bytes) {
  PgOutputMessage out;
  Spares none;
  decode_into(bytes, out, none);
  return out;
}

const PgOutputMessage& PgOutputDecoder::decode(std::span<const uint8_t> bytes) {
  reclaim(message_, spare_);
  decode_into(bytes, message_, spare_);
  return message_;
}

namespace {

class Writer {
 public:
  std::vector<uint8_t> out;
  void u8(uint8_t v) { out.push_back(v); }
  void be(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u16(uint16_t v) { be(v, 2); }
  void u32(uint32_t v) { be(v, 4); }
  void u64(uint64_t v) { be(v, 8); }
  void cstring(std::string_view s, const char* what) {
    if (s.find('\0') != std::string_view::npos) cannot(fmt::format("{} contains a NUL byte", what));
    out.insert(out.end(), s.begin(), s.end());
    out.push_back(0);
  }
  void counted(std::string_view s, const char* what) {
    if (s.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
      cannot(fmt::format("{} is longer than 2^31-1 bytes", what));
    u32(static_cast<uint32_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
  }
  void count16(size_t n, const char* what) {
    if (n > static_cast<size_t>(std::numeric_limits<int16_t>::max())) cannot(fmt::format("too many {}", what));
    u16(static_cast<uint16_t>(n));
  }
  void tuple(const TupleData& t) {
    count16(t.values.size(), "tuple columns");
    for (const TupleValue& v : t.values) {
      u8(static_cast<uint8_t>(v.kind));
      switch (v.kind) {
        case ValueKind::Null: case ValueKind::UnchangedToast: break;
        case ValueKind::Text: case ValueKind::Binary: counted(v.data, "tuple value"); break;
        default: cannot(fmt::format("unknown tuple value kind 0x{:02x}", static_cast<uint8_t>(v.kind)));
      }
    }
  }
  [[noreturn]] static void cannot(const std::string& what) {
    throw Error(ErrorKind::Permanent, "pgoutput: cannot encode: " + what);
  }

  void operator()(const Begin& m) {
    u8('B'); u64(m.final_lsn); u64(static_cast<uint64_t>(m.commit_time)); u32(m.xid);
  }
  void operator()(const Commit& m) {
    u8('C'); u8(m.flags); u64(m.commit_lsn); u64(m.end_lsn); u64(static_cast<uint64_t>(m.commit_time));
  }
  void operator()(const Origin& m) { u8('O'); u64(m.commit_lsn); cstring(m.name, "origin name"); }
  void operator()(const Relation& m) {
    u8('R'); u32(m.oid); cstring(m.namespace_name, "namespace"); cstring(m.name, "relation name");
    u8(static_cast<uint8_t>(m.replica_identity));
    count16(m.columns.size(), "relation columns");
    for (const RelationColumn& c : m.columns) {
      u8(c.flags); cstring(c.name, "column name"); u32(c.type_oid); u32(static_cast<uint32_t>(c.type_modifier));
    }
  }
  void operator()(const Type& m) {
    u8('Y'); u32(m.oid); cstring(m.namespace_name, "namespace"); cstring(m.name, "type name");
  }
  void operator()(const Insert& m) { u8('I'); u32(m.relation_oid); u8('N'); tuple(m.new_tuple); }
  void operator()(const Update& m) {
    u8('U'); u32(m.relation_oid);
    if (m.old_kind != OldTupleKind::None) {
      if (!m.old_tuple) cannot("Update has an old tuple kind but no old tuple");
      u8(static_cast<uint8_t>(m.old_kind));
      tuple(*m.old_tuple);
    } else if (m.old_tuple) {
      cannot("Update has an old tuple but old tuple kind None");
    }
    u8('N'); tuple(m.new_tuple);
  }
  void operator()(const Delete& m) {
    if (m.old_kind == OldTupleKind::None) cannot("Delete needs old tuple kind Key or Full");
    u8('D'); u32(m.relation_oid); u8(static_cast<uint8_t>(m.old_kind)); tuple(m.old_tuple);
  }
  void operator()(const Truncate& m) {
    if (m.relation_oids.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
      cannot("too many relations in Truncate");
    u8('T'); u32(static_cast<uint32_t>(m.relation_oids.size())); u8(m.options);
    for (uint32_t oid : m.relation_oids) u32(oid);
  }
  void operator()(const Message& m) {
    u8('M'); u8(m.flags); u64(m.lsn); cstring(m.prefix, "message prefix"); counted(m.content, "message content");
  }
};

}  // namespace

std::vector<uint8_t> encode_pgoutput(const PgOutputMessage& message) {
  Writer w;
  std::visit(w, message);
  return std::move(w.out);
}

char pgoutput_message_type(const PgOutputMessage& message) {
  static constexpr char kTypes[] = {'B', 'C', 'O', 'R', 'Y', 'I', 'U', 'D', 'T', 'M'};
  static_assert(sizeof(kTypes) == std::variant_size_v<PgOutputMessage>);
  return kTypes[message.index()];
}

const char* pgoutput_message_type_name(char type) {
  switch (type) {
    case 'B': return "Begin";
    case 'C': return "Commit";
    case 'O': return "Origin";
    case 'R': return "Relation";
    case 'Y': return "Type";
    case 'I': return "Insert";
    case 'U': return "Update";
    case 'D': return "Delete";
    case 'T': return "Truncate";
    case 'M': return "Message";
    case 'S': return "Stream Start";
    case 'E': return "Stream Stop";
    case 'c': return "Stream Commit";
    case 'A': return "Stream Abort";
    case 'b': return "Begin Prepare";
    case 'P': return "Prepare";
    case 'K': return "Commit Prepared";
    case 'r': return "Rollback Prepared";
    case 'p': return "Stream Prepare";
    default: return "unknown";
  }
}

void check_tuple_columns(const TupleData& tuple, size_t relation_columns) {
  if (tuple.values.size() != relation_columns)
    throw Error(ErrorKind::Permanent,
                fmt::format("pgoutput: column count mismatch: tuple has {} columns, its relation {} at offset {}",
                            tuple.values.size(), relation_columns, tuple.offset));
}

int64_t pg_time_to_unix_micros(int64_t pg_time) {
  int64_t out;
  if (__builtin_add_overflow(pg_time, kPgEpochUnixMicros, &out)) return std::numeric_limits<int64_t>::max();
  return out;
}

int64_t unix_micros_to_pg_time(int64_t unix_micros) {
  int64_t out;
  if (__builtin_sub_overflow(unix_micros, kPgEpochUnixMicros, &out)) return std::numeric_limits<int64_t>::min();
  return out;
}

}  // namespace ferry

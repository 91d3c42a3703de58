#include "connectors/mysql/binlog_event.h"

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"

namespace ferry::mysql {

namespace {

[[noreturn]] void fail(const std::string& what, size_t offset) {
  throw Error(ErrorKind::Permanent, fmt::format("binlog: {} at offset {}", what, offset));
}

// Bounds-checked little-endian reader over one event.
class Reader {
 public:
  // A start past the end (a header length longer than the event) is malformed input.
  Reader(std::span<const uint8_t> bytes, size_t pos = 0) : bytes_(bytes), pos_(pos) {
    if (pos > bytes.size()) fail(fmt::format("event of {} bytes is shorter than its {}-byte header", bytes.size(), pos), 0);
  }
  size_t pos() const { return pos_; }
  size_t left() const { return bytes_.size() - pos_; }
  void need(size_t n, const char* what) const {
    if (left() < n) fail(fmt::format("{} needs {} bytes, {} left", what, n, left()), pos_);
  }
  uint64_t uint(size_t n, const char* what) {
    need(n, what);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t(bytes_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }
  std::string_view view(size_t n, const char* what) {
    need(n, what);
    std::string_view v(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return v;
  }
  std::string_view rest() { return view(left(), "rest"); }
  uint64_t lenenc(const char* what) {
    need(1, what);
    size_t p = pos_;
    uint64_t v = read_lenenc(bytes_, p);
    pos_ = p;
    return v;
  }
  void skip(size_t n, const char* what) {
    need(n, what);
    pos_ += n;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_;
};

// Slicing-by-8 tables: t[0] is the classic byte table, t[k][i] the CRC of byte i followed by
// k zero bytes, so eight bytes are folded per step (every event is checksummed: this is hot).
const std::array<std::array<uint32_t, 256>, 8>& crc_tables() {
  static const auto tables = [] {
    std::array<std::array<uint32_t, 256>, 8> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    return t;
  }();
  return tables;
}

// "10.11.19-MariaDB-log" -> whether FORMAT_DESCRIPTION carries the checksum-algorithm byte
// (MySQL 5.6.1+, every MariaDB from 5.3).
bool has_checksum_field(std::string_view version) {
  if (version.find("MariaDB") != std::string_view::npos) return true;
  int major = 0, minor = 0, patch = 0;
  if (std::sscanf(std::string(version).c_str(), "%d.%d.%d", &major, &minor, &patch) < 2) return false;
  return major > 5 || (major == 5 && (minor > 6 || (minor == 6 && patch >= 1)));
}

FormatDescription decode_format_description(Reader& r, size_t body_end) {
  FormatDescription f;
  f.binlog_version = static_cast<uint16_t>(r.uint(2, "binlog version"));
  if (f.binlog_version != 4) fail(fmt::format("binlog version {} (only version 4 is supported)", f.binlog_version), 0);
  std::string_view version = r.view(50, "server version");
  f.server_version = std::string(version.substr(0, version.find('\0')));
  r.skip(4, "create timestamp");
  f.header_length = static_cast<uint8_t>(r.uint(1, "header length"));
  if (f.header_length < kEventHeaderSize) fail("header length below 19", r.pos() - 1);
  size_t tail = has_checksum_field(f.server_version) ? 5 : 0;  // algorithm byte + CRC32
  if (body_end < r.pos() + tail) fail("format description too short", r.pos());
  size_t types = body_end - r.pos() - tail;
  std::string_view lengths = r.view(types, "post-header lengths");
  f.post_header_lengths.assign(lengths.begin(), lengths.end());
  if (tail) {
    uint8_t alg = static_cast<uint8_t>(r.uint(1, "checksum algorithm"));
    if (alg != 0 && alg != 1 && alg != 0xff) fail(fmt::format("unknown checksum algorithm {}", alg), r.pos() - 1);
    f.checksum = alg == 1;
  }
  return f;
}

uint64_t table_id(Reader& r, const FormatDescription& f, uint8_t type) {
  return r.uint(f.post_header_length(type) == 6 ? 4 : 6, "table id");
}

TableMapEvent decode_table_map(Reader& r, const FormatDescription& f) {
  TableMapEvent t;
  t.table_id = table_id(r, f, kTableMapEvent);
  r.skip(2, "table map flags");
  size_t n = r.uint(1, "database name length");
  t.database = r.view(n, "database name");
  r.skip(1, "database name terminator");
  n = r.uint(1, "table name length");
  t.table = r.view(n, "table name");
  r.skip(1, "table name terminator");
  t.column_count = r.lenenc("column count");
  if (t.column_count > 4096) fail(fmt::format("{} columns", t.column_count), r.pos());
  t.column_types = r.view(t.column_count, "column types");
  uint64_t meta = r.lenenc("metadata length");
  t.metadata = r.view(meta, "column metadata");
  t.null_bitmap = r.view((t.column_count + 7) / 8, "null bitmap");
  t.optional_metadata = r.rest();
  return t;
}

RowsEvent decode_rows_event(Reader& r, const FormatDescription& f, uint8_t type) {
  RowsEvent e;
  bool v2 = type >= kWriteRowsV2 && type <= kDeleteRowsV2;
  uint8_t base = v2 ? kWriteRowsV2 : kWriteRowsV1;
  e.kind = static_cast<RowsEvent::Kind>(type - base);
  e.table_id = table_id(r, f, type);
  e.flags = static_cast<uint16_t>(r.uint(2, "rows flags"));
  if (v2) {
    size_t extra = r.uint(2, "extra data length");
    if (extra < 2) fail("extra data length below 2", r.pos() - 2);
    r.skip(extra - 2, "extra data");
  }
  e.column_count = r.lenenc("column count");
  if (e.column_count > 4096) fail(fmt::format("{} columns", e.column_count), r.pos());
  size_t bitmap = (e.column_count + 7) / 8;
  e.present = r.view(bitmap, "columns bitmap");
  if (e.kind == RowsEvent::Update) e.present_after = r.view(bitmap, "after-image columns bitmap");
  e.rows = r.rest();
  return e;
}

}  // namespace

uint8_t FormatDescription::post_header_length(uint8_t type) const {
  if (type == 0 || type > post_header_lengths.size()) return 0;
  return post_header_lengths[type - 1];
}

uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc) {
  const auto& t = crc_tables();
  crc = ~crc;
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  for (; n >= 8; n -= 8, p += 8) {
    uint32_t lo = crc ^ (uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24);
    uint32_t hi = uint32_t(p[4]) | uint32_t(p[5]) << 8 | uint32_t(p[6]) << 16 | uint32_t(p[7]) << 24;
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][hi & 0xff] ^
          t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) crc = t[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint64_t read_lenenc(std::span<const uint8_t> bytes, size_t& pos) {
  if (pos >= bytes.size()) fail("length-encoded integer missing", pos);
  uint8_t first = bytes[pos];
  size_t n = first < 0xfb ? 0 : first == 0xfc ? 2 : first == 0xfd ? 3 : first == 0xfe ? 8 : SIZE_MAX;
  if (n == SIZE_MAX) fail(fmt::format("length-encoded integer starts with 0x{:02x}", first), pos);
  if (bytes.size() - pos - 1 < n) fail("length-encoded integer truncated", pos);
  uint64_t v = n == 0 ? first : 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t(bytes[pos + 1 + i]) << (8 * i);
  pos += 1 + n;
  return v;
}

BinlogEvent decode_event(std::span<const uint8_t> bytes, const FormatDescription* format) {
  Reader h(bytes);
  BinlogEvent ev;
  ev.header.timestamp = static_cast<uint32_t>(h.uint(4, "event header"));
  ev.header.type = static_cast<uint8_t>(h.uint(1, "event header"));
  ev.header.server_id = static_cast<uint32_t>(h.uint(4, "event header"));
  ev.header.event_size = static_cast<uint32_t>(h.uint(4, "event header"));
  ev.header.log_pos = static_cast<uint32_t>(h.uint(4, "event header"));
  ev.header.flags = static_cast<uint16_t>(h.uint(2, "event header"));
  const uint8_t type = ev.header.type;
  if (ev.header.event_size != bytes.size())
    fail(fmt::format("event of type {} says {} bytes but {} were given", type, ev.header.event_size, bytes.size()), 9);

  if (type == kFormatDescriptionEvent) {
    Reader r(bytes, kEventHeaderSize);
    FormatDescription f = decode_format_description(r, bytes.size());
    if (f.checksum) {
      uint32_t want = static_cast<uint32_t>(Reader(bytes, bytes.size() - 4).uint(4, "checksum"));
      if (crc32(bytes.first(bytes.size() - 4)) != want) fail("checksum mismatch in format description", 0);
    }
    ev.body = std::move(f);
    return ev;
  }
  FormatDescription none;
  const FormatDescription& f = format ? *format : none;
  size_t end = bytes.size();
  if (f.checksum) {
    if (end < kEventHeaderSize + 4) fail("event too short for its checksum", 0);
    uint32_t want = static_cast<uint32_t>(Reader(bytes, end - 4).uint(4, "checksum"));
    uint32_t got = crc32(bytes.first(end - 4));
    if (got != want) fail(fmt::format("checksum mismatch in event of type {} (0x{:08x} != 0x{:08x})", type, got, want), 0);
    end -= 4;
  }
  if (!format && type != kRotateEvent && type != kHeartbeatEvent)
    fail(fmt::format("event of type {} before any format description", type), 0);
  Reader r(bytes.first(end), f.header_length ? f.header_length : kEventHeaderSize);

  switch (type) {
    case kRotateEvent: {
      Rotate rot;
      rot.position = r.uint(8, "rotate position");
      rot.next_file = r.rest();
      ev.body = rot;
      break;
    }
    case kQueryEvent: {
      Query q;
      q.thread_id = static_cast<uint32_t>(r.uint(4, "query thread id"));
      r.skip(4, "query exec time");
      size_t db_len = r.uint(1, "query database length");
      q.error_code = static_cast<uint16_t>(r.uint(2, "query error code"));
      size_t status_len = r.uint(2, "query status length");
      size_t post = f.post_header_length(kQueryEvent);
      if (post > 13) r.skip(post - 13, "query post-header");
      r.skip(status_len, "query status variables");
      q.database = r.view(db_len, "query database");
      r.skip(1, "query database terminator");
      q.sql = r.rest();
      ev.body = q;
      break;
    }
    case kXidEvent:
      ev.body = Xid{r.uint(8, "xid")};
      break;
    case kMariaGtidEvent: {
      MariaGtid g;
      g.gtid.sequence = r.uint(8, "gtid sequence");
      g.gtid.domain = static_cast<uint32_t>(r.uint(4, "gtid domain"));
      g.gtid.server_id = ev.header.server_id;
      g.flags = static_cast<uint8_t>(r.uint(1, "gtid flags"));
      ev.body = g;
      break;
    }
    case kMariaGtidListEvent: {
      MariaGtidList list;
      uint32_t count = static_cast<uint32_t>(r.uint(4, "gtid list count")) & 0x0fffffff;
      r.need(size_t(count) * 16, "gtid list");
      for (uint32_t i = 0; i < count; ++i) {
        Gtid g;
        g.domain = static_cast<uint32_t>(r.uint(4, "gtid domain"));
        g.server_id = static_cast<uint32_t>(r.uint(4, "gtid server id"));
        g.sequence = r.uint(8, "gtid sequence");
        list.gtids.push_back(g);
      }
      ev.body = std::move(list);
      break;
    }
    case kAnnotateRowsEvent:
      ev.body = AnnotateRows{r.rest()};
      break;
    case kBinlogCheckpointEvent: {
      size_t n = r.uint(4, "checkpoint file length");
      ev.body = BinlogCheckpoint{r.view(n, "checkpoint file")};
      break;
    }
    case kTableMapEvent:
      ev.body = decode_table_map(r, f);
      break;
    case kWriteRowsV1:
    case kUpdateRowsV1:
    case kDeleteRowsV1:
    case kWriteRowsV2:
    case kUpdateRowsV2:
    case kDeleteRowsV2:
      ev.body = decode_rows_event(r, f, type);
      break;
    case kHeartbeatEvent:
      ev.body = Heartbeat{r.rest()};
      break;
    case kStartEncryptionEvent:
      throw Error(ErrorKind::Permanent,
                  "binlog: the binary log is encrypted (START_ENCRYPTION event); ferry reads it through the "
                  "replication protocol, where the server decrypts it: this event should not reach it");
    default:
      if (type >= kQueryCompressedEvent && type <= 171)
        throw Error(ErrorKind::Permanent,
                    fmt::format("binlog: compressed event (type {}): ferry does not read compressed binlog events; "
                                "set log_bin_compress=OFF on the server (the events already written stay compressed: "
                                "resync the pipe after the change)", type));
      ev.body = OtherEvent{};
  }
  return ev;
}

std::vector<BinlogEvent> decode_binlog_file(std::span<const uint8_t> file, FormatDescription& format) {
  if (file.size() < 4 || std::memcmp(file.data(), kBinlogMagic, 4) != 0) fail("not a binlog file (magic)", 0);
  std::vector<BinlogEvent> out;
  bool have_format = false;
  size_t pos = 4;
  while (pos < file.size()) {
    if (file.size() - pos < kEventHeaderSize) fail("truncated event header", pos);
    uint32_t size = static_cast<uint32_t>(Reader(file, pos + 9).uint(4, "event size"));
    if (size < kEventHeaderSize || size > file.size() - pos) fail(fmt::format("event size {}", size), pos);
    BinlogEvent ev = decode_event(file.subspan(pos, size), have_format ? &format : nullptr);
    if (auto* f = std::get_if<FormatDescription>(&ev.body)) {
      format = *f;
      have_format = true;
    }
    out.push_back(std::move(ev));
    pos += size;
  }
  return out;
}

}  // namespace ferry::mysql

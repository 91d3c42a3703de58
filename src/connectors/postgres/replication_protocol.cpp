#include "connectors/postgres/replication_protocol.h"

#include <fmt/format.h>

#include "connectors/postgres/pgoutput.h"
#include "core/error.h"

namespace ferry {
namespace {

[[noreturn]] void fail(const std::string& what, size_t at) {
  throw Error(ErrorKind::Permanent, fmt::format("replication protocol: {} at offset {}", what, at));
}

uint64_t read_be64(std::span<const uint8_t> b, size_t at, const char* what) {
  if (b.size() < 8 || at > b.size() - 8)
    fail(fmt::format("truncated message: {} needs 8 bytes, {} left", what, at < b.size() ? b.size() - at : 0), at);
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | b[at + i];
  return v;
}

void write_be64(uint8_t* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ReplicationMessage parse_replication_message(std::span<const uint8_t> b) {
  if (b.empty()) fail("empty message", 0);
  switch (b[0]) {
    case 'w': {
      pgrepl::XLogData m;
      m.wal_start = read_be64(b, 1, "XLogData start LSN");
      m.wal_end = read_be64(b, 9, "XLogData end LSN");
      m.server_time = static_cast<int64_t>(read_be64(b, 17, "XLogData server clock"));
      m.data = b.subspan(25);
      return m;
    }
    case 'k': {
      pgrepl::PrimaryKeepalive m;
      m.wal_end = read_be64(b, 1, "keepalive end LSN");
      m.server_time = static_cast<int64_t>(read_be64(b, 9, "keepalive server clock"));
      if (b.size() < 18) fail("truncated message: keepalive reply flag needs 1 byte, 0 left", 17);
      if (b[17] > 1) fail(fmt::format("keepalive reply flag is {}, not 0 or 1", b[17]), 17);
      m.reply_requested = b[17] == 1;
      if (b.size() > 18)
        fail(fmt::format("{} trailing byte{} after keepalive message", b.size() - 18, b.size() == 19 ? "" : "s"), 18);
      return m;
    }
    default: {
      uint8_t t = b[0];
      fail(t >= 0x20 && t < 0x7f ? fmt::format("unknown message type '{}' (0x{:02x})", static_cast<char>(t), t)
                                 : fmt::format("unknown message type 0x{:02x}", t),
           0);
    }
  }
}

std::array<uint8_t, pgrepl::kStandbyStatusUpdateSize> build_standby_status_update(
    const pgrepl::StandbyStatusUpdate& u) {
  std::array<uint8_t, pgrepl::kStandbyStatusUpdateSize> out{};
  out[0] = 'r';
  write_be64(&out[1], u.written_lsn);
  write_be64(&out[9], u.flushed_lsn);
  write_be64(&out[17], u.applied_lsn);
  write_be64(&out[25], static_cast<uint64_t>(u.client_time));
  out[33] = u.reply_requested ? 1 : 0;
  return out;
}

std::array<uint8_t, pgrepl::kStandbyStatusUpdateSize> build_standby_status_update(
    uint64_t written_lsn, uint64_t flushed_lsn, uint64_t applied_lsn, int64_t client_time, bool reply_requested) {
  return build_standby_status_update(
      pgrepl::StandbyStatusUpdate{written_lsn, flushed_lsn, applied_lsn, client_time, reply_requested});
}

int64_t to_pg_time(std::chrono::system_clock::time_point t) {
  return unix_micros_to_pg_time(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

uint64_t parse_lsn(std::string_view text) {
  auto bad = [&](const char* why) -> uint64_t {
    throw Error(ErrorKind::Permanent, fmt::format("invalid LSN \"{}\": {}", text, why));
  };
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad("expected <hex>/<hex>");
  std::string_view parts[2] = {text.substr(0, slash), text.substr(slash + 1)};
  uint64_t halves[2] = {0, 0};
  for (int p = 0; p < 2; ++p) {
    if (parts[p].empty() || parts[p].size() > 8) return bad("each half must have 1 to 8 hex digits");
    for (char c : parts[p]) {
      int d = hex_digit(c);
      if (d < 0) return bad("not a hex digit");
      halves[p] = (halves[p] << 4) | static_cast<uint64_t>(d);
    }
  }
  return (halves[0] << 32) | halves[1];
}

std::string format_lsn(uint64_t lsn) {
  return fmt::format("{:X}/{:X}", static_cast<uint32_t>(lsn >> 32), static_cast<uint32_t>(lsn));
}

}  // namespace ferry

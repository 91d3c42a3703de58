#include "connectors/postgres/pg_replication.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <random>
#include <unordered_map>

#include <fmt/format.h>

#include "connectors/postgres/pg_connection.h"
#include "connectors/postgres/pgoutput.h"
#include "connectors/postgres/replication_protocol.h"
#include "core/error.h"
#include "core/ident.h"
#include "core/log.h"

namespace ferry {

namespace {

std::string sanitize(const std::string& pipe) {
  std::string out = "ferry_";
  for (unsigned char c : pipe) out += std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '_';
  if (out.size() > 63) out.resize(63);
  return out;
}

std::string quoted_table(const std::string& table) {
  QualifiedName q = split_qualified(table);
  return quote_pg_ident(q.schema) + "." + quote_pg_ident(q.name);
}

constexpr auto kStatusInterval = std::chrono::seconds(10);

}  // namespace

std::string pg_slot_name(const std::string& pipe) { return sanitize(pipe); }
std::string pg_publication_name(const std::string& pipe) { return sanitize(pipe); }

PgReplicationAdmin::PgReplicationAdmin(const PeerSpec& peer) : peer_(peer), conn_(PgConnection::open(peer)) {}
PgReplicationAdmin::~PgReplicationAdmin() = default;

void PgReplicationAdmin::ensure_publication(const std::string& publication, const std::vector<std::string>& tables) {
  std::string list;
  for (const auto& t : tables) list += (list.empty() ? "" : ", ") + quoted_table(t);
  bool exists = conn_->exec_params("SELECT 1 FROM pg_publication WHERE pubname = $1", {publication}).rows() > 0;
  if (!exists) {
    conn_->exec(fmt::format("CREATE PUBLICATION {} FOR TABLE {}", quote_pg_ident(publication), list));
    return;
  }
  // The runner asks before every stream open: leave an unchanged publication alone, so a
  // restart writes nothing to the source's catalog.
  std::vector<std::optional<std::string>> params{publication};
  std::string wanted;
  for (const auto& t : tables) {
    params.push_back(quoted_table(t));
    wanted += fmt::format("{}${}::regclass", wanted.empty() ? "" : ", ", params.size());
  }
  bool same = conn_->exec_params(fmt::format("SELECT ARRAY(SELECT r.prrelid FROM pg_publication_rel r JOIN pg_publication p "
                                             "ON p.oid = r.prpubid WHERE p.pubname = $1 ORDER BY 1) = "
                                             "ARRAY(SELECT DISTINCT unnest(ARRAY[{}]::oid[]) ORDER BY 1)",
                                             wanted),
                                 params)
                  .get(0, 0) == "t";
  if (!same) conn_->exec(fmt::format("ALTER PUBLICATION {} SET TABLE {}", quote_pg_ident(publication), list));
}

void PgReplicationAdmin::drop_publication(const std::string& publication) {
  conn_->exec("DROP PUBLICATION IF EXISTS " + quote_pg_ident(publication));
}

std::optional<PgSlotState> PgReplicationAdmin::slot(const std::string& slot) {
  PgResult r = conn_->exec_params(
      "SELECT coalesce(confirmed_flush_lsn::text, '0/0'), coalesce(restart_lsn::text, '0/0'), active "
      "FROM pg_replication_slots WHERE slot_name = $1",
      {slot});
  if (r.rows() == 0) return std::nullopt;
  return PgSlotState{parse_lsn(r.get(0, 0)), parse_lsn(r.get(0, 1)), r.get(0, 2) == "t"};
}

void PgReplicationAdmin::drop_slot(const std::string& slot) {
  // An active slot (our own stream still closing) cannot be dropped: wait for it briefly.
  conn_->exec_params(
      "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active", {slot});
  conn_->exec_params("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
                     {slot});
}

uint64_t PgReplicationAdmin::current_wal_lsn() { return parse_lsn(conn_->query_value("SELECT pg_current_wal_lsn()")); }

PgSlotSnapshot::PgSlotSnapshot(const PeerSpec& peer, const std::string& slot, bool temporary)
    : conn_(PgConnection::open(peer, /*replication=*/true)) {
  PgResult r = conn_->exec(fmt::format("CREATE_REPLICATION_SLOT {}{} LOGICAL pgoutput EXPORT_SNAPSHOT",
                                       quote_pg_ident(slot), temporary ? " TEMPORARY" : ""));
  consistent_point_ = parse_lsn(r.get(0, 1));
  snapshot_ = r.get(0, 2);
}
PgSlotSnapshot::~PgSlotSnapshot() = default;

std::string pg_temporary_slot_name() {
  std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("ferry_snap_{:016x}", rng());
}

uint64_t pg_create_slot(const PeerSpec& peer, const std::string& slot) {
  auto conn = PgConnection::open(peer, /*replication=*/true);
  PgResult r = conn->exec(fmt::format("CREATE_REPLICATION_SLOT {} LOGICAL pgoutput NOEXPORT_SNAPSHOT", quote_pg_ident(slot)));
  return parse_lsn(r.get(0, 1));
}

// The decoder (its buffers are reused across messages) and the relations it announced.
struct PgChangeStream::Decoding {
  PgOutputDecoder decoder;
  std::unordered_map<uint32_t, StreamRelation> relations_by_oid;
};

PgChangeStream::PgChangeStream(const PeerSpec& peer, const std::string& slot, const std::string& publication,
                               uint64_t start)
    : conn_(PgConnection::open(peer, /*replication=*/true)), slot_(slot), decoding_(std::make_unique<Decoding>()) {
  std::string pubs = quote_pg_ident(publication);
  std::string sql = fmt::format("START_REPLICATION SLOT {} LOGICAL {} (proto_version '1', publication_names {})",
                                quote_pg_ident(slot), format_lsn(start), quote_pg_literal(pubs));
  try {
    conn_->start_copy_out(sql);
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.find("does not exist") != std::string::npos && msg.find("slot") != std::string::npos)
      throw Error(ErrorKind::SourceLost,
                  fmt::format("replication slot \"{}\" no longer exists at the source, so changes since the last "
                              "checkpoint cannot be read; run `ferry pipe resync` to rebuild the pipe ({})",
                              slot, msg));
    throw;
  }
  // Nothing is confirmed until acknowledge(): status updates carry flush 0 (ignored by
  // the server) until then, so a caller that must keep older changes readable (a
  // resync's catch-up) never has the slot moved past them by this stream.
  acknowledged_ = 0;
  last_status_ = std::chrono::steady_clock::now();
}

PgChangeStream::~PgChangeStream() {
  if (buf_) PQfreemem(buf_);
}

bool PgChangeStream::read_copy_data(std::chrono::milliseconds timeout) {
  if (buf_) {
    PQfreemem(buf_);
    buf_ = nullptr;
  }
  PGconn* c = conn_->raw();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool polled = false;  // even a zero timeout reads what the socket already holds
  for (;;) {
    len_ = PQgetCopyData(c, &buf_, 1);
    if (len_ > 0) return true;
    if (len_ == -1) {
      PGresult* r = PQgetResult(c);
      std::string msg = r ? PQresultErrorMessage(r) : conn_->last_error();
      if (r) PQclear(r);
      if (msg.find("does not exist") != std::string::npos)
        throw Error(ErrorKind::SourceLost, fmt::format("replication slot \"{}\" was dropped at the source: {}; run "
                                                       "`ferry pipe resync` to rebuild the pipe", slot_, msg));
      throw Error(ErrorKind::Transient, "PostgreSQL replication stream ended: " + msg);
    }
    if (len_ == -2) throw Error(ErrorKind::Transient, "PostgreSQL replication stream failed: " + conn_->last_error());
    // No complete message buffered: wait for the socket until the deadline.
    auto now = std::chrono::steady_clock::now();
    if (now - last_status_ >= kStatusInterval) send_status(false);
    if (now >= deadline && polled) return false;
    polled = true;
    // Rounded up: a sub-millisecond remainder must still wait, not spin.
    auto left = now >= deadline ? std::chrono::milliseconds(0)
                                : std::chrono::ceil<std::chrono::milliseconds>(
                                      std::min(deadline - now, std::chrono::steady_clock::duration(kStatusInterval)));
    pollfd pfd{PQsocket(c), POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
      throw Error(ErrorKind::Transient, fmt::format("waiting for the replication stream failed: {}", std::strerror(errno)));
    if (PQconsumeInput(c) == 0)
      throw Error(ErrorKind::Transient, "PostgreSQL replication connection lost: " + conn_->last_error());
  }
}

void PgChangeStream::send_status(bool reply_requested) {
  auto msg = build_standby_status_update(std::max(received_, acknowledged_), acknowledged_, acknowledged_,
                                         to_pg_time(std::chrono::system_clock::now()), reply_requested);
  PGconn* c = conn_->raw();
  if (PQputCopyData(c, reinterpret_cast<const char*>(msg.data()), static_cast<int>(msg.size())) != 1 || PQflush(c) != 0)
    throw Error(ErrorKind::Transient, "cannot send standby status to PostgreSQL: " + conn_->last_error());
  last_status_ = std::chrono::steady_clock::now();
}

void PgChangeStream::acknowledge(uint64_t position) {
  if (position <= acknowledged_) return;
  acknowledged_ = position;
  send_status(false);
}

namespace {

void fill_values(const pgoutput::TupleData& tuple, std::vector<StreamValue>& out, const std::vector<bool>* key_only) {
  out.resize(tuple.values.size());
  for (size_t i = 0; i < tuple.values.size(); ++i) {
    const auto& v = tuple.values[i];
    StreamValue& sv = out[i];
    sv.text = {};
    switch (v.kind) {
      case pgoutput::ValueKind::Null:
        // In a key-only old tuple, non-key columns are sent as null: they are unknown, not null.
        sv.state = key_only && !(*key_only)[i] ? CellState::Absent : CellState::Null;
        break;
      case pgoutput::ValueKind::UnchangedToast: sv.state = CellState::Unchanged; break;
      case pgoutput::ValueKind::Text:
        sv.state = CellState::Value;
        sv.text = v.data;
        break;
      case pgoutput::ValueKind::Binary:
        throw Error(ErrorKind::Permanent, "pgoutput sent a binary value; ferry streams text values only");
    }
  }
}

bool same_key(const std::vector<StreamValue>& a, const std::vector<StreamValue>& b, const std::vector<bool>& key) {
  for (size_t i = 0; i < key.size() && i < a.size() && i < b.size(); ++i) {
    if (!key[i]) continue;
    if (a[i].state != b[i].state || a[i].text != b[i].text) return false;
  }
  return true;
}

}  // namespace

bool PgChangeStream::translate(ChangeEvent& ev) {
  ReplicationMessage rm = parse_replication_message({reinterpret_cast<const uint8_t*>(buf_), static_cast<size_t>(len_)});
  if (auto* ka = std::get_if<pgrepl::PrimaryKeepalive>(&rm)) {
    received_ = std::max(received_, ka->wal_end);
    if (ka->reply_requested) send_status(false);
    ev.kind = ChangeEvent::Kind::Heartbeat;
    ev.position = ka->wal_end;
    return true;
  }
  auto& x = std::get<pgrepl::XLogData>(rm);
  received_ = std::max(received_, x.wal_start);
  const PgOutputMessage& msg = decoding_->decoder.decode(x.data);
  auto relation = [&](uint32_t oid) -> const StreamRelation& {
    auto it = decoding_->relations_by_oid.find(oid);
    if (it == decoding_->relations_by_oid.end())
      throw Error(ErrorKind::Permanent, fmt::format("pgoutput: change for relation {} before its Relation message", oid));
    return it->second;
  };
  ev.old_key.clear();
  if (auto* b = std::get_if<pgoutput::Begin>(&msg)) {
    tx_version_ = b->final_lsn;
    ev.kind = ChangeEvent::Kind::Begin;
    ev.version = b->final_lsn;
    ev.commit_time_ms = b->commit_time / 1000 + 946684800000LL;
    return true;
  }
  if (auto* c = std::get_if<pgoutput::Commit>(&msg)) {
    ev.kind = ChangeEvent::Kind::Commit;
    ev.version = c->commit_lsn;
    ev.position = c->end_lsn;
    ev.commit_time_ms = c->commit_time / 1000 + 946684800000LL;
    received_ = std::max(received_, c->end_lsn);
    return true;
  }
  if (auto* r = std::get_if<pgoutput::Relation>(&msg)) {
    StreamRelation rel;
    rel.schema = r->namespace_name.empty() ? "pg_catalog" : std::string(r->namespace_name);
    rel.name = std::string(r->name);
    for (const auto& col : r->columns) {
      rel.columns.emplace_back(col.name);
      rel.key.push_back(col.is_key());
    }
    StreamRelation& stored = decoding_->relations_by_oid[r->oid];
    stored = std::move(rel);
    ev.kind = ChangeEvent::Kind::Relation;
    ev.relation = &stored;
    return true;
  }
  if (auto* ins = std::get_if<pgoutput::Insert>(&msg)) {
    const StreamRelation& rel = relation(ins->relation_oid);
    ev.kind = ChangeEvent::Kind::Row;
    ev.relation = &rel;
    ev.version = tx_version_;
    ev.op = RowOp::Upsert;
    ev.inserted = true;
    check_tuple_columns(ins->new_tuple, rel.columns.size());
    fill_values(ins->new_tuple, ev.values, nullptr);
    return true;
  }
  if (auto* up = std::get_if<pgoutput::Update>(&msg)) {
    const StreamRelation& rel = relation(up->relation_oid);
    ev.kind = ChangeEvent::Kind::Row;
    ev.relation = &rel;
    ev.version = tx_version_;
    ev.op = RowOp::Upsert;
    ev.inserted = false;
    check_tuple_columns(up->new_tuple, rel.columns.size());
    if (up->old_tuple) check_tuple_columns(*up->old_tuple, rel.columns.size());
    fill_values(up->new_tuple, ev.values, nullptr);
    if (up->old_tuple) {
      fill_values(*up->old_tuple, ev.old_key, up->old_kind == pgoutput::OldTupleKind::Key ? &rel.key : nullptr);
      // Unchanged TOAST in the new tuple is known from a full old tuple.
      if (up->old_kind == pgoutput::OldTupleKind::Full) {
        for (size_t i = 0; i < ev.values.size() && i < ev.old_key.size(); ++i)
          if (ev.values[i].state == CellState::Unchanged && ev.old_key[i].state != CellState::Unchanged)
            ev.values[i] = ev.old_key[i];
      }
      if (same_key(ev.old_key, ev.values, rel.key)) ev.old_key.clear();
    }
    return true;
  }
  if (auto* del = std::get_if<pgoutput::Delete>(&msg)) {
    const StreamRelation& rel = relation(del->relation_oid);
    ev.kind = ChangeEvent::Kind::Row;
    ev.relation = &rel;
    ev.version = tx_version_;
    ev.op = RowOp::Delete;
    check_tuple_columns(del->old_tuple, rel.columns.size());
    fill_values(del->old_tuple, ev.values, del->old_kind == pgoutput::OldTupleKind::Key ? &rel.key : nullptr);
    return true;
  }
  if (auto* tr = std::get_if<pgoutput::Truncate>(&msg)) {
    ev.kind = ChangeEvent::Kind::Truncate;
    ev.version = tx_version_;
    ev.truncated.clear();
    for (uint32_t oid : tr->relation_oids) ev.truncated.push_back(&relation(oid));
    return true;
  }
  return false;  // Origin, Type, Message: nothing to apply
}

bool PgChangeStream::next(ChangeEvent& event, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    auto left = deadline > now ? std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)
                               : std::chrono::milliseconds(0);
    if (!read_copy_data(left)) return false;
    if (translate(event)) return true;
  }
}

}  // namespace ferry

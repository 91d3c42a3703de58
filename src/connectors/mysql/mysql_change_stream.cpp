#include "connectors/mysql/mysql_change_stream.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "connectors/mysql/binlog_ddl.h"
#include "core/error.h"
#include "core/log.h"

namespace ferry::mysql {

// A TABLE_MAP seen on the stream (by table id), decoded only for pipe tables.
struct MysqlChangeStream::Table {
  std::string raw;   // the event's identifying bytes: a new TABLE_MAP with the same id and bytes is the same table
  std::string name;  // "db.table"
  bool pipe = false;
  BinlogTableMap map;
  std::vector<std::string> columns;
  std::vector<bool> key;
  std::vector<uint32_t> key_columns;
  const StreamRelation* relation = nullptr;
};

namespace {

void append_raw(std::string& out, const TableMapEvent& e) {
  auto piece = [&](std::string_view s) {
    uint32_t n = uint32_t(s.size());
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out.append(s);
  };
  piece(e.database);
  piece(e.table);
  piece(e.column_types);
  piece(e.metadata);
  piece(e.null_bitmap);
  piece(e.optional_metadata);
}

bool ieq_prefix(std::string_view sql, std::string_view word) {
  size_t i = sql.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || sql.size() - i < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k)
    if (std::toupper((unsigned char)sql[i + k]) != word[k]) return false;
  size_t after = i + word.size();
  return after == sql.size() || !std::isalnum((unsigned char)sql[after]);
}

// Copies a control event into the caller's event, keeping its value buffers' capacity.
void assign_control(ChangeEvent& to, const ChangeEvent& from) {
  to.kind = from.kind;
  to.version = from.version;
  to.position = from.position;
  to.commit_time_ms = from.commit_time_ms;
  to.relation = from.relation;
  to.truncated = from.truncated;
  to.op = from.op;
  to.values.clear();
  to.old_key.clear();
}

CellState state_of(const BinlogCell& c, CellState absent) {
  switch (c.state) {
    case BinlogCell::Null: return CellState::Null;
    case BinlogCell::Value: return CellState::Value;
    default: return absent;
  }
}

}  // namespace

MysqlChangeStream::MysqlChangeStream(const MysqlEndpoint& endpoint, const BinlogPosition& start,
                                     std::vector<std::string> tables, const MysqlStreamOptions& options)
    : client_(endpoint, start, BinlogClientOptions{options.server_id, options.heartbeat, false}),
      acknowledged_(options.acknowledged),
      admin_(endpoint),
      tables_(tables.begin(), tables.end()),
      table_list_(std::move(tables)),
      reported_(start.version()) {}

MysqlChangeStream::~MysqlChangeStream() = default;

void MysqlChangeStream::start_transaction(uint32_t timestamp) {
  in_transaction_ = true;
  begun_ = false;
  tx_version_ = client_.position().version();
  tx_time_ms_ = int64_t(timestamp) * 1000;
}

void MysqlChangeStream::queue_begin() {
  if (begun_) return;
  if (!in_transaction_) start_transaction(0);  // rows without GTID/BEGIN (not from MariaDB): version them here
  ChangeEvent& b = queued_.emplace_back();
  b.kind = ChangeEvent::Kind::Begin;
  b.version = tx_version_;
  b.commit_time_ms = tx_time_ms_;
  begun_ = true;
}

void MysqlChangeStream::end_transaction(uint32_t timestamp) {
  if (begun_) {
    ChangeEvent& c = queued_.emplace_back();
    c.kind = ChangeEvent::Kind::Commit;
    c.version = c.position = client_.position().version();
    c.commit_time_ms = int64_t(timestamp) * 1000;
    reported_ = std::max(reported_, c.position);
  } else if (heartbeat_due_) {
    // A next() timed out inside this (filtered) transaction: report its end at once, so a
    // busy server whose changes are all elsewhere still moves the checkpoint.
    ChangeEvent& h = queued_.emplace_back();
    h.kind = ChangeEvent::Kind::Heartbeat;
    h.position = reported_ = std::max(reported_, client_.position().version());
  }
  heartbeat_due_ = false;
  in_transaction_ = false;
  begun_ = false;
}

void MysqlChangeStream::describe_from_catalog(Table& t) {
  const BinlogTableMap& m = t.map;
  if (!m.has_names) {
    auto rows = admin_.rows(fmt::format(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {} "
        "ORDER BY ORDINAL_POSITION",
        admin_.quote(m.database), admin_.quote(m.table)));
    if (rows.size() != m.columns.size())
      throw Error(ErrorKind::Permanent,
                  fmt::format("MariaDB at {}: the binlog's row events of {} have {} columns, the table now has {}, and "
                              "the binlog does not name them: set binlog_row_metadata=FULL on the server and resync "
                              "the pipe (`ferry pipe resync`)",
                              admin_.where(), t.name, m.columns.size(), rows.size()));
    for (size_t i = 0; i < rows.size(); ++i) t.columns[i] = rows[i].at(0).value_or("");
  }
  if (!m.has_primary_key && !m.has_names) {
    auto rows = admin_.rows(fmt::format(
        "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {} "
        "AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
        admin_.quote(m.database), admin_.quote(m.table)));
    for (const auto& r : rows)
      for (size_t i = 0; i < t.columns.size(); ++i)
        if (r.at(0) && t.columns[i] == *r.at(0)) t.key_columns.push_back(uint32_t(i));
  }
}

StreamRelation* MysqlChangeStream::new_relation(const std::string& table) {
  auto rel = std::make_unique<StreamRelation>();
  size_t dot = table.find('.');
  rel->schema = table.substr(0, dot);
  rel->name = table.substr(dot + 1);
  relations_.push_back(std::move(rel));
  return relations_.back().get();
}

void MysqlChangeStream::set_relation(Table& t) {
  const StreamRelation*& latest = latest_[t.name];
  if (!latest || latest->columns != t.columns || latest->key != t.key) {
    StreamRelation* rel = new_relation(t.name);
    rel->columns = t.columns;
    rel->key = t.key;
    latest = rel;
  }
  t.relation = latest;
}

void MysqlChangeStream::on_table_map(const TableMapEvent& e) {
  scratch_.clear();
  append_raw(scratch_, e);
  auto& slot = by_id_[e.table_id];
  if (slot && slot->raw == scratch_) return;
  auto t = std::make_unique<Table>();
  t->raw = scratch_;
  t->name = fmt::format("{}.{}", e.database, e.table);
  t->pipe = tables_.count(t->name) > 0;
  if (t->pipe) {
    t->map = BinlogTableMap::from(e);
    t->columns.resize(t->map.columns.size());
    for (size_t i = 0; i < t->columns.size(); ++i) t->columns[i] = t->map.columns[i].name;
    t->key_columns = t->map.primary_key;
    if (!t->map.has_names || !t->map.has_primary_key) describe_from_catalog(*t);
    t->key.assign(t->columns.size(), false);
    for (uint32_t k : t->key_columns) t->key[k] = true;
    set_relation(*t);
  }
  slot = std::move(t);
}

void MysqlChangeStream::on_rows(const RowsEvent& e) {
  auto it = by_id_.find(e.table_id);
  if (it == by_id_.end())
    throw Error(ErrorKind::Permanent,
                fmt::format("binlog: rows event for table id {} without its TABLE_MAP at {}", e.table_id,
                            client_.position().to_string()));
  Table& t = *it->second;
  if (!t.pipe) return;
  row_count_ = decode_rows_reusing(e, t.map, rows_);
  row_next_ = 0;
  rows_table_ = &t;
  if (row_count_ == 0) return;
  queue_begin();
  const StreamRelation*& sent = sent_[t.name];
  if (sent != t.relation) {  // a table's first rows, or a layout other than the last one sent
    ChangeEvent& r = queued_.emplace_back();
    r.kind = ChangeEvent::Kind::Relation;
    r.relation = t.relation;
    sent = t.relation;
  }
}

void MysqlChangeStream::on_query(const Query& q, uint32_t timestamp) {
  if (ieq_prefix(q.sql, "BEGIN")) {
    if (!in_transaction_) start_transaction(timestamp);
    return;
  }
  // Non-transactional engines end their group with COMMIT (a ROLLBACK keeps their changes too).
  if (ieq_prefix(q.sql, "COMMIT") || ieq_prefix(q.sql, "ROLLBACK")) {
    end_transaction(timestamp);
    return;
  }
  DdlEffect effect = classify_ddl(q.sql, q.database, table_list_);
  switch (effect.kind) {
    case DdlEffect::Breaking:
      throw Error(ErrorKind::Permanent,
                  fmt::format("MariaDB binlog at {}: the statement `{}` {}; the change stream cannot follow it (the "
                              "destination no longer matches the source): resync the pipe (`ferry pipe resync`) to "
                              "rebuild it from the source",
                              client_.position().to_string(), q.sql, effect.reason));
    case DdlEffect::AddColumn:
      spdlog::info("MariaDB binlog at {}: `{}` adds columns to {}; its next rows carry them",
                   client_.position().to_string(), q.sql, effect.table);
      break;
    case DdlEffect::Truncate: {
      queue_begin();
      // A table not seen yet on this stream: its name is all a Truncate needs.
      const StreamRelation*& latest = latest_[effect.table];
      if (!latest) latest = new_relation(effect.table);
      ChangeEvent& ev = queued_.emplace_back();
      ev.kind = ChangeEvent::Kind::Truncate;
      ev.version = tx_version_;
      ev.truncated = {latest};
      break;
    }
    case DdlEffect::Unrelated:
      if (!effect.table.empty())
        spdlog::info("MariaDB binlog at {}: `{}` on {} leaves its rows as they are", client_.position().to_string(),
                     q.sql, effect.table);
      break;
  }
  // A DDL statement is a group of its own (its GTID is standalone; no XID follows).
  end_transaction(timestamp);
}

bool MysqlChangeStream::emit_row(ChangeEvent& event) {
  const RowChange& rc = rows_[row_next_++];
  const Table& t = *rows_table_;
  const size_t n = t.columns.size();
  event.kind = ChangeEvent::Kind::Row;
  event.version = tx_version_;
  event.position = 0;
  event.relation = t.relation;
  event.truncated.clear();
  event.old_key.clear();
  event.values.resize(n);
  switch (rc.kind) {
    case RowsEvent::Write:
      event.op = RowOp::Upsert;
      event.inserted = true;
      for (size_t i = 0; i < n; ++i)
        event.values[i] = {state_of(rc.after[i], CellState::Unchanged), rc.after[i].text};
      break;
    case RowsEvent::Delete:
      event.op = RowOp::Delete;
      for (size_t i = 0; i < n; ++i)
        event.values[i] = {state_of(rc.before[i], CellState::Absent), rc.before[i].text};
      break;
    case RowsEvent::Update: {
      event.op = RowOp::Upsert;
      event.inserted = false;
      for (size_t i = 0; i < n; ++i)
        event.values[i] = {state_of(rc.after[i], CellState::Unchanged), rc.after[i].text};
      bool key_changed = false;
      for (uint32_t k : t.key_columns) {
        const BinlogCell& before = rc.before[k];
        const BinlogCell& after = rc.after[k];
        if (after.state == BinlogCell::Absent) {  // MINIMAL: an unchanged key is only in the before image
          event.values[k] = {state_of(before, CellState::Absent), before.text};
          continue;
        }
        if (before.state != BinlogCell::Absent && (before.state != after.state || before.text != after.text))
          key_changed = true;
      }
      if (key_changed) {
        event.old_key.resize(n);
        for (size_t i = 0; i < n; ++i) event.old_key[i] = {state_of(rc.before[i], CellState::Absent), rc.before[i].text};
      }
      break;
    }
  }
  return true;
}

bool MysqlChangeStream::next(ChangeEvent& event, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  BinlogEvent ev;
  for (;;) {
    if (queued_next_ < queued_.size()) {
      assign_control(event, queued_[queued_next_++]);
      if (queued_next_ == queued_.size()) {
        queued_.clear();
        queued_next_ = 0;
      }
      return true;
    }
    if (row_next_ < row_count_) return emit_row(event);

    bool idle_now = false;
    if (std::chrono::steady_clock::now() >= deadline) {
      idle_now = true;
    } else {
      // Returns within about one heartbeat period when the server is idle.
      if (!client_.next(ev)) return false;  // end of the log (not asked for: cannot happen)
      const uint32_t ts = ev.header.timestamp;
      switch (ev.header.type) {
        case kMariaGtidEvent:
        case kMysqlGtidEvent:
        case kMysqlAnonymousGtidEvent:
          start_transaction(ts);
          break;
        case kXidEvent:
          end_transaction(ts);
          break;
        case kHeartbeatEvent:
          idle_now = true;
          break;
        default:
          if (auto* tm = std::get_if<TableMapEvent>(&ev.body)) on_table_map(*tm);
          else if (auto* rows = std::get_if<RowsEvent>(&ev.body)) on_rows(*rows);
          else if (auto* q = std::get_if<Query>(&ev.body)) on_query(*q, ts);
          break;
      }
    }
    if (idle_now && queued_.empty() && row_next_ >= row_count_) {
      // Between transactions, everything up to the current position has been seen.
      uint64_t here = client_.position().version();
      if (!in_transaction_ && (here > reported_ || heartbeat_requested_)) {
        heartbeat_requested_ = false;
        reported_ = std::max(reported_, here);
        ChangeEvent hb;
        hb.kind = ChangeEvent::Kind::Heartbeat;
        hb.position = reported_;
        assign_control(event, hb);
        return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        if (in_transaction_) heartbeat_due_ = true;
        return false;
      }
    }
  }
}

}  // namespace ferry::mysql

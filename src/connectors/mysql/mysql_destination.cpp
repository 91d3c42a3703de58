#include "connectors/mysql/mysql_destination.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>

#include "connectors/api/apply_plan.h"
#include "connectors/api/sql_transaction.h"
#include "connectors/api/copy_stream.h"
#include "connectors/mysql/mysql_connection.h"
#include "connectors/mysql/mysql_digest.h"
#include "core/check.h"
#include "core/error.h"
#include "core/ident.h"
#include "core/log.h"

namespace ferry::mysql {

namespace {

constexpr const char* kCheckpointTable = "ferry_checkpoints";
constexpr size_t kStatementBytes = 1 << 20;  // well below max_allowed_packet (16 MB by default)

// MariaDB's BEGIN is also a keyword of compound statements: START TRANSACTION is unambiguous.
template <typename F>
void in_transaction(MysqlConnection& c, F&& body) {
  in_sql_transaction(c, std::forward<F>(body), "START TRANSACTION");
}

std::string column_list(const std::vector<std::string>& columns) {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + quote_mysql_ident(c);
  return out;
}

// " ON DUPLICATE KEY UPDATE c = VALUES(c), ..." over the non-key columns (a key-only table
// updates a key column to itself); `soft_delete`: a row written again is live again.
std::string upsert_suffix(const std::vector<std::string>& columns, const std::vector<std::string>& key,
                          bool soft_delete) {
  std::string out;
  for (const auto& c : columns) {
    if (std::find(key.begin(), key.end(), c) != key.end()) continue;
    std::string q = quote_mysql_ident(c);
    out += fmt::format("{}{} = VALUES({})", out.empty() ? "" : ", ", q, q);
  }
  if (soft_delete && !key.empty()) out += (out.empty() ? "" : ", ") + quote_mysql_ident(kSoftDeleteColumn) + " = 0";
  if (out.empty() && !key.empty()) out = quote_mysql_ident(key[0]) + " = " + quote_mysql_ident(key[0]);
  return out.empty() ? "" : " ON DUPLICATE KEY UPDATE " + out;
}

// Splits one COPY text row (no trailing '\n') into raw fields.
void split_fields(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  size_t start = 0;
  while (true) {
    size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
}

bool has_column(const std::vector<std::string>& columns, const char* name) {
  return std::find(columns.begin(), columns.end(), name) != columns.end();
}

// Appends the statement's closing `tail`, runs it and empties it for the next one.
void run_statement(MysqlConnection& c, std::string& sql, std::string_view tail) {
  sql += tail;
  c.exec(sql);
  sql.clear();
}

}  // namespace

MysqlDestination::MysqlDestination(const PeerSpec& peer) : peer_(peer), database_(peer.database) {
  if (database_.empty())
    throw Error(ErrorKind::Config, "peer " + peer.name + ": a mysql destination needs `database` (created when missing)");
  peer_.database.clear();  // sessions start without one: it may not exist yet
}

MysqlDestination::~MysqlDestination() = default;

std::string MysqlDestination::qualified(const std::string& table) const {
  return quote_mysql_ident(database_) + "." + quote_mysql_ident(table);
}

std::unique_ptr<MysqlConnection> MysqlDestination::open_session() {
  auto c = MysqlConnection::open(peer_);
  c->exec("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', foreign_key_checks = 0");
  return c;
}

MysqlConnection& MysqlDestination::conn() {
  if (!conn_) conn_ = open_session();
  return *conn_;
}

ServerFlavor MysqlDestination::flavor(MysqlConnection& c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!flavor_) flavor_ = ServerFlavor{c.is_mariadb(), c.server_version_number()};
  return *flavor_;
}

std::string MysqlDestination::server_version() {
  MysqlConnection& c = conn();
  return std::string(c.is_mariadb() ? "MariaDB " : "MySQL ") + c.server_version();
}

const MysqlDestination::TableInfo& MysqlDestination::table_info(MysqlConnection& c, const std::string& table) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = info_.find(table); it != info_.end()) return it->second;
  }
  TableInfo info;
  for (const Row& r : c.rows(fmt::format("SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE "
                                         "TABLE_SCHEMA = {} AND TABLE_NAME = {} ORDER BY ORDINAL_POSITION",
                                         c.literal(database_), c.literal(table)))) {
    info.columns.push_back(r[0].value_or(""));
    info.types.push_back(value_type(r[1].value_or("")));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (info.columns.empty()) {
    static const TableInfo kNone;
    return kNone;
  }
  return info_[table] = std::move(info);
}

std::vector<ValueType> MysqlDestination::types_of(MysqlConnection& c, const std::string& table,
                                                 const std::vector<std::string>& columns) {
  const TableInfo& info = table_info(c, table);
  if (info.columns.empty())
    throw Error(ErrorKind::Permanent, fmt::format("destination table {} does not exist", qualified(table)));
  std::vector<ValueType> types;
  for (const auto& name : columns) {
    auto it = std::find(info.columns.begin(), info.columns.end(), name);
    if (it == info.columns.end())
      throw Error(ErrorKind::Permanent, fmt::format("destination table {} has no column \"{}\"", qualified(table), name));
    types.push_back(info.types[it - info.columns.begin()]);
  }
  return types;
}

void MysqlDestination::forget_table(const std::string& table) {
  std::lock_guard<std::mutex> lock(mu_);
  info_.erase(table);
}

OnUnrepresentable MysqlDestination::policy(const std::string& table) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = policies_.find(table);
  return it == policies_.end() ? OnUnrepresentable::Fail : it->second;
}

void MysqlDestination::append_value(std::string& out, const std::string& table, const std::string& column,
                                    const ValueType& type, std::optional<std::string_view> value) {
  if (!value) {
    out += "NULL";
    return;
  }
  if (append_mysql_literal(out, type, *value)) return;
  OnUnrepresentable p = policy(table);
  std::string clamped = p == OnUnrepresentable::Clamp ? clamped_literal(type, *value) : "";
  if (p == OnUnrepresentable::Null || !clamped.empty()) {
    out += p == OnUnrepresentable::Null ? "NULL" : clamped;
    std::lock_guard<std::mutex> lock(mu_);
    UnrepresentableCount& u = unrepresentable_[{table, column}];
    if (u.count++ == 0) {
      u.table = table;
      u.column = column;
      u.first_value = std::string(value->substr(0, 64));
    }
    return;
  }
  throw Error(ErrorKind::Permanent,
              fmt::format("table {}: column \"{}\" cannot hold the value '{}' (set on_unrepresentable: null, clamp "
                          "or text for the table, or column_types for the column)",
                          qualified(table), column, value->substr(0, 64)));
}

std::vector<UnrepresentableCount> MysqlDestination::take_unrepresentable() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<UnrepresentableCount> out;
  for (auto& [k, u] : unrepresentable_) out.push_back(u);
  unrepresentable_.clear();
  return out;
}

void MysqlDestination::check_table(const TableSchema& source, const DestinationTable& table) {
  const std::vector<std::string> key = source.key_columns();
  ServerFlavor f = flavor(conn());
  const int key_chars = mysql_key_chars(source);
  for (const auto& col : source.columns)
    mysql_column_type(col, std::find(key.begin(), key.end(), col.name) != key.end() ? key_chars : 0, qualified(table.name),
                      table.column_types, table.on_unrepresentable == OnUnrepresentable::Text, f);
}

bool MysqlDestination::value_fits(const TableSchema& source, const DestinationTable& table, const std::string& column,
                                  const std::string& value) {
  auto col = std::find_if(source.columns.begin(), source.columns.end(), [&](const Column& c) { return c.name == column; });
  if (col == source.columns.end()) return true;
  const std::vector<std::string> key = source.key_columns();
  std::string type = mysql_column_type(*col, std::find(key.begin(), key.end(), column) != key.end() ? mysql_key_chars(source) : 0, table.name,
                                       table.column_types, table.on_unrepresentable == OnUnrepresentable::Text,
                                       flavor(conn()));
  std::string scratch;
  return append_mysql_literal(scratch, value_type(type), value);
}

void MysqlDestination::ensure_table(const TableSchema& source, const DestinationTable& table) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    policies_[table.name] = table.on_unrepresentable;
  }
  MysqlConnection& c = conn();
  forget_table(table.name);
  const TableInfo& existing = table_info(c, table.name);
  if (!existing.columns.empty()) {
    for (const auto& col : source.columns)
      if (std::find(existing.columns.begin(), existing.columns.end(), col.name) == existing.columns.end())
        throw Error(ErrorKind::Permanent,
                    fmt::format("destination table {} exists without column \"{}\" of {} (add the column or drop "
                                "the table)", qualified(table.name), col.name, source.display_name()));
    if (table.soft_delete && !has_column(existing.columns, kSoftDeleteColumn)) {
      c.exec(fmt::format("ALTER TABLE {} ADD COLUMN {} TINYINT(1) NOT NULL DEFAULT 0", qualified(table.name),
                         quote_mysql_ident(kSoftDeleteColumn)));
      forget_table(table.name);
    }
    return;
  }
  const std::vector<std::string> key = source.key_columns();
  const ServerFlavor f = flavor(c);
  const bool nullable_all = table.on_unrepresentable == OnUnrepresentable::Null;
  const int key_chars = mysql_key_chars(source);
  std::string cols;
  for (const auto& col : source.columns) {
    const bool is_key = std::find(key.begin(), key.end(), col.name) != key.end();
    std::string type = mysql_column_type(col, is_key ? key_chars : 0, qualified(table.name), table.column_types,
                                         table.on_unrepresentable == OnUnrepresentable::Text, f);
    cols += fmt::format("{}{} {} {}", cols.empty() ? "" : ", ", quote_mysql_ident(col.name), type,
                        col.nullable || (nullable_all && !is_key) ? "NULL" : "NOT NULL");
  }
  if (table.soft_delete) cols += ", " + quote_mysql_ident(kSoftDeleteColumn) + " TINYINT(1) NOT NULL DEFAULT 0";
  if (!key.empty()) cols += ", PRIMARY KEY (" + column_list(key) + ")";
  try {
    c.exec("CREATE DATABASE IF NOT EXISTS " + quote_mysql_ident(database_) + " CHARACTER SET utf8mb4");
    c.exec(fmt::format("CREATE TABLE IF NOT EXISTS {} ({}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4", qualified(table.name),
                       cols));
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("cannot create destination table {} for {}: {}", qualified(table.name),
                                      source.display_name(), e.what()));
  }
  forget_table(table.name);
}

int64_t MysqlDestination::load_snapshot(const TableSchema& source, const DestinationTable& table, CopyStream& rows,
                                        uint64_t) {
  auto c = open_session();
  {
    std::lock_guard<std::mutex> lock(mu_);
    policies_.emplace(table.name, table.on_unrepresentable);
  }
  std::vector<std::string> columns;
  for (const auto& col : source.columns) columns.push_back(col.name);
  const std::vector<ValueType> types = types_of(*c, table.name, columns);
  const bool soft = has_column(table_info(*c, table.name).columns, kSoftDeleteColumn);
  const std::string head = fmt::format("INSERT INTO {} ({}) VALUES ", qualified(table.name), column_list(columns));
  const std::string tail = upsert_suffix(columns, source.key_columns(), soft);
  int64_t n = 0;
  std::string sql, chunk, value;
  std::vector<std::string_view> fields;
  size_t rows_in_sql = 0;
  auto flush = [&] {
    if (rows_in_sql == 0) return;
    run_statement(*c, sql, tail);
    rows_in_sql = 0;
  };
  try {
    in_transaction(*c, [&] {
      while (true) {
        chunk.clear();
        if (!rows.next_chunk(chunk)) break;
        size_t start = 0;
        while (start < chunk.size()) {
          size_t end = chunk.find('\n', start);
          if (end == std::string::npos) end = chunk.size();
          split_fields(std::string_view(chunk).substr(start, end - start), fields);
          start = end + 1;
          if (fields.size() != columns.size())
            throw Error(ErrorKind::Permanent, fmt::format("a snapshot row of {} has {} fields, expected {}",
                                                          source.display_name(), fields.size(), columns.size()));
          sql += rows_in_sql == 0 ? head : ",";
          sql += '(';
          for (size_t i = 0; i < fields.size(); ++i) {
            if (i) sql += ',';
            if (is_copy_null(fields[i])) {
              append_value(sql, table.name, columns[i], types[i], std::nullopt);
            } else {
              unescape_copy_field(fields[i], value);
              append_value(sql, table.name, columns[i], types[i], value);
            }
          }
          sql += ')';
          ++rows_in_sql;
          ++n;
          if (sql.size() >= kStatementBytes) flush();
        }
      }
      flush();
    });
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("loading {} into {}: {}", source.display_name(), qualified(table.name), e.what()));
  }
  return n;
}

void MysqlDestination::ensure_checkpoint_table() {
  if (checkpoint_table_ready_) return;
  MysqlConnection& c = conn();
  c.exec("CREATE DATABASE IF NOT EXISTS " + quote_mysql_ident(database_) + " CHARACTER SET utf8mb4");
  c.exec(fmt::format("CREATE TABLE IF NOT EXISTS {} (pipe VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin "
                     "PRIMARY KEY, position BIGINT UNSIGNED NOT NULL, updated_at TIMESTAMP(6) NOT NULL DEFAULT "
                     "CURRENT_TIMESTAMP(6)) ENGINE=InnoDB",
                     qualified(kCheckpointTable)));
  checkpoint_table_ready_ = true;
}

void MysqlDestination::apply_in_transaction(const ChangeBatch& batch, const std::string* pipe, uint64_t position) {
  try {
    if (pipe) ensure_checkpoint_table();
    ApplyPlan plan = plan_batch(batch);
    MysqlConnection& c = conn();
    auto cell_value = [&](const Cell& cell) -> std::optional<std::string_view> {
      if (cell.state == CellState::Value) return batch.text(cell);
      return std::nullopt;
    };
    in_transaction(c, [&] {
      std::string sql;
      for (const auto& seg : plan.segments) {
        const ChangeTable& t = batch.tables[seg.table];
        const std::vector<ValueType> types = types_of(c, t.destination, t.columns);
        const std::string target = qualified(t.destination);
        const bool soft = has_column(table_info(c, t.destination).columns, kSoftDeleteColumn);
        std::vector<std::string> quoted;  // once per segment, not per row
        for (const auto& name : t.columns) quoted.push_back(quote_mysql_ident(name));
        const std::string flag = quote_mysql_ident(kSoftDeleteColumn);
        if (seg.truncate_before) c.exec(soft ? fmt::format("UPDATE {} SET {} = 1", target, flag) : "DELETE FROM " + target);
        auto append_key_match = [&](std::string& out, uint32_t first_cell) {
          for (size_t i = 0; i < t.key.size(); ++i) {
            const uint32_t k = t.key[i];
            if (i) out += " AND ";
            out += quoted[k];
            out += " = ";
            append_value(out, t.destination, t.columns[k], types[k], cell_value(plan.cells[first_cell + k]));
          }
        };
        // 1. Rows with unchanged cells update their stored row (at fill_key) in place.
        for (const PlannedRow& row : seg.rows) {
          if (row.is_delete || !row.has_unchanged) continue;
          std::string set;
          for (size_t i = 0; i < t.columns.size(); ++i) {
            const Cell& cell = plan.cells[row.first_cell + i];
            if (cell.state == CellState::Unchanged || cell.state == CellState::Absent) continue;
            set += (set.empty() ? "" : ", ") + quoted[i] + " = ";
            append_value(set, t.destination, t.columns[i], types[i], cell_value(cell));
          }
          if (set.empty()) continue;
          std::string update = fmt::format("UPDATE {} SET {} WHERE ", target, set);
          append_key_match(update, row.fill_key);
          c.exec(update);
          if (c.value("SELECT ROW_COUNT()") == "0")
            spdlog::warn("table {}: an updated row with unchanged (TOAST) values has no stored row; skipped", target);
        }
        // Deletes, by key (soft: the flag set).
        auto write_deletes = [&] {
          size_t in_sql = 0;
          const std::string head = soft ? fmt::format("UPDATE {} SET {} = 1 WHERE (", target, flag)
                                        : "DELETE FROM " + target + " WHERE (";
          for (const PlannedRow& row : seg.rows) {
            if (!row.is_delete) continue;
            sql += in_sql++ == 0 ? head : ") OR (";
            append_key_match(sql, row.first_cell);
            if (sql.size() >= kStatementBytes) {
              run_statement(c, sql, ")");
              in_sql = 0;
            }
          }
          if (in_sql) run_statement(c, sql, ")");
        };
        // Upserts of full rows; soft: also the deletes whose values are all known (a full old
        // row, or an earlier upsert in the batch), flagged afterwards.
        auto write_upserts = [&] {
          std::vector<std::string> key_names;
          for (uint32_t k : t.key) key_names.push_back(t.columns[k]);
          const std::string head = fmt::format("INSERT INTO {} ({}) VALUES ", target, column_list(t.columns));
          const std::string tail = upsert_suffix(t.columns, key_names, soft);
          size_t in_sql = 0;
          for (const PlannedRow& row : seg.rows) {
            if (row.has_unchanged || (row.is_delete && !(soft && row_complete(plan, row, t.columns.size())))) continue;
            sql += in_sql++ == 0 ? head : ",";
            sql += '(';
            for (size_t i = 0; i < t.columns.size(); ++i) {
              if (i) sql += ',';
              append_value(sql, t.destination, t.columns[i], types[i], cell_value(plan.cells[row.first_cell + i]));
            }
            sql += ')';
            if (sql.size() >= kStatementBytes) {
              run_statement(c, sql, tail);
              in_sql = 0;
            }
          }
          if (in_sql) run_statement(c, sql, tail);
        };
        if (soft) {  // flags after the values they keep
          write_upserts();
          write_deletes();
        } else {
          write_deletes();
          write_upserts();
        }
      }
      if (pipe)
        c.exec(fmt::format("INSERT INTO {} (pipe, position) VALUES ({}, {}) ON DUPLICATE KEY UPDATE position = "
                           "GREATEST(position, VALUES(position)), updated_at = CURRENT_TIMESTAMP(6)",
                           qualified(kCheckpointTable), c.literal(*pipe), position));
    });
  } catch (...) {
    conn_.reset();  // the session's state is unknown
    checkpoint_table_ready_ = false;
    throw;
  }
}

void MysqlDestination::apply_changes(const ChangeBatch& batch) { apply_in_transaction(batch, nullptr, 0); }

void MysqlDestination::apply_changes_checkpointed(const ChangeBatch& batch, const std::string& pipe,
                                                  uint64_t position) {
  apply_in_transaction(batch, &pipe, position);
}

uint64_t MysqlDestination::stored_checkpoint(const std::string& pipe) {
  MysqlConnection& c = conn();
  if (!table_exists(kCheckpointTable)) return 0;
  std::string v = c.value(fmt::format("SELECT position FROM {} WHERE pipe = {}", qualified(kCheckpointTable), c.literal(pipe)));
  return v.empty() ? 0 : std::stoull(v);
}

void MysqlDestination::clear_checkpoint(const std::string& pipe) {
  MysqlConnection& c = conn();
  if (!table_exists(kCheckpointTable)) return;
  c.exec(fmt::format("DELETE FROM {} WHERE pipe = {}", qualified(kCheckpointTable), c.literal(pipe)));
}

void MysqlDestination::add_missing_columns(const TableSchema& source, const DestinationTable& table) {
  MysqlConnection& c = conn();
  forget_table(table.name);
  const TableInfo existing = table_info(c, table.name);
  for (const auto& col : source.columns) {
    if (std::find(existing.columns.begin(), existing.columns.end(), col.name) != existing.columns.end()) continue;
    c.exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {} NULL", qualified(table.name), quote_mysql_ident(col.name),
                       mysql_column_type(col, 0, qualified(table.name), table.column_types,
                                         table.on_unrepresentable == OnUnrepresentable::Text, flavor(c))));
  }
  forget_table(table.name);
}

bool MysqlDestination::has_soft_delete(const std::string& table) {
  forget_table(table);
  return has_column(table_info(conn(), table).columns, kSoftDeleteColumn);
}

int64_t MysqlDestination::count_rows(const DestinationTable& table) {
  return std::stoll(conn().value("SELECT COUNT(*) FROM " + qualified(table.name) +
                                 (has_soft_delete(table.name) ? " WHERE NOT " + quote_mysql_ident(kSoftDeleteColumn) : "")));
}

int64_t MysqlDestination::carry_deleted_rows(const TableSchema& source, const std::string& from, const std::string& to) {
  if (!has_soft_delete(from) || !has_soft_delete(to)) return 0;
  const std::vector<std::string> to_cols = table_info(conn(), to).columns;
  std::string cols, key_match;
  for (const auto& col : source.columns)
    if (has_column(to_cols, col.name.c_str())) cols += (cols.empty() ? "" : ", ") + quote_mysql_ident(col.name);
  for (const auto& k : source.key_columns()) key_match += fmt::format(" AND t.{0} = f.{0}", quote_mysql_ident(k));
  if (key_match.empty()) return 0;
  const std::string flag = quote_mysql_ident(kSoftDeleteColumn);
  MysqlConnection& c = conn();
  c.exec(fmt::format("INSERT INTO {0} ({1}, {2}) SELECT {1}, 1 FROM {3} f WHERE f.{2} AND NOT EXISTS (SELECT 1 FROM "
                     "{0} t WHERE TRUE{4})", qualified(to), cols, flag, qualified(from), key_match));
  return std::stoll(c.value("SELECT ROW_COUNT()"));
}

void MysqlDestination::drop_table(const std::string& table) {
  conn().exec("DROP TABLE IF EXISTS " + qualified(table));
  forget_table(table);
}

bool MysqlDestination::table_exists(const std::string& table) {
  MysqlConnection& c = conn();
  return c.value(fmt::format("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {}",
                             c.literal(database_), c.literal(table))) != "0";
}

void MysqlDestination::truncate_table(const std::string& table) {
  if (table_exists(table)) conn().exec("TRUNCATE TABLE " + qualified(table));
}

void MysqlDestination::swap_table(const std::string& staged, const std::string& target) {
  const std::string old = "ferry_old_" + target;
  if (table_exists(target)) {
    conn().exec(fmt::format("RENAME TABLE {} TO {}, {} TO {}", qualified(target), qualified(old), qualified(staged),
                            qualified(target)));
    conn().exec("DROP TABLE " + qualified(old));
  } else {
    conn().exec(fmt::format("RENAME TABLE {} TO {}", qualified(staged), qualified(target)));
  }
  forget_table(staged);
  forget_table(target);
  forget_table(old);
}

void MysqlDestination::rename_table(const std::string& from, const std::string& to) {
  rename_tables({{from, to}});
}

void MysqlDestination::rename_tables(const std::vector<std::pair<std::string, std::string>>& renames) {
  if (renames.empty()) return;
  std::string sql;
  for (const auto& [from, to] : renames) sql += (sql.empty() ? "RENAME TABLE " : ", ") + qualified(from) + " TO " + qualified(to);
  conn().exec(sql);
  for (const auto& [from, to] : renames) {
    forget_table(from);
    forget_table(to);
  }
}

void MysqlDestination::precheck(const PipeSpec& pipe, bool new_pipe, std::vector<CheckResult>& out) {
  std::unique_ptr<MysqlConnection> c;
  try {
    c = open_session();
    out.push_back(check_pass("destination connectivity", "connected to " + std::string(c->is_mariadb() ? "MariaDB" : "MySQL") +
                                                             " peer " + peer_.name));
  } catch (const std::exception& e) {
    out.push_back(check_fail("destination connectivity", e.what(), "check the peer's host, port, user and password_env"));
    for (const char* d : {"destination version", "destination create", "destination writable"})
      out.push_back(check_fail(d, "not connected", ""));
    return;
  }
  const unsigned long v = c->server_version_number();
  if ((c->is_mariadb() && v >= 100500) || (!c->is_mariadb() && v >= 80000))
    out.push_back(check_pass("destination version", c->server_version()));
  else
    out.push_back(check_fail("destination version", "server " + c->server_version() + " is older than ferry supports",
                             "MariaDB 10.5 or later, or MySQL 8.0 or later"));
  try {
    c->exec("CREATE DATABASE IF NOT EXISTS " + quote_mysql_ident(database_) + " CHARACTER SET utf8mb4");
    out.push_back(check_pass("destination create", "database " + database_ + " exists or was created"));
  } catch (const std::exception& e) {
    out.push_back(check_fail("destination create", e.what(),
                             "create database " + database_ + " or grant the peer's user CREATE on it"));
    out.push_back(check_fail("destination writable", "database not available", ""));
    return;
  }
  std::mt19937_64 rng{std::random_device{}()};
  const std::string probe = fmt::format("ferry_precheck_{:016x}", rng());
  try {
    c->exec(fmt::format("CREATE TABLE {} (x INT PRIMARY KEY) ENGINE=InnoDB", qualified(probe)));
    c->exec(fmt::format("INSERT INTO {} VALUES (1) ON DUPLICATE KEY UPDATE x = VALUES(x)", qualified(probe)));
    c->exec(fmt::format("DELETE FROM {}", qualified(probe)));
    c->exec("DROP TABLE " + qualified(probe));
    out.push_back(check_pass("destination writable", "created, wrote and dropped " + database_ + "." + probe));
  } catch (const std::exception& e) {
    try {
      c->exec("DROP TABLE IF EXISTS " + qualified(probe));
    } catch (...) {
    }
    out.push_back(check_fail("destination writable", e.what(),
                             "grant the peer's user CREATE, DROP, ALTER, INSERT, UPDATE, DELETE on " + database_));
  }
  try {
    const std::string packet = c->value("SELECT @@max_allowed_packet");
    if (!packet.empty() && std::stoull(packet) < 2 * kStatementBytes)
      out.push_back(check_fail("destination max_allowed_packet", "max_allowed_packet is " + packet + " bytes",
                               "at least 2 MB (ferry sends statements of up to 1 MB)"));
    else
      out.push_back(check_pass("destination max_allowed_packet", packet + " bytes"));
  } catch (const std::exception& e) {
    out.push_back(check_warn("destination max_allowed_packet", e.what(), ""));
  }
  // Foreign keys: ferry's sessions run with foreign_key_checks = 0 (rows of a batch arrive in
  // set order; the source checked them). Triggers cannot be switched off per session: they fire.
  std::string tables, triggers;
  for (const auto& m : pipe.tables)
    tables += (tables.empty() ? "" : ", ") + c->literal(m.destination.empty() ? split_qualified(m.source).name : m.destination);
  try {
    for (const Row& r : c->rows(fmt::format("SELECT CONCAT(EVENT_OBJECT_TABLE, '.', TRIGGER_NAME) FROM "
                                            "information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = {} AND "
                                            "EVENT_OBJECT_TABLE IN ({}) ORDER BY 1", c->literal(database_), tables)))
      triggers += (triggers.empty() ? "" : ", ") + r[0].value_or("");
    if (triggers.empty())
      out.push_back(check_pass("destination triggers and foreign keys",
                               "no triggers on the destination tables; foreign key checks are off in ferry's sessions"));
    else
      out.push_back(check_warn("destination triggers and foreign keys",
                               "triggers fire on every replicated row: " + triggers,
                               "drop the triggers on the replica, or make them idempotent (a batch's rows arrive in "
                               "set order, and a resync or reset loads the table again)"));
  } catch (const std::exception& e) {
    out.push_back(check_warn("destination triggers and foreign keys", std::string("cannot list triggers: ") + e.what(),
                             "grant the peer's user SELECT on information_schema.TRIGGERS (TRIGGER privilege)"));
  }
  if (!new_pipe) return;
  for (const auto& m : pipe.tables) {
    std::string name = m.destination.empty() ? split_qualified(m.source).name : m.destination;
    try {
      if (c->value(fmt::format("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = {} AND "
                               "TABLE_NAME = {}", c->literal(database_), c->literal(name))) == "0")
        continue;
      if (c->value(fmt::format("SELECT EXISTS (SELECT 1 FROM {})", qualified(name))) == "1")
        out.push_back(check_warn("destination table " + name, qualified(name) + " already holds rows",
                                 "rows with the source's keys are overwritten, others stay: empty the table first "
                                 "for an exact copy"));
    } catch (const std::exception& e) {
      out.push_back(check_warn("destination table " + name, e.what(), ""));
    }
  }
}

std::unique_ptr<TableDigester> MysqlDestination::digester(const TableSchema& source, const DestinationTable& table) {
  return MysqlTableDigester::for_destination(
      peer_, source, database_, table.name,
      has_soft_delete(table.name) ? "NOT " + quote_mysql_ident(kSoftDeleteColumn) : "");
}

}  // namespace ferry::mysql

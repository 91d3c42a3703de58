#include "connectors/postgres/pg_destination.h"
#include "connectors/postgres/pg_digest.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <random>

#include <fmt/format.h>

#include "connectors/api/apply_plan.h"
#include "connectors/api/sql_transaction.h"
#include "connectors/postgres/pg_dest_types.h"
#include "core/check.h"
#include "core/error.h"
#include "core/ident.h"
#include "core/log.h"

namespace ferry::postgres {

namespace {

constexpr const char* kCheckpointTable = "ferry.checkpoints";

void append_cell(std::string& out, const ChangeBatch& batch, const Cell& c) {
  if (c.state == CellState::Value) append_copy_escaped(out, batch.text(c));
  else out += "\\N";
}

}  // namespace

PgDestination::PgDestination(const PeerSpec& peer) : peer_(peer), schema_(peer.schema.empty() ? "public" : peer.schema) {}

std::string PgDestination::qualified(const std::string& table) const {
  return quote_pg_ident(schema_) + "." + quote_pg_ident(table);
}

std::unique_ptr<PgConnection> PgDestination::open_session() {
  auto c = PgConnection::open(peer_);
  c->exec("SET client_min_messages = warning");  // no NOTICEs of IF [NOT] EXISTS on stderr
  try {
    c->exec("SET session_replication_role = replica");
  } catch (const Error& e) {
    if (!warned_role_.exchange(true))
      spdlog::warn("PostgreSQL destination {}: cannot set session_replication_role = replica ({}); triggers and "
                   "foreign keys of the destination tables fire on replicated rows", peer_.name, e.what());
  }
  return c;
}

PgConnection& PgDestination::conn() {
  if (!conn_) conn_ = open_session();
  return *conn_;
}

void PgDestination::forget_session() {
  conn_.reset();
  apply_.clear();  // staging tables lived in that session
  checkpoint_table_ready_ = false;
}

std::string PgDestination::server_version() { return "PostgreSQL " + conn().query_value("SHOW server_version"); }

std::vector<std::pair<std::string, std::string>> PgDestination::table_columns(PgConnection& c,
                                                                              const std::string& table) {
  PgResult r = c.exec_params(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
      "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      {qualified(table)});
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.get(i, 0), r.get(i, 1));
  return out;
}

void PgDestination::check_table(const TableSchema& source, const DestinationTable& table) {
  for (const auto& col : source.columns) pg_column_type(col, table.name, table.column_types);
}

void PgDestination::ensure_table(const TableSchema& source, const DestinationTable& table) {
  PgConnection& c = conn();
  auto existing = table_columns(c, table.name);
  if (!existing.empty()) {
    for (const auto& col : source.columns) {
      if (std::none_of(existing.begin(), existing.end(), [&](const auto& e) { return e.first == col.name; }))
        throw Error(ErrorKind::Permanent,
                    fmt::format("destination table {} exists without column \"{}\" of {} (add the column or drop "
                                "the table)", qualified(table.name), col.name, source.display_name()));
    }
    if (table.soft_delete &&
        std::none_of(existing.begin(), existing.end(), [](const auto& e) { return e.first == kSoftDeleteColumn; })) {
      c.exec(fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} boolean NOT NULL DEFAULT false",
                         qualified(table.name), quote_pg_ident(kSoftDeleteColumn)));
      apply_.erase(table.name);
    }
    return;
  }
  std::string cols;
  for (const auto& col : source.columns) {
    cols += fmt::format("{}{} {}{}", cols.empty() ? "" : ", ", quote_pg_ident(col.name),
                        pg_column_type(col, table.name, table.column_types), col.nullable ? "" : " NOT NULL");
  }
  if (table.soft_delete) cols += ", " + quote_pg_ident(kSoftDeleteColumn) + " boolean NOT NULL DEFAULT false";
  std::string key;
  for (const auto& k : source.key_columns()) key += (key.empty() ? "" : ", ") + quote_pg_ident(k);
  if (!key.empty()) cols += ", PRIMARY KEY (" + key + ")";
  if (c.exec_params("SELECT to_regnamespace($1) IS NULL", {quote_pg_ident(schema_)}).get(0, 0) == "t")
    c.exec("CREATE SCHEMA IF NOT EXISTS " + quote_pg_ident(schema_));
  try {
    c.exec(fmt::format("CREATE TABLE IF NOT EXISTS {} ({})", qualified(table.name), cols));
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("cannot create destination table {} for {}: {}", qualified(table.name),
                                      source.display_name(), e.what()));
  }
  apply_.erase(table.name);
}

int64_t PgDestination::load_snapshot(const TableSchema& source, const DestinationTable& table, CopyStream& rows,
                                     uint64_t) {
  auto c = open_session();
  std::vector<std::string> columns;
  std::string quoted;
  for (const auto& col : source.columns) {
    columns.push_back(col.name);
    quoted += (quoted.empty() ? "" : ", ") + quote_pg_ident(col.name);
  }
  const std::vector<std::string> key = source.key_columns();
  const std::string target = qualified(table.name);
  bool upsert = false;
  if (!key.empty()) {
    std::lock_guard<std::mutex> lock(upsert_tables_mu_);
    upsert = upsert_tables_.count(table.name) > 0;
  }
  // Fast path: COPY straight into the target, the rows kept in a spill file on the way. A key
  // already there (a partition redone after a crash, a reset into a full table) fails the COPY
  // with unique_violation: back to the savepoint, and the spilled rows go in by upsert.
  std::unique_ptr<FILE, decltype(&std::fclose)> spill(nullptr, &std::fclose);
  int64_t n = 0;
  bool exhausted = false;
  auto copy = [&](const std::string& into, const std::function<bool(std::string&)>& next) {
    c->start_copy_in(fmt::format("COPY {} ({}) FROM STDIN", into, quoted));
    std::string chunk;
    try {
      while (true) {
        chunk.clear();
        if (!next(chunk)) break;
        c->put_copy_data(chunk);
      }
    } catch (...) {
      try {
        c->end_copy_in();
      } catch (...) {
      }
      throw;
    }
    c->end_copy_in();
  };
  auto from_source = [&](std::string& chunk) {
    if (exhausted || !rows.next_chunk(chunk)) return !(exhausted = true);
    n += std::count(chunk.begin(), chunk.end(), '\n');
    if (spill && std::fwrite(chunk.data(), 1, chunk.size(), spill.get()) != chunk.size())
      throw Error(ErrorKind::Transient, "PostgreSQL destination: cannot write the snapshot spill file (disk full?)");
    return true;
  };
  auto upsert_from = [&](const std::function<bool(std::string&)>& next) {
    c->exec("CREATE TEMP TABLE ferry_load (LIKE " + target + " INCLUDING DEFAULTS) ON COMMIT DROP");
    copy("ferry_load", next);
    c->exec(snapshot_upsert_sql(target, "ferry_load", columns, key, table.soft_delete));
  };
  in_sql_transaction(*c, [&] {
    try {
      if (key.empty()) {
        copy(target, from_source);
      } else if (upsert) {
        upsert_from(from_source);
      } else {
        spill.reset(std::tmpfile());
        if (!spill) throw Error(ErrorKind::Transient, "PostgreSQL destination: cannot create a snapshot spill file");
        c->exec("SAVEPOINT ferry_copy");
        try {
          copy(target, from_source);
        } catch (const Error&) {
          if (c->last_sqlstate() != "23505") throw;
          spdlog::info("{}: a snapshot partition meets rows already there; loading it and the table's next "
                       "partitions by upsert", target);
          {
            std::lock_guard<std::mutex> lock(upsert_tables_mu_);
            upsert_tables_.insert(table.name);
          }
          c->exec("ROLLBACK TO SAVEPOINT ferry_copy");
          for (std::string rest; from_source(rest);) rest.clear();  // the partition's rows the COPY did not take
          std::rewind(spill.get());
          upsert_from([&](std::string& chunk) {
            chunk.resize(1 << 16);
            size_t got = std::fread(chunk.data(), 1, chunk.size(), spill.get());
            chunk.resize(got);
            return got > 0;
          });
        }
      }
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("loading {} into {}: {}", source.display_name(), target, e.what()));
    }
  });
  return n;
}

PgDestination::ApplyTable& PgDestination::prepare(const ChangeTable& t) {
  auto it = apply_.find(t.destination);
  if (it != apply_.end() && it->second.layout == t.columns) return it->second;
  PgConnection& c = conn();
  auto existing = table_columns(c, t.destination);
  if (existing.empty())
    throw Error(ErrorKind::Permanent, fmt::format("destination table {} does not exist", qualified(t.destination)));
  ApplyTable at;
  at.layout = t.columns;
  at.sql.target = qualified(t.destination);
  at.sql.staging = fmt::format("ferry_stg_{}", staging_counter_++);
  at.sql.columns = t.columns;
  at.sql.key = t.key;
  at.sql.soft_delete =
      std::any_of(existing.begin(), existing.end(), [](const auto& e) { return e.first == kSoftDeleteColumn; });
  for (const auto& col : t.columns) {
    auto e = std::find_if(existing.begin(), existing.end(), [&](const auto& x) { return x.first == col; });
    if (e == existing.end())
      throw Error(ErrorKind::Permanent,
                  fmt::format("destination table {} has no column \"{}\"", qualified(t.destination), col));
    at.sql.types.push_back(e->second);
  }
  c.exec(staging_ddl(at.sql));
  return apply_[t.destination] = std::move(at);
}

void PgDestination::ensure_checkpoint_table() {
  if (checkpoint_table_ready_) return;
  PgConnection& c = conn();
  if (c.query_value(std::string("SELECT to_regclass('") + kCheckpointTable + "') IS NOT NULL") != "t") {
    if (c.query_value("SELECT to_regnamespace('ferry') IS NULL") == "t") c.exec("CREATE SCHEMA IF NOT EXISTS ferry");
    c.exec(std::string("CREATE TABLE IF NOT EXISTS ") + kCheckpointTable +
           " (pipe text PRIMARY KEY, position numeric(20,0) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())");
  }
  checkpoint_table_ready_ = true;
}

void PgDestination::apply_in_transaction(const ChangeBatch& batch, const std::string* pipe, uint64_t position) {
  try {
    if (pipe) ensure_checkpoint_table();
    ApplyPlan plan = plan_batch(batch);
    // Staging tables are created before the transaction: they outlive it (ON COMMIT DELETE ROWS).
    for (const auto& seg : plan.segments) prepare(batch.tables[seg.table]);
    PgConnection& c = conn();
    in_sql_transaction(c, [&] {
      for (const auto& seg : plan.segments) {
        const ChangeTable& t = batch.tables[seg.table];
        ApplyTable& at = prepare(t);
        if (seg.truncate_before)
          c.exec(at.sql.soft_delete ? fmt::format("UPDATE {} SET {} = true", at.sql.target, quote_pg_ident(kSoftDeleteColumn))
                                    : "TRUNCATE " + at.sql.target);
        if (seg.rows.empty()) continue;
        c.exec("TRUNCATE " + at.sql.staging);
        const size_t n = t.columns.size();
        bool deletes = false, upserts = false, unchanged = false;
        copy_buf_.clear();
        c.start_copy_in(copy_staging_sql(at.sql));
        for (const PlannedRow& row : seg.rows) {
          // Soft delete of a row whose values are all known (full old row, or an earlier
          // upsert in the batch): written as an upsert first, then flagged.
          if (row.is_delete && at.sql.soft_delete && row_complete(plan, row, n)) {
            copy_buf_ += "U\t";
            upserts = true;
            for (size_t i = 0; i < n; ++i) {
              copy_buf_ += '\t';
              append_cell(copy_buf_, batch, plan.cells[row.first_cell + i]);
            }
            for (size_t k = 0; k < t.key.size(); ++k) copy_buf_ += "\t\\N";
            copy_buf_ += '\n';
          }
          copy_buf_ += row.is_delete ? "D\t" : "U\t";
          (row.is_delete ? deletes : upserts) = true;
          if (row.has_unchanged) {
            unchanged = true;
            for (size_t i = 0; i < n; ++i) {
              CellState s = plan.cells[row.first_cell + i].state;
              copy_buf_ += (s == CellState::Unchanged || s == CellState::Absent) ? '1' : '0';
            }
          }
          for (size_t i = 0; i < n; ++i) {
            copy_buf_ += '\t';
            append_cell(copy_buf_, batch, plan.cells[row.first_cell + i]);
          }
          for (uint32_t k : t.key) {
            copy_buf_ += '\t';
            if (row.has_unchanged) append_cell(copy_buf_, batch, plan.cells[row.fill_key + k]);
            else copy_buf_ += "\\N";
          }
          copy_buf_ += '\n';
          if (copy_buf_.size() >= (1 << 20)) {
            c.put_copy_data(copy_buf_);
            copy_buf_.clear();
          }
        }
        c.put_copy_data(copy_buf_);
        c.end_copy_in();
        if (unchanged) {
          std::string fill = fill_sql(at.sql);
          if (!fill.empty()) c.exec(fill);
          std::string left = c.query_value(unresolved_sql(at.sql));
          if (left != "0")
            spdlog::warn("table {}: {} updated rows with unchanged (TOAST) values have no stored row; skipped",
                         at.sql.target, left);
        }
        if (at.sql.soft_delete) {  // flags after the values they keep
          if (upserts) c.exec(upsert_sql(at.sql));
          if (deletes) c.exec(delete_sql(at.sql));
        } else {
          if (deletes) c.exec(delete_sql(at.sql));
          if (upserts) c.exec(upsert_sql(at.sql));
        }
      }
      if (pipe) {
        c.exec_params(std::string("INSERT INTO ") + kCheckpointTable +
                          " AS c (pipe, position) VALUES ($1, $2) ON CONFLICT (pipe) DO UPDATE SET "
                          "position = GREATEST(c.position, EXCLUDED.position), updated_at = now()",
                      {*pipe, std::to_string(position)});
      }
    });
  } catch (...) {
    forget_session();  // the session's state (staging, transaction) is unknown
    throw;
  }
}

void PgDestination::apply_changes(const ChangeBatch& batch) { apply_in_transaction(batch, nullptr, 0); }

void PgDestination::apply_changes_checkpointed(const ChangeBatch& batch, const std::string& pipe, uint64_t position) {
  apply_in_transaction(batch, &pipe, position);
}

uint64_t PgDestination::stored_checkpoint(const std::string& pipe) {
  PgConnection& c = conn();
  if (c.query_value(std::string("SELECT to_regclass('") + kCheckpointTable + "') IS NOT NULL") != "t") return 0;
  PgResult r = c.exec_params(std::string("SELECT position FROM ") + kCheckpointTable + " WHERE pipe = $1", {pipe});
  return r.rows() ? std::stoull(r.get(0, 0)) : 0;
}

void PgDestination::clear_checkpoint(const std::string& pipe) {
  PgConnection& c = conn();
  if (c.query_value(std::string("SELECT to_regclass('") + kCheckpointTable + "') IS NOT NULL") != "t") return;
  c.exec_params(std::string("DELETE FROM ") + kCheckpointTable + " WHERE pipe = $1", {pipe});
}

void PgDestination::add_missing_columns(const TableSchema& source, const DestinationTable& table) {
  PgConnection& c = conn();
  auto existing = table_columns(c, table.name);
  for (const auto& col : source.columns) {
    if (std::any_of(existing.begin(), existing.end(), [&](const auto& e) { return e.first == col.name; })) continue;
    c.exec(fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}", qualified(table.name), quote_pg_ident(col.name),
                       pg_column_type(col, table.name, table.column_types)));
    apply_.erase(table.name);
  }
}

int64_t PgDestination::count_rows(const DestinationTable& table) {
  return std::stoll(conn().query_value("SELECT count(*) FROM " + qualified(table.name) +
                                       (has_soft_delete(table.name) ? " WHERE NOT " + quote_pg_ident(kSoftDeleteColumn) : "")));
}

bool PgDestination::has_soft_delete(const std::string& table) {
  auto cols = table_columns(conn(), table);
  return std::any_of(cols.begin(), cols.end(), [](const auto& e) { return e.first == kSoftDeleteColumn; });
}

int64_t PgDestination::carry_deleted_rows(const TableSchema& source, const std::string& from, const std::string& to) {
  if (!has_soft_delete(from) || !has_soft_delete(to)) return 0;
  const auto to_cols = table_columns(conn(), to);
  std::string cols, key_match;
  for (const auto& col : source.columns)
    if (std::any_of(to_cols.begin(), to_cols.end(), [&](const auto& e) { return e.first == col.name; }))
      cols += (cols.empty() ? "" : ", ") + quote_pg_ident(col.name);
  for (const auto& k : source.key_columns()) key_match += fmt::format(" AND t.{0} = f.{0}", quote_pg_ident(k));
  if (key_match.empty()) return 0;  // keyless tables keep no deleted rows to carry
  const std::string flag = quote_pg_ident(kSoftDeleteColumn);
  return std::stoll(conn().query_value(fmt::format(
      "WITH carried AS (INSERT INTO {0} ({1}, {2}) SELECT {1}, true FROM {3} f WHERE f.{2} AND NOT EXISTS (SELECT 1 "
      "FROM {0} t WHERE true{4}) RETURNING 1) SELECT count(*) FROM carried",
      qualified(to), cols, flag, qualified(from), key_match)));
}

void PgDestination::drop_table(const std::string& table) {
  conn().exec("DROP TABLE IF EXISTS " + qualified(table));
  apply_.erase(table);
}

bool PgDestination::table_exists(const std::string& table) {
  PgResult r = conn().exec_params("SELECT to_regclass($1) IS NOT NULL", {qualified(table)});
  return r.get(0, 0) == "t";
}

void PgDestination::truncate_table(const std::string& table) {
  if (table_exists(table)) conn().exec("TRUNCATE " + qualified(table));
}

void PgDestination::swap_table(const std::string& staged, const std::string& target) {
  bool had_target = table_exists(target);
  PgConnection& c = conn();
  in_sql_transaction(c, [&] {
    std::string old = "ferry_old_" + target;
    if (had_target) c.exec(fmt::format("ALTER TABLE {} RENAME TO {}", qualified(target), quote_pg_ident(old)));
    c.exec(fmt::format("ALTER TABLE {} RENAME TO {}", qualified(staged), quote_pg_ident(target)));
    if (had_target) c.exec("DROP TABLE " + qualified(old));
  });
  apply_.erase(staged);
  apply_.erase(target);
}

void PgDestination::rename_table(const std::string& from, const std::string& to) {
  conn().exec(fmt::format("ALTER TABLE {} RENAME TO {}", qualified(from), quote_pg_ident(to)));
  apply_.erase(from);
  apply_.erase(to);
}

void PgDestination::rename_tables(const std::vector<std::pair<std::string, std::string>>& renames) {
  PgConnection& c = conn();
  in_sql_transaction(c, [&] {
    for (const auto& [from, to] : renames)
      c.exec(fmt::format("ALTER TABLE {} RENAME TO {}", qualified(from), quote_pg_ident(to)));
  });
  for (const auto& [from, to] : renames) {
    apply_.erase(from);
    apply_.erase(to);
  }
}

std::string PgDestination::table_identity(const std::string& table) {
  PgResult r = conn().exec_params("SELECT to_regclass($1)::oid", {qualified(table)});
  return r.is_null(0, 0) ? "" : r.get(0, 0);
}

void PgDestination::precheck(const PipeSpec& pipe, bool new_pipe, std::vector<CheckResult>& out) {
  std::unique_ptr<PgConnection> c;
  try {
    c = PgConnection::open(peer_);
    out.push_back(check_pass("destination connectivity", "connected to PostgreSQL peer " + peer_.name));
  } catch (const std::exception& e) {
    out.push_back(check_fail("destination connectivity", e.what(), "check the peer's dsn, user and password_env"));
    for (const char* d : {"destination version", "destination create", "destination writable"})
      out.push_back(check_fail(d, "not connected", ""));
    return;
  }
  int version = c->server_version_num();
  if (version >= 100000)
    out.push_back(check_pass("destination version", "PostgreSQL " + c->query_value("SHOW server_version")));
  else
    out.push_back(check_fail("destination version", fmt::format("server version {} is older than 10", version),
                             "PostgreSQL 10 or later"));
  try {
    for (const std::string& s : {schema_, std::string("ferry")})
      if (c->exec_params("SELECT to_regnamespace($1) IS NULL", {quote_pg_ident(s)}).get(0, 0) == "t")
        c->exec("CREATE SCHEMA " + quote_pg_ident(s));
    out.push_back(check_pass("destination create", "schemas " + schema_ + " and ferry exist or were created"));
  } catch (const std::exception& e) {
    out.push_back(check_fail("destination create", e.what(),
                             "grant the peer's user CREATE on the database (or create schemas " + schema_ +
                                 " and ferry owned by it)"));
    out.push_back(check_fail("destination writable", "schemas not available", ""));
    return;
  }
  std::mt19937_64 rng{std::random_device{}()};
  std::string probe = fmt::format("ferry_precheck_{:016x}", rng());
  try {
    c->exec(fmt::format("CREATE TABLE {} (x int PRIMARY KEY)", qualified(probe)));
    c->exec(fmt::format("INSERT INTO {} VALUES (1) ON CONFLICT (x) DO UPDATE SET x = EXCLUDED.x", qualified(probe)));
    c->exec("DROP TABLE " + qualified(probe));
    out.push_back(check_pass("destination writable", "created, wrote and dropped " + schema_ + "." + probe));
  } catch (const std::exception& e) {
    out.push_back(check_fail("destination writable", e.what(), "grant the peer's user CREATE and INSERT/UPDATE/DELETE "
                                                               "in schema " + schema_));
  }
  try {
    c->exec("SET session_replication_role = replica");
    out.push_back(check_pass("destination triggers and foreign keys",
                             "session_replication_role = replica: they do not fire on replicated rows"));
  } catch (const std::exception& e) {
    out.push_back(check_warn("destination triggers and foreign keys",
                             "the peer's user cannot set session_replication_role = replica: triggers and foreign "
                             "key checks of the destination tables fire on replicated rows",
                             "use a superuser for the destination peer, or tables without triggers and foreign keys"));
  }
  if (!new_pipe) return;
  for (const auto& m : pipe.tables) {
    std::string name = m.destination.empty() ? split_qualified(m.source).name : m.destination;
    try {
      PgResult r = c->exec_params("SELECT to_regclass($1) IS NOT NULL", {qualified(name)});
      if (r.get(0, 0) != "t") continue;
      if (c->query_value("SELECT EXISTS (SELECT 1 FROM " + qualified(name) + ")") == "t")
        out.push_back(check_warn("destination table " + name, qualified(name) + " already holds rows",
                                 "rows with the source's keys are overwritten, others stay: empty the table first "
                                 "for an exact copy"));
    } catch (const std::exception& e) {
      out.push_back(check_warn("destination table " + name, e.what(), ""));
    }
  }
}

std::unique_ptr<TableDigester> PgDestination::digester(const TableSchema&, const DestinationTable& table) {
  return std::make_unique<PgTableDigester>(
      peer_, schema_, table.name, has_soft_delete(table.name) ? "NOT " + quote_pg_ident(kSoftDeleteColumn) : "");
}

}  // namespace ferry::postgres

#include "connectors/clickhouse/clickhouse_destination.h"
#include "connectors/clickhouse/clickhouse_digest.h"

#include <algorithm>
#include <cstdlib>
#include <random>

#include <fmt/format.h>

#include "connectors/clickhouse/rowbinary_encoder.h"
#include "connectors/clickhouse/tsv_answer.h"
#include "connectors/clickhouse/tsv_encoder.h"
#include "core/error.h"
#include "core/ident.h"
#include "core/log.h"
#include "core/check.h"
#include "core/spec.h"

namespace ferry::clickhouse {

namespace {
bool is_ferry_column(std::string_view name) { return name.rfind("_ferry_", 0) == 0; }
}  // namespace

ClickHouseDestination::ClickHouseDestination(const PeerSpec& peer, DestinationOptions options)
    : ClickHouseDestination(http_options(peer), peer.database, options) {}

ClickHouseDestination::ClickHouseDestination(HttpOptions http, std::string database, DestinationOptions options)
    : client_(std::move(http)), database_(database.empty() ? "default" : std::move(database)), options_(options) {}

std::string ClickHouseDestination::server_version() {
  caps_ = Capabilities::from_version(answer_value(client_.query("SELECT version()")));
  return "ClickHouse " + caps_->version;
}

const Capabilities& ClickHouseDestination::capabilities() {
  if (!caps_) server_version();
  return *caps_;
}

TablePlan ClickHouseDestination::plan(const TableSchema& source, const DestinationTable& table) {
  return plan_table(source, table, database_, capabilities());  // sets every column's on_unrepresentable
}

void ClickHouseDestination::ensure_table(const TableSchema& source, const DestinationTable& table) {
  TablePlan p = plan(source, table);
  if (!database_ready_) {
    client_.query(create_database_sql(database_));
    database_ready_ = true;
  }
  client_.query(create_table_sql(p, capabilities(), options_.remove_deleted_rows));

  // CREATE TABLE IF NOT EXISTS keeps an older table as it is: it must still take the rows.
  std::vector<ExistingColumn> existing = table_columns(p.table);
  std::string missing;
  for (const auto& c : p.columns) {
    bool found = false;
    for (const auto& e : existing) found |= e.name == c.name;
    if (!found) missing += (missing.empty() ? "" : ", ") + c.name;
  }
  if (!missing.empty())
    throw permanent_error("ClickHouse table " + database_ + "." + p.table + " (for " + p.source +
                          ") already exists without column(s) " + missing + "; drop it or resync the table");
  spdlog::debug("clickhouse: table {}.{} ready for {}", database_, p.table, p.source);
  remember_plan(p, source);
  ApplyTable& at = apply_tables_[p.table];
  at.existing = std::move(existing);
  at.columns_loaded = true;
}

int64_t ClickHouseDestination::load_snapshot(const TableSchema& source, const DestinationTable& table,
                                             CopyStream& rows, uint64_t version) {
  TablePlan p = plan(source, table);
  RowBinaryEncoder encoder(p);
  encoder.set_row_trailer(version, false);  // _ferry_version, _ferry_is_deleted = 0
  std::vector<std::string> names;
  for (const auto& c : p.columns) names.push_back(c.name);
  std::string chunk;
  int64_t written = 0;
  client_.insert_stream(
      apply_insert_sql(database_, p.table, names, "RowBinary"),  // source columns, _ferry_version, _ferry_is_deleted
      [&](std::string& out) {
        for (;;) {
          chunk.clear();
          if (!rows.next_chunk(chunk)) return false;
          // Straight into the piece: should encode() throw, insert_stream drops the piece
          // (with its partial row) and sends the abort body instead.
          written += static_cast<int64_t>(encoder.encode(chunk, out));
          if (!out.empty()) return true;
        }
      },
      // If the source or the encoder fails, the body ends with a byte that cannot complete a
      // row, so the INSERT is rejected rather than committed.
      RowBinaryEncoder::kAbortBody);
  note_unrepresentable(p.table, encoder);
  return written;
}

void ClickHouseDestination::check_table(const TableSchema& source, const DestinationTable& table) {
  plan(source, table);
}

std::vector<std::pair<std::string, std::string>> ClickHouseDestination::narrower_columns(
    const TableSchema& source, const DestinationTable& table) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& c : plan(source, table).columns)
    if (narrower_than_source(c)) out.emplace_back(c.name, c.type);
  return out;
}

bool ClickHouseDestination::value_fits(const TableSchema& source, const DestinationTable& table,
                                       const std::string& column, const std::string& value) {
  TablePlan p = plan(source, table);
  for (auto& c : p.columns) c.on_unrepresentable = OnUnrepresentable::Fail;
  RowBinaryEncoder encoder(p);
  for (size_t i = 0; i < p.columns.size(); ++i) {
    if (p.columns[i].name != column) continue;
    std::string out;
    try {
      encoder.encode_value(i, value, out);
      return true;
    } catch (const Error&) {
      return false;
    }
  }
  return true;
}

void ClickHouseDestination::note_unrepresentable(const std::string& table, RowBinaryEncoder& encoder) {
  const std::vector<int64_t>& counts = encoder.unrepresentable_counts();
  bool any = false;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    any = true;
    const ClickHouseColumn& c = encoder.column(i);
    auto it = std::find_if(unrepresentable_.begin(), unrepresentable_.end(), [&](const UnrepresentableCount& u) {
      return u.table == table && u.column == c.name;
    });
    if (it == unrepresentable_.end()) {
      unrepresentable_.push_back({table, c.name, 0, encoder.first_unrepresentable(i)});
      it = unrepresentable_.end() - 1;
    }
    it->count += counts[i];
    if (warned_.insert(table + "\n" + c.name).second)
      spdlog::warn("clickhouse: {}.{}: column {} ({} as {}) got value(s) ClickHouse cannot hold, first '{}': written "
                   "under on_unrepresentable: {}",
                   database_, table, c.name, c.source_type, c.type, encoder.first_unrepresentable(i),
                   to_string(c.on_unrepresentable));
  }
  if (any) encoder.reset_unrepresentable();
}

std::vector<UnrepresentableCount> ClickHouseDestination::take_unrepresentable() {
  std::vector<UnrepresentableCount> out;
  out.swap(unrepresentable_);
  return out;
}

int64_t ClickHouseDestination::delete_stale_rows(const DestinationTable& table, uint64_t version) {
  std::string engine = table_engine(table.name);
  if (engine.find("Replacing") == std::string::npos) return 0;
  const std::string t = qualified_name(database_, table.name);
  const std::string older = quote_backtick_ident(kVersionColumn) + " < " + std::to_string(version);
  // Any row below the version, live or not: without such rows there is nothing to do,
  // and this needs no FINAL (a freshly loaded table has none).
  if (answer_value(client_.query("SELECT count() FROM " + t + " WHERE " + older + " FORMAT TabSeparated")) == "0")
    return 0;
  const std::string live_older = "SELECT count() FROM " + t + " FINAL WHERE " +
                                 quote_backtick_ident(kIsDeletedColumn) + " = 0 AND " + older + " FORMAT TabSeparated";
  int64_t stale = std::strtoll(answer_value(client_.query(live_older)).c_str(), nullptr, 10);
  if (stale == 0) return 0;
  std::vector<std::string> cols;
  for (const auto& e : table_columns(table.name))
    if (!is_ferry_column(e.name)) cols.push_back(e.name);
  client_.query(stale_rows_sql(database_, table.name, cols, version));
  spdlog::info("clickhouse: {}.{}: {} row(s) the new load did not have marked deleted (version {})", database_,
               table.name, stale, version);
  return stale;
}

uint64_t ClickHouseDestination::max_version(const DestinationTable& table) {
  if (table_engine(table.name).empty()) return 0;
  std::string answer = answer_value(client_.query("SELECT max(" + quote_backtick_ident(kVersionColumn) + ") FROM " +
                                               qualified_name(database_, table.name) + " FORMAT TabSeparated"));
  return answer.empty() ? 0 : std::strtoull(answer.c_str(), nullptr, 10);
}

std::string ClickHouseDestination::table_engine(const std::string& table) {
  return answer_value(client_.query("SELECT engine FROM system.tables WHERE database = " + quote_ch_literal(database_) +
                                 " AND name = " + quote_ch_literal(table) + " FORMAT TabSeparated"));
}

int64_t ClickHouseDestination::count_rows(const DestinationTable& table) {
  std::string engine = table_engine(table.name);
  if (engine.empty()) throw permanent_error("ClickHouse table " + database_ + "." + table.name + " does not exist");
  bool replacing = engine.find("Replacing") != std::string::npos;
  std::string sql = "SELECT count() FROM " + qualified_name(database_, table.name) + (replacing ? " FINAL" : "") +
                    " WHERE " + quote_backtick_ident(kIsDeletedColumn) + " = 0";
  std::string answer = answer_value(client_.query(sql));
  char* end = nullptr;
  long long n = std::strtoll(answer.c_str(), &end, 10);
  if (answer.empty() || *end != '\0')
    throw permanent_error("unexpected answer to count(): '" + answer.substr(0, 100) + "'");
  return n;
}

void ClickHouseDestination::drop_table(const std::string& table) {
  client_.query("DROP TABLE IF EXISTS " + qualified_name(database_, table));
}

bool ClickHouseDestination::table_exists(const std::string& table) { return !table_engine(table).empty(); }

void ClickHouseDestination::truncate_table(const std::string& table) {
  if (table_exists(table)) client_.query("TRUNCATE TABLE " + qualified_name(database_, table));
}

void ClickHouseDestination::swap_table(const std::string& staged, const std::string& target) {
  if (!table_exists(target)) {
    rename_table(staged, target);
    return;
  }
  const std::string old = "ferry_old_" + target;
  drop_table(old);
  client_.query("RENAME TABLE " + qualified_name(database_, target) + " TO " + qualified_name(database_, old) + ", " +
                qualified_name(database_, staged) + " TO " + qualified_name(database_, target));
  drop_table(old);
}

void ClickHouseDestination::rename_table(const std::string& from, const std::string& to) {
  client_.query("RENAME TABLE " + qualified_name(database_, from) + " TO " + qualified_name(database_, to));
}

std::vector<ExistingColumn> ClickHouseDestination::table_columns(const std::string& table) {
  auto rows = tsv_rows(client_.query("SELECT name, type, is_in_sorting_key FROM system.columns WHERE database = " +
                                     quote_ch_literal(database_) + " AND table = " + quote_ch_literal(table) +
                                     " FORMAT TabSeparated"));
  std::vector<ExistingColumn> out;
  for (auto& row : rows) {
    if (row.size() < 3) continue;
    out.push_back({std::move(row[0]), std::move(row[1]), row[2] == "1"});
  }
  return out;
}

std::string ClickHouseDestination::database_engine() {
  return answer_value(client_.query("SELECT engine FROM system.databases WHERE name = " + quote_ch_literal(database_) +
                                 " FORMAT TabSeparated"));
}

// ---------------------------------------------------------------------------------------
// Change data capture

namespace {

constexpr size_t kLookupKeysPerQuery = 2000;
// Tables whose ORDER BY does not start with the key: every lookup query reads the key
// columns of the whole table, so they take many more keys per query.
constexpr size_t kLookupKeysPerScan = 100000;
constexpr size_t kInsertPieceBytes = size_t(1) << 20;

}  // namespace

void ClickHouseDestination::remember_plan(const TablePlan& plan, const TableSchema& source) {
  ApplyTable& at = apply_tables_[plan.table];
  at.plan = plan;
  at.key_names = source.key_columns();
  at.ready = false;
}

void ClickHouseDestination::add_missing_columns(const TableSchema& source, const DestinationTable& table) {
  TablePlan p = plan(source, table);
  std::vector<ExistingColumn> existing = table_columns(p.table);
  if (existing.empty()) {  // not created yet: create it whole
    ensure_table(source, table);
    return;
  }
  // Source columns that were dropped are kept here: old rows keep their values, rows
  // written from now on get NULL (or the type's default) in them.
  std::string after;  // new columns go after the last source column, before _ferry_*
  for (const auto& e : existing)
    if (!is_ferry_column(e.name)) after = e.name;
  bool added = false;
  for (const auto& c : p.columns) {
    bool found = std::any_of(existing.begin(), existing.end(), [&](const ExistingColumn& e) { return e.name == c.name; });
    if (found) continue;
    std::string sql = add_column_sql(database_, p.table, c, after);
    try {
      client_.query(sql);
    } catch (const Error& e) {
      if (e.transient()) throw;
      // Added meanwhile by someone else (18.16 has no ADD COLUMN IF NOT EXISTS)?
      std::vector<ExistingColumn> now = table_columns(p.table);
      if (!std::any_of(now.begin(), now.end(), [&](const ExistingColumn& x) { return x.name == c.name; })) throw;
    }
    spdlog::info("clickhouse: added column {} to {}.{} (source {} gained it)", c.name, database_, p.table, p.source);
    after = c.name;
    added = true;
  }
  remember_plan(p, source);
  ApplyTable& at = apply_tables_[p.table];
  if (added) existing = table_columns(p.table);
  at.existing = std::move(existing);
  at.columns_loaded = true;
}

ClickHouseDestination::ApplyTable& ClickHouseDestination::prepare_apply(const ChangeTable& ct) {
  ApplyTable& at = apply_tables_[ct.destination];
  if (at.ready && at.layout == ct.columns) return at;
  at.ready = false;
  auto find = [&](const std::string& name) -> const ExistingColumn* {
    for (const auto& e : at.existing)
      if (e.name == name) return &e;
    return nullptr;
  };
  auto planned = [&](const std::string& name) -> const ClickHouseColumn* {
    if (!at.plan) return nullptr;
    for (const auto& c : at.plan->columns)
      if (c.name == name) return &c;
    return nullptr;
  };
  if (!at.columns_loaded) {
    at.existing = table_columns(ct.destination);
    at.columns_loaded = true;
  }
  if (at.existing.empty())
    throw permanent_error("ClickHouse table " + database_ + "." + ct.destination + " (for " + ct.source +
                          ") does not exist");
  // A column the batch carries but the table lacks: add it when the source schema is known.
  for (const auto& name : ct.columns) {
    if (find(name)) continue;
    const ClickHouseColumn* c = planned(name);
    if (!c)
      throw permanent_error("ClickHouse table " + database_ + "." + ct.destination + " has no column " + name +
                            " that changes of " + ct.source + " carry");
    std::string after;
    for (const auto& e : at.existing)
      if (!is_ferry_column(e.name)) after = e.name;
    client_.query(add_column_sql(database_, ct.destination, *c, after));
    at.existing = table_columns(ct.destination);
  }

  TablePlan layout;
  layout.source = ct.source;
  layout.database = database_;
  layout.table = ct.destination;
  at.types.clear();
  bool fallback = false;
  for (const auto& name : ct.columns) {
    const ExistingColumn* e = find(name);
    if (const ClickHouseColumn* c = planned(name)) {
      ClickHouseColumn col = *c;
      col.type = e->type;  // the table as it is (e.g. a column added as Nullable)
      col.nullable = is_nullable_type(e->type);
      layout.columns.push_back(std::move(col));
    } else {
      layout.columns.push_back(column_from_clickhouse_type(name, e->type, capabilities()));
      fallback = true;
    }
    at.types.push_back(e->type);
  }
  if (fallback)
    spdlog::warn("clickhouse: source schema of {} not known; converting its values by the ClickHouse column types",
                 ct.source);

  at.key.clear();
  if (at.plan) {
    // The destination deduplicates by the source's primary key (ORDER BY), which may
    // differ from the replica identity the stream flags (REPLICA IDENTITY FULL / INDEX).
    for (const auto& k : at.key_names) {
      auto it = std::find(ct.columns.begin(), ct.columns.end(), k);
      if (it == ct.columns.end())
        throw permanent_error("changes of " + ct.source + " lack key column " + k);
      at.key.push_back(static_cast<uint32_t>(it - ct.columns.begin()));
    }
  } else {
    at.key = ct.key;
  }
  if (at.key.empty())
    spdlog::warn("clickhouse: {} has no key: its changes are appended to {}.{} and cannot replace earlier rows",
                 ct.source, database_, ct.destination);
  // ORDER BY columns besides the key: a key whose values there change moves to another
  // ORDER BY tuple, where ReplacingMergeTree does not replace its old row.
  at.order.clear();
  if (!at.key.empty()) {
    for (const auto& e : at.existing) {
      if (!e.in_sorting_key || is_ferry_column(e.name)) continue;
      auto it = std::find(ct.columns.begin(), ct.columns.end(), e.name);
      if (it == ct.columns.end()) {
        spdlog::warn("clickhouse: ORDER BY column {} of {}.{} is not in the changes of {}: rows whose value there "
                     "changed cannot be found under their old ORDER BY",
                     e.name, database_, ct.destination, ct.source);
        continue;
      }
      uint32_t j = static_cast<uint32_t>(it - ct.columns.begin());
      if (std::find(at.key.begin(), at.key.end(), j) == at.key.end()) at.order.push_back(j);
    }
  }
  at.encoder = std::make_unique<RowBinaryEncoder>(layout);
  at.key_encoder = std::make_unique<TsvEncoder>(layout);
  at.insert_sql = apply_insert_sql(database_, ct.destination, ct.columns, "RowBinary");
  at.lookup_sql = at.key.empty() ? std::string() : lookup_sql(database_, ct.destination, ct.columns, at.types, at.key);
  at.layout = ct.columns;
  at.ready = true;
  return at;
}

void ClickHouseDestination::lookup_rows(ApplyTable& at) {
  const std::vector<uint32_t>& wanted = merger_.lookups();
  lookup_.reset(merger_.states(), *at.encoder);
  const std::string structure = lookup_structure(at.key.size());
  const size_t per_query = at.order.empty() ? kLookupKeysPerQuery : kLookupKeysPerScan;
  for (size_t i = 0; i < wanted.size(); i += per_query) {
    keys_.clear();
    size_t end = std::min(wanted.size(), i + per_query);
    for (size_t k = i; k < end; ++k) append_lookup_key(merger_, wanted[k], at.key, *at.key_encoder, scratch_, keys_);
    lookup_.add_answer(client_.query_with_table(at.lookup_sql, kLookupTable, structure, keys_));
  }
  stats_.keys_looked_up += wanted.size();
  for (uint32_t s : wanted) stats_.keys_found += lookup_.found(s) ? 1 : 0;
}

void ClickHouseDestination::apply_table(const ChangeBatch& batch, uint32_t t) {
  const ChangeTable& ct = batch.tables[t];
  ApplyTable& at = prepare_apply(ct);
  const bool ordered = !at.order.empty();  // every key looked up, moves between tuples handled
  merger_.merge(batch, t, at.key, ordered);
  const bool lookup = !merger_.lookups().empty();
  if (lookup) lookup_rows(at);  // before anything of the batch is written
  at.encoder->reset_unrepresentable();  // counts of an earlier attempt that failed

  size_t unknown = 0;
  std::optional<uint64_t> truncated;  // version of the last truncate written so far
  for (const auto& step : merger_.steps()) {
    if (step.last > step.first) {
      size_t next = step.first;
      OrderedCounts counts;
      client_.insert_stream(
          at.insert_sql,
          [&](std::string& out) {
            if (next >= step.last) return false;
            while (next < step.last && out.size() < kInsertPieceBytes) {
              const ChangeMerger::Output& o = merger_.outputs()[next++];
              if (ordered) {
                encode_output_ordered(batch, merger_, o, lookup_, at.order, truncated, *at.encoder, scratch_, out,
                                      counts);
              } else {
                unknown += encode_output(batch, merger_, o, lookup ? &lookup_ : nullptr, *at.encoder, out);
                ++counts.rows;
              }
            }
            return true;
          },
          RowBinaryEncoder::kAbortBody);
      note_unrepresentable(ct.destination, *at.encoder);  // committed
      unknown += counts.unknown;
      stats_.rows_written += counts.rows;
      stats_.order_soft_deletes += counts.soft_deletes;
      stats_.stale_rows += counts.stale;
    }
    if (step.truncate) {
      if (at.key.empty()) {
        spdlog::warn("clickhouse: truncate of {} not applied to {}.{}: the table has no key to soft-delete by",
                     ct.source, database_, ct.destination);
        continue;
      }
      // Every column of the table as it is now (also ones the source dropped), so the
      // soft-deleted rows keep all their values. Truncates are rare: read them afresh.
      at.existing = table_columns(ct.destination);
      std::vector<std::string> cols;
      for (const auto& e : at.existing)
        if (!is_ferry_column(e.name)) cols.push_back(e.name);
      client_.query(truncate_sql(database_, ct.destination, cols, step.version));
      ++stats_.truncates;
      truncated = step.version;
    }
  }
  stats_.unknown_cells += unknown;
  stats_.skipped_rows += merger_.skipped_rows();
  if (unknown)
    spdlog::warn("clickhouse: {} value(s) of {} were unknown (unchanged or absent in the change, and the row is not in "
                 "{}.{}): written as NULL or the type's default",
                 unknown, ct.source, database_, ct.destination);
  if (merger_.skipped_rows())
    spdlog::warn("clickhouse: {} change(s) of {} skipped: their key was not sent by the source", merger_.skipped_rows(),
                 ct.source);
}

void ClickHouseDestination::apply_changes(const ChangeBatch& batch) {
  stats_ = {};
  std::vector<uint8_t> has_rows(batch.tables.size(), 0);
  for (const auto& r : batch.rows) has_rows[r.table] = 1;
  for (uint32_t t = 0; t < batch.tables.size(); ++t)
    if (has_rows[t]) apply_table(batch, t);
}

void ClickHouseDestination::precheck(const PipeSpec& pipe, bool new_pipe, std::vector<CheckResult>& out) {
  const std::string& endpoint = client_.endpoint();
  std::string version;
  try {
    version = server_version();
    out.push_back(check_pass("destination connectivity", "connected to " + endpoint));
  } catch (const std::exception& e) {
    std::string why = e.what();
    if (why.find(endpoint) == std::string::npos) why = "cannot reach ClickHouse at " + endpoint + ": " + why;
    out.push_back(check_fail("destination connectivity", why,
                             "check that ClickHouse runs there and the peer's url, user and password_env"));
    for (const char* d : {"destination version", "destination create", "destination writable"})
      out.push_back(check_fail(d, "not connected", ""));
    return;
  }
  out.push_back(check_pass("destination version", version));

  const std::string db = database_;
  bool created_db = false;
  try {
    bool exists = !answer_value(client_.query("SELECT name FROM system.databases WHERE name = " + quote_ch_literal(db) +
                                           " FORMAT TabSeparated"))
                       .empty();
    if (!exists) {
      client_.query(create_database_sql(db));
      created_db = true;
    }
    out.push_back(check_pass("destination create",
                             exists ? "database " + db + " exists" : "database " + db + " can be created"));
  } catch (const std::exception& e) {
    out.push_back(check_fail("destination create", "cannot create database " + db + ": " + e.what(),
                             "grant the peer's user CREATE DATABASE / CREATE TABLE (or create the database first) "
                             "and make sure the user is not readonly"));
    out.push_back(check_fail("destination writable", "database " + db + " is not available", ""));
    return;
  }

  std::mt19937_64 rng{std::random_device{}()};
  std::string probe = fmt::format("ferry_precheck_{:016x}", rng());
  std::string qname = qualified_name(db, probe);
  try {
    client_.query("CREATE TABLE " + qname + " (x UInt8) ENGINE = MergeTree ORDER BY tuple()");
    client_.query("INSERT INTO " + qname + " VALUES (1)");
    client_.query("DROP TABLE " + qname);
    out.push_back(check_pass("destination writable", "created, wrote and dropped " + db + "." + probe));
  } catch (const std::exception& e) {
    try {
      client_.query("DROP TABLE IF EXISTS " + qname);
    } catch (...) {
    }
    out.push_back(check_fail("destination writable", e.what(),
                             "grant the peer's user CREATE TABLE, INSERT and DROP on database " + db +
                                 " and check that the server is not read-only (disk space, readonly setting)"));
  }
  if (created_db) {
    try {
      client_.query("DROP DATABASE IF EXISTS " + quote_backtick_ident(db));
    } catch (...) {
    }
  }

  if (!new_pipe) return;
  for (const auto& t : pipe.tables) {
    std::string name = t.destination.empty() ? split_qualified(t.source).name : t.destination;
    std::string check = "destination table " + name + " empty";
    try {
      std::string engine = table_engine(name);
      if (engine.empty()) {
        out.push_back(check_pass(check, "does not exist yet"));
        continue;
      }
      std::string n = answer_value(client_.query("SELECT count() FROM " + qualified_name(db, name)));
      if (n == "0") {
        out.push_back(check_pass(check, "exists and is empty"));
      } else {
        out.push_back(check_warn(check, fmt::format("{}.{} already holds {} rows and the pipe is new", db, name, n),
                                 "truncate or drop the table if its rows are not from this source (rows with the "
                                 "same key are replaced, others stay), or confirm with --confirm"));
      }
    } catch (const std::exception& e) {
      out.push_back(check_fail(check, e.what(), "see the reason"));
    }
  }
}

std::unique_ptr<TableDigester> ClickHouseDestination::digester(const TableSchema& source, const DestinationTable& table) {
  return std::make_unique<ClickHouseTableDigester>(*this, source, plan(source, table));
}

}  // namespace ferry::clickhouse

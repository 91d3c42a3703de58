#include "connectors/postgres/pg_source.h"
#include "connectors/postgres/pg_digest.h"

#include <algorithm>
#include <optional>
#include <functional>
#include <sstream>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "connectors/postgres/pg_connection.h"
#include "connectors/postgres/pg_replication.h"
#include "connectors/postgres/replication_protocol.h"
#include "connectors/postgres/pg_types.h"
#include "core/error.h"
#include "core/ident.h"
#include "core/check.h"

namespace ferry {

namespace {

constexpr size_t kChunkBytes = 1 << 20;

std::string qualified(const TableSchema& t) { return quote_pg_ident(t.schema) + "." + quote_pg_ident(t.name); }

class PgSnapshotPoint final : public SnapshotPoint {
 public:
  explicit PgSnapshotPoint(std::unique_ptr<PgConnection> conn) : conn_(std::move(conn)) {
    conn_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    id_ = conn_->query_value("SELECT pg_export_snapshot()");
    // Read after the snapshot was taken: every transaction it sees committed with a
    // commit record below the WAL insert position. (A transaction whose commit record
    // is below it may still be invisible: fine for snapshot-only loads, which only need
    // a reload to be newer than the earlier loads; see open_snapshot.)
    position_ = parse_lsn(conn_->query_value("SELECT pg_current_wal_insert_lsn()"));
  }
  const std::string& id() const override { return id_; }
  uint64_t position() const override { return position_; }

 private:
  std::unique_ptr<PgConnection> conn_;  // the exported snapshot lives as long as this transaction
  std::string id_;
  uint64_t position_ = 0;
};

class PgPartitionStream final : public CopyStream {
 public:
  PgPartitionStream(std::unique_ptr<PgConnection> conn, const std::string& snapshot_id, const std::string& select)
      : conn_(std::move(conn)) {
    conn_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (!snapshot_id.empty()) conn_->exec("SET TRANSACTION SNAPSHOT " + quote_pg_literal(snapshot_id));
    conn_->start_copy_out("COPY (" + select + ") TO STDOUT");
  }

  bool next_chunk(std::string& out) override {
    if (done_) return false;
    size_t start = out.size();
    int len = 0;
    while (out.size() - start < kChunkBytes) {
      const char* row = conn_->get_copy_row(len);
      if (!row) {
        done_ = true;
        conn_->exec("COMMIT");
        break;
      }
      out.append(row, static_cast<size_t>(len));
    }
    return out.size() > start;
  }

 private:
  std::unique_ptr<PgConnection> conn_;
  bool done_ = false;
};

// Partition ranges: "all", "ctid:START:END" (block numbers) or "key:START:END"
// (values of a single integer key column); an empty bound is open.
struct Range {
  enum Kind { All, Ctid, Key } kind = All;
  std::optional<long long> start, end;
};
Range parse_range(const std::string& range) {
  Range r;
  if (range == "all") return r;
  auto bad = [&] { return Error(ErrorKind::Permanent, "unknown partition range '" + range + "'"); };
  if (range.rfind("ctid:", 0) == 0) r.kind = Range::Ctid;
  else if (range.rfind("key:", 0) == 0) r.kind = Range::Key;
  else throw bad();
  size_t first = range.find(':') + 1, second = range.find(':', first);
  if (second == std::string::npos) throw bad();
  std::string a = range.substr(first, second - first), b = range.substr(second + 1);
  try {
    if (!a.empty()) r.start = std::stoll(a);
    if (!b.empty()) r.end = std::stoll(b);
  } catch (const std::exception&) {
    throw bad();
  }
  return r;
}

bool integer_type(LogicalType t) {
  return t == LogicalType::Int16 || t == LogicalType::Int32 || t == LogicalType::Int64;
}

}  // namespace

PgSource::PgSource(PeerSpec peer) : peer_(std::move(peer)) {}
PgSource::~PgSource() = default;

PgConnection& PgSource::meta() {
  if (!meta_) meta_ = PgConnection::open(peer_);
  return *meta_;
}

std::string PgSource::server_version() { return "PostgreSQL " + meta().query_value("SHOW server_version"); }

TableSchema PgSource::describe(const std::string& table) {
  QualifiedName qn = split_qualified(table);
  TableSchema t;
  t.schema = qn.schema;
  t.name = qn.name;
  PgConnection& c = meta();
  PgResult rel = c.exec_params(
      "SELECT c.oid, c.relkind, c.relpages, c.reltuples::bigint, c.relreplident, pg_total_relation_size(c.oid) "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 "
      "AND c.relkind IN ('r','p','v','m','f')",
      {qn.schema, qn.name});
  if (rel.rows() == 0)
    throw Error(ErrorKind::Permanent, fmt::format("source table {} does not exist (schema \"{}\", table \"{}\")",
                                                  t.display_name(), qn.schema, qn.name));
  std::string oid = rel.get(0, 0);
  std::string relkind = rel.get(0, 1);
  t.pages = std::stoll(rel.get(0, 2));
  t.estimated_rows = std::max<long long>(0, std::stoll(rel.get(0, 3)));
  t.replica_identity = rel.get(0, 4);
  t.estimated_bytes = std::stoll(rel.get(0, 5));

  PgResult cols = c.exec_params(
      "SELECT a.attname, "
      "  format_type(coalesce(bt.oid, t.oid), CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END), "
      "  coalesce(bt.typtype, t.typtype), "
      "  CASE WHEN coalesce(bt.typcategory, t.typcategory) = 'A' "
      "       THEN format_type(et.oid, CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END) END, "
      "  coalesce(ebt.typtype, et.typtype), NOT a.attnotnull, a.attnum "
      "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
      "LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype "
      "LEFT JOIN pg_type et ON et.oid = coalesce(bt.typelem, t.typelem) "
      "  AND coalesce(bt.typcategory, t.typcategory) = 'A' "
      "LEFT JOIN pg_type ebt ON et.typtype = 'd' AND ebt.oid = et.typbasetype "
      "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      {oid});
  std::vector<std::string> attnums;
  for (int i = 0; i < cols.rows(); ++i) {
    Column col;
    col.name = cols.get(i, 0);
    PgTypeInfo info;
    info.type_text = cols.get(i, 1);
    info.typtype = cols.get(i, 2).empty() ? 'b' : cols.get(i, 2)[0];
    if (!cols.is_null(i, 3)) {
      info.element_text = cols.get(i, 3);
      // format_type of an array keeps "[]" off the element; strip a stray one.
      info.element_typtype = cols.get(i, 4).empty() ? 'b' : cols.get(i, 4)[0];
    }
    map_pg_type(info, col);
    col.nullable = cols.get(i, 5) == "t";
    t.columns.push_back(std::move(col));
    attnums.push_back(cols.get(i, 6));
  }

  // Key: the primary key, else the replica identity index.
  PgResult key = c.exec_params(
      "SELECT i.indkey::text FROM pg_index i WHERE i.indrelid = $1::oid AND (i.indisprimary OR i.indisreplident) "
      "ORDER BY i.indisprimary DESC LIMIT 1",
      {oid});
  if (key.rows() > 0) {
    std::istringstream in(key.get(0, 0));
    std::string attnum;
    int pos = 0;
    while (in >> attnum) {
      ++pos;
      for (size_t k = 0; k < attnums.size(); ++k)
        if (attnums[k] == attnum) t.columns[k].key_position = pos;
    }
  }
  if (relkind != "r" && relkind != "m") t.pages = -1;  // no ctid partitioning
  return t;
}

void PgSource::check_readable(const TableSchema& table) {
  std::string ok = meta().exec_params("SELECT has_table_privilege(format('%I.%I', $1::text, $2::text), 'SELECT')",
                                      {table.schema, table.name})
                       .get(0, 0);
  if (ok != "t") {
    std::string user = meta().query_value("SELECT current_user");
    throw Error(ErrorKind::Permanent, fmt::format("permission denied: PostgreSQL user \"{}\" has no SELECT privilege "
                                                  "on source table {} (GRANT SELECT ON {} TO {})",
                                                  user, table.display_name(), qualified(table), quote_pg_ident(user)));
  }
}

std::pair<std::optional<std::string>, std::optional<std::string>> PgSource::column_min_max(const TableSchema& table,
                                                                                         const std::string& column) {
  // PostgreSQL orders -infinity/infinity (dates) and -Infinity/Infinity/NaN (numeric)
  // at the ends, so min and max show the values a narrower type cannot hold.
  std::string c = quote_pg_ident(column);
  PgResult r = meta().exec("SELECT min(" + c + ")::text, max(" + c + ")::text FROM " + qualified(table));
  auto at = [&](int i) -> std::optional<std::string> {
    if (r.rows() == 0 || r.is_null(0, i)) return std::nullopt;
    return r.get(0, i);
  };
  return {at(0), at(1)};
}

std::unique_ptr<SnapshotPoint> PgSource::open_snapshot(bool exact_position, int /*readers*/) {
  if (exact_position) return std::make_unique<PgSlotSnapshot>(peer_, pg_temporary_slot_name(), /*temporary=*/true);
  return std::make_unique<PgSnapshotPoint>(PgConnection::open(peer_));
}

std::vector<std::string> PgSource::plan_partitions(const TableSchema& table, int64_t rows_per_partition) {
  PgConnection& c = meta();
  std::string rel = qualified(table);
  if (table.pages < 0) return plan_key_ranges(table, rows_per_partition);
  long long blocks = std::stoll(c.exec_params(
      "SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint", {rel}).get(0, 0));
  if (blocks <= 1) return {"ctid:0:"};
  // Rows per block from statistics, or from a sample of the first blocks when never analysed.
  double rows_per_block = 0;
  if (table.pages > 0 && table.estimated_rows > 0) rows_per_block = double(table.estimated_rows) / double(table.pages);
  if (rows_per_block <= 0) {
    long long sample = std::min<long long>(blocks, 16);
    long long n = std::stoll(c.query_value(fmt::format("SELECT count(*) FROM {} WHERE ctid < '({},0)'::tid", rel, sample)));
    rows_per_block = std::max(1.0, double(n) / double(sample));
  }
  long long per = std::max<long long>(1, static_cast<long long>(double(rows_per_partition) / rows_per_block));
  std::vector<std::string> ranges;
  for (long long start = 0; start < blocks; start += per) {
    bool last = start + per >= blocks;
    // The last range is open so that rows in blocks added since planning are read too.
    ranges.push_back(last ? fmt::format("ctid:{}:", start) : fmt::format("ctid:{}:{}", start, start + per));
  }
  return ranges;
}

// Relations without ctid ranges (partitioned tables, views, foreign tables):
// ranges of a single integer key, the first and last open-ended; else one range.
std::vector<std::string> PgSource::plan_key_ranges(const TableSchema& table, int64_t rows_per_partition) {
  std::vector<std::string> key = table.key_columns();
  if (key.size() != 1 || !integer_type(table.find(key[0])->type)) return {"all"};
  PgConnection& c = meta();
  std::string rel = qualified(table);
  // Row estimate: the relation's own, else the sum over a partitioned table's leaves.
  long long rows = std::stoll(c.exec_params(
      "SELECT greatest(coalesce((SELECT sum(greatest(reltuples, 0)) FROM pg_class WHERE oid IN "
      "(SELECT relid FROM pg_partition_tree($1::regclass) WHERE isleaf)), 0), "
      "(SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = $1::regclass))::bigint", {rel}).get(0, 0));
  long long parts = rows_per_partition > 0 ? (rows + rows_per_partition - 1) / rows_per_partition : 1;
  if (parts <= 1) return {"all"};
  std::string k = quote_pg_ident(key[0]);
  PgResult mm = c.exec(fmt::format("SELECT min({0}), max({0}) FROM {1}", k, rel));
  if (mm.is_null(0, 0)) return {"all"};
  long long lo = std::stoll(mm.get(0, 0)), hi = std::stoll(mm.get(0, 1));
  // 128-bit arithmetic: the key may span the whole bigint range.
  __int128 width = ((__int128)hi - lo) / parts + 1;
  std::vector<std::string> ranges;
  for (__int128 start = lo; start <= hi; start += width) {
    bool first = start == lo, last = hi - start < width;
    ranges.push_back(fmt::format("key:{}:{}", first ? "" : std::to_string((long long)start),
                                 last ? "" : std::to_string((long long)(start + width))));
    if (last) break;
  }
  return ranges;
}

std::string PgSource::partition_query(const TableSchema& projected, const std::string& range) {
  std::string cols;
  for (const auto& col : projected.columns) {
    if (!cols.empty()) cols += ", ";
    cols += quote_pg_ident(col.name);
  }
  std::string sql = "SELECT " + cols + " FROM " + qualified(projected);
  Range r = parse_range(range);
  std::vector<std::string> conds;
  if (r.kind == Range::Ctid) {
    if (r.start) conds.push_back(fmt::format("ctid >= '({},0)'::tid", *r.start));
    if (r.end) conds.push_back(fmt::format("ctid < '({},0)'::tid", *r.end));
  } else if (r.kind == Range::Key) {
    std::string key = quote_pg_ident(projected.key_columns().at(0));
    if (r.start) conds.push_back(fmt::format("{} >= {}", key, *r.start));
    if (r.end) conds.push_back(fmt::format("{} < {}", key, *r.end));
  }
  for (size_t i = 0; i < conds.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + conds[i];
  return sql;
}

std::unique_ptr<CopyStream> PgSource::read_partition(const TableSchema& projected, const std::string& range,
                                                     const SnapshotPoint& point) {
  return std::make_unique<PgPartitionStream>(PgConnection::open(peer_), point.id(), partition_query(projected, range));
}

void PgSource::prepare_stream(const std::string& pipe, const std::vector<std::string>& tables) {
  PgReplicationAdmin(peer_).ensure_publication(pg_publication_name(pipe), tables);
}

bool PgSource::stream_exists(const std::string& pipe) {
  return PgReplicationAdmin(peer_).slot(pg_slot_name(pipe)).has_value();
}

std::unique_ptr<SnapshotPoint> PgSource::create_stream(const std::string& pipe, bool with_snapshot, uint64_t& position,
                                                       int /*readers*/) {
  if (!with_snapshot) {
    position = pg_create_slot(peer_, pg_slot_name(pipe));
    return nullptr;
  }
  auto point = std::make_unique<PgSlotSnapshot>(peer_, pg_slot_name(pipe));
  position = point->consistent_point();
  return point;
}

std::unique_ptr<ChangeStream> PgSource::open_stream(const std::string& pipe, uint64_t position) {
  return std::make_unique<PgChangeStream>(peer_, pg_slot_name(pipe), pg_publication_name(pipe), position);
}

void PgSource::drop_stream(const std::string& pipe) {
  PgReplicationAdmin admin(peer_);
  admin.drop_slot(pg_slot_name(pipe));
  admin.drop_publication(pg_publication_name(pipe));
}

int64_t PgSource::stream_lag_bytes(const std::string& pipe) {
  PgResult r = meta().exec_params(
      "SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint "
      "FROM pg_replication_slots WHERE slot_name = $1", {pg_slot_name(pipe)});
  return r.rows() ? std::stoll(r.get(0, 0)) : 0;
}

std::string PgSource::format_position(uint64_t position) const { return format_lsn(position); }
uint64_t PgSource::parse_position(const std::string& text) const { return parse_lsn(text); }

// --- periodic incremental copy ---

CursorProbe PgSource::probe_cursor(const TableSchema& table, const std::string& cursor_column,
                                   const std::optional<std::string>& last) {
  PgConnection& c = meta();
  std::string col = quote_pg_ident(cursor_column), rel = qualified(table);
  CursorProbe out;
  // max() alone (and IS NULL) can use an index on the cursor; the literal takes the column's type.
  PgResult r = last ? c.exec_params(fmt::format("SELECT max({0})::text, max({0}) < $1 FROM {1}", col, rel), {*last})
                    : c.exec(fmt::format("SELECT max({0})::text, false FROM {1}", col, rel));
  if (!r.is_null(0, 0)) out.max = r.get(0, 0);
  out.below_last = r.get(0, 1) == "t";
  const Column* column = table.find(cursor_column);
  if (!column || column->nullable)
    out.null_rows = std::stoll(c.query_value(fmt::format("SELECT count(*) FROM {} WHERE {} IS NULL", rel, col)));
  return out;
}

std::string PgSource::range_query(const TableSchema& projected, const std::string& cursor_column,
                                  const std::optional<std::string>& lower, const std::string& upper) {
  std::string col = quote_pg_ident(cursor_column);
  std::string sql = partition_query(projected, "all") + " WHERE ";
  if (lower) sql += col + " > " + quote_pg_literal(*lower) + " AND ";
  return sql + col + " <= " + quote_pg_literal(upper);
}

std::unique_ptr<CopyStream> PgSource::read_range(const TableSchema& projected, const std::string& cursor_column,
                                                 const std::optional<std::string>& lower, const std::string& upper) {
  return std::make_unique<PgPartitionStream>(PgConnection::open(peer_), "",
                                             range_query(projected, cursor_column, lower, upper));
}

// --- pre-check ---

namespace {

// "host:port" of a conninfo (libpq defaults when absent); never the password.
std::string pg_address(const std::string& dsn) {
  std::string host, port;
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  if (err) PQfreemem(err);
  if (opts) {
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
      if (!o->val) continue;
      if (std::string(o->keyword) == "host" || (std::string(o->keyword) == "hostaddr" && host.empty())) host = o->val;
      if (std::string(o->keyword) == "port") port = o->val;
    }
    PQconninfoFree(opts);
  }
  return (host.empty() ? "localhost" : host) + ":" + (port.empty() ? "5432" : port);
}

}  // namespace

CheckResult PgSource::wal_level_check(const std::string& wal_level) {
  if (wal_level == "logical") return check_pass("source wal_level", "wal_level = logical");
  return check_fail("source wal_level",
                    fmt::format("wal_level = {}; change data capture needs logical", wal_level.empty() ? "?" : wal_level),
                    "set wal_level = logical in postgresql.conf (ALTER SYSTEM SET wal_level = logical) and restart "
                    "PostgreSQL");
}

void PgSource::precheck(const PipeSpec& pipe, std::vector<CheckResult>& out) {
  const bool streams = mode_streams(pipe.mode);
  const std::string address = pg_address(peer_.dsn);
  std::vector<std::string> dependent;
  if (streams)
    dependent = {"source replication privilege", "source wal_level", "source replication slots", "source wal senders",
                 "source publication"};
  int version_num = 0;
  try {
    PgConnection& c = meta();
    version_num = c.server_version_num();
    std::string user = c.query_value("SELECT current_user");
    out.push_back(check_pass("source connectivity", fmt::format("connected to {} as \"{}\"", address, user)));
  } catch (const std::exception& e) {
    meta_.reset();
    out.push_back(check_fail("source connectivity", fmt::format("cannot connect to PostgreSQL at {}: {}", address, e.what()),
                             "check that PostgreSQL runs there, that pg_hba.conf admits this host and user, and the "
                             "peer's dsn and password_env"));
    out.push_back(check_fail("source version", "not connected", ""));
    for (const auto& d : dependent) out.push_back(check_fail(d, "not connected", ""));
    return;
  }
  PgConnection& c = meta();
  // Every check after connecting: a query error becomes that check's failure.
  auto guarded = [&](const std::string& name, const std::function<CheckResult()>& fn) {
    try {
      out.push_back(fn());
    } catch (const std::exception& e) {
      out.push_back(check_fail(name, e.what(), "see the reason; the pre-check query failed"));
    }
  };

  guarded("source version", [&] {
    std::string v = "PostgreSQL " + c.query_value("SHOW server_version");
    if (streams && version_num < 100000)
      return check_fail("source version", v + ": logical replication (pgoutput) needs PostgreSQL 10 or newer",
                        "upgrade PostgreSQL or use mode snapshot / incremental");
    return check_pass("source version", v);
  });
  if (!streams) return;

  guarded("source replication privilege", [&] {
    PgResult r = c.exec("SELECT current_user, rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user");
    std::string user = r.rows() ? r.get(0, 0) : "?";
    if (r.rows() && (r.get(0, 1) == "t" || r.get(0, 2) == "t"))
      return check_pass("source replication privilege",
                        fmt::format("user \"{}\" has {}", user, r.get(0, 2) == "t" ? "superuser" : "REPLICATION"));
    return check_fail("source replication privilege",
                      fmt::format("user \"{}\" has neither the REPLICATION attribute nor superuser", user),
                      fmt::format("ALTER ROLE {} WITH REPLICATION", quote_pg_ident(user)));
  });
  guarded("source wal_level", [&] { return wal_level_check(c.query_value("SHOW wal_level")); });

  guarded("source replication slots", [&] {
    PgResult r = c.exec_params(
        "SELECT current_setting('max_replication_slots')::int, (SELECT count(*) FROM pg_replication_slots), "
        "EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
        {pg_slot_name(pipe.name)});
    int max = std::stoi(r.get(0, 0));
    int used = std::stoi(r.get(0, 1));
    if (r.get(0, 2) == "t")
      return check_pass("source replication slots", fmt::format("the pipe's slot {} exists", pg_slot_name(pipe.name)));
    if (max - used > 0)
      return check_pass("source replication slots", fmt::format("{} of {} free", max - used, max));
    return check_fail("source replication slots", fmt::format("no free replication slot: {} of {} in use", used, max),
                      "drop unused slots (SELECT pg_drop_replication_slot(name) FROM pg_replication_slots WHERE NOT "
                      "active) or raise max_replication_slots and restart PostgreSQL");
  });
  guarded("source wal senders", [&] {
    PgResult r = c.exec(
        "SELECT current_setting('max_wal_senders')::int, "
        "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender')");
    int max = std::stoi(r.get(0, 0));
    int used = std::stoi(r.get(0, 1));
    if (max - used > 0) return check_pass("source wal senders", fmt::format("{} of {} free", max - used, max));
    return check_fail("source wal senders", fmt::format("no free wal sender: {} of {} in use", used, max),
                      "raise max_wal_senders and restart PostgreSQL, or stop other replication connections");
  });
  guarded("source publication", [&] {
    std::string pub = pg_publication_name(pipe.name);
    PgResult r = c.exec_params(
        "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), "
        "has_database_privilege(current_database(), 'CREATE'), "
        "EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)",
        {pub});
    if (r.get(0, 2) == "t") return check_pass("source publication", "publication " + pub + " exists");
    if (r.get(0, 0) == "t") return check_pass("source publication", "superuser can create publication " + pub);
    if (r.get(0, 1) != "t")
      return check_fail("source publication", "no CREATE privilege on the database: publication " + pub +
                                                  " cannot be created",
                        "GRANT CREATE ON DATABASE <db> TO <user>, or create the publication as its owner");
    // CREATE PUBLICATION ... FOR TABLE needs ownership of each table.
    std::string not_owned;
    for (const auto& t : pipe.tables) {
      QualifiedName qn = split_qualified(t.source);
      PgResult o = c.exec_params(
          "SELECT pg_has_role(c.relowner, 'USAGE') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
          "WHERE n.nspname = $1 AND c.relname = $2",
          {qn.schema, qn.name});
      if (o.rows() && o.get(0, 0) != "t") not_owned += (not_owned.empty() ? "" : ", ") + t.source;
    }
    if (!not_owned.empty())
      return check_fail("source publication",
                        "publication " + pub + " cannot be created: the user does not own " + not_owned,
                        "create the publication as the tables' owner (CREATE PUBLICATION " + pub +
                            " FOR TABLE ...), or make the pipe's user the owner");
    return check_pass("source publication", "publication " + pub + " can be created");
  });
}

std::unique_ptr<TableDigester> PgSource::digester(const TableSchema& projected) {
  return std::make_unique<PgTableDigester>(peer_, projected.schema, projected.name);
}

}  // namespace ferry

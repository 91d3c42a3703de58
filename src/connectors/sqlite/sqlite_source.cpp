#include "connectors/sqlite/sqlite_source.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "core/error.h"
#include "core/ident.h"

namespace ferry::sqlite {

namespace {

constexpr size_t kChunkBytes = 1 << 20;

std::string upper_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

Error sqlite_error(sqlite3* db, int rc, const std::string& what) {
  std::string msg = fmt::format("SQLite: {}: {}", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  bool transient = primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR ||
                   primary == SQLITE_NOMEM || primary == SQLITE_INTERRUPT;
  return Error(transient ? ErrorKind::Transient : ErrorKind::Permanent, msg);
}

sqlite3* open_db(const PeerSpec& peer) {
  if (peer.dsn.empty()) throw config_error("sqlite peer " + peer.name + " has no database file (dsn or path)");
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(peer.dsn.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (db) sqlite3_close(db);
    throw Error(ErrorKind::Permanent,
                fmt::format("cannot open the SQLite database {} of peer {}: {}", peer.dsn, peer.name, msg));
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_extended_result_codes(db, 1);
  return db;
}

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &st_, nullptr);
    if (rc != SQLITE_OK) throw sqlite_error(db, rc, "preparing '" + sql.substr(0, 200) + "'");
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  // True while there is a row.
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw sqlite_error(db_, rc, "reading");
  }
  sqlite3_stmt* get() { return st_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

std::string qualified(const TableSchema& t) { return quote_pg_ident(t.schema) + "." + quote_pg_ident(t.name); }

std::string shortest(double d) {
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (std::isnan(d)) return "NaN";
  return fmt::format("{}", d);
}

// The canonical text of one value (unescaped); false for NULL.
bool value_text(sqlite3_stmt* st, int i, const Column& c, std::string& out) {
  out.clear();
  int type = sqlite3_column_type(st, i);
  if (type == SQLITE_NULL) return false;
  if (c.type == LogicalType::Bytes) {
    const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st, i));
    int n = sqlite3_column_bytes(st, i);
    static const char* hex = "0123456789abcdef";
    out = "\\x";
    for (int k = 0; k < n; ++k) {
      out += hex[p[k] >> 4];
      out += hex[p[k] & 15];
    }
    return true;
  }
  if (c.type == LogicalType::Bool) {
    if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
      out = sqlite3_column_double(st, i) != 0 ? "t" : "f";
      return true;
    }
    std::string v = upper_ascii(reinterpret_cast<const char*>(sqlite3_column_text(st, i)));
    if (v == "TRUE" || v == "T" || v == "1" || v == "YES" || v == "Y") out = "t";
    else if (v == "FALSE" || v == "F" || v == "0" || v == "NO" || v == "N") out = "f";
    else out = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
    return true;
  }
  switch (type) {
    case SQLITE_INTEGER: out = std::to_string(sqlite3_column_int64(st, i)); break;
    case SQLITE_FLOAT: out = shortest(sqlite3_column_double(st, i)); break;
    default: {
      const void* p = type == SQLITE_BLOB ? sqlite3_column_blob(st, i) : sqlite3_column_text(st, i);
      int n = sqlite3_column_bytes(st, i);
      if (p) out.assign(static_cast<const char*>(p), static_cast<size_t>(n));
    }
  }
  return true;
}

// Binds a cursor bound with the storage class SQLite compares it by: numbers for
// numeric columns (max(c) < ? has no affinity to convert a text argument), text otherwise.
void bind_cursor(sqlite3_stmt* st, int index, const Column& c, const std::string& value) {
  bool numeric = c.type == LogicalType::Int16 || c.type == LogicalType::Int32 || c.type == LogicalType::Int64 ||
                 c.type == LogicalType::Float32 || c.type == LogicalType::Float64 || c.type == LogicalType::Decimal ||
                 c.type == LogicalType::NumericText;
  if (numeric) {
    int64_t i = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), i);
    if (ec == std::errc() && p == value.data() + value.size()) {
      sqlite3_bind_int64(st, index, i);
      return;
    }
    char* end = nullptr;
    double d = std::strtod(value.c_str(), &end);
    if (!value.empty() && end == value.c_str() + value.size()) {
      sqlite3_bind_double(st, index, d);
      return;
    }
  }
  sqlite3_bind_text(st, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
}

// Rows of one SELECT on a connection of its own, in COPY text framing.
class SqliteRowStream final : public CopyStream {
 public:
  SqliteRowStream(const PeerSpec& peer, const TableSchema& projected, const std::string& sql,
                  const std::vector<std::pair<const Column*, std::string>>& params)
      : db_(open_db(peer)), columns_(projected.columns) {
    st_ = std::make_unique<Stmt>(db_, sql);
    for (size_t i = 0; i < params.size(); ++i)
      bind_cursor(st_->get(), static_cast<int>(i + 1), *params[i].first, params[i].second);
  }
  ~SqliteRowStream() override {
    st_.reset();
    sqlite3_close(db_);
  }

  bool next_chunk(std::string& out) override {
    if (done_) return false;
    size_t start = out.size();
    while (out.size() - start < kChunkBytes) {
      if (!st_->step()) {
        done_ = true;
        break;
      }
      for (size_t i = 0; i < columns_.size(); ++i) {
        if (i) out += '\t';
        if (value_text(st_->get(), static_cast<int>(i), columns_[i], value_)) append_copy_escaped(out, value_);
        else out += "\\N";
      }
      out += '\n';
    }
    return out.size() > start;
  }

 private:
  sqlite3* db_;
  std::vector<Column> columns_;
  std::unique_ptr<Stmt> st_;
  std::string value_;
  bool done_ = false;
};

class SqliteSnapshotPoint final : public SnapshotPoint {
 public:
  const std::string& id() const override { return id_; }
  uint64_t position() const override { return 0; }  // no positions: incremental runs version rows

 private:
  std::string id_;
};

std::string select_list(const TableSchema& projected) {
  std::string cols;
  for (const auto& c : projected.columns) cols += (cols.empty() ? "" : ", ") + quote_pg_ident(c.name);
  return "SELECT " + cols + " FROM " + qualified(projected);
}

const Column& cursor_of(const TableSchema& t, const std::string& name) {
  const Column* c = t.find(name);
  if (!c) throw permanent_error(fmt::format("table {}: cursor column \"{}\" does not exist", t.display_name(), name));
  return *c;
}

}  // namespace

void map_sqlite_type(const std::string& declared, Column& column) {
  std::string t = upper_ascii(declared);
  column.source_type = declared.empty() ? "(no type)" : declared;
  column.precision = -1;
  column.scale = 0;
  auto typmod = [&](int& p, int& s) {
    auto open = t.find('(');
    if (open == std::string::npos) return false;
    p = std::atoi(t.c_str() + open + 1);
    auto comma = t.find(',', open);
    s = comma == std::string::npos ? 0 : std::atoi(t.c_str() + comma + 1);
    return p > 0;
  };
  if (contains(t, "BOOL")) column.type = LogicalType::Bool;
  else if (contains(t, "INT")) column.type = LogicalType::Int64;  // affinity INTEGER
  else if (t == "UUID") column.type = LogicalType::Uuid;
  else if (t == "JSON" || t == "JSONB") column.type = LogicalType::Json;
  else if (contains(t, "CHAR") || contains(t, "CLOB") || contains(t, "TEXT") || t.empty()) column.type = LogicalType::String;
  else if (contains(t, "BLOB")) column.type = LogicalType::Bytes;
  else if (contains(t, "REAL") || contains(t, "FLOA") || contains(t, "DOUB")) column.type = LogicalType::Float64;
  else if (contains(t, "DATETIME") || contains(t, "TIMESTAMP")) {
    column.type = LogicalType::Timestamp;
    column.precision = 6;
  } else if (t == "DATE") column.type = LogicalType::Date;
  else if (contains(t, "DECIMAL") || contains(t, "NUMERIC")) {
    int p = 0, s = 0;
    if (typmod(p, s)) {
      column.type = LogicalType::Decimal;
      column.precision = p;
      column.scale = s;
    } else {
      column.type = LogicalType::NumericText;
    }
  } else {
    column.type = LogicalType::NumericText;  // affinity NUMERIC
  }
}


SqliteSource::SqliteSource(PeerSpec peer) : peer_(std::move(peer)) {}
SqliteSource::~SqliteSource() {
  if (db_) sqlite3_close(db_);
}

sqlite3* SqliteSource::db() {
  if (!db_) db_ = open_db(peer_);
  return db_;
}

std::string SqliteSource::server_version() {
  db();  // the file must open
  return std::string("SQLite ") + sqlite3_libversion();
}

TableSchema SqliteSource::describe(const std::string& table) {
  QualifiedName qn = split_qualified(table, "main");
  TableSchema t;
  t.schema = qn.schema;
  t.name = qn.name;
  {
    Stmt st(db(), "SELECT name FROM " + quote_pg_ident(qn.schema) +
                      ".sqlite_master WHERE type IN ('table', 'view') AND name = ?1 COLLATE NOCASE");
    sqlite3_bind_text(st.get(), 1, qn.name.c_str(), -1, SQLITE_TRANSIENT);
    if (!st.step())
      throw Error(ErrorKind::Permanent, fmt::format("source table {} does not exist in the SQLite database {}",
                                                    t.display_name(), peer_.dsn));
    t.name = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0));
  }
  Stmt st(db(), "PRAGMA " + quote_pg_ident(qn.schema) + ".table_info(" + quote_pg_ident(t.name) + ")");
  while (st.step()) {
    Column c;
    c.name = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 1));
    const unsigned char* type = sqlite3_column_text(st.get(), 2);
    map_sqlite_type(type ? reinterpret_cast<const char*>(type) : "", c);
    c.key_position = sqlite3_column_int(st.get(), 5);
    // Key columns are taken as NOT NULL (an INTEGER PRIMARY KEY cannot be NULL).
    c.nullable = sqlite3_column_int(st.get(), 3) == 0 && c.key_position == 0;
    t.columns.push_back(std::move(c));
  }
  t.pages = -1;
  return t;
}

void SqliteSource::check_readable(const TableSchema& table) {
  Stmt st(db(), select_list(table) + " LIMIT 0");
  st.step();
}

std::unique_ptr<SnapshotPoint> SqliteSource::open_snapshot(bool, int) { return std::make_unique<SqliteSnapshotPoint>(); }

std::vector<std::string> SqliteSource::plan_partitions(const TableSchema&, int64_t) { return {"all"}; }

std::unique_ptr<CopyStream> SqliteSource::read_partition(const TableSchema& projected, const std::string& range,
                                                         const SnapshotPoint&) {
  if (range != "all") throw permanent_error("unknown SQLite partition range '" + range + "'");
  return std::make_unique<SqliteRowStream>(peer_, projected, select_list(projected),
                                           std::vector<std::pair<const Column*, std::string>>{});
}

CursorProbe SqliteSource::probe_cursor(const TableSchema& table, const std::string& cursor_column,
                                       const std::optional<std::string>& last) {
  const Column& c = cursor_of(table, cursor_column);
  std::string col = quote_pg_ident(cursor_column), rel = qualified(table);
  CursorProbe out;
  {
    Stmt st(db(), last ? fmt::format("SELECT max({0}), max({0}) < ?1 FROM {1}", col, rel)
                       : fmt::format("SELECT max({0}), 0 FROM {1}", col, rel));
    if (last) bind_cursor(st.get(), 1, c, *last);
    if (st.step()) {
      std::string v;
      if (value_text(st.get(), 0, c, v)) out.max = v;
      out.below_last = sqlite3_column_int(st.get(), 1) != 0;
    }
  }
  if (c.nullable) {
    Stmt st(db(), fmt::format("SELECT count(*) FROM {} WHERE {} IS NULL", rel, col));
    if (st.step()) out.null_rows = sqlite3_column_int64(st.get(), 0);
  }
  return out;
}

std::unique_ptr<CopyStream> SqliteSource::read_range(const TableSchema& projected, const std::string& cursor_column,
                                                     const std::optional<std::string>& lower,
                                                     const std::string& upper) {
  const Column& c = cursor_of(projected, cursor_column);
  std::string col = quote_pg_ident(cursor_column);
  std::vector<std::pair<const Column*, std::string>> params;
  std::string sql = select_list(projected) + " WHERE ";
  if (lower) {
    sql += col + " > ?" + std::to_string(params.size() + 1) + " AND ";
    params.emplace_back(&c, *lower);
  }
  sql += col + " <= ?" + std::to_string(params.size() + 1);
  params.emplace_back(&c, upper);
  return std::make_unique<SqliteRowStream>(peer_, projected, sql, params);
}

}  // namespace ferry::sqlite

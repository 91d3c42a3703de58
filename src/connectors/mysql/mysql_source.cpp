#include "connectors/mysql/mysql_source.h"
#include "connectors/mysql/mysql_digest.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "connectors/mysql/mysql_connection.h"
#include "connectors/mysql/mysql_snapshot.h"
#include "connectors/mysql/mysql_stream_control.h"
#include "connectors/mysql/mysql_types.h"
#include "core/error.h"
#include "core/ident.h"

namespace ferry::mysql {

namespace {

constexpr size_t kChunkBytes = 1 << 20;

std::string qualified(const TableSchema& t) { return quote_mysql_ident(t.schema) + "." + quote_mysql_ident(t.name); }

bool integer_type(LogicalType t) {
  switch (t) {
    case LogicalType::Int8: case LogicalType::Int16: case LogicalType::Int32: case LogicalType::Int64:
    case LogicalType::UInt8: case LogicalType::UInt16: case LogicalType::UInt32: case LogicalType::UInt64:
      return true;
    default:
      return false;
  }
}

bool numeric_type(LogicalType t) {
  return integer_type(t) || t == LogicalType::Float32 || t == LogicalType::Float64 || t == LogicalType::Decimal ||
         t == LogicalType::Year;
}

std::string i128_text(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
  std::string s;
  while (u) {
    s += char('0' + int(u % 10));
    u /= 10;
  }
  if (neg) s += '-';
  std::reverse(s.begin(), s.end());
  return s;
}

bool parse_i128(std::string_view s, __int128& out) {
  if (s.empty()) return false;
  bool neg = s[0] == '-';
  size_t i = neg ? 1 : 0;
  if (i == s.size()) return false;
  unsigned __int128 v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + unsigned(s[i] - '0');
    if (v > (unsigned __int128)1 << 100) return false;
  }
  out = neg ? -(__int128)v : (__int128)v;
  return true;
}

// Partition ranges: "all" or "key:START:END" (a single integer key; empty bound = open).
struct Range {
  bool all = true;
  std::string start, end;
};
Range parse_range(const std::string& range) {
  Range r;
  if (range == "all") return r;
  auto bad = [&] { return Error(ErrorKind::Permanent, "unknown MariaDB/MySQL partition range '" + range + "'"); };
  if (range.rfind("key:", 0) != 0) throw bad();
  size_t second = range.find(':', 4);
  if (second == std::string::npos) throw bad();
  r.all = false;
  r.start = range.substr(4, second - 4);
  r.end = range.substr(second + 1);
  __int128 unused = 0;
  if ((!r.start.empty() && !parse_i128(r.start, unused)) || (!r.end.empty() && !parse_i128(r.end, unused))) throw bad();
  return r;
}

std::string select_list(const TableSchema& t) {
  std::string cols;
  for (const auto& c : t.columns) {
    if (!cols.empty()) cols += ", ";
    cols += select_expression(c);
  }
  return cols;
}

// Rows of a SELECT as COPY text chunks. Reads through a snapshot lease or its own connection.
class MysqlRowStream final : public CopyStream {
 public:
  MysqlRowStream(std::unique_ptr<MysqlSnapshotPoint::Lease> lease, std::unique_ptr<MysqlConnection> own,
                 const TableSchema& projected, const std::string& sql)
      : lease_(std::move(lease)), own_(std::move(own)), table_(projected.display_name()) {
    for (const auto& c : projected.columns) {
      renders_.push_back(render_of(c));
      bits_.push_back(c.type == LogicalType::Bit ? c.precision : 0);
      names_.push_back(table_ + "." + c.name);
    }
    MysqlConnection& conn = lease_ ? lease_->conn() : *own_;
    try {
      stream_ = conn.stream(sql);
    } catch (...) {
      if (lease_) lease_->set_broken();
      throw;
    }
    if (stream_->fields() != renders_.size())
      throw Error(ErrorKind::Permanent, fmt::format("table {}: the query returned {} columns, {} expected", table_,
                                                    stream_->fields(), renders_.size()));
  }

  ~MysqlRowStream() override {
    if (stream_ && !done_) {
      // Stopped early (failure or stop): do not read the rest of a big table to free it.
      stream_->abandon();
      if (lease_) lease_->set_broken();
    }
    stream_.reset();
  }

  bool next_chunk(std::string& out) override {
    if (done_) return false;
    const size_t start = out.size();
    const size_t n = renders_.size();
    try {
      while (out.size() - start < kChunkBytes) {
        unsigned long* len = nullptr;
        char** row = stream_->next(len);
        if (!row) {
          done_ = true;
          break;
        }
        for (size_t i = 0; i < n; ++i) {
          if (i) out += '\t';
          if (!row[i]) {
            out += "\\N";
            continue;
          }
          std::string_view raw(row[i], len[i]);
          if (renders_[i] == MysqlRender::Verbatim) {
            append_copy_escaped(out, raw);
          } else {
            value_.clear();
            render_mysql_value(renders_[i], bits_[i], raw, value_, names_[i]);
            append_copy_escaped(out, value_);
          }
        }
        out += '\n';
      }
    } catch (...) {
      out.resize(start);
      throw;
    }
    if (done_) stream_.reset();  // the result is complete: the connection is free again
    return out.size() > start;
  }

 private:
  std::unique_ptr<MysqlSnapshotPoint::Lease> lease_;
  std::unique_ptr<MysqlConnection> own_;
  std::string table_;
  std::vector<MysqlRender> renders_;
  std::vector<int> bits_;
  std::vector<std::string> names_;
  std::unique_ptr<MysqlConnection::Stream> stream_;
  std::string value_;
  bool done_ = false;
};

std::string render_one(const Column& c, const std::optional<std::string>& raw, const std::string& table) {
  std::string out;
  render_mysql_value(render_of(c), c.type == LogicalType::Bit ? c.precision : 0, *raw, out, table + "." + c.name);
  return out;
}

}  // namespace

MysqlSource::MysqlSource(PeerSpec peer) : peer_(std::move(peer)) {}
MysqlSource::~MysqlSource() = default;

MysqlConnection& MysqlSource::meta() {
  if (!meta_) meta_ = MysqlConnection::open(peer_);
  return *meta_;
}

std::string MysqlSource::server_version() {
  std::lock_guard<std::mutex> lock(mu_);
  MysqlConnection& c = meta();
  return (c.is_mariadb() ? "MariaDB " : "MySQL ") + c.server_version();
}

std::pair<std::string, std::string> MysqlSource::split_table(const std::string& table, const std::string& default_db) {
  std::string parts[2];
  int idx = 0;
  bool quoted = false;
  for (size_t i = 0; i < table.size(); ++i) {
    char ch = table[i];
    if (ch == '`') {
      if (quoted && i + 1 < table.size() && table[i + 1] == '`') {
        parts[idx] += '`';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (ch == '.' && !quoted && idx == 0) {
      idx = 1;
    } else {
      parts[idx] += ch;
    }
  }
  if (idx == 0) {
    if (default_db.empty())
      throw Error(ErrorKind::Config, fmt::format("source table \"{}\" names no database and the peer has none: "
                                                 "write it as db.table", table));
    return {default_db, parts[0]};
  }
  return {parts[0], parts[1]};
}

TableSchema MysqlSource::describe(const std::string& table) {
  auto [db, name] = split_table(table, peer_.database);
  TableSchema t;
  t.schema = db;
  t.name = name;
  std::lock_guard<std::mutex> lock(mu_);
  MysqlConnection& c = meta();
  const std::string where =
      fmt::format("TABLE_SCHEMA = {} AND TABLE_NAME = {}", c.literal(db), c.literal(name));
  std::optional<Row> rel = c.first_row(
      "SELECT TABLE_TYPE, COALESCE(TABLE_ROWS, 0), COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) "
      "FROM information_schema.TABLES WHERE " + where);
  if (!rel)
    throw Error(ErrorKind::Permanent,
                fmt::format("source table {} does not exist (database \"{}\", table \"{}\"), or the user \"{}\" "
                            "may not see it", t.display_name(), db, name, peer_.user));
  t.estimated_rows = std::stoll((*rel)[1].value_or("0"));
  t.estimated_bytes = std::stoll((*rel)[2].value_or("0"));
  t.pages = -1;

  std::vector<std::string> json_columns;
  if (c.is_mariadb()) {
    // MariaDB's JSON is LONGTEXT with a json_valid() check named after the column.
    for (const Row& r : c.rows("SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                               "WHERE CONSTRAINT_SCHEMA = " + c.literal(db) + " AND TABLE_NAME = " + c.literal(name) +
                               " AND LEVEL = 'Column'"))
      if (r[0] && r[1] && r[1]->rfind("json_valid(", 0) == 0) json_columns.push_back(*r[0]);
  }
  auto to_int = [](const std::optional<std::string>& v) { return v ? std::stoi(*v) : -1; };
  for (const Row& r : c.rows("SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, NUMERIC_PRECISION, "
                             "NUMERIC_SCALE, DATETIME_PRECISION FROM information_schema.COLUMNS WHERE " + where +
                             " ORDER BY ORDINAL_POSITION")) {
    MysqlColumnInfo info;
    info.name = r[0].value_or("");
    info.data_type = r[1].value_or("");
    std::transform(info.data_type.begin(), info.data_type.end(), info.data_type.begin(), ::tolower);
    info.column_type = r[2].value_or("");
    info.nullable = r[3].value_or("YES") == "YES";
    info.numeric_precision = to_int(r[4]);
    info.numeric_scale = to_int(r[5]);
    info.datetime_precision = to_int(r[6]);
    info.is_json = std::find(json_columns.begin(), json_columns.end(), info.name) != json_columns.end();
    t.columns.push_back(map_mysql_column(info));
  }
  if (t.columns.empty())
    throw Error(ErrorKind::Permanent, fmt::format("source table {}: no columns visible to user \"{}\"",
                                                  t.display_name(), peer_.user));

  // Key: the primary key, else the first unique index whose columns are all NOT NULL
  // (what InnoDB clusters by).
  std::vector<Row> idx = c.rows("SELECT INDEX_NAME, COLUMN_NAME, SEQ_IN_INDEX, NULLABLE FROM "
                                "information_schema.STATISTICS WHERE " + where +
                                " AND NON_UNIQUE = 0 ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX");
  std::string chosen;
  for (size_t i = 0; i < idx.size() && chosen.empty();) {
    std::string index = idx[i][0].value_or("");
    bool all_not_null = true;
    size_t j = i;
    for (; j < idx.size() && idx[j][0].value_or("") == index; ++j)
      if (idx[j][3].value_or("") == "YES") all_not_null = false;
    if (all_not_null) chosen = index;
    i = j;
  }
  for (const Row& r : idx) {
    if (r[0].value_or("") != chosen) continue;
    for (auto& col : t.columns)
      if (col.name == r[1].value_or("")) col.key_position = std::stoi(r[2].value_or("0"));
  }
  return t;
}

void MysqlSource::check_readable(const TableSchema& table) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    meta().exec("SELECT 1 FROM " + qualified(table) + " LIMIT 0");
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Transient) throw;
    throw Error(ErrorKind::Permanent,
                fmt::format("user \"{}\" cannot read source table {} (GRANT SELECT ON {} TO '{}'): {}", peer_.user,
                            table.display_name(), qualified(table), peer_.user, e.what()));
  }
}

std::unique_ptr<SnapshotPoint> MysqlSource::open_snapshot(bool /*exact_position*/, int readers) {
  // MariaDB's binlog_snapshot_position is exact: a change is in the snapshot iff its
  // commit is before the position, so both kinds of load use the same point.
  return std::make_unique<MysqlSnapshotPoint>(peer_, std::max(1, readers));
}

std::vector<std::string> MysqlSource::key_ranges(__int128 lo, __int128 hi, int64_t parts) {
  if (parts <= 1 || hi <= lo) return {"all"};
  __int128 width = (hi - lo) / parts + 1;
  std::vector<std::string> ranges;
  for (__int128 start = lo; start <= hi; start += width) {
    bool first = start == lo, last = hi - start < width;
    ranges.push_back(fmt::format("key:{}:{}", first ? "" : i128_text(start), last ? "" : i128_text(start + width)));
    if (last) break;
  }
  return ranges;
}

std::vector<std::string> MysqlSource::plan_partitions(const TableSchema& table, int64_t rows_per_partition) {
  std::vector<std::string> key = table.key_columns();
  // Composite and non-integer keys, keyless tables: one range (read in one pass).
  if (key.size() != 1 || !integer_type(table.find(key[0])->type) || rows_per_partition <= 0) return {"all"};
  int64_t parts = (table.estimated_rows + rows_per_partition - 1) / rows_per_partition;
  if (parts <= 1) return {"all"};
  std::string k = quote_mysql_ident(key[0]);
  std::optional<Row> mm;
  {
    std::lock_guard<std::mutex> lock(mu_);
    mm = meta().first_row(fmt::format("SELECT MIN({0}), MAX({0}) FROM {1}", k, qualified(table)));
  }
  __int128 lo = 0, hi = 0;
  if (!mm || !(*mm)[0] || !(*mm)[1] || !parse_i128(*(*mm)[0], lo) || !parse_i128(*(*mm)[1], hi)) return {"all"};
  return key_ranges(lo, hi, parts);
}

std::string MysqlSource::partition_query(const TableSchema& projected, const std::string& range) {
  std::string sql = "SELECT " + select_list(projected) + " FROM " + qualified(projected);
  Range r = parse_range(range);
  if (r.all) return sql;
  std::vector<std::string> keys = projected.key_columns();
  if (keys.size() != 1)
    throw Error(ErrorKind::Permanent, "partition range " + range + " of table " + projected.display_name() +
                                          " needs a single key column");
  std::string k = quote_mysql_ident(keys[0]);
  std::vector<std::string> conds;
  if (!r.start.empty()) conds.push_back(k + " >= " + r.start);
  if (!r.end.empty()) conds.push_back(k + " < " + r.end);
  for (size_t i = 0; i < conds.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + conds[i];
  return sql;
}

std::unique_ptr<CopyStream> MysqlSource::read_partition(const TableSchema& projected, const std::string& range,
                                                        const SnapshotPoint& point) {
  const auto* p = dynamic_cast<const MysqlSnapshotPoint*>(&point);
  if (!p) throw Error(ErrorKind::Permanent, "MariaDB/MySQL source: read_partition needs a point it opened");
  std::string sql = partition_query(projected, range);
  return std::make_unique<MysqlRowStream>(p->borrow(), nullptr, projected, sql);
}

std::pair<std::optional<std::string>, std::optional<std::string>> MysqlSource::column_min_max(
    const TableSchema& table, const std::string& column) {
  const Column* c = table.find(column);
  if (!c) throw Error(ErrorKind::Permanent, "table " + table.display_name() + " has no column " + column);
  std::string e = select_expression(*c);
  std::optional<Row> r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    r = meta().first_row(fmt::format("SELECT MIN({0}), MAX({0}) FROM {1}", e, qualified(table)));
  }
  auto at = [&](int i) -> std::optional<std::string> {
    if (!r || !(*r)[i]) return std::nullopt;
    return render_one(*c, (*r)[i], table.display_name());
  };
  return {at(0), at(1)};
}

// --- periodic incremental copy ---

std::string MysqlSource::cursor_literal(const Column& c, const std::string& text) {
  if (numeric_type(c.type)) {
    // Unquoted: a quoted number compared with a DECIMAL is compared as a double.
    bool ok = !text.empty();
    for (char ch : text)
      if (!((ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' || ch == 'E')) ok = false;
    if (!ok) throw Error(ErrorKind::Permanent, fmt::format("cursor value '{}' is not a number (column {})", text, c.name));
    return text;
  }
  std::string v = text;
  if (c.type == LogicalType::TimestampTz && v.size() > 3 && v.compare(v.size() - 3, 3, "+00") == 0)
    v.resize(v.size() - 3);  // the session is in UTC
  std::string out = "'";
  for (char ch : v) {
    if (ch == '\'' || ch == '\\') out += ch;  // '' and \\ escape in the default sql_mode
    out += ch;
  }
  return out + "'";
}

CursorProbe MysqlSource::probe_cursor(const TableSchema& table, const std::string& cursor_column,
                                      const std::optional<std::string>& last) {
  const Column* c = table.find(cursor_column);
  if (!c) throw Error(ErrorKind::Permanent, "table " + table.display_name() + " has no column " + cursor_column);
  std::string col = quote_mysql_ident(cursor_column), rel = qualified(table);
  CursorProbe out;
  std::lock_guard<std::mutex> lock(mu_);
  MysqlConnection& m = meta();
  std::optional<Row> r = m.first_row(fmt::format("SELECT MAX({0}), MAX({1}), {2} FROM {3}", select_expression(*c), col,
                                                 last ? fmt::format("MAX({}) < {}", col, cursor_literal(*c, *last))
                                                      : std::string("0"),
                                                 rel));
  if (r && (*r)[0]) out.max = render_one(*c, (*r)[0], table.display_name());
  out.below_last = r && (*r)[2] && *(*r)[2] == "1";
  if (c->nullable)
    out.null_rows = std::stoll(m.value(fmt::format("SELECT COUNT(*) FROM {} WHERE {} IS NULL", rel, col)));
  return out;
}

std::unique_ptr<CopyStream> MysqlSource::read_range(const TableSchema& projected, const std::string& cursor_column,
                                                    const std::optional<std::string>& lower, const std::string& upper) {
  const Column* c = projected.find(cursor_column);
  TableSchema full;
  if (!c) {  // the cursor is not copied: its type from the table
    full = describe(quote_mysql_ident(projected.schema) + "." + quote_mysql_ident(projected.name));
    c = full.find(cursor_column);
    if (!c) throw Error(ErrorKind::Permanent, "table " + projected.display_name() + " has no column " + cursor_column);
  }
  std::string col = quote_mysql_ident(cursor_column);
  std::string sql = partition_query(projected, "all") + " WHERE ";
  if (lower) sql += col + " > " + cursor_literal(*c, *lower) + " AND ";
  sql += col + " <= " + cursor_literal(*c, upper);
  return std::make_unique<MysqlRowStream>(nullptr, MysqlConnection::open(peer_), projected, sql);
}

std::unique_ptr<TableDigester> MysqlSource::digester(const TableSchema& projected) {
  return std::make_unique<MysqlTableDigester>(peer_, projected);
}

}  // namespace ferry::mysql

#include "connectors/clickhouse/clickhouse_source.h"

#include <cctype>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "connectors/clickhouse/server_error.h"
#include "connectors/clickhouse/tsv_answer.h"
#include "connectors/clickhouse/tsv_encoder.h"
#include "connectors/clickhouse/type_map.h"
#include "core/error.h"
#include "core/ident.h"
#include "core/log.h"

namespace ferry::clickhouse {

namespace {


bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// Nullable(LowCardinality(T)) -> T
std::string base_type(std::string_view t, bool* nullable = nullptr) {
  for (bool again = true; again;) {
    again = false;
    for (std::string_view w : {std::string_view("Nullable("), std::string_view("LowCardinality(")}) {
      if (starts_with(t, w) && !t.empty() && t.back() == ')') {
        if (nullable && w == "Nullable(") *nullable = true;
        t = t.substr(w.size(), t.size() - w.size() - 1);
        again = true;
      }
    }
  }
  return std::string(t);
}

std::string table_sql(const TableSchema& t) { return qualified_name(t.schema, t.name); }

// The expression that renders a column as ferry's canonical text.
std::string column_expr(const Column& c) {
  std::string q = quote_backtick_ident(c.name);
  std::string base = base_type(c.source_type);
  if (c.type == LogicalType::TimestampTz) return "concat(toString(" + q + ", 'UTC'), '+00')";
  if (base == "Bool") return "toUInt8(" + q + ")";
  return q;
}



class NoSnapshotPoint final : public SnapshotPoint {
 public:
  const std::string& id() const override { return id_; }
  uint64_t position() const override { return 0; }  // no positions: incremental runs version rows

 private:
  std::string id_;
};

const Column& cursor_of(const TableSchema& t, const std::string& name) {
  const Column* c = t.find(name);
  if (!c) throw permanent_error(fmt::format("table {}: cursor column \"{}\" does not exist", t.display_name(), name));
  return *c;
}

}  // namespace

void map_clickhouse_type(const std::string& type, Column& c) {
  c.source_type = type;
  c.precision = -1;
  c.scale = 0;
  bool nullable = false;
  std::string t = base_type(type, &nullable);
  c.nullable = nullable;
  auto args = [&](size_t open) {  // "Decimal(10, 2)" -> {10, 2}
    std::vector<int> v;
    const char* p = t.c_str() + open + 1;
    while (*p && *p != ')') {
      v.push_back(std::atoi(p));
      while (*p && *p != ',' && *p != ')') ++p;
      if (*p == ',') ++p;
    }
    return v;
  };
  if (t == "Int8" || t == "UInt8" || t == "Int16" || t == "Bool") c.type = LogicalType::Int16;
  else if (t == "UInt16" || t == "Int32") c.type = LogicalType::Int32;
  else if (t == "UInt32" || t == "Int64") c.type = LogicalType::Int64;
  else if (t == "UInt64") {  // beyond Int64: an exact Decimal(20, 0)
    c.type = LogicalType::Decimal;
    c.precision = 20;
  } else if (t == "Int128" || t == "UInt128" || t == "Int256" || t == "UInt256") c.type = LogicalType::NumericText;
  else if (t == "Float32") c.type = LogicalType::Float32;
  else if (t == "Float64") c.type = LogicalType::Float64;
  else if (starts_with(t, "Decimal")) {
    auto open = t.find('(');
    std::vector<int> a = open == std::string::npos ? std::vector<int>{} : args(open);
    c.type = LogicalType::Decimal;
    if (starts_with(t, "Decimal(") && a.size() == 2) {
      c.precision = a[0];
      c.scale = a[1];
    } else if (a.size() == 1) {  // Decimal32(S) / Decimal64(S) / Decimal128(S) / Decimal256(S)
      c.scale = a[0];
      c.precision = starts_with(t, "Decimal32") ? 9 : starts_with(t, "Decimal64") ? 18 : starts_with(t, "Decimal128") ? 38 : 76;
    } else {
      c.type = LogicalType::Unsupported;
    }
  } else if (t == "String" || starts_with(t, "FixedString(") || starts_with(t, "Enum8(") || starts_with(t, "Enum16(") ||
             t == "IPv4" || t == "IPv6")
    c.type = LogicalType::String;
  else if (t == "Date" || t == "Date32") c.type = LogicalType::Date;
  else if (t == "DateTime" || starts_with(t, "DateTime(")) {
    c.type = LogicalType::TimestampTz;
    c.precision = 0;
  } else if (starts_with(t, "DateTime64")) {
    auto open = t.find('(');
    std::vector<int> a = open == std::string::npos ? std::vector<int>{} : args(open);
    c.type = LogicalType::TimestampTz;
    c.precision = a.empty() ? 3 : a[0];
  } else if (t == "UUID") c.type = LogicalType::Uuid;
  else c.type = LogicalType::Unsupported;
}

std::string cursor_literal(const Column& c, const std::string& value) {
  std::string lit = quote_ch_literal(value);
  std::string base = base_type(c.source_type);
  switch (c.type) {
    case LogicalType::TimestampTz:
      if (starts_with(base, "DateTime64"))
        return fmt::format("toDateTime64({}, {}, 'UTC')", lit, c.precision < 0 ? 3 : c.precision);
      return "parseDateTimeBestEffort(" + lit + ", 'UTC')";
    case LogicalType::Date: return "toDate(" + lit + ")";
    case LogicalType::String: return lit;
    default: return "CAST(" + lit + " AS " + base + ")";
  }
}

ClickHouseSource::ClickHouseSource(const PeerSpec& peer)
    : http_(http_options(peer)), database_(peer.database.empty() ? "default" : peer.database), client_(http_) {}

ClickHouseSource::~ClickHouseSource() = default;

std::string ClickHouseSource::server_version() {
  return "ClickHouse " + answer_value(client_.query("SELECT version()"));
}

TableSchema ClickHouseSource::describe(const std::string& table) {
  QualifiedName qn = split_qualified(table, database_);
  TableSchema t;
  t.schema = qn.schema;
  t.name = qn.name;
  std::string where = " WHERE database = " + quote_ch_literal(qn.schema) + " AND ";
  auto info = tsv_rows(client_.query("SELECT engine, sorting_key FROM system.tables" + where +
                                     "name = " + quote_ch_literal(qn.name) + " FORMAT TabSeparated"));
  if (info.empty() || info[0].size() < 2)
    throw Error(ErrorKind::Permanent, fmt::format("source table {} does not exist in ClickHouse at {}",
                                                  t.display_name(), client_.endpoint()));
  const std::string& engine = info[0][0];
  auto cols = tsv_rows(client_.query("SELECT name, type FROM system.columns" + where + "table = " +
                                     quote_ch_literal(qn.name) + " FORMAT TabSeparated"));
  for (const auto& row : cols) {
    if (row.size() < 2) continue;
    Column c;
    c.name = row[0];
    map_clickhouse_type(row[1], c);
    t.columns.push_back(std::move(c));
  }
  // A ReplacingMergeTree keeps one row per sorting key: that is the key (read with FINAL).
  // Other engines may hold several rows per sorting key: no key.
  bool replacing = engine.find("ReplacingMergeTree") != std::string::npos;
  if (replacing) {
    std::vector<std::string> parts;
    std::string key = info[0][1];
    size_t start = 0;
    for (;;) {
      size_t comma = key.find(',', start);
      parts.push_back(trim(std::string_view(key).substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    bool plain = !key.empty();
    for (auto& p : parts) {
      if (p.size() > 1 && p.front() == '`' && p.back() == '`') p = p.substr(1, p.size() - 2);
      plain &= t.find(p) != nullptr;
    }
    if (plain) {
      for (size_t i = 0; i < parts.size(); ++i)
        for (auto& c : t.columns)
          if (c.name == parts[i] && c.key_position == 0) c.key_position = static_cast<int>(i + 1);
    } else {
      spdlog::warn("ClickHouse table {}: sorting key '{}' is not a list of columns; copied without a key",
                   t.display_name(), key);
    }
  }
  t.pages = -1;
  std::lock_guard<std::mutex> lock(mu_);
  final_[t.display_name()] = replacing;
  return t;
}

bool ClickHouseSource::reads_final(const TableSchema& table) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = final_.find(table.display_name());
    if (it != final_.end()) return it->second;
  }
  HttpClient client(http_);  // may run on a partition worker thread
  std::string engine = answer_value(client.query("SELECT engine FROM system.tables WHERE database = " +
                                         quote_ch_literal(table.schema) + " AND name = " + quote_ch_literal(table.name) +
                                         " FORMAT TabSeparated"));
  bool replacing = engine.find("ReplacingMergeTree") != std::string::npos;
  std::lock_guard<std::mutex> lock(mu_);
  final_[table.display_name()] = replacing;
  return replacing;
}

void ClickHouseSource::check_readable(const TableSchema& table) {
  client_.query("SELECT * FROM " + table_sql(table) + " LIMIT 0");
}

std::unique_ptr<SnapshotPoint> ClickHouseSource::open_snapshot(bool, int) { return std::make_unique<NoSnapshotPoint>(); }

std::vector<std::string> ClickHouseSource::plan_partitions(const TableSchema&, int64_t) { return {"all"}; }

std::string ClickHouseSource::range_query(const TableSchema& projected, bool final, const std::string& cursor_column,
                                          const std::optional<std::string>& lower,
                                          const std::optional<std::string>& upper) {
  std::string cols;
  for (const auto& c : projected.columns) cols += (cols.empty() ? "" : ", ") + column_expr(c);
  std::string sql = "SELECT " + cols + " FROM " + table_sql(projected) + (final ? " FINAL" : "");
  if (upper) {
    const Column& c = cursor_of(projected, cursor_column);
    std::string col = quote_backtick_ident(cursor_column);
    sql += " WHERE ";
    if (lower) sql += col + " > " + cursor_literal(c, *lower) + " AND ";
    sql += col + " <= " + cursor_literal(c, *upper);
  }
  // With FINAL, a condition moved to PREWHERE would filter rows before their versions
  // are collapsed (and could return an older version of a row).
  if (final) sql += " SETTINGS optimize_move_to_prewhere = 0";
  return sql + " FORMAT TabSeparated";
}

std::unique_ptr<CopyStream> ClickHouseSource::read_partition(const TableSchema& projected, const std::string& range,
                                                             const SnapshotPoint&) {
  if (range != "all") throw permanent_error("unknown ClickHouse partition range '" + range + "'");
  return client_.query_stream(range_query(projected, reads_final(projected), "", std::nullopt, std::nullopt));
}

CursorProbe ClickHouseSource::probe_cursor(const TableSchema& table, const std::string& cursor_column,
                                           const std::optional<std::string>& last) {
  const Column& c = cursor_of(table, cursor_column);
  std::string col = quote_backtick_ident(cursor_column);
  bool final = reads_final(table);
  std::string max_text = c.type == LogicalType::TimestampTz ? "toString(max(" + col + "), 'UTC')"
                                                             : "toString(max(" + col + "))";
  std::string sql = "SELECT count(), countIf(isNotNull(" + col + ")), " + max_text;
  sql += last ? ", max(" + col + ") < " + cursor_literal(c, *last) : ", 0";
  sql += " FROM " + table_sql(table) + (final ? " FINAL" : "") + " FORMAT TabSeparated";
  auto rows = tsv_rows(client_.query(sql));
  if (rows.empty() || rows[0].size() < 4) throw permanent_error("unexpected answer of ClickHouse to " + shorten_sql(sql));
  CursorProbe out;
  int64_t all = std::stoll(rows[0][0]), non_null = std::stoll(rows[0][1]);
  out.null_rows = all - non_null;
  // max() of an empty non-Nullable column is the type's default: only trusted with values.
  if (non_null > 0 && rows[0][2] != "\\N") out.max = rows[0][2];
  out.below_last = out.max && rows[0][3] == "1";
  return out;
}

std::unique_ptr<CopyStream> ClickHouseSource::read_range(const TableSchema& projected, const std::string& cursor_column,
                                                         const std::optional<std::string>& lower,
                                                         const std::string& upper) {
  return client_.query_stream(range_query(projected, reads_final(projected), cursor_column, lower, upper));
}

}  // namespace ferry::clickhouse

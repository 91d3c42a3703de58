// The row digest of table_digest.h in MariaDB/MySQL SQL.
#include "connectors/mysql/mysql_digest.h"

#include <fmt/format.h>

#include "connectors/mysql/mysql_connection.h"
#include "connectors/mysql/mysql_types.h"
#include "core/error.h"
#include "core/ident.h"

namespace ferry::mysql {
namespace {

uint64_t number(const std::optional<std::string>& text, const char* what) {
  return parse_digest_number(text, what, "MariaDB/MySQL");
}

std::string hash(const std::string& text) {
  return fmt::format("CAST(CONV(SUBSTR(MD5({}), 1, 15), 16, 10) AS UNSIGNED)", text);
}

}  // namespace

MysqlTableDigester::MysqlTableDigester(const PeerSpec& peer, const TableSchema& table)
    : conn_(MysqlConnection::open(peer)), table_(table) {
  qualified_ = (table_.schema.empty() ? "" : quote_mysql_ident(table_.schema) + ".") + quote_mysql_ident(table_.name);
}

std::unique_ptr<MysqlTableDigester> MysqlTableDigester::for_destination(const PeerSpec& peer, const TableSchema& source,
                                                                       const std::string& database,
                                                                       const std::string& table,
                                                                       const std::string& live_filter) {
  TableSchema t = source;
  t.schema = database;
  t.name = table;
  auto d = std::make_unique<MysqlTableDigester>(peer, t);
  d->destination_ = true;
  if (!live_filter.empty()) d->qualified_ = fmt::format("(SELECT * FROM {} WHERE {}) live", d->qualified_, live_filter);
  return d;
}

MysqlTableDigester::~MysqlTableDigester() = default;

std::vector<std::string> MysqlTableDigester::columns() {
  std::vector<std::string> out;
  for (const auto& row : conn_->rows(fmt::format(
           "SELECT column_name FROM information_schema.columns WHERE table_schema = {} AND table_name = {} "
           "ORDER BY ordinal_position",
           conn_->literal(table_.schema), conn_->literal(table_.name))))
    if (row.at(0) && row[0]->rfind("_ferry_", 0) != 0) out.push_back(*row[0]);
  return out;
}

int64_t MysqlTableDigester::count() {
  return static_cast<int64_t>(number(conn_->value("SELECT COUNT(*) FROM " + qualified_), "count"));
}

std::optional<DigestForm> MysqlTableDigester::form(const Column& column) const {
  if (destination_ && column.type == LogicalType::NumericText) return std::nullopt;
  switch (render_of(column)) {
    case MysqlRender::Float32:
    case MysqlRender::Float64: return std::nullopt;
    default: return column.type == LogicalType::Unsupported ? std::nullopt : std::optional(DigestForm::Text);
  }
}

std::string MysqlTableDigester::cell_text(const DigestColumn& d) const {
  std::string v = quote_mysql_ident(d.name);
  const Column* c = table_.find(d.name);
  if (!c) throw Error(ErrorKind::Permanent, "table " + table_.display_name() + " has no column " + d.name);
  if (destination_) {
    if (c->type == LogicalType::Bool) return fmt::format("IF({}, 't', 'f')", v);
    // PostgreSQL's times and timestamps (its spelling names the time zone) drop trailing
    // fraction zeros; DATETIME(p)/TIME(p) print p digits.
    const bool pg_temporal = c->source_type.find("time zone") != std::string::npos &&
                             (c->type == LogicalType::Timestamp || c->type == LogicalType::TimestampTz ||
                              c->type == LogicalType::Time);
    if (pg_temporal) {
      std::string trimmed = fmt::format(
          "IF(LOCATE('.', CAST({0} AS CHAR)) > 0, TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM CAST({0} AS CHAR))), "
          "CAST({0} AS CHAR))", v);
      return c->type == LogicalType::TimestampTz ? "CONCAT(" + trimmed + ", '+00')" : trimmed;
    }
  }
  switch (render_of(*c)) {
    case MysqlRender::Bit: return fmt::format("LPAD(BIN({}), {}, '0')", v, c->precision);
    case MysqlRender::Hex: return fmt::format("CONCAT('\\\\x', LOWER(HEX({})))", v);
    case MysqlRender::Geometry: return fmt::format("CONCAT('\\\\x', LOWER(HEX(SUBSTR({}, 5))))", v);
    case MysqlRender::TimestampUtc:  // the zero value stays as is
      return fmt::format("IF({0} = 0, CAST({0} AS CHAR), CONCAT(CAST({0} AS CHAR), '+00'))", v);
    default: return fmt::format("CAST({} AS CHAR)", v);
  }
}

std::string MysqlTableDigester::cell(const DigestColumn& d) const {
  std::string t = cell_text(d);
  return fmt::format("IF({} IS NULL, '-', CONCAT(LENGTH({}), ':', {}))", quote_mysql_ident(d.name), t, t);
}

std::string MysqlTableDigester::joined_cells(const std::vector<DigestColumn>& columns) const {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ',', ") + cell(c);
  return out.empty() ? "''" : "CONCAT(" + out + ")";
}

std::vector<BucketDigest> MysqlTableDigester::buckets(const DigestPlan& plan) {
  std::string sql = fmt::format(
      "SELECT MOD(hk, {0}) AS b, COUNT(*), CAST(MOD(SUM(hr), 18446744073709551616) AS CHAR) FROM "
      "(SELECT {1} AS hk, {2} AS hr FROM {3}) s GROUP BY b ORDER BY b",
      plan.buckets, hash(joined_cells(digest_key_columns(plan))), hash(joined_cells(plan.columns)), qualified_);
  std::vector<BucketDigest> out;
  for (const auto& row : conn_->rows(sql))
    out.push_back({number(row.at(0), "bucket"), static_cast<int64_t>(number(row.at(1), "count")), number(row.at(2), "sum")});
  return out;
}

std::vector<KeyDigest> MysqlTableDigester::keys(const DigestPlan& plan, uint64_t bucket, size_t limit) {
  std::vector<DigestColumn> key = digest_key_columns(plan);
  std::string select;
  for (const auto& k : key) select += cell_text(k) + ", ";
  std::string sql = fmt::format("SELECT {0}{1} FROM {2} WHERE MOD({3}, {4}) = {5} LIMIT {6}", select,
                                hash(joined_cells(plan.columns)), qualified_, hash(joined_cells(key)), plan.buckets,
                                bucket, limit);
  std::vector<KeyDigest> out;
  for (const auto& row : conn_->rows(sql)) {
    KeyDigest d;
    d.key.assign(row.begin(), row.begin() + key.size());
    d.row_hash = number(row.at(key.size()), "row hash");
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace ferry::mysql

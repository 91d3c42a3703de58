// The row digest of table_digest.h in PostgreSQL SQL.
#include "connectors/postgres/pg_digest.h"

#include <fmt/format.h>

#include "connectors/postgres/pg_connection.h"
#include "core/error.h"
#include "core/ident.h"

namespace ferry {
namespace {

uint64_t number(const std::optional<std::string>& text, const char* what) {
  return parse_digest_number(text, what, "PostgreSQL");
}

// The cell text of a non-NULL value.
std::string cell_text(const DigestColumn& c) {
  std::string v = quote_pg_ident(c.name);
  switch (c.form) {
    case DigestForm::Float32Bits: return fmt::format("(('x' || encode(float4send({}), 'hex'))::bit(32)::int)::text", v);
    case DigestForm::Float64Bits:
      return fmt::format("(('x' || encode(float8send({}), 'hex'))::bit(64)::bigint)::text", v);
    case DigestForm::Text: break;
  }
  // format's %s is the type's output function, as COPY renders it (a cast to text is not
  // always: boolean gives 'true', inet adds the mask).
  return fmt::format("format('%s', {})", v);
}

std::string cell(const DigestColumn& c) {
  std::string t = cell_text(c);
  return fmt::format("CASE WHEN {} IS NULL THEN '-' ELSE octet_length({}) || ':' || {} END", quote_pg_ident(c.name),
                     t, t);
}

std::string joined_cells(const std::vector<DigestColumn>& columns) {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : " || ',' || ") + cell(c);
  return out.empty() ? "''" : out;
}

std::string hash(const std::string& text) {
  return fmt::format("((('x' || substr(md5({}), 1, 16))::bit(64) >> 4)::bigint)", text);
}

}  // namespace

PgTableDigester::PgTableDigester(const PeerSpec& peer, std::string schema, std::string table, std::string live_filter)
    : conn_(PgConnection::open(peer)), schema_(std::move(schema)), table_(std::move(table)) {
  relation_ = (schema_.empty() ? "" : quote_pg_ident(schema_) + ".") + quote_pg_ident(table_);
  qualified_ = live_filter.empty() ? relation_ : fmt::format("(SELECT * FROM {} WHERE {}) live", relation_, live_filter);
}

PgTableDigester::~PgTableDigester() = default;

std::vector<std::string> PgTableDigester::columns() {
  PgResult r = conn_->exec_params(
      "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 "
      "AND NOT a.attisdropped AND a.attname NOT LIKE '\\_ferry\\_%' ORDER BY a.attnum",
      {relation_});
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.get(i, 0));
  return out;
}

int64_t PgTableDigester::count() { return static_cast<int64_t>(number(conn_->query_value("SELECT count(*) FROM " + qualified_), "count")); }

std::optional<DigestForm> PgTableDigester::form(const Column& column) const {
  switch (column.type) {
    case LogicalType::Float32: return DigestForm::Float32Bits;
    case LogicalType::Float64: return DigestForm::Float64Bits;
    case LogicalType::Unsupported: return std::nullopt;
    default: return DigestForm::Text;  // the text output is the canonical rendering
  }
}

std::vector<BucketDigest> PgTableDigester::buckets(const DigestPlan& plan) {
  std::string sql = fmt::format(
      "SELECT hk % {0}, count(*), (sum(hr) % 18446744073709551616)::text FROM "
      "(SELECT {1} AS hk, {2} AS hr FROM {3}) s GROUP BY 1 ORDER BY 1",
      plan.buckets, hash(joined_cells(digest_key_columns(plan))), hash(joined_cells(plan.columns)), qualified_);
  PgResult r = conn_->exec(sql);
  std::vector<BucketDigest> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({number(r.get(i, 0), "bucket"), static_cast<int64_t>(number(r.get(i, 1), "count")),
                   number(r.get(i, 2), "sum")});
  return out;
}

std::vector<KeyDigest> PgTableDigester::keys(const DigestPlan& plan, uint64_t bucket, size_t limit) {
  std::vector<DigestColumn> key = digest_key_columns(plan);
  std::string select;
  for (const auto& k : key) select += cell_text(k) + ", ";
  std::string sql = fmt::format("SELECT {0}{1} FROM {2} WHERE {3} % {4} = {5} LIMIT {6}", select,
                                hash(joined_cells(plan.columns)), qualified_, hash(joined_cells(key)), plan.buckets,
                                bucket, limit);
  PgResult r = conn_->exec(sql);
  std::vector<KeyDigest> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    KeyDigest d;
    for (size_t k = 0; k < key.size(); ++k)
      d.key.push_back(r.is_null(i, int(k)) ? std::nullopt : std::optional<std::string>(r.get(i, int(k))));
    d.row_hash = number(r.get(i, int(key.size())), "row hash");
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace ferry

// The row digest of table_digest.h in ClickHouse SQL.
#include "connectors/clickhouse/clickhouse_digest.h"

#include <fmt/format.h>

#include "connectors/clickhouse/clickhouse_destination.h"
#include "connectors/clickhouse/tsv_answer.h"
#include "core/error.h"
#include "core/ident.h"

namespace ferry::clickhouse {
namespace {

uint64_t number(const std::optional<std::string>& text, const char* what) {
  return parse_digest_number(text, what, "ClickHouse");
}

std::string hash(const std::string& text) {
  return fmt::format("bitShiftRight(reinterpretAsUInt64(reverse(substring(MD5({}), 1, 8))), 4)", text);
}

}  // namespace

ClickHouseTableDigester::ClickHouseTableDigester(ClickHouseDestination& destination, const TableSchema& source,
                                                 TablePlan plan)
    : destination_(destination), plan_(std::move(plan)) {
  for (const auto& c : plan_.columns) by_name_[c.name] = &c;
  for (const auto& c : source.columns) source_types_[c.name] = c.type;
}

std::vector<std::string> ClickHouseTableDigester::columns() {
  std::vector<std::string> out;
  for (const auto& c : destination_.table_columns(plan_.table))
    if (c.name.rfind("_ferry_", 0) != 0) out.push_back(c.name);
  return out;
}

int64_t ClickHouseTableDigester::count() {
  DestinationTable t;
  t.name = plan_.table;
  return destination_.count_rows(t);
}

std::optional<DigestForm> ClickHouseTableDigester::form(const Column& column) const {
  auto it = by_name_.find(column.name);
  if (it == by_name_.end()) return std::nullopt;
  switch (it->second->codec) {
    case Codec::Float: return column.type == LogicalType::Float32 ? DigestForm::Float32Bits : DigestForm::Float64Bits;
    case Codec::Array:
    case Codec::DateTime64:
    case Codec::DateTime64Utc: return std::nullopt;
    default: return DigestForm::Text;
  }
}

std::string ClickHouseTableDigester::cell_text(const DigestColumn& d) const {
  const ClickHouseColumn& c = *by_name_.at(d.name);
  std::string v = quote_backtick_ident(c.name);
  if (c.nullable) v = "assumeNotNull(" + v + ")";
  switch (c.codec) {
    case Codec::Float:  // reinterpretAsString drops trailing zero bytes; reinterpretAsInt pads them back
      return fmt::format("toString(reinterpretAsInt{}(reinterpretAsString({})))",
                         source_types_.at(d.name) == LogicalType::Float32 ? 32 : 64, v);
    case Codec::Bool: return fmt::format("if({} != 0, 't', 'f')", v);
    case Codec::Bytes: return fmt::format("concat('\\\\x', lower(hex({})))", v);
    // 18.16 prints day 0 as 0000-00-00.
    case Codec::Date: return fmt::format("if(toInt32({0}) = 0, '1970-01-01', toString({0}))", v);
    case Codec::Text: return v;
    default: break;
  }
  auto type = source_types_.find(d.name);
  if (type != source_types_.end() && type->second == LogicalType::Year)
    return fmt::format("if({0} = 0, '0000', toString({0}))", v);
  return "toString(" + v + ")";
}

std::string ClickHouseTableDigester::cell(const DigestColumn& d) const {
  std::string t = cell_text(d);
  std::string present = fmt::format("concat(toString(length({0})), ':', {0})", t);
  if (!by_name_.at(d.name)->nullable) return present;
  return fmt::format("if(isNull({}), '-', {})", quote_backtick_ident(d.name), present);
}

std::string ClickHouseTableDigester::joined_cells(const std::vector<DigestColumn>& columns) const {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ',', ") + cell(c);
  return columns.size() > 1 ? "concat(" + out + ")" : (out.empty() ? "''" : out);
}

std::string ClickHouseTableDigester::live_rows() const {
  return fmt::format("FROM {}{} WHERE {} = 0", qualified_name(plan_.database, plan_.table), plan_.keyed ? " FINAL" : "",
                     quote_backtick_ident(kIsDeletedColumn));
}

std::vector<BucketDigest> ClickHouseTableDigester::buckets(const DigestPlan& plan) {
  std::string sql = fmt::format(
      "SELECT hk % {0} AS b, count(), sum(hr) FROM (SELECT {1} AS hk, {2} AS hr {3}) GROUP BY b ORDER BY b "
      "FORMAT TabSeparated",
      plan.buckets, hash(joined_cells(digest_key_columns(plan))), hash(joined_cells(plan.columns)), live_rows());
  std::vector<BucketDigest> out;
  for (const auto& row : tsv_rows(destination_.client().query(sql))) {
    if (row.size() != 3) throw Error(ErrorKind::Permanent, "unexpected bucket digest answer from ClickHouse");
    out.push_back({number(row[0], "bucket"), static_cast<int64_t>(number(row[1], "count")), number(row[2], "sum")});
  }
  return out;
}

std::vector<KeyDigest> ClickHouseTableDigester::keys(const DigestPlan& plan, uint64_t bucket, size_t limit) {
  std::vector<DigestColumn> key = digest_key_columns(plan);
  std::string select;
  for (const auto& k : key) {
    std::string text = cell_text(k);
    if (by_name_.at(k.name)->nullable) text = fmt::format("if(isNull({}), '\\\\N', {})", quote_backtick_ident(k.name), text);
    select += text + ", ";
  }
  std::string sql = fmt::format("SELECT {0}{1} {2} AND {3} % {4} = {5} LIMIT {6} FORMAT TabSeparated", select,
                                hash(joined_cells(plan.columns)), live_rows(), hash(joined_cells(key)), plan.buckets,
                                bucket, limit);
  std::vector<KeyDigest> out;
  for (const auto& row : tsv_rows(destination_.client().query(sql))) {
    if (row.size() != key.size() + 1) throw Error(ErrorKind::Permanent, "unexpected key digest answer from ClickHouse");
    KeyDigest d;
    for (size_t k = 0; k < key.size(); ++k)
      d.key.push_back(row[k] == "\\N" ? std::nullopt : std::optional<std::string>(row[k]));
    d.row_hash = number(row.back(), "row hash");
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace ferry::clickhouse

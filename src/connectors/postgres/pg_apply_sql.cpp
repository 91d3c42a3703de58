#include "connectors/postgres/pg_apply_sql.h"

#include <algorithm>

#include <fmt/format.h>

#include "connectors/api/destination.h"  // kSoftDeleteColumn
#include "core/ident.h"

namespace ferry::postgres {

namespace {

bool is_key(const PgApplyTable& t, size_t i) {
  return std::find(t.key.begin(), t.key.end(), static_cast<uint32_t>(i)) != t.key.end();
}

std::string quoted_columns(const std::vector<std::string>& cols, const std::string& prefix = "") {
  std::string out;
  for (const auto& c : cols) out += (out.empty() ? "" : ", ") + prefix + quote_pg_ident(c);
  return out;
}

// `soft_delete`: a row written again is live again.
std::string update_set(const std::vector<std::string>& columns, const std::vector<std::string>& key,
                       bool soft_delete) {
  std::string set;
  for (const auto& c : columns) {
    if (std::find(key.begin(), key.end(), c) != key.end()) continue;
    set += (set.empty() ? "" : ", ") + quote_pg_ident(c) + " = EXCLUDED." + quote_pg_ident(c);
  }
  if (soft_delete) set += (set.empty() ? "" : ", ") + quote_pg_ident(kSoftDeleteColumn) + " = false";
  return set.empty() ? "DO NOTHING" : "DO UPDATE SET " + set;
}

std::vector<std::string> key_names(const PgApplyTable& t) {
  std::vector<std::string> out;
  for (uint32_t k : t.key) out.push_back(t.columns[k]);
  return out;
}

}  // namespace

std::string fill_key_column(size_t i) { return fmt::format("ferry_fill_key{}", i); }

std::string staging_ddl(const PgApplyTable& t) {
  std::string cols = fmt::format("{} text, {} text", kOpColumn, kUnchangedColumn);
  for (size_t i = 0; i < t.columns.size(); ++i) cols += fmt::format(", {} {}", quote_pg_ident(t.columns[i]), t.types[i]);
  for (size_t k = 0; k < t.key.size(); ++k) cols += fmt::format(", {} {}", fill_key_column(k), t.types[t.key[k]]);
  return fmt::format("CREATE TEMP TABLE {} ({}) ON COMMIT DELETE ROWS", t.staging, cols);
}

std::string copy_staging_sql(const PgApplyTable& t) {
  std::string cols = fmt::format("{}, {}, {}", kOpColumn, kUnchangedColumn, quoted_columns(t.columns));
  for (size_t k = 0; k < t.key.size(); ++k) cols += ", " + fill_key_column(k);
  return fmt::format("COPY {} ({}) FROM STDIN", t.staging, cols);
}

std::string fill_sql(const PgApplyTable& t) {
  std::string set;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (is_key(t, i)) continue;
    std::string c = quote_pg_ident(t.columns[i]);
    set += fmt::format("{}{} = CASE WHEN substr(s.{}, {}, 1) = '1' THEN d.{} ELSE s.{} END", set.empty() ? "" : ", ", c,
                       kUnchangedColumn, i + 1, c, c);
  }
  if (set.empty()) return "";
  std::string where;
  for (size_t k = 0; k < t.key.size(); ++k)
    where += fmt::format(" AND d.{} = s.{}", quote_pg_ident(t.columns[t.key[k]]), fill_key_column(k));
  return fmt::format("UPDATE {} s SET {}, {} = '' FROM {} d WHERE s.{} = 'U' AND s.{} <> ''{}", t.staging, set,
                     kUnchangedColumn, t.target, kOpColumn, kUnchangedColumn, where);
}

std::string delete_sql(const PgApplyTable& t) {
  std::string where;
  for (uint32_t k : t.key) where += fmt::format(" AND d.{0} = s.{0}", quote_pg_ident(t.columns[k]));
  if (t.soft_delete)
    return fmt::format("UPDATE {} d SET {} = true FROM {} s WHERE s.{} = 'D'{}", t.target,
                       quote_pg_ident(kSoftDeleteColumn), t.staging, kOpColumn, where);
  return fmt::format("DELETE FROM {} d USING {} s WHERE s.{} = 'D'{}", t.target, t.staging, kOpColumn, where);
}

std::string upsert_sql(const PgApplyTable& t) {
  std::string insert = fmt::format("INSERT INTO {} ({}) SELECT {} FROM {} s WHERE s.{} = 'U' AND s.{} = ''", t.target,
                                   quoted_columns(t.columns), quoted_columns(t.columns, "s."), t.staging, kOpColumn,
                                   kUnchangedColumn);
  if (t.key.empty()) return insert;
  auto key = key_names(t);
  return fmt::format("{} ON CONFLICT ({}) {}", insert, quoted_columns(key), update_set(t.columns, key, t.soft_delete));
}

std::string unresolved_sql(const PgApplyTable& t) {
  return fmt::format("SELECT count(*) FROM {} WHERE {} = 'U' AND {} <> ''", t.staging, kOpColumn, kUnchangedColumn);
}

std::string snapshot_upsert_sql(const std::string& target, const std::string& load,
                                const std::vector<std::string>& columns, const std::vector<std::string>& key,
                                bool soft_delete) {
  std::string insert = fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}", target, quoted_columns(columns),
                                   quoted_columns(columns), load);
  if (key.empty()) return insert;
  return fmt::format("{} ON CONFLICT ({}) {}", insert, quoted_columns(key), update_set(columns, key, soft_delete));
}


}  // namespace ferry::postgres

// ClickHouse side of resync (pipe/resync.h): renaming several tables in one
// statement, EXCHANGE TABLES where the server has it, and carrying soft-deleted
// rows from an old table into its rebuilt copy.
#include <algorithm>

#include <fmt/format.h>

#include "connectors/clickhouse/clickhouse_destination.h"
#include "connectors/clickhouse/tsv_answer.h"
#include "core/error.h"
#include "core/ident.h"
#include "core/log.h"

namespace ferry::clickhouse {

void ClickHouseDestination::rename_tables(const std::vector<std::pair<std::string, std::string>>& renames) {
  if (renames.empty()) return;
  std::string sql = "RENAME TABLE ";
  for (size_t i = 0; i < renames.size(); ++i)
    sql += fmt::format("{}{} TO {}", i ? ", " : "", qualified_name(database_, renames[i].first),
                       qualified_name(database_, renames[i].second));
  client_.query(sql);
}

bool ClickHouseDestination::can_exchange_tables() {
  return capabilities().has_exchange_tables && database_engine() == "Atomic";
}

void ClickHouseDestination::exchange_tables(const std::string& a, const std::string& b) {
  client_.query("EXCHANGE TABLES " + qualified_name(database_, a) + " AND " + qualified_name(database_, b));
}

std::string ClickHouseDestination::table_identity(const std::string& table) {
  // system.tables.uuid exists from 20.x; it is all zeros outside Atomic databases.
  if (!capabilities().at_least(20, 10)) return {};
  std::string uuid = answer_value(client_.query("SELECT toString(uuid) FROM system.tables WHERE database = " +
                                                quote_ch_literal(database_) + " AND name = " + quote_ch_literal(table) +
                                                " FORMAT TabSeparated"));
  return uuid == "00000000-0000-0000-0000-000000000000" ? std::string() : uuid;
}

int64_t ClickHouseDestination::carry_deleted_rows(const TableSchema& source, const std::string& from,
                                                  const std::string& to) {
  std::vector<std::string> keys = source.key_columns();
  if (keys.empty()) return 0;  // keyless tables are plain MergeTree: nothing is soft-deleted
  std::vector<ExistingColumn> old_cols = table_columns(from);
  std::vector<ExistingColumn> new_cols = table_columns(to);
  if (old_cols.empty() || new_cols.empty()) return 0;
  auto old_type = [&](const std::string& name) -> const std::string* {
    for (const auto& c : old_cols)
      if (c.name == name) return &c.type;
    return nullptr;
  };
  bool has_deleted_flag = false;
  std::string columns;
  for (const auto& c : new_cols) {
    const std::string* t = old_type(c.name);
    if (!t || *t != c.type) continue;  // new or retyped column: the default
    has_deleted_flag |= c.name == kIsDeletedColumn;
    columns += (columns.empty() ? "" : ", ") + quote_backtick_ident(c.name);
  }
  if (!has_deleted_flag) return 0;
  std::string key_tuple;
  for (const auto& k : keys) {
    const std::string* t = old_type(k);
    auto it = std::find_if(new_cols.begin(), new_cols.end(), [&](const auto& c) { return c.name == k; });
    if (!t || it == new_cols.end() || *t != it->type) {
      spdlog::warn("resync of {}: key column \"{}\" changed type; soft-deleted rows are not carried over", to, k);
      return 0;
    }
    key_tuple += (key_tuple.empty() ? "" : ", ") + quote_backtick_ident(k);
  }
  std::string key_list = key_tuple;  // the subquery's columns; the left side is a tuple
  if (keys.size() > 1) key_tuple = "(" + key_tuple + ")";
  std::string deleted = quote_backtick_ident(kIsDeletedColumn);
  std::string select = fmt::format("SELECT {} FROM {} FINAL WHERE {} = 1 AND {} NOT IN (SELECT {} FROM {})", columns,
                                   qualified_name(database_, from), deleted, key_tuple, key_list,
                                   qualified_name(database_, to));
  // Counting the flag column alone is cheap; the FINAL scan with its key set only runs when needed.
  auto deleted_rows = [&](const std::string& table) {
    return std::strtoll(client_.query(fmt::format("SELECT count() FROM {} WHERE {} = 1 FORMAT TabSeparated",
                                                  qualified_name(database_, table), deleted)).c_str(),
                        nullptr, 10);
  };
  if (deleted_rows(from) == 0) return 0;
  int64_t before = deleted_rows(to);
  client_.query(fmt::format("INSERT INTO {} ({}) {}", qualified_name(database_, to), columns, select));
  return deleted_rows(to) - before;
}

}  // namespace ferry::clickhouse

// ClickHouse as a ferry destination (DESIGN.md section 4).
//
// Tables: source columns + _ferry_version UInt64, _ferry_is_deleted UInt8,
// _ferry_synced_at; ReplacingMergeTree(_ferry_version) ordered by the user's order_by
// plus the key columns (MergeTree ORDER BY tuple() without key). Snapshot rows are
// inserted with version 0, so a partition loaded twice collapses under FINAL.
// Not thread-safe: the runner uses one destination per worker thread.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/clickhouse/capabilities.h"
#include "connectors/clickhouse/http_client.h"
#include "connectors/clickhouse/type_map.h"
#include "connectors/destination.h"

namespace ferry::clickhouse {

struct DestinationOptions {
  // Pass _ferry_is_deleted to ReplacingMergeTree where the server supports it (23.2+),
  // so that merges drop deleted rows (DESIGN: only when the user asks for it).
  bool remove_deleted_rows = false;
};

struct ExistingColumn {
  std::string name;
  std::string type;  // as ClickHouse reports it, e.g. "Nullable(Decimal(10, 2))"
};

class ClickHouseDestination final : public Destination {
 public:
  explicit ClickHouseDestination(const PeerSpec& peer, DestinationOptions options = {});
  ClickHouseDestination(HttpOptions http, std::string database, DestinationOptions options = {});

  // "ClickHouse 18.16.1"; Transient when unreachable.
  std::string server_version() override;
  // CREATE DATABASE IF NOT EXISTS, CREATE TABLE IF NOT EXISTS; a table that already
  // exists must have every source column.
  void ensure_table(const TableSchema& source, const DestinationTable& table) override;
  // One streaming INSERT ... FORMAT TabSeparated of the partition; returns rows sent.
  int64_t load_snapshot(const TableSchema& source, const DestinationTable& table, CopyStream& rows) override;
  // SELECT count() FROM t FINAL WHERE _ferry_is_deleted = 0 (no FINAL for keyless MergeTree).
  int64_t count_rows(const DestinationTable& table) override;
  void drop_table(const std::string& table) override;

  // For CDC and resync work.
  const Capabilities& capabilities();  // SELECT version() once, then cached
  // The mapping ensure_table/load_snapshot use for `source`.
  TablePlan plan(const TableSchema& source, const DestinationTable& table);
  // Columns of an existing table in order (system.columns); empty when it does not exist.
  std::vector<ExistingColumn> table_columns(const std::string& table);
  // Engine of the database (e.g. "Ordinary", "Atomic"); EXCHANGE TABLES needs Atomic
  // and capabilities().has_exchange_tables.
  std::string database_engine();
  const std::string& database() const { return database_; }
  HttpClient& client() { return client_; }

 private:
  std::string table_engine(const std::string& table);

  HttpClient client_;
  std::string database_;
  DestinationOptions options_;
  std::optional<Capabilities> caps_;
  bool database_ready_ = false;
};

}  // namespace ferry::clickhouse

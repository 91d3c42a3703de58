// What a user configures: peers and pipes (DESIGN.md section 7). Plain data;
// config.h parses and validates it, the runner executes it.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/schema.h"

namespace ferry {

enum class PeerType { Postgres, MySQL, ClickHouse, SQLite, Kafka };
const char* to_string(PeerType t);
std::optional<PeerType> peer_type_from_string(const std::string& s);

struct PeerSpec {
  std::string name;
  PeerType type = PeerType::Postgres;
  std::string dsn;           // postgres: libpq conninfo; sqlite: file path
  std::string url;           // clickhouse: http://host:port
  std::string host;          // mysql
  int port = 0;              // mysql
  std::string database;      // clickhouse / mysql database
  std::string schema;        // postgres destination: the schema of its tables (default public)
  std::string user;
  std::string password_env;  // name of the environment variable holding the password
  // Resolved from password_env at load time. Never logged, printed or serialised.
  std::string password;
  // Settings of one peer type beyond the common ones, by key (kafka: bootstrap_servers,
  // topic, ...; the connector parses them: connectors/kafka/kafka_settings.h).
  std::map<std::string, std::string> options;
};

enum class PipeMode { Snapshot, Cdc, SnapshotCdc, Incremental };
const char* to_string(PipeMode m);
std::optional<PipeMode> pipe_mode_from_string(const std::string& s);
inline bool mode_streams(PipeMode m) { return m == PipeMode::Cdc || m == PipeMode::SnapshotCdc; }
inline bool mode_snapshots(PipeMode m) { return m == PipeMode::Snapshot || m == PipeMode::SnapshotCdc; }

struct TableMapping {
  std::string source;       // "schema.table" (postgres), "db.table" (mysql), "table"
  std::string destination;  // defaults to the source table name without schema
  std::vector<std::string> order_by;         // clickhouse only; key columns appended
  std::vector<std::string> exclude_columns;
  std::string cursor;                        // incremental only
  std::optional<std::string> initial_value;  // incremental only
  // column -> destination type created instead of the mapped one (e.g. String for a date)
  std::map<std::string, std::string> column_types;
};

struct PipeSettings {
  long long batch_size = 100000;
  Millis sync_interval{1000};
  int snapshot_parallelism = 4;
  long long snapshot_rows_per_partition = 250000;
  Millis increment_delay{15000};
  Millis schedule{300000};
  int max_retries = 10;
  Millis retry_backoff_max{60000};
  OnUnrepresentable on_unrepresentable = OnUnrepresentable::Fail;
  // PostgreSQL and MariaDB destinations: deletes set _ferry_is_deleted instead of removing
  // the row (ClickHouse deletes are soft anyway).
  bool soft_delete = false;
};

struct PipeSpec {
  std::string name;
  std::string source;       // peer name
  std::string destination;  // peer name
  PipeMode mode = PipeMode::Snapshot;
  std::vector<TableMapping> tables;
  PipeSettings settings;
};

// Source tables `to` has and `from` lacks (added), and the reverse (removed).
struct TableListChange {
  std::vector<std::string> added, removed;
  bool empty() const { return added.empty() && removed.empty(); }
};
TableListChange table_list_change(const PipeSpec& from, const PipeSpec& to);

struct Config {
  std::string file;  // where it was loaded from, for messages
  std::map<std::string, PeerSpec> peers;
  std::map<std::string, PipeSpec> pipes;
  // Keeps declaration order for listing.
  std::vector<std::string> pipe_order;
};

}  // namespace ferry

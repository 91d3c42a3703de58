#include "core/spec.h"

namespace ferry {

const char* to_string(PeerType t) {
  switch (t) {
    case PeerType::Postgres: return "postgres";
    case PeerType::MySQL: return "mysql";
    case PeerType::ClickHouse: return "clickhouse";
    case PeerType::SQLite: return "sqlite";
    case PeerType::Kafka: return "kafka";
  }
  return "?";
}

std::optional<PeerType> peer_type_from_string(const std::string& s) {
  if (s == "postgres" || s == "postgresql") return PeerType::Postgres;
  if (s == "mysql" || s == "mariadb") return PeerType::MySQL;
  if (s == "clickhouse") return PeerType::ClickHouse;
  if (s == "sqlite") return PeerType::SQLite;
  if (s == "kafka") return PeerType::Kafka;
  return std::nullopt;
}

const char* to_string(PipeMode m) {
  switch (m) {
    case PipeMode::Snapshot: return "snapshot";
    case PipeMode::Cdc: return "cdc";
    case PipeMode::SnapshotCdc: return "snapshot+cdc";
    case PipeMode::Incremental: return "incremental";
  }
  return "?";
}

std::optional<PipeMode> pipe_mode_from_string(const std::string& s) {
  if (s == "snapshot") return PipeMode::Snapshot;
  if (s == "cdc") return PipeMode::Cdc;
  if (s == "snapshot+cdc") return PipeMode::SnapshotCdc;
  if (s == "incremental") return PipeMode::Incremental;
  return std::nullopt;
}

TableListChange table_list_change(const PipeSpec& from, const PipeSpec& to) {
  auto has = [](const PipeSpec& p, const std::string& source) {
    for (const auto& t : p.tables)
      if (t.source == source) return true;
    return false;
  };
  TableListChange c;
  for (const auto& t : to.tables)
    if (!has(from, t.source)) c.added.push_back(t.source);
  for (const auto& t : from.tables)
    if (!has(to, t.source)) c.removed.push_back(t.source);
  return c;
}

}  // namespace ferry

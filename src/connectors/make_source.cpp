// Source factory and per-type capabilities: dispatch on the peer type.
#include "connectors/clickhouse/clickhouse_source.h"
#include "connectors/mysql/mysql_source.h"
#include "connectors/postgres/pg_source.h"
#include "connectors/sqlite/sqlite_source.h"
#include "core/error.h"

namespace ferry {

std::unique_ptr<Source> make_source(const PeerSpec& peer) {
  switch (peer.type) {
    case PeerType::Postgres: return std::make_unique<PgSource>(peer);
    case PeerType::ClickHouse: return std::make_unique<clickhouse::ClickHouseSource>(peer);
    case PeerType::MySQL: return std::make_unique<mysql::MysqlSource>(peer);
    case PeerType::SQLite: return std::make_unique<sqlite::SqliteSource>(peer);
    default:
      throw Error(ErrorKind::Config, std::string("peer '") + peer.name + "' of type " + to_string(peer.type) +
                                         " cannot be a source yet");
  }
}

std::optional<SourceCapabilities> source_capabilities(PeerType type) {
  switch (type) {
    case PeerType::Postgres: return PgSource::kCapabilities;
    case PeerType::ClickHouse: return clickhouse::ClickHouseSource::kCapabilities;
    case PeerType::MySQL: return mysql::MysqlSource::kCapabilities;
    case PeerType::SQLite: return sqlite::SqliteSource::kCapabilities;
    default: return std::nullopt;
  }
}

}  // namespace ferry

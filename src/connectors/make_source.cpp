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

}  // namespace ferry

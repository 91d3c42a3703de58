// Destination factory and per-type capabilities: dispatch on the peer type.
#include <memory>
#include <string>

#include "connectors/clickhouse/clickhouse_destination.h"
#include "connectors/kafka/kafka_destination.h"
#include "connectors/mysql/mysql_destination.h"
#include "connectors/postgres/pg_destination.h"
#include "connectors/api/destination.h"
#include "core/error.h"
#include "core/spec.h"

namespace ferry {

std::unique_ptr<Destination> make_destination(const PeerSpec& peer) {
  switch (peer.type) {
    case PeerType::ClickHouse:
      return std::make_unique<clickhouse::ClickHouseDestination>(peer);
    case PeerType::Kafka:
      return std::make_unique<kafka::KafkaDestination>(peer);
    case PeerType::Postgres:
      return std::make_unique<postgres::PgDestination>(peer);
    case PeerType::MySQL:
      return std::make_unique<mysql::MysqlDestination>(peer);
    default:
      throw Error(ErrorKind::Config,
                  "peer " + peer.name + ": " + to_string(peer.type) + " destination not supported yet");
  }
}

std::optional<DestinationCapabilities> destination_capabilities(PeerType type) {
  switch (type) {
    case PeerType::ClickHouse: return clickhouse::ClickHouseDestination::kCapabilities;
    case PeerType::Kafka: return kafka::KafkaDestination::kCapabilities;
    case PeerType::Postgres: return postgres::PgDestination::kCapabilities;
    case PeerType::MySQL: return mysql::MysqlDestination::kCapabilities;
    default: return std::nullopt;
  }
}

}  // namespace ferry

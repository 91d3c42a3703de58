// Reading back what ferry published to Kafka, for integration tests: a librdkafka consumer
// that reads a whole topic and a model that applies the change envelopes by key, checking
// the delivery contract (README "Kafka destination") on the way.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "support.h"

namespace ferry::test {

// FERRY_TEST_KAFKA_BOOTSTRAP (scripts/test-servers starts the broker).
std::string kafka_bootstrap();

struct KafkaMessage {
  int partition = 0;
  int64_t offset = 0;
  bool has_key = false, has_value = false;
  std::string key, value;
};

// Every message of `topic` up to its current end, per partition in offset order
// (partitions one after the other). Throws std::runtime_error when the broker does not answer.
std::vector<KafkaMessage> read_topic(const std::string& topic);

// The table rebuilt from envelopes: key JSON -> column -> value ("\\N" for null).
struct RebuiltTable {
  std::map<std::string, std::map<std::string, std::string>> rows;
  int64_t messages = 0, duplicates = 0, tombstones = 0;
  std::vector<std::string> violations;  // contract breaches seen (empty when all held)
};

// Applies the messages as a consumer would: per key, a message whose position is below the
// highest seen must repeat an earlier message of that key exactly (a replay after a crash,
// ts_ms aside) and is skipped; a delete must be followed by the key's tombstone; all
// messages of a key must be in one partition.
RebuiltTable rebuild(const std::vector<KafkaMessage>& messages);

// The source table's rows in the same shape: `key_column`'s value -> column -> text.
// (The key JSON of a single-column key is {"<key_column>":"<value>"}.)
std::map<std::string, std::map<std::string, std::string>> pg_table(Sandbox& sb, const std::string& table,
                                                                   const std::vector<std::string>& columns,
                                                                   const std::string& key_column);

// A config with peers src (the sandbox's PostgreSQL database) and bus (Kafka, topics
// "<sandbox name>.<schema>.<table>") followed by `pipes_yaml`; returns its path.
std::string write_kafka_config(const Sandbox& sb, const std::string& pipes_yaml);

}  // namespace ferry::test

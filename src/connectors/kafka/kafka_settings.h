// Settings of a kafka peer (PeerSpec::options, read by pipe/config.cpp) and the topic
// naming template. Pure functions, no librdkafka.
#pragma once
#include <string>
#include <vector>

#include "core/spec.h"

namespace ferry::kafka {

struct KafkaSettings {
  std::string bootstrap_servers;                   // host:port[,host:port...]
  std::string topic = "{prefix}.{schema}.{table}";  // template, see topic_name
  std::string topic_prefix;                        // default: the peer's name
  bool create_topics = true;                       // create missing topics (else they must exist)
  int partitions = 3;                              // for created topics
  int replication_factor = -1;                     // for created topics; -1: the broker's default
  std::string cleanup_policy = "delete";           // for created topics: delete | compact | compact,delete
  std::string compression = "lz4";                 // none | gzip | snappy | lz4 | zstd
  std::string security_protocol = "plaintext";     // plaintext | ssl | sasl_plaintext | sasl_ssl
  std::string sasl_mechanism;                      // PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
  std::string sasl_username;                       // the peer's user
  std::string sasl_password;                       // from the peer's password_env; never printed
  std::string ssl_ca_location, ssl_certificate_location, ssl_key_location;
  int message_timeout_ms = 60000;                  // a message not acknowledged by then fails (Transient)
};

// The YAML keys a kafka peer takes beyond type, user and password_env.
const std::vector<std::string>& option_keys();

// Throws Error(Config) naming the key, the value and what is expected.
KafkaSettings parse_settings(const PeerSpec& peer);

// The template with {prefix}, {schema} (the source schema or database, may be empty),
// {table} (the source table) and {destination} (the destination table name) replaced;
// empty parts leave no doubled, leading or trailing dot ("{prefix}.{schema}.{table}"
// with no schema: "prefix.table"). Characters Kafka does not allow in a topic name
// ([a-zA-Z0-9._-] only) become '_'.
std::string topic_name(const std::string& tmpl, const std::string& prefix, const std::string& schema,
                       const std::string& table, const std::string& destination);

}  // namespace ferry::kafka

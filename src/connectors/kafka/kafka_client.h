// A librdkafka producer for ferry: acks=all, idempotent, murmur2 key partitioning (the Java
// client's, so keys land where Java producers would put them), plus the admin calls ferry
// needs (metadata, topic creation, topic configs).
//
// Thread safety: produce/wait_delivered/metadata calls may run on several threads at once
// (librdkafka's handle is thread-safe); each caller tracks its own messages in a Delivery.
// Errors: ferry::Error; Transient for anything a retry may fix (broker down, timeouts,
// leader changes), Permanent for what cannot succeed (too large, not authorised), Config for
// settings librdkafka refuses. Secrets go into librdkafka's config only, never into messages.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/kafka/kafka_settings.h"

struct rd_kafka_s;
struct rd_kafka_topic_s;

namespace ferry::kafka {

// The messages of one produce run; the delivery reports of its messages land here.
class Delivery {
 public:
  void sent() { pending_.fetch_add(1, std::memory_order_relaxed); }
  void reported(int err, const char* what);  // from the delivery report callback
  int64_t pending() const { return pending_.load(std::memory_order_acquire); }
  // The first failure, or err 0.
  int first_error(std::string& what) const;

 private:
  std::atomic<int64_t> pending_{0};
  mutable std::mutex mu_;
  int err_ = 0;
  std::string what_;
};

struct TopicInfo {
  bool exists = false;
  int partitions = 0;
};

class KafkaClient {
 public:
  explicit KafkaClient(const KafkaSettings& settings);
  ~KafkaClient();
  KafkaClient(const KafkaClient&) = delete;
  KafkaClient& operator=(const KafkaClient&) = delete;

  // Queues one message; partition -1: by the key's hash. value nullptr: a tombstone.
  // Blocks (serving delivery reports) while librdkafka's queue is full.
  void produce(Delivery& d, const std::string& topic, int partition, std::string_view key, const std::string* value);
  // Returns when every message of `d` is acknowledged by the broker; throws on the first
  // failed delivery (Transient when retryable) or after message_timeout (+ a margin).
  void wait_delivered(Delivery& d);

  // Broker metadata of `topic`; throws Transient when the cluster does not answer.
  TopicInfo topic_info(const std::string& topic);
  // "host:port (N brokers)"; throws Transient when the cluster does not answer.
  std::string cluster_summary();
  // Creates the topic (settings' partitions, replication factor, cleanup.policy); an
  // existing topic is fine.
  void create_topic(const std::string& topic);
  // The topic's configuration value `name` ("" when unknown).
  std::string topic_config(const std::string& topic, const std::string& name);
  // The values (tombstones left out) of the last `per_partition` messages of each partition
  // of `topic`, read by a short-lived consumer that commits nothing; none when the topic
  // does not exist. Throws Transient when the cluster does not answer.
  std::vector<std::string> last_values(const std::string& topic, int per_partition);
  // A fatal producer error (idempotence broken): this client cannot be used any more.
  bool failed_fatally();

 private:
  rd_kafka_topic_s* topic_handle(const std::string& topic);
  KafkaSettings settings_;
  rd_kafka_s* rk_ = nullptr;
  std::mutex topics_mu_;
  std::map<std::string, rd_kafka_topic_s*> topics_;
};

// Transient unless `err` (an rd_kafka_resp_err_t) cannot succeed on a retry.
bool retryable(int err);

}  // namespace ferry::kafka

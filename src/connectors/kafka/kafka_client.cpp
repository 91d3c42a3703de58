#include "connectors/kafka/kafka_client.h"

#include <librdkafka/rdkafka.h>

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "core/error.h"

namespace ferry::kafka {

namespace {

using Clock = std::chrono::steady_clock;

void delivery_report(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* d = static_cast<Delivery*>(m->_private);
  if (d) d->reported(m->err, m->err ? rd_kafka_err2str(m->err) : "");
}

// librdkafka's own log (connection state: "brokers are down", ...) goes to ferry's log at
// debug level: ferry reports the failures that matter itself (delivery errors, retries).
void log_line(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  spdlog::debug("librdkafka {} {}: {}", level, fac, buf);
}

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value, bool secret = false) {
  char err[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw Error(ErrorKind::Config, std::string("kafka setting ") + name + (secret ? "" : " = '" + value + "'") +
                                       " refused by librdkafka: " + err);
  }
}

// Where the cluster is and how to log in: the same for the producer and the reader.
void set_connection(rd_kafka_conf_t* conf, const KafkaSettings& s) {
  set(conf, "bootstrap.servers", s.bootstrap_servers);
  set(conf, "client.id", "ferry");
  set(conf, "socket.keepalive.enable", "true");
  set(conf, "security.protocol", s.security_protocol);
  if (!s.sasl_mechanism.empty()) {
    set(conf, "sasl.mechanisms", s.sasl_mechanism);
    set(conf, "sasl.username", s.sasl_username);
    set(conf, "sasl.password", s.sasl_password, true);
  }
  if (!s.ssl_ca_location.empty()) set(conf, "ssl.ca.location", s.ssl_ca_location);
  if (!s.ssl_certificate_location.empty()) set(conf, "ssl.certificate.location", s.ssl_certificate_location);
  if (!s.ssl_key_location.empty()) set(conf, "ssl.key.location", s.ssl_key_location);
  set(conf, "log_level", "4");
  rd_kafka_conf_set_log_cb(conf, log_line);
}

struct AdminQueue {
  rd_kafka_queue_t* q;
  explicit AdminQueue(rd_kafka_t* rk) : q(rd_kafka_queue_new(rk)) {}
  ~AdminQueue() { rd_kafka_queue_destroy(q); }
};

// Waits for the admin result event of the request sent to `q`.
rd_kafka_event_t* admin_result(rd_kafka_queue_t* q, int timeout_ms, const char* what) {
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
  if (!ev) throw Error(ErrorKind::Transient, std::string("kafka: no answer to ") + what);
  if (rd_kafka_event_error(ev)) {
    int err = rd_kafka_event_error(ev);
    std::string msg = std::string("kafka: ") + what + " failed: " + rd_kafka_event_error_string(ev);
    rd_kafka_event_destroy(ev);
    throw Error(retryable(err) ? ErrorKind::Transient : ErrorKind::Permanent, msg);
  }
  return ev;
}

}  // namespace

bool retryable(int e) {
  switch (static_cast<rd_kafka_resp_err_t>(e)) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return false;
    default:
      return true;
  }
}

void Delivery::reported(int err, const char* what) {
  if (err) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!err_) {
      err_ = err;
      what_ = what;
    }
  }
  pending_.fetch_sub(1, std::memory_order_release);
}

int Delivery::first_error(std::string& what) const {
  std::lock_guard<std::mutex> lock(mu_);
  what = what_;
  return err_;
}

KafkaClient::KafkaClient(const KafkaSettings& s) : settings_(s) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set_connection(conf, s);
  set(conf, "acks", "all");
  set(conf, "enable.idempotence", "true");  // ordered, no duplicates from internal retries
  set(conf, "max.in.flight.requests.per.connection", "5");
  set(conf, "partitioner", "murmur2_random");  // the Java client's key hash
  set(conf, "compression.codec", s.compression);
  set(conf, "message.timeout.ms", std::to_string(s.message_timeout_ms));
  set(conf, "linger.ms", "5");
  set(conf, "queue.buffering.max.messages", "500000");
  set(conf, "queue.buffering.max.kbytes", "262144");
  // Never let a metadata lookup create a topic with the broker's defaults (ensure_table creates them).
  set(conf, "allow.auto.create.topics", "false");
  rd_kafka_conf_set_dr_msg_cb(conf, delivery_report);
  char err[512];
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    throw Error(ErrorKind::Config, std::string("kafka: cannot create a producer: ") + err);
  }
}

KafkaClient::~KafkaClient() {
  // Messages still queued belong to a call that already failed: don't wait for them.
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(rk_, 0);
  for (auto& [_, t] : topics_) rd_kafka_topic_destroy(t);
  rd_kafka_destroy(rk_);
}

rd_kafka_topic_t* KafkaClient::topic_handle(const std::string& topic) {
  std::lock_guard<std::mutex> lock(topics_mu_);
  auto it = topics_.find(topic);
  if (it != topics_.end()) return it->second;
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  if (!t) throw Error(ErrorKind::Permanent, "kafka: cannot use topic '" + topic + "': " +
                                                rd_kafka_err2str(rd_kafka_last_error()));
  topics_.emplace(topic, t);
  return t;
}

void KafkaClient::produce(Delivery& d, const std::string& topic, int partition, std::string_view key,
                          const std::string* value) {
  rd_kafka_topic_t* t = topic_handle(topic);
  for (;;) {
    d.sent();
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_, RD_KAFKA_V_RKT(t), RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.empty() ? nullptr : (void*)key.data(), key.size()),
        RD_KAFKA_V_VALUE(value ? (void*)value->data() : nullptr, value ? value->size() : 0), RD_KAFKA_V_OPAQUE(&d),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    d.reported(0, "");  // not queued: undo sent()
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk_, 50);
      continue;
    }
    throw Error(retryable(err) ? ErrorKind::Transient : ErrorKind::Permanent,
                "kafka: producing to topic '" + topic + "' failed: " + rd_kafka_err2str(err));
  }
  rd_kafka_poll(rk_, 0);
}

void KafkaClient::wait_delivered(Delivery& d) {
  auto deadline = Clock::now() + std::chrono::milliseconds(settings_.message_timeout_ms + 10000);
  while (d.pending() > 0) {
    if (Clock::now() > deadline) {
      // librdkafka holds &d in its messages: purge them (they report _PURGE_QUEUE) and
      // serve those reports before `d` goes away.
      int64_t n = d.pending();
      rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      while (d.pending() > 0) rd_kafka_poll(rk_, 20);
      throw Error(ErrorKind::Transient, "kafka: " + std::to_string(n) +
                                            " messages not acknowledged by the broker in time");
    }
    rd_kafka_poll(rk_, 20);
  }
  std::string what;
  if (int err = d.first_error(what))
    throw Error(retryable(err) ? ErrorKind::Transient : ErrorKind::Permanent,
                "kafka: a message was not delivered: " + what);
  char fatal[512];
  if (rd_kafka_fatal_error(rk_, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw Error(ErrorKind::Transient, std::string("kafka: producer failed: ") + fatal);
}

bool KafkaClient::failed_fatally() {
  return rd_kafka_fatal_error(rk_, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR;
}

TopicInfo KafkaClient::topic_info(const std::string& topic) {
  rd_kafka_topic_t* t = topic_handle(topic);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, t, &md, 10000);
  if (err)
    throw Error(ErrorKind::Transient, "kafka: no metadata from " + settings_.bootstrap_servers + ": " +
                                          rd_kafka_err2str(err));
  TopicInfo info;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& tm = md->topics[i];
    if (topic != tm.topic) continue;
    if (tm.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      info.exists = true;
      info.partitions = tm.partition_cnt;
    } else if (tm.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      std::string why = rd_kafka_err2str(tm.err);
      int e = tm.err;
      rd_kafka_metadata_destroy(md);
      throw Error(retryable(e) ? ErrorKind::Transient : ErrorKind::Permanent,
                  "kafka: topic '" + topic + "': " + why);
    }
  }
  rd_kafka_metadata_destroy(md);
  return info;
}

std::string KafkaClient::cluster_summary() {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, nullptr, &md, 10000);
  if (err)
    throw Error(ErrorKind::Transient, "kafka: no answer from " + settings_.bootstrap_servers + ": " +
                                          rd_kafka_err2str(err));
  std::string out = "Kafka " + settings_.bootstrap_servers + " (" + std::to_string(md->broker_cnt) + " broker" +
                    (md->broker_cnt == 1 ? "" : "s") + ")";
  rd_kafka_metadata_destroy(md);
  return out;
}

void KafkaClient::create_topic(const std::string& topic) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), settings_.partitions, settings_.replication_factor,
                                                  err, sizeof err);
  if (!nt) throw Error(ErrorKind::Config, "kafka: topic '" + topic + "': " + err);
  rd_kafka_NewTopic_set_config(nt, "cleanup.policy", settings_.cleanup_policy.c_str());
  AdminQueue q(rk_);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, 15000, err, sizeof err);
  rd_kafka_CreateTopics(rk_, &nt, 1, opts, q.q);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_event_t* ev = admin_result(q.q, 15000, "creating a topic");
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
    std::string why = rd_kafka_topic_result_error_string(results[i]) ? rd_kafka_topic_result_error_string(results[i])
                                                                      : rd_kafka_err2str(e);
    rd_kafka_event_destroy(ev);
    throw Error(retryable(e) ? ErrorKind::Transient : ErrorKind::Config,
                "kafka: cannot create topic '" + topic + "': " + why +
                    " (check partitions, replication_factor and cleanup_policy of the peer, or create the topic)");
  }
  rd_kafka_event_destroy(ev);
}

std::string KafkaClient::topic_config(const std::string& topic, const std::string& name) {
  char err[512];
  rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  AdminQueue q(rk_);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk_, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  rd_kafka_AdminOptions_set_request_timeout(opts, 10000, err, sizeof err);
  rd_kafka_DescribeConfigs(rk_, &res, 1, opts, q.q);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_ConfigResource_destroy(res);
  rd_kafka_event_t* ev = admin_result(q.q, 10000, "describing a topic's configuration");
  std::string value;
  size_t nres = 0;
  const rd_kafka_ConfigResource_t** rs =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &nres);
  for (size_t i = 0; i < nres; ++i) {
    size_t nc = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(rs[i], &nc);
    for (size_t j = 0; j < nc; ++j)
      if (name == rd_kafka_ConfigEntry_name(entries[j]) && rd_kafka_ConfigEntry_value(entries[j]))
        value = rd_kafka_ConfigEntry_value(entries[j]);
  }
  rd_kafka_event_destroy(ev);
  return value;
}

std::vector<std::string> KafkaClient::last_values(const std::string& topic, int per_partition) {
  TopicInfo info = topic_info(topic);
  if (!info.exists) return {};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set_connection(conf, settings_);
  set(conf, "group.id", "ferry-reader");  // assign() only: nothing is committed to the group
  set(conf, "enable.auto.commit", "false");
  set(conf, "enable.partition.eof", "true");
  set(conf, "allow.auto.create.topics", "false");
  char err[512];
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err),
                                                              rd_kafka_destroy);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    throw Error(ErrorKind::Config, std::string("kafka: cannot create a reader: ") + err);
  }
  const int timeout_ms = 10000;
  std::vector<std::string> values;
  for (int p = 0; p < info.partitions; ++p) {
    int64_t low = 0, high = 0;
    if (auto e = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &low, &high, timeout_ms))
      throw Error(retryable(e) ? ErrorKind::Transient : ErrorKind::Permanent,
                  "kafka: offsets of " + topic + " partition " + std::to_string(p) + ": " + rd_kafka_err2str(e));
    if (high <= low) continue;
    std::unique_ptr<rd_kafka_topic_partition_list_t, decltype(&rd_kafka_topic_partition_list_destroy)> list(
        rd_kafka_topic_partition_list_new(1), rd_kafka_topic_partition_list_destroy);
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = std::max(low, high - per_partition);
    rd_kafka_assign(rk.get(), list.get());
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (Clock::now() > deadline)
        throw Error(ErrorKind::Transient, "kafka: reading the end of " + topic + " partition " + std::to_string(p) +
                                              " timed out");
      std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> m(
          rd_kafka_consumer_poll(rk.get(), 500), rd_kafka_message_destroy);
      if (!m) continue;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
      if (m->err)
        throw Error(retryable(m->err) ? ErrorKind::Transient : ErrorKind::Permanent,
                    "kafka: reading " + topic + ": " + rd_kafka_message_errstr(m.get()));
      if (m->payload) values.emplace_back(static_cast<const char*>(m->payload), m->len);
      if (m->offset + 1 >= high) break;
    }
    rd_kafka_assign(rk.get(), nullptr);
  }
  return values;
}

}  // namespace ferry::kafka

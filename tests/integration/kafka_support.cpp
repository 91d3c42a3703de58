#include "kafka_support.h"

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <stdexcept>

namespace ferry::test {

using json = nlohmann::json;

std::string kafka_bootstrap() { return env_or_fail("FERRY_TEST_KAFKA_BOOTSTRAP"); }

std::vector<KafkaMessage> read_topic(const std::string& topic) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) throw std::runtime_error(err);
  };
  set("bootstrap.servers", kafka_bootstrap());
  set("group.id", "ferry-test-reader");
  set("enable.auto.commit", "false");
  set("enable.partition.eof", "true");
  set("log_level", "3");
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err),
                                                              rd_kafka_destroy);
  if (!rk) throw std::runtime_error(err);
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk.get(), 0, t, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_topic_destroy(t);
    throw std::runtime_error("no metadata for topic " + topic);
  }
  int partitions = md->topic_cnt == 1 && md->topics[0].err == 0 ? md->topics[0].partition_cnt : 0;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
  std::vector<KafkaMessage> out;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &low, &high, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error("no watermarks for " + topic);
    if (high <= low) continue;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = low;
    rd_kafka_assign(rk.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    int64_t next = low;
    int idle = 0;
    while (next < high) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 500);
      if (!m) {
        if (++idle > 60) throw std::runtime_error("reading " + topic + " stalled");
        continue;
      }
      idle = 0;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        KafkaMessage km;
        km.partition = m->partition;
        km.offset = m->offset;
        km.has_key = m->key != nullptr;
        km.has_value = m->payload != nullptr;
        if (m->key) km.key.assign(static_cast<const char*>(m->key), m->key_len);
        if (m->payload) km.value.assign(static_cast<const char*>(m->payload), m->len);
        next = m->offset + 1;
        out.push_back(std::move(km));
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::string why = rd_kafka_message_errstr(m);
        rd_kafka_message_destroy(m);
        throw std::runtime_error("reading " + topic + ": " + why);
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(rk.get(), nullptr);
  }
  return out;
}

RebuiltTable rebuild(const std::vector<KafkaMessage>& messages) {
  RebuiltTable t;
  struct KeyState {
    uint64_t max_position = 0;
    bool seen = false;
    int partition = -1;
    bool tombstone_due = false;
    std::multiset<std::string> earlier;  // "<position> <envelope without ts_ms>"
  };
  std::map<std::string, KeyState> keys;
  for (const auto& m : messages) {
    ++t.messages;
    if (!m.has_key) {  // truncate events: not in these tests
      t.violations.push_back(fmt::format("message without key at {}:{}", m.partition, m.offset));
      continue;
    }
    KeyState& k = keys[m.key];
    if (k.partition >= 0 && k.partition != m.partition)
      t.violations.push_back(fmt::format("key {} in partitions {} and {}", m.key, k.partition, m.partition));
    k.partition = m.partition;
    if (!m.has_value) {
      ++t.tombstones;
      k.tombstone_due = false;
      continue;
    }
    if (k.tombstone_due) t.violations.push_back(fmt::format("delete of key {} not followed by a tombstone", m.key));
    json v = json::parse(m.value);
    uint64_t pos = std::stoull(v["source"]["position"].get<std::string>());
    std::string op = v["op"];
    json without_ts = v;
    without_ts.erase("ts_ms");
    std::string fingerprint = std::to_string(pos) + " " + without_ts.dump();
    if (k.seen && pos < k.max_position) {
      // A replay: must repeat something this key already carried.
      if (k.earlier.count(fingerprint) == 0)
        t.violations.push_back(fmt::format("key {}: position {} after {} is not a replay of an earlier message: {}",
                                           m.key, pos, k.max_position, m.value));
      ++t.duplicates;
      if (op == "d") k.tombstone_due = true;
      continue;
    }
    k.seen = true;
    k.max_position = pos;
    k.earlier.insert(fingerprint);
    json key = json::parse(m.key);
    if (op == "d") {
      t.rows.erase(m.key);
      k.tombstone_due = true;
    } else if (op == "c" || op == "u" || op == "r") {
      auto& row = t.rows[m.key];
      for (auto& [col, val] : v["after"].items()) row[col] = val.is_null() ? "\\N" : val.get<std::string>();
    } else {
      t.violations.push_back("unexpected op " + op);
    }
  }
  for (const auto& [key, k] : keys)
    if (k.tombstone_due) t.violations.push_back(fmt::format("delete of key {} not followed by a tombstone", key));
  return t;
}

std::map<std::string, std::map<std::string, std::string>> pg_table(Sandbox& sb, const std::string& table,
                                                                   const std::vector<std::string>& columns,
                                                                   const std::string& key_column) {
  std::string select;
  for (const auto& c : columns) select += (select.empty() ? "" : ", ") + c + "::text";
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const auto& r : sb.pg_rows("SELECT " + select + " FROM " + table)) {
    std::map<std::string, std::string> row;
    std::string key;
    for (size_t i = 0; i < columns.size(); ++i) {
      row[columns[i]] = r[i];
      if (columns[i] == key_column) key = json{{key_column, r[i]}}.dump();
    }
    out[key] = std::move(row);
  }
  return out;
}

std::string write_kafka_config(const Sandbox& sb, const std::string& pipes_yaml) {
  return write_file(sb.dir() + "/ferry.yaml",
                    fmt::format("peers:\n  src: {{ type: postgres, dsn: \"{}\" }}\n"
                                "  bus: {{ type: kafka, bootstrap_servers: \"{}\", topic_prefix: \"{}\", partitions: 3 }}\n"
                                "pipes:\n{}",
                                sb.pg_dsn(), kafka_bootstrap(), sb.name(), pipes_yaml));
}

}  // namespace ferry::test

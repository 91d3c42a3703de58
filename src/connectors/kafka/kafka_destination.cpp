#include "connectors/kafka/kafka_destination.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "connectors/kafka/envelope.h"
#include "connectors/kafka/kafka_client.h"
#include "core/check.h"
#include "core/error.h"
#include "core/spec.h"

namespace ferry::kafka {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// COPY text escapes of one field (connectors/api/copy_stream.h) into `out`.
void unescape_field(std::string_view raw, std::string& out) {
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\' || i + 1 >= raw.size()) {
      out += c;
      continue;
    }
    char e = raw[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': {
        int v = 0, n = 0;
        while (n < 2 && i + 1 < raw.size() && std::isxdigit(static_cast<unsigned char>(raw[i + 1]))) {
          char h = raw[++i];
          v = v * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
          ++n;
        }
        if (n == 0) out += 'x';
        else out += static_cast<char>(v);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0', n = 1;
          while (n < 3 && i + 1 < raw.size() && raw[i + 1] >= '0' && raw[i + 1] <= '7') v = v * 8 + (raw[++i] - '0'), ++n;
          out += static_cast<char>(v);
        } else {
          out += e;
        }
    }
  }
}

void split_source(const std::string& source, std::string& schema, std::string& table) {
  auto dot = source.rfind('.');
  if (dot == std::string::npos) schema.clear(), table = source;
  else schema = source.substr(0, dot), table = source.substr(dot + 1);
}

}  // namespace

KafkaDestination::KafkaDestination(const PeerSpec& peer) : peer_name_(peer.name), settings_(parse_settings(peer)) {}

KafkaDestination::~KafkaDestination() = default;

std::shared_ptr<KafkaClient> KafkaDestination::client() {
  std::lock_guard<std::mutex> lock(mu_);
  // A producer whose idempotence state broke (fatal error) is replaced; its sequence starts anew.
  if (client_ && client_->failed_fatally()) {
    spdlog::warn("kafka peer {}: producer failed fatally, starting a new one", peer_name_);
    client_.reset();
  }
  if (!client_) client_ = std::make_shared<KafkaClient>(settings_);
  return client_;
}

std::string KafkaDestination::topic_for(const std::string& schema, const std::string& table,
                                        const std::string& destination) const {
  return topic_name(settings_.topic, settings_.topic_prefix, schema, table, destination);
}

std::string KafkaDestination::server_version() { return client()->cluster_summary(); }

void KafkaDestination::check_table(const TableSchema& source, const DestinationTable& table) {
  if (source.key_columns().empty())
    throw Error(ErrorKind::Config, "table " + source.display_name() +
                                       " has no primary key, which a kafka destination needs (messages are keyed by it)"
                                       "; add a primary key or leave the table out of the pipe");
}

void KafkaDestination::ensure_table(const TableSchema& source, const DestinationTable& table) {
  check_table(source, table);
  std::string topic = topic_for(source.schema, source.name, table.name);
  {
    std::lock_guard<std::mutex> lock(mu_);
    schema_of_[table.name] = source.schema;
    topic_of_[table.name] = topic;
  }
  auto c = client();
  TopicInfo info = c->topic_info(topic);
  if (!info.exists) {
    if (!settings_.create_topics)
      throw Error(ErrorKind::Config, "kafka topic '" + topic + "' (table " + source.display_name() +
                                         ") does not exist and peer " + peer_name_ +
                                         " has create_topics: false; create the topic or set create_topics: true");
    c->create_topic(topic);
    spdlog::info("kafka peer {}: created topic {} ({} partitions, cleanup.policy {})", peer_name_, topic,
                 settings_.partitions, settings_.cleanup_policy);
  }
}

int64_t KafkaDestination::load_snapshot(const TableSchema& source, const DestinationTable& table, CopyStream& rows,
                                        uint64_t version) {
  const std::string topic = topic_for(source.schema, source.name, table.name);
  const std::string source_name = source.display_name();
  std::vector<std::string> columns;
  for (const auto& c : source.columns) columns.push_back(c.name);
  std::vector<uint32_t> key;
  for (const auto& k : source.key_columns())
    for (uint32_t i = 0; i < columns.size(); ++i)
      if (columns[i] == k) key.push_back(i);
  if (key.empty()) check_table(source, table);

  auto c = client();
  Delivery delivery;
  std::string chunk, arena, key_json, value;
  std::vector<Cell> cells(columns.size());
  int64_t n = 0;
  const int64_t ts = now_ms();
  EnvelopeSource src{source_name, version, 0, true};
  while (rows.next_chunk(chunk)) {
    std::string_view rest(chunk);
    while (!rest.empty()) {
      size_t eol = rest.find('\n');
      std::string_view line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
      arena.clear();
      size_t field = 0, start = 0;
      for (size_t i = 0; i <= line.size(); ++i) {
        if (i < line.size() && line[i] != '\t') continue;
        std::string_view raw = line.substr(start, i - start);
        if (field < cells.size()) {
          Cell& cell = cells[field];
          if (raw == "\\N") {
            cell = Cell{};
          } else {
            cell.state = CellState::Value;
            cell.offset = static_cast<uint32_t>(arena.size());
            unescape_field(raw, arena);
            cell.size = static_cast<uint32_t>(arena.size() - cell.offset);
          }
        }
        ++field;
        start = i + 1;
      }
      if (field != cells.size())
        throw Error(ErrorKind::Permanent, "kafka: a snapshot row of " + source_name + " has " + std::to_string(field) +
                                              " fields, expected " + std::to_string(cells.size()));
      RowCells row{&columns, cells.data(), arena};
      key_json.clear();
      value.clear();
      encode_key(key_json, row, key);
      encode_envelope(value, 'r', nullptr, &row, src, ts);
      c->produce(delivery, topic, -1, key_json, &value);
      ++n;
    }
    chunk.clear();
  }
  c->wait_delivered(delivery);
  return n;
}

std::string KafkaDestination::topic_of(const ChangeTable& t, std::string& source_name) {
  std::string schema, table;
  split_source(t.source, schema, table);
  if (schema.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = schema_of_.find(t.destination);
    if (it == schema_of_.end())
      throw Error(ErrorKind::Config, "kafka: the topic of table '" + t.source +
                                         "' depends on its schema; name the table with its schema or database "
                                         "(like public." + t.source + ") in the pipe's tables");
    schema = it->second;
  }
  source_name = schema.empty() ? table : schema + "." + table;
  return topic_for(schema, table, t.destination);
}

void KafkaDestination::apply_changes(const ChangeBatch& batch) {
  auto c = client();
  std::vector<std::string> topics(batch.tables.size()), names(batch.tables.size());
  std::vector<bool> resolved(batch.tables.size(), false);
  Delivery delivery;
  std::string key_json, value;
  const int64_t ts = now_ms();
  for (const RowChange& r : batch.rows) {
    const ChangeTable& t = batch.tables[r.table];
    if (!resolved[r.table]) {
      topics[r.table] = topic_of(t, names[r.table]);
      resolved[r.table] = true;
    }
    const std::string& topic = topics[r.table];
    EnvelopeSource src{names[r.table], r.version, r.commit_time_ms, false};
    if (r.op == RowOp::Truncate) {
      // Every partition gets the event, in order with the keys it holds.
      int parts;
      {
        std::lock_guard<std::mutex> lock(mu_);
        parts = partitions_[topic];
      }
      if (parts == 0) {
        parts = c->topic_info(topic).partitions;
        std::lock_guard<std::mutex> lock(mu_);
        partitions_[topic] = parts;
      }
      value.clear();
      encode_envelope(value, 't', nullptr, nullptr, src, ts);
      for (int p = 0; p < parts; ++p) c->produce(delivery, topic, p, {}, &value);
      continue;
    }
    RowCells row{&t.columns, &batch.cells[r.first_cell], batch.arena};
    if (r.op == RowOp::Upsert && r.old_key_cell != RowChange::kNoOldKey) {
      // The key changed: the old key is deleted (and tombstoned), the new one inserted.
      RowCells old{&t.columns, &batch.cells[r.old_key_cell], batch.arena};
      key_json.clear();
      value.clear();
      encode_key(key_json, old, t.key);
      encode_envelope(value, 'd', &old, nullptr, src, ts);
      c->produce(delivery, topic, -1, key_json, &value);
      c->produce(delivery, topic, -1, key_json, nullptr);
    }
    key_json.clear();
    value.clear();
    encode_key(key_json, row, t.key);
    if (r.op == RowOp::Delete) {
      encode_envelope(value, 'd', &row, nullptr, src, ts);
      c->produce(delivery, topic, -1, key_json, &value);
      c->produce(delivery, topic, -1, key_json, nullptr);  // tombstone: compaction drops the key
    } else {
      encode_envelope(value, r.inserted ? 'c' : 'u', nullptr, &row, src, ts);
      c->produce(delivery, topic, -1, key_json, &value);
    }
  }
  c->wait_delivered(delivery);
}

void KafkaDestination::drop_table(const std::string& table) {
  spdlog::info("kafka peer {}: topics are never deleted by ferry (table {}); delete them with Kafka's tools",
               peer_name_, table);
}

bool KafkaDestination::table_exists(const std::string& table) {
  std::string topic;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = topic_of_.find(table);
    if (it == topic_of_.end()) return false;  // staging names (ferry_tmp_*, ...) never have topics
    topic = it->second;
  }
  return client()->topic_info(topic).exists;
}

uint64_t KafkaDestination::max_version(const DestinationTable& table) {
  std::string topic;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = topic_of_.find(table.name);
    if (it == topic_of_.end())
      throw Error(ErrorKind::Permanent, "internal error: kafka max_version of " + table.name + " before ensure_table");
    topic = it->second;
  }
  // Messages of one partition are in publishing order, and every run publishes above the
  // runs before it: the last few hold the partition's highest position.
  uint64_t highest = 0;
  for (const auto& value : client()->last_values(topic, 64))
    if (auto p = envelope_position(value)) highest = std::max(highest, *p);
  return highest;
}

void KafkaDestination::truncate_table(const std::string& table) {
  throw Error(ErrorKind::Config, "a kafka destination cannot clear its topics (table " + table +
                                     "); reset without clearing the destination republishes the snapshot (op r)");
}

void KafkaDestination::precheck(const PipeSpec& pipe, bool new_pipe, std::vector<CheckResult>& out) {
  std::shared_ptr<KafkaClient> c;
  try {
    c = client();
    out.push_back(check_pass("destination connectivity", "connected: " + c->cluster_summary()));
  } catch (const std::exception& e) {
    out.push_back(check_fail("destination connectivity", e.what(),
                             "check that Kafka runs there and the peer's bootstrap_servers, security_protocol, "
                             "user and password_env"));
    return;
  }
  for (const auto& m : pipe.tables) {
    std::string schema, table;
    split_source(m.source, schema, table);
    std::string dest = m.destination.empty() ? table : m.destination;
    std::string topic = topic_for(schema, table, dest);
    std::string name = "topic " + topic;
    try {
      TopicInfo info = c->topic_info(topic);
      if (!info.exists) {
        if (settings_.create_topics)
          out.push_back(check_pass(name, "will be created: " + std::to_string(settings_.partitions) +
                                             " partitions, cleanup.policy " + settings_.cleanup_policy));
        else
          out.push_back(check_fail(name, "does not exist and create_topics is false",
                                   "create the topic or set create_topics: true on peer " + peer_name_));
        continue;
      }
      std::string policy = c->topic_config(topic, "cleanup.policy");
      std::string reason = "exists: " + std::to_string(info.partitions) + " partitions, cleanup.policy " +
                           (policy.empty() ? "unknown" : policy);
      if (policy.find("delete") != std::string::npos && policy.find("compact") == std::string::npos)
        out.push_back(check_pass(name, reason + " (old messages expire with retention; a consumer that starts late "
                                                "needs a reset to see every row)"));
      else
        out.push_back(check_pass(name, reason));
    } catch (const Error& e) {
      out.push_back(check_fail(name, e.what(), "check the peer's permissions on the topic (describe, write)"));
    }
  }
}

}  // namespace ferry::kafka

// The Kafka message JSON (connectors/kafka/envelope.h) byte by byte, the topic naming
// template and the kafka peer's settings (connectors/kafka/kafka_settings.h, pipe/config.cpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connectors/api/change.h"
#include "connectors/kafka/envelope.h"
#include "connectors/kafka/kafka_settings.h"
#include "core/error.h"
#include "pipe/config.h"

using namespace ferry;
using namespace ferry::kafka;

namespace {

struct Row {
  ChangeBatch b;
  std::vector<std::string> columns;
  RowCells cells() const { return RowCells{&columns, b.cells.data(), b.arena}; }
};

Row make_row(std::vector<std::string> columns, std::vector<std::pair<CellState, std::string>> values) {
  Row r;
  r.columns = std::move(columns);
  for (auto& [st, v] : values) r.b.add_cell(st, v);
  return r;
}

}  // namespace

TEST(KafkaEnvelope, InsertExactJson) {
  Row r = make_row({"id", "name", "price", "note"}, {{CellState::Value, "7"},
                                                     {CellState::Value, "Zoë \"the\" \\ cat\n"},
                                                     {CellState::Value, "1.5000000000000002"},
                                                     {CellState::Null, ""}});
  RowCells row = r.cells();
  std::string key, value;
  encode_key(key, row, {0});
  EXPECT_EQ(key, R"({"id":"7"})");
  encode_envelope(value, 'c', nullptr, &row, {"public.items", 123456789012345ULL, 1700000000123, false}, 1700000000999);
  EXPECT_EQ(value,
            R"({"before":null,"after":{"id":"7","name":"Zoë \"the\" \\ cat\n","price":"1.5000000000000002","note":null},)"
            R"("op":"c","source":{"table":"public.items","position":"123456789012345","commit_time_ms":1700000000123,)"
            R"("snapshot":false},"ts_ms":1700000000999})");
}

TEST(KafkaEnvelope, DeleteWithKeyOnlyAndUnknownCommitTime) {
  Row r = make_row({"a", "b", "c"}, {{CellState::Value, "x"}, {CellState::Absent, ""}, {CellState::Value, "2"}});
  RowCells row = r.cells();
  std::string key, value;
  encode_key(key, row, {2, 0});  // key order, not column order
  EXPECT_EQ(key, R"({"c":"2","a":"x"})");
  encode_envelope(value, 'd', &row, nullptr, {"shop.t", 18446744073709551615ULL, 0, false}, 5);
  EXPECT_EQ(value, R"({"before":{"a":"x","c":"2"},"after":null,"op":"d","source":{"table":"shop.t",)"
                   R"("position":"18446744073709551615","commit_time_ms":null,"snapshot":false},"ts_ms":5})");
}

TEST(KafkaEnvelope, UnchangedToastLeftOutAndSnapshotRead) {
  Row r = make_row({"id", "big"}, {{CellState::Value, "1"}, {CellState::Unchanged, ""}});
  RowCells row = r.cells();
  std::string value;
  encode_envelope(value, 'u', nullptr, &row, {"public.t", 9, 0, false}, 1);
  EXPECT_EQ(value, R"({"before":null,"after":{"id":"1"},"op":"u","source":{"table":"public.t","position":"9",)"
                   R"("commit_time_ms":null,"snapshot":false},"ts_ms":1})");
  value.clear();
  encode_envelope(value, 'r', nullptr, &row, {"public.t", 9, 0, true}, 1);
  EXPECT_NE(value.find(R"("op":"r")"), std::string::npos);
  EXPECT_NE(value.find(R"("snapshot":true)"), std::string::npos);
  value.clear();
  encode_envelope(value, 't', nullptr, nullptr, {"public.t", 10, 0, false}, 1);
  EXPECT_EQ(value, R"({"before":null,"after":null,"op":"t","source":{"table":"public.t","position":"10",)"
                   R"("commit_time_ms":null,"snapshot":false},"ts_ms":1})");
}

TEST(KafkaEnvelope, ControlCharactersEscaped) {
  std::string out;
  append_json_string(out, std::string("a\x01\tb\x1f\r\b\f\0", 9));
  EXPECT_EQ(out, "\"a\\u0001\\tb\\u001f\\r\\b\\f\\u0000\"");
}

TEST(KafkaTopicName, TemplateParts) {
  EXPECT_EQ(topic_name("{prefix}.{schema}.{table}", "shop", "public", "orders", "orders_v2"), "shop.public.orders");
  EXPECT_EQ(topic_name("{prefix}.{schema}.{table}", "shop", "", "orders", "orders"), "shop.orders");
  EXPECT_EQ(topic_name("{prefix}.{schema}.{table}", "", "", "orders", "orders"), "orders");
  EXPECT_EQ(topic_name("cdc-{destination}", "x", "s", "t", "orders v2"), "cdc-orders_v2");
}

TEST(KafkaSettings, DefaultsAndChoices) {
  PeerSpec p;
  p.name = "bus";
  p.type = PeerType::Kafka;
  p.options = {{"bootstrap_servers", "127.0.0.1:9092"}};
  KafkaSettings s = parse_settings(p);
  EXPECT_EQ(s.topic, "{prefix}.{schema}.{table}");
  EXPECT_EQ(s.topic_prefix, "bus");
  EXPECT_EQ(s.compression, "lz4");
  EXPECT_TRUE(s.create_topics);

  p.options["compression"] = "brotli";
  try {
    parse_settings(p);
    FAIL() << "brotli accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("compression 'brotli' is not allowed; expected one of: none, gzip"),
              std::string::npos) << e.what();
  }
  p.options["compression"] = "zstd";
  p.options["security_protocol"] = "sasl_ssl";
  EXPECT_THROW(parse_settings(p), Error);  // no sasl_mechanism
  p.options["sasl_mechanism"] = "SCRAM-SHA-512";
  p.user = "ferry";
  p.password = "secret-never-printed";
  EXPECT_EQ(parse_settings(p).sasl_password, "secret-never-printed");
  p.options["topic"] = "{prefix}.fixed";
  EXPECT_THROW(parse_settings(p), Error);  // names no table
}

TEST(KafkaSettings, ConfigFileKafkaPeer) {
  auto env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "BUS_PASSWORD") return std::string("pw-s3cret");
    return std::nullopt;
  };
  const std::string yaml = R"(peers:
  pg:  { type: postgres, dsn: "host=localhost dbname=shop" }
  bus: { type: kafka, bootstrap_servers: "127.0.0.1:9092", topic_prefix: shop, partitions: 6,
         cleanup_policy: compact, compression: zstd, security_protocol: sasl_plaintext,
         sasl_mechanism: PLAIN, user: ferry, password_env: BUS_PASSWORD }
pipes:
  p: { source: pg, destination: bus, mode: snapshot+cdc, tables: [public.orders] }
)";
  ConfigCheck r = check_config(yaml, "f.yaml", env);
  ASSERT_TRUE(r.ok()) << format_problems(r.problems);
  const PeerSpec& bus = r.config.peers.at("bus");
  EXPECT_EQ(bus.type, PeerType::Kafka);
  EXPECT_EQ(bus.options.at("partitions"), "6");
  EXPECT_EQ(bus.password, "pw-s3cret");

  std::string bad = yaml;
  bad.replace(bad.find("partitions: 6"), 13, "partitions: 0");
  r = check_config(bad, "f.yaml", env);
  ASSERT_FALSE(r.ok());
  std::string msg = format_problems(r.problems);
  EXPECT_NE(msg.find("partitions '0' is not an integer from 1 to 10000"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("pw-s3cret"), std::string::npos) << msg;

  std::string unqualified = yaml;
  unqualified.replace(unqualified.find("[public.orders]"), 15, "[orders]");
  r = check_config(unqualified, "f.yaml", env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(format_problems(r.problems).find("has no schema, which its kafka topic name needs"), std::string::npos);

  std::string incremental = yaml;  // incremental runs publish above the topic's highest position
  incremental.replace(incremental.find("snapshot+cdc"), 12, "incremental");
  incremental.replace(incremental.find("[public.orders]"), 15, "[{ source: public.orders, cursor: updated_at }]");
  r = check_config(incremental, "f.yaml", env);
  EXPECT_TRUE(r.ok()) << format_problems(r.problems);
}

TEST(KafkaEnvelope, PositionReadBack) {
  // A column named position whose text looks like the member: escaped inside its string.
  Row r = make_row({"position", "v"}, {{CellState::Value, "\"position\":\"7\"x"}, {CellState::Null, ""}});
  RowCells row = r.cells();
  std::string value;
  encode_envelope(value, 'r', nullptr, &row, {"public.t", 18446744073709551615ull, 0, true}, 1);
  EXPECT_EQ(envelope_position(value), 18446744073709551615ull) << value;
  EXPECT_EQ(envelope_position(R"({"source":{"position":"12"}})"), 12u);
  EXPECT_EQ(envelope_position(R"({"source":{"position":""}})"), std::nullopt);
  EXPECT_EQ(envelope_position(R"({"source":{"position":"12)"), std::nullopt);
  EXPECT_EQ(envelope_position("not json"), std::nullopt);
}

// PipeSpec and PeerSpec as the catalog's JSON: round trips, defaults, bad fields.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "pipe/spec_json.h"

using namespace ferry;

namespace {
const std::string kSecret = "s3cr3t-P@ss w0rd!";
}  // namespace

TEST(SpecJson, PipeSpecRoundTrip) {
  PipeSpec p;
  p.name = "shop_to_lake";
  p.source = "shop_pg";
  p.destination = "lake";
  p.mode = PipeMode::Incremental;
  TableMapping a;
  a.source = "public.orders";
  a.destination = "orders";
  a.order_by = {"customer_id", "created at"};
  a.exclude_columns = {"card_number"};
  a.cursor = "updated_at";
  a.initial_value = "2024-01-01 00:00:00";
  TableMapping b;
  b.source = "\"Sales\".\"Big \"\"Q\"\" Orders\"";
  b.destination = "Big \"Q\" Orders";
  b.cursor = "id";
  p.tables = {a, b};
  p.settings.batch_size = 1234;
  p.settings.sync_interval = Millis(1500);
  p.settings.snapshot_parallelism = 8;
  p.settings.snapshot_rows_per_partition = 99;
  p.settings.increment_delay = Millis(0);
  p.settings.schedule = Millis(90 * 60 * 1000);
  p.settings.max_retries = 3;
  p.settings.retry_backoff_max = Millis(120000);

  std::string text = pipe_spec_to_json(p);
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["settings"]["sync_interval"], "1500ms");
  EXPECT_EQ(j["settings"]["increment_delay"], "0s");
  EXPECT_EQ(j["settings"]["schedule"], "90m");
  EXPECT_EQ(j["settings"]["retry_backoff_max"], "2m");
  EXPECT_EQ(j["mode"], "incremental");
  EXPECT_FALSE(j["tables"][1].contains("initial_value"));

  PipeSpec q = pipe_spec_from_json(text);
  EXPECT_EQ(q.name, p.name);
  EXPECT_EQ(q.source, p.source);
  EXPECT_EQ(q.destination, p.destination);
  EXPECT_EQ(q.mode, p.mode);
  ASSERT_EQ(q.tables.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(q.tables[i].source, p.tables[i].source);
    EXPECT_EQ(q.tables[i].destination, p.tables[i].destination);
    EXPECT_EQ(q.tables[i].order_by, p.tables[i].order_by);
    EXPECT_EQ(q.tables[i].exclude_columns, p.tables[i].exclude_columns);
    EXPECT_EQ(q.tables[i].cursor, p.tables[i].cursor);
    EXPECT_EQ(q.tables[i].initial_value, p.tables[i].initial_value);
  }
  EXPECT_EQ(q.settings.batch_size, p.settings.batch_size);
  EXPECT_EQ(q.settings.sync_interval, p.settings.sync_interval);
  EXPECT_EQ(q.settings.snapshot_parallelism, p.settings.snapshot_parallelism);
  EXPECT_EQ(q.settings.snapshot_rows_per_partition, p.settings.snapshot_rows_per_partition);
  EXPECT_EQ(q.settings.increment_delay, p.settings.increment_delay);
  EXPECT_EQ(q.settings.schedule, p.settings.schedule);
  EXPECT_EQ(q.settings.max_retries, p.settings.max_retries);
  EXPECT_EQ(q.settings.retry_backoff_max, p.settings.retry_backoff_max);
  EXPECT_EQ(pipe_spec_to_json(q), text);
}

TEST(SpecJson, PeerSpecRoundTripWithoutPassword) {
  PeerSpec m;
  m.name = "my";
  m.type = PeerType::MySQL;
  m.host = "db";
  m.port = 3307;
  m.database = "shop";
  m.user = "repl";
  m.password_env = "MY_PW";
  m.password = kSecret;
  PeerSpec back = peer_spec_from_json(peer_spec_to_json(m));
  EXPECT_EQ(back.name, "my");
  EXPECT_EQ(back.type, PeerType::MySQL);
  EXPECT_EQ(back.host, "db");
  EXPECT_EQ(back.port, 3307);
  EXPECT_EQ(back.database, "shop");
  EXPECT_EQ(back.user, "repl");
  EXPECT_EQ(back.password_env, "MY_PW");
  EXPECT_EQ(back.password, "");
}

TEST(SpecJson, MissingSettingsGetDefaultsAndBadFieldsAreNamed) {
  PipeSpec p = pipe_spec_from_json(
      R"({"name":"p","source":"a","destination":"b","mode":"cdc","tables":[{"source":"public.t"}],
          "settings":{"batch_size":7},"future_field":true})");
  EXPECT_EQ(p.settings.batch_size, 7);
  EXPECT_EQ(p.settings.sync_interval, PipeSettings{}.sync_interval);
  EXPECT_EQ(p.tables[0].destination, "");

  auto error_of = [](const std::string& text) -> std::string {
    try {
      pipe_spec_from_json(text);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Config);
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(error_of("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"name":"p","source":"a","destination":"b","mode":"sometimes","tables":[]})").find("pipe.mode"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name":"p","source":"a","destination":"b","mode":"cdc","tables":[{"source":1}]})")
                .find("pipe.tables[0].source"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name":"p","source":"a","destination":"b","mode":"cdc","tables":[],
                         "settings":{"schedule":"10 seconds"}})")
                .find("pipe.settings.schedule"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"source":"a","destination":"b","mode":"cdc","tables":[]})").find("pipe.name"),
            std::string::npos);
}

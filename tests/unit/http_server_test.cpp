// The REST layer without database servers: request parsing, JSON documents,
// metrics rendering, listen addresses, and the HTTP server itself over a
// catalog that holds pipes in fixed states (no runner is ever started).
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "connectors/api/change.h"
#include "core/error.h"
#include "pipe/spec_json.h"
#include "server/api_json.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/pipe_manager.h"

using namespace ferry;
using nlohmann::json;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ferry_server_XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

ActionRequest ok_request(const std::string& action, const std::string& body) {
  auto r = parse_action_request(action, body);
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << action << " " << body << ": " << e->message;
    return {};
  }
  return std::get<ActionRequest>(r);
}

std::string error_of(const std::string& action, const std::string& body) {
  auto r = parse_action_request(action, body);
  if (auto* e = std::get_if<ApiError>(&r)) {
    EXPECT_EQ(e->status, 400);
    return e->message;
  }
  ADD_FAILURE() << action << " " << body << " was accepted";
  return "";
}

PipeSpec spec(const std::string& name, PipeMode mode) {
  PipeSpec p;
  p.name = name;
  p.source = "src";
  p.destination = "dst";
  p.mode = mode;
  p.tables.push_back(TableMapping{"public.orders", "", {}, {}, "", std::nullopt});
  return p;
}

}  // namespace

TEST(ServerActionRequest, ParsesActionsAndFields) {
  EXPECT_EQ(ok_request("pause", "").action, PipeAction::Pause);
  EXPECT_EQ(ok_request("resume", "  \n").action, PipeAction::Resume);
  EXPECT_EQ(ok_request("delete", "null").action, PipeAction::Delete);
  ActionRequest r = ok_request("reset", R"({"clear_destination": true, "confirm": true})");
  EXPECT_EQ(r.action, PipeAction::Reset);
  EXPECT_TRUE(r.clear_destination);
  EXPECT_TRUE(r.confirm);
  EXPECT_FALSE(r.drop_destination);
  EXPECT_EQ(ok_request("resync", R"({"table": "public.orders"})").table, "public.orders");
  EXPECT_TRUE(ok_request("delete", R"({"drop_destination": true})").drop_destination);
  EXPECT_FALSE(ok_request("delete", R"({"drop_destination": null})").drop_destination);
}

TEST(ServerActionRequest, RefusesBadInputNamingTheCause) {
  std::string m = error_of("explode", "");
  EXPECT_NE(m.find("explode"), std::string::npos) << m;
  EXPECT_NE(m.find("pause, resume, resync, reset, delete"), std::string::npos) << m;
  m = error_of("pause", "{not json");
  EXPECT_NE(m.find("not valid JSON"), std::string::npos) << m;
  EXPECT_NE(m.find("parse error"), std::string::npos) << m;  // the parser's own message
  m = error_of("reset", R"({"confirm": "yes"})");
  EXPECT_NE(m.find("\"confirm\""), std::string::npos) << m;
  EXPECT_NE(m.find("boolean"), std::string::npos) << m;
  m = error_of("resync", R"({"table": 5})");
  EXPECT_NE(m.find("\"table\""), std::string::npos) << m;
  EXPECT_NE(m.find("string"), std::string::npos) << m;
  m = error_of("delete", R"({"drop_destinaton": true})");
  EXPECT_NE(m.find("drop_destinaton"), std::string::npos) << m;
  m = error_of("pause", "[1, 2]");
  EXPECT_NE(m.find("array"), std::string::npos) << m;
  m = error_of("pause", R"({"table": "t"})");
  EXPECT_NE(m.find("resync"), std::string::npos) << m;
}

TEST(ServerListen, ParsesAddressesAndKnowsLoopback) {
  EXPECT_EQ(parse_listen("127.0.0.1:7420").host, "127.0.0.1");
  EXPECT_EQ(parse_listen("127.0.0.1:7420").port, 7420);
  EXPECT_EQ(parse_listen("[::1]:80").host, "::1");
  EXPECT_EQ(parse_listen("[::1]:80").to_string(), "[::1]:80");
  EXPECT_EQ(parse_listen(":9000").host, "0.0.0.0");
  EXPECT_THROW(parse_listen("127.0.0.1"), Error);
  EXPECT_THROW(parse_listen("127.0.0.1:http"), Error);
  EXPECT_THROW(parse_listen("127.0.0.1:70000"), Error);
  EXPECT_THROW(parse_listen("::1:80"), Error);
  EXPECT_TRUE(is_loopback("127.0.0.1"));
  EXPECT_TRUE(is_loopback("127.1.2.3"));
  EXPECT_TRUE(is_loopback("::1"));
  EXPECT_TRUE(is_loopback("::ffff:127.0.0.1"));
  EXPECT_TRUE(is_loopback("LOCALHOST"));
  EXPECT_FALSE(is_loopback("0.0.0.0"));
  EXPECT_FALSE(is_loopback("::"));
  EXPECT_FALSE(is_loopback("10.0.0.1"));
  EXPECT_FALSE(is_loopback("example.com"));
}

TEST(ServerMetrics, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(ServerMetrics, CountsConcurrentlyAndRendersPerPipeAndTable) {
  TempDir dir;
  auto catalog = open_catalog("sqlite:" + (dir.path / "c.db").string());
  catalog->create_pipe("p\"1", pipe_spec_to_json(spec("p\"1", PipeMode::SnapshotCdc)), "test");
  catalog->set_state("p\"1", PipeState::Running, "test");
  catalog->record_retry("p\"1", 3, "flaky");
  catalog->put_meta("p\"1", "lag_bytes", "4096");
  TableStatus t;
  t.pipe = "p\"1";
  t.source = "public.orders";
  t.destination = "orders";
  t.state = "streaming";
  catalog->upsert_table(t);

  Metrics m;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) m.add_rows("p\"1", "public.orders", MetricPhase::Snapshot, 2, 10);
    });
  for (auto& th : threads) th.join();
  m.add_rows("gone", "x", MetricPhase::Cdc, 5, 5);  // not in the catalog: not rendered

  std::string text = render_prometheus(*catalog, m);
  EXPECT_NE(text.find("# TYPE ferry_rows_total counter"), std::string::npos);
  EXPECT_NE(text.find("ferry_rows_total{pipe=\"p\\\"1\",table=\"public.orders\",phase=\"snapshot\"} 8000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ferry_bytes_total{pipe=\"p\\\"1\",table=\"public.orders\",phase=\"snapshot\"} 40000\n"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_rows_total{pipe=\"p\\\"1\",table=\"public.orders\",phase=\"cdc\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ferry_batches_total{pipe=\"p\\\"1\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ferry_pipe_state{pipe=\"p\\\"1\",state=\"Running\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ferry_pipe_state{pipe=\"p\\\"1\",state=\"Failed\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ferry_retries{pipe=\"p\\\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("ferry_lag_bytes{pipe=\"p\\\"1\"} 4096\n"), std::string::npos);
  EXPECT_EQ(text.find("gone"), std::string::npos);
  // Families are contiguous: each TYPE line appears once.
  EXPECT_EQ(text.find("# TYPE ferry_rows_total"), text.rfind("# TYPE ferry_rows_total"));
}

TEST(ServerJson, PeersNeverCarrySecrets) {
  TempDir dir;
  auto catalog = open_catalog("sqlite:" + (dir.path / "c.db").string());
  PeerSpec p;
  p.name = "pg";
  p.type = PeerType::Postgres;
  p.dsn = "host=db user=ferry";
  p.password_env = "PG_PASSWORD";
  p.password = "hunter2";
  catalog->upsert_peer("pg", "postgres", peer_spec_to_json(p));
  // Something else wrote secrets into the catalog: still never answered.
  catalog->upsert_peer("old", "postgres",
                       R"({"type":"postgres","dsn":"host=db password='s3cr3t x' user=u","password":"s3cr3t"})");
  catalog->upsert_peer("ch", "clickhouse", R"({"type":"clickhouse","url":"http://u:s3cr3t@ch:8123"})");
  std::string text = peers_json(*catalog).dump();
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("s3cr3t"), std::string::npos) << text;
  EXPECT_NE(text.find("PG_PASSWORD"), std::string::npos) << text;  // the variable's name is not a secret
}

// The HTTP layer end to end over a loopback socket.
class ServerHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = open_catalog("sqlite:" + (dir_.path / "c.db").string());
    catalog_->create_pipe("done", pipe_spec_to_json(spec("done", PipeMode::Snapshot)), "test");
    catalog_->set_state("done", PipeState::Completed, "initial load finished");
    catalog_->create_pipe("held", pipe_spec_to_json(spec("held", PipeMode::SnapshotCdc)), "test");
    catalog_->set_state("held", PipeState::Paused, "paused by test");
    manager_ = std::make_unique<PipeManager>(*catalog_, std::map<std::string, PeerSpec>{});
  }
  void start(std::optional<std::string> token = std::nullopt) {
    ApiServerOptions o;
    o.listen = parse_listen("127.0.0.1:0");
    o.token = token;
    server_ = std::make_unique<ApiServer>(*manager_, o);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->serve(); });
    while (!server_->running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Client client() { return httplib::Client("127.0.0.1", port_); }

  TempDir dir_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<PipeManager> manager_;
  std::unique_ptr<ApiServer> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(ServerHttp, ReadsPipesTablesAndHistory) {
  start();
  auto c = client();
  auto r = c.Get("/api/v1/pipes");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  json list = json::parse(r->body);
  ASSERT_EQ(list.size(), 2u);
  r = c.Get("/api/v1/pipes/done");
  ASSERT_TRUE(r);
  json st = json::parse(r->body);
  EXPECT_EQ(st["state"], "Completed");
  EXPECT_EQ(st["mode"], "snapshot");
  for (const char* k : {"name", "state", "mode", "error", "checkpoint", "retry_count", "lag_bytes", "lag_seconds", "tables"})
    EXPECT_TRUE(st.contains(k)) << k;
  r = c.Get("/api/v1/pipes/done/history");
  json h = json::parse(r->body);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1]["from"], "Provisioning");
  EXPECT_EQ(h[1]["to"], "Completed");
  EXPECT_EQ(h[1]["reason"], "initial load finished");
  r = c.Get("/api/v1/pipes/done/tables");
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(json::parse(r->body).is_array());
  r = c.Get("/api/v1/pipes/nope");
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(json::parse(r->body)["error"].get<std::string>().find("nope"), std::string::npos);
  r = c.Get("/api/v1/pipes/nope/history");
  EXPECT_EQ(r->status, 404);
  r = c.Get("/api/v1/whatever");
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(json::parse(r->body).contains("error"));
  r = c.Get("/metrics");
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("ferry_pipe_state{pipe=\"done\",state=\"Completed\"} 1"), std::string::npos);
}

TEST_F(ServerHttp, ActionsAreRefusedInTheWrongStateAndBadInputIs400) {
  start();
  auto c = client();
  auto r = c.Post("/api/v1/pipes/done/pause", "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  json j = json::parse(r->body);
  EXPECT_NE(j["error"].get<std::string>().find("Completed"), std::string::npos) << r->body;
  EXPECT_EQ(j["state"], "Completed");
  r = c.Post("/api/v1/pipes/held/pause", "{}", "application/json");
  EXPECT_EQ(r->status, 409);
  EXPECT_NE(r->body.find("Paused"), std::string::npos);
  r = c.Post("/api/v1/pipes/nope/pause", "{}", "application/json");
  EXPECT_EQ(r->status, 404);
  r = c.Post("/api/v1/pipes/done/explode", "{}", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("pause, resume, resync, reset, delete"), std::string::npos);
  r = c.Post("/api/v1/pipes/held/reset", R"({"confirm": "yes"})", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("confirm"), std::string::npos);
  r = c.Post("/api/v1/pipes/held/reset", "{oops", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("parse error"), std::string::npos);
  r = c.Post("/api/v1/apply", "pipes: [", "application/yaml");
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(json::parse(r->body).contains("error"));
  r = c.Post("/api/v1/apply", "peers: {}", "application/x-www-form-urlencoded");
  EXPECT_EQ(r->status, 415);
  r = c.Post("/api/v1/apply?prune=maybe", "peers: {}", "application/yaml");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("prune"), std::string::npos);
}

TEST_F(ServerHttp, TokenGuardsMutationsOnly) {
  start(std::string("tok-123"));
  auto c = client();
  auto r = c.Post("/api/v1/pipes/done/pause", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->body.find("Bearer"), std::string::npos);
  EXPECT_EQ(r->body.find("tok-123"), std::string::npos);
  r = c.Post("/api/v1/pipes/done/pause", {{"Authorization", "Bearer tok-12"}}, "{}", "application/json");
  EXPECT_EQ(r->status, 401);
  r = c.Post("/api/v1/pipes/done/pause", {{"Authorization", "Bearer tok-1234"}}, "{}", "application/json");
  EXPECT_EQ(r->status, 401);
  r = c.Post("/api/v1/pipes/done/pause", {{"Authorization", "Bearer tok-123"}}, "{}", "application/json");
  EXPECT_EQ(r->status, 409);  // authorised; refused by the lifecycle
  r = c.Get("/api/v1/pipes");
  EXPECT_EQ(r->status, 200);
}

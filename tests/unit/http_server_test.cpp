// The HTTP server without database servers: listen addresses, and the server itself
// over a catalog that holds pipes in fixed states (no runner is ever started).
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/error.h"
#include "pipe/spec_json.h"
#include "server/http_server.h"
#include "server/pipe_manager.h"
#include "../shared/eventually.h"
#include "../shared/pipe_spec.h"
#include "../shared/temp_dir.h"

using namespace ferry;
using ferry::test::pipe_spec;
using ferry::test::TempDir;
using nlohmann::json;

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

// The HTTP layer end to end over a loopback socket.
class ServerHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = open_catalog("sqlite:" + (dir_.path / "c.db").string());
    catalog_->create_pipe("done", pipe_spec_to_json(pipe_spec("done", PipeMode::Snapshot, {"public.orders"})), "test");
    catalog_->set_state("done", PipeState::Completed, "initial load finished");
    catalog_->create_pipe("held", pipe_spec_to_json(pipe_spec("held", PipeMode::SnapshotCdc, {"public.orders"})), "test");
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
    ASSERT_TRUE(ferry::test::eventually([&] { return server_->running(); })) << "the server did not start";
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

TEST_F(ServerHttp, ServesTheConsoleTheDocumentAndTheMetricsSeries) {
  start();
  auto c = client();
  auto r = c.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r->body.find("/ui/app.js"), std::string::npos);
  EXPECT_NE(r->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  r = c.Get("/ui/app.js");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  r = c.Get("/ui/nope.js");
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(json::parse(r->body)["error"].get<std::string>().find("nope.js"), std::string::npos);
  r = c.Get("/api/v1/openapi.json");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["openapi"], "3.1.0");
  r = c.Get("/api/v1/pipes/nope/metrics");
  EXPECT_EQ(r->status, 404);
  // The sampler records every pipe right after start.
  ASSERT_TRUE(ferry::test::eventually([&] {
    auto m = c.Get("/api/v1/pipes/held/metrics");
    return m && m->status == 200 && !json::parse(m->body)["samples"].empty();
  }));
  json s = json::parse(c.Get("/api/v1/pipes/held/metrics")->body)["samples"][0];
  EXPECT_EQ(s["state"], "Paused");
  // Status says which actions the state allows, with the lifecycle's reason.
  json st = json::parse(c.Get("/api/v1/pipes/held")->body);
  EXPECT_EQ(st["actions"]["resume"]["allowed"], true);
  EXPECT_EQ(st["actions"]["pause"]["allowed"], false);
  EXPECT_NE(st["actions"]["pause"]["reason"].get<std::string>().find("Paused"), std::string::npos);
  EXPECT_TRUE(st["settings"].contains("batch_size"));
}

// Found by tests/openapi/openapi_check.py: the parser's message quoted a byte that is
// not UTF-8, and writing the answer threw (500).
TEST_F(ServerHttp, ABodyThatIsNotUtf8Is400) {
  start();
  auto r = client().Post("/api/v1/pipes/held/resume", "\xff", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(json::parse(r->body)["error"].get<std::string>().find("not valid JSON"), std::string::npos) << r->body;
}

// The REST layer's JSON without servers: action requests and the documents it answers.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "pipe/spec_json.h"
#include "server/api_json.h"
#include "../shared/temp_dir.h"

using namespace ferry;
using ferry::test::TempDir;

namespace {

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

// docs/openapi.json against the server's own route table (ApiServer::route_table):
// every registered route is documented and every documented one is registered;
// the built-in copy is the file; the enums are the code's state and action names.
// (The document is validated with a standard validator by tests/openapi/openapi_check.py.)
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/pipe_state.h"
#include "server/api_json.h"
#include "server/http_server.h"
#include "server/pipe_manager.h"
#include "server/web_assets.h"
#include "../shared/temp_dir.h"

using namespace ferry;
using nlohmann::json;

namespace {

std::string openapi_file() {
  std::ifstream in(std::string(FERRY_FIXTURES_DIR) + "/../../docs/openapi.json");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::set<std::pair<std::string, std::string>> registered_routes() {
  test::TempDir dir;
  auto catalog = open_catalog("sqlite:" + (dir.path / "c.db").string());
  PipeManager manager(*catalog, {});
  ApiServerOptions o;
  o.listen = parse_listen("127.0.0.1:0");
  ApiServer server(manager, o);
  std::set<std::pair<std::string, std::string>> out;
  for (const ApiRoute& r : server.route_table()) {
    EXPECT_TRUE(out.emplace(r.method, r.path).second) << "registered twice: " << r.method << " " << r.path;
  }
  return out;
}

}  // namespace

TEST(OpenApi, EveryRegisteredRouteIsDocumentedAndViceVersa) {
  json doc = json::parse(openapi_file());
  std::set<std::pair<std::string, std::string>> documented;
  for (auto& [path, ops] : doc["paths"].items())
    for (auto& [method, op] : ops.items()) {
      std::string m = method;
      for (char& c : m) c = static_cast<char>(::toupper(c));
      documented.emplace(m, path);
    }
  auto registered = registered_routes();
  ASSERT_GE(registered.size(), 10u);
  for (const auto& r : registered) EXPECT_TRUE(documented.count(r)) << "not in docs/openapi.json: " << r.first << " " << r.second;
  for (const auto& d : documented) EXPECT_TRUE(registered.count(d)) << "documented but not served: " << d.first << " " << d.second;
}

TEST(OpenApi, TheBuiltInDocumentIsTheFile) {
  const WebAsset* a = find_web_asset("openapi.json");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(std::string(a->body), openapi_file());
  ASSERT_NE(find_web_asset("index.html"), nullptr);
  EXPECT_EQ(find_web_asset("index.html")->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(find_web_asset("no-such-file.js"), nullptr);
}

TEST(OpenApi, StateAndActionEnumsAreTheCodesNames) {
  json doc = json::parse(openapi_file());
  std::vector<std::string> states, actions;
  for (PipeState s : kAllStates) states.push_back(to_string(s));
  for (const char* a : kApiActions) actions.push_back(a);
  EXPECT_EQ(doc["components"]["schemas"]["PipeState"]["enum"].get<std::vector<std::string>>(), states);
  EXPECT_EQ(doc["components"]["schemas"]["Action"]["enum"].get<std::vector<std::string>>(), actions);
}

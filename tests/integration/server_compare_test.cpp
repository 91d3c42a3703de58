// POST /api/v1/pipes/{name}/compare on an in-process server over real PostgreSQL and
// ClickHouse: the answer is the comparison, the result is stored as each table's last
// comparison (table list, /metrics, `ferry pipe tables`), a second compare of the pipe is
// refused while one runs, and neither the pipe's runner nor other requests wait for it.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/test_hooks.h"
#include "pipe/config.h"
#include "server/http_server.h"
#include "server/pipe_manager.h"
#include "cdc_support.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;
using nlohmann::json;

namespace {

struct Answer {
  int status = 0;
  json body;
};

Answer post(int port, const std::string& path, const std::string& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(300, 0);
  auto r = c.Post(path.c_str(), body, "application/json");
  if (!r) return {0, json("no answer: " + httplib::to_string(r.error()))};
  return {r->status, json::parse(r->body, nullptr, false)};
}

Answer get(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  auto r = c.Get(path.c_str());
  if (!r) return {0, json()};
  return {r->status, path == "/metrics" ? json(r->body) : json::parse(r->body, nullptr, false)};
}

std::string error_of(const Answer& a) {
  return a.body.is_object() && a.body.contains("error") ? a.body["error"].get<std::string>() : a.body.dump();
}

}  // namespace

TEST(ServerCompare, AnswersStoresAndRefusesASecondCompareOfThePipeMeanwhile) {
  Sandbox sb("srvcmp");
  sb.pg_exec("CREATE TABLE acc (id int PRIMARY KEY, balance bigint, note text);"
             "INSERT INTO acc SELECT g, 1000, 'n' || g FROM generate_series(1, 3000) g");
  std::string config_file = sb.write_config(
      "  acc:\n    source: src\n    destination: dst\n    mode: snapshot+cdc\n    tables: [ public.acc ]\n"
      "    settings: { sync_interval: 200ms, snapshot_rows_per_partition: 1000, max_retries: 0 }\n");
  Config config = load_config_file(config_file);
  std::string hold_file = sb.dir() + "/hold-compare";
  TestHooks hooks;
  hooks.hold_at = "compare";
  hooks.hold_file = hold_file;

  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  PipeManager manager(*catalog, config.peers, &hooks);
  ASSERT_EQ(manager.apply(config, false, true).created, std::vector<std::string>{"acc"});
  ApiServerOptions options;
  options.listen = parse_listen("127.0.0.1:0");
  ApiServer server(manager, options);
  int port = server.bind();
  std::thread serving([&] { server.serve(); });
  ASSERT_TRUE(reaches_state(*catalog, "acc", PipeState::Running, 90));

  // Bad input, named.
  EXPECT_EQ(post(port, "/api/v1/pipes/nope/compare", "{}").status, 404);
  Answer bad_level = post(port, "/api/v1/pipes/acc/compare", R"({"level": "rows"})");
  EXPECT_EQ(bad_level.status, 400);
  EXPECT_NE(error_of(bad_level).find("\"level\""), std::string::npos) << error_of(bad_level);
  Answer bad_table = post(port, "/api/v1/pipes/acc/compare", R"({"table": "nope"})");
  EXPECT_EQ(bad_table.status, 404);
  EXPECT_NE(error_of(bad_table).find("'nope'"), std::string::npos) << error_of(bad_table);

  // A comparison held at its start: the pipe streams and the API answers meanwhile.
  write_file(hold_file, "hold");
  Answer held;
  std::thread comparing([&] { held = post(port, "/api/v1/pipes/acc/compare", R"({"level": "content"})"); });
  // The refusal shows the first comparison registered (this request names no real table,
  // so it could never be the one that runs).
  Answer busy;
  EXPECT_TRUE(eventually([&] {
    busy = post(port, "/api/v1/pipes/acc/compare", R"({"table": "nope"})");
    return busy.status == 409;
  }, 30)) << busy.status << " " << busy.body.dump();
  EXPECT_NE(error_of(busy).find("being compared already"), std::string::npos) << error_of(busy);
  EXPECT_EQ(get(port, "/api/v1/pipes/acc").status, 200);
  sb.pg_exec("INSERT INTO acc VALUES (3001, 7, 'during the compare')");
  EXPECT_TRUE(eventually([&] {
    return sb.ch_value("SELECT count() FROM " + ch_table(sb, "acc") + " FINAL WHERE id = 3001") == "1";
  }, 60)) << "the pipe did not stream while a comparison was held";
  std::filesystem::remove(hold_file);
  comparing.join();
  ASSERT_EQ(held.status, 200) << held.body.dump();
  EXPECT_EQ(held.body["pipe"], "acc");
  EXPECT_EQ(held.body["level"], "content");
  EXPECT_TRUE(held.body["equal"].get<bool>()) << held.body.dump(2);
  ASSERT_EQ(held.body["tables"].size(), 1u);
  EXPECT_EQ(held.body["tables"][0]["outcome"], "equal");
  EXPECT_EQ(held.body["tables"][0]["source_rows"], 3001);

  // Stored as the table's last comparison: the table list, /metrics and the CLI show it.
  Answer tables = get(port, "/api/v1/pipes/acc/tables");
  ASSERT_EQ(tables.status, 200);
  EXPECT_EQ(tables.body[0]["last_compare"]["outcome"], "equal") << tables.body.dump(2);
  EXPECT_EQ(tables.body[0]["last_compare"]["level"], "content");
  EXPECT_EQ(tables.body[0]["last_compare"]["source_rows"], 3001);
  std::string metrics = get(port, "/metrics").body.get<std::string>();
  EXPECT_NE(metrics.find("ferry_compare_last_result{pipe=\"acc\",table=\"public.acc\",outcome=\"equal\"} 1\n"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ferry_compare_last_timestamp_seconds{pipe=\"acc\",table=\"public.acc\"} "), std::string::npos);
  std::string out;
  EXPECT_EQ(run_ferry({"pipe", "tables", "acc", "--catalog", "sqlite:" + sb.catalog_path()}, &out), 0) << out;
  EXPECT_NE(out.find("last compare: "), std::string::npos) << out;
  EXPECT_NE(out.find("content level: equal, rows 3001 / 3001"), std::string::npos) << out;

  // A row the destination soft-deleted although the source has it: found and named.
  std::string table = ch_table(sb, "acc");
  sb.ch("INSERT INTO " + table + " (id, balance, note, _ferry_version, _ferry_is_deleted) SELECT id, balance, note, "
        "_ferry_version + 1, 1 FROM " + table + " FINAL WHERE id = 5");
  Answer diff = post(port, "/api/v1/pipes/acc/compare", R"({"table": "public.acc", "limit": 5})");
  ASSERT_EQ(diff.status, 200) << diff.body.dump();
  EXPECT_FALSE(diff.body["equal"].get<bool>());
  EXPECT_EQ(diff.body["tables"][0]["outcome"], "different") << diff.body.dump(2);
  EXPECT_EQ(diff.body["tables"][0]["differences"], json::parse(R"([{"kind": "missing", "key": "id=5"}])"));
  EXPECT_EQ(get(port, "/api/v1/pipes/acc/tables").body[0]["last_compare"]["outcome"], "different");
  Answer count = post(port, "/api/v1/pipes/acc/compare", R"({"level": "count"})");
  ASSERT_EQ(count.status, 200) << count.body.dump();
  EXPECT_EQ(count.body["tables"][0]["destination_rows"], 3000);

  server.stop();
  serving.join();
  manager.stop_all();
}

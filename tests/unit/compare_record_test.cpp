// The last comparison per table: parsing the API's compare request, storing the result in
// the catalog, and showing it in the table list JSON and in /metrics.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "pipe/compare_record.h"
#include "pipe/spec_json.h"
#include "server/api_json.h"
#include "server/metrics.h"
#include "../shared/pipe_spec.h"
#include "../shared/temp_dir.h"

using namespace ferry;
using ferry::test::pipe_spec;
using ferry::test::TempDir;

namespace {

std::string compare_error(const std::string& body) {
  auto r = parse_compare_request(body);
  if (auto* e = std::get_if<ApiError>(&r)) {
    EXPECT_EQ(e->status, 400);
    return e->message;
  }
  ADD_FAILURE() << body << " was accepted";
  return "";
}

}  // namespace

TEST(CompareRequest, ParsesFieldsAndNamesWhatIsWrong) {
  auto ok = [](const std::string& body) {
    auto r = parse_compare_request(body);
    if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << body << ": " << e->message;
    return std::holds_alternative<CompareRequest>(r) ? std::get<CompareRequest>(r) : CompareRequest{};
  };
  EXPECT_EQ(ok("").level, CompareLevel::Content);
  EXPECT_EQ(ok("null").level, CompareLevel::Content);
  CompareRequest r = ok(R"({"table": "public.orders", "level": "count", "limit": 5})");
  EXPECT_EQ(r.table, "public.orders");
  EXPECT_EQ(r.level, CompareLevel::Count);
  EXPECT_EQ(r.limit, 5u);
  EXPECT_EQ(ok(R"({"table": null, "level": null, "limit": null})").limit, 0u);

  EXPECT_NE(compare_error(R"({"level": "rows"})").find("\"level\""), std::string::npos);
  EXPECT_NE(compare_error(R"({"level": 1})").find("\"level\""), std::string::npos);
  EXPECT_NE(compare_error(R"({"table": 7})").find("\"table\""), std::string::npos);
  EXPECT_NE(compare_error(R"({"limit": 0})").find("\"limit\""), std::string::npos);
  EXPECT_NE(compare_error(R"({"limit": 4611686018427387904})").find("\"limit\""), std::string::npos);
  EXPECT_NE(compare_error(R"({"limit": 2.5})").find("\"limit\""), std::string::npos);
  EXPECT_NE(compare_error(R"({"bogus": 1})").find("bogus"), std::string::npos);
  EXPECT_NE(compare_error("[1]").find("array"), std::string::npos);
  EXPECT_NE(compare_error("{").find("not valid JSON"), std::string::npos);
}

TEST(CompareRecord, LastComparisonIsStoredAndShownInTablesAndMetrics) {
  TempDir dir;
  auto catalog = open_catalog("sqlite:" + (dir.path / "c.db").string());
  catalog->create_pipe("p", pipe_spec_to_json(pipe_spec("p", PipeMode::Snapshot, {"public.orders", "public.items"})), "test");
  for (const char* t : {"public.orders", "public.items"}) {
    TableStatus s;
    s.pipe = "p";
    s.source = t;
    s.destination = std::string(t).substr(7);
    s.state = "loaded";
    catalog->upsert_table(s);
  }
  EXPECT_FALSE(last_comparison(*catalog, "p", "public.orders"));
  EXPECT_TRUE(pipe_tables_json(*catalog, "p")[0]["last_compare"].is_null());

  TableComparison c;
  c.table = "public.orders";
  c.outcome = "different";
  c.source_rows = 10;
  c.destination_rows = 9;
  c.differing_buckets = 1;
  c.differences = {{"missing", "id=4"}};
  c.seconds = 0.25;
  record_comparisons(*catalog, "p", CompareLevel::Content, {c}, 1700000000123);
  std::optional<CompareRecord> r = last_comparison(*catalog, "p", "public.orders");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at_ms, 1700000000123);
  EXPECT_EQ(r->level, "content");
  EXPECT_EQ(r->outcome, "different");
  EXPECT_EQ(r->source_rows, 10);
  EXPECT_EQ(r->destination_rows, 9);
  EXPECT_EQ(r->differences, 1);
  EXPECT_FALSE(last_comparison(*catalog, "p", "public.items"));

  nlohmann::json tables = pipe_tables_json(*catalog, "p");
  nlohmann::json orders = tables[0]["source"] == "public.orders" ? tables[0] : tables[1];
  EXPECT_EQ(orders["last_compare"]["outcome"], "different") << tables.dump();
  EXPECT_EQ(orders["last_compare"]["at"], "2023-11-14T22:13:20.123Z") << tables.dump();
  EXPECT_EQ(orders["last_compare"]["source_rows"], 10);

  // The next comparison (another level) replaces it; rows not counted are null.
  c.outcome = "equal";
  c.source_rows = c.destination_rows = -1;
  record_comparisons(*catalog, "p", CompareLevel::Objects, {c}, 1700000001000);
  EXPECT_EQ(last_comparison(*catalog, "p", "public.orders")->outcome, "equal");
  tables = pipe_tables_json(*catalog, "p");
  orders = tables[0]["source"] == "public.orders" ? tables[0] : tables[1];
  EXPECT_TRUE(orders["last_compare"]["source_rows"].is_null()) << tables.dump();
  EXPECT_EQ(orders["last_compare"]["level"], "objects");

  Metrics m;
  std::string text = render_prometheus(*catalog, m);
  EXPECT_NE(text.find("ferry_compare_last_result{pipe=\"p\",table=\"public.orders\",outcome=\"equal\"} 1\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("ferry_compare_last_result{pipe=\"p\",table=\"public.orders\",outcome=\"different\"} 0\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("ferry_compare_last_timestamp_seconds{pipe=\"p\",table=\"public.orders\"} 1700000001.000\n"),
            std::string::npos) << text;
  EXPECT_EQ(text.find("table=\"public.items\",outcome"), std::string::npos) << text;

  // A pipe deleted meanwhile: nothing stored, no error.
  catalog->delete_pipe("p");
  EXPECT_NO_THROW(record_comparisons(*catalog, "p", CompareLevel::Content, {c}, 1700000002000));
}

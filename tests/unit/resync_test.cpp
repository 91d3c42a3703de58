#include <gtest/gtest.h>

#include "core/error.h"
#include "pipe/resync.h"

using namespace ferry;

namespace {

PipeSpec two_tables() {
  PipeSpec p;
  p.name = "p";
  TableMapping a;
  a.source = "public.orders";
  TableMapping b;
  b.source = "sales.items";
  b.destination = "sales_items";
  p.tables = {a, b};
  return p;
}

}  // namespace

TEST(ResyncPlan, JsonRoundTripAndEmptyMeansNone) {
  ResyncPlan plan;
  plan.tables = {"public.orders"};
  plan.replay_from = "0/16B3748";
  plan.stream_until = "0/16B9000";
  plan.new_stream = true;
  plan.rebuilt_identity["orders"] = "5c1f0f7e-0000-4000-8000-000000000001";
  auto back = resync_plan_from_json(resync_plan_to_json(plan));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->tables, plan.tables);
  EXPECT_EQ(back->replay_from, plan.replay_from);
  EXPECT_EQ(back->stream_until, plan.stream_until);
  EXPECT_TRUE(back->new_stream);
  EXPECT_EQ(back->rebuilt_identity, plan.rebuilt_identity);
  EXPECT_FALSE(resync_plan_from_json(""));
  try {
    resync_plan_from_json("{\"replay_from\": 3}");
    FAIL() << "a plan without tables was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_NE(std::string(e.what()).find("resync plan"), std::string::npos) << e.what();
  }
}

TEST(ResyncPlan, TablesByAnyOfTheirNames) {
  PipeSpec p = two_tables();
  EXPECT_EQ(resync_tables(p, ""), (std::vector<std::string>{"public.orders", "sales.items"}));
  EXPECT_EQ(resync_tables(p, "public.orders"), std::vector<std::string>{"public.orders"});
  EXPECT_EQ(resync_tables(p, "orders"), std::vector<std::string>{"public.orders"});
  EXPECT_EQ(resync_tables(p, "sales_items"), std::vector<std::string>{"sales.items"});
  EXPECT_EQ(resync_tables(p, "items"), std::vector<std::string>{"sales.items"});
  try {
    resync_tables(p, "nosuch");
    FAIL() << "an unknown table was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    std::string m = e.what();
    EXPECT_NE(m.find("nosuch"), std::string::npos) << m;
    EXPECT_NE(m.find("public.orders, sales.items"), std::string::npos) << m;
  }
  EXPECT_EQ(resync_table_name("orders"), "orders_resync");
}

TEST(ResyncPlan, RefusesARebuiltNameThePipeAlreadyWrites) {
  PipeSpec p = two_tables();
  TableMapping clash;
  clash.source = "public.orders_resync";
  p.tables.push_back(clash);
  EXPECT_EQ(resync_tables(p, "sales_items"), std::vector<std::string>{"sales.items"});
  try {
    resync_tables(p, "");
    FAIL() << "a rebuilt name that the pipe writes was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("'orders_resync'"), std::string::npos) << e.what();
  }
}

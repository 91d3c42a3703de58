#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "catalog/sqlite_catalog.h"
#include "core/error.h"
#include "../shared/temp_dir.h"

using namespace ferry;
using ferry::test::TempDir;

namespace {

::testing::AssertionResult Contains(const std::string& s, const std::string& sub) {
  if (s.find(sub) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << s << "\" does not contain \"" << sub << "\"";
}

class FakeClock final : public Clock {
 public:
  int64_t ms = 1'700'000'000'000;
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  }
  void sleep_for(std::chrono::milliseconds d) override { ms += d.count(); }
};

// Runs `fn` and returns the ferry::Error it throws (fails the test if none).
template <typename F>
Error expect_error(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected ferry::Error, got std::exception: " << e.what();
    return Error(ErrorKind::Permanent, "wrong exception");
  }
  ADD_FAILURE() << "expected ferry::Error, nothing thrown";
  return Error(ErrorKind::Permanent, "nothing thrown");
}

// A raw connection for poking at files behind the catalog's back.
struct RawDb {
  sqlite3* db = nullptr;
  explicit RawDb(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) throw std::runtime_error("raw open failed");
  }
  ~RawDb() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error("raw exec: " + m + " in: " + sql);
    }
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) throw std::runtime_error("raw prepare");
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  }
};

class CatalogTest : public ::testing::Test {
 protected:
  FakeClock clock;
  std::unique_ptr<SqliteCatalog> cat = std::make_unique<SqliteCatalog>(":memory:", &clock);

  void make_table(const std::string& pipe, const std::string& source, int parts) {
    TableStatus t;
    t.pipe = pipe;
    t.source = source;
    t.destination = source + "_dst";
    t.state = "pending";
    cat->upsert_table(t);
    std::vector<PartitionRecord> plan;
    for (int i = 0; i < parts; ++i) {
      PartitionRecord p;
      p.index = i;
      p.range = "[" + std::to_string(i * 100) + "," + std::to_string(i * 100 + 100) + ")";
      plan.push_back(p);
    }
    cat->save_partition_plan(pipe, source, plan, clock.ms);
  }
  TableStatus table(const std::string& pipe, const std::string& source) {
    for (auto& t : cat->tables(pipe))
      if (t.source == source) return t;
    ADD_FAILURE() << "no table " << source;
    return {};
  }
};

// --- peers -------------------------------------------------------------------

TEST_F(CatalogTest, PeersRoundTrip) {
  EXPECT_TRUE(cat->list_peers().empty());
  cat->upsert_peer("lake", "clickhouse", R"({"url":"http://x"})");
  cat->upsert_peer("shop_pg", "postgres", R"({"dsn":"host=a"})");
  auto peers = cat->list_peers();
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0], (std::pair<std::string, std::string>{"lake", R"({"url":"http://x"})"}));
  EXPECT_EQ(peers[1], (std::pair<std::string, std::string>{"shop_pg", R"({"dsn":"host=a"})"}));

  cat->upsert_peer("lake", "clickhouse", R"({"url":"http://y"})");
  peers = cat->list_peers();
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0].second, R"({"url":"http://y"})");
}

// --- pipes -------------------------------------------------------------------

TEST_F(CatalogTest, CreatePipeRoundTrip) {
  EXPECT_FALSE(cat->get_pipe("p").has_value());
  cat->create_pipe("p", R"({"mode":"cdc"})", "created by apply");
  auto p = cat->get_pipe("p");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->name, "p");
  EXPECT_EQ(p->spec_json, R"({"mode":"cdc"})");
  EXPECT_EQ(p->state, PipeState::Provisioning);
  EXPECT_EQ(p->last_error, "");
  EXPECT_EQ(p->retry_count, 0);
  EXPECT_EQ(p->created_at_ms, clock.ms);
  EXPECT_EQ(p->updated_at_ms, clock.ms);

  auto h = cat->history("p");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].pipe, "p");
  EXPECT_FALSE(h[0].from.has_value());
  EXPECT_EQ(h[0].to, PipeState::Provisioning);
  EXPECT_EQ(h[0].reason, "created by apply");
  EXPECT_EQ(h[0].at_ms, clock.ms);
  EXPECT_GT(h[0].id, 0);

  cat->create_pipe("a", "{}", "r");
  auto all = cat->list_pipes();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[1].name, "p");
}

TEST_F(CatalogTest, CreateExistingPipeThrowsAndChangesNothing) {
  cat->create_pipe("p", "{1}", "first");
  clock.ms += 10;
  Error e = expect_error([&] { cat->create_pipe("p", "{2}", "second"); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_TRUE(Contains(e.what(), "pipe 'p' already exists"));
  EXPECT_EQ(cat->get_pipe("p")->spec_json, "{1}");
  EXPECT_EQ(cat->history("p").size(), 1u);
}

TEST_F(CatalogTest, UpdatePipeSpec) {
  cat->create_pipe("p", "{1}", "r");
  clock.ms += 500;
  cat->update_pipe_spec("p", "{2}");
  auto p = cat->get_pipe("p");
  EXPECT_EQ(p->spec_json, "{2}");
  EXPECT_EQ(p->updated_at_ms, clock.ms);
  EXPECT_EQ(p->created_at_ms, clock.ms - 500);
  EXPECT_EQ(cat->history("p").size(), 1u);  // a spec change is not a state transition

  Error e = expect_error([&] { cat->update_pipe_spec("nope", "{}"); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_TRUE(Contains(e.what(), "pipe 'nope' does not exist"));
}

TEST_F(CatalogTest, SetStateRecordsTransitions) {
  const int64_t t0 = clock.ms;
  cat->create_pipe("p", "{}", "created");
  clock.ms += 1000;
  cat->set_state("p", PipeState::Setup, "provisioned");
  clock.ms += 1000;
  cat->set_state("p", PipeState::Snapshot, "setup done");
  clock.ms += 1000;
  cat->set_state("p", PipeState::Failed, "permission denied", "ERROR: permission denied for table orders");

  auto p = cat->get_pipe("p");
  EXPECT_EQ(p->state, PipeState::Failed);
  EXPECT_EQ(p->last_error, "ERROR: permission denied for table orders");
  EXPECT_EQ(p->updated_at_ms, t0 + 3000);
  EXPECT_EQ(p->created_at_ms, t0);

  auto h = cat->history("p");
  ASSERT_EQ(h.size(), 4u);
  struct Want {
    std::optional<PipeState> from;
    PipeState to;
    const char* reason;
    int64_t at;
  };
  const Want want[] = {
      {std::nullopt, PipeState::Provisioning, "created", t0},
      {PipeState::Provisioning, PipeState::Setup, "provisioned", t0 + 1000},
      {PipeState::Setup, PipeState::Snapshot, "setup done", t0 + 2000},
      {PipeState::Snapshot, PipeState::Failed, "permission denied", t0 + 3000},
  };
  for (size_t i = 0; i < h.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(h[i].pipe, "p");
    EXPECT_EQ(h[i].from, want[i].from);
    EXPECT_EQ(h[i].to, want[i].to);
    EXPECT_EQ(h[i].reason, want[i].reason);
    EXPECT_EQ(h[i].at_ms, want[i].at);
    if (i > 0) {
      EXPECT_GT(h[i].id, h[i - 1].id);
    }
  }

  // Every state name survives the round trip.
  for (PipeState s : kAllStates) cat->set_state("p", s, std::string("to ") + to_string(s));
  h = cat->history("p");
  ASSERT_EQ(h.size(), 4u + std::size(kAllStates));
  for (size_t i = 0; i < std::size(kAllStates); ++i) EXPECT_EQ(h[4 + i].to, kAllStates[i]);
  EXPECT_EQ(cat->get_pipe("p")->state, kAllStates[std::size(kAllStates) - 1]);
}

TEST_F(CatalogTest, SetStateOnUnknownPipeThrows) {
  Error e = expect_error([&] { cat->set_state("ghost", PipeState::Running, "r"); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_TRUE(Contains(e.what(), "pipe 'ghost' does not exist"));
  EXPECT_TRUE(cat->history("ghost").empty());
}

TEST_F(CatalogTest, HistoryIsPerPipe) {
  cat->create_pipe("a", "{}", "a created");
  cat->create_pipe("b", "{}", "b created");
  cat->set_state("a", PipeState::Setup, "a setup");
  cat->set_state("b", PipeState::Setup, "b setup");
  cat->set_state("a", PipeState::Running, "a running");
  EXPECT_EQ(cat->history("a").size(), 3u);
  EXPECT_EQ(cat->history("b").size(), 2u);
  for (auto& t : cat->history("b")) EXPECT_EQ(t.pipe, "b");
  EXPECT_TRUE(cat->history("c").empty());
}

TEST_F(CatalogTest, RetriesAndErrors) {
  cat->create_pipe("p", "{}", "r");
  cat->set_state("p", PipeState::Running, "running");
  clock.ms += 7;
  cat->record_retry("p", 3, "connection refused");
  auto p = cat->get_pipe("p");
  EXPECT_EQ(p->retry_count, 3);
  EXPECT_EQ(p->last_error, "connection refused");
  EXPECT_EQ(p->state, PipeState::Running);
  EXPECT_EQ(p->updated_at_ms, clock.ms);
  EXPECT_EQ(cat->history("p").size(), 2u);  // no transition for a retry

  // Same state again: transition recorded, retry count kept, error replaced.
  cat->set_state("p", PipeState::Running, "still running", "still refused");
  p = cat->get_pipe("p");
  EXPECT_EQ(p->retry_count, 3);
  EXPECT_EQ(p->last_error, "still refused");

  // A real change resets the retry count; an empty error clears it.
  cat->set_state("p", PipeState::Pausing, "pause requested");
  p = cat->get_pipe("p");
  EXPECT_EQ(p->retry_count, 0);
  EXPECT_EQ(p->last_error, "");

  Error e = expect_error([&] { cat->record_retry("nope", 1, "x"); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_TRUE(Contains(e.what(), "pipe 'nope' does not exist"));
}

// --- tables and partitions ---------------------------------------------------

TEST_F(CatalogTest, TablesRoundTrip) {
  cat->create_pipe("p", "{}", "r");
  TableStatus t;
  t.pipe = "p";
  t.source = "public.orders";
  t.destination = "orders";
  t.state = "streaming";
  t.partitions_total = 10;
  t.partitions_done = 10;
  t.rows_loaded = 12345;
  t.load_started_at_ms = 111;
  t.load_finished_at_ms = 222;
  t.partition_ms_total = 333;
  cat->upsert_table(t);
  TableStatus u;
  u.pipe = "p";
  u.source = "public.customers";
  u.destination = "customers_v2";
  u.state = "pending";
  cat->upsert_table(u);

  auto ts = cat->tables("p");
  ASSERT_EQ(ts.size(), 2u);  // registration order
  const TableStatus& r = ts[0];
  EXPECT_EQ(r.pipe, "p");
  EXPECT_EQ(r.source, "public.orders");
  EXPECT_EQ(r.destination, "orders");
  EXPECT_EQ(r.state, "streaming");
  EXPECT_EQ(r.partitions_total, 10);
  EXPECT_EQ(r.partitions_done, 10);
  EXPECT_EQ(r.rows_loaded, 12345);
  EXPECT_EQ(r.load_started_at_ms, 111);
  EXPECT_EQ(r.load_finished_at_ms, 222);
  EXPECT_EQ(r.partition_ms_total, 333);
  EXPECT_EQ(ts[1].source, "public.customers");
  EXPECT_EQ(ts[1].destination, "customers_v2");

  // Upsert updates in place and keeps the order.
  t.state = "removed";
  t.rows_loaded = 1;
  cat->upsert_table(t);
  ts = cat->tables("p");
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_EQ(ts[0].state, "removed");
  EXPECT_EQ(ts[0].rows_loaded, 1);

  cat->delete_table("p", "public.orders");
  ts = cat->tables("p");
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].source, "public.customers");
  cat->delete_table("p", "public.orders");  // already gone: no-op
  EXPECT_TRUE(cat->tables("other").empty());

  t.pipe = "nope";
  Error e = expect_error([&] { cat->upsert_table(t); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_TRUE(Contains(e.what(), "pipe 'nope' does not exist"));
}

TEST_F(CatalogTest, UpsertTableKeepsPartitions) {
  cat->create_pipe("p", "{}", "r");
  make_table("p", "t", 3);
  TableStatus t = table("p", "t");
  t.destination = "renamed";
  cat->upsert_table(t);
  EXPECT_EQ(cat->partitions("p", "t").size(), 3u);
}

TEST_F(CatalogTest, PartitionPlanAndFinish) {
  cat->create_pipe("p", "{}", "r");
  const int64_t started = clock.ms;
  make_table("p", "t", 3);

  auto parts = cat->partitions("p", "t");
  ASSERT_EQ(parts.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(parts[i].pipe, "p");
    EXPECT_EQ(parts[i].table, "t");
    EXPECT_EQ(parts[i].index, i);
    EXPECT_EQ(parts[i].range, "[" + std::to_string(i * 100) + "," + std::to_string(i * 100 + 100) + ")");
    EXPECT_FALSE(parts[i].done);
    EXPECT_EQ(parts[i].rows, 0);
    EXPECT_EQ(parts[i].duration_ms, 0);
  }
  TableStatus t = table("p", "t");
  EXPECT_EQ(t.state, "loading");
  EXPECT_EQ(t.partitions_total, 3);
  EXPECT_EQ(t.partitions_done, 0);
  EXPECT_EQ(t.rows_loaded, 0);
  EXPECT_EQ(t.load_started_at_ms, started);
  EXPECT_EQ(t.load_finished_at_ms, 0);

  clock.ms += 100;
  cat->finish_partition("p", "t", 1, 50, 20);
  clock.ms += 100;
  cat->finish_partition("p", "t", 0, 70, 30);
  t = table("p", "t");
  EXPECT_EQ(t.state, "loading");
  EXPECT_EQ(t.partitions_done, 2);
  EXPECT_EQ(t.rows_loaded, 120);
  EXPECT_EQ(t.partition_ms_total, 50);
  EXPECT_EQ(t.load_finished_at_ms, 0);
  parts = cat->partitions("p", "t");
  EXPECT_TRUE(parts[0].done);
  EXPECT_EQ(parts[0].rows, 70);
  EXPECT_EQ(parts[0].duration_ms, 30);
  EXPECT_TRUE(parts[1].done);
  EXPECT_FALSE(parts[2].done);

  clock.ms += 100;
  cat->finish_partition("p", "t", 2, 5, 1);
  t = table("p", "t");
  EXPECT_EQ(t.state, "loaded");
  EXPECT_EQ(t.partitions_done, 3);
  EXPECT_EQ(t.rows_loaded, 125);
  EXPECT_EQ(t.partition_ms_total, 51);
  EXPECT_EQ(t.load_finished_at_ms, clock.ms);
  EXPECT_EQ(t.load_started_at_ms, started);
}

TEST_F(CatalogTest, FinishPartitionIsIdempotent) {
  cat->create_pipe("p", "{}", "r");
  make_table("p", "t", 2);
  cat->finish_partition("p", "t", 0, 10, 5);
  cat->finish_partition("p", "t", 0, 10, 5);
  cat->finish_partition("p", "t", 0, 999, 999);  // a replay with other numbers changes nothing either
  TableStatus t = table("p", "t");
  EXPECT_EQ(t.partitions_done, 1);
  EXPECT_EQ(t.rows_loaded, 10);
  EXPECT_EQ(t.partition_ms_total, 5);
  EXPECT_EQ(t.state, "loading");
  EXPECT_EQ(cat->partitions("p", "t")[0].rows, 10);

  clock.ms += 1;
  cat->finish_partition("p", "t", 1, 1, 1);
  const int64_t finished = clock.ms;
  clock.ms += 1000;
  cat->finish_partition("p", "t", 1, 1, 1);
  t = table("p", "t");
  EXPECT_EQ(t.partitions_done, 2);
  EXPECT_EQ(t.rows_loaded, 11);
  EXPECT_EQ(t.state, "loaded");
  EXPECT_EQ(t.load_finished_at_ms, finished);
}

TEST_F(CatalogTest, FinishUnknownPartitionThrows) {
  cat->create_pipe("p", "{}", "r");
  make_table("p", "t", 2);
  Error e = expect_error([&] { cat->finish_partition("p", "t", 7, 1, 1); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_TRUE(Contains(e.what(), "partition 7"));
  e = expect_error([&] { cat->finish_partition("p", "other", 0, 1, 1); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_EQ(table("p", "t").partitions_done, 0);
}

TEST_F(CatalogTest, SavePlanReplacesEarlierPlan) {
  cat->create_pipe("p", "{}", "r");
  make_table("p", "t", 3);
  cat->finish_partition("p", "t", 0, 10, 5);
  clock.ms += 1000;
  std::vector<PartitionRecord> plan(2);
  plan[0].index = 0;
  plan[0].range = "a";
  plan[0].done = true;  // ignored: a new plan starts undone
  plan[0].rows = 77;
  plan[1].index = 1;
  plan[1].range = "b";
  cat->save_partition_plan("p", "t", plan, clock.ms);
  auto parts = cat->partitions("p", "t");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].range, "a");
  EXPECT_FALSE(parts[0].done);
  EXPECT_EQ(parts[0].rows, 0);
  EXPECT_EQ(parts[1].range, "b");
  TableStatus t = table("p", "t");
  EXPECT_EQ(t.partitions_total, 2);
  EXPECT_EQ(t.partitions_done, 0);
  EXPECT_EQ(t.rows_loaded, 0);
  EXPECT_EQ(t.partition_ms_total, 0);
  EXPECT_EQ(t.state, "loading");
  EXPECT_EQ(t.load_started_at_ms, clock.ms);
  EXPECT_EQ(t.load_finished_at_ms, 0);
}

TEST_F(CatalogTest, SavePlanNeedsRegisteredTable) {
  cat->create_pipe("p", "{}", "r");
  Error e = expect_error([&] { cat->save_partition_plan("p", "t", {PartitionRecord{}}, 1); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_TRUE(Contains(e.what(), "table 't' of pipe 'p' is not registered"));
  e = expect_error([&] { cat->save_partition_plan("q", "t", {PartitionRecord{}}, 1); });
  EXPECT_TRUE(Contains(e.what(), "pipe 'q' does not exist"));
}

TEST_F(CatalogTest, EmptyPlanIsLoadedAtOnce) {
  cat->create_pipe("p", "{}", "r");
  make_table("p", "t", 0);
  TableStatus t = table("p", "t");
  EXPECT_EQ(t.state, "loaded");
  EXPECT_EQ(t.partitions_total, 0);
  EXPECT_EQ(t.load_finished_at_ms, clock.ms);
}

TEST_F(CatalogTest, FailedCallRollsBackEverything) {
  cat->create_pipe("p", "{}", "r");
  make_table("p", "t", 2);
  cat->finish_partition("p", "t", 0, 10, 5);
  // Duplicate index: the second INSERT fails after the old plan was deleted in
  // the same transaction; the whole call must roll back.
  std::vector<PartitionRecord> bad(2);
  bad[0].index = 5;
  bad[1].index = 5;
  Error e = expect_error([&] { cat->save_partition_plan("p", "t", bad, clock.ms + 1); });
  EXPECT_EQ(e.kind(), ErrorKind::Permanent);
  EXPECT_TRUE(Contains(e.what(), "save_partition_plan"));
  EXPECT_TRUE(Contains(e.what(), "UNIQUE constraint failed"));
  auto parts = cat->partitions("p", "t");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_TRUE(parts[0].done);
  TableStatus t = table("p", "t");
  EXPECT_EQ(t.partitions_done, 1);
  EXPECT_EQ(t.rows_loaded, 10);
  // And the connection is usable afterwards.
  cat->finish_partition("p", "t", 1, 1, 1);
  EXPECT_EQ(table("p", "t").state, "loaded");
}

TEST_F(CatalogTest, ClearPartitionsKeepsStatistics) {
  cat->create_pipe("p", "{}", "r");
  make_table("p", "t", 1);
  cat->finish_partition("p", "t", 0, 10, 5);
  cat->clear_partitions("p", "t");
  EXPECT_TRUE(cat->partitions("p", "t").empty());
  TableStatus t = table("p", "t");
  EXPECT_EQ(t.state, "loaded");
  EXPECT_EQ(t.rows_loaded, 10);
}

TEST_F(CatalogTest, DeleteTableRemovesItsPartitions) {
  cat->create_pipe("p", "{}", "r");
  make_table("p", "t", 2);
  make_table("p", "u", 2);
  cat->delete_table("p", "t");
  EXPECT_TRUE(cat->partitions("p", "t").empty());
  EXPECT_EQ(cat->partitions("p", "u").size(), 2u);
  // Re-registering starts clean.
  make_table("p", "t", 1);
  EXPECT_EQ(cat->partitions("p", "t").size(), 1u);
}

// --- checkpoints and meta ----------------------------------------------------

TEST_F(CatalogTest, CheckpointsRoundTrip) {
  cat->create_pipe("p", "{}", "r");
  cat->create_pipe("q", "{}", "r");
  EXPECT_FALSE(cat->checkpoint("p", "").has_value());
  cat->commit_checkpoint("p", "", "0/16B3748");
  cat->commit_checkpoint("p", "public.orders", "2024-01-01 00:00:00");
  cat->commit_checkpoint("q", "", "mysql-bin.000003:1234");
  EXPECT_EQ(cat->checkpoint("p", ""), "0/16B3748");
  EXPECT_EQ(cat->checkpoint("p", "public.orders"), "2024-01-01 00:00:00");
  EXPECT_EQ(cat->checkpoint("q", ""), "mysql-bin.000003:1234");
  cat->commit_checkpoint("p", "", "0/16B4000");
  EXPECT_EQ(cat->checkpoint("p", ""), "0/16B4000");

  cat->clear_checkpoints("p");
  EXPECT_FALSE(cat->checkpoint("p", "").has_value());
  EXPECT_FALSE(cat->checkpoint("p", "public.orders").has_value());
  EXPECT_EQ(cat->checkpoint("q", ""), "mysql-bin.000003:1234");

  Error e = expect_error([&] { cat->commit_checkpoint("nope", "", "1"); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_TRUE(Contains(e.what(), "pipe 'nope' does not exist"));
  EXPECT_FALSE(cat->checkpoint("nope", "").has_value());
}

TEST_F(CatalogTest, MetaRoundTrip) {
  cat->create_pipe("p", "{}", "r");
  EXPECT_FALSE(cat->get_meta("p", "slot").has_value());
  cat->put_meta("p", "slot", "ferry_p");
  cat->put_meta("p", "consistent_point", "0/1");
  EXPECT_EQ(cat->get_meta("p", "slot"), "ferry_p");
  cat->put_meta("p", "slot", "ferry_p2");
  EXPECT_EQ(cat->get_meta("p", "slot"), "ferry_p2");
  EXPECT_EQ(cat->get_meta("p", "consistent_point"), "0/1");
  cat->put_meta("p", "empty", "");
  EXPECT_EQ(cat->get_meta("p", "empty"), "");  // empty value is not "absent"
  EXPECT_THROW(cat->put_meta("nope", "k", "v"), Error);
}

TEST_F(CatalogTest, DeletePipeKeepsHistoryOnly) {
  cat->create_pipe("p", "{}", "created");
  cat->create_pipe("other", "{}", "created");
  cat->set_state("p", PipeState::Setup, "setup");
  make_table("p", "t", 2);
  make_table("other", "t", 2);
  cat->finish_partition("p", "t", 0, 1, 1);
  cat->commit_checkpoint("p", "", "lsn");
  cat->commit_checkpoint("other", "", "lsn");
  cat->put_meta("p", "slot", "s");
  cat->put_meta("other", "slot", "s");

  cat->delete_pipe("p");
  EXPECT_FALSE(cat->get_pipe("p").has_value());
  EXPECT_TRUE(cat->tables("p").empty());
  EXPECT_TRUE(cat->partitions("p", "t").empty());
  EXPECT_FALSE(cat->checkpoint("p", "").has_value());
  EXPECT_FALSE(cat->get_meta("p", "slot").has_value());
  EXPECT_EQ(cat->history("p").size(), 2u);
  // The other pipe is untouched.
  EXPECT_TRUE(cat->get_pipe("other").has_value());
  EXPECT_EQ(cat->tables("other").size(), 1u);
  EXPECT_EQ(cat->partitions("other", "t").size(), 2u);
  EXPECT_EQ(cat->checkpoint("other", ""), "lsn");
  EXPECT_EQ(cat->get_meta("other", "slot"), "s");

  // The name can be reused; the history continues.
  cat->create_pipe("p", "{}", "created again");
  auto h = cat->history("p");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_FALSE(h[2].from.has_value());
  EXPECT_EQ(h[2].reason, "created again");
  EXPECT_EQ(cat->get_pipe("p")->state, PipeState::Provisioning);

  Error e = expect_error([&] { cat->delete_pipe("ghost"); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_TRUE(Contains(e.what(), "pipe 'ghost' does not exist"));
}

TEST_F(CatalogTest, ValuesAreBoundNotConcatenated) {
  const std::string name = "it's \"odd\"; DROP TABLE pipes; -- ✓ Ünïcödé";
  const std::string spec = std::string("{\"x\":\"a\0b\"}", 11);  // embedded NUL survives
  cat->create_pipe(name, spec, "reason with 'quotes'");
  auto p = cat->get_pipe(name);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->name, name);
  EXPECT_EQ(p->spec_json, spec);
  EXPECT_EQ(cat->history(name)[0].reason, "reason with 'quotes'");
  cat->commit_checkpoint(name, "schema.\"Table\"", "'; --");
  EXPECT_EQ(cat->checkpoint(name, "schema.\"Table\""), "'; --");
  EXPECT_EQ(cat->list_pipes().size(), 1u);
}

// --- open, migrations --------------------------------------------------------

TEST(CatalogOpenTest, OpenCatalogLocations) {
  TempDir dir;
  auto a = open_catalog("sqlite:" + dir.file("a.db"));
  a->create_pipe("p", "{}", "r");
  a.reset();
  EXPECT_TRUE(std::filesystem::exists(dir.file("a.db")));
  EXPECT_TRUE(open_catalog("sqlite:" + dir.file("a.db"))->get_pipe("p").has_value());
  EXPECT_TRUE(open_catalog(dir.file("a.db"))->get_pipe("p").has_value());
  EXPECT_TRUE(open_catalog("sqlite://" + dir.file("a.db"))->get_pipe("p").has_value());

  EXPECT_TRUE(open_catalog(":memory:")->list_pipes().empty());
  EXPECT_TRUE(open_catalog("sqlite::memory:")->list_pipes().empty());

  Error e = expect_error([] { open_catalog("postgres://ferry@localhost/ferry"); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_TRUE(Contains(e.what(), "not supported yet"));
  e = expect_error([] { open_catalog("postgresql://localhost/ferry"); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  e = expect_error([] { open_catalog("mysql://localhost/ferry"); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_TRUE(Contains(e.what(), "unknown scheme 'mysql'"));
  e = expect_error([] { open_catalog("sqlite:"); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  e = expect_error([] { open_catalog(""); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
}

TEST(CatalogOpenTest, UnopenablePathFailsClearly) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/c.db");
  Error e = expect_error([&] { SqliteCatalog c(path); });
  EXPECT_TRUE(Contains(e.what(), path));
}

TEST(CatalogOpenTest, UsesWalJournal) {
  TempDir dir;
  SqliteCatalog c(dir.file("c.db"));
  RawDb raw(dir.file("c.db"));
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
}

TEST(CatalogMigrationTest, MigratesEmptyFileFromVersionZero) {
  TempDir dir;
  const std::string path = dir.file("empty.db");
  std::ofstream(path).close();  // a 0-byte file: SQLite's empty database, version 0
  ASSERT_EQ(std::filesystem::file_size(path), 0u);
  {
    SqliteCatalog c(path);
    EXPECT_EQ(c.schema_version(), SqliteCatalog::kSchemaVersion);
    c.create_pipe("p", "{}", "r");
  }
  {
    RawDb raw(path);
    EXPECT_EQ(raw.text("SELECT group_concat(version, ',') FROM (SELECT version FROM schema_version ORDER BY 1)"),
              "1,2");
  }
  // Reopening an up-to-date file changes nothing and keeps the data.
  SqliteCatalog c(path);
  EXPECT_EQ(c.schema_version(), SqliteCatalog::kSchemaVersion);
  EXPECT_TRUE(c.get_pipe("p").has_value());
  RawDb raw(path);
  EXPECT_EQ(raw.text("SELECT count(*) FROM schema_version"), std::to_string(SqliteCatalog::kSchemaVersion));
}

TEST(CatalogMigrationTest, MigrationsAreContiguous) {
  const auto& m = sqlite_catalog_migrations();
  ASSERT_FALSE(m.empty());
  for (size_t i = 0; i < m.size(); ++i) EXPECT_EQ(m[i].version, static_cast<int>(i) + 1);
  EXPECT_EQ(m.back().version, SqliteCatalog::kSchemaVersion);
}

TEST(CatalogMigrationTest, MigratesOlderCatalogKeepingData) {
  TempDir dir;
  const std::string path = dir.file("v1.db");
  {
    // A catalog as the version-1 binary left it, with data in it.
    RawDb raw(path);
    raw.exec(
        "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at_ms INTEGER NOT NULL, "
        "description TEXT NOT NULL)");
    raw.exec(sqlite_catalog_migrations()[0].sql);
    raw.exec("INSERT INTO schema_version VALUES (1, 0, 'v1')");
    raw.exec("INSERT INTO pipes(name, spec_json, state, created_at_ms, updated_at_ms) VALUES ('old', '{}', 'Running', 1, 2)");
    raw.exec("INSERT INTO transitions(pipe, at_ms, from_state, to_state, reason) VALUES ('old', 1, NULL, 'Provisioning', 'c')");
    raw.exec("INSERT INTO checkpoints VALUES ('old', '', '0/AB', 2)");
  }
  SqliteCatalog c(path);
  EXPECT_EQ(c.schema_version(), SqliteCatalog::kSchemaVersion);
  auto p = c.get_pipe("old");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->state, PipeState::Running);
  EXPECT_EQ(c.checkpoint("old", ""), "0/AB");
  EXPECT_EQ(c.history("old").size(), 1u);
  RawDb raw(path);
  EXPECT_EQ(raw.text("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'transitions_by_pipe'"),
            "transitions_by_pipe");
}

TEST(CatalogMigrationTest, RefusesNewerSchema) {
  TempDir dir;
  const std::string path = dir.file("new.db");
  { SqliteCatalog c(path); }
  const int newer = SqliteCatalog::kSchemaVersion + 1;
  {
    RawDb raw(path);
    raw.exec("INSERT INTO schema_version VALUES (" + std::to_string(newer) + ", 0, 'from the future')");
  }
  Error e = expect_error([&] { SqliteCatalog c(path); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  EXPECT_TRUE(Contains(e.what(), "schema version " + std::to_string(newer)));
  EXPECT_TRUE(Contains(e.what(), "newer than this ferry supports (" +
                                  std::to_string(SqliteCatalog::kSchemaVersion) + ")"));
  EXPECT_TRUE(Contains(e.what(), path));
  e = expect_error([&] { open_catalog("sqlite:" + path); });
  EXPECT_EQ(e.kind(), ErrorKind::Config);
  RawDb raw(path);
  EXPECT_EQ(raw.text("SELECT max(version) FROM schema_version"), std::to_string(newer));
}

// --- threads -----------------------------------------------------------------

TEST(CatalogThreadTest, ConcurrentWritersSmoke) {
  TempDir dir;
  const std::string path = dir.file("threads.db");
  SqliteCatalog shared(path);
  constexpr int kThreads = 4;
  constexpr int kIters = 40;
  for (int t = 0; t <= kThreads; ++t) {
    const std::string pipe = "p" + std::to_string(t);
    shared.create_pipe(pipe, "{}", "created");
    TableStatus ts;
    ts.pipe = pipe;
    ts.source = "t";
    ts.destination = "t";
    ts.state = "pending";
    shared.upsert_table(ts);
    std::vector<PartitionRecord> plan(kIters);
    for (int i = 0; i < kIters; ++i) plan[i].index = i;
    shared.save_partition_plan(pipe, "t", plan, 0);
  }

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  auto writer = [&](Catalog& cat, const std::string& pipe) {
    try {
      for (int i = 0; i < kIters; ++i) {
        cat.set_state(pipe, i % 2 ? PipeState::Running : PipeState::Snapshot, "step " + std::to_string(i));
        cat.commit_checkpoint(pipe, "", std::to_string(i));
        cat.finish_partition(pipe, "t", i, i + 1, 1);
        cat.put_meta(pipe, "last", std::to_string(i));
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << pipe << ": " << e.what();
      ++failures;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(writer, std::ref(shared), "p" + std::to_string(t));
  // A second connection to the same file (another "process") writes concurrently too.
  threads.emplace_back([&] {
    SqliteCatalog other(path);
    writer(other, "p" + std::to_string(kThreads));
  });
  std::thread reader([&] {
    while (!stop) {
      for (auto& p : shared.list_pipes()) shared.history(p.name);
      shared.tables("p0");
    }
  });
  for (auto& th : threads) th.join();
  stop = true;
  reader.join();
  ASSERT_EQ(failures, 0);

  SqliteCatalog check(path);
  for (int t = 0; t <= kThreads; ++t) {
    const std::string pipe = "p" + std::to_string(t);
    SCOPED_TRACE(pipe);
    EXPECT_EQ(check.history(pipe).size(), 1u + kIters);
    EXPECT_EQ(check.checkpoint(pipe, ""), std::to_string(kIters - 1));
    EXPECT_EQ(check.get_meta(pipe, "last"), std::to_string(kIters - 1));
    auto ts = check.tables(pipe);
    ASSERT_EQ(ts.size(), 1u);
    EXPECT_EQ(ts[0].partitions_done, kIters);
    EXPECT_EQ(ts[0].rows_loaded, kIters * (kIters + 1) / 2);
    EXPECT_EQ(ts[0].state, "loaded");
  }
}

}  // namespace

// Lifecycle actions of snapshot+cdc pipes from MariaDB 10.11 into ClickHouse, against
// the real servers, as the PostgreSQL ones (resync_test, reset_test, the add/remove
// tests of pg_to_clickhouse_cdc_test): a binlog purged while paused (Failed naming the
// position -> resync -> Running), resync of the pipe and of one table, reset, tables
// added and removed while streaming, and a MariaDB restart mid-stream. Every end state
// is compared with the source value by value.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "connectors/mysql/mysql_connection.h"
#include "core/ident.h"
#include "pipe/runner.h"
#include "cdc_support.h"
#include "mysql_support.h"
#include "../shared/pipe_spec.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kCols = {"id", "v", "n"};

// Table `name` (id, v, n) holding ids 1..rows.
void create_table(MysqlDatabase& db, const std::string& name, int rows) {
  db.exec(fmt::format("CREATE TABLE {} (id INT PRIMARY KEY, v VARCHAR(100) NOT NULL, n BIGINT NOT NULL)", name));
  db.exec(fmt::format("INSERT INTO {} SELECT seq, CONCAT('{}', seq), seq FROM seq_1_to_{}", name, name, rows));
}

PipeSpec my_pipe(const std::string& name, const std::vector<std::string>& tables) {
  PipeSpec p = pg_to_ch_pipe(name, tables);
  p.settings.snapshot_rows_per_partition = 1000;
  return p;
}

// Runs the pipe until `change`, made at the source, has arrived in `table`; then pauses it.
void stream_then_pause(Sandbox& sb, MysqlDatabase& db, Catalog& catalog, const PipeSpec& spec,
                       const std::string& table, const std::string& change) {
  BackgroundPipe pipe(sb, catalog, spec, db.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  db.exec(change);
  ASSERT_TRUE(mysql_converges(sb, db, table, kCols));
  EXPECT_EQ(pipe.pause(), PipeState::Paused);
}

std::string refusal(const ActionOutcome& out) {
  auto* r = std::get_if<Refusal>(&out);
  return r ? r->message : "";
}

// Keeps changing `table` (updates, inserts from `first_id` on, deletes, a two-statement
// transaction) until stopped.
class Writer {
 public:
  Writer(const PeerSpec& peer, std::string table, int first_id = 1000000) : thread_([this, peer, table, first_id] {
    try {
      auto conn = mysql::MysqlConnection::open(peer);
      std::mt19937 rng(7);
      int next_id = first_id;
      while (!stop_) {
        int a = 1 + int(rng() % 2000), b = 1 + int(rng() % 2000);
        conn->exec("BEGIN");
        conn->exec(fmt::format("UPDATE {} SET n = n - 1 WHERE id = {}", table, a));
        conn->exec(fmt::format("UPDATE {} SET n = n + 1, v = CONCAT(v, '+') WHERE id = {}", table, b));
        conn->exec("COMMIT");
        conn->exec(fmt::format("INSERT INTO {} VALUES ({}, 'fresh', 0)", table, next_id));
        conn->exec(fmt::format("DELETE FROM {} WHERE id = {}", table, next_id - 3));
        ++next_id;
        ++transactions_;
        std::this_thread::sleep_for(2ms);
      }
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }) {}
  ~Writer() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int transactions() const { return transactions_; }
  const std::string& error() const { return error_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> transactions_{0};
  std::string error_;
  std::thread thread_;
};

}  // namespace

// The binlog a paused pipe would resume from is purged: the pipe fails naming the
// position and saying resync; a resync rebuilds it and it converges exactly, the
// changes made while paused included.
TEST(MysqlLifecycle, PurgedBinlogWhilePausedFailsAndResyncRecovers) {
  Sandbox sb("mypurge");
  MysqlDatabase db(sb);
  create_table(db, "t", 3000);
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = my_pipe("mypurge", {"t"});
  ASSERT_NO_FATAL_FAILURE(stream_then_pause(sb, db, *catalog, spec, "t", "UPDATE t SET v = 'streamed' WHERE id <= 10"));
  std::string checkpoint = catalog->checkpoint("mypurge", "").value_or("");
  ASSERT_NE(checkpoint.find("binlog."), std::string::npos) << checkpoint;
  std::string checkpoint_file = checkpoint.substr(0, checkpoint.find(':'));
  db.exec("UPDATE t SET v = 'while paused', n = n * 2 WHERE id BETWEEN 100 AND 300");
  db.exec("DELETE FROM t WHERE id > 2900");
  db.exec("FLUSH BINARY LOGS");
  // The server keeps a file until its binlog checkpoint moved past it (asynchronous).
  auto file_listed = [&] {
    for (const auto& r : db.rows("SHOW BINARY LOGS"))
      if (r.at(0) == checkpoint_file) return true;
    return false;
  };
  ASSERT_TRUE(eventually([&] {
    std::string current = db.rows("SHOW MASTER STATUS").at(0).at(0);
    db.exec(fmt::format("PURGE BINARY LOGS TO '{}'", current));
    return !file_listed();
  }, 30));
  {
    PipeRunner resumer(*catalog, spec, db.peer(), sb.ch_peer());
    ASSERT_TRUE(std::holds_alternative<Accepted>(resumer.resume()));
  }
  {
    // Bounded: a pipe that waits instead of failing is stopped after wait_for gives up.
    BackgroundPipe pipe(sb, *catalog, spec, db.peer());
    EXPECT_TRUE(pipe.wait_for(PipeState::Failed, 60s));
    EXPECT_EQ(pipe.stop(), PipeState::Failed);
  }
  auto rec = catalog->get_pipe("mypurge");
  EXPECT_EQ(rec->state, PipeState::Failed);
  EXPECT_NE(rec->last_error.find(checkpoint), std::string::npos) << rec->last_error;
  EXPECT_NE(rec->last_error.find("resync"), std::string::npos) << rec->last_error;

  {
    PipeRunner runner(*catalog, spec, db.peer(), sb.ch_peer());
    auto out = runner.resync("");
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);
  }
  BackgroundPipe pipe(sb, *catalog, spec, db.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running, 120s));
  EXPECT_TRUE(mysql_converges(sb, db, "t", kCols, 10s));
  db.exec("UPDATE t SET v = 'after resync' WHERE id BETWEEN 1 AND 50");
  db.exec("INSERT INTO t VALUES (5000, 'new', 5)");
  EXPECT_TRUE(mysql_converges(sb, db, "t", kCols));
  EXPECT_EQ(pipe.stop(), PipeState::Running);
}

// Pipe-wide resync while a writer keeps changing the source, then a resync of one
// table: both converge exactly, the table not resynced is left as it was.
TEST(MysqlLifecycle, ResyncOfThePipeAndOfOneTableConverge) {
  Sandbox sb("myresync");
  MysqlDatabase db(sb);
  create_table(db, "acc", 10000);
  create_table(db, "other", 500);
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = my_pipe("myrs", {"acc", "other"});
  Writer writer(db.peer(), "acc");
  {
    BackgroundPipe pipe(sb, *catalog, spec, db.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    ASSERT_TRUE(eventually([&] { return writer.transactions() > 100; }));
  }
  {
    PipeRunner runner(*catalog, spec, db.peer(), sb.ch_peer());
    auto out = runner.resync("");
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);
  }
  int at_resync = writer.transactions();
  {
    BackgroundPipe pipe(sb, *catalog, spec, db.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running, 120s));
    EXPECT_GT(writer.transactions(), at_resync);  // the source changed during the resync
    writer.stop();
    ASSERT_EQ(writer.error(), "");
    EXPECT_TRUE(mysql_converges(sb, db, "acc", kCols));
    EXPECT_TRUE(mysql_converges(sb, db, "other", kCols));
    db.exec("DELETE FROM acc WHERE id BETWEEN 1 AND 5");  // soft-deleted rows to carry
    EXPECT_TRUE(mysql_converges(sb, db, "acc", kCols));
  }
  int64_t other_loaded = -1;
  for (const auto& t : catalog->tables("myrs"))
    if (t.source == "other") other_loaded = t.rows_loaded;
  db.exec("UPDATE acc SET v = 'before table resync' WHERE id BETWEEN 10 AND 20");
  {
    PipeRunner runner(*catalog, spec, db.peer(), sb.ch_peer());
    auto out = runner.resync("acc");
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);
  }
  BackgroundPipe pipe(sb, *catalog, spec, db.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running, 120s));
  db.exec("UPDATE acc SET v = 'after table resync' WHERE id BETWEEN 15 AND 30");
  db.exec("INSERT INTO acc VALUES (3, 'back', 3)");
  db.exec("UPDATE other SET v = 'streamed' WHERE id = 7");
  EXPECT_TRUE(mysql_converges(sb, db, "acc", kCols));
  EXPECT_TRUE(mysql_converges(sb, db, "other", kCols));
  // Deleted keys stay deleted in the rebuilt table (carried), a re-inserted one is live.
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "acc") + " FINAL WHERE id IN (1, 2, 4, 5) AND "
                        "_ferry_is_deleted = 1"),
            "4");
  for (const auto& t : catalog->tables("myrs"))
    if (t.source == "other") {
      EXPECT_EQ(t.rows_loaded, other_loaded);  // not reloaded
    }
  EXPECT_EQ(pipe.stop(), PipeState::Running);
}

// Reset of a paused pipe without clearing: rows updated and deleted while paused are
// right after the reload, and streaming goes on.
TEST(MysqlLifecycle, ResetConverges) {
  Sandbox sb("myreset");
  MysqlDatabase db(sb);
  create_table(db, "acc", 5000);
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = my_pipe("myrst", {"acc"});
  ASSERT_NO_FATAL_FAILURE(
      stream_then_pause(sb, db, *catalog, spec, "acc", "UPDATE acc SET v = CONCAT('cdc ', id) WHERE id <= 200"));
  std::string old_checkpoint = catalog->checkpoint("myrst", "").value_or("");
  db.exec("UPDATE acc SET v = CONCAT('paused ', id) WHERE id <= 100");
  db.exec("DELETE FROM acc WHERE id > 4900");
  {
    PipeRunner runner(*catalog, spec, db.peer(), sb.ch_peer());
    auto out = runner.reset(false, false);
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);
    EXPECT_EQ(catalog->get_pipe("myrst")->state, PipeState::Setup);
    EXPECT_FALSE(catalog->checkpoint("myrst", ""));
  }
  BackgroundPipe pipe(sb, *catalog, spec, db.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  EXPECT_TRUE(mysql_converges(sb, db, "acc", kCols, 10s));
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "acc") + " FINAL WHERE _ferry_is_deleted = 1"), "100");
  EXPECT_NE(catalog->checkpoint("myrst", "").value_or(""), old_checkpoint);
  db.exec("UPDATE acc SET v = 'after reset' WHERE id BETWEEN 50 AND 150");
  db.exec("DELETE FROM acc WHERE id = 1");
  EXPECT_TRUE(mysql_converges(sb, db, "acc", kCols));
  EXPECT_EQ(pipe.stop(), PipeState::Running);
}

// A table added to a streaming pipe loads while the other keeps streaming, then the
// other one is removed: its changes stop flowing, the remaining table keeps streaming.
TEST(MysqlLifecycle, AddAndRemoveTablesWhileStreaming) {
  Sandbox sb("myaddrm");
  MysqlDatabase db(sb);
  create_table(db, "a", 100);
  create_table(db, "b", 5000);
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec one = my_pipe("myaddrm", {"a"});
  one.settings.snapshot_parallelism = 1;
  {
    BackgroundPipe pipe(sb, *catalog, one, db.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  }
  PipeSpec two = one;
  two.tables.push_back(table_mapping("b"));
  {
    PipeRunner runner(*catalog, two, db.peer(), sb.ch_peer());
    auto out = runner.change_tables({"b"}, {});
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);
  }
  std::string hold = sb.dir() + "/hold";
  write_file(hold, "");
  TestHooks hooks;
  hooks.hold_at = "load-partition-done";
  hooks.hold_file = hold;
  {
    BackgroundPipe pipe(sb, *catalog, two, db.peer(), &hooks);
    FileRemovedAtExit release{hold};
    auto b_partitions_done = [&] {
      for (const auto& t : catalog->tables("myaddrm"))
        if (t.source == "b") return t.partitions_done;
      return int64_t{0};
    };
    auto statuses = [&] {
      std::string out;
      for (const auto& t : catalog->tables("myaddrm"))
        out += fmt::format("{} {} {}/{}; ", t.source, t.state, t.partitions_done, t.partitions_total);
      return out;
    };
    ASSERT_TRUE(eventually([&] { return b_partitions_done() > 0; }, 30)) << statuses();
    db.exec("INSERT INTO a VALUES (1000, 'during the load', 1)");
    db.exec("UPDATE b SET v = 'during' WHERE id IN (1, 4999)");
    db.exec("DELETE FROM b WHERE id = 2");
    EXPECT_TRUE(eventually([&] {  // streamed while b was still loading
      return sb.ch_value("SELECT count() FROM " + ch_table(sb, "a") + " FINAL WHERE id = 1000") == "1";
    }, 30));
    EXPECT_EQ(catalog->get_pipe("myaddrm")->state, PipeState::Snapshot);
    std::remove(hold.c_str());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    EXPECT_TRUE(mysql_converges(sb, db, "a", kCols));
    EXPECT_TRUE(mysql_converges(sb, db, "b", kCols));
  }
  EXPECT_EQ(catalog->get_meta("myaddrm", "adding").value_or(""), "");

  PipeSpec only_b = two;
  only_b.tables.erase(only_b.tables.begin());
  {
    PipeRunner runner(*catalog, only_b, db.peer(), sb.ch_peer());
    auto out = runner.change_tables({}, {"a"});
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);
  }
  EXPECT_EQ(catalog->tables("myaddrm").size(), 1u);
  BackgroundPipe pipe(sb, *catalog, only_b, db.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  Rows a_before = sb.ch_rows("SELECT toString(id), v FROM " + ch_table(sb, "a") + " FINAL ORDER BY id");
  db.exec("UPDATE a SET v = 'not streamed' WHERE id <= 10");
  db.exec("UPDATE b SET v = 'after the removal' WHERE id <= 10");
  EXPECT_TRUE(mysql_converges(sb, db, "b", kCols));  // b's later change arrived, so a's would have
  EXPECT_EQ(sb.ch_rows("SELECT toString(id), v FROM " + ch_table(sb, "a") + " FINAL ORDER BY id"), a_before);
  EXPECT_EQ(pipe.stop(), PipeState::Running);
}

// MariaDB restarted (by its pid, scripts/test-servers restart) while a writer keeps
// changing the source: the stream's broken connection is a transient error, the pipe
// retries from its checkpoint and converges exactly.
TEST(MysqlLifecycle, MariadbRestartMidStreamConverges) {
  Sandbox sb("myrestart");
  MysqlDatabase db(sb);
  create_table(db, "t", 3000);
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = my_pipe("myrestart", {"t"});
  spec.settings.max_retries = 30;
  spec.settings.retry_backoff_max = Millis(2000);
  BackgroundPipe pipe(sb, *catalog, spec, db.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  {
    Writer writer(db.peer(), "t");
    ASSERT_TRUE(eventually([&] { return writer.transactions() > 200; }));
    writer.stop();  // its connection ends with the restart
    ASSERT_EQ(writer.error(), "");
  }
  restart_mariadb();
  db.reconnect();
  Writer writer(db.peer(), "t", 2000000);
  ASSERT_TRUE(eventually([&] { return writer.transactions() > 200; }));
  writer.stop();
  ASSERT_EQ(writer.error(), "");
  EXPECT_TRUE(mysql_converges(sb, db, "t", kCols, 120s));
  auto rec = catalog->get_pipe("myrestart");
  EXPECT_EQ(rec->state, PipeState::Running) << rec->last_error;
  EXPECT_EQ(pipe.stop(), PipeState::Running);
}

// Change data capture from PostgreSQL into ClickHouse, against the real servers.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <chrono>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "core/ident.h"
#include "pipe/runner.h"
#include "cdc_support.h"
#include "support.h"
#include "../shared/pipe_spec.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

PipeSpec cdc_pipe(const std::vector<std::string>& tables, PipeMode mode = PipeMode::SnapshotCdc) {
  return pg_to_ch_pipe("cdc", tables, mode);
}

}  // namespace

TEST(PgToClickHouseCdc, MixedChangesAcrossTablesConverge) {
  Sandbox sb("cdcmix");
  sb.pg_exec(R"SQL(
    CREATE TABLE a (id int PRIMARY KEY, v text, n numeric(10,2));
    CREATE TABLE b (id bigint PRIMARY KEY, label text, flag boolean);
    CREATE TABLE c (k1 int, k2 text, payload text, PRIMARY KEY (k1, k2));
    INSERT INTO a SELECT g, 'a' || g, g / 10.0 FROM generate_series(1, 3000) g;
    INSERT INTO b SELECT g, 'b' || g, g % 2 = 0 FROM generate_series(1, 1000) g;
    INSERT INTO c SELECT g % 10, 'k' || g, 'p' || g FROM generate_series(1, 500) g;
  )SQL");
  auto catalog = open_catalog(sb.catalog_path());
  BackgroundPipe pipe(sb, *catalog, cdc_pipe({"public.a", "public.b", "public.c"}));
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  sb.pg_exec(R"SQL(
    BEGIN;
    INSERT INTO a VALUES (5001, 'new', 1.5), (5002, 'new2', NULL);
    UPDATE a SET v = v || '-upd' WHERE id % 7 = 0;
    DELETE FROM b WHERE id % 5 = 0;
    UPDATE c SET payload = 'changed' WHERE k1 = 3;
    COMMIT;
    BEGIN;
    UPDATE a SET v = 'twice-1' WHERE id = 10;
    UPDATE a SET v = 'twice-2' WHERE id = 10;
    DELETE FROM a WHERE id = 11;
    INSERT INTO a VALUES (11, 'reborn', 11);
    INSERT INTO b VALUES (5000, 'x', true);
    DELETE FROM b WHERE id = 5000;
    COMMIT;
    TRUNCATE c;
    INSERT INTO c VALUES (1, 'after-truncate', 'p');
    UPDATE b SET flag = NOT flag WHERE id < 50;
  )SQL");
  EXPECT_TRUE(converges(sb, "a", {"id", "v", "n"}));
  EXPECT_TRUE(converges(sb, "b", {"id", "label", "flag"}));
  EXPECT_TRUE(converges(sb, "c", {"k1", "k2", "payload"}, "k1, k2"));
  // Soft deletes keep the last values.
  EXPECT_EQ(sb.ch_value(fmt::format("SELECT label FROM {}.b FINAL WHERE id = 5", quote_backtick_ident(sb.name()))), "b5");
  EXPECT_EQ(sb.ch_value(fmt::format("SELECT _ferry_is_deleted FROM {}.b FINAL WHERE id = 5", quote_backtick_ident(sb.name()))), "1");
  pipe.stop();
  auto cp = catalog->checkpoint("cdc", "");
  ASSERT_TRUE(cp.has_value());
  std::vector<std::string> states;
  for (const auto& t : catalog->history("cdc")) states.push_back(to_string(t.to));
  EXPECT_EQ(states, (std::vector<std::string>{"Provisioning", "Setup", "Snapshot", "Running"}));
}

TEST(PgToClickHouseCdc, CdcModeStartsNowWithoutLoad) {
  Sandbox sb("cdconly");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'before');");
  auto catalog = open_catalog(sb.catalog_path());
  BackgroundPipe pipe(sb, *catalog, cdc_pipe({"public.t"}, PipeMode::Cdc));
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  sb.pg_exec("INSERT INTO t VALUES (2, 'after'); UPDATE t SET v = 'after-too' WHERE id = 1;");
  std::string got;
  eventually([&] {
    got = sb.ch_value(fmt::format("SELECT arrayStringConcat(groupArray(concat(toString(id), '=', v)), ',') FROM "
                                  "(SELECT id, v FROM {}.t FINAL WHERE _ferry_is_deleted = 0 ORDER BY id)",
                                  quote_backtick_ident(sb.name())));
    return got == "1=after-too,2=after";
  }, 30, 200ms);
  // Row 1 existed before the pipe: no load, only its update arrives.
  EXPECT_EQ(got, "1=after-too,2=after");
}

TEST(PgToClickHouseCdc, LargeTransactionAppliesWithBoundedMemory) {
  Sandbox sb("bigtx");
  sb.pg_exec("CREATE TABLE big (id int PRIMARY KEY, payload text)");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = cdc_pipe({"public.big"});
  spec.settings.batch_size = 20000;
  BackgroundPipe pipe(sb, *catalog, spec);
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  // 500k rows of ~400 bytes: ~200 MB of values in one transaction.
  sb.pg_exec("INSERT INTO big SELECT g, repeat(md5(g::text), 12) FROM generate_series(1, 500000) g");
  std::string count;
  eventually([&] {
    count = sb.ch_value(fmt::format("SELECT count() FROM {}.big FINAL", quote_backtick_ident(sb.name())));
    return count == "500000";
  }, 300, 500ms);
  EXPECT_EQ(count, "500000");
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  long grown_mb = (after.ru_maxrss - before.ru_maxrss) / 1024;
  std::printf("peak RSS grew by %ld MB while applying a 500k-row transaction\n", grown_mb);
  EXPECT_LT(grown_mb, 150) << "the transaction was not applied in bounded batches";
}

TEST(PgToClickHouseCdc, ToastUnchangedKeyUpdateAndAddedColumn) {
  Sandbox sb("toast");
  sb.pg_exec(R"SQL(
    CREATE TABLE doc (id int PRIMARY KEY, title text, body text);
    ALTER TABLE doc ALTER COLUMN body SET STORAGE EXTERNAL;
    INSERT INTO doc SELECT g, 't' || g, (SELECT string_agg(md5(g::text || x::text), '') FROM generate_series(1, 200) x)
      FROM generate_series(1, 20) g;
  )SQL");
  auto catalog = open_catalog(sb.catalog_path());
  BackgroundPipe pipe(sb, *catalog, cdc_pipe({"public.doc"}));
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  sb.pg_exec(R"SQL(
    UPDATE doc SET title = 'retitled' WHERE id <= 5;
    UPDATE doc SET id = 100 WHERE id = 6;
    DELETE FROM doc WHERE id = 7;
    ALTER TABLE doc ADD COLUMN rating int;
    INSERT INTO doc VALUES (200, 'with rating', 'short body', 5);
    UPDATE doc SET rating = 3 WHERE id = 8;
  )SQL");
  EXPECT_TRUE(converges(sb, "doc", {"id", "title", "body", "rating"}));
  std::string t = quote_backtick_ident(sb.name()) + ".doc";
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + t + " FINAL WHERE id = 6 AND _ferry_is_deleted = 0"), "0");
  // The deleted row keeps its full last values although REPLICA IDENTITY is DEFAULT.
  EXPECT_EQ(sb.ch_value("SELECT length(body) FROM " + t + " FINAL WHERE id = 7"), "6400");
  EXPECT_EQ(sb.ch_value("SELECT title FROM " + t + " FINAL WHERE id = 7"), "t7");
}

// kill -9 of `ferry run` at several points under a live write load; the
// destination converges exactly after the last restart.
TEST(PgToClickHouseCdc, KillNineUnderLiveLoadConverges) {
  Sandbox sb("cdckill");
  sb.pg_exec("CREATE TABLE acc (id int PRIMARY KEY, balance bigint, note text);"
             "INSERT INTO acc SELECT g, 1000, 'n' || g FROM generate_series(1, 2000) g;");
  std::string config = sb.write_config(R"(
  cdc:
    source: src
    destination: dst
    mode: snapshot+cdc
    tables: [ public.acc ]
    settings: { sync_interval: 200ms, batch_size: 500, snapshot_rows_per_partition: 500 }
)");
  std::string catalog_arg = "sqlite:" + sb.catalog_path();

  std::atomic<bool> writing{true};
  std::thread writer([&] {
    PgConnection conn(sb.pg_dsn(), "");
    std::mt19937 rng(42);
    int next_id = 100000;
    while (writing) {
      int a = 1 + rng() % 2000, b = 1 + rng() % 2000;
      conn.exec(fmt::format("BEGIN; UPDATE acc SET balance = balance - 1 WHERE id = {0}; "
                            "UPDATE acc SET balance = balance + 1, note = note || '+' WHERE id = {1}; "
                            "INSERT INTO acc VALUES ({2}, 0, 'fresh'); DELETE FROM acc WHERE id = {2} - 3 AND id > 100000; COMMIT;",
                            a, b, next_id++));
      std::this_thread::sleep_for(2ms);
    }
  });
  kill_nine_rounds(config, catalog_arg, 4, 7, 700, 1500);
  writing = false;
  writer.join();
  // Final run: catch up, then stop with SIGTERM once converged.
  pid_t pid = spawn_ferry_run(config, catalog_arg);
  EXPECT_TRUE(converges(sb, "acc", {"id", "balance", "note"}, "id", 120s));
  EXPECT_TRUE(stop_ferry_run(pid));
}

TEST(PgToClickHouseCdc, DroppedSlotFailsAndSaysResync) {
  Sandbox sb("slotlost");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY)");
  auto catalog = open_catalog(sb.catalog_path());
  {
    BackgroundPipe pipe(sb, *catalog, cdc_pipe({"public.t"}));
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    pipe.stop();
  }
  sb.pg_drop_slot("ferry_cdc");
  PipeRunner runner(*catalog, cdc_pipe({"public.t"}), sb.pg_peer(), sb.ch_peer());
  EXPECT_EQ(runner.run(), PipeState::Failed);
  auto rec = catalog->get_pipe("cdc");
  EXPECT_NE(rec->last_error.find("ferry_cdc"), std::string::npos) << rec->last_error;
  EXPECT_NE(rec->last_error.find("resync"), std::string::npos) << rec->last_error;
}

// An idle stream (no changes to the pipe's tables) still moves the slot's
// confirmed position forward, so the source does not keep WAL for ferry forever.
TEST(PgToClickHouseCdc, IdleStreamAdvancesConfirmedPosition) {
  Sandbox sb("idle");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE unrelated (id int, v text);");
  auto catalog = open_catalog(sb.catalog_path());
  BackgroundPipe pipe(sb, *catalog, cdc_pipe({"public.t"}, PipeMode::Cdc));
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  sb.pg_exec("INSERT INTO unrelated SELECT g, md5(g::text) FROM generate_series(1, 20000) g");
  std::string target = sb.pg_value("SELECT pg_current_wal_lsn()");
  // Keepalives come every wal_sender_timeout / 2 (10 s / 2 on the test servers).
  bool advanced = eventually([&] {
    return sb.pg_value(fmt::format("SELECT confirmed_flush_lsn >= '{}'::pg_lsn FROM pg_replication_slots "
                                   "WHERE slot_name = 'ferry_cdc'", target)) == "t";
  }, 75, 500ms);
  EXPECT_TRUE(advanced) << "slot still behind " << target;
  auto cp = catalog->checkpoint("cdc", "");
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(sb.pg_value(fmt::format("SELECT '{}'::pg_lsn >= '{}'::pg_lsn", *cp, target)), "t")
      << "catalog checkpoint " << *cp << " behind " << target;
}

// order_by [customer_id]: ORDER BY (customer_id, id) in ClickHouse, and UPDATEs that
// change customer_id move rows to another ORDER BY tuple. The old tuple must not keep a
// live row: the destination converges to exactly the source's rows, one per id.
TEST(PgToClickHouseCdc, OrderByColumnsChangingAtTheSourceConverge) {
  Sandbox sb("cdcorder");
  sb.pg_exec(R"SQL(
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, note text);
    INSERT INTO orders SELECT g, g % 10, 'n' || g FROM generate_series(1, 2000) g;
  )SQL");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = cdc_pipe({"public.orders"});
  spec.tables[0].order_by = {"customer_id"};
  BackgroundPipe pipe(sb, *catalog, spec);
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  const std::string t = quote_backtick_ident(sb.name()) + ".orders";
  EXPECT_EQ(sb.ch_value("SELECT sorting_key FROM system.tables WHERE database = " + quote_ch_literal(sb.name()) +
                        " AND name = 'orders'"),
            "customer_id, id");
  sb.pg_exec(R"SQL(
    UPDATE orders SET customer_id = customer_id + 100 WHERE id % 3 = 0;
    BEGIN;
    UPDATE orders SET customer_id = 500 WHERE id = 1;
    UPDATE orders SET customer_id = 501, note = 'twice' WHERE id = 1;
    UPDATE orders SET customer_id = 600 WHERE id = 2;
    DELETE FROM orders WHERE id = 2;
    UPDATE orders SET id = 5000, customer_id = 700 WHERE id = 4;
    UPDATE orders SET note = 'note only' WHERE id = 5;
    COMMIT;
    DELETE FROM orders WHERE id % 3 = 0 AND id % 2 = 0;
    UPDATE orders SET customer_id = customer_id - 100 WHERE id % 3 = 0;
    UPDATE orders SET customer_id = 7 WHERE id BETWEEN 100 AND 150;
  )SQL");
  EXPECT_TRUE(converges(sb, "orders", {"id", "customer_id", "note"}));
  EXPECT_EQ(sb.ch_value("SELECT count() FROM (SELECT id FROM " + t +
                        " FINAL WHERE _ferry_is_deleted = 0 GROUP BY id HAVING count() > 1)"),
            "0");
  // Rows moved back and forth in later transactions.
  sb.pg_exec("UPDATE orders SET customer_id = customer_id + 1 WHERE id <= 300");
  sb.pg_exec("UPDATE orders SET customer_id = customer_id - 1 WHERE id <= 300");
  EXPECT_TRUE(converges(sb, "orders", {"id", "customer_id", "note"}));
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + t + " FINAL WHERE _ferry_is_deleted = 0"),
            sb.pg_value("SELECT count(*) FROM orders"));
}

// ClickHouse stopped for 30 s while changes keep coming: the pipe retries with
// backoff (visible in its status), recovers when ClickHouse is back, and loses nothing.
TEST(PgToClickHouseCdc, ClickHouseDownThirtySecondsRetriesAndRecovers) {
  Sandbox sb("chdown");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = cdc_pipe({"public.t"});
  spec.settings.max_retries = 30;
  spec.settings.retry_backoff_max = Millis(4000);
  BackgroundPipe pipe(sb, *catalog, spec);
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));

  // The ClickHouse of scripts/test-servers: stop it by its own pid, restart it the same way.
  std::string dir = env_or_fail("FERRY_SERVERS_DIR");
  pid_t ch_pid = test_server_pid("ch");
  ASSERT_GT(ch_pid, 0);
  auto down_at = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(ch_pid, SIGTERM), 0);
  eventually([&] { return kill(ch_pid, 0) != 0; }, 30, 100ms);
  ASSERT_NE(kill(ch_pid, 0), 0) << "ClickHouse did not stop";

  sb.pg_exec("INSERT INTO t SELECT g, 'during' FROM generate_series(1001, 3000) g; UPDATE t SET v = 'upd' WHERE id <= 100;"
             "DELETE FROM t WHERE id BETWEEN 200 AND 299;");
  // The failure shows on the pipe while ClickHouse is away.
  int retries = 0;
  std::string error;
  while (std::chrono::steady_clock::now() - down_at < 30s) {
    auto rec = catalog->get_pipe("cdc");
    if (rec->retry_count > retries) {
      retries = rec->retry_count;
      error = rec->last_error;
    }
    EXPECT_NE(rec->state, PipeState::Failed) << rec->last_error;
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_GT(retries, 0);
  EXPECT_FALSE(error.empty());

  // Everything the child needs is prepared before fork (other threads are running).
  std::string log = dir + "/ch/log/restart.log";
  std::string config = "--config-file=" + dir + "/ch/config.xml";
  pid_t restarted = fork();
  if (restarted == 0) {
    setsid();
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execl("/usr/sbin/clickhouse-server", "/usr/sbin/clickhouse-server", config.c_str(), (char*)nullptr);
    _exit(127);
  }
  std::ofstream(dir + "/ch.pid") << restarted << "\n";
  bool up = eventually([&] {
    try {
      return sb.ch_value("SELECT 1") == "1";
    } catch (const std::exception&) {
      return false;
    }
  }, 60, 500ms);
  ASSERT_TRUE(up) << "ClickHouse did not come back";
  sb.pg_exec("INSERT INTO t VALUES (5000, 'after')");
  EXPECT_TRUE(converges(sb, "t", {"id", "v"}, "id", 120s));
  EXPECT_EQ(catalog->get_pipe("cdc")->state, PipeState::Running);
}

// A table added to a running pipe loads while the pipe's other tables keep
// streaming (the load is held after its first partition and watched); the added
// table's changes made during its load are replayed into it afterwards.
TEST(PgToClickHouseCdc, AddedTableLoadsWhileTheOthersKeepStreaming) {
  Sandbox sb("addstream");
  sb.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a SELECT g, 'a' FROM generate_series(1, 100) g;"
             "CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b SELECT g, 'b' FROM generate_series(1, 5000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec one = cdc_pipe({"public.a"});
  one.settings.snapshot_parallelism = 1;
  one.settings.snapshot_rows_per_partition = 1000;
  {
    BackgroundPipe pipe(sb, *catalog, one);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  }
  PipeSpec two = one;
  two.tables.push_back(table_mapping("public.b"));
  {
    PipeRunner runner(*catalog, two, sb.pg_peer(), sb.ch_peer());
    ASSERT_TRUE(std::holds_alternative<Accepted>(runner.change_tables({"public.b"}, {})));
  }
  std::string hold = sb.dir() + "/hold";
  write_file(hold, "");
  TestHooks hooks;
  hooks.hold_at = "load-partition-done";
  hooks.hold_file = hold;
  {
    BackgroundPipe pipe(sb, *catalog, two, &hooks);
    auto b_partitions_done = [&] {
      for (const auto& t : catalog->tables("cdc"))
        if (t.source == "public.b") return t.partitions_done;
      return int64_t{0};
    };
    ASSERT_TRUE(eventually([&] { return b_partitions_done() > 0; }, 30));
    sb.pg_exec("INSERT INTO a VALUES (1000, 'during the load'); UPDATE b SET v = 'during' WHERE id IN (1, 4999);"
               "DELETE FROM b WHERE id = 2;");
    std::string db = quote_backtick_ident(sb.name());
    EXPECT_TRUE(eventually([&] {  // streamed while b was still loading
      return sb.ch_value(fmt::format("SELECT count() FROM {}.a FINAL WHERE id = 1000", db)) == "1";
    }, 30));
    EXPECT_EQ(catalog->get_pipe("cdc")->state, PipeState::Snapshot);
    std::remove(hold.c_str());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    EXPECT_TRUE(converges(sb, "a", {"id", "v"}));
    EXPECT_TRUE(converges(sb, "b", {"id", "v"}));
  }
  EXPECT_EQ(catalog->get_meta("cdc", "adding").value_or(""), "");
}

// `ferry run` with a config whose table list grew adds the table (like `ferry apply`),
// and a kill -9 in the middle of its load continues: the added table converges and the
// other table kept streaming.
TEST(PgToClickHouseCdc, FerryRunAddsATableAndSurvivesKillNineDuringItsLoad) {
  Sandbox sb("runadd");
  sb.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a SELECT g, 'a' FROM generate_series(1, 100) g;"
             "CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b SELECT g, 'b' FROM generate_series(1, 6000) g;");
  auto config_with = [&](const std::string& tables) {
    return sb.write_config(fmt::format(R"(
  cdc:
    source: src
    destination: dst
    mode: snapshot+cdc
    tables: {}
    settings: {{ sync_interval: 200ms, snapshot_rows_per_partition: 1000, snapshot_parallelism: 1 }}
)", tables));
  };
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  auto catalog = open_catalog(sb.catalog_path());
  auto wait_running = [&] { return reaches_state(*catalog, "cdc", PipeState::Running); };
  pid_t pid = spawn_ferry_run(config_with("[ public.a ]"), catalog_arg);
  ASSERT_TRUE(wait_running());
  ASSERT_TRUE(stop_ferry_run(pid));

  std::string config = config_with("[ public.a, public.b ]");
  sb.pg_exec("UPDATE b SET v = 'before the add' WHERE id <= 3");
  setenv("FERRY_CRASH_AT", "load-partition-done", 1);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(killed_by_sigkill(spawn_ferry_run(config, catalog_arg))) << i;
    sb.pg_exec(fmt::format("INSERT INTO a VALUES ({0}, 'between kills'); UPDATE b SET v = 'between kills' WHERE id = {1};"
                           "DELETE FROM b WHERE id = {2}", 2000 + i, 10 + i, 5000 + i));
  }
  unsetenv("FERRY_CRASH_AT");
  EXPECT_EQ(catalog->get_pipe("cdc")->state, PipeState::Snapshot);
  pid = spawn_ferry_run(config, catalog_arg);
  EXPECT_TRUE(wait_running());
  EXPECT_TRUE(converges(sb, "a", {"id", "v"}));
  EXPECT_TRUE(converges(sb, "b", {"id", "v"}));
  EXPECT_TRUE(stop_ferry_run(pid));
  EXPECT_EQ(catalog->get_meta("cdc", "adding").value_or(""), "");
  EXPECT_EQ(sb.pg_value("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables "
                        "WHERE pubname = 'ferry_cdc'"), "a,b");
}

// Table-list changes cut short by a crash are finished on the next start: a spec table
// without its status is added and loaded, a pipe left in Modifying drops the removed
// table and goes back to the state it came from; removing a table from a Paused pipe
// leaves it Paused.
TEST(PgToClickHouseCdc, InterruptedTableChangesFinishOnRestart) {
  Sandbox sb("tabfix");
  sb.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a SELECT g, 'a' FROM generate_series(1, 100) g;"
             "CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b SELECT g, 'b' FROM generate_series(1, 300) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec only_a = cdc_pipe({"public.a"});
  PipeSpec both = cdc_pipe({"public.a", "public.b"});
  auto published = [&] {
    return sb.pg_value("SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '') FROM pg_publication_tables "
                       "WHERE pubname = 'ferry_cdc'");
  };
  {
    BackgroundPipe pipe(sb, *catalog, only_a);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  }
  {
    // The spec gained b, but the change was never made (a crash between storing the spec and changing the tables).
    BackgroundPipe pipe(sb, *catalog, both);
    std::this_thread::sleep_for(300ms);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    sb.pg_exec("UPDATE b SET v = 'streamed' WHERE id = 7");
    EXPECT_TRUE(converges(sb, "b", {"id", "v"}));
  }
  EXPECT_EQ(published(), "a,b");
  EXPECT_EQ(catalog->tables("cdc").size(), 2u);

  // Left in Modifying by a crash while removing b.
  catalog->put_meta("cdc", "modify_from", "Running");
  catalog->set_state("cdc", PipeState::Modifying, "test: crash while removing tables");
  {
    BackgroundPipe pipe(sb, *catalog, only_a);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  }
  EXPECT_EQ(published(), "a");
  EXPECT_EQ(catalog->tables("cdc").size(), 1u);

  // Removing a table from a Paused pipe keeps it Paused.
  {
    PipeRunner runner(*catalog, both, sb.pg_peer(), sb.ch_peer());
    ASSERT_TRUE(std::holds_alternative<Accepted>(runner.change_tables({"public.b"}, {})));
  }
  {
    BackgroundPipe pipe(sb, *catalog, both);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  }
  catalog->set_state("cdc", PipeState::Paused, "test: paused");
  {
    PipeRunner runner(*catalog, only_a, sb.pg_peer(), sb.ch_peer());
    ASSERT_TRUE(std::holds_alternative<Accepted>(runner.change_tables({}, {"public.b"})));
  }
  EXPECT_EQ(catalog->get_pipe("cdc")->state, PipeState::Paused);
  EXPECT_EQ(published(), "a");
}

// A table removed from a pipe and added again while its destination table still holds
// its old rows: the new load replaces them, and the keys deleted at the source while the
// table was out of the pipe are deleted at the destination too (values compared per row).
TEST(PgToClickHouseCdc, ReAddedTableConverges) {
  Sandbox sb("tabreadd");
  sb.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a SELECT g, 'a' FROM generate_series(1, 100) g;"
             "CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b SELECT g, 'b' FROM generate_series(1, 3000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec only_a = cdc_pipe({"public.a"});
  PipeSpec both = cdc_pipe({"public.a", "public.b"});
  {
    BackgroundPipe pipe(sb, *catalog, both);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    sb.pg_exec("UPDATE b SET v = 'streamed' WHERE id <= 200");
    ASSERT_TRUE(converges(sb, "b", {"id", "v"}));
  }
  {
    PipeRunner runner(*catalog, only_a, sb.pg_peer(), sb.ch_peer());
    ASSERT_TRUE(std::holds_alternative<Accepted>(runner.change_tables({}, {"public.b"})));
  }
  {
    BackgroundPipe pipe(sb, *catalog, only_a);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  }
  // Not streamed: b is out of the pipe.
  sb.pg_exec("UPDATE b SET v = 'while out' WHERE id <= 100; DELETE FROM b WHERE id > 2900;");
  {
    PipeRunner runner(*catalog, both, sb.pg_peer(), sb.ch_peer());
    ASSERT_TRUE(std::holds_alternative<Accepted>(runner.change_tables({"public.b"}, {})));
  }
  BackgroundPipe pipe(sb, *catalog, both);
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  EXPECT_TRUE(converges(sb, "b", {"id", "v"}, "id", 10s));
  sb.pg_exec("UPDATE b SET v = 'after' WHERE id BETWEEN 50 AND 60; DELETE FROM b WHERE id = 1;");
  EXPECT_TRUE(converges(sb, "b", {"id", "v"}));
  EXPECT_TRUE(converges(sb, "a", {"id", "v"}));
}

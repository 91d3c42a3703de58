// Resync of PostgreSQL -> ClickHouse pipes against the real servers: rebuilt
// `_resync` tables, catch-up of the changes made during the load, carried
// soft-deleted rows, the atomic swap, and crashes at every step.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <atomic>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "core/ident.h"
#include "pipe/runner.h"
#include "pipe/spec_json.h"
#include "cdc_support.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

PipeSpec resync_pipe(const std::vector<std::string>& tables) {
  PipeSpec p = pg_to_ch_pipe("rs", tables);
  p.settings.snapshot_rows_per_partition = 2000;
  return p;
}

ActionOutcome resync(Sandbox& sb, Catalog& catalog, const PipeSpec& spec, const std::string& table = "") {
  PipeRunner runner(catalog, spec, sb.pg_peer(), sb.ch_peer());
  return runner.resync(table);
}

std::string refusal(const ActionOutcome& out) {
  auto* r = std::get_if<Refusal>(&out);
  return r ? r->message : "";
}

// Tables of the sandbox's ClickHouse database that a finished resync must not leave.
std::string leftovers(Sandbox& sb) {
  return sb.ch_value(fmt::format("SELECT arrayStringConcat(arraySort(groupArray(name)), ',') FROM system.tables WHERE database = "
                                 "{} AND (name LIKE '%\\\\_resync' OR name LIKE 'ferry\\\\_old\\\\_%')",
                                 quote_ch_literal(sb.name())));
}

bool history_has(Catalog& catalog, const std::string& pipe, PipeState from, PipeState to) {
  for (const auto& t : catalog.history(pipe))
    if (t.from == from && t.to == to) return true;
  return false;
}

// Keeps changing `acc` (transfers, inserts, deletes) until stopped; ids stay >= 1.
class Writer {
 public:
  explicit Writer(Sandbox& sb) : thread_([this, &sb] {
    PgConnection conn(sb.pg_dsn(), "");
    std::mt19937 rng(42);
    int next_id = 1000000;
    while (!stop_) {
      int a = 1 + rng() % 2000, b = 1 + rng() % 2000;
      conn.exec(fmt::format("BEGIN; UPDATE acc SET balance = balance - 1 WHERE id = {0}; "
                            "UPDATE acc SET balance = balance + 1, note = note || '+' WHERE id = {1}; "
                            "INSERT INTO acc VALUES ({2}, 0, 'fresh'); DELETE FROM acc WHERE id = {2} - 3 AND id > 1000000; "
                            "COMMIT;", a, b, next_id++));
      ++transactions_;
      std::this_thread::sleep_for(2ms);
    }
  }) {}
  ~Writer() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int transactions() const { return transactions_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> transactions_{0};
  std::thread thread_;
};

// Polls count() FINAL of a table until stopped; counts errors and empty answers.
class Reader {
 public:
  Reader(Sandbox& sb, const std::string& table) : thread_([this, &sb, table] {
    std::string sql = fmt::format("SELECT count() FROM {} FINAL WHERE _ferry_is_deleted = 0", ch_table(sb, table));
    while (!stop_) {
      try {
        if (sb.ch_value(sql) == "0") ++zeros_;
        ++reads_;
      } catch (const std::exception& e) {
        if (errors_++ == 0) first_error_ = e.what();
      }
    }
  }) {}
  ~Reader() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int reads() const { return reads_; }
  int zeros() const { return zeros_; }
  int errors() const { return errors_; }
  const std::string& first_error() const { return first_error_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> reads_{0}, zeros_{0}, errors_{0};
  std::string first_error_;
  std::thread thread_;
};

const std::vector<std::string> kAccCols = {"id", "balance", "note"};

void create_acc(Sandbox& sb, int rows) {
  sb.pg_exec(fmt::format("CREATE TABLE acc (id int PRIMARY KEY, balance bigint, note text);"
                         "INSERT INTO acc SELECT g, 1000, 'n' || g FROM generate_series(1, {}) g;", rows));
}

}  // namespace

// Pipe-wide resync while a writer keeps changing the source and a reader polls the
// destination: the rebuilt tables converge exactly, the reader never fails or sees
// an empty table, nothing `_resync` is left, and the history shows the resync.
TEST(Resync, UnderLiveWritesConvergesAndReadersNeverSeeAMissingTable) {
  Sandbox sb("rs_live");
  create_acc(sb, 20000);
  sb.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text); INSERT INTO other SELECT g, 'o' FROM generate_series(1, 500) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = resync_pipe({"public.acc", "public.other"});
  Writer writer(sb);
  {
    BackgroundPipe pipe(sb, *catalog, spec);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    std::this_thread::sleep_for(1s);
  }
  Reader reader(sb, "acc");
  auto out = resync(sb, *catalog, spec);
  ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);
  EXPECT_EQ(catalog->get_pipe("rs")->state, PipeState::Snapshot);
  int at_resync = writer.transactions();
  {
    BackgroundPipe pipe(sb, *catalog, spec);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running, 120s));
    EXPECT_GT(writer.transactions(), at_resync);  // the source changed during the resync
    std::this_thread::sleep_for(1s);  // streaming goes on into the swapped tables
    writer.stop();
    EXPECT_TRUE(converges(sb, "acc", kAccCols));
    EXPECT_TRUE(converges(sb, "other", {"id", "v"}));
  }
  reader.stop();
  EXPECT_EQ(reader.errors(), 0) << reader.first_error();
  EXPECT_EQ(reader.zeros(), 0);
  EXPECT_GT(reader.reads(), 10);
  EXPECT_EQ(leftovers(sb), "");
  EXPECT_TRUE(history_has(*catalog, "rs", PipeState::Snapshot, PipeState::Resync));
  EXPECT_TRUE(history_has(*catalog, "rs", PipeState::Resync, PipeState::Running));
  // The load statistics are those of the rebuild.
  for (const auto& t : catalog->tables("rs")) {
    EXPECT_GT(t.partitions_total, 0) << t.source;
    EXPECT_EQ(t.partitions_done, t.partitions_total) << t.source;
  }
}

// A changed order_by and source columns added and retyped take effect; the old
// table could not take the retyped values, the rebuilt one does.
TEST(Resync, NewOrderByAndSourceSchemaChangesTakeEffect) {
  Sandbox sb("rs_schema");
  sb.pg_exec("CREATE TABLE ev (id int PRIMARY KEY, kind int NOT NULL, amount int);"
             "INSERT INTO ev SELECT g, g % 7, g FROM generate_series(1, 3000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = resync_pipe({"public.ev"});
  {
    BackgroundPipe pipe(sb, *catalog, spec);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  }
  std::string before = sb.ch_value(fmt::format("SHOW CREATE TABLE {}.ev", quote_backtick_ident(sb.name())));
  EXPECT_EQ(before.find("kind, id"), std::string::npos) << before;
  sb.pg_exec("ALTER TABLE ev ADD COLUMN note text DEFAULT 'new';"
             "ALTER TABLE ev ALTER COLUMN amount TYPE numeric(12,2);"
             "UPDATE ev SET amount = amount + 0.25 WHERE id <= 10;");
  PipeSpec changed = spec;
  changed.tables[0].order_by = {"kind"};
  auto out = resync(sb, *catalog, changed, "ev");
  ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);
  {
    BackgroundPipe pipe(sb, *catalog, changed);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running, 120s));
    sb.pg_exec("UPDATE ev SET amount = 0.5, note = 'after' WHERE id = 20");
    EXPECT_TRUE(converges(sb, "ev", {"id", "kind", "amount", "note"}));
  }
  std::string after = sb.ch_value(fmt::format("SHOW CREATE TABLE {}.ev", quote_backtick_ident(sb.name())));
  EXPECT_NE(after.find("ORDER BY (kind, id)"), std::string::npos) << after;
  EXPECT_NE(after.find("Decimal(12, 2)"), std::string::npos) << after;
  EXPECT_NE(after.find("note"), std::string::npos) << after;
  EXPECT_EQ(leftovers(sb), "");
}

// Per-table resync: soft-deleted rows are carried into the rebuilt table, a key
// deleted and inserted again stays live, and the other table is not touched.
TEST(Resync, OneTableCarriesDeletedRowsAndKeepsReinsertedKeysLive) {
  Sandbox sb("rs_deleted");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g;"
             "CREATE TABLE u (id int PRIMARY KEY); INSERT INTO u SELECT generate_series(1, 10);");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = resync_pipe({"public.t", "public.u"});
  std::string db = quote_backtick_ident(sb.name());
  {
    BackgroundPipe pipe(sb, *catalog, spec);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    sb.pg_exec("DELETE FROM t WHERE id IN (5, 6, 7)");
    sb.pg_exec("INSERT INTO t VALUES (6, 'back')");
    EXPECT_TRUE(converges(sb, "t", {"id", "v"}));
  }
  int64_t u_loaded = 0;
  for (const auto& s : catalog->tables("rs"))
    if (s.source == "public.u") u_loaded = s.rows_loaded;
  std::string u_created = sb.ch_value(fmt::format(
      "SELECT toString(metadata_modification_time) FROM system.tables WHERE database = {} AND name = 'u'",
      quote_ch_literal(sb.name())));
  std::this_thread::sleep_for(1100ms);  // a rebuilt u would have a later modification time

  auto out = resync(sb, *catalog, spec, "t");
  ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);
  {
    BackgroundPipe pipe(sb, *catalog, spec);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running, 120s));
    sb.pg_exec("DELETE FROM t WHERE id = 8");
    EXPECT_TRUE(converges(sb, "t", {"id", "v"}));
    EXPECT_TRUE(converges(sb, "u", {"id"}));
  }
  auto rows = sb.ch_rows(fmt::format("SELECT id, _ferry_is_deleted FROM {}.t FINAL WHERE id IN (5, 6, 7, 8) ORDER BY id", db));
  std::vector<std::vector<std::string>> want = {{"5", "1"}, {"6", "0"}, {"7", "1"}, {"8", "1"}};
  EXPECT_EQ(rows, want);
  EXPECT_EQ(sb.ch_value(fmt::format("SELECT v FROM {}.t FINAL WHERE id = 6", db)), "back");
  for (const auto& s : catalog->tables("rs"))
    if (s.source == "public.u") {
      EXPECT_EQ(s.rows_loaded, u_loaded);
    }
  EXPECT_EQ(sb.ch_value(fmt::format(
                "SELECT toString(metadata_modification_time) FROM system.tables WHERE database = {} AND name = 'u'",
                quote_ch_literal(sb.name()))),
            u_created);
  bool reason_names_t_only = false;
  for (const auto& h : catalog->history("rs"))
    if (h.to == PipeState::Snapshot && h.reason.find("resync") != std::string::npos)
      reason_names_t_only = h.reason.find("public.t") != std::string::npos && h.reason.find("public.u") == std::string::npos;
  EXPECT_TRUE(reason_names_t_only);
  EXPECT_EQ(leftovers(sb), "");
}

// A pipe that failed because its replication slot was dropped is recovered by a
// whole-pipe resync (a per-table one is refused and says so).
TEST(Resync, RecoversAPipeWhoseSlotWasLost) {
  Sandbox sb("rs_slot");
  sb.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a SELECT g, 'a' FROM generate_series(1, 300) g;"
             "CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b SELECT g, 'b' FROM generate_series(1, 300) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = resync_pipe({"public.a", "public.b"});
  {
    BackgroundPipe pipe(sb, *catalog, spec);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  }
  sb.pg_drop_slot("ferry_rs");
  sb.pg_exec("UPDATE a SET v = 'lost' WHERE id <= 50; DELETE FROM b WHERE id <= 20;");  // changes the slot would have had
  {
    PipeRunner runner(*catalog, spec, sb.pg_peer(), sb.ch_peer());
    EXPECT_EQ(runner.run(), PipeState::Failed);
  }
  std::string why = refusal(resync(sb, *catalog, spec, "public.a"));
  EXPECT_NE(why.find("without --table"), std::string::npos) << why;
  EXPECT_EQ(catalog->get_pipe("rs")->state, PipeState::Failed);

  auto out = resync(sb, *catalog, spec);
  ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);
  BackgroundPipe pipe(sb, *catalog, spec);
  ASSERT_TRUE(pipe.wait_for(PipeState::Running, 120s));
  sb.pg_exec("INSERT INTO a VALUES (1000, 'after'); UPDATE b SET v = 'after' WHERE id = 100;");
  EXPECT_TRUE(converges(sb, "a", {"id", "v"}));
  EXPECT_TRUE(converges(sb, "b", {"id", "v"}));
  EXPECT_EQ(sb.pg_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'ferry_rs'"), "1");
}

TEST(Resync, RefusedInStatesAndForTablesItDoesNotHave) {
  Sandbox sb("rs_refused");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY)");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = resync_pipe({"public.t"});
  catalog->create_pipe("rs", pipe_spec_to_json(spec), "test");
  std::string why = refusal(resync(sb, *catalog, spec));
  EXPECT_NE(why.find("Provisioning"), std::string::npos) << why;
  EXPECT_NE(why.find("Running, Paused, Completed, Failed"), std::string::npos) << why;
  catalog->set_state("rs", PipeState::Paused, "test");
  why = refusal(resync(sb, *catalog, spec, "nosuch"));
  EXPECT_NE(why.find("nosuch"), std::string::npos) << why;
  EXPECT_NE(why.find("public.t"), std::string::npos) << why;
  EXPECT_EQ(catalog->get_pipe("rs")->state, PipeState::Paused);
}

// `ferry run` killed with SIGKILL at every step of a resync (after a loaded
// partition, after the load, after the catch-up, before and after the swap, before
// the plan is closed), plus a rename swap cut in half: each restart continues, and
// the end state has every row, no table lost, and no leftovers.
TEST(Resync, KillNineAtEveryStepCompletes) {
  Sandbox sb("rs_kill");
  create_acc(sb, 12000);
  sb.pg_exec("CREATE TABLE nk (a int, b text); INSERT INTO nk SELECT g, 'k' FROM generate_series(1, 5000) g;");
  std::string config = sb.write_config(R"(
  rs:
    source: src
    destination: dst
    mode: snapshot+cdc
    tables: [ public.acc, public.nk ]
    settings: { sync_interval: 200ms, batch_size: 500, snapshot_rows_per_partition: 1000, snapshot_parallelism: 1 }
)");
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  auto catalog = open_catalog(sb.catalog_path());
  auto wait_state = [&](PipeState want) { return reaches_state(*catalog, "rs", want); };
  auto run_until_crash = [&](const char* point) {
    setenv("FERRY_CRASH_AT", point, 1);
    pid_t pid = spawn_ferry_run(config, catalog_arg, {"--confirm"});
    unsetenv("FERRY_CRASH_AT");
    return killed_by_sigkill(pid);
  };

  pid_t pid = spawn_ferry_run(config, catalog_arg, {"--confirm"});
  ASSERT_TRUE(wait_state(PipeState::Running));
  ASSERT_TRUE(stop_ferry_run(pid));
  Writer writer(sb);
  PipeSpec spec = pipe_spec_from_json(catalog->get_pipe("rs")->spec_json);
  auto out = resync(sb, *catalog, spec);
  ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);

  for (int i = 0; i < 3; ++i) EXPECT_TRUE(run_until_crash("load-partition-done")) << i;
  EXPECT_EQ(catalog->get_pipe("rs")->state, PipeState::Snapshot);
  EXPECT_TRUE(run_until_crash("resync-load-done"));
  EXPECT_EQ(catalog->get_pipe("rs")->state, PipeState::Snapshot);
  EXPECT_TRUE(run_until_crash("resync-caught-up"));
  EXPECT_EQ(catalog->get_pipe("rs")->state, PipeState::Resync);
  EXPECT_TRUE(run_until_crash("resync-carried"));
  // The first half of a RENAME swap: the table is missing, its rebuilt copy complete.
  sb.ch(fmt::format("RENAME TABLE {0}.acc TO {0}.ferry_old_acc", quote_backtick_ident(sb.name())));
  EXPECT_TRUE(run_until_crash("resync-swapped"));
  EXPECT_TRUE(run_until_crash("resync-before-close"));
  EXPECT_EQ(catalog->get_pipe("rs")->state, PipeState::Resync);

  pid = spawn_ferry_run(config, catalog_arg, {"--confirm"});
  EXPECT_TRUE(wait_state(PipeState::Running));
  writer.stop();
  EXPECT_TRUE(converges(sb, "acc", kAccCols, "id", 120s));
  EXPECT_EQ(sb.ch_value(fmt::format("SELECT count() FROM {}.nk", quote_backtick_ident(sb.name()))), "5000");
  EXPECT_TRUE(stop_ferry_run(pid));
  EXPECT_EQ(leftovers(sb), "");
  EXPECT_TRUE(history_has(*catalog, "rs", PipeState::Resync, PipeState::Running));
}

// While the rebuilt tables load, the old ones keep receiving the stream's changes
// (the load is held after its first partition and the old tables are watched), and
// after the swap the rebuilt tables hold them too.
TEST(Resync, OldTablesStayFreshWhileTheRebuildLoads) {
  Sandbox sb("rs_fresh");
  create_acc(sb, 5000);
  sb.pg_exec("CREATE TABLE other (id int PRIMARY KEY, v text); INSERT INTO other VALUES (1, 'o');");
  std::string config = sb.write_config(R"(
  rs:
    source: src
    destination: dst
    mode: snapshot+cdc
    tables: [ public.acc, public.other ]
    settings: { sync_interval: 200ms, snapshot_rows_per_partition: 1000, snapshot_parallelism: 1 }
)");
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  auto catalog = open_catalog(sb.catalog_path());
  pid_t pid = spawn_ferry_run(config, catalog_arg);
  ASSERT_TRUE(reaches_state(*catalog, "rs", PipeState::Running));
  ASSERT_TRUE(stop_ferry_run(pid));
  auto out = resync(sb, *catalog, pipe_spec_from_json(catalog->get_pipe("rs")->spec_json));
  ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);

  std::string hold = sb.dir() + "/hold";
  write_file(hold, "");
  setenv("FERRY_HOLD_AT", "load-partition-done", 1);
  setenv("FERRY_HOLD_FILE", hold.c_str(), 1);
  pid = spawn_ferry_run(config, catalog_arg);
  unsetenv("FERRY_HOLD_AT");
  unsetenv("FERRY_HOLD_FILE");
  ASSERT_TRUE(eventually([&] {
    for (const auto& t : catalog->tables("rs"))
      if (t.partitions_done > 0) return true;
    return false;
  }));
  sb.pg_exec("UPDATE acc SET note = 'during load' WHERE id = 1; INSERT INTO other VALUES (2, 'during load');");
  std::string db = quote_backtick_ident(sb.name());
  EXPECT_TRUE(eventually([&] {
    return sb.ch_value(fmt::format("SELECT note FROM {}.acc FINAL WHERE id = 1", db)) == "during load" &&
           sb.ch_value(fmt::format("SELECT count() FROM {}.other FINAL WHERE _ferry_is_deleted = 0", db)) == "2";
  }));
  EXPECT_EQ(catalog->get_pipe("rs")->state, PipeState::Snapshot);  // still loading: the old tables got the changes
  EXPECT_EQ(leftovers(sb), "acc_resync,other_resync");  // the rebuilt tables wait beside the old ones
  std::remove(hold.c_str());
  EXPECT_TRUE(reaches_state(*catalog, "rs", PipeState::Running));
  EXPECT_TRUE(converges(sb, "acc", kAccCols));
  EXPECT_TRUE(converges(sb, "other", {"id", "v"}));
  EXPECT_TRUE(stop_ferry_run(pid));
  EXPECT_EQ(leftovers(sb), "");
}

// A Completed snapshot pipe is resynced: the rebuilt table
// holds exactly the source's current rows and the pipe is Completed again.
TEST(Resync, CompletedSnapshotPipeIsRebuiltAndCompletedAgain) {
  Sandbox sb("rs_snap");
  sb.pg_exec("CREATE TABLE s (id int PRIMARY KEY, v text); INSERT INTO s SELECT g, 'v' FROM generate_series(1, 3000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = resync_pipe({"public.s"});
  spec.mode = PipeMode::Snapshot;
  {
    PipeRunner runner(*catalog, spec, sb.pg_peer(), sb.ch_peer());
    ASSERT_EQ(runner.run(), PipeState::Completed);
  }
  sb.pg_exec("DELETE FROM s WHERE id > 2000; UPDATE s SET v = 'changed' WHERE id <= 10; INSERT INTO s VALUES (9000, 'new');");
  auto out = resync(sb, *catalog, spec);
  ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);
  {
    PipeRunner runner(*catalog, spec, sb.pg_peer(), sb.ch_peer());
    ASSERT_EQ(runner.run(), PipeState::Completed) << catalog->get_pipe("rs")->last_error;
  }
  auto [pg, ch] = both_sides(sb, "s", {"id", "v"}, "id");
  EXPECT_EQ(pg.size(), 2001u);
  EXPECT_EQ(pg, ch);
  EXPECT_TRUE(history_has(*catalog, "rs", PipeState::Resync, PipeState::Completed));
  EXPECT_EQ(leftovers(sb), "");
}

// The slot stays confirmed at the resync's start until the swap, also when the load is
// interrupted and the stream beside it restarts from a later checkpoint (its periodic
// status updates must not confirm that later position): the catch-up can then read every
// change the rows loaded before the interruption missed.
TEST(Resync, SlotStaysAtTheResyncStartAcrossAnInterruptedLoad) {
  Sandbox sb("rs_slotpos");
  create_acc(sb, 6000);
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = resync_pipe({"public.acc"});
  spec.settings.snapshot_parallelism = 1;
  spec.settings.snapshot_rows_per_partition = 1000;
  {
    BackgroundPipe pipe(sb, *catalog, spec);
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  }
  auto out = resync(sb, *catalog, spec);
  ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << refusal(out);
  std::string start = *catalog->checkpoint("rs", "");
  auto confirmed_at_start = [&] {
    return sb.pg_value(fmt::format("SELECT confirmed_flush_lsn <= {}::pg_lsn FROM pg_replication_slots WHERE "
                                   "slot_name = 'ferry_rs'", quote_pg_literal(start)));
  };
  auto partitions_done = [&] { return catalog->tables("rs").at(0).partitions_done; };

  Writer writer(sb);
  std::string hold = sb.dir() + "/hold";
  write_file(hold, "");
  TestHooks hooks;
  hooks.hold_at = "load-partition-done";
  hooks.hold_file = hold;
  {
    BackgroundPipe pipe(sb, *catalog, spec, &hooks);  // loads one partition, holds, streams beside
    ASSERT_TRUE(eventually([&] { return partitions_done() >= 1; }));
    std::this_thread::sleep_for(1500ms);
    std::remove(hold.c_str());
    pipe.stop();
  }
  EXPECT_NE(*catalog->checkpoint("rs", ""), start);  // the stream moved on meanwhile
  write_file(hold, "");
  {
    BackgroundPipe pipe(sb, *catalog, spec, &hooks);  // restarts the stream at the later checkpoint
    int64_t done = partitions_done();
    ASSERT_TRUE(eventually([&] { return partitions_done() > done; }));
    std::this_thread::sleep_for(12s);  // past the stream's 10 s status interval
    EXPECT_EQ(confirmed_at_start(), "t");
    std::remove(hold.c_str());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    writer.stop();
    EXPECT_TRUE(converges(sb, "acc", kAccCols));
  }
}

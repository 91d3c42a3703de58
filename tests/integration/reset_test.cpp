// Reset (DESIGN.md section 6) and keyless staging tables, against the real servers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "core/ident.h"
#include "connectors/postgres/replication_protocol.h"
#include "pipe/spec_json.h"
#include "pipe/runner.h"
#include "cdc_support.h"
#include "../shared/pipe_spec.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

using Rows = std::vector<std::vector<std::string>>;

PipeSpec pipe_of(const std::string& name, PipeMode mode, const std::vector<std::string>& tables) {
  PipeSpec p = pipe_spec(name, mode, tables);
  p.settings.snapshot_parallelism = 2;
  p.settings.snapshot_rows_per_partition = 1000;
  p.settings.sync_interval = Millis(200);
  p.settings.max_retries = 0;
  return p;
}

// Waits until the live rows (id, v) of a keyed table are the same on both sides.
::testing::AssertionResult id_v_converge(Sandbox& sb, const std::string& table, std::chrono::seconds timeout = 90s) {
  return converges(sb, table, {"id", "v"}, "id", timeout);
}

std::string staging_leftovers(Sandbox& sb) {
  return sb.ch_value(fmt::format("SELECT count() FROM system.tables WHERE database = '{}' AND "
                                 "substring(name, 1, 10) IN ('ferry_tmp_', 'ferry_old_')", sb.name()));
}

std::vector<std::string> reasons_since_reset(Catalog& catalog, const std::string& pipe) {
  std::vector<std::string> out;
  for (const auto& t : catalog.history(pipe)) {
    if (t.reason.rfind("reset", 0) == 0) out.clear();
    out.push_back(to_string(t.to));
  }
  return out;
}

}  // namespace

// A snapshot+cdc pipe fails (its slot is dropped behind its back); after reset it
// reloads with a new slot and converges exactly with the writes made meanwhile.
TEST(Reset, FailedSnapshotCdcPipeConverges) {
  Sandbox sb("rstfail");
  sb.pg_exec("CREATE TABLE acc (id int PRIMARY KEY, v text);"
             "INSERT INTO acc SELECT g, 'v' || g FROM generate_series(1, 5000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = pipe_of("rst", PipeMode::SnapshotCdc, {"public.acc"});
  {
    BackgroundPipe bg(sb, *catalog, pipe);
    ASSERT_TRUE(bg.wait_for(PipeState::Running));
    sb.pg_exec("UPDATE acc SET v = 'streamed' WHERE id <= 100");
    ASSERT_TRUE(id_v_converge(sb, "acc"));
  }
  std::string old_checkpoint = *catalog->checkpoint("rst", "");
  sb.pg_drop_slot("ferry_rst");
  // Writes while the pipe cannot stream.
  sb.pg_exec("INSERT INTO acc SELECT g, 'while down ' || g FROM generate_series(5001, 6000) g;"
             "UPDATE acc SET v = 'changed while down' WHERE id BETWEEN 101 AND 300;");
  {
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
    ASSERT_EQ(runner.run(), PipeState::Failed);
  }
  {
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
    ActionOutcome out = runner.reset(false, false);
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
    EXPECT_EQ(catalog->get_pipe("rst")->state, PipeState::Setup);
    EXPECT_FALSE(catalog->checkpoint("rst", ""));
    EXPECT_EQ(catalog->tables("rst")[0].partitions_total, 0);
    EXPECT_EQ(catalog->tables("rst")[0].state, "pending");
    EXPECT_EQ(catalog->history("rst").back().reason, "reset");
  }
  BackgroundPipe bg(sb, *catalog, pipe);
  ASSERT_TRUE(bg.wait_for(PipeState::Running));
  EXPECT_EQ(reasons_since_reset(*catalog, "rst"), (std::vector<std::string>{"Setup", "Snapshot", "Running"}));
  EXPECT_EQ(sb.pg_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'ferry_rst'"), "1");
  EXPECT_NE(*catalog->checkpoint("rst", ""), old_checkpoint);
  sb.pg_exec("UPDATE acc SET v = 'after reset' WHERE id BETWEEN 301 AND 400; DELETE FROM acc WHERE id > 5900;");
  EXPECT_TRUE(id_v_converge(sb, "acc"));
  EXPECT_EQ(bg.stop(), PipeState::Running);
}

// Refused outside Paused/Failed naming the state, and below 100% pre-check naming the failing check.
TEST(Reset, RefusedInRunningAndOnFailingPrecheck) {
  Sandbox sb("rstref");
  sb.pg_exec("CREATE TABLE acc (id int PRIMARY KEY, v text); INSERT INTO acc VALUES (1, 'a');");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = pipe_of("rstref", PipeMode::SnapshotCdc, {"public.acc"});
  BackgroundPipe bg(sb, *catalog, pipe);
  ASSERT_TRUE(bg.wait_for(PipeState::Running));
  {
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
    ActionOutcome out = runner.reset(true, true);
    ASSERT_TRUE(std::holds_alternative<Refusal>(out));
    EXPECT_NE(std::get<Refusal>(out).message.find("Running"), std::string::npos) << std::get<Refusal>(out).message;
  }
  EXPECT_EQ(bg.pause(), PipeState::Paused);
  sb.pg_exec("ALTER TABLE acc RENAME TO acc_gone");
  PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
  ActionOutcome out = runner.reset(false, true);
  ASSERT_TRUE(std::holds_alternative<Refusal>(out));
  EXPECT_NE(std::get<Refusal>(out).message.find("FAIL"), std::string::npos) << std::get<Refusal>(out).message;
  EXPECT_NE(std::get<Refusal>(out).message.find("acc"), std::string::npos) << std::get<Refusal>(out).message;
  EXPECT_EQ(catalog->get_pipe("rstref")->state, PipeState::Paused);
  EXPECT_TRUE(catalog->checkpoint("rstref", ""));  // nothing was forgotten
}

// A keyless table is loaded through ferry_tmp_<table>: a reset reload leaves no
// duplicates and no staging table.
TEST(Reset, KeylessTableHasNoDuplicatesAndNoStagingLeft) {
  Sandbox sb("rstkeyless");
  sb.pg_exec("CREATE TABLE nk (id int, v text); ALTER TABLE nk REPLICA IDENTITY FULL;"
             "INSERT INTO nk SELECT g, 'v' || g FROM generate_series(1, 4500) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = pipe_of("rstnk", PipeMode::SnapshotCdc, {"public.nk"});
  std::string count_sql = "SELECT count() FROM " + ch_table(sb, "nk") + " WHERE _ferry_is_deleted = 0";
  {
    BackgroundPipe bg(sb, *catalog, pipe);
    ASSERT_TRUE(bg.wait_for(PipeState::Running));
    EXPECT_EQ(sb.ch_value(count_sql), "4500");
    EXPECT_EQ(staging_leftovers(sb), "0");
    sb.pg_exec("INSERT INTO nk SELECT g, 'streamed' FROM generate_series(4501, 4600) g");
    EXPECT_TRUE(eventually([&] { return sb.ch_value(count_sql) == "4600"; }, 30));
    EXPECT_EQ(sb.ch_value(count_sql), "4600");
    EXPECT_EQ(bg.pause(), PipeState::Paused);
  }
  sb.pg_exec("INSERT INTO nk SELECT g, 'while paused' FROM generate_series(4601, 5000) g");
  {
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
    ActionOutcome out = runner.reset(false, true);  // no primary key: a warning, confirmed
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  BackgroundPipe bg(sb, *catalog, pipe);
  ASSERT_TRUE(bg.wait_for(PipeState::Running));
  EXPECT_EQ(sb.ch_value(count_sql), "5000");
  EXPECT_EQ(sb.ch_value("SELECT uniqExact(id) FROM " + ch_table(sb, "nk")), "5000");
  EXPECT_EQ(staging_leftovers(sb), "0");
}

// The reset scenario of issue 12: CDC-era values of rows updated again while paused,
// and rows deleted while paused, must not survive a reset without clearing: the
// reload carries the snapshot's position as version (newer than every earlier
// change), and the keys the reload lacks are deleted.
TEST(Reset, ConvergesWithoutClearing) {
  Sandbox sb("rstconv");
  sb.pg_exec("CREATE TABLE acc (id int PRIMARY KEY, v text);"
             "INSERT INTO acc SELECT g, 'v' || g FROM generate_series(1, 5000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = pipe_of("rstconv", PipeMode::SnapshotCdc, {"public.acc"});
  {
    BackgroundPipe bg(sb, *catalog, pipe);
    ASSERT_TRUE(bg.wait_for(PipeState::Running));
    sb.pg_exec("UPDATE acc SET v = 'cdc ' || id WHERE id <= 200");
    ASSERT_TRUE(id_v_converge(sb, "acc"));
    EXPECT_EQ(bg.pause(), PipeState::Paused);
  }
  // Never streamed: the reset drops the slot.
  sb.pg_exec("UPDATE acc SET v = 'paused ' || id WHERE id <= 100; DELETE FROM acc WHERE id > 4900;");
  {
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
    ActionOutcome out = runner.reset(false, false);
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  BackgroundPipe bg(sb, *catalog, pipe);
  ASSERT_TRUE(bg.wait_for(PipeState::Running));
  EXPECT_TRUE(id_v_converge(sb, "acc", 5s));  // values compared per row
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "acc") + " FINAL WHERE _ferry_is_deleted = 1"), "100");
  // Every live row carries a version at or above the reload's consistent point.
  std::string start = *catalog->checkpoint("rstconv", "");
  EXPECT_EQ(sb.ch_value("SELECT min(_ferry_version) FROM " + ch_table(sb, "acc") + " FINAL WHERE _ferry_is_deleted = 0"),
            std::to_string(parse_lsn(start)));
  sb.pg_exec("UPDATE acc SET v = 'after' WHERE id BETWEEN 50 AND 150; DELETE FROM acc WHERE id = 1;");
  EXPECT_TRUE(id_v_converge(sb, "acc"));
}

// --clear-destination still empties the tables before the reload.
TEST(Reset, ClearDestination) {
  Sandbox sb("rstclear");
  sb.pg_exec("CREATE TABLE acc (id int PRIMARY KEY, v text);"
             "INSERT INTO acc SELECT g, 'v' || g FROM generate_series(1, 3000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = pipe_of("rstclr", PipeMode::SnapshotCdc, {"public.acc"});
  std::string all_sql = "SELECT count() FROM " + ch_table(sb, "acc");
  {
    BackgroundPipe bg(sb, *catalog, pipe);
    ASSERT_TRUE(bg.wait_for(PipeState::Running));
    EXPECT_EQ(bg.pause(), PipeState::Paused);
  }
  sb.pg_exec("DELETE FROM acc WHERE id > 2500");
  {
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
    ActionOutcome out = runner.reset(true, false);
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
    EXPECT_EQ(catalog->history("rstclr").back().reason, "reset: clearing destination");
  }
  BackgroundPipe bg(sb, *catalog, pipe);
  ASSERT_TRUE(bg.wait_for(PipeState::Running));
  EXPECT_EQ(sb.ch_value(all_sql), "2500");  // truncated, then loaded: no soft-deleted rows at all
  EXPECT_TRUE(id_v_converge(sb, "acc", 5s));
}

// kill -9 during the reset load (after loaded partitions, and right after the stale
// rows were deleted but before that was recorded): the restarts converge exactly.
TEST(Reset, KillNineDuringResetLoadConverges) {
  Sandbox sb("rstkillconv");
  sb.pg_exec("CREATE TABLE acc (id int PRIMARY KEY, v text);"
             "INSERT INTO acc SELECT g, 'v' || g FROM generate_series(1, 20000) g; ANALYZE acc;");
  std::string config = sb.write_config(R"(
  rk:
    source: src
    destination: dst
    mode: snapshot+cdc
    tables: [ public.acc ]
    settings: { snapshot_parallelism: 1, snapshot_rows_per_partition: 2000, sync_interval: 200ms }
)");
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  pid_t pid = spawn_ferry_run(config, catalog_arg);
  ASSERT_TRUE(eventually([&] {
    try {
      auto p = open_catalog(catalog_arg)->get_pipe("rk");
      return p && p->state == PipeState::Running;
    } catch (...) {
      return false;
    }
  }));
  sb.pg_exec("UPDATE acc SET v = 'cdc ' || id WHERE id <= 3000");
  ASSERT_TRUE(id_v_converge(sb, "acc"));
  ASSERT_TRUE(stop_ferry_run(pid));
  sb.pg_exec("UPDATE acc SET v = 'stopped ' || id WHERE id <= 1500; DELETE FROM acc WHERE id % 7 = 0;");
  auto catalog = open_catalog(catalog_arg);
  {
    PipeSpec spec = pipe_spec_from_json(catalog->get_pipe("rk")->spec_json);
    catalog->set_state("rk", PipeState::Paused, "test: paused");
    PipeRunner runner(*catalog, spec, sb.pg_peer(), sb.ch_peer());
    ActionOutcome out = runner.reset(false, false);
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  auto run_until_crash = [&](const char* point) {
    setenv("FERRY_CRASH_AT", point, 1);
    pid_t p = spawn_ferry_run(config, catalog_arg);
    unsetenv("FERRY_CRASH_AT");
    return killed_by_sigkill(p);
  };
  EXPECT_TRUE(run_until_crash("load-partition-done"));
  sb.pg_exec("UPDATE acc SET v = 'between kills' WHERE id BETWEEN 15000 AND 15100");
  EXPECT_TRUE(run_until_crash("load-partition-done"));
  EXPECT_TRUE(run_until_crash("stale-rows-deleted"));
  pid = spawn_ferry_run(config, catalog_arg);
  EXPECT_TRUE(reaches_state(*catalog, "rk", PipeState::Running));
  EXPECT_TRUE(id_v_converge(sb, "acc"));
  sb.pg_exec("DELETE FROM acc WHERE id <= 10; UPDATE acc SET v = 'live' WHERE id BETWEEN 11 AND 20;");
  EXPECT_TRUE(id_v_converge(sb, "acc"));
  EXPECT_TRUE(stop_ferry_run(pid));
}

// kill -9 of `ferry run` during a keyless table's load, then a restart: the table
// is loaded again from the start (exact count) and no staging table is left.
TEST(Reset, KillNineDuringKeylessLoad) {
  Sandbox sb("rstkill");
  sb.pg_exec("CREATE TABLE nk (id bigint, payload text);"
             "INSERT INTO nk SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 400000) g; ANALYZE nk;");
  std::string config = sb.write_config(R"(
  snap:
    source: src
    destination: dst
    mode: snapshot
    tables: [ public.nk ]
    settings: { snapshot_parallelism: 2, snapshot_rows_per_partition: 10000 }
)");
  std::string catalog_arg = "sqlite:" + sb.catalog_path();

  pid_t pid = spawn_ferry_run(config, catalog_arg, {"--confirm"});
  partitions_done(catalog_arg, "snap", 5, 30);
  kill(pid, SIGKILL);
  EXPECT_TRUE(killed_by_sigkill(pid));
  {
    auto catalog = open_catalog(catalog_arg);
    auto tables = catalog->tables("snap");
    ASSERT_EQ(tables.size(), 1u);
    ASSERT_GT(tables[0].partitions_done, 0);
    ASSERT_LT(tables[0].partitions_done, tables[0].partitions_total) << "the load finished before the kill";
  }
  // The target is untouched while its rows go to the staging table.
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "nk")), "0");
  EXPECT_NE(sb.ch_value("SELECT count() FROM " + ch_table(sb, "ferry_tmp_nk")), "0");

  std::string out;
  int rc = run_ferry({"run", "-f", config, "--catalog", catalog_arg, "--no-progress"}, &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("reloads from the start"), std::string::npos) << out;
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "nk")), "400000");
  EXPECT_EQ(sb.ch_value("SELECT uniqExact(id) FROM " + ch_table(sb, "nk")), "400000");
  EXPECT_EQ(staging_leftovers(sb), "0");
  auto catalog = open_catalog(catalog_arg);
  EXPECT_EQ(catalog->get_pipe("snap")->state, PipeState::Completed);
  EXPECT_EQ(catalog->tables("snap")[0].rows_loaded, 400000);
}

// A swap interrupted between its two renames (target gone, ferry_old_ and a complete
// ferry_tmp_ left) is finished when the load continues.
TEST(Reset, InterruptedSwapKeepsTarget) {
  Sandbox sb("rstswap");
  sb.pg_exec("CREATE TABLE nk (id int, v text); INSERT INTO nk SELECT g, 'v' || g FROM generate_series(1, 2000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = pipe_of("rstswap", PipeMode::Snapshot, {"public.nk"});
  {
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
    ASSERT_EQ(runner.run(), PipeState::Completed) << catalog->get_pipe("rstswap")->last_error;
  }
  // Fake the crash: the load was complete in ferry_tmp_nk, the first rename happened.
  std::string db = quote_backtick_ident(sb.name());
  sb.ch(fmt::format("CREATE TABLE {0}.ferry_tmp_nk AS {0}.nk", db));
  sb.ch(fmt::format("INSERT INTO {0}.ferry_tmp_nk SELECT * FROM {0}.nk", db));
  sb.ch(fmt::format("RENAME TABLE {0}.nk TO {0}.ferry_old_nk", db));
  catalog->set_state("rstswap", PipeState::Snapshot, "test: crash mid-swap");
  {
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
    ASSERT_EQ(runner.run(), PipeState::Completed) << catalog->get_pipe("rstswap")->last_error;
  }
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "nk")), "2000");
  EXPECT_EQ(staging_leftovers(sb), "0");
}

// Incremental: reset forgets the stored cursors; the next run copies from the start.
TEST(Reset, IncrementalForgetsCursors) {
  Sandbox sb("rstinc");
  sb.pg_exec("CREATE TABLE ev (id int PRIMARY KEY, v text, updated_at timestamp NOT NULL);"
             "INSERT INTO ev SELECT g, 'v' || g, '2024-01-01'::timestamp + g * interval '1 second' "
             "FROM generate_series(1, 1000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = pipe_of("rstinc", PipeMode::Incremental, {});
  TableMapping m;
  m.source = "public.ev";
  m.cursor = "updated_at";
  pipe.tables.push_back(m);
  pipe.settings.increment_delay = Millis(0);
  pipe.settings.schedule = Millis(3600 * 1000);
  {
    BackgroundPipe bg(sb, *catalog, pipe);
    ASSERT_TRUE(eventually([&] { return catalog->checkpoint("rstinc", "public.ev").has_value(); }, 30));
    EXPECT_EQ(bg.pause(), PipeState::Paused);
  }
  // A change the cursor does not see: only a copy from the start picks it up.
  sb.pg_exec("UPDATE ev SET v = 'unseen' WHERE id <= 10");
  PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
  ActionOutcome out = runner.reset(false, false);
  ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  EXPECT_FALSE(catalog->checkpoint("rstinc", "public.ev"));
  RunnerOptions opts;
  opts.once = true;
  PipeRunner again(*catalog, pipe, sb.pg_peer(), sb.ch_peer(), opts);
  ASSERT_EQ(again.run(), PipeState::Running) << catalog->get_pipe("rstinc")->last_error;
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "ev") + " FINAL WHERE v = 'unseen'"), "10");
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "ev") + " FINAL"), "1000");
}

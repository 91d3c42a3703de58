// PostgreSQL -> PostgreSQL pipes (the PostgreSQL destination) against the real server:
// the destination is a second database on it. Values are compared as text, exactly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "pipe/compare.h"
#include "pg_destination_support.h"
#include "../shared/chunks_stream.h"
#include "../shared/column_builder.h"
#include "../shared/destination_table.h"
#include "../shared/pipe_spec.h"
#include "connectors/api/destination.h"

namespace ferry::test {
namespace {

const char* kTypesTable = R"SQL(
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE TABLE types (id int PRIMARY KEY, i2 smallint, i4 int, i8 bigint, f4 real, f8 double precision,
    n numeric(12,3), nu numeric, b boolean, t text, vc varchar(10), ch char(4), by bytea, d date, tm time(3),
    tmz time with time zone, ts timestamp, ts3 timestamp(3), tz timestamptz, iv interval, u uuid, j json, jb jsonb,
    e mood, ip inet, cd cidr, mac macaddr, bits bit(4), vb bit varying(8), ia int[], ta text[], rng int4range,
    pt point);
)SQL";

// Edge values of every column type; `id0` offsets the ids (snapshot rows, then streamed rows).
std::string types_rows(int id0) {
  return fmt::format(R"SQL(
  INSERT INTO types VALUES
   ({0}, -32768, -2147483648, -9223372036854775808, -0, 5e-324, -999999999.999, 'NaN', true, E'tab\there\nnew\\back',
    'héllo', 'ab', '\x00ff5c0a09', '4713-01-01 BC', '23:59:59.999', '01:02:03+05:30', '2024-02-29 12:34:56.123456',
    '1999-12-31 23:59:59.5', '2024-01-02 03:04:05.678901+00', '1 year 2 mons -3 days 04:05:06.7',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{{"a": [1, 2.50]}}', '{{"b": null, "a": 1}}', 'happy', '10.1.2.3/8',
    '192.168.0.0/16', '08:00:2b:01:02:03', B'0101', B'101', '{{1,NULL,3}}', '{{"a b","c,d",NULL}}', '[1,5)', '(1.5,-2)'),
   ({1}, 32767, 2147483647, 9223372036854775807, 3.4028235e+38, 0.1, 0.001, 3.14159265358979323846264338327950288,
    false, '', '', '', '\x', 'infinity', '00:00:00', '00:00:00-12', '-infinity', '0001-01-01 00:00:00',
    'infinity', '-178000000 years', '00000000-0000-0000-0000-000000000000', '[]', '[]', 'sad', '::1', '::/0',
    'ff:ff:ff:ff:ff:ff', B'1111', B'', '{{}}', '{{}}', 'empty', '(0,0)'),
   ({2}, 0, 0, 0, 'NaN', '-Infinity', 0, -0.0, NULL, 'ünïcødé ☃ 😀', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
   ({3}, NULL, NULL, NULL, 'Infinity', 1.7976931348623157e308, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
)SQL", id0 + 1, id0 + 2, id0 + 3, id0 + 4);
}

const std::vector<std::string> kTypesColumns = {"id", "i2", "i4", "i8", "f4", "f8", "n", "nu", "b", "t", "vc", "ch",
                                                "by", "d", "tm", "tmz", "ts", "ts3", "tz", "iv", "u", "j", "jb", "e",
                                                "ip", "cd", "mac", "bits", "vb", "ia", "ta", "rng", "pt"};

PipeSpec pg_pipe(const std::string& name, const std::vector<std::string>& tables, PipeMode mode = PipeMode::SnapshotCdc) {
  return pg_to_ch_pipe(name, tables, mode);
}

TEST(PgToPostgres, TypesRoundTripExactlyInSnapshotAndStream) {
  Sandbox sb("pgtypes");
  PgDestinationDb dst(sb);
  sb.pg_exec(kTypesTable);
  sb.pg_exec(types_rows(0));
  auto catalog = open_catalog(sb.catalog_path());
  BackgroundPipe pipe(*catalog, pg_pipe("types", {"public.types"}), sb.pg_peer(), dst.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  EXPECT_TRUE(pg_converges(sb, dst, "types", kTypesColumns));
  sb.pg_exec(types_rows(100));
  sb.pg_exec("UPDATE types SET t = t || '-upd', f4 = -f4 WHERE id % 2 = 0");
  EXPECT_TRUE(pg_converges(sb, dst, "types", kTypesColumns));
  ASSERT_EQ(dst.value("SELECT count(*) FROM types"), "8");
  // Types as mapped: the source's own where PostgreSQL names it, text for the enum.
  EXPECT_EQ(dst.value("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'types'::regclass "
                      "AND attname = 'vc'"), "character varying(10)");
  EXPECT_EQ(dst.value("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'types'::regclass "
                      "AND attname = 'e'"), "text");
  // No ferry columns; the primary key is the source's.
  EXPECT_EQ(dst.value("SELECT count(*) FROM pg_attribute WHERE attrelid = 'types'::regclass AND attname LIKE '_ferry%'"), "0");
  EXPECT_EQ(dst.value("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'types'::regclass AND contype = 'p'"),
            "PRIMARY KEY (id)");
  pipe.stop();
  // ferry compare agrees, over every column (PostgreSQL renders both ends), and names a
  // value changed at the destination.
  CompareOptions o;
  TableComparison c = compare_pipe(pg_pipe("types", {"public.types"}), sb.pg_peer(), dst.peer(), o).at(0);
  EXPECT_EQ(c.outcome, "equal") << to_text(c);
  EXPECT_TRUE(c.not_compared.empty()) << to_text(c);
  dst.conn().exec("UPDATE types SET f8 = 0.30000000000000004 WHERE id = 102");
  c = compare_pipe(pg_pipe("types", {"public.types"}), sb.pg_peer(), dst.peer(), o).at(0);
  EXPECT_EQ(c.differences, (std::vector<KeyDifference>{{"changed", "id=102"}})) << to_text(c);
}

TEST(PgToPostgres, MixedChangesKeyUpdatesToastAndTruncateConverge) {
  Sandbox sb("pgmixed");
  PgDestinationDb dst(sb);
  sb.pg_exec(kMixedChangesTables);
  auto catalog = open_catalog(sb.catalog_path());
  BackgroundPipe pipe(*catalog, pg_pipe("mixed", {"public.a", "public.c"}), sb.pg_peer(), dst.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  sb.pg_exec(kMixedChanges);
  EXPECT_TRUE(pg_converges(sb, dst, "a", {"id", "v", "big"}));
  EXPECT_TRUE(pg_converges(sb, dst, "c", {"k1", "k2", "payload"}, "k1, k2, payload"));
  pipe.stop();
}

// The exactly-once proof: a trigger at the destination (ENABLE ALWAYS: it fires under
// session_replication_role = replica) logs every applied row. A crash right after the
// destination committed a batch, before the catalog recorded it, must not apply the
// batch again on restart.
TEST(PgToPostgres, CrashBetweenDestinationCommitAndCatalogDoesNotApplyTwice) {
  Sandbox sb("pgonce");
  PgDestinationDb dst(sb);
  sb.pg_exec("CREATE TABLE cnt (id int PRIMARY KEY, n int NOT NULL); INSERT INTO cnt VALUES (1, 0), (2, 0);");
  std::string config = dst.write_config(sb, R"(
  once:
    source: src
    destination: dst
    mode: snapshot+cdc
    tables: [ public.cnt ]
    settings: { sync_interval: 200ms }
)");
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  pid_t pid = spawn_ferry_run(config, catalog_arg);
  ASSERT_TRUE(pg_converges(sb, dst, "cnt", {"id", "n"}));
  ASSERT_TRUE(stop_ferry_run(pid));
  dst.conn().exec(R"SQL(
    CREATE TABLE applied (id int, n int);
    CREATE FUNCTION log_applied() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN INSERT INTO applied VALUES (NEW.id, NEW.n); RETURN NEW; END $$;
    CREATE TRIGGER log_applied AFTER INSERT OR UPDATE ON cnt FOR EACH ROW EXECUTE FUNCTION log_applied();
    ALTER TABLE cnt ENABLE ALWAYS TRIGGER log_applied;
  )SQL");
  for (int i = 0; i < 30; ++i) sb.pg_exec("UPDATE cnt SET n = n + 1 WHERE id = 1");
  setenv("FERRY_CRASH_AT", "cdc-destination-committed", 1);
  pid = spawn_ferry_run(config, catalog_arg);
  unsetenv("FERRY_CRASH_AT");
  ASSERT_TRUE(killed_by_sigkill(pid));
  // The destination has the batch and its position; the catalog does not.
  std::string applied_n = dst.value("SELECT n FROM cnt WHERE id = 1");
  ASSERT_NE(applied_n, "0");
  std::string applied_before = dst.value("SELECT count(*) FROM applied");
  ASSERT_NE(applied_before, "0");
  uint64_t stored = std::stoull(dst.value("SELECT position FROM ferry.checkpoints WHERE pipe = 'once'"));
  {
    auto catalog = open_catalog(sb.catalog_path());
    auto cp = catalog->checkpoint("once", "");
    ASSERT_TRUE(cp.has_value());
    unsigned hi = 0, lo = 0;
    ASSERT_EQ(std::sscanf(cp->c_str(), "%X/%X", &hi, &lo), 2) << *cp;
    EXPECT_LT((uint64_t(hi) << 32) | lo, stored) << "the catalog should be behind the destination after the crash";
  }
  // Restart: the stored position is found and the batch not applied again.
  pid = spawn_ferry_run(config, catalog_arg);
  for (int i = 0; i < 5; ++i) sb.pg_exec("UPDATE cnt SET n = n + 1 WHERE id = 2");
  EXPECT_TRUE(pg_converges(sb, dst, "cnt", {"id", "n"}));
  ASSERT_TRUE(stop_ferry_run(pid));
  // Every value of n for id 1 was applied at most once (a replay would log it again).
  EXPECT_EQ(dst.value("SELECT count(*) FROM (SELECT id, n FROM applied GROUP BY id, n HAVING count(*) > 1) d"), "0");
  EXPECT_EQ(dst.value("SELECT count(*) FROM applied WHERE id = 1"), dst.value("SELECT count(DISTINCT n) FROM applied WHERE id = 1"));
  // The batch committed before the crash (ending at n = applied_n) was applied once: later
  // batches (the 30 updates may have spanned several) bring new values only.
  EXPECT_EQ(dst.value("SELECT count(*) FROM applied WHERE id = 1 AND n = " + applied_n), "1");
  {
    auto catalog = open_catalog(sb.catalog_path());
    auto cp = catalog->checkpoint("once", "");
    unsigned hi = 0, lo = 0;
    ASSERT_EQ(std::sscanf(cp->c_str(), "%X/%X", &hi, &lo), 2);
    EXPECT_EQ((uint64_t(hi) << 32) | lo, std::stoull(dst.value("SELECT position FROM ferry.checkpoints WHERE pipe = 'once'")));
  }
}

// kill -9 of `ferry run` 10 times under a live workload of inserts, updates (TOAST values
// left unchanged, key updates), deletes; converges exactly after the last restart.
TEST(PgToPostgres, KillNineTenTimesUnderLiveLoadConverges) {
  Sandbox sb("pgkill");
  PgDestinationDb dst(sb);
  create_transfer_table(sb);
  std::string config = dst.write_config(sb, R"(
  kill:
    source: src
    destination: dst
    mode: snapshot+cdc
    tables: [ public.acc ]
    settings: { sync_interval: 200ms, batch_size: 500, snapshot_rows_per_partition: 500 }
)");
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  PgTransferWriter writer(sb);
  kill_nine_rounds(config, catalog_arg, 10, 7, 600, 1200);
  writer.stop();
  pid_t pid = spawn_ferry_run(config, catalog_arg);
  EXPECT_TRUE(pg_converges(sb, dst, "acc", {"id", "balance", "note", "big"}, "id", 120s));
  EXPECT_TRUE(stop_ferry_run(pid));
}

// A snapshot partition loaded again (a redo after a crash, a reset into a full table) leaves
// no duplicates: the first load COPYs straight into the table, the second meets its keys
// (unique_violation), rolls back to its savepoint and upserts the same rows from its spill
// file; later partitions of that table upsert at once. Every row ends with the last values.
TEST(PgToPostgres, SnapshotPartitionLoadedAgainUpsertsWithoutDuplicates) {
  Sandbox sb("pgredo");
  PgDestinationDb dst(sb);
  TableSchema schema;
  schema.schema = "public";
  schema.name = "redo";
  schema.columns = {col("id", LogicalType::Int32, false, 1), col("v", LogicalType::String)};
  DestinationTable table = dest_table("redo");
  auto dest = make_destination(dst.peer());
  dest->ensure_table(schema, table);
  auto rows = [](int from, int to, const std::string& v) {
    std::vector<std::string> chunks;
    for (int i = from; i < to; i += 1000) {
      std::string chunk;
      for (int k = i; k < std::min(to, i + 1000); ++k) chunk += fmt::format("{}\t{} {}\n", k, v, k);
      chunks.push_back(chunk);
    }
    return ChunksStream(chunks);
  };
  ChunksStream first = rows(0, 5000, "first");
  EXPECT_EQ(dest->load_snapshot(schema, table, first, 1), 5000);
  ChunksStream again = rows(2500, 7500, "again");  // half of it already there
  EXPECT_EQ(dest->load_snapshot(schema, table, again, 2), 5000);
  ChunksStream later = rows(7000, 8000, "later");
  EXPECT_EQ(dest->load_snapshot(schema, table, later, 3), 1000);
  EXPECT_EQ(dst.value("SELECT count(*) || ' ' || count(DISTINCT id) FROM redo"), "8000 8000");
  EXPECT_EQ(dst.value("SELECT count(*) FROM redo WHERE v = 'first ' || id"), "2500");
  EXPECT_EQ(dst.value("SELECT count(*) FROM redo WHERE v = 'again ' || id"), "4500");
  EXPECT_EQ(dst.value("SELECT count(*) FROM redo WHERE v = 'later ' || id"), "1000");
}

// pgbench (tpcb-like, 4 clients) writes the source for FERRY_PGBENCH_SECONDS (default 60) while
// ferry streams to the destination: its four tables end equal value by value (the keyless
// pgbench_history as a multiset of rows).
TEST(PgToPostgres, PgbenchTpcbWorkloadConverges) {
  Sandbox sb("pgbench");
  PgDestinationDb dst(sb);
  const std::string pgbench = "/usr/lib/postgresql/15/bin/pgbench";
  auto sh = [](const std::string& cmd) { return std::system(cmd.c_str()); };
  ASSERT_EQ(sh(fmt::format("{} -i -s 2 -q '{}' >{}/pgbench-init.log 2>&1", pgbench, sb.pg_dsn(), sb.dir())), 0);
  std::string config = dst.write_config(sb, R"(
  bench:
    source: src
    destination: dst
    mode: snapshot+cdc
    tables: [ public.pgbench_accounts, public.pgbench_branches, public.pgbench_tellers, public.pgbench_history ]
    settings: { sync_interval: 500ms, batch_size: 5000 }
)");
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  pid_t pid = spawn_ferry_run(config, catalog_arg, {"--confirm"});  // pgbench_history has no key: a warning
  {
    auto catalog = open_catalog(sb.catalog_path());
    ASSERT_TRUE(reaches_state(*catalog, "bench", PipeState::Running, 120));
  }
  const char* seconds = std::getenv("FERRY_PGBENCH_SECONDS");
  std::string log = sb.dir() + "/pgbench.log";
  EXPECT_EQ(sh(fmt::format("{} -n -c 4 -j 2 -T {} '{}' >{} 2>&1", pgbench, seconds ? seconds : "60", sb.pg_dsn(), log)), 0)
      << read_file(log);
  int64_t history = std::stoll(sb.pg_value("SELECT count(*) FROM pgbench_history"));
  EXPECT_GT(history, 1000) << read_file(log);
  EXPECT_TRUE(pg_converges(sb, dst, "pgbench_accounts", {"aid", "bid", "abalance", "filler"}, "aid", 180s));
  EXPECT_TRUE(pg_converges(sb, dst, "pgbench_branches", {"bid", "bbalance", "filler"}, "bid"));
  EXPECT_TRUE(pg_converges(sb, dst, "pgbench_tellers", {"tid", "bid", "tbalance", "filler"}, "tid"));
  EXPECT_TRUE(pg_converges(sb, dst, "pgbench_history", {"tid", "bid", "aid", "delta", "mtime", "filler"},
                           "tid, bid, aid, delta, mtime"));
  EXPECT_TRUE(stop_ferry_run(pid));
}

// Pause and resume, a resync under live writes (rebuilt in acc_resync, swapped by renames),
// and a reset from Paused (reload by upsert): each converges value by value.
TEST(PgToPostgres, PauseResumeResyncAndResetConverge) {
  Sandbox sb("pglife");
  PgDestinationDb dst(sb);
  sb.pg_exec("CREATE TABLE acc (id int PRIMARY KEY, v text); INSERT INTO acc SELECT g, 'v' || g FROM generate_series(1, 5000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = pg_pipe("life", {"public.acc"});
  std::atomic<bool> writing{true};
  std::atomic<int> next{100000};
  std::thread writer([&] {
    PgConnection conn(sb.pg_dsn(), "");
    while (writing) {
      int id = next++;
      conn.exec(fmt::format("INSERT INTO acc VALUES ({0}, 'w'); UPDATE acc SET v = v || '+' WHERE id = {0} % 5000 + 1;", id));
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
  });
  {
    BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    EXPECT_EQ(pipe.pause(), PipeState::Paused);
  }
  int at_pause = next;
  eventually([&] { return next > at_pause + 50; }, 10);  // changes while paused
  {
    PipeRunner runner(*catalog, spec, sb.pg_peer(), dst.peer());
    ASSERT_TRUE(std::holds_alternative<Accepted>(runner.resume()));
  }
  {
    BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  {
    PipeRunner runner(*catalog, spec, sb.pg_peer(), dst.peer());
    auto out = runner.resync("");
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  std::string oid_before = dst.value("SELECT 'acc'::regclass::oid");
  {
    BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running, 120s));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_NE(dst.value("SELECT 'acc'::regclass::oid"), oid_before);  // the rebuilt table took the name
    EXPECT_EQ(dst.value("SELECT count(*) FROM pg_class WHERE relkind = 'r' AND (relname LIKE 'acc_resync%' OR relname LIKE 'ferry_old%')"), "0");
    EXPECT_EQ(pipe.pause(), PipeState::Paused);
  }
  writing = false;
  writer.join();
  dst.conn().exec("UPDATE acc SET v = 'damaged' WHERE id <= 100");  // a reset repairs the destination
  {
    PipeRunner runner(*catalog, spec, sb.pg_peer(), dst.peer());
    auto out = runner.reset(false, true);
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  sb.pg_exec("UPDATE acc SET v = 'after reset' WHERE id = 7");
  EXPECT_TRUE(pg_converges(sb, dst, "acc", {"id", "v"}));
}

}  // namespace
}  // namespace ferry::test

namespace ferry::test {
namespace {

// soft_delete at a PostgreSQL destination: as for MariaDB (mariadb_destination_test.cpp).
TEST(PgToPostgres, SoftDeleteKeepsDeletedRowsFlagged) {
  Sandbox sb("pgsoft");
  PgDestinationDb dst(sb);
  sb.pg_exec("CREATE TABLE s (id int PRIMARY KEY, v text); INSERT INTO s SELECT g, 'v' || g FROM generate_series(1, 100) g;"
             "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 5);");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = pg_to_ch_pipe("soft", {"public.s", "public.t"});
  spec.settings.soft_delete = true;
  {
    BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    sb.pg_exec("UPDATE s SET v = 'last' WHERE id = 3; DELETE FROM s WHERE id IN (3, 4, 5); INSERT INTO s VALUES (4, 'back');"
               "TRUNCATE t; INSERT INTO t VALUES (2);");
    ASSERT_TRUE(eventually([&] { return dst.value("SELECT count(*) FROM s WHERE _ferry_is_deleted") == "2" &&
                                        dst.value("SELECT count(*) FROM t WHERE NOT _ferry_is_deleted") == "1"; }, 60));
    EXPECT_EQ(dst.rows("SELECT id, v, _ferry_is_deleted FROM s WHERE id BETWEEN 3 AND 5 ORDER BY id"),
              (Rows{{"3", "last", "t"}, {"4", "back", "f"}, {"5", "v5", "t"}}));
    EXPECT_EQ(dst.rows("SELECT id, _ferry_is_deleted FROM t ORDER BY id"),
              (Rows{{"1", "t"}, {"2", "f"}, {"3", "t"}, {"4", "t"}, {"5", "t"}}));
    EXPECT_EQ(pipe.pause(), PipeState::Paused);
  }
  auto compared = compare_pipe(spec, sb.pg_peer(), dst.peer(), CompareOptions{});
  ASSERT_EQ(compared.size(), 2u);
  for (const auto& c : compared) EXPECT_EQ(c.outcome, "equal") << to_text(c);
  {
    PipeRunner runner(*catalog, spec, sb.pg_peer(), dst.peer());
    auto out = runner.resync("public.s");
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  BackgroundPipe pipe(*catalog, spec, sb.pg_peer(), dst.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running, 120s));
  EXPECT_TRUE(eventually([&] {
    return dst.rows("SELECT id, v, _ferry_is_deleted FROM s WHERE id BETWEEN 3 AND 5 ORDER BY id") ==
           Rows{{"3", "last", "t"}, {"4", "back", "f"}, {"5", "v5", "t"}};
  }, 60));
  EXPECT_EQ(dst.value("SELECT count(*) FROM s"), "100");
  pipe.stop();
}

}  // namespace
}  // namespace ferry::test

namespace ferry::test {
namespace {

// A keyless table's inserts are applied once even when a crash follows a batch that ended
// inside a source transaction: batches end at transaction boundaries (batch_size 10 here,
// transactions of 100 and 50 rows), so the replay after the crash never re-applies a part
// of one. Without that, the 10 rows applied before the crash came twice.
TEST(PgToPostgres, KeylessInsertsAreNotAppliedTwiceAfterACrash) {
  Sandbox sb("pgkeyless");
  PgDestinationDb dst(sb);
  sb.pg_exec("CREATE TABLE k (a int, b text); INSERT INTO k SELECT g, 'snap' FROM generate_series(1, 5) g;");
  std::string config = dst.write_config(sb, R"(
  keyless:
    source: src
    destination: dst
    mode: snapshot+cdc
    tables: [ public.k ]
    settings: { sync_interval: 200ms, batch_size: 10 }
)");
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  pid_t pid = spawn_ferry_run(config, catalog_arg, {"--confirm"});
  ASSERT_TRUE(eventually([&] {
    try {
      return dst.value("SELECT count(*) FROM k") == "5";
    } catch (const std::exception&) {
      return false;  // not created yet
    }
  }, 60));
  ASSERT_TRUE(stop_ferry_run(pid));
  sb.pg_exec("BEGIN; INSERT INTO k SELECT g, 'tx1' FROM generate_series(1, 100) g; COMMIT;"
             "BEGIN; INSERT INTO k SELECT g, 'tx2' FROM generate_series(1, 50) g; COMMIT;");
  setenv("FERRY_CRASH_AT", "cdc-destination-committed", 1);
  pid = spawn_ferry_run(config, catalog_arg, {"--confirm"});
  unsetenv("FERRY_CRASH_AT");
  ASSERT_TRUE(killed_by_sigkill(pid));
  pid = spawn_ferry_run(config, catalog_arg, {"--confirm"});
  const std::string groups = "SELECT b, count(*)::text, count(DISTINCT a)::text FROM k GROUP BY b ORDER BY b";
  EXPECT_TRUE(eventually([&] { return dst.rows(groups) == sb.pg_rows(groups); }, 60))
      << "destination " << ::testing::PrintToString(dst.rows(groups));
  EXPECT_EQ(dst.rows(groups), (Rows{{"snap", "5", "5"}, {"tx1", "100", "100"}, {"tx2", "50", "50"}}));
  EXPECT_TRUE(stop_ferry_run(pid));
}

}  // namespace
}  // namespace ferry::test

// Periodic incremental copy (mode incremental, DESIGN.md section 5) against the
// real servers: PostgreSQL, ClickHouse and SQLite sources into ClickHouse.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include "catalog/catalog.h"
#include "core/ident.h"
#include "core/log.h"
#include "pipe/incremental.h"
#include "pipe/runner.h"
#include "incremental_support.h"
#include "support.h"
#include "../shared/pipe_spec.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

using Rows = std::vector<std::vector<std::string>>;

json status_of(Catalog& catalog, const std::string& pipe = "inc") { return incremental_status_json(catalog, pipe); }

json raw_status(Catalog& catalog, const std::string& pipe = "inc") {
  auto text = catalog.get_meta(pipe, kIncrementalStatusMeta);
  return text ? json::parse(*text) : json();
}

std::optional<std::string> cursor_of(Catalog& catalog, const std::string& table) {
  return catalog.checkpoint("inc", table);
}

// Collects what ferry logs while alive.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  std::string text() {
    sink_->flush();
    return out_.str();
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

std::vector<std::string> states(Catalog& catalog, const std::string& pipe = "inc") {
  std::vector<std::string> out;
  for (const auto& t : catalog.history(pipe)) out.push_back(to_string(t.to));
  return out;
}

// A second ClickHouse database (the sandbox's plus "_src") as an incremental source,
// dropped at the end, and its peer "chsrc".
struct ClickHouseSourceDatabase {
  Sandbox& sb;
  std::string name;
  explicit ClickHouseSourceDatabase(Sandbox& s) : sb(s), name(s.name() + "_src") {
    sb.ch("CREATE DATABASE " + quote_backtick_ident(name));
  }
  ~ClickHouseSourceDatabase() {
    try {
      sb.ch("DROP DATABASE IF EXISTS " + quote_backtick_ident(name));
    } catch (...) {
    }
  }
  PeerSpec peer() const {
    PeerSpec p;
    p.name = "chsrc";
    p.type = PeerType::ClickHouse;
    p.url = env_or_fail("FERRY_TEST_CH_URL");
    p.database = name;
    return p;
  }
};

}  // namespace

// Inserts and updates made between runs arrive; deletes are not propagated
// (documented: this mode only sees rows whose cursor grew).
TEST(Incremental, InsertsAndUpdatesArriveDeletesAreNotPropagated) {
  Sandbox sb("inc_basic");
  sb.pg_exec(R"SQL(
    CREATE TABLE items (id integer PRIMARY KEY, v text, n numeric(10,2),
                        updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
    INSERT INTO items (id, v, n) SELECT g, 'v' || g, g * 1.5 FROM generate_series(1, 5) g;
  )SQL");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("public.items", "updated_at")});
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  const std::string cols = "toString(id), v, toString(n)";
  EXPECT_EQ(ch_live(sb, "items", cols), sb.pg_rows("SELECT id::text, v, n::text FROM items ORDER BY id"));
  EXPECT_EQ(cursor_of(*catalog, "public.items"), sb.pg_value("SELECT max(updated_at)::text FROM items"));

  // Between runs: two inserts, an update (its cursor grows), a delete.
  sb.pg_exec(R"SQL(
    INSERT INTO items (id, v, n) VALUES (6, 'six', 6), (7, E'tab\there\nnewline', NULL);
    UPDATE items SET v = 'changed', updated_at = clock_timestamp() WHERE id = 2;
    DELETE FROM items WHERE id = 4;
  )SQL");
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  Rows expected = sb.pg_rows("SELECT id::text, v, coalesce(n::text, '\\N') FROM items ORDER BY id");
  // The deleted row stays at the destination with its last copied values.
  expected.insert(expected.begin() + 3, {"4", "v4", "6.00"});
  EXPECT_EQ(ch_live(sb, "items", cols), expected);
  EXPECT_EQ(cursor_of(*catalog, "public.items"), sb.pg_value("SELECT max(updated_at)::text FROM items"));
  // Each run writes its number as the row version: the update replaced run 1's copy.
  EXPECT_EQ(sb.ch_value("SELECT toString(_ferry_version) FROM " + ch_table(sb, "items") + " FINAL WHERE id = 2"), "2");
  EXPECT_EQ(sb.ch_value("SELECT toString(_ferry_version) FROM " + ch_table(sb, "items") + " FINAL WHERE id = 1"), "1");

  json st = status_of(*catalog);
  EXPECT_EQ(st["last_run"]["run"], 2);
  EXPECT_EQ(st["last_run"]["rows"], 3);  // 6, 7 and the updated 2
  EXPECT_EQ(st["last_run"]["result"], "ok");
  ASSERT_EQ(st["tables"].size(), 1u);
  EXPECT_EQ(st["tables"][0]["rows_last_run"], 3);
  EXPECT_EQ(st["tables"][0]["rows_total"], 8);
  EXPECT_EQ(st["tables"][0]["cursor"], *cursor_of(*catalog, "public.items"));
  EXPECT_TRUE(st["next_run_at"].is_string());

  // Nothing changed: the run copies nothing and the cursor stays.
  auto before = cursor_of(*catalog, "public.items");
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running);
  EXPECT_EQ(status_of(*catalog)["last_run"]["rows"], 0);
  EXPECT_EQ(cursor_of(*catalog, "public.items"), before);
  // The pipe stays Running between runs: no other transitions.
  EXPECT_EQ(states(*catalog), (std::vector<std::string>{"Provisioning", "Setup", "Running"}));
  auto tables = catalog->tables("inc");
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0].rows_loaded, 8);
}

// A transaction that took a low cursor value before the run read its upper
// bound, and commits during increment_delay, is copied by that same run.
TEST(Incremental, SlowTransactionCommittingDuringTheDelayIsNotLost) {
  Sandbox sb("inc_slow");
  sb.pg_exec("CREATE TABLE q (id bigserial PRIMARY KEY, v text NOT NULL);"
             "INSERT INTO q (v) VALUES ('a'), ('b'), ('c');");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("public.q", "id")}, 3000ms);
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  ASSERT_EQ(cursor_of(*catalog, "public.q"), "3");

  // The slow transaction takes id 4 and stays open; a fast one takes 5 and commits.
  PgConnection slow(sb.pg_dsn(), "");
  slow.exec("BEGIN");
  slow.exec("INSERT INTO q (v) VALUES ('slow')");
  sb.pg_exec("INSERT INTO q (v) VALUES ('fast')");

  PipeState result = PipeState::Provisioning;
  auto t0 = std::chrono::steady_clock::now();
  std::thread runner([&] { result = run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()); });
  // Wait until run 2 read its bound (5: the slow row is not visible yet) and waits.
  ASSERT_TRUE(eventually([&] {
    json st = raw_status(*catalog);
    return st.value("run", 0) == 2 && st.value("phase", "") == "waiting";
  }, 4));
  EXPECT_EQ(raw_status(*catalog)["tables"]["public.q"]["upper"], "5");
  slow.exec("COMMIT");  // during increment_delay
  runner.join();
  ASSERT_EQ(result, PipeState::Running) << catalog->get_pipe("inc")->last_error;
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 3s);  // the delay was waited
  EXPECT_EQ(ch_live(sb, "q", "toString(id), v"),
            (Rows{{"1", "a"}, {"2", "b"}, {"3", "c"}, {"4", "slow"}, {"5", "fast"}}));
  EXPECT_EQ(cursor_of(*catalog, "public.q"), "5");
}

// The control: without the delay the same interleaving loses the slow row
// (the run copies up to 5 before 4 commits, and the cursor passes it). This is
// why increment_delay must be longer than the source's transactions.
TEST(Incremental, WithoutTheDelayASlowTransactionIsMissed) {
  Sandbox sb("inc_nodelay");
  sb.pg_exec("CREATE TABLE q (id bigserial PRIMARY KEY, v text NOT NULL); INSERT INTO q (v) VALUES ('a');");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("public.q", "id")}, 0ms);
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running);
  PgConnection slow(sb.pg_dsn(), "");
  slow.exec("BEGIN");
  slow.exec("INSERT INTO q (v) VALUES ('slow')");  // id 2
  sb.pg_exec("INSERT INTO q (v) VALUES ('fast')");  // id 3
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running);
  slow.exec("COMMIT");
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running);
  EXPECT_EQ(ch_live(sb, "q", "toString(id), v"), (Rows{{"1", "a"}, {"3", "fast"}}));
}

// A run whose destination is unreachable fails without moving the cursor; the
// next run copies the same range.
TEST(Incremental, FailedRunLeavesTheCursorAndTheNextRunCopiesTheRange) {
  Sandbox sb("inc_fail");
  sb.pg_exec("CREATE TABLE f (id integer PRIMARY KEY, v text, ver bigint NOT NULL);"
             "INSERT INTO f SELECT g, 'v' || g, g FROM generate_series(1, 3) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("public.f", "ver")});
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  ASSERT_EQ(cursor_of(*catalog, "public.f"), "3");

  sb.pg_exec("INSERT INTO f VALUES (4, 'v4', 4), (5, 'v5', 5); UPDATE f SET v = 'x', ver = 6 WHERE id = 1;");
  PeerSpec stopped = sb.ch_peer();
  stopped.url = "http://127.0.0.1:1";  // nothing listens there: the destination is down
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), stopped), PipeState::Failed);
  EXPECT_NE(catalog->get_pipe("inc")->last_error.find("cannot reach ClickHouse"), std::string::npos)
      << catalog->get_pipe("inc")->last_error;
  EXPECT_EQ(cursor_of(*catalog, "public.f"), "3");
  json st = status_of(*catalog);
  EXPECT_EQ(st["last_run"]["run"], 2);
  EXPECT_EQ(st["last_run"]["result"].get<std::string>().rfind("failed: ", 0), 0u) << st.dump();
  EXPECT_EQ(ch_live(sb, "f", "toString(id), v"), (Rows{{"1", "v1"}, {"2", "v2"}, {"3", "v3"}}));

  // Resumed with the destination back: the same range (3, 6] is copied.
  {
    RunnerOptions opts;
    opts.once = true;
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer(), opts);
    ASSERT_TRUE(std::holds_alternative<Accepted>(runner.resume()));
    ASSERT_EQ(runner.run(), PipeState::Running) << catalog->get_pipe("inc")->last_error;
  }
  EXPECT_EQ(cursor_of(*catalog, "public.f"), "6");
  EXPECT_EQ(ch_live(sb, "f", "toString(id), v"), (Rows{{"1", "x"}, {"2", "v2"}, {"3", "v3"}, {"4", "v4"}, {"5", "v5"}}));
  // Run 3 wrote them (run 2 took its number and failed).
  EXPECT_EQ(sb.ch_value("SELECT toString(_ferry_version) FROM " + ch_table(sb, "f") + " FINAL WHERE id = 1"), "3");
  EXPECT_EQ(status_of(*catalog)["last_run"]["result"], "ok");
}

// A run that fails in its second table keeps the first table's committed
// cursor and leaves the second one's where it was; nothing of the failed
// insert is committed.
TEST(Incremental, FailureInOneTableKeepsTheOtherTablesProgress) {
  Sandbox sb("inc_partial");
  sb.pg_exec(R"SQL(
    CREATE TABLE a (id integer PRIMARY KEY, ver bigint NOT NULL);
    CREATE TABLE b (id integer PRIMARY KEY, amount numeric(10,2), ver bigint NOT NULL);
    INSERT INTO a VALUES (1, 1); INSERT INTO b VALUES (1, 1.5, 1);
  )SQL");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("public.a", "ver"), mapping("public.b", "ver")});
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;

  // NaN has no ClickHouse Decimal value: the insert into b is refused.
  sb.pg_exec("INSERT INTO a VALUES (2, 2); INSERT INTO b VALUES (2, 2.5, 2), (3, 'NaN', 3);");
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Failed);
  EXPECT_EQ(cursor_of(*catalog, "public.a"), "2");
  EXPECT_EQ(cursor_of(*catalog, "public.b"), "1");
  EXPECT_EQ(ch_live(sb, "a", "toString(id)"), (Rows{{"1"}, {"2"}}));
  EXPECT_EQ(ch_live(sb, "b", "toString(id)"), (Rows{{"1"}}));

  sb.pg_exec("UPDATE b SET amount = 3.5 WHERE id = 3;");  // fixed at the source, cursor unchanged
  {
    RunnerOptions opts;
    opts.once = true;
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer(), opts);
    ASSERT_TRUE(std::holds_alternative<Accepted>(runner.resume()));
    ASSERT_EQ(runner.run(), PipeState::Running) << catalog->get_pipe("inc")->last_error;
  }
  EXPECT_EQ(cursor_of(*catalog, "public.b"), "3");
  EXPECT_EQ(ch_live(sb, "b", "toString(id), toString(amount)"), (Rows{{"1", "1.50"}, {"2", "2.50"}, {"3", "3.50"}}));
}

// A uuid cursor is refused at Setup with the table, column and type.
TEST(Incremental, UuidCursorIsRefusedAtSetup) {
  Sandbox sb("inc_uuid");
  sb.pg_exec("CREATE TABLE u (id uuid PRIMARY KEY, v text, flag boolean);"
             "INSERT INTO u VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'x', true);");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("public.u", "id")});
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Failed);
  std::string error = catalog->get_pipe("inc")->last_error;
  EXPECT_NE(error.find("table public.u: cursor column \"id\" has type uuid, which cannot be a cursor"), std::string::npos)
      << error;
  EXPECT_EQ(states(*catalog), (std::vector<std::string>{"Provisioning", "Setup", "Failed"}));
  EXPECT_FALSE(cursor_of(*catalog, "public.u"));

  // A boolean, and a column that does not exist, are refused the same way.
  sb.pg_exec("CREATE TABLE u2 (id integer PRIMARY KEY, flag boolean)");
  pipe.name = "inc_bool";
  pipe.tables = {mapping("public.u2", "flag")};
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Failed);
  EXPECT_NE(catalog->get_pipe("inc_bool")->last_error.find("cursor column \"flag\" has type boolean"), std::string::npos)
      << catalog->get_pipe("inc_bool")->last_error;
  pipe.name = "inc_missing";
  pipe.tables = {mapping("public.u2", "nope")};
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Failed);
  EXPECT_NE(catalog->get_pipe("inc_missing")->last_error.find("cursor column \"nope\" does not exist"), std::string::npos)
      << catalog->get_pipe("inc_missing")->last_error;
}

// NULL cursors and a cursor whose maximum went below the stored one are
// reported in status and logs; the stored cursor never moves back.
TEST(Incremental, NullAndDecreasingCursorsAreReported) {
  Sandbox sb("inc_nulls");
  sb.pg_exec("CREATE TABLE n (id integer PRIMARY KEY, seq integer, v text);"
             "INSERT INTO n VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c'), (4, NULL, 'd'), (5, NULL, 'e');");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("public.n", "seq")});
  LogCapture logs;
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  EXPECT_EQ(ch_live(sb, "n", "toString(id)"), (Rows{{"1"}, {"2"}, {"3"}}));  // NULL cursors are not copied
  json t = status_of(*catalog)["tables"][0];
  EXPECT_EQ(t["null_cursor_rows"], 2);
  ASSERT_EQ(t["warnings"].size(), 1u);
  EXPECT_EQ(t["warnings"][0], "2 row(s) have a NULL cursor \"seq\" and are not copied");
  EXPECT_NE(logs.text().find("table public.n: 2 row(s) have a NULL cursor \"seq\" and are not copied"), std::string::npos)
      << logs.text();

  // The row holding the maximum goes back: the maximum (2) is below the stored cursor (3).
  sb.pg_exec("UPDATE n SET seq = 0 WHERE id = 3");
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  EXPECT_EQ(cursor_of(*catalog, "public.n"), "3");
  t = status_of(*catalog)["tables"][0];
  EXPECT_EQ(t["cursor_went_backwards"], true);
  EXPECT_EQ(t["upper"], "2");
  std::string backwards = "cursor \"seq\" went backwards: the source's maximum 2 is below the stored cursor 3";
  bool in_warnings = false;
  for (const auto& w : t["warnings"]) in_warnings |= w.get<std::string>().find(backwards) != std::string::npos;
  EXPECT_TRUE(in_warnings) << t.dump();
  EXPECT_NE(logs.text().find(backwards), std::string::npos) << logs.text();

  // Rows above the stored cursor still arrive, and the report clears.
  sb.pg_exec("INSERT INTO n VALUES (6, 10, 'f')");
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running);
  EXPECT_EQ(cursor_of(*catalog, "public.n"), "10");
  EXPECT_EQ(status_of(*catalog)["tables"][0]["cursor_went_backwards"], false);
  EXPECT_EQ(ch_live(sb, "n", "toString(id)"), (Rows{{"1"}, {"2"}, {"3"}, {"6"}}));
}

// initial_value: the first run copies only rows above it.
TEST(Incremental, InitialValueSkipsOlderRows) {
  Sandbox sb("inc_initial");
  sb.pg_exec("CREATE TABLE e (id integer PRIMARY KEY, at date NOT NULL);"
             "INSERT INTO e VALUES (1, '2023-12-31'), (2, '2024-01-01'), (3, '2024-01-02');");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("public.e", "at", "2024-01-01")});
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  EXPECT_EQ(ch_live(sb, "e", "toString(id)"), (Rows{{"3"}}));
  EXPECT_EQ(cursor_of(*catalog, "public.e"), "2024-01-02");
}

// Without --once the runner waits `schedule` between runs and stays Running.
TEST(Incremental, ScheduledRunsKeepThePipeRunning) {
  Sandbox sb("inc_sched");
  sb.pg_exec("CREATE TABLE s (id integer PRIMARY KEY); INSERT INTO s VALUES (1);");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("public.s", "id")}, 0ms);
  pipe.settings.schedule = Millis(1500);
  std::atomic<bool> stop{false};
  PipeState result = PipeState::Provisioning;
  std::thread runner([&] {
    RunnerOptions opts;
    opts.stop = &stop;
    PipeRunner r(*catalog, pipe, sb.pg_peer(), sb.ch_peer(), opts);
    result = r.run();
  });
  auto wait_run = [&](int n) {
    return eventually([&] {
      json st = raw_status(*catalog);
      return st.is_object() && st.contains("last_run") && st["last_run"].value("run", 0) >= n;
    }, 6);
  };
  ASSERT_TRUE(wait_run(1));
  auto t1 = std::chrono::steady_clock::now();
  sb.pg_exec("INSERT INTO s VALUES (2)");
  ASSERT_TRUE(wait_run(2));
  EXPECT_GE(std::chrono::steady_clock::now() - t1, 1000ms);  // waited for the schedule
  EXPECT_EQ(catalog->get_pipe("inc")->state, PipeState::Running);
  EXPECT_TRUE(status_of(*catalog)["next_run_at"].is_string());
  stop = true;
  runner.join();
  EXPECT_EQ(result, PipeState::Running);
  EXPECT_EQ(ch_live(sb, "s", "toString(id)"), (Rows{{"1"}, {"2"}}));
  EXPECT_EQ(states(*catalog), (std::vector<std::string>{"Provisioning", "Setup", "Running"}));
}

// SQLite as the source: a file made here, copied into ClickHouse and kept up to date.
TEST(Incremental, SqliteSourceToClickHouse) {
  Sandbox sb("inc_sqlite");
  std::string path = sb.dir() + "/shop.sqlite";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto exec = [&](const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
  };
  exec(R"SQL(
    CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, qty INTEGER, data BLOB,
                        updated_at DATETIME NOT NULL);
    INSERT INTO items VALUES (1, 'plain', 1.5, 10, x'00ff10', '2024-01-01 10:00:00'),
                             (2, 'tab	and
newline and \ backslash', NULL, NULL, NULL, '2024-01-01 10:00:01'),
                             (3, 'ünïcødé', -0.25, 3, x'', '2024-01-01 10:00:02');
  )SQL");
  PeerSpec lite;
  lite.name = "lite";
  lite.type = PeerType::SQLite;
  lite.dsn = path;
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("items", "updated_at")});
  pipe.source = "lite";
  ASSERT_EQ(run_once(*catalog, pipe, lite, sb.ch_peer()), PipeState::Running) << catalog->get_pipe("inc")->last_error;
  const std::string cols = "toString(id), name, toString(price), toString(qty), hex(data), toString(updated_at)";
  EXPECT_EQ(ch_live(sb, "items", cols),
            (Rows{{"1", "plain", "1.5", "10", "00FF10", "2024-01-01 10:00:00"},
                  {"2", "tab\tand\nnewline and \\ backslash", "\\N", "\\N", "\\N", "2024-01-01 10:00:01"},
                  {"3", "ünïcødé", "-0.25", "3", "", "2024-01-01 10:00:02"}}));
  EXPECT_EQ(cursor_of(*catalog, "items"), "2024-01-01 10:00:02");

  exec("UPDATE items SET name = 'renamed', updated_at = '2024-01-02 00:00:00' WHERE id = 1;"
       "INSERT INTO items VALUES (4, 'four', 4, 4, NULL, '2024-01-02 00:00:01');");
  ASSERT_EQ(run_once(*catalog, pipe, lite, sb.ch_peer()), PipeState::Running) << catalog->get_pipe("inc")->last_error;
  EXPECT_EQ(ch_live(sb, "items", "toString(id), name"),
            (Rows{{"1", "renamed"}, {"2", "tab\tand\nnewline and \\ backslash"}, {"3", "ünïcødé"}, {"4", "four"}}));
  EXPECT_EQ(status_of(*catalog)["last_run"]["rows"], 2);
  EXPECT_EQ(cursor_of(*catalog, "items"), "2024-01-02 00:00:01");
  sqlite3_close(db);
}

// ClickHouse as the source (a ReplacingMergeTree read with FINAL) into another database.
TEST(Incremental, ClickHouseSourceToClickHouse) {
  Sandbox sb("inc_chsrc");
  ClickHouseSourceDatabase source_db(sb);
  const std::string& src_db = source_db.name;
  std::string src = quote_backtick_ident(src_db) + ".events";
  sb.ch("CREATE TABLE " + src +
        " (id UInt64, v String, n Nullable(Int32), amount Decimal(10, 2), d Date, at DateTime) "
        "ENGINE = ReplacingMergeTree ORDER BY id");
  sb.ch("INSERT INTO " + src +
        " VALUES (1, 'one', 1, 1.25, '2024-01-01', '2024-01-01 00:00:01'), "
        "(2, 'tab\\there', NULL, 2.5, '2024-01-02', '2024-01-01 00:00:02'), "
        "(3, 'it\\'s', 3, -3, '2024-01-03', '2024-01-01 00:00:03')");
  PeerSpec chsrc = source_db.peer();
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("events", "at")});
  pipe.source = "chsrc";
  ASSERT_EQ(run_once(*catalog, pipe, chsrc, sb.ch_peer()), PipeState::Running) << catalog->get_pipe("inc")->last_error;
  const std::string cols = "toString(id), v, toString(n), toString(amount), toString(d)";
  auto source_rows = [&] {
    return sb.ch_rows("SELECT " + cols + " FROM " + src + " FINAL ORDER BY id");
  };
  EXPECT_EQ(ch_live(sb, "events", cols), source_rows());
  EXPECT_EQ(cursor_of(*catalog, "events"), "2024-01-01 00:00:03");

  // A new version of row 2 (later cursor) and a new row.
  sb.ch("INSERT INTO " + src +
        " VALUES (2, 'two', 22, 2.5, '2024-01-02', '2024-01-02 00:00:00'), "
        "(4, 'four', 4, 4, '2024-01-04', '2024-01-02 00:00:01')");
  ASSERT_EQ(run_once(*catalog, pipe, chsrc, sb.ch_peer()), PipeState::Running) << catalog->get_pipe("inc")->last_error;
  EXPECT_EQ(ch_live(sb, "events", cols), source_rows());
  EXPECT_EQ(ch_live(sb, "events", "toString(id), v"), (Rows{{"1", "one"}, {"2", "two"}, {"3", "it's"}, {"4", "four"}}));
  EXPECT_EQ(status_of(*catalog)["last_run"]["rows"], 2);
  EXPECT_EQ(cursor_of(*catalog, "events"), "2024-01-02 00:00:01");
}

// `ferry run --once` does one run and exits 0; `ferry pipe status` shows the cursor.
TEST(Incremental, FerryRunOnceExitsAfterOneRun) {
  Sandbox sb("inc_once");
  sb.pg_exec("CREATE TABLE o (id integer PRIMARY KEY, v text, ts timestamp NOT NULL);"
             "INSERT INTO o VALUES (1, 'a', '2024-05-01 12:00:00'), (2, 'b', '2024-05-01 12:00:01.5');");
  std::string config = sb.write_config(R"(
  inc:
    source: src
    destination: dst
    mode: incremental
    tables:
      - { source: public.o, cursor: ts }
    settings: { increment_delay: 1s, schedule: 1h }
)");
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  std::string out;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(run_ferry({"run", "-f", config, "--catalog", catalog_arg, "--once", "--no-progress"}, &out), 0) << out;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 60s);
  EXPECT_NE(out.find("inc: Running"), std::string::npos) << out;
  EXPECT_EQ(ch_live(sb, "o", "toString(id), v"), (Rows{{"1", "a"}, {"2", "b"}}));

  ASSERT_EQ(run_ferry({"pipe", "status", "inc", "--catalog", catalog_arg, "--output", "json"}, &out), 0) << out;
  json st = json::parse(out);
  EXPECT_EQ(st["state"], "Running");
  EXPECT_EQ(st["incremental"]["tables"][0]["cursor"], "2024-05-01 12:00:01.5");
  EXPECT_EQ(st["incremental"]["last_run"]["rows"], 2);
  ASSERT_EQ(run_ferry({"pipe", "status", "inc", "--catalog", catalog_arg}, &out), 0) << out;
  EXPECT_NE(out.find("ts = 2024-05-01 12:00:01.5"), std::string::npos) << out;
  EXPECT_NE(out.find("next run:"), std::string::npos) << out;

  // A second --once copies only what is new.
  sb.pg_exec("INSERT INTO o VALUES (3, 'c', '2024-05-02 00:00:00')");
  ASSERT_EQ(run_ferry({"run", "-f", config, "--catalog", catalog_arg, "--once", "--no-progress"}, &out), 0) << out;
  EXPECT_EQ(ch_live(sb, "o", "toString(id), v"), (Rows{{"1", "a"}, {"2", "b"}, {"3", "c"}}));
}

// A pipe deleted and created again over the same destination tables starts its
// row versions above the ones already there, so its first (full) copy wins.
TEST(Incremental, RecreatedPipeStartsAboveExistingVersions) {
  Sandbox sb("inc_recreate");
  sb.pg_exec("CREATE TABLE r (id integer PRIMARY KEY, v text, ver bigint NOT NULL); INSERT INTO r VALUES (1, 'a', 1);");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("public.r", "ver")}, 0ms);
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running);
  sb.pg_exec("UPDATE r SET v = 'b', ver = 2");
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running);
  ASSERT_EQ(sb.ch_value("SELECT toString(max(_ferry_version)) FROM " + ch_table(sb, "r")), "2");

  catalog->delete_pipe("inc");
  sb.pg_exec("UPDATE r SET v = 'c'");  // the cursor did not grow: only a full copy sees it
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  EXPECT_EQ(ch_live(sb, "r", "toString(id), v, toString(_ferry_version)"), (Rows{{"1", "c", "3"}}));
}

// The ClickHouse source streams answers larger than one chunk.
TEST(Incremental, ClickHouseSourceStreamsLargeRanges) {
  Sandbox sb("inc_chbig");
  ClickHouseSourceDatabase source_db(sb);
  const std::string& src_db = source_db.name;
  std::string src = quote_backtick_ident(src_db) + ".big";
  sb.ch("CREATE TABLE " + src + " (id UInt64, s String, seq Int64) ENGINE = MergeTree ORDER BY id");
  sb.ch("INSERT INTO " + src + " SELECT number, concat(toString(number), '\\t', substring('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 1, number % 50)), number "
        "FROM system.numbers LIMIT 300000");
  PeerSpec chsrc = source_db.peer();
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("big", "seq", "99999")}, 0ms);
  pipe.source = "chsrc";
  ASSERT_EQ(run_once(*catalog, pipe, chsrc, sb.ch_peer()), PipeState::Running) << catalog->get_pipe("inc")->last_error;
  // A MergeTree source has no key: the destination is a plain MergeTree (no FINAL needed).
  EXPECT_EQ(sb.ch_value("SELECT toString(count()) FROM " + ch_table(sb, "big")), "200000");
  EXPECT_EQ(sb.ch_value("SELECT toString(sum(cityHash64(s, toString(id)))) FROM " + ch_table(sb, "big")),
            sb.ch_value("SELECT toString(sum(cityHash64(s, toString(id)))) FROM " + src + " WHERE seq > 99999"));
  EXPECT_EQ(cursor_of(*catalog, "big"), "299999");
}

// Resync of an incremental pipe: the rebuilt table holds exactly the source's rows
// (so deletes the cursor could not see are gone), a new key order_by takes effect, the
// cursor stays, and the next run copies only what changed since the last one.
TEST(Incremental, ResyncRebuildsTheTableAndKeepsTheCursor) {
  Sandbox sb("inc_resync");
  sb.pg_exec(R"SQL(
    CREATE TABLE items (id integer, region int, v text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                        PRIMARY KEY (region, id));
    INSERT INTO items (id, region, v) SELECT g, g % 3, 'v' || g FROM generate_series(1, 50) g;
  )SQL");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = incremental_pipe({mapping("public.items", "updated_at")});
  ASSERT_EQ(run_once(*catalog, pipe, sb.pg_peer(), sb.ch_peer()), PipeState::Running);
  sb.pg_exec("DELETE FROM items WHERE id <= 5");
  auto cursor = cursor_of(*catalog, "public.items");

  PipeSpec changed = pipe;
  changed.tables[0].order_by = {"id"};
  {
    PipeRunner runner(*catalog, changed, sb.pg_peer(), sb.ch_peer());
    auto out = runner.resync("items");
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  ASSERT_EQ(run_once(*catalog, changed, sb.pg_peer(), sb.ch_peer()), PipeState::Running)
      << catalog->get_pipe("inc")->last_error;
  const std::string cols = "toString(id), toString(region), v";
  EXPECT_EQ(ch_live(sb, "items", cols), sb.pg_rows("SELECT id::text, region::text, v FROM items ORDER BY items.id"));
  EXPECT_EQ(cursor_of(*catalog, "public.items"), cursor);  // the run after the resync found nothing new
  std::string ddl = sb.ch_value("SHOW CREATE TABLE " + ch_table(sb, "items"));
  EXPECT_NE(ddl.find("ORDER BY (id, region)"), std::string::npos) << ddl;

  sb.pg_exec("UPDATE items SET v = 'later', updated_at = clock_timestamp() WHERE id = 10");
  ASSERT_EQ(run_once(*catalog, changed, sb.pg_peer(), sb.ch_peer()), PipeState::Running);
  EXPECT_EQ(status_of(*catalog)["last_run"]["rows"], 1);
  EXPECT_EQ(ch_live(sb, "items", cols), sb.pg_rows("SELECT id::text, region::text, v FROM items ORDER BY items.id"));
  std::vector<std::string> want = {"Provisioning", "Setup", "Running", "Snapshot", "Resync", "Running"};
  EXPECT_EQ(states(*catalog), want);
}

// PostgreSQL -> Kafka against the real servers (scripts/test-servers starts the broker):
// snapshot + CDC under a live workload with kill -9 of `ferry run`, and a broker restart
// mid-stream. A consumer (kafka_support.h) rebuilds the table from the envelopes by key and
// must end equal to the source value by value, with per key positions that only go back for
// exact replays.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <variant>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "connectors/api/destination.h"
#include "connectors/postgres/pg_connection.h"
#include "core/check.h"
#include "pipe/precheck.h"
#include "pipe/runner.h"
#include "incremental_support.h"
#include "kafka_support.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kColumns = {"id", "balance", "note"};

// Transfers between random accounts plus an insert and a delete per transaction.
class Workload {
 public:
  explicit Workload(Sandbox& sb) : thread_([this, dsn = sb.pg_dsn()] { run(dsn); }) {}
  ~Workload() { stop(); }
  void stop() {
    writing_ = false;
    if (thread_.joinable()) thread_.join();
  }
  int transactions() const { return done_; }

 private:
  void run(const std::string& dsn) {
    PgConnection conn(dsn, "");
    std::mt19937 rng(42);
    int next_id = 100000;
    while (writing_) {
      int a = 1 + rng() % 2000, b = 1 + rng() % 2000;
      conn.exec(fmt::format("BEGIN; UPDATE acc SET balance = balance - 1 WHERE id = {0}; "
                            "UPDATE acc SET balance = balance + 1, note = note || '+' WHERE id = {1}; "
                            "INSERT INTO acc VALUES ({2}, 0, 'fresh \"q\" \\ tab\t'); "
                            "DELETE FROM acc WHERE id = {2} - 3 AND id > 100000; COMMIT;",
                            a, b, next_id++));
      ++done_;
      std::this_thread::sleep_for(2ms);
    }
  }
  std::atomic<bool> writing_{true};
  std::atomic<int> done_{0};
  std::thread thread_;
};

// Waits until the topic rebuilt equals the source table; returns the last rebuild.
::testing::AssertionResult topic_converges(Sandbox& sb, const std::string& topic, RebuiltTable& last,
                                           int seconds = 120, const std::string& table = "acc") {
  std::map<std::string, std::map<std::string, std::string>> source;
  bool same = eventually([&] {
    source = pg_table(sb, table, kColumns, "id");
    last = rebuild(read_topic(topic));
    return last.rows == source;
  }, seconds, 500ms);
  if (same) return ::testing::AssertionSuccess();
  size_t missing = 0, differ = 0, extra = 0;
  std::string example;
  for (const auto& [k, row] : source) {
    auto it = last.rows.find(k);
    if (it == last.rows.end()) ++missing;
    else if (it->second != row) {
      ++differ;
      if (example.empty()) example = k;
    }
  }
  for (const auto& [k, _] : last.rows) extra += source.count(k) == 0;
  return ::testing::AssertionFailure() << "topic " << topic << " rebuilt differs from the source: " << missing
                                       << " keys missing, " << extra << " extra, " << differ << " differ (e.g. "
                                       << example << ")";
}

void setup_accounts(Sandbox& sb) {
  sb.pg_exec("CREATE TABLE acc (id int PRIMARY KEY, balance bigint, note text);"
             "INSERT INTO acc SELECT g, 1000, 'n' || g FROM generate_series(1, 2000) g;");
}

const char* kPipe = R"(
  tokafka:
    source: src
    destination: bus
    mode: snapshot+cdc
    tables: [ public.acc ]
    settings: { sync_interval: 200ms, batch_size: 500, snapshot_rows_per_partition: 500 }
)";

}  // namespace

TEST(PgToKafka, SnapshotAndCdcSurviveKillNine) {
  Sandbox sb("kafkakill");
  setup_accounts(sb);
  std::string config = write_kafka_config(sb, kPipe);
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  const std::string topic = sb.name() + ".public.acc";

  // The first run loads the snapshot (op r), then streams.
  pid_t pid = spawn_ferry_run(config, catalog_arg);
  {
    auto catalog = open_catalog(sb.catalog_path());
    ASSERT_TRUE(reaches_state(*catalog, "tokafka", PipeState::Running, 120));
  }
  Workload load(sb);
  std::mt19937 rng(7);
  for (int round = 0; round < 4; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700 + rng() % 1500));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = spawn_ferry_run(config, catalog_arg);
  }
  std::this_thread::sleep_for(500ms);
  load.stop();
  ASSERT_GT(load.transactions(), 100);

  RebuiltTable rebuilt;
  EXPECT_TRUE(topic_converges(sb, topic, rebuilt));
  EXPECT_TRUE(stop_ferry_run(pid));
  EXPECT_TRUE(rebuilt.violations.empty()) << rebuilt.violations.size() << " violations, first: "
                                          << (rebuilt.violations.empty() ? "" : rebuilt.violations[0]);
  EXPECT_GT(rebuilt.tombstones, 0);
  std::cout << "messages " << rebuilt.messages << ", replayed duplicates " << rebuilt.duplicates << ", tombstones "
            << rebuilt.tombstones << ", transactions " << load.transactions() << "\n";

  // Snapshot rows are op r at the snapshot's position, one per source row at load time.
  int64_t reads = 0;
  for (const auto& m : read_topic(topic))
    if (m.has_value && m.value.find(R"("op":"r")") != std::string::npos) ++reads;
  EXPECT_GE(reads, 2000);
}

// The broker restarts while changes stream: deliveries wait or fail as Transient, the pipe
// retries, and the rebuilt topic still equals the source.
TEST(PgToKafka, BrokerRestartMidStreamLosesNothing) {
  Sandbox sb("kafkarestart");
  setup_accounts(sb);
  std::string config = write_kafka_config(sb, kPipe);
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  const std::string topic = sb.name() + ".public.acc";
  pid_t pid = spawn_ferry_run(config, catalog_arg);
  {
    auto catalog = open_catalog(sb.catalog_path());
    ASSERT_TRUE(reaches_state(*catalog, "tokafka", PipeState::Running, 120));
  }
  Workload load(sb);
  std::this_thread::sleep_for(1s);
  std::string restart = std::string(FERRY_FIXTURES_DIR) + "/../../scripts/kafka-server restart '" +
                        env_or_fail("FERRY_SERVERS_DIR") + "' >/dev/null";
  ASSERT_EQ(std::system(restart.c_str()), 0) << restart;
  std::this_thread::sleep_for(1s);
  load.stop();

  RebuiltTable rebuilt;
  EXPECT_TRUE(topic_converges(sb, topic, rebuilt, 180));
  EXPECT_TRUE(stop_ferry_run(pid)) << "ferry did not survive the broker restart";
  EXPECT_TRUE(rebuilt.violations.empty()) << rebuilt.violations.size() << " violations, first: "
                                          << (rebuilt.violations.empty() ? "" : rebuilt.violations[0]);
}

namespace {

PeerSpec kafka_peer(const Sandbox& sb, std::map<std::string, std::string> options = {}) {
  PeerSpec p;
  p.name = "bus";
  p.type = PeerType::Kafka;
  p.options = {{"bootstrap_servers", kafka_bootstrap()}, {"topic_prefix", sb.name()}, {"partitions", "2"}};
  for (auto& [k, v] : options) p.options[k] = v;
  return p;
}

PipeSpec kafka_pipe(const std::vector<std::string>& tables) {
  PipeSpec p;
  p.name = "pc";
  p.source = "src";
  p.destination = "bus";
  p.mode = PipeMode::SnapshotCdc;
  for (const auto& t : tables) p.tables.push_back({t, t.substr(t.find('.') + 1)});
  return p;
}

const CheckResult* check_named(const PrecheckReport& r, const std::string& name) {
  for (const auto& c : r.checks)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

// The pre-check names the broker and each topic: to be created, missing (create_topics:
// false), or existing with its partitions and cleanup.policy; an unreachable broker fails.
TEST(PgToKafka, PrecheckReportsBrokerAndTopics) {
  Sandbox sb("kafkacheck");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');");
  const std::string topic_item = "topic " + sb.name() + ".public.t";

  PrecheckReport r = run_precheck(kafka_pipe({"public.t"}), sb.pg_peer(), kafka_peer(sb), true);
  const CheckResult* conn = check_named(r, "destination connectivity");
  ASSERT_NE(conn, nullptr) << r.to_text();
  EXPECT_EQ(conn->status, CheckResult::Pass) << r.to_text();
  const CheckResult* topic = check_named(r, topic_item);
  ASSERT_NE(topic, nullptr) << r.to_text();
  EXPECT_EQ(topic->status, CheckResult::Pass);
  EXPECT_NE(topic->reason.find("will be created: 2 partitions, cleanup.policy delete"), std::string::npos)
      << topic->reason;

  r = run_precheck(kafka_pipe({"public.t"}), sb.pg_peer(), kafka_peer(sb, {{"create_topics", "false"}}), true);
  topic = check_named(r, topic_item);
  ASSERT_NE(topic, nullptr) << r.to_text();
  EXPECT_EQ(topic->status, CheckResult::Fail);
  EXPECT_FALSE(r.ok(true));

  // ensure_table creates it with the peer's settings; the pre-check then reads them back.
  auto dest = make_destination(kafka_peer(sb, {{"cleanup_policy", "compact"}}));
  TableSchema schema;
  schema.schema = "public";
  schema.name = "t";
  Column id;
  id.name = "id";
  id.key_position = 1;
  schema.columns.push_back(id);
  dest->ensure_table(schema, DestinationTable{"t"});
  r = run_precheck(kafka_pipe({"public.t"}), sb.pg_peer(), kafka_peer(sb, {{"create_topics", "false"}}), true);
  topic = check_named(r, topic_item);
  ASSERT_NE(topic, nullptr) << r.to_text();
  EXPECT_EQ(topic->status, CheckResult::Pass) << r.to_text();
  EXPECT_NE(topic->reason.find("exists: 2 partitions, cleanup.policy compact"), std::string::npos) << topic->reason;

  // A keyless table cannot be keyed: Config, naming the table.
  TableSchema keyless = schema;
  keyless.columns[0].key_position = 0;
  try {
    dest->ensure_table(keyless, DestinationTable{"t"});
    ADD_FAILURE() << "a keyless table was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("public.t has no primary key"), std::string::npos) << e.what();
  }

  PeerSpec nowhere = kafka_peer(sb, {{"bootstrap_servers", fmt::format("127.0.0.1:{}", free_loopback_port())}});
  r = run_precheck(kafka_pipe({"public.t"}), sb.pg_peer(), nowhere, true);
  conn = check_named(r, "destination connectivity");
  ASSERT_NE(conn, nullptr) << r.to_text();
  EXPECT_EQ(conn->status, CheckResult::Fail) << r.to_text();
}

// Lifecycle on a kafka destination: pause, reset with clearing refused before anything
// changes (a log has no tables to clear), reset republishes the snapshot (op r) into the same
// topic, and the rebuilt topic still equals the source.
TEST(PgToKafka, PauseResetRepublishes) {
  Sandbox sb("kafkalife");
  sb.pg_exec("CREATE TABLE acc (id int PRIMARY KEY, balance bigint, note text);"
             "INSERT INTO acc SELECT g, g, 'n' || g FROM generate_series(1, 300) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = kafka_pipe({"public.acc"});
  pipe.name = "life";
  pipe.settings.sync_interval = Millis(200);
  pipe.settings.max_retries = 0;
  const std::string topic = sb.name() + ".public.acc";
  auto count_reads = [&] {
    int64_t n = 0;
    for (const auto& m : read_topic(topic)) n += m.has_value && m.value.find(R"("op":"r")") != std::string::npos;
    return n;
  };
  auto run_until = [&](PipeState wanted, const std::function<void(PipeRunner&)>& then) {
    std::atomic<bool> stop{false};
    RunnerOptions opts;
    opts.stop = &stop;
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), kafka_peer(sb), opts);
    std::thread t([&] { runner.run(); });
    bool reached = reaches_state(*catalog, "life", wanted, 90);
    if (reached) then(runner);
    stop = true;
    t.join();
    return reached;
  };

  ASSERT_TRUE(run_until(PipeState::Running, [&](PipeRunner& r) {
    sb.pg_exec("UPDATE acc SET note = 'streamed' WHERE id <= 10; DELETE FROM acc WHERE id = 300;");
    RebuiltTable rebuilt;
    EXPECT_TRUE(topic_converges(sb, topic, rebuilt, 60));
    EXPECT_TRUE(std::holds_alternative<Accepted>(r.request_pause()));
    EXPECT_TRUE(reaches_state(*catalog, "life", PipeState::Paused, 30));
  }));
  EXPECT_EQ(count_reads(), 300);
  {
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), kafka_peer(sb));
    std::string checkpoint = *catalog->checkpoint("life", "");
    ActionOutcome out = runner.reset(true, true);
    ASSERT_TRUE(std::holds_alternative<Refusal>(out));
    EXPECT_NE(std::get<Refusal>(out).message.find("cannot clear its tables"), std::string::npos)
        << std::get<Refusal>(out).message;
    EXPECT_EQ(*catalog->checkpoint("life", ""), checkpoint);  // nothing was forgotten
    EXPECT_EQ(catalog->get_pipe("life")->state, PipeState::Paused);
    sb.pg_exec("UPDATE acc SET balance = -1 WHERE id = 20");  // while paused
    out = runner.reset(false, true);
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  ASSERT_TRUE(run_until(PipeState::Running, [&](PipeRunner&) {
    sb.pg_exec("INSERT INTO acc VALUES (1000, 0, 'after reset')");
    RebuiltTable rebuilt;
    EXPECT_TRUE(topic_converges(sb, topic, rebuilt, 60));
    EXPECT_TRUE(rebuilt.violations.empty()) << rebuilt.violations[0];
  }));
  EXPECT_EQ(count_reads(), 300 + 299);  // the first snapshot and the reset's
}

// A resync under live writes publishes the snapshot again (op r) into the same topic while
// nothing is swapped: the changes up to the resync's snapshot point come before its rows and
// the later ones after them, so every key's messages stay in position order (exact replays
// aside) and the rebuilt topic equals the source.
TEST(PgToKafka, ResyncRepublishesInPositionOrderUnderLiveWrites) {
  Sandbox sb("kafkaresync");
  setup_accounts(sb);
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = kafka_pipe({"public.acc"});
  pipe.name = "rs";
  pipe.settings.sync_interval = Millis(200);
  pipe.settings.snapshot_rows_per_partition = 300;
  const std::string topic = sb.name() + ".public.acc";
  auto run_until_running = [&](const std::function<void()>& then) {
    std::atomic<bool> stop{false};
    RunnerOptions opts;
    opts.stop = &stop;
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), kafka_peer(sb), opts);
    std::thread t([&] { runner.run(); });
    bool reached = reaches_state(*catalog, "rs", PipeState::Running, 120);
    if (reached) then();
    stop = true;
    t.join();
    return reached;
  };
  Workload load(sb);
  ASSERT_TRUE(run_until_running([] { std::this_thread::sleep_for(1s); }));
  {
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), kafka_peer(sb));
    ActionOutcome out = runner.resync("");
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  std::this_thread::sleep_for(500ms);  // changes the resync finds after the checkpoint
  ASSERT_TRUE(run_until_running([] { std::this_thread::sleep_for(1s); }));  // and changes after it
  load.stop();
  EXPECT_GT(load.transactions(), 0);
  EXPECT_EQ(catalog->get_meta("rs", "resync").value_or(""), "");

  ASSERT_TRUE(run_until_running([&] {
    RebuiltTable rebuilt;
    EXPECT_TRUE(topic_converges(sb, topic, rebuilt, 120));
    EXPECT_TRUE(rebuilt.violations.empty()) << rebuilt.violations.size() << " violations, first: "
                                            << (rebuilt.violations.empty() ? "" : rebuilt.violations[0]);
  }));
  int64_t reads = 0;
  for (const auto& m : read_topic(topic)) reads += m.has_value && m.value.find(R"("op":"r")") != std::string::npos;
  EXPECT_GE(reads, 2000 * 2) << "the first snapshot and the resync's";
  bool history_names_it = false;
  for (const auto& h : catalog->history("rs"))
    history_names_it |= h.reason.find("published again into the same targets") != std::string::npos;
  EXPECT_TRUE(history_names_it);
}

// Tables added to and removed from a streaming pipe under live writes to both: the added
// table's snapshot rows land between the changes up to their point and the later ones (its
// topic rebuilds equal, in position order), the other table streams on; after the removal the
// removed table's topic gets nothing more.
TEST(PgToKafka, AddAndRemoveTablesUnderLiveWrites) {
  Sandbox sb("kafkaadd");
  setup_accounts(sb);
  sb.pg_exec("CREATE TABLE acc2 (id int PRIMARY KEY, balance bigint, note text);"
             "INSERT INTO acc2 SELECT g, 5, 'm' || g FROM generate_series(1, 3000) g;");
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec one = kafka_pipe({"public.acc"});
  one.name = "ad";
  one.settings.sync_interval = Millis(200);
  one.settings.snapshot_rows_per_partition = 400;
  PipeSpec two = one;
  two.tables.push_back({"public.acc2", "acc2"});
  auto run_until_running = [&](const PipeSpec& spec, const std::function<void()>& then) {
    std::atomic<bool> stop{false};
    RunnerOptions opts;
    opts.stop = &stop;
    PipeRunner runner(*catalog, spec, sb.pg_peer(), kafka_peer(sb), opts);
    std::thread t([&] { runner.run(); });
    bool reached = reaches_state(*catalog, "ad", PipeState::Running, 120);
    if (reached) then();
    stop = true;
    t.join();
    return reached;
  };
  std::atomic<bool> writing{true};
  std::thread acc2_writer([&] {
    PgConnection conn(sb.pg_dsn(), "");
    for (int i = 0; writing; ++i) {
      conn.exec(fmt::format("UPDATE acc2 SET balance = balance + 1, note = note || '.' WHERE id = {}; "
                            "DELETE FROM acc2 WHERE id = {}; INSERT INTO acc2 VALUES ({}, 0, 'new')",
                            1 + i % 3000, 3000 - i % 1500, 10000 + i));
      std::this_thread::sleep_for(3ms);
    }
  });
  const std::string acc_topic = sb.name() + ".public.acc", acc2_topic = sb.name() + ".public.acc2";
  {
    Workload load(sb);
    ASSERT_TRUE(run_until_running(one, [] { std::this_thread::sleep_for(500ms); }));
    {
      PipeRunner runner(*catalog, two, sb.pg_peer(), kafka_peer(sb));
      ActionOutcome out = runner.change_tables({"public.acc2"}, {});
      ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
    }
    std::this_thread::sleep_for(500ms);
    ASSERT_TRUE(run_until_running(two, [] { std::this_thread::sleep_for(1s); }));
    EXPECT_EQ(catalog->get_meta("ad", "adding").value_or(""), "");
  }
  writing = false;
  acc2_writer.join();
  ASSERT_TRUE(run_until_running(two, [&] {
    for (const auto& [topic, table] : {std::pair{acc_topic, "acc"}, std::pair{acc2_topic, "acc2"}}) {
      RebuiltTable rebuilt;
      EXPECT_TRUE(topic_converges(sb, topic, rebuilt, 120, table));
      EXPECT_TRUE(rebuilt.violations.empty()) << topic << ": " << rebuilt.violations.size()
                                              << " violations, first: "
                                              << (rebuilt.violations.empty() ? "" : rebuilt.violations[0]);
    }
  }));

  PipeSpec only_acc = one;
  {
    PipeRunner runner(*catalog, only_acc, sb.pg_peer(), kafka_peer(sb));
    ActionOutcome out = runner.change_tables({}, {"public.acc2"});
    ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
  }
  EXPECT_EQ(catalog->tables("ad").size(), 1u);
  size_t acc2_messages = read_topic(acc2_topic).size();
  ASSERT_TRUE(run_until_running(only_acc, [&] {
    sb.pg_exec("UPDATE acc2 SET note = 'not published' WHERE id <= 10; UPDATE acc SET note = 'published' WHERE id <= 10");
    RebuiltTable rebuilt;
    EXPECT_TRUE(topic_converges(sb, acc_topic, rebuilt, 60));  // acc's later change arrived, so acc2's would have
  }));
  EXPECT_EQ(read_topic(acc2_topic).size(), acc2_messages);
}

// Incremental copies into Kafka: each run publishes the rows whose cursor grew as `r`
// messages with the run as position; a pipe recreated over the same topic (a fresh catalog)
// starts its runs above the topic's highest position, read back from the topic, so each
// key's positions keep growing and a consumer that keeps the highest one ends equal.
TEST(PgToKafka, IncrementalRunsPublishAboveTheTopicsPositions) {
  Sandbox sb("kafkainc");
  sb.pg_exec("CREATE TABLE items (id int PRIMARY KEY, balance bigint, note text, ver bigint NOT NULL);"
             "INSERT INTO items SELECT g, g, 'n' || g, 1 FROM generate_series(1, 500) g;");
  const std::vector<std::string> columns = {"id", "balance", "note", "ver"};
  const std::string topic = sb.name() + ".public.items";
  PipeSpec pipe = incremental_pipe({mapping("public.items", "ver")}, 0ms);
  pipe.destination = "bus";
  auto converges = [&] {
    RebuiltTable rebuilt = rebuild(read_topic(topic));
    EXPECT_TRUE(rebuilt.violations.empty()) << rebuilt.violations.size() << " violations, first: "
                                            << (rebuilt.violations.empty() ? "" : rebuilt.violations[0]);
    return rebuilt.rows == pg_table(sb, "items", columns, "id");
  };
  {
    auto catalog = open_catalog(sb.catalog_path());
    EXPECT_EQ(run_once(*catalog, pipe, sb.pg_peer(), kafka_peer(sb)), PipeState::Running);
    EXPECT_TRUE(converges());
    sb.pg_exec("UPDATE items SET balance = -balance, ver = 2 WHERE id <= 50; INSERT INTO items VALUES (501, 0, 'new', 2)");
    EXPECT_EQ(run_once(*catalog, pipe, sb.pg_peer(), kafka_peer(sb)), PipeState::Running);
    EXPECT_TRUE(converges());
  }
  int64_t messages = static_cast<int64_t>(read_topic(topic).size());
  EXPECT_EQ(messages, 500 + 51);
  // The same pipe made again from nothing: its first run copies every row again.
  std::remove(sb.catalog_path().c_str());
  sb.pg_exec("UPDATE items SET note = 'after the recreation', ver = 3 WHERE id BETWEEN 40 AND 60");
  {
    auto catalog = open_catalog(sb.catalog_path());
    EXPECT_EQ(run_once(*catalog, pipe, sb.pg_peer(), kafka_peer(sb)), PipeState::Running);
    EXPECT_TRUE(converges());
  }
  EXPECT_EQ(static_cast<int64_t>(read_topic(topic).size()), messages + 501);
}

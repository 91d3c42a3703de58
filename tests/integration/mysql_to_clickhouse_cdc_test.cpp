// snapshot+cdc pipes from MariaDB 10.11 into ClickHouse 18.16 against the real servers:
// a live mixed workload (inserts, updates, key updates, deletes, multi-statement
// transactions) during the load and the stream, binlog rotations, pause/resume, and
// kill -9 of `ferry run` at random points; the destination converges exactly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "connectors/mysql/mysql_connection.h"
#include "core/ident.h"
#include "pipe/runner.h"
#include "cdc_support.h"
#include "mysql_support.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

// Random transactions on tables a and b until stopped; sometimes rotates the binlog.
class Workload {
 public:
  Workload(const PeerSpec& peer, int seed, bool rotate) : peer_(peer), seed_(seed), rotate_(rotate) {
    thread_ = std::thread([this] { run(); });
  }
  ~Workload() { stop(); }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }
  int transactions() const { return done_; }
  std::string error() const { return error_; }

 private:
  void run() {
    try {
      auto conn = mysql::MysqlConnection::open(peer_);
      std::mt19937 rng(seed_);
      int next_id = 100000 * seed_;
      while (running_) {
        int k = int(rng() % 3000) + 1;
        switch (rng() % 6) {
          case 0:
            conn->exec(fmt::format("INSERT INTO a VALUES ({}, 'new {}', {})", next_id, next_id, rng() % 1000));
            ++next_id;
            break;
          case 1:
            conn->exec(fmt::format("UPDATE a SET v = CONCAT(v, '+'), n = n + 1 WHERE id = {}", k));
            break;
          case 2:
            conn->exec(fmt::format("DELETE FROM a WHERE id = {}", k));
            break;
          case 3:  // key update (moves a row, unless the new key is taken)
            conn->exec(fmt::format("UPDATE IGNORE a SET id = {} WHERE id = {}", next_id++, k));
            break;
          case 4:
            conn->exec("BEGIN");
            conn->exec(fmt::format("UPDATE a SET n = n - 5 WHERE id = {}", k));
            conn->exec(fmt::format("INSERT INTO b VALUES ({}, 'b{}') ON DUPLICATE KEY UPDATE w = CONCAT(w, '!')",
                                   k, k));
            conn->exec(fmt::format("DELETE FROM b WHERE id = {}", (k * 7) % 3000));
            conn->exec(fmt::format("UPDATE a SET v = 'tx' WHERE id = {}", (k * 3) % 3000));
            conn->exec("COMMIT");
            break;
          default:
            if (rotate_ && rng() % 20 == 0) conn->exec("FLUSH BINARY LOGS");
            else conn->exec(fmt::format("UPDATE b SET w = CONCAT(w, '.') WHERE id = {}", k));
        }
        ++done_;
        std::this_thread::sleep_for(1ms);
      }
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }
  PeerSpec peer_;
  int seed_;
  bool rotate_;
  std::atomic<bool> running_{true};
  std::atomic<int> done_{0};
  std::string error_;
  std::thread thread_;
};

void create_tables(MysqlDatabase& db) {
  db.exec("CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(200) NOT NULL, n BIGINT NOT NULL)");
  db.exec("CREATE TABLE b (id INT PRIMARY KEY, w VARCHAR(200) NOT NULL)");
  db.exec("INSERT INTO a SELECT seq, CONCAT('a', seq), seq FROM seq_1_to_3000");
  db.exec("INSERT INTO b SELECT seq, CONCAT('b', seq) FROM seq_1_to_1000");
}

}  // namespace

TEST(MysqlToClickHouseCdc, LiveWorkloadRotationPauseResumeConverge) {
  Sandbox sb("mycdc");
  MysqlDatabase db(sb);
  create_tables(db);
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec spec = pg_to_ch_pipe("mycdc", {db.name() + ".a", db.name() + ".b"});
  spec.settings.snapshot_rows_per_partition = 500;
  Workload work(db.peer(), 1, /*rotate=*/true);
  int files_before = int(db.rows("SHOW BINARY LOGS").size());
  {
    BackgroundPipe pipe(sb, *catalog, spec, db.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    ASSERT_TRUE(eventually([&] { return work.transactions() > 1500; }));
    EXPECT_EQ(pipe.pause(), PipeState::Paused);
  }
  // Changes while paused, then resume.
  ASSERT_TRUE(eventually([&] { return work.transactions() > 2500; }));
  db.exec("FLUSH BINARY LOGS");
  {
    PipeRunner resumer(*catalog, spec, db.peer(), sb.ch_peer(), RunnerOptions{});
    ASSERT_TRUE(std::holds_alternative<Accepted>(resumer.resume()));
  }
  {
    BackgroundPipe pipe(sb, *catalog, spec, db.peer());
    ASSERT_TRUE(pipe.wait_for(PipeState::Running));
    ASSERT_TRUE(eventually([&] { return work.transactions() > 3500; }));
    work.stop();
    ASSERT_EQ(work.error(), "");
    EXPECT_TRUE(mysql_converges(sb, db, "a", {"id", "v", "n"}));
    EXPECT_TRUE(mysql_converges(sb, db, "b", {"id", "w"}));
    EXPECT_EQ(pipe.stop(), PipeState::Running);
  }
  EXPECT_GT(int(db.rows("SHOW BINARY LOGS").size()), files_before + 1);  // the stream crossed rotations
  // The checkpoint is a binlog position of this server.
  auto cp = catalog->checkpoint("mycdc", "");
  ASSERT_TRUE(cp.has_value());
  EXPECT_NE(cp->find("binlog."), std::string::npos) << *cp;
}

TEST(MysqlToClickHouseCdc, KillNineTenTimesUnderLiveLoadConverges) {
  Sandbox sb("mykill");
  MysqlDatabase db(sb);
  create_tables(db);
  std::string config = db.write_config(sb, fmt::format(R"(
  mykill:
    source: src
    destination: dst
    mode: snapshot+cdc
    tables: [ {0}.a, {0}.b ]
    settings: {{ sync_interval: 200ms, batch_size: 300, snapshot_rows_per_partition: 500 }}
)", db.name()));
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  Workload work(db.peer(), 2, /*rotate=*/true);
  kill_nine_rounds(config, catalog_arg, 10, 11, 300, 1500);
  work.stop();
  ASSERT_EQ(work.error(), "");
  pid_t pid = spawn_ferry_run(config, catalog_arg);
  EXPECT_TRUE(mysql_converges(sb, db, "a", {"id", "v", "n"}, 120s));
  EXPECT_TRUE(mysql_converges(sb, db, "b", {"id", "w"}, 120s));
  EXPECT_TRUE(stop_ferry_run(pid));
}

TEST(MysqlToClickHouseCdc, CdcModeStartsAtTheCurrentPosition) {
  Sandbox sb("mycdconly");
  MysqlDatabase db(sb);
  create_tables(db);  // rows before the pipe: not loaded in mode cdc
  auto catalog = open_catalog(sb.catalog_path());
  // A bare table name belongs to the peer's database (Source::default_schema) in the stream too.
  PipeSpec spec = pg_to_ch_pipe("mycdconly", {"a"}, PipeMode::Cdc);
  BackgroundPipe pipe(sb, *catalog, spec, db.peer());
  ASSERT_TRUE(pipe.wait_for(PipeState::Running));
  db.exec("INSERT INTO a VALUES (5001, 'after', 1)");
  db.exec("UPDATE a SET v = 'changed' WHERE id = 7");
  db.exec("DELETE FROM a WHERE id = 5001");
  db.exec("INSERT INTO a VALUES (5002, 'kept', 2)");
  std::string table = quote_backtick_ident(sb.name()) + ".a";
  ASSERT_TRUE(eventually([&] {
    return sb.ch_rows("SELECT toString(id), v FROM " + table + " FINAL WHERE _ferry_is_deleted = 0 ORDER BY id") ==
           Rows{{"7", "changed"}, {"5002", "kept"}};
  }));
  EXPECT_EQ(pipe.stop(), PipeState::Running);
}


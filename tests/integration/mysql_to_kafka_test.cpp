// MariaDB -> Kafka against the real servers: snapshot + binlog CDC under a live workload with
// kill -9 of `ferry run` and a resync between two of them; the consumer of kafka_support.h rebuilds the table from the topic,
// equal to the source value by value, positions per key going back only for exact replays.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "connectors/mysql/mysql_connection.h"
#include "pipe/runner.h"
#include "pipe/spec_json.h"
#include "kafka_support.h"
#include "mysql_support.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;

TEST(MysqlToKafka, SnapshotAndBinlogCdcSurviveKillNine) {
  Sandbox sb("mykafka");
  MysqlDatabase db(sb);
  db.exec("CREATE TABLE acc (id INT PRIMARY KEY, balance BIGINT NOT NULL, note VARCHAR(2000))");
  db.exec("INSERT INTO acc SELECT seq, 1000, CONCAT('n', seq) FROM seq_1_to_2000");
  PeerSpec src = db.peer();
  std::string config = write_file(
      sb.dir() + "/ferry.yaml",
      fmt::format("peers:\n  src: {{ type: mysql, host: \"{}\", port: {}, user: \"{}\", database: \"{}\" }}\n"
                  "  bus: {{ type: kafka, bootstrap_servers: \"{}\", topic_prefix: \"{}\", partitions: 3 }}\n"
                  "pipes:\n  mytokafka:\n    source: src\n    destination: bus\n    mode: snapshot+cdc\n"
                  "    tables: [ {}.acc ]\n"
                  "    settings: {{ sync_interval: 200ms, batch_size: 300, snapshot_rows_per_partition: 500 }}\n",
                  src.host, src.port, src.user, src.database, kafka_bootstrap(), sb.name(), db.name()));
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  const std::string topic = sb.name() + "." + db.name() + ".acc";

  pid_t pid = spawn_ferry_run(config, catalog_arg);
  {
    auto catalog = open_catalog(sb.catalog_path());
    ASSERT_TRUE(reaches_state(*catalog, "mytokafka", PipeState::Running, 120));
  }
  std::atomic<bool> writing{true};
  std::atomic<int> transactions{0};
  std::string writer_error;
  std::thread writer([&] {
    try {
      auto conn = mysql::MysqlConnection::open(src);
      std::mt19937 rng(5);
      int next_id = 100000;
      while (writing) {
        int a = 1 + rng() % 2000, b = 1 + rng() % 2000;
        conn->exec("START TRANSACTION");
        conn->exec(fmt::format("UPDATE acc SET balance = balance - 1 WHERE id = {}", a));
        conn->exec(fmt::format("UPDATE acc SET balance = balance + 1, note = CONCAT(note, '+') WHERE id = {}", b));
        conn->exec(fmt::format("INSERT INTO acc VALUES ({}, 0, 'fresh \"q\" \\\\ tab\\t')", next_id));
        conn->exec(fmt::format("DELETE FROM acc WHERE id = {} AND id > 100000", next_id - 3));
        conn->exec("COMMIT");
        ++next_id;
        ++transactions;
        std::this_thread::sleep_for(2ms);
      }
    } catch (const std::exception& e) {
      writer_error = e.what();
    }
  });
  std::mt19937 rng(9);
  for (int round = 0; round < 4; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700 + rng() % 1500));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    if (round == 1) {  // a resync, which the next process carries out (killed in its load or later)
      auto catalog = open_catalog(sb.catalog_path());
      PeerSpec bus;
      bus.name = "bus";
      bus.type = PeerType::Kafka;
      bus.options = {{"bootstrap_servers", kafka_bootstrap()}, {"topic_prefix", sb.name()}, {"partitions", "3"}};
      PipeRunner runner(*catalog, pipe_spec_from_json(catalog->get_pipe("mytokafka")->spec_json), src, bus);
      ActionOutcome out = runner.resync("");
      ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
    }
    pid = spawn_ferry_run(config, catalog_arg);
  }
  std::this_thread::sleep_for(500ms);
  writing = false;
  writer.join();
  ASSERT_EQ(writer_error, "");
  ASSERT_GT(transactions.load(), 100);

  std::map<std::string, std::map<std::string, std::string>> source;
  RebuiltTable rebuilt;
  bool same = eventually([&] {
    source.clear();
    for (const auto& r : db.rows("SELECT CAST(id AS CHAR), CAST(balance AS CHAR), note FROM acc"))
      source[nlohmann::json{{"id", r[0]}}.dump()] = {{"id", r[0]}, {"balance", r[1]}, {"note", r[2]}};
    rebuilt = rebuild(read_topic(topic));
    return rebuilt.rows == source;
  }, 120, 500ms);
  EXPECT_TRUE(same) << "rebuilt " << rebuilt.rows.size() << " keys, source " << source.size();
  EXPECT_TRUE(stop_ferry_run(pid));
  EXPECT_TRUE(rebuilt.violations.empty()) << rebuilt.violations.size() << " violations, first: "
                                          << (rebuilt.violations.empty() ? "" : rebuilt.violations[0]);
  EXPECT_GT(rebuilt.tombstones, 0);
  int64_t reads = 0;
  for (const auto& m : read_topic(topic)) reads += m.has_value && m.value.find(R"("op":"r")") != std::string::npos;
  EXPECT_GE(reads, 2000 * 2) << "the first snapshot and the resync's";
  auto catalog = open_catalog(sb.catalog_path());
  EXPECT_EQ(catalog->get_meta("mytokafka", "resync").value_or(""), "");
}

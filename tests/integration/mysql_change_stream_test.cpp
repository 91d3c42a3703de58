// The MariaDB change stream (src/connectors/mysql/mysql_change_stream.*) and its control
// (mysql_stream_control.*) against the real MariaDB 10.11 of scripts/test-servers: row
// changes arrive as ChangeEvents whose replay equals the source's rows value by value;
// other tables are filtered; versions grow across rotations; ADD COLUMN is a new
// Relation and DROP COLUMN stops the stream naming the statement; a 500k-row transaction
// streams without being buffered; purged binlogs are SourceLost and a killed
// connection is Transient.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <fmt/format.h>

#include "connectors/mysql/mysql_change_stream.h"
#include "connectors/mysql/mysql_stream_control.h"
#include "core/error.h"
#include "mysql_support.h"
#include "support.h"

using namespace ferry;
using namespace ferry::mysql;
using namespace ferry::test;
using namespace std::chrono_literals;

namespace {

// Rows of one table rebuilt from the stream's events: key text -> values.
struct Replica {
  std::map<std::string, std::vector<std::string>> rows;
  std::vector<std::string> columns;
};

std::string text_of(const StreamValue& v) { return v.state == CellState::Null ? "NULL" : std::string(v.text); }

std::string key_of(const std::vector<StreamValue>& values, const StreamRelation& rel) {
  std::string k;
  for (size_t i = 0; i < values.size(); ++i)
    if (rel.key[i]) k += text_of(values[i]) + "|";
  return k;
}

// Reads events until `done` says so (checked after each event) or 60 s pass.
struct Reader {
  explicit Reader(MysqlChangeStream& s) : stream(s) {}
  MysqlChangeStream& stream;
  std::map<std::string, Replica> tables;  // "db.table"
  std::vector<ChangeEvent::Kind> kinds;
  std::vector<uint64_t> commits;  // Commit positions in order
  std::vector<std::pair<uint64_t, uint64_t>> row_versions;  // (row version, previous commit position)
  int relations = 0;
  uint64_t heartbeat = 0;  // highest Heartbeat position
  bool in_tx = false;
  uint64_t last_commit = 0;

  void apply(const ChangeEvent& ev) {
    kinds.push_back(ev.kind);
    switch (ev.kind) {
      case ChangeEvent::Kind::Begin:
        EXPECT_FALSE(in_tx);
        in_tx = true;
        break;
      case ChangeEvent::Kind::Commit:
        EXPECT_TRUE(in_tx);
        in_tx = false;
        EXPECT_EQ(ev.version, ev.position);
        if (!commits.empty()) {
          EXPECT_GT(ev.position, commits.back());
        }
        commits.push_back(ev.position);
        for (auto& rv : row_versions) {
          if (rv.second == last_commit) {
            EXPECT_LT(rv.first, ev.position);
          }
        }
        last_commit = ev.position;
        break;
      case ChangeEvent::Kind::Relation: {
        ++relations;
        Replica& r = tables[ev.relation->schema + "." + ev.relation->name];
        r.columns = ev.relation->columns;
        break;
      }
      case ChangeEvent::Kind::Row: {
        EXPECT_TRUE(in_tx);
        row_versions.emplace_back(ev.version, last_commit);
        EXPECT_GT(ev.version, last_commit);
        Replica& r = tables[ev.relation->schema + "." + ev.relation->name];
        EXPECT_EQ(ev.values.size(), ev.relation->columns.size());
        std::vector<std::string> before_update;
        if (!ev.old_key.empty()) {
          auto old = r.rows.find(key_of(ev.old_key, *ev.relation));
          EXPECT_NE(old, r.rows.end());
          if (old != r.rows.end()) {
            before_update = old->second;
            r.rows.erase(old);
          }
        }
        std::string key = key_of(ev.values, *ev.relation);
        if (ev.op == RowOp::Delete) {
          EXPECT_EQ(r.rows.erase(key), 1u) << key;
        } else {
          // Unchanged (a MINIMAL image): the value the row had, under its old key if that changed.
          std::vector<std::string> vals = before_update.empty() ? r.rows[key] : before_update;
          vals.resize(ev.values.size());
          for (size_t i = 0; i < ev.values.size(); ++i)
            if (ev.values[i].state != CellState::Unchanged) vals[i] = text_of(ev.values[i]);
          r.rows[key] = vals;
        }
        break;
      }
      case ChangeEvent::Kind::Truncate:
        for (const auto* rel : ev.truncated) tables[rel->schema + "." + rel->name].rows.clear();
        break;
      case ChangeEvent::Kind::Heartbeat:
        EXPECT_FALSE(in_tx);
        EXPECT_GE(ev.position, heartbeat);
        heartbeat = ev.position;
        break;
    }
  }
  bool until(const std::function<bool()>& done) {
    auto give_up = std::chrono::steady_clock::now() + 60s;
    ChangeEvent ev;
    while (!done()) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      if (stream.next(ev, 200ms)) apply(ev);
    }
    return true;
  }
  bool commits_reach(uint64_t position) {
    return until([&] { return !commits.empty() && commits.back() >= position; });
  }
};

// The source's rows as the replica keeps them (values as the server renders them).
std::map<std::string, std::vector<std::string>> source_rows(Mariadb& db, const std::string& table,
                                                            const std::vector<size_t>& key) {
  std::map<std::string, std::vector<std::string>> out;
  for (auto& r : db.rows("SELECT * FROM " + table)) {
    std::string k;
    for (size_t i : key) k += r[i] + "|";
    out[k] = r;
  }
  return out;
}

class MysqlChangeStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.exec("DROP DATABASE IF EXISTS ferry_cs; CREATE DATABASE ferry_cs; USE ferry_cs;"
             "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(50), amount DECIMAL(12,3), at DATETIME(6), f DOUBLE);"
             "CREATE TABLE other (id INT PRIMARY KEY, v TEXT)");
  }
  std::unique_ptr<MysqlChangeStream> open(const BinlogPosition& from, uint32_t id = 4100000001u,
                                          std::vector<std::string> tables = {"ferry_cs.t"}) {
    MysqlStreamOptions options;
    options.server_id = id;
    return std::make_unique<MysqlChangeStream>(db_.endpoint(), from, std::move(tables), options);
  }
  Mariadb db_;
};

}  // namespace

TEST_F(MysqlChangeStreamTest, RowChangesReplayToTheSourceRows) {
  MysqlStreamControl control(db_.endpoint());
  BinlogPosition start = control.current_position();
  EXPECT_EQ(start, db_.position());
  auto stream = open(start);
  db_.exec("USE ferry_cs;"
           "INSERT INTO t VALUES (1, 'one', 1.5, '2024-01-02 03:04:05.678901', 0.1), (2, 'two', -2.25, NULL, 1e300),"
           " (3, 'three', NULL, '1999-12-31 23:59:59', -0.0);"
           "INSERT INTO other VALUES (1, 'filtered');"
           "UPDATE t SET v = 'uno', amount = amount * 2 WHERE id = 1;"
           "UPDATE t SET id = 20 WHERE id = 2;"  // the key changes
           "DELETE FROM t WHERE id = 3;"
           "BEGIN; INSERT INTO t VALUES (4, 'four', 4, NULL, NULL); UPDATE other SET v = 'x';"
           " UPDATE t SET v = 'quatre' WHERE id = 4; INSERT INTO t VALUES (5, 'five', 5, NULL, 2.5); COMMIT;"
           "UPDATE other SET v = 'only other'");
  BinlogPosition end = db_.position();
  Reader reader(*stream);
  ASSERT_TRUE(reader.until([&] { return stream->position() >= end && !reader.in_tx && !reader.commits.empty(); }));
  // One commit per transaction on t (the insert, two updates, the delete, the multi-statement one).
  EXPECT_EQ(reader.commits.size(), 5u);
  EXPECT_EQ(reader.tables.count("ferry_cs.other"), 0u);
  EXPECT_EQ(reader.relations, 1);
  Replica& t = reader.tables["ferry_cs.t"];
  EXPECT_EQ(t.columns, (std::vector<std::string>{"id", "v", "amount", "at", "f"}));
  auto expected = source_rows(db_, "ferry_cs.t", {0});
  ASSERT_EQ(t.rows.size(), expected.size());
  for (const auto& [k, vals] : expected) {
    ASSERT_TRUE(t.rows.count(k)) << k;
    // DOUBLE: the server's text is %g-like; compare the binary value instead.
    for (size_t i = 0; i + 1 < vals.size(); ++i) EXPECT_EQ(t.rows[k][i], vals[i]) << k << " column " << i;
    if (vals[4] == "NULL") EXPECT_EQ(t.rows[k][4], "NULL");
    else EXPECT_EQ(std::stod(t.rows[k][4]), std::stod(vals[4])) << k;
  }
  EXPECT_TRUE(t.rows.count("20|"));
  // Idle: heartbeats bring the safe position to the end of the log (past the last
  // transaction, which touched only the other table), also when asked for again.
  ASSERT_TRUE(reader.until([&] { return reader.heartbeat >= end.version(); }));
  reader.heartbeat = 0;
  stream->request_heartbeat();
  ASSERT_TRUE(reader.until([&] { return reader.heartbeat != 0; }));
  EXPECT_EQ(reader.heartbeat, end.version());
}

TEST_F(MysqlChangeStreamTest, RotationKeepsVersionsGrowingAndTextRoundTrips) {
  MysqlStreamControl control(db_.endpoint());
  BinlogPosition start = control.current_position();
  auto stream = open(start);
  Reader reader(*stream);
  for (int i = 0; i < 3; ++i) {
    db_.exec(fmt::format("INSERT INTO ferry_cs.t VALUES ({}, 'r{}', {}, NULL, NULL); FLUSH BINARY LOGS;"
                         "UPDATE ferry_cs.t SET v = 'u{}' WHERE id = {}",
                         i, i, i, i, i));
  }
  BinlogPosition end = db_.position();
  EXPECT_GT(end.file_index(), start.file_index() + 2);
  ASSERT_TRUE(reader.commits_reach(end.version()));
  ASSERT_EQ(reader.commits.size(), 6u);
  for (size_t i = 1; i < reader.commits.size(); ++i) EXPECT_GT(reader.commits[i], reader.commits[i - 1]);
  EXPECT_EQ(reader.tables["ferry_cs.t"].rows["2|"][1], "u2");
  // The text form names the server's files; a stream reopened at a commit goes on from there.
  std::string text = control.format_position(reader.commits[2]);
  EXPECT_EQ(text, control.position_of(reader.commits[2]).to_string());
  EXPECT_EQ(control.parse_position(text), reader.commits[2]);
  EXPECT_TRUE(control.can_stream_from(BinlogPosition::parse(text)));
  auto again = open(BinlogPosition::parse(text), 4100000002u);
  Reader second(*again);
  ASSERT_TRUE(second.commits_reach(end.version()));
  EXPECT_EQ(second.commits, std::vector<uint64_t>(reader.commits.begin() + 3, reader.commits.end()));
  // Lag: the binlog bytes beyond a position.
  int64_t lag = control.lag_bytes(start.version());
  int64_t expected = 0;
  for (const auto& f : control.binary_logs())
    if (BinlogPosition{f.name, 0}.file_index() >= start.file_index())
      expected += int64_t(f.size) - (f.name == start.file ? int64_t(start.offset) : 0);
  EXPECT_EQ(lag, expected);
  EXPECT_EQ(control.lag_bytes(db_.position().version()), 0);
}

TEST_F(MysqlChangeStreamTest, AddColumnIsANewRelationAndDropColumnStops) {
  BinlogPosition start = db_.position();
  auto stream = open(start);
  db_.exec("INSERT INTO ferry_cs.t (id, v) VALUES (1, 'a');"
           "ALTER TABLE ferry_cs.t ADD COLUMN note VARCHAR(10) DEFAULT 'n';"
           "ALTER TABLE ferry_cs.other DROP COLUMN v;"  // another table: no effect
           "INSERT INTO ferry_cs.t (id, v, note) VALUES (2, 'b', 'hello')");
  BinlogPosition before_drop = db_.position();
  db_.exec("ALTER TABLE ferry_cs.t DROP COLUMN amount");
  Reader reader(*stream);
  ASSERT_TRUE(reader.commits_reach(before_drop.version()));
  EXPECT_EQ(reader.relations, 2);
  Replica& t = reader.tables["ferry_cs.t"];
  EXPECT_EQ(t.columns.back(), "note");
  EXPECT_EQ(t.rows["2|"].back(), "hello");
  EXPECT_EQ(t.rows["1|"].size(), 5u);  // as it arrived, before the column
  try {
    reader.until([] { return false; });
    FAIL() << "the stream went past DROP COLUMN";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    std::string m = e.what();
    EXPECT_NE(m.find("ALTER TABLE ferry_cs.t DROP COLUMN amount"), std::string::npos) << m;
    EXPECT_NE(m.find("drops column amount of ferry_cs.t"), std::string::npos) << m;
    EXPECT_NE(m.find("resync"), std::string::npos) << m;
  }
}

TEST_F(MysqlChangeStreamTest, TruncateIsATruncateEvent) {
  BinlogPosition start = db_.position();
  auto stream = open(start);
  db_.exec("INSERT INTO ferry_cs.t (id) VALUES (1), (2); TRUNCATE TABLE ferry_cs.t; INSERT INTO ferry_cs.t (id) VALUES (3)");
  BinlogPosition end = db_.position();
  Reader reader(*stream);
  ASSERT_TRUE(reader.commits_reach(end.version()));
  EXPECT_NE(std::find(reader.kinds.begin(), reader.kinds.end(), ChangeEvent::Kind::Truncate), reader.kinds.end());
  auto& rows = reader.tables["ferry_cs.t"].rows;
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows.count("3|"));
}

TEST_F(MysqlChangeStreamTest, MinimalMetadataImagesAndNonTransactionalTables) {
  // Without FULL metadata, names and keys come from information_schema; MINIMAL images
  // leave unchanged columns out. MyISAM groups end with a COMMIT query, not an XID.
  std::string metadata = db_.value("SELECT @@global.binlog_row_metadata");
  struct Restore {
    Mariadb& db;
    std::string value;
    ~Restore() { db.exec("SET GLOBAL binlog_row_metadata = " + value); }
  } restore{db_, metadata};
  db_.exec("SET GLOBAL binlog_row_metadata = MINIMAL;"
           "CREATE TABLE ferry_cs.m (k1 INT, k2 VARCHAR(5), v VARCHAR(20), n INT, PRIMARY KEY (k2, k1)) ENGINE=MyISAM");
  BinlogPosition start = db_.position();
  auto stream = open(start, 4100000003u, {"ferry_cs.t", "ferry_cs.m"});
  db_.exec("SET SESSION binlog_row_image = MINIMAL; USE ferry_cs;"
           "INSERT INTO t VALUES (1, 'one', 1.5, NULL, 1), (2, 'two', 2, NULL, 2);"
           "UPDATE t SET v = 'uno' WHERE id = 1;"
           "UPDATE t SET id = 20 WHERE id = 2;"
           "DELETE FROM t WHERE id = 1;"
           "INSERT INTO m VALUES (1, 'a', 'x', 1), (2, 'b', 'y', 2);"
           "UPDATE m SET n = n + 10 WHERE k1 = 1;"
           "UPDATE m SET k2 = 'c' WHERE k1 = 2;"
           "SET SESSION binlog_row_image = FULL");
  BinlogPosition end = db_.position();
  Reader reader(*stream);
  ASSERT_TRUE(reader.commits_reach(end.version()));
  EXPECT_EQ(reader.commits.size(), 7u);
  Replica& t = reader.tables["ferry_cs.t"];
  Replica& m = reader.tables["ferry_cs.m"];
  EXPECT_EQ(t.columns, (std::vector<std::string>{"id", "v", "amount", "at", "f"}));
  EXPECT_EQ(m.columns, (std::vector<std::string>{"k1", "k2", "v", "n"}));
  for (auto [table, replica, key] : {std::tuple{"ferry_cs.t", &t, std::vector<size_t>{0}},
                                     std::tuple{"ferry_cs.m", &m, std::vector<size_t>{0, 1}}}) {
    auto expected = source_rows(db_, table, key);
    ASSERT_EQ(replica->rows.size(), expected.size()) << table;
    for (const auto& [k, vals] : expected) {
      ASSERT_TRUE(replica->rows.count(k)) << table << " " << k;
      EXPECT_EQ(replica->rows[k], vals) << table << " " << k;
    }
  }
}

TEST_F(MysqlChangeStreamTest, StatementFormatChangesStopTheStream) {
  BinlogPosition start = db_.position();
  auto stream = open(start);
  db_.exec("SET SESSION binlog_format = STATEMENT; INSERT INTO ferry_cs.t (id) VALUES (1); SET SESSION binlog_format = ROW");
  Reader reader(*stream);
  try {
    reader.until([] { return false; });
    FAIL() << "the stream went past a statement-logged INSERT";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    std::string m = e.what();
    EXPECT_NE(m.find("INSERT INTO ferry_cs.t (id) VALUES (1)"), std::string::npos) << m;
    EXPECT_NE(m.find("binlog_format=ROW"), std::string::npos) << m;
  }
}

namespace {
long peak_rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
}  // namespace

TEST_F(MysqlChangeStreamTest, HugeTransactionStreamsWithoutBuffering) {
  constexpr int kRows = 500000;
  BinlogPosition start = db_.position();
  db_.exec(fmt::format("INSERT INTO ferry_cs.t (id, v, amount) SELECT seq, REPEAT('x', 50), seq / 1000 "
                       "FROM seq_1_to_{}", kRows));
  BinlogPosition end = db_.position();
  uint64_t binlog_bytes = end.offset - start.offset;
  long rss_before = peak_rss_kb();
  auto stream = open(start);
  ChangeEvent ev;
  int rows = 0;
  bool first_row_before_commit_read = false;
  uint64_t commit = 0;
  auto give_up = std::chrono::steady_clock::now() + 120s;
  while (commit == 0 && std::chrono::steady_clock::now() < give_up) {
    if (!stream->next(ev, 200ms)) continue;
    if (ev.kind == ChangeEvent::Kind::Row) {
      // The first row leaves the stream while the rest of its transaction is unread.
      if (rows == 0) first_row_before_commit_read = stream->position().version() < end.version() - binlog_bytes / 2;
      EXPECT_EQ(ev.values[1].text, std::string(50, 'x'));
      ++rows;
    }
    if (ev.kind == ChangeEvent::Kind::Commit) commit = ev.position;
  }
  long rss_after = peak_rss_kb();
  EXPECT_EQ(rows, kRows);
  EXPECT_EQ(commit, end.version());
  EXPECT_TRUE(first_row_before_commit_read);
  // The transaction's binlog is ~40 MB: a stream that buffered it would grow by more than that.
  EXPECT_LT(rss_after - rss_before, long(binlog_bytes / 1024 / 2)) << "peak RSS " << rss_before << " -> " << rss_after
                                                                     << " kB, binlog " << binlog_bytes << " bytes";
  std::printf("[ figures ] 500k-row transaction: %llu binlog bytes, peak RSS %ld -> %ld kB\n",
              (unsigned long long)binlog_bytes, rss_before, rss_after);
}

TEST_F(MysqlChangeStreamTest, PurgedBinlogIsSourceLost) {
  db_.exec("FLUSH BINARY LOGS");
  BinlogPosition old = db_.position();
  db_.exec("INSERT INTO ferry_cs.t (id) VALUES (1); FLUSH BINARY LOGS");
  MysqlStreamControl control(db_.endpoint());
  // The server keeps a file until its binlog checkpoint has moved past it (asynchronous).
  ASSERT_TRUE(eventually([&] {
    db_.exec(fmt::format("PURGE BINARY LOGS TO '{}'", db_.position().file));
    return !control.can_stream_from(old);
  }));
  try {
    auto stream = open(old);
    Reader reader(*stream);
    reader.until([] { return false; });
    FAIL() << "streamed from a purged binlog";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::SourceLost) << e.what();
    EXPECT_NE(std::string(e.what()).find(old.to_string()), std::string::npos) << e.what();
  }
}

TEST_F(MysqlChangeStreamTest, KilledConnectionIsTransient) {
  auto stream = open(db_.position());
  ChangeEvent ev;
  stream->next(ev, 300ms);  // the dump thread is running
  for (const auto& r : db_.rows("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'"))
    db_.exec("KILL " + r[0]);
  try {
    for (int i = 0; i < 100; ++i) stream->next(ev, 200ms);
    FAIL() << "the stream did not notice its connection was killed";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Transient) << e.what();
  }
}

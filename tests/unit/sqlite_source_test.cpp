// The SQLite source needs no server: its type map and COPY escaping; describe, cursor
// probes and range reads against a file made here.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "connectors/sqlite/sqlite_source.h"
#include "core/error.h"
#include "pipe/incremental.h"

using namespace ferry;

namespace {

Column lite_col(const std::string& declared) {
  Column c;
  c.name = "c";
  sqlite::map_sqlite_type(declared, c);
  return c;
}

class IncrementalSqliteSource : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry_sqlite_src_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "db.sqlite").string();
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db_), SQLITE_OK);
    exec(R"SQL(
      CREATE TABLE "Order Items" (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, qty INTEGER,
                                  data BLOB, flag BOOLEAN, seq INTEGER, at DATETIME);
      INSERT INTO "Order Items" VALUES
        (1, 'plain', 1.5, 10, x'00ff', 1, 1, '2024-01-01 00:00:01'),
        (2, 'tab	nl
bs\', NULL, NULL, NULL, 0, 2, '2024-01-01 00:00:02'),
        (3, 'three', 0.1, 3, x'', NULL, NULL, '2024-01-01 00:00:03'),
        (4, 'four', 1e300, -4, NULL, 'true', 10, '2024-01-01 00:00:04');
    )SQL");
    PeerSpec peer;
    peer.name = "lite";
    peer.type = PeerType::SQLite;
    peer.dsn = path_;
    source_ = std::make_unique<sqlite::SqliteSource>(peer);
  }
  void TearDown() override {
    source_.reset();
    sqlite3_close(db_);
    std::filesystem::remove_all(dir_);
  }
  void exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
  }
  std::string read_all(CopyStream& s) {
    std::string out;
    while (s.next_chunk(out)) {
    }
    return out;
  }

  std::filesystem::path dir_;
  std::string path_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite::SqliteSource> source_;
};

}  // namespace

TEST_F(IncrementalSqliteSource, Describe) {
  EXPECT_EQ(source_->server_version().rfind("SQLite 3.", 0), 0u);
  TableSchema t = source_->describe("order items");  // names are case-insensitive in SQLite
  EXPECT_EQ(t.display_name(), "main.Order Items");
  ASSERT_EQ(t.columns.size(), 8u);
  EXPECT_EQ(t.columns[0].name, "id");
  EXPECT_EQ(t.columns[0].key_position, 1);
  EXPECT_FALSE(t.columns[0].nullable);
  EXPECT_EQ(t.columns[1].type, LogicalType::String);
  EXPECT_FALSE(t.columns[1].nullable);
  EXPECT_EQ(t.columns[2].type, LogicalType::Float64);
  EXPECT_EQ(t.columns[4].type, LogicalType::Bytes);
  EXPECT_EQ(t.columns[5].type, LogicalType::Bool);
  EXPECT_EQ(t.columns[7].type, LogicalType::Timestamp);
  EXPECT_EQ(t.key_columns(), std::vector<std::string>{"id"});
  EXPECT_NO_THROW(source_->check_readable(t));
  try {
    source_->describe("nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_NE(std::string(e.what()).find("source table main.nope does not exist"), std::string::npos) << e.what();
  }
}

TEST_F(IncrementalSqliteSource, SnapshotRendersCopyText) {
  TableSchema t = source_->describe("Order Items");
  auto point = source_->open_snapshot();
  auto parts = source_->plan_partitions(t, 1000);
  ASSERT_EQ(parts, std::vector<std::string>{"all"});
  auto s = source_->read_partition(t, parts[0], *point);
  EXPECT_EQ(read_all(*s),
            "1\tplain\t1.5\t10\t\\\\x00ff\tt\t1\t2024-01-01 00:00:01\n"
            "2\ttab\\tnl\\nbs\\\\\t\\N\t\\N\t\\N\tf\t2\t2024-01-01 00:00:02\n"
            "3\tthree\t0.1\t3\t\\\\x\t\\N\t\\N\t2024-01-01 00:00:03\n"
            "4\tfour\t1e+300\t-4\t\\N\tt\t10\t2024-01-01 00:00:04\n");
}

TEST_F(IncrementalSqliteSource, ProbeAndRanges) {
  TableSchema t = source_->describe("Order Items");
  // Integer cursor: compared as numbers (10 > 2), not as text.
  CursorProbe p = source_->probe_cursor(t, "seq", std::nullopt);
  ASSERT_TRUE(p.max);
  EXPECT_EQ(*p.max, "10");
  EXPECT_EQ(p.null_rows, 1);
  EXPECT_FALSE(p.below_last);
  EXPECT_TRUE(source_->probe_cursor(t, "seq", std::string("11")).below_last);
  EXPECT_FALSE(source_->probe_cursor(t, "seq", std::string("9")).below_last);

  TableSchema ids = t;
  ids.columns = {t.columns[0], t.columns[6]};
  EXPECT_EQ(read_all(*source_->read_range(ids, "seq", std::nullopt, "2")), "1\t1\n2\t2\n");
  EXPECT_EQ(read_all(*source_->read_range(ids, "seq", std::string("2"), "10")), "4\t10\n");
  EXPECT_EQ(read_all(*source_->read_range(ids, "seq", std::string("10"), "10")), "");

  // Text timestamps compare as ISO text.
  CursorProbe at = source_->probe_cursor(t, "at", std::string("2024-01-01 00:00:02"));
  EXPECT_EQ(*at.max, "2024-01-01 00:00:04");
  EXPECT_EQ(at.null_rows, 0);
  ids.columns = {t.columns[0], t.columns[7]};  // the pipe always copies its cursor column
  EXPECT_EQ(read_all(*source_->read_range(ids, "at", std::string("2024-01-01 00:00:02"), *at.max)),
            "3\t2024-01-01 00:00:03\n4\t2024-01-01 00:00:04\n");

  // Real cursor: the rendered maximum reads back as the same number.
  CursorProbe price = source_->probe_cursor(t, "price", std::nullopt);
  EXPECT_EQ(*price.max, "1e+300");
  ids.columns = {t.columns[0], t.columns[2]};
  EXPECT_EQ(read_all(*source_->read_range(ids, "price", std::string("1.5"), *price.max)), "4\t1e+300\n");

  // Cursor type rules apply to SQLite columns too.
  TableMapping m;
  m.source = "Order Items";
  m.cursor = "data";
  EXPECT_THROW(check_cursor_column(t, m), Error);
  m.cursor = "at";
  EXPECT_NO_THROW(check_cursor_column(t, m));
}

TEST_F(IncrementalSqliteSource, MissingFileIsAPermanentError) {
  PeerSpec peer;
  peer.name = "lite";
  peer.type = PeerType::SQLite;
  peer.dsn = (dir_ / "missing.sqlite").string();
  sqlite::SqliteSource s(peer);
  try {
    s.server_version();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    EXPECT_NE(std::string(e.what()).find("cannot open the SQLite database"), std::string::npos) << e.what();
  }
}

TEST(IncrementalSqliteTypes, AffinityRules) {
  EXPECT_EQ(lite_col("INTEGER").type, LogicalType::Int64);
  EXPECT_EQ(lite_col("unsigned big int").type, LogicalType::Int64);
  EXPECT_EQ(lite_col("BOOLEAN").type, LogicalType::Bool);
  EXPECT_EQ(lite_col("VARCHAR(255)").type, LogicalType::String);
  EXPECT_EQ(lite_col("CLOB").type, LogicalType::String);
  EXPECT_EQ(lite_col("").type, LogicalType::String);
  EXPECT_EQ(lite_col("").source_type, "(no type)");
  EXPECT_EQ(lite_col("BLOB").type, LogicalType::Bytes);
  EXPECT_EQ(lite_col("DOUBLE PRECISION").type, LogicalType::Float64);
  EXPECT_EQ(lite_col("FLOAT").type, LogicalType::Float64);
  EXPECT_EQ(lite_col("DATE").type, LogicalType::Date);
  EXPECT_EQ(lite_col("datetime").type, LogicalType::Timestamp);
  EXPECT_EQ(lite_col("TIMESTAMP").type, LogicalType::Timestamp);
  Column d = lite_col("DECIMAL(10, 2)");
  EXPECT_EQ(d.type, LogicalType::Decimal);
  EXPECT_EQ(d.precision, 10);
  EXPECT_EQ(d.scale, 2);
  EXPECT_EQ(lite_col("NUMERIC").type, LogicalType::NumericText);
  EXPECT_EQ(lite_col("MONEYISH").type, LogicalType::NumericText);
  EXPECT_EQ(lite_col("UUID").type, LogicalType::Uuid);
}

TEST(IncrementalSqliteTypes, CopyEscaping) {
  std::string out;
  append_copy_escaped(out, "a\tb\nc\\d\re");
  EXPECT_EQ(out, "a\\tb\\nc\\\\d\\re");
}

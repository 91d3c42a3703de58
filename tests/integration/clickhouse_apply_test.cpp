// ClickHouseDestination::apply_changes / add_missing_columns against the real server of
// FERRY_TEST_CH_URL (18.16 in the test environment), with hand-built ChangeBatches:
// upserts, soft deletes, key changes, truncates, filling unchanged/absent cells from the
// batch and from ClickHouse, replays, awkward strings and names.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/clickhouse/clickhouse_destination.h"
#include "core/error.h"
#include "core/ident.h"
#include "core/spec.h"
#include "clickhouse_fixture.h"
#include "test_env.h"
#include "../shared/destination_table.h"
#include "../shared/change_batch_builder.h"
#include "../shared/column_builder.h"

using namespace ferry;
using namespace ferry::clickhouse;

using namespace ferry::test;

namespace {


// doc (id int PK, title text NOT NULL, body text, n numeric(10,2), flag bool, tags int[] NOT NULL,
//      bin bytea, fl float8[] NOT NULL)
TableSchema doc_schema() {
  TableSchema t;
  t.schema = "public";
  t.name = "doc";
  Column n = col("n", LogicalType::Decimal);
  n.precision = 10;
  n.scale = 2;
  Column tags = col("tags", LogicalType::Array, false);
  tags.element = LogicalType::Int32;
  Column fl = col("fl", LogicalType::Array, false);
  fl.element = LogicalType::Float64;
  t.columns = {col("id", LogicalType::Int32, false, 1), col("title", LogicalType::String, false),
               col("body", LogicalType::String), n, col("flag", LogicalType::Bool), tags,
               col("bin", LogicalType::Bytes), fl};
  return t;
}
const std::vector<std::string> kDocColumns = {"id", "title", "body", "n", "flag", "tags", "bin", "fl"};

// A full doc row.
std::vector<C> doc(const std::string& id, const std::string& title, C body = "body", C n = "1.50", C flag = "t",
                   C tags = "{1,2}", C bin = "\\x00ff", C fl = "{1.5}") {
  return {id.c_str(), title.c_str(), body, n, flag, tags, bin, fl};
}
// Key only (a delete under REPLICA IDENTITY DEFAULT, an old key), of a table of `columns` columns.
std::vector<C> key_only_of(size_t columns, const std::string& id) {
  std::vector<C> v(columns, kAbsent);
  v[0] = C(id);
  return v;
}
// Key only (a delete under REPLICA IDENTITY DEFAULT, an old key).
std::vector<C> key_only(const std::string& id) {
  std::vector<C> v(kDocColumns.size(), kAbsent);
  v[0] = C(id);
  return v;
}

class ClickHouseApplyTest : public ferry::test::ClickHouseDatabaseTest {
 protected:
  // FINAL rows as raw TSV lines (ClickHouse escaping), ordered by `order`.
  std::vector<std::string> final_rows(const std::string& name, const std::string& cols, const std::string& order = "id",
                                      const std::string& where = "1") {
    std::string text = ch("SELECT " + cols + " FROM " + table(name) + " FINAL WHERE " + where + " ORDER BY " + order +
                          " FORMAT TabSeparated");
    std::vector<std::string> rows;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t eol = text.find('\n', pos);
      rows.push_back(text.substr(pos, eol - pos));
      pos = eol + 1;
    }
    return rows;
  }
  std::vector<std::string> doc_rows(const std::string& where = "1") {
    return final_rows("doc", "id, title, body, n, flag, tags, hex(bin), fl, _ferry_version, _ferry_is_deleted", "id",
                      where);
  }
};

}  // namespace

TEST_F(ClickHouseApplyTest, UpsertsDeletesKeyChangesAndFillsFromClickHouse) {
  dest_->ensure_table(doc_schema(), dest_table("doc"));
  BatchBuilder b1;
  uint32_t t = b1.table("doc", kDocColumns, {0});
  for (int i = 1; i <= 5; ++i) b1.upsert(t, 100, doc(std::to_string(i), "t" + std::to_string(i)));
  b1.upsert(t, 101, doc("5", "t5 again", kNull, kNull, "f", "{}", kNull, "{NaN,-Infinity,NULL}"));
  dest_->apply_changes(b1.batch);
  EXPECT_EQ(dest_->last_apply_stats().rows_written, 5u);
  EXPECT_EQ(dest_->last_apply_stats().keys_looked_up, 0u);
  EXPECT_EQ(doc_rows(), (std::vector<std::string>{
                            "1\tt1\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t100\t0",
                            "2\tt2\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t100\t0",
                            "3\tt3\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t100\t0",
                            "4\tt4\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t100\t0",
                            "5\tt5 again\t\\N\t\\N\t0\t[]\t\\N\t[nan,-inf,NULL]\t101\t0",
                        }));

  // A new destination object: nothing is remembered between batches but ClickHouse.
  dest_ = std::make_unique<ClickHouseDestination>(peer_);
  dest_->ensure_table(doc_schema(), dest_table("doc"));
  BatchBuilder b2;
  t = b2.table("doc", kDocColumns, {0});
  b2.upsert(t, 200, {"1", "retitled", kUnchanged, "2.00", "f", kUnchanged, kUnchanged, kUnchanged});
  b2.del(t, 200, key_only("2"));
  b2.move(t, 201, {"30", "t3 moved", kUnchanged, "3.00", "t", "{3}", kUnchanged, kUnchanged}, key_only("3"));
  b2.del(t, 201, key_only("5"));  // NULLs and nan arrays read back from ClickHouse
  b2.upsert(t, 202, doc("6", "six"));
  b2.del(t, 202, key_only("7"));  // known nowhere
  dest_->apply_changes(b2.batch);
  const ApplyStats& st = dest_->last_apply_stats();
  EXPECT_EQ(st.keys_looked_up, 5u);  // 1, 2, 3, 5, 7
  EXPECT_EQ(st.keys_found, 4u);
  EXPECT_EQ(st.unknown_cells, 7u);  // row 7: every non-key column
  EXPECT_EQ(st.rows_written, 7u);
  EXPECT_EQ(doc_rows(), (std::vector<std::string>{
                            "1\tretitled\tbody\t2.00\t0\t[1,2]\t00FF\t[1.5]\t200\t0",
                            "2\tt2\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t200\t1",
                            "3\tt3\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t201\t1",
                            "4\tt4\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t100\t0",
                            "5\tt5 again\t\\N\t\\N\t0\t[]\t\\N\t[nan,-inf,NULL]\t201\t1",
                            "6\tsix\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t202\t0",
                            "7\t\t\\N\t\\N\t\\N\t[]\t\\N\t[]\t202\t1",
                            "30\tt3 moved\tbody\t3.00\t1\t[3]\t00FF\t[1.5]\t201\t0",
                        }));
  EXPECT_EQ(ch("SELECT count() FROM " + table("doc") + " FINAL WHERE _ferry_is_deleted = 0"), "4\n");
  EXPECT_EQ(dest_->count_rows(dest_table("doc")), 4);
}

TEST_F(ClickHouseApplyTest, FillsFromEarlierRowsOfTheBatchWithoutLookingUp) {
  dest_->ensure_table(doc_schema(), dest_table("doc"));
  BatchBuilder b;
  uint32_t t = b.table("doc", kDocColumns, {0});
  b.upsert(t, 10, doc("1", "first", "long body"));
  b.upsert(t, 11, {"1", "second", kUnchanged, kUnchanged, kUnchanged, kUnchanged, kUnchanged, kUnchanged});
  b.upsert(t, 11, doc("2", "two", "b2"));
  b.del(t, 12, key_only("2"));
  b.move(t, 12, {"10", "moved", kUnchanged, "9.99", kNull, "{}", kNull, "{}"}, key_only("1"));
  dest_->apply_changes(b.batch);
  EXPECT_EQ(dest_->last_apply_stats().keys_looked_up, 0u);
  EXPECT_EQ(doc_rows(), (std::vector<std::string>{
                            "1\tsecond\tlong body\t1.50\t1\t[1,2]\t00FF\t[1.5]\t12\t1",
                            "2\ttwo\tb2\t1.50\t1\t[1,2]\t00FF\t[1.5]\t12\t1",
                            "10\tmoved\tlong body\t9.99\t\\N\t[]\t\\N\t[]\t12\t0",
                        }));
  // One row per key was written (the batch collapsed to the last change of each key).
  EXPECT_EQ(ch("SELECT count() FROM " + table("doc")), "3\n");
}

TEST_F(ClickHouseApplyTest, TruncateSoftDeletesEverythingBeforeItOnly) {
  dest_->ensure_table(doc_schema(), dest_table("doc"));
  BatchBuilder b1;
  uint32_t t = b1.table("doc", kDocColumns, {0});
  for (int i = 1; i <= 3; ++i) b1.upsert(t, 10, doc(std::to_string(i), "old"));
  dest_->apply_changes(b1.batch);

  BatchBuilder b2;
  t = b2.table("doc", kDocColumns, {0});
  b2.upsert(t, 20, doc("4", "before truncate"));
  b2.truncate(t, 21);
  b2.upsert(t, 21, doc("1", "after truncate"));
  b2.upsert(t, 22, {"1", "after truncate 2", kUnchanged, kUnchanged, kUnchanged, kUnchanged, kUnchanged, kUnchanged});
  b2.upsert(t, 22, doc("5", "new"));
  dest_->apply_changes(b2.batch);
  EXPECT_EQ(dest_->last_apply_stats().truncates, 1u);
  EXPECT_EQ(doc_rows(), (std::vector<std::string>{
                            "1\tafter truncate 2\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t22\t0",
                            "2\told\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t21\t1",
                            "3\told\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t21\t1",
                            "4\tbefore truncate\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t21\t1",
                            "5\tnew\tbody\t1.50\t1\t[1,2]\t00FF\t[1.5]\t22\t0",
                        }));
  std::vector<std::string> before = doc_rows();

  // Replays (after a crash before the checkpoint) leave the same result, with a fresh
  // destination and with the same one.
  dest_->apply_changes(b2.batch);
  EXPECT_EQ(doc_rows(), before);
  dest_ = std::make_unique<ClickHouseDestination>(peer_);
  dest_->add_missing_columns(doc_schema(), dest_table("doc"));  // as the runner does on the stream's Relation
  dest_->apply_changes(b2.batch);
  EXPECT_EQ(doc_rows(), before);
}

TEST_F(ClickHouseApplyTest, ReplayingBatchesIsIdempotent) {
  dest_->ensure_table(doc_schema(), dest_table("doc"));
  BatchBuilder b1;
  uint32_t t = b1.table("doc", kDocColumns, {0});
  for (int i = 1; i <= 50; ++i) b1.upsert(t, 10, doc(std::to_string(i), "v1"));
  BatchBuilder b2;
  t = b2.table("doc", kDocColumns, {0});
  for (int i = 1; i <= 50; i += 2)
    b2.upsert(t, 20, {std::to_string(i), "v2", kUnchanged, kUnchanged, kUnchanged, kUnchanged, kUnchanged, kUnchanged});
  for (int i = 2; i <= 50; i += 4) b2.del(t, 21, key_only(std::to_string(i)));
  for (int i = 4; i <= 50; i += 8) b2.move(t, 22, doc(std::to_string(i + 1000), "moved"), key_only(std::to_string(i)));

  dest_->apply_changes(b1.batch);
  dest_->apply_changes(b2.batch);
  std::vector<std::string> once = doc_rows();
  dest_->apply_changes(b2.batch);
  EXPECT_EQ(doc_rows(), once);
  dest_->apply_changes(b1.batch);  // an older batch again: nothing regresses
  dest_->apply_changes(b2.batch);
  EXPECT_EQ(doc_rows(), once);
  EXPECT_EQ(dest_->count_rows(dest_table("doc")), 50 - 13 + 0);  // 13 deletes; moves keep the count
}

TEST_F(ClickHouseApplyTest, AwkwardValuesRoundTripThroughClickHouse) {
  dest_->ensure_table(doc_schema(), dest_table("doc"));
  const std::string nasty = "tab\there\nnew line\r\\back\\slash 'single' \"double\" `tick` \\N \x01 ü";
  BatchBuilder b1;
  uint32_t t = b1.table("doc", kDocColumns, {0});
  b1.upsert(t, 1, doc("1", nasty, nasty, "-12345678.90", "t", "{NULL,-2147483648,2147483647}", "\\x5c0009270a",
                      "{1e-300,-0,NaN,Infinity,3.141592653589793}"));
  b1.upsert(t, 1, doc("2", "", "", "0.00", kNull, "{}", "\\x", "{NULL}"));
  b1.upsert(t, 1, doc("3", "\\N", kNull, kNull, "f", "{0}", kNull, "{-Infinity}"));
  dest_->apply_changes(b1.batch);
  std::vector<std::string> before = doc_rows();
  ASSERT_EQ(before.size(), 3u);
  EXPECT_EQ(ch("SELECT title = body, length(title) FROM " + table("doc") + " FINAL WHERE id = 1"),
            "1\t" + std::to_string(nasty.size()) + "\n");
  EXPECT_EQ(ch("SELECT title FROM " + table("doc") + " FINAL WHERE id = 3"), "\\\\N\n");

  // Everything but the key unchanged: the values come back from ClickHouse and are written again.
  BatchBuilder b2;
  t = b2.table("doc", kDocColumns, {0});
  for (const char* id : {"1", "2", "3"})
    b2.upsert(t, 2, {id, kUnchanged, kUnchanged, kUnchanged, kUnchanged, kUnchanged, kUnchanged, kUnchanged});
  dest_ = std::make_unique<ClickHouseDestination>(peer_);
  dest_->ensure_table(doc_schema(), dest_table("doc"));
  dest_->apply_changes(b2.batch);
  EXPECT_EQ(dest_->last_apply_stats().keys_found, 3u);
  std::vector<std::string> after = doc_rows();
  ASSERT_EQ(after.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    std::string a = before[i], b = after[i];
    // Same values; only the version moved (last two fields: version, is_deleted).
    a = a.substr(0, a.rfind('\t', a.rfind('\t') - 1));
    b = b.substr(0, b.rfind('\t', b.rfind('\t') - 1));
    EXPECT_EQ(a, b);
  }
  // And as soft deletes.
  BatchBuilder b3;
  t = b3.table("doc", kDocColumns, {0});
  for (const char* id : {"1", "2", "3"}) b3.del(t, 3, key_only(id));
  dest_->apply_changes(b3.batch);
  std::vector<std::string> deleted = doc_rows();
  for (size_t i = 0; i < 3; ++i) {
    std::string a = before[i], b = deleted[i];
    EXPECT_EQ(b.substr(b.size() - 4), "\t3\t1");
    a = a.substr(0, a.rfind('\t', a.rfind('\t') - 1));
    b = b.substr(0, b.rfind('\t', b.rfind('\t') - 1));
    EXPECT_EQ(a, b);
  }
}

TEST_F(ClickHouseApplyTest, WeirdNamesAndCompositeTextKeys) {
  TableSchema s;
  s.schema = "public";
  s.name = "Wéird `table` \"x\"";
  s.columns = {col("Key Part", LogicalType::String, false, 1), col("n°", LogicalType::Int64, false, 2),
               col("it's \"v\"", LogicalType::String), col("back`tick", LogicalType::String)};
  const std::string name = "Wéird `table` \"x\"";
  dest_->ensure_table(s, dest_table(name));
  std::vector<std::string> cols = {"Key Part", "n°", "it's \"v\"", "back`tick"};
  BatchBuilder b1;
  uint32_t t = b1.table(name, cols, {0, 1});
  b1.upsert(t, 1, {"a\tb", "1", "v1", "w1"});
  b1.upsert(t, 1, {"it's", "2", "v2", "w2"});
  b1.upsert(t, 1, {"back\\slash\nnl", "3", "v3", "w3"});
  b1.upsert(t, 1, {"a\tb", "2", "v4", "w4"});
  dest_->apply_changes(b1.batch);

  BatchBuilder b2;
  t = b2.table(name, cols, {0, 1});
  b2.del(t, 2, {"a\tb", "1", kAbsent, kAbsent});
  b2.upsert(t, 2, {"it's", "2", "v2b", kUnchanged});
  b2.move(t, 2, {"moved", "3", kUnchanged, "w3b"}, {"back\\slash\nnl", "3", kAbsent, kAbsent});
  dest_ = std::make_unique<ClickHouseDestination>(peer_);
  dest_->ensure_table(s, dest_table(name));
  dest_->apply_changes(b2.batch);
  EXPECT_EQ(dest_->last_apply_stats().keys_found, 3u);
  std::string q = "`Key Part`, `n°`, `it's \"v\"`, `back\\`tick`, _ferry_version, _ferry_is_deleted";
  EXPECT_EQ(final_rows(name, q, "`n°`, `Key Part`"), (std::vector<std::string>{
                                                          "a\\tb\t1\tv1\tw1\t2\t1",
                                                          "a\\tb\t2\tv4\tw4\t1\t0",
                                                          "it\\'s\t2\tv2b\tw2\t2\t0",
                                                          "back\\\\slash\\nnl\t3\tv3\tw3\t2\t1",
                                                          "moved\t3\tv3\tw3b\t2\t0",
                                                      }));
}

TEST_F(ClickHouseApplyTest, AddMissingColumnsAndOlderLayouts) {
  TableSchema s;
  s.schema = "public";
  s.name = "doc";
  s.columns = {col("id", LogicalType::Int32, false, 1), col("title", LogicalType::String, false)};
  dest_->ensure_table(s, dest_table("doc"));
  BatchBuilder b1;
  uint32_t t = b1.table("doc", {"id", "title"}, {0});
  b1.upsert(t, 1, {"1", "one"});
  dest_->apply_changes(b1.batch);

  // The source gains a NOT NULL int and an int[]: added as Nullable(Int32) and
  // Array(Nullable(Int32)) after the last source column.
  TableSchema s2 = s;
  s2.columns.push_back(col("rating", LogicalType::Int32, false));
  Column tags = col("tags", LogicalType::Array, false);
  tags.element = LogicalType::Int32;
  s2.columns.push_back(tags);
  dest_->add_missing_columns(s2, dest_table("doc"));
  dest_->add_missing_columns(s2, dest_table("doc"));  // nothing left to add
  EXPECT_EQ(ch("SELECT name, type FROM system.columns WHERE database = " + quote_ch_literal(database_) +
               " AND table = 'doc' FORMAT TabSeparated"),
            "id\tInt32\ntitle\tString\nrating\tNullable(Int32)\ntags\tArray(Nullable(Int32))\n_ferry_version\tUInt64\n"
            "_ferry_is_deleted\tUInt8\n_ferry_synced_at\tDateTime\n");

  BatchBuilder b2;
  t = b2.table("doc", {"id", "title", "rating", "tags"}, {0});
  b2.upsert(t, 2, {"2", "two", "5", "{1}"});
  b2.upsert(t, 2, {"1", kUnchanged, "3", "{}"});
  dest_->apply_changes(b2.batch);
  // A batch still in the old layout (rows from before the column was added).
  b1.batch.clear_rows();
  b1.upsert(0, 3, {"3", "three"});
  dest_->apply_changes(b1.batch);
  EXPECT_EQ(final_rows("doc", "id, title, rating, tags, _ferry_version"),
            (std::vector<std::string>{"1\tone\t3\t[]\t2", "2\ttwo\t5\t[1]\t2", "3\tthree\t\\N\t[]\t3"}));

  // A dropped source column stays; rows written without it get NULL there.
  TableSchema s3 = s;  // rating and tags dropped
  dest_->add_missing_columns(s3, dest_table("doc"));
  BatchBuilder b3;
  t = b3.table("doc", {"id", "title"}, {0});
  b3.upsert(t, 4, {"2", "two again"});
  dest_->apply_changes(b3.batch);
  EXPECT_EQ(final_rows("doc", "id, title, rating, tags", "id", "id = 2"), (std::vector<std::string>{"2\ttwo again\t\\N\t[]"}));
}

TEST_F(ClickHouseApplyTest, WithoutTheSourceSchemaUsesClickHouseTypes) {
  dest_->ensure_table(doc_schema(), dest_table("doc"));
  BatchBuilder b1;
  uint32_t t = b1.table("doc", kDocColumns, {0});
  b1.upsert(t, 1, doc("1", "one"));
  // A destination that was never told the schema (ensure_table/add_missing_columns).
  auto fresh = std::make_unique<ClickHouseDestination>(peer_);
  BatchBuilder b2;
  t = b2.table("doc", {"id", "title", "body", "n", "flag", "tags", "fl"}, {0});  // without bin
  b2.upsert(t, 2, {"2", "two", kNull, "2.50", "f", "{7}", "{Infinity}"});
  b2.del(t, 3, {"1", kAbsent, kAbsent, kAbsent, kAbsent, kAbsent, kAbsent});
  dest_->apply_changes(b1.batch);
  fresh->apply_changes(b2.batch);
  // bin is not in the batch: the rows written get its default (NULL), also the soft delete.
  EXPECT_EQ(doc_rows(), (std::vector<std::string>{"1\tone\tbody\t1.50\t1\t[1,2]\t\\N\t[1.5]\t3\t1",
                                                  "2\ttwo\t\\N\t2.50\t0\t[7]\t\\N\t[inf]\t2\t0"}));
}

TEST_F(ClickHouseApplyTest, LargeBatchWithManyLookups) {
  dest_->ensure_table(doc_schema(), dest_table("doc"));
  const std::string payload(380, 'x');
  BatchBuilder b1;
  uint32_t t = b1.table("doc", kDocColumns, {0});
  for (int i = 0; i < 20000; ++i) b1.upsert(t, 1, doc(std::to_string(i), "t", payload));
  dest_->apply_changes(b1.batch);
  EXPECT_EQ(dest_->count_rows(dest_table("doc")), 20000);
  BatchBuilder b2;
  t = b2.table("doc", kDocColumns, {0});
  for (int i = 0; i < 20000; i += 2) b2.del(t, 2, key_only(std::to_string(i)));
  for (int i = 1; i < 20000; i += 2)
    b2.upsert(t, 2, {std::to_string(i), "u", kUnchanged, kUnchanged, kUnchanged, kUnchanged, kUnchanged, kUnchanged});
  dest_ = std::make_unique<ClickHouseDestination>(peer_);
  dest_->ensure_table(doc_schema(), dest_table("doc"));
  dest_->apply_changes(b2.batch);
  EXPECT_EQ(dest_->last_apply_stats().keys_found, 20000u);
  EXPECT_EQ(dest_->count_rows(dest_table("doc")), 10000);
  EXPECT_EQ(ch("SELECT count(), countIf(body = '" + payload + "'), countIf(_ferry_is_deleted = 1) FROM " +
               table("doc") + " FINAL"),
            "20000\t20000\t10000\n");
}

// orders (id int PK, customer_id int NOT NULL, note text) with order_by [customer_id]:
// ORDER BY (customer_id, id), so a row whose customer_id changes moves to another tuple.
TableSchema orders_schema() {
  TableSchema t;
  t.schema = "public";
  t.name = "orders";
  t.columns = {col("id", LogicalType::Int32, false, 1), col("customer_id", LogicalType::Int32, false),
               col("note", LogicalType::String)};
  return t;
}
const std::vector<std::string> kOrderColumns = {"id", "customer_id", "note"};

TEST_F(ClickHouseApplyTest, RowsMovingBetweenOrderByTuplesStayUnique) {
  const DestinationTable orders = dest_table("orders", {"customer_id"});
  dest_->ensure_table(orders_schema(), orders);
  ASSERT_EQ(ch("SELECT sorting_key FROM system.tables WHERE database = " + quote_ch_literal(database_) +
               " AND name = 'orders'"),
            "customer_id, id\n");
  auto live = [&] { return final_rows("orders", "id, customer_id, note, _ferry_version", "id", "_ferry_is_deleted = 0"); };
  auto everything = [&] {
    return final_rows("orders", "id, customer_id, note, _ferry_version, _ferry_is_deleted", "id, customer_id");
  };
  auto one_live_row_per_key = [&] {
    return ch("SELECT count() FROM (SELECT id FROM " + table("orders") +
              " FINAL WHERE _ferry_is_deleted = 0 GROUP BY id HAVING count() > 1)") == "0\n";
  };

  BatchBuilder b1;
  uint32_t t = b1.table("orders", kOrderColumns, {0});
  for (int i = 1; i <= 6; ++i) b1.upsert(t, 10, {std::to_string(i), "5", "n" + std::to_string(i)});
  b1.upsert(t, 10, {"7", "6", "n7"});
  b1.upsert(t, 10, {"8", "5", "n8"});
  dest_->apply_changes(b1.batch);
  EXPECT_EQ(dest_->last_apply_stats().keys_looked_up, 8u);  // every key, none found
  EXPECT_EQ(dest_->last_apply_stats().order_soft_deletes, 0u);

  // A new destination: what it knows comes from ClickHouse (the table's ORDER BY too).
  dest_ = std::make_unique<ClickHouseDestination>(peer_);
  BatchBuilder b2;
  t = b2.table("orders", kOrderColumns, {0});
  b2.upsert(t, 20, {"1", "7", "n1"});                                 // 5 -> 7
  b2.upsert(t, 20, {"2", "7", "n2"});                                 // 5 -> 7 -> 9 in one batch
  b2.upsert(t, 21, {"2", "9", kUnchanged});
  b2.upsert(t, 20, {"3", "7", "n3 moved"});                           // 5 -> 7, then deleted
  b2.del(t, 21, key_only_of(3, "3"));
  b2.move(t, 22, {"40", "8", kUnchanged}, key_only_of(3, "4"));        // id 4 -> 40 and 5 -> 8
  b2.del(t, 22, key_only_of(3, "5"));                                 // deleted under its own tuple
  b2.upsert(t, 22, {"6", "5", "n6 updated"});                         // same tuple
  b2.upsert(t, 23, {"7", "5", kUnchanged});                           // 6 -> 5, note from ClickHouse
  dest_->apply_changes(b2.batch);
  const ApplyStats& st = dest_->last_apply_stats();
  EXPECT_EQ(st.keys_looked_up, 8u);  // 1, 2, 3, 4, 40, 5, 6, 7
  EXPECT_EQ(st.keys_found, 7u);
  EXPECT_EQ(st.order_soft_deletes, 4u);  // 1, 2, 3, 7
  EXPECT_EQ(st.unknown_cells, 0u);
  const std::vector<std::string> expected = {"1\t7\tn1\t20", "6\t5\tn6 updated\t22", "7\t5\tn7\t23", "8\t5\tn8\t10",
                                             "2\t9\tn2\t21", "40\t8\tn4\t22"};
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(live()), sorted(expected));
  EXPECT_TRUE(one_live_row_per_key());
  EXPECT_EQ(dest_->count_rows(orders), 6);
  // Deleted rows keep their values; the old tuples hold soft deletes only.
  EXPECT_EQ(final_rows("orders", "id, customer_id, note, _ferry_version", "customer_id, id",
                       "_ferry_is_deleted = 1 AND id IN (3, 4, 5)"),
            (std::vector<std::string>{"3\t5\tn3\t21", "4\t5\tn4\t22", "5\t5\tn5\t22", "3\t7\tn3 moved\t21"}));
  const std::vector<std::string> after_b2 = everything();

  // Replays: the same batch (equal versions, same data) changes nothing...
  dest_ = std::make_unique<ClickHouseDestination>(peer_);
  dest_->apply_changes(b2.batch);
  EXPECT_EQ(dest_->last_apply_stats().order_soft_deletes, 0u);
  EXPECT_EQ(everything(), after_b2);
  // ... nor an older one (keys with a newer row are not written; id 8 is the same again)...
  dest_->apply_changes(b1.batch);
  EXPECT_EQ(dest_->last_apply_stats().stale_rows, 7u);
  EXPECT_EQ(dest_->last_apply_stats().rows_written, 1u);
  EXPECT_EQ(everything(), after_b2);
  // ... nor the same changes cut into other batches (after a restart from an older
  // checkpoint): id 2 under (7, 2) was never written, and must not come back live.
  BatchBuilder b2a;
  t = b2a.table("orders", kOrderColumns, {0});
  b2a.upsert(t, 20, {"1", "7", "n1"});
  b2a.upsert(t, 20, {"2", "7", "n2"});
  b2a.upsert(t, 20, {"3", "7", "n3 moved"});
  dest_->apply_changes(b2a.batch);
  EXPECT_EQ(sorted(live()), sorted(expected));
  EXPECT_TRUE(one_live_row_per_key());

  // Back to an earlier tuple, and a truncate in the middle of a batch.
  BatchBuilder b3;
  t = b3.table("orders", kOrderColumns, {0});
  b3.upsert(t, 30, {"1", "5", "n1 back"});  // 7 -> 5: its soft-deleted tuple comes back live
  b3.upsert(t, 30, {"6", "1", kUnchanged});
  b3.truncate(t, 31);
  b3.upsert(t, 32, {"6", "2", "n6 after truncate"});
  b3.upsert(t, 32, {"9", "3", "n9"});
  b3.upsert(t, 33, {"9", "4", kUnchanged});
  dest_->apply_changes(b3.batch);
  EXPECT_EQ(dest_->last_apply_stats().truncates, 1u);
  EXPECT_EQ(live(), (std::vector<std::string>{"6\t2\tn6 after truncate\t32", "9\t4\tn9\t33"}));
  EXPECT_TRUE(one_live_row_per_key());
  const std::vector<std::string> after_b3 = everything();
  dest_->apply_changes(b3.batch);
  EXPECT_EQ(everything(), after_b3);
  dest_ = std::make_unique<ClickHouseDestination>(peer_);
  dest_->ensure_table(orders_schema(), orders);
  dest_->apply_changes(b2.batch);
  dest_->apply_changes(b3.batch);
  EXPECT_EQ(everything(), after_b3);
}

TEST_F(ClickHouseApplyTest, OrderByOfKeyColumnsOnlyLooksUpNothingExtra) {
  dest_->ensure_table(orders_schema(), dest_table("orders", {"id"}));  // ORDER BY (id)
  BatchBuilder b;
  uint32_t t = b.table("orders", kOrderColumns, {0});
  b.upsert(t, 1, {"1", "5", "a"});
  b.upsert(t, 2, {"1", "7", "b"});
  dest_->apply_changes(b.batch);
  EXPECT_EQ(dest_->last_apply_stats().keys_looked_up, 0u);
  EXPECT_EQ(final_rows("orders", "id, customer_id, note"), (std::vector<std::string>{"1\t7\tb"}));
}

TEST_F(ClickHouseApplyTest, UnreachableServerIsTransient) {
  dest_->ensure_table(doc_schema(), dest_table("doc"));
  PeerSpec down = peer_;
  down.url = "http://127.0.0.1:1";
  ClickHouseDestination gone(down);
  BatchBuilder b;
  uint32_t t = b.table("doc", kDocColumns, {0});
  b.upsert(t, 1, doc("1", "one"));
  try {
    gone.apply_changes(b.batch);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Transient) << e.what();
  }
}

TEST_F(ClickHouseApplyTest, MissingTableIsPermanent) {
  dest_->server_version();
  ch("CREATE DATABASE IF NOT EXISTS " + quote_backtick_ident(database_));
  BatchBuilder b;
  uint32_t t = b.table("nope", {"id"}, {0});
  b.upsert(t, 1, {"1"});
  try {
    dest_->apply_changes(b.batch);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent) << e.what();
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
}

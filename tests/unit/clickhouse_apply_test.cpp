// The pure parts of applying change batches to ClickHouse (clickhouse_apply.h):
// merging rows per key, filling unknown cells, lookup answers, RowBinary rows and SQL text.
// Rows are compared as TSV-like text decoded from their RowBinary bytes here (decode_rows),
// lookup answers are built in RowBinary from such text (answer).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "connectors/clickhouse/clickhouse_apply.h"
#include "core/error.h"
#include "../shared/change_batch_builder.h"
#include "../shared/clickhouse_column_builder.h"
#include "../shared/rowbinary_text.h"

using namespace ferry;
using namespace ferry::clickhouse;

using namespace ferry::test;
using ferry::test::answer;
using ferry::test::decode_rows;

namespace {

// id Int32 (key), title Nullable(String), body Nullable(String)
TablePlan doc_plan() {
  TablePlan p;
  p.source = "public.doc";
  p.database = "db";
  p.table = "doc";
  p.columns = {ch_column("id", "Int32", Codec::Verbatim, false), ch_column("title", "Nullable(String)", Codec::Text, true),
               ch_column("body", "Nullable(String)", Codec::Text, true)};
  return p;
}

// Every output row as TSV, in output order.
std::vector<std::string> encode_all(const ChangeBatch& batch, const ChangeMerger& m, RowBinaryEncoder& enc,
                                    const LookupRows* lookup = nullptr, size_t* unknown = nullptr) {
  std::vector<std::string> rows;
  size_t u = 0;
  for (const auto& o : m.outputs()) {
    std::string out;
    u += encode_output(batch, m, o, lookup, enc, out);
    std::vector<std::string> one = decode_rows(enc, out);
    EXPECT_EQ(one.size(), 1u);
    rows.push_back(one.empty() ? std::string() : one[0]);
  }
  if (unknown) *unknown = u;
  return rows;
}

}  // namespace

TEST(ClickHouseApplyMerge, UpsertsCollapsePerKeyLastWins) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "title", "body"}, {0});
  b.upsert(t, 10, {"1", "a", "x"});
  b.upsert(t, 10, {"2", "b", "y"});
  b.upsert(t, 11, {"1", "a2", "x2"});
  b.upsert(t, 12, {"1", "a3", kNull});
  ChangeMerger m;
  m.merge(b.batch, t, {0});
  RowBinaryEncoder enc(doc_plan());
  ASSERT_EQ(m.steps().size(), 1u);
  EXPECT_FALSE(m.steps()[0].truncate);
  EXPECT_TRUE(m.lookups().empty());
  EXPECT_EQ(encode_all(b.batch, m, enc), (std::vector<std::string>{"1\ta3\t\\N\t12\t0\n", "2\tb\ty\t10\t0\n"}));
}

TEST(ClickHouseApplyMerge, UnchangedAndAbsentFilledFromEarlierRowsOfTheBatch) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "title", "body"}, {0});
  b.upsert(t, 10, {"1", "t1", "long body"});
  b.upsert(t, 11, {"1", "retitled", kUnchanged});
  b.upsert(t, 12, {"2", "t2", "body2"});
  b.del(t, 13, {"2", kAbsent, kAbsent});  // REPLICA IDENTITY DEFAULT: key only
  ChangeMerger m;
  m.merge(b.batch, t, {0});
  RowBinaryEncoder enc(doc_plan());
  EXPECT_TRUE(m.lookups().empty());
  size_t unknown = 99;
  EXPECT_EQ(encode_all(b.batch, m, enc, nullptr, &unknown),
            (std::vector<std::string>{"1\tretitled\tlong body\t11\t0\n", "2\tt2\tbody2\t13\t1\n"}));
  EXPECT_EQ(unknown, 0u);
}

TEST(ClickHouseApplyMerge, UnknownCellsAreLookedUpThenFilled) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "title", "body"}, {0});
  b.upsert(t, 20, {"5", "new title", kUnchanged});  // body only in ClickHouse
  b.del(t, 21, {"6", kAbsent, kAbsent});            // whole row only in ClickHouse
  b.del(t, 22, {"7", kAbsent, kAbsent});            // nowhere
  b.upsert(t, 23, {"8", "full", "row"});            // needs nothing
  ChangeMerger m;
  m.merge(b.batch, t, {0});
  ASSERT_EQ(m.lookups().size(), 3u);
  EXPECT_EQ(m.key_text(m.lookups()[0], 0), "5");
  EXPECT_EQ(m.key_text(m.lookups()[1], 0), "6");
  EXPECT_EQ(m.key_text(m.lookups()[2], 0), "7");

  RowBinaryEncoder enc(doc_plan());
  TsvEncoder key_enc(doc_plan());
  std::string keys, scratch;
  for (uint32_t s : m.lookups()) append_lookup_key(m, s, {0}, key_enc, scratch, keys);
  EXPECT_EQ(keys, "0\t5\n1\t6\n2\t7\n");

  LookupRows lookup;
  lookup.reset(m.states(), enc);
  // ClickHouse's RowBinary fields pass through unchanged.
  lookup.add_answer(answer(enc, "0\t5\told title\tbody\\twith tab\t3\t0\n1\t6\tsix\t\\N\t4\t0\n"));
  size_t unknown = 0;
  auto rows = encode_all(b.batch, m, enc, &lookup, &unknown);
  EXPECT_EQ(rows, (std::vector<std::string>{"5\tnew title\tbody\\twith tab\t20\t0\n", "6\tsix\t\\N\t21\t1\n",
                                            "7\t\\N\t\\N\t22\t1\n", "8\tfull\trow\t23\t0\n"}));
  EXPECT_EQ(unknown, 2u);  // row 7: title and body
}

TEST(ClickHouseApplyMerge, KeyChangeDeletesTheOldKeyWithItsLastValues) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "title", "body"}, {0});
  b.upsert(t, 30, {"1", "one", "b1"});
  // UPDATE doc SET id = 100 WHERE id = 1 (body unchanged TOAST: known from the old key)
  b.row(t, RowOp::Upsert, 31, {"100", "one", kUnchanged}, std::vector<C>{"1", kAbsent, kAbsent});
  // One whose old row is only in ClickHouse, fully sent.
  b.row(t, RowOp::Upsert, 32, {"200", "two", "b2"}, std::vector<C>{"2", kAbsent, kAbsent});
  // One whose old row is only in ClickHouse, body unchanged: from the OLD key's row.
  b.row(t, RowOp::Upsert, 33, {"300", "three", kUnchanged}, std::vector<C>{"3", kAbsent, kAbsent});
  // And moved again within the batch.
  b.row(t, RowOp::Upsert, 34, {"301", "three", kUnchanged}, std::vector<C>{"300", kAbsent, kAbsent});
  ChangeMerger m;
  m.merge(b.batch, t, {0});
  RowBinaryEncoder enc(doc_plan());
  TsvEncoder key_enc(doc_plan());
  std::string keys, scratch;
  for (uint32_t s : m.lookups()) append_lookup_key(m, s, {0}, key_enc, scratch, keys);
  EXPECT_EQ(keys, "2\t2\n4\t3\n");  // states 2 (key 2) and 4 (key 3)
  LookupRows lookup;
  lookup.reset(m.states(), enc);
  lookup.add_answer(answer(enc, "2\t2\told two\told b2\t5\t0\n4\t3\told three\told b3\t6\t0\n"));
  size_t unknown = 0;
  auto rows = encode_all(b.batch, m, enc, &lookup, &unknown);
  EXPECT_EQ(rows, (std::vector<std::string>{"1\tone\tb1\t31\t1\n", "100\tone\tb1\t31\t0\n",
                                            "2\told two\told b2\t32\t1\n", "200\ttwo\tb2\t32\t0\n",
                                            "3\told three\told b3\t33\t1\n", "300\tthree\told b3\t34\t1\n",
                                            "301\tthree\told b3\t34\t0\n"}));
  EXPECT_EQ(unknown, 0u);
}

TEST(ClickHouseApplyMerge, OldKeyEqualToNewKeyLeavesOneLiveRow) {
  // Replica identity FULL on a table keyed by id: the old tuple is the full old row
  // under the same destination key.
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "title", "body"}, {0, 1, 2});
  b.row(t, RowOp::Upsert, 40, {"1", "new", "b"}, std::vector<C>{"1", "old", "b"});
  ChangeMerger m;
  m.merge(b.batch, t, {0});
  RowBinaryEncoder enc(doc_plan());
  EXPECT_EQ(encode_all(b.batch, m, enc), (std::vector<std::string>{"1\tnew\tb\t40\t0\n"}));
}

TEST(ClickHouseApplyMerge, TruncateSplitsTheBatchIntoSegments) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "title", "body"}, {0});
  uint32_t other = b.table("other", {"id", "title", "body"}, {0});
  b.upsert(t, 50, {"1", "a", "b"});
  b.upsert(other, 50, {"9", "o", "o"});
  b.upsert(t, 50, {"2", "a", "b"});
  b.truncate(t, 51);
  b.upsert(t, 51, {"1", "after", "truncate"});
  b.upsert(t, 52, {"3", "c", "d"});
  ChangeMerger m;
  m.merge(b.batch, t, {0});
  ASSERT_EQ(m.steps().size(), 2u);
  EXPECT_TRUE(m.steps()[0].truncate);
  EXPECT_EQ(m.steps()[0].version, 51u);
  EXPECT_EQ(m.steps()[0].last - m.steps()[0].first, 2u);
  EXPECT_FALSE(m.steps()[1].truncate);
  EXPECT_EQ(m.steps()[1].last - m.steps()[1].first, 2u);
  RowBinaryEncoder enc(doc_plan());
  EXPECT_EQ(encode_all(b.batch, m, enc), (std::vector<std::string>{"1\ta\tb\t50\t0\n", "2\ta\tb\t50\t0\n",
                                                                    "1\tafter\ttruncate\t51\t0\n", "3\tc\td\t52\t0\n"}));
  // Only the other table's row for the other table.
  m.merge(b.batch, other, {0});
  ASSERT_EQ(m.outputs().size(), 1u);
  EXPECT_EQ(encode_all(b.batch, m, enc), (std::vector<std::string>{"9\to\to\t50\t0\n"}));
}

TEST(ClickHouseApplyMerge, TruncateFirstAndLast) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "title", "body"}, {0});
  b.truncate(t, 60);
  b.upsert(t, 61, {"1", "a", "b"});
  b.truncate(t, 62);
  ChangeMerger m;
  m.merge(b.batch, t, {0});
  ASSERT_EQ(m.steps().size(), 3u);
  EXPECT_TRUE(m.steps()[0].truncate);
  EXPECT_EQ(m.steps()[0].first, m.steps()[0].last);
  EXPECT_TRUE(m.steps()[1].truncate);
  EXPECT_EQ(m.steps()[1].last - m.steps()[1].first, 1u);
  EXPECT_FALSE(m.steps()[2].truncate);
  EXPECT_EQ(m.steps()[2].first, m.steps()[2].last);
}

TEST(ClickHouseApplyMerge, CompositeKeysAndManyStates) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"k1", "k2", "v"}, {0, 1});
  for (int i = 0; i < 5000; ++i) b.upsert(t, 1, {std::to_string(i % 100), "k" + std::to_string(i), "v"});
  for (int i = 0; i < 5000; ++i) b.upsert(t, 2, {std::to_string(i % 100), "k" + std::to_string(i), std::to_string(i)});
  // Same texts in different columns are different keys.
  b.upsert(t, 3, {"1", "2", "x"});
  b.upsert(t, 3, {"12", "", "y"});
  ChangeMerger m;
  m.merge(b.batch, t, {0, 1});
  EXPECT_EQ(m.outputs().size(), 5002u);
  EXPECT_EQ(m.states(), 5002u);
  TablePlan p;
  p.source = "public.t";
  p.columns = {ch_column("k1", "Int32", Codec::Verbatim, false), ch_column("k2", "String", Codec::Text, false),
               ch_column("v", "String", Codec::Text, false)};
  RowBinaryEncoder enc(p);
  auto rows = encode_all(b.batch, m, enc);
  EXPECT_EQ(rows[4999], "99\tk4999\t4999\t2\t0\n");
  EXPECT_EQ(rows[5000], "1\t2\tx\t3\t0\n");
  EXPECT_EQ(rows[5001], "12\t\ty\t3\t0\n");
}

TEST(ClickHouseApplyMerge, KeylessTablesAppendEveryChange) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "title", "body"}, {});
  b.upsert(t, 1, {"1", "a", "b"});
  b.upsert(t, 2, {"1", "a", "b"});
  b.del(t, 3, {"1", "a", kAbsent});
  ChangeMerger m;
  m.merge(b.batch, t, {});
  EXPECT_TRUE(m.lookups().empty());
  RowBinaryEncoder enc(doc_plan());
  size_t unknown = 0;
  EXPECT_EQ(encode_all(b.batch, m, enc, nullptr, &unknown),
            (std::vector<std::string>{"1\ta\tb\t1\t0\n", "1\ta\tb\t2\t0\n", "1\ta\t\\N\t3\t1\n"}));
  EXPECT_EQ(unknown, 1u);
}

TEST(ClickHouseApplyMerge, RowsWithoutKeyValueAreSkipped) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "title", "body"}, {0});
  b.del(t, 1, {kAbsent, "x", "y"});
  b.upsert(t, 2, {"1", "a", "b"});
  ChangeMerger m;
  m.merge(b.batch, t, {0});
  EXPECT_EQ(m.skipped_rows(), 1u);
  EXPECT_EQ(m.outputs().size(), 1u);
}

TEST(ClickHouseApplyMerge, ReusedMergerStartsClean) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "title", "body"}, {0});
  b.del(t, 1, {"1", kAbsent, kAbsent});
  ChangeMerger m;
  m.merge(b.batch, t, {0});
  EXPECT_EQ(m.lookups().size(), 1u);
  BatchBuilder b2;
  uint32_t t2 = b2.table("t", {"id", "title", "body"}, {0});
  b2.upsert(t2, 2, {"1", "x", "y"});
  m.merge(b2.batch, t2, {0});
  EXPECT_TRUE(m.lookups().empty());
  RowBinaryEncoder enc(doc_plan());
  EXPECT_EQ(encode_all(b2.batch, m, enc), (std::vector<std::string>{"1\tx\ty\t2\t0\n"}));
}

// --- ORDER BY with columns besides the key (order_by [customer], key id) ---

namespace {

// id Int32 (key), customer Int32 (ORDER BY (customer, id)), title Nullable(String)
TablePlan orders_plan() {
  TablePlan p;
  p.source = "public.orders";
  p.database = "db";
  p.table = "orders";
  p.columns = {ch_column("id", "Int32", Codec::Verbatim, false), ch_column("customer", "Int32", Codec::Verbatim, false),
               ch_column("title", "Nullable(String)", Codec::Text, true)};
  return p;
}
const std::vector<uint32_t> kOrder = {1};  // customer

// For lookup answers of orders_plan() tables.
RowBinaryEncoder& orders_encoder() {
  static RowBinaryEncoder enc(orders_plan());
  return enc;
}

// Every output through encode_output_ordered, as TSV lines.
std::vector<std::string> encode_ordered(const ChangeBatch& batch, const ChangeMerger& m, const LookupRows& lookup,
                                        OrderedCounts& counts, std::optional<uint64_t> truncated = std::nullopt) {
  RowBinaryEncoder enc(orders_plan());
  std::string out, scratch;
  for (const auto& o : m.outputs()) encode_output_ordered(batch, m, o, lookup, kOrder, truncated, enc, scratch, out, counts);
  std::vector<std::string> rows = decode_rows(enc, out);
  for (auto& r : rows) r.pop_back();  // the newline
  return rows;
}

}  // namespace

TEST(ClickHouseApplyOrdered, EveryKeyIsLookedUpOnlyWhenAsked) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "customer", "title"}, {0});
  b.upsert(t, 1, {"1", "5", "a"});
  b.del(t, 2, {"2", kAbsent, kAbsent});
  b.upsert(t, 3, {"3", "6", "c"});
  b.row(t, RowOp::Upsert, 4, {"40", "6", "d"}, std::vector<C>{"4", kAbsent, kAbsent});
  ChangeMerger m;
  m.merge(b.batch, t, {0});
  ASSERT_EQ(m.lookups(), (std::vector<uint32_t>{1, 3}));  // only unknown cells: key 2, old key 4
  m.merge(b.batch, t, {0}, true);
  EXPECT_EQ(m.lookups(), (std::vector<uint32_t>{0, 1, 2, 3, 4}));  // every key, once
}

TEST(ClickHouseApplyOrdered, RowsThatLeaveTheirTupleAreSoftDeletedThere) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "customer", "title"}, {0});
  b.upsert(t, 20, {"1", "7", "moved"});                // 5 -> 7
  b.upsert(t, 20, {"2", "5", "same tuple"});           // stays under (5, 2)
  b.del(t, 21, {"3", kAbsent, kAbsent});               // key-only delete: lands under the stored tuple
  b.upsert(t, 22, {"4", "8", "x"});                    // 5 -> 8 -> 9, then deleted
  b.upsert(t, 22, {"4", "9", kUnchanged});
  b.del(t, 23, {"4", kAbsent, kAbsent});
  b.upsert(t, 24, {"5", "1", "new"});                  // not in ClickHouse
  b.del(t, 25, {"6", kAbsent, kAbsent});               // nowhere
  ChangeMerger m;
  m.merge(b.batch, t, {0}, true);
  ASSERT_EQ(m.lookups().size(), 6u);
  LookupRows lookup;
  lookup.reset(m.states(), orders_encoder());
  lookup.add_answer(answer(orders_encoder(), "0\t1\t5\told\t10\t0\n1\t2\t5\told two\t10\t0\n2\t3\t6\tthree\t10\t0\n3\t4\t5\tfour\t11\t0\n"));
  OrderedCounts counts;
  EXPECT_EQ(encode_ordered(b.batch, m, lookup, counts),
            (std::vector<std::string>{"1\t5\told\t20\t1", "1\t7\tmoved\t20\t0",  //
                                      "2\t5\tsame tuple\t20\t0",                 //
                                      "3\t6\tthree\t21\t1",                      //
                                      "4\t5\tfour\t23\t1", "4\t9\tx\t23\t1",     // the old tuple's row, and the last values
                                      "5\t1\tnew\t24\t0",                        //
                                      "6\t0\t\\N\t25\t1"}));
  EXPECT_EQ(counts.soft_deletes, 2u);
  EXPECT_EQ(counts.rows, 8u);
  EXPECT_EQ(counts.stale, 0u);
  EXPECT_EQ(counts.unknown, 2u);  // key 6
}

TEST(ClickHouseApplyOrdered, ReplaysWriteTheSameRowsOrNothing) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "customer", "title"}, {0});
  b.upsert(t, 20, {"1", "7", "moved"});
  b.upsert(t, 20, {"2", "9", "moved twice"});
  ChangeMerger m;
  m.merge(b.batch, t, {0}, true);
  LookupRows lookup;
  lookup.reset(m.states(), orders_encoder());
  // The batch was applied already: old tuples soft-deleted with its version, new rows live.
  // Key 2 was moved on by a later batch (a replay from an older checkpoint).
  lookup.add_answer(answer(orders_encoder(), "0\t1\t5\told\t20\t1\n0\t1\t7\tmoved\t20\t0\n1\t2\t5\told\t20\t1\n1\t2\t9\tmoved twice\t30\t1\n"
                    "1\t2\t3\tlater\t30\t0\n"));
  OrderedCounts counts;
  EXPECT_EQ(encode_ordered(b.batch, m, lookup, counts), (std::vector<std::string>{"1\t7\tmoved\t20\t0"}));
  EXPECT_EQ(counts.stale, 1u);
  EXPECT_EQ(counts.soft_deletes, 0u);
  EXPECT_EQ(counts.rows, 1u);
}

TEST(ClickHouseApplyOrdered, EveryLiveRowUnderAnotherTupleIsSoftDeleted) {
  // Two live rows of one key (written before ferry handled moves): both other tuples.
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "customer", "title"}, {0});
  b.upsert(t, 20, {"1", "7", kUnchanged});
  ChangeMerger m;
  m.merge(b.batch, t, {0}, true);
  LookupRows lookup;
  lookup.reset(m.states(), orders_encoder());
  lookup.add_answer(answer(orders_encoder(), "0\t1\t5\tv5\t10\t0\n0\t1\t6\tv6\t12\t0\n0\t1\t4\tgone\t12\t1\n"));
  OrderedCounts counts;
  auto rows = encode_ordered(b.batch, m, lookup, counts);
  std::sort(rows.begin(), rows.end() - 1);
  EXPECT_EQ(rows, (std::vector<std::string>{"1\t5\tv5\t20\t1", "1\t6\tv6\t20\t1", "1\t7\tv6\t20\t0"}));
  EXPECT_EQ(counts.soft_deletes, 2u);
}

TEST(ClickHouseApplyOrdered, RowsATruncateSoftDeletedAreLeftAlone) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "customer", "title"}, {0});
  b.truncate(t, 15);
  b.upsert(t, 20, {"1", "7", "a"});
  b.upsert(t, 20, {"2", "7", "b"});
  ChangeMerger m;
  m.merge(b.batch, t, {0}, true);
  LookupRows lookup;
  lookup.reset(m.states(), orders_encoder());
  // Key 1's row is older than the truncate; key 2's was written after it (a replay).
  lookup.add_answer(answer(orders_encoder(), "0\t1\t5\told\t10\t0\n1\t2\t5\tnewer\t16\t0\n"));
  OrderedCounts counts;
  EXPECT_EQ(encode_ordered(b.batch, m, lookup, counts, 15u),
            (std::vector<std::string>{"1\t7\ta\t20\t0", "2\t5\tnewer\t20\t1", "2\t7\tb\t20\t0"}));
  EXPECT_EQ(counts.soft_deletes, 1u);
}

TEST(ClickHouseApplyOrdered, KeyChangesDeleteTheOldKeyUnderItsStoredTuple) {
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "customer", "title"}, {0});
  // UPDATE SET id = 10, customer = 7 WHERE id = 1 (title unchanged TOAST)
  b.row(t, RowOp::Upsert, 20, {"10", "7", kUnchanged}, std::vector<C>{"1", kAbsent, kAbsent});
  // UPDATE SET customer = 8 WHERE id = 2; UPDATE SET id = 20 WHERE id = 2
  b.upsert(t, 21, {"2", "8", "two"});
  b.row(t, RowOp::Upsert, 22, {"20", "8", kUnchanged}, std::vector<C>{"2", kAbsent, kAbsent});
  ChangeMerger m;
  m.merge(b.batch, t, {0}, true);
  LookupRows lookup;
  lookup.reset(m.states(), orders_encoder());
  lookup.add_answer(answer(orders_encoder(), "0\t1\t5\tone\t10\t0\n2\t2\t5\ttwo\t10\t0\n"));
  OrderedCounts counts;
  EXPECT_EQ(encode_ordered(b.batch, m, lookup, counts),
            (std::vector<std::string>{"1\t5\tone\t20\t1",                     // old key, stored values: its own tuple
                                      "10\t7\tone\t20\t0",                    //
                                      "2\t5\ttwo\t22\t1", "2\t8\ttwo\t22\t1",  // old key moved first: both tuples
                                      "20\t8\ttwo\t22\t0"}));
  EXPECT_EQ(counts.soft_deletes, 1u);
}

// Tables of String columns, for the LookupRows tests.
TablePlan strings_plan(size_t n) {
  TablePlan p;
  p.source = "public.t";
  for (size_t j = 0; j < n; ++j) p.columns.push_back(ch_column("s" + std::to_string(j), "String", Codec::Text, false));
  return p;
}

// The RowBinary field of a String.
std::string rb_string(std::string_view s) { return std::string(1, static_cast<char>(s.size())) + std::string(s); }

TEST(ClickHouseApplyLookup, EveryRowOfAStateCanBeWalked) {
  RowBinaryEncoder enc(strings_plan(1));
  LookupRows l;
  l.reset(3, enc);
  l.add_answer(answer(enc, "0\ta\t5\t0\n1\tb\t3\t1\n0\tc\t7\t1\n"));
  l.add_answer(answer(enc, "0\td\t7\t0\n"));
  EXPECT_EQ(l.field(0, 0), rb_string("d"));  // highest version, live on the tie
  EXPECT_EQ(l.version(0), 7u);
  std::vector<std::string> seen;
  for (int32_t r = l.first_row(0); r >= 0; r = l.next_row(r))
    seen.push_back(std::string(l.row_field(r, 0).substr(1)) + std::to_string(l.row_version(r)) +
                   (l.row_deleted(r) ? "d" : ""));
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"a5", "c7d", "d7"}));
  EXPECT_EQ(l.first_row(2), -1);
}

TEST(ClickHouseApplyEncode, BatchValuesAreUnescapedSourceText) {
  TablePlan p;
  p.source = "public.t";
  p.columns = {ch_column("id", "Int64", Codec::Verbatim, false),
               ch_column("s", "Nullable(String)", Codec::Text, true),
               ch_column("flag", "UInt8", Codec::Bool, false),
               ch_column("bin", "Nullable(String)", Codec::Bytes, true),
               ch_column("arr", "Array(Nullable(String))", Codec::Array, false, Codec::Text),
               ch_column("f", "Float64", Codec::Float, false),
               ch_column("d", "Decimal(10, 2)", Codec::Decimal, false)};
  RowBinaryEncoder enc(p);
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "s", "flag", "bin", "arr", "f", "d"}, {0});
  b.upsert(t, 7, {"1", "tab\there\nnew line \\ back 'q' \"dq\"", "t", "\\x00ff5c", "{\"a b\",NULL,\"it's\",\"x\\\\y\"}",
                  "-Infinity", "12.50"});
  ChangeMerger m;
  m.merge(b.batch, t, {0});
  auto rows = encode_all(b.batch, m, enc);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0],
            "1\ttab\\there\\nnew line \\\\ back 'q' \"dq\"\t1\t\\0\xff\\\\\t['a b',NULL,'it\\'s','x\\\\y']\t-inf\t12.50\t7\t0\n");
}

TEST(ClickHouseApplyEncode, NullAndUnknownInNotNullableColumns) {
  TablePlan p;
  p.source = "public.t";
  p.columns = {ch_column("id", "Int64", Codec::Verbatim, false), ch_column("n", "Int32", Codec::Verbatim, false),
               ch_column("u", "UUID", Codec::Uuid, false), ch_column("a", "Array(Nullable(Int32))", Codec::Array, false,
                                                                 Codec::Verbatim)};
  RowBinaryEncoder enc(p);
  BatchBuilder b;
  uint32_t t = b.table("t", {"id", "n", "u", "a"}, {0});
  b.del(t, 1, {"1", kAbsent, kAbsent, kAbsent});
  ChangeMerger m;
  m.merge(b.batch, t, {0});
  size_t unknown = 0;
  EXPECT_EQ(encode_all(b.batch, m, enc, nullptr, &unknown),
            (std::vector<std::string>{"1\t0\t00000000-0000-0000-0000-000000000000\t[]\t1\t1\n"}));
  EXPECT_EQ(unknown, 3u);

  BatchBuilder b2;
  uint32_t t2 = b2.table("t", {"id", "n", "u", "a"}, {0});
  b2.upsert(t2, 1, {"1", kNull, "00000000-0000-0000-0000-000000000001", "{}"});
  m.merge(b2.batch, t2, {0});
  std::string out;
  EXPECT_THROW(encode_output(b2.batch, m, m.outputs()[0], nullptr, enc, out), Error);
}

TEST(ClickHouseApplyEncode, LookupKeysAreStringsForCast) {
  TablePlan p;
  p.source = "public.t";
  p.columns = {ch_column("s", "String", Codec::Text, false),
               ch_column("b", "UInt8", Codec::Bool, false),
               ch_column("a", "Array(Nullable(String))", Codec::Array, false, Codec::Text)};
  TsvEncoder enc(p);
  BatchBuilder b;
  uint32_t t = b.table("t", {"s", "b", "a"}, {0, 1, 2});
  b.del(t, 1, {"x\ty\\z", "f", "{\"it's\"}"});
  ChangeMerger m;
  m.merge(b.batch, t, {0, 1, 2});
  std::string keys, scratch;
  append_lookup_key(m, 0, {0, 1, 2}, enc, scratch, keys);
  // The array's quoted literal ['it\'s'] escaped once more as a TSV String.
  EXPECT_EQ(keys, "0\tx\\ty\\\\z\t0\t['it\\\\'s']\n");
}

TEST(ClickHouseApplyLookup, HighestVersionWinsThenLiveRow) {
  RowBinaryEncoder enc(strings_plan(2));
  LookupRows l;
  l.reset(3, enc);
  l.add_answer(answer(enc, "0\ta\tb\t5\t0\n0\tc\td\t7\t1\n1\te\tf\t3\t1\n1\tg\th\t3\t0\n"));
  l.add_answer("");
  l.add_answer(answer(enc, "1\ti\tj\t2\t0\n"));
  EXPECT_TRUE(l.found(0));
  EXPECT_TRUE(l.found(1));
  EXPECT_FALSE(l.found(2));
  EXPECT_EQ(l.field(0, 0), rb_string("c"));
  EXPECT_EQ(l.field(0, 1), rb_string("d"));
  EXPECT_EQ(l.field(1, 0), rb_string("g"));
  EXPECT_EQ(l.rows(), 5u);
}

TEST(ClickHouseApplyLookup, MalformedAnswersAreErrors) {
  RowBinaryEncoder enc(strings_plan(2));
  LookupRows l;
  l.reset(2, enc);
  const std::string good = answer(enc, "0\ta\tb\t5\t0\n");
  for (size_t cut = 1; cut < good.size(); ++cut)
    EXPECT_THROW(l.add_answer(std::string_view(good).substr(0, cut)), Error) << cut;  // cut off anywhere
  l.reset(2, enc);
  EXPECT_THROW(l.add_answer(answer(enc, "9\ta\tb\t5\t0\n")), Error);  // unknown state
  l.reset(2, enc);
  EXPECT_THROW(l.add_answer(answer(enc, "0\ta\tb\t5\tz\n")), Error);  // bad _ferry_is_deleted
  l.reset(2, enc);
  l.add_answer(good);
  EXPECT_EQ(l.rows(), 1u);
}

TEST(ClickHouseApplySql, Statements) {
  EXPECT_EQ(lookup_structure(2), "_ferry_i UInt32, _ferry_k0 String, _ferry_k1 String");
  EXPECT_EQ(lookup_sql("db", "t", {"id", "my col", "v"}, {"Int32", "String", "Nullable(String)"}, {0, 1}),
            "SELECT _ferry_i, `id`, `my col`, `v`, `_ferry_version`, `_ferry_is_deleted` FROM (SELECT _ferry_i, "
            "CAST(_ferry_k0 AS Int32) AS `id`, CAST(_ferry_k1 AS String) AS `my col` FROM _ferry_keys) ALL INNER JOIN "
            "(SELECT `id`, `my col`, `v`, `_ferry_version`, `_ferry_is_deleted` FROM `db`.`t` FINAL WHERE (`id`, "
            "`my col`) IN (SELECT CAST(_ferry_k0 AS Int32), CAST(_ferry_k1 AS String) FROM _ferry_keys)) USING (`id`, "
            "`my col`) FORMAT RowBinary");
  EXPECT_EQ(apply_insert_sql("db", "t", {"id", "v"}),
            "INSERT INTO `db`.`t` (`id`, `v`, `_ferry_version`, `_ferry_is_deleted`) FORMAT TabSeparated");
  EXPECT_EQ(apply_insert_sql("db", "t", {"id"}, "RowBinary"),
            "INSERT INTO `db`.`t` (`id`, `_ferry_version`, `_ferry_is_deleted`) FORMAT RowBinary");
  EXPECT_EQ(truncate_sql("db", "t", {"id", "v"}, 42),
            "INSERT INTO `db`.`t` (`id`, `v`, `_ferry_version`, `_ferry_is_deleted`) SELECT `id`, `v`, toUInt64(42), "
            "toUInt8(1) FROM `db`.`t` FINAL WHERE `_ferry_is_deleted` = 0 AND `_ferry_version` <= 42");
}

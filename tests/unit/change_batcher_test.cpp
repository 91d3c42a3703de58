#include <gtest/gtest.h>

#include "pipe/change_batcher.h"

using namespace ferry;

namespace {

PipeSpec pipe_with(std::vector<std::string> exclude = {}) {
  PipeSpec p;
  p.name = "p";
  p.mode = PipeMode::Cdc;
  TableMapping m;
  m.source = "public.t";
  m.destination = "t_dst";
  m.exclude_columns = std::move(exclude);
  p.tables.push_back(m);
  return p;
}

StreamRelation relation(std::vector<std::string> cols = {"id", "a", "secret"}) {
  StreamRelation r;
  r.schema = "public";
  r.name = "t";
  r.columns = cols;
  r.key.assign(cols.size(), false);
  r.key[0] = true;
  return r;
}

ChangeEvent row(const StreamRelation& rel, RowOp op, uint64_t version, std::vector<StreamValue> values) {
  ChangeEvent e;
  e.kind = ChangeEvent::Kind::Row;
  e.relation = &rel;
  e.op = op;
  e.version = version;
  e.values = std::move(values);
  return e;
}

ChangeEvent begin(uint64_t v) {
  ChangeEvent e;
  e.kind = ChangeEvent::Kind::Begin;
  e.version = v;
  return e;
}

ChangeEvent commit(uint64_t v, uint64_t end) {
  ChangeEvent e;
  e.kind = ChangeEvent::Kind::Commit;
  e.version = v;
  e.position = end;
  return e;
}

StreamValue val(std::string_view s) { return {CellState::Value, s}; }
StreamValue null() { return {CellState::Null, {}}; }

}  // namespace

TEST(ChangeBatcher, CopiesValuesDropsExcludedColumnsAndTracksCommits) {
  PipeSpec spec = pipe_with({"secret"});
  ChangeBatcher b(spec);
  StreamRelation rel = relation();
  b.add(begin(100));
  b.add(row(rel, RowOp::Upsert, 100, {val("1"), val("x"), val("hidden")}));
  b.add(row(rel, RowOp::Delete, 100, {val("2"), {CellState::Absent, {}}, {CellState::Absent, {}}}));
  EXPECT_TRUE(b.in_transaction());
  EXPECT_EQ(b.safe_position(), 0u);  // nothing complete yet
  b.add(commit(100, 120));
  EXPECT_EQ(b.safe_position(), 120u);
  const ChangeBatch& batch = b.batch();
  ASSERT_EQ(batch.tables.size(), 1u);
  EXPECT_EQ(batch.tables[0].destination, "t_dst");
  EXPECT_EQ(batch.tables[0].columns, (std::vector<std::string>{"id", "a"}));
  EXPECT_EQ(batch.tables[0].key, (std::vector<uint32_t>{0}));
  ASSERT_EQ(batch.rows.size(), 2u);
  EXPECT_EQ(batch.text(batch.cells[batch.rows[0].first_cell + 1]), "x");
  EXPECT_EQ(batch.rows[1].op, RowOp::Delete);
  EXPECT_EQ(batch.cells[batch.rows[1].first_cell + 1].state, CellState::Absent);
  EXPECT_EQ(batch.arena.find("hidden"), std::string::npos);
}

TEST(ChangeBatcher, MidTransactionFlushKeepsCheckpointAtPreviousCommit) {
  PipeSpec spec = pipe_with();
  ChangeBatcher b(spec);
  StreamRelation rel = relation();
  b.add(begin(10));
  b.add(row(rel, RowOp::Upsert, 10, {val("1"), null(), null()}));
  b.add(commit(10, 15));
  b.add(begin(20));
  b.add(row(rel, RowOp::Upsert, 20, {val("2"), null(), null()}));
  EXPECT_TRUE(b.full(2));
  b.clear();  // flushed mid-transaction
  EXPECT_EQ(b.safe_position(), 15u);
  b.add(row(rel, RowOp::Upsert, 20, {val("3"), null(), null()}));
  b.add(commit(20, 25));
  EXPECT_EQ(b.safe_position(), 25u);
}

TEST(ChangeBatcher, HeartbeatAdvancesOnlyOutsideTransactions) {
  PipeSpec spec = pipe_with();
  ChangeBatcher b(spec);
  ChangeEvent hb;
  hb.kind = ChangeEvent::Kind::Heartbeat;
  hb.position = 500;
  b.add(hb);
  EXPECT_EQ(b.safe_position(), 500u);
  b.add(begin(600));
  hb.position = 700;
  b.add(hb);
  EXPECT_EQ(b.safe_position(), 500u);
}

TEST(ChangeBatcher, IgnoresTablesOutsideThePipeAndRecordsTruncates) {
  PipeSpec spec = pipe_with();
  ChangeBatcher b(spec);
  StreamRelation other = relation();
  other.name = "other";
  StreamRelation rel = relation();
  b.add(row(other, RowOp::Upsert, 1, {val("1"), null(), null()}));
  EXPECT_EQ(b.rows(), 0u);
  ChangeEvent tr;
  tr.kind = ChangeEvent::Kind::Truncate;
  tr.version = 9;
  tr.truncated = {&other, &rel};
  b.add(tr);
  ASSERT_EQ(b.rows(), 1u);
  EXPECT_EQ(b.batch().rows[0].op, RowOp::Truncate);
}

TEST(ChangeBatcher, KeyChangeCarriesOldKeyAndLayoutChangeIsDetected) {
  PipeSpec spec = pipe_with();
  ChangeBatcher b(spec);
  StreamRelation rel = relation();
  ChangeEvent e = row(rel, RowOp::Upsert, 5, {val("2"), val("a"), null()});
  e.old_key = {val("1"), null(), null()};
  b.add(e);
  const ChangeBatch& batch = b.batch();
  ASSERT_NE(batch.rows[0].old_key_cell, RowChange::kNoOldKey);
  EXPECT_EQ(batch.text(batch.cells[batch.rows[0].old_key_cell]), "1");
  EXPECT_EQ(batch.cells[batch.rows[0].old_key_cell + 1].state, CellState::Absent);
  StreamRelation wider = relation({"id", "a", "secret", "added"});
  EXPECT_TRUE(b.layout_changes(wider));
  EXPECT_FALSE(b.layout_changes(rel));
}

// The rows of the named destination tables go; the others keep their cells,
// old keys and truncates.
TEST(ChangeBatcher, BatchWithoutTablesKeepsTheOthersIntact) {
  PipeSpec spec = pipe_with();
  TableMapping other;
  other.source = "public.o";
  spec.tables.push_back(other);
  ChangeBatcher b(spec);
  StreamRelation t = relation();
  StreamRelation o = relation({"id", "v"});
  o.name = "o";
  b.add(begin(7));
  b.add(row(t, RowOp::Upsert, 7, {val("1"), val("a"), null()}));
  ChangeEvent moved = row(o, RowOp::Upsert, 7, {val("9"), val("new")});
  moved.old_key = {val("8"), null()};
  b.add(moved);
  b.add(row(t, RowOp::Delete, 7, {val("2"), null(), null()}));
  ChangeEvent trunc;
  trunc.kind = ChangeEvent::Kind::Truncate;
  trunc.version = 7;
  trunc.truncated = {&o};
  b.add(trunc);
  b.add(commit(7, 100));

  ChangeBatch kept = batch_without_tables(b.batch(), {"t_dst"});
  ASSERT_EQ(kept.rows.size(), 2u);
  EXPECT_EQ(kept.tables[kept.rows[0].table].destination, "o");
  EXPECT_EQ(kept.text(kept.cells[kept.rows[0].first_cell]), "9");
  EXPECT_EQ(kept.text(kept.cells[kept.rows[0].first_cell + 1]), "new");
  ASSERT_NE(kept.rows[0].old_key_cell, RowChange::kNoOldKey);
  EXPECT_EQ(kept.text(kept.cells[kept.rows[0].old_key_cell]), "8");
  EXPECT_EQ(kept.rows[1].op, RowOp::Truncate);
  EXPECT_EQ(kept.cells.size(), 4u);

  ChangeBatch all = batch_without_tables(b.batch(), {});
  EXPECT_EQ(all.rows.size(), b.batch().rows.size());
  EXPECT_EQ(all.cells.size(), b.batch().cells.size());
  EXPECT_TRUE(batch_without_tables(b.batch(), {"t_dst", "o"}).rows.empty());
}

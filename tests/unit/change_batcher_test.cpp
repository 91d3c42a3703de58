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

ChangeEvent relation_event(const StreamRelation& rel) {
  ChangeEvent e;
  e.kind = ChangeEvent::Kind::Relation;
  e.relation = &rel;
  return e;
}

// PostgreSQL's stream announces a changed table by a Relation event for the same
// StreamRelation object, changed in place: the batcher must not keep using what it
// resolved for that address before.
TEST(ChangeBatcher, RelationEventMidStreamIsHonoured) {
  PipeSpec spec = pipe_with({"secret"});
  ChangeBatcher b(spec);
  StreamRelation rel = relation();
  b.add(relation_event(rel));
  b.add(row(rel, RowOp::Upsert, 1, {val("1"), val("a"), val("s")}));
  ASSERT_EQ(b.batch().tables[0].columns, (std::vector<std::string>{"id", "a"}));
  b.clear();

  // A column added in the middle, the key moved to it: the new layout applies to the next rows.
  rel.columns = {"id", "b", "a", "secret"};
  rel.key = {false, true, false, false};
  EXPECT_FALSE(b.layout_changes(rel));  // no rows in the batch, nothing to flush
  b.add(relation_event(rel));
  b.add(row(rel, RowOp::Upsert, 2, {val("2"), val("bee"), val("ay"), val("hidden")}));
  const ChangeBatch& batch = b.batch();
  ASSERT_EQ(batch.tables.size(), 1u);
  EXPECT_EQ(batch.tables[0].columns, (std::vector<std::string>{"id", "b", "a"}));
  EXPECT_EQ(batch.tables[0].key, (std::vector<uint32_t>{1}));
  ASSERT_EQ(batch.rows.size(), 1u);
  EXPECT_EQ(batch.text(batch.cells[batch.rows[0].first_cell + 0]), "2");
  EXPECT_EQ(batch.text(batch.cells[batch.rows[0].first_cell + 1]), "bee");
  EXPECT_EQ(batch.text(batch.cells[batch.rows[0].first_cell + 2]), "ay");
  EXPECT_EQ(batch.arena.find("hidden"), std::string::npos);
  b.clear();

  // Renamed out of the pipe: its rows stop; renamed back: they come again.
  rel.name = "renamed";
  b.add(relation_event(rel));
  b.add(row(rel, RowOp::Upsert, 3, {val("3"), null(), null(), null()}));
  EXPECT_EQ(b.rows(), 0u);
  rel.name = "t";
  b.add(relation_event(rel));
  b.add(row(rel, RowOp::Upsert, 4, {val("4"), null(), null(), null()}));
  ASSERT_EQ(b.rows(), 1u);
  EXPECT_EQ(b.batch().text(b.batch().cells[b.batch().rows[0].first_cell]), "4");
}

// A Relation event for a table outside the pipe, then for one inside it, at the same
// address (the address of a gone relation reused): resolved afresh each time.
TEST(ChangeBatcher, RelationEventResolvesAReusedAddressAfresh) {
  PipeSpec spec = pipe_with();
  ChangeBatcher b(spec);
  StreamRelation rel = relation();
  rel.name = "other";
  b.add(relation_event(rel));
  b.add(row(rel, RowOp::Upsert, 1, {val("1"), null(), null()}));
  EXPECT_EQ(b.rows(), 0u);
  rel = relation();
  b.add(relation_event(rel));
  b.add(row(rel, RowOp::Upsert, 2, {val("2"), null(), null()}));
  ASSERT_EQ(b.rows(), 1u);
  EXPECT_EQ(b.batch().tables[b.batch().rows[0].table].destination, "t_dst");
}

// Leaving tables out removes their rows from the batch in place; the others keep
// their cells, old keys and truncates; later rows of the left-out tables are not
// added, and positions still advance over them.
TEST(ChangeBatcher, LeftOutTablesKeepTheOthersIntact) {
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
  trunc.truncated = {&o, &t};
  b.add(trunc);
  b.add(commit(7, 100));
  ASSERT_EQ(b.rows(), 5u);
  size_t arena = b.batch().arena.size();

  b.leave_out({});
  EXPECT_EQ(b.rows(), 5u);
  b.leave_out({"t_dst"});
  const ChangeBatch& kept = b.batch();
  EXPECT_EQ(kept.arena.size(), arena);  // not copied, not compacted
  ASSERT_EQ(kept.rows.size(), 2u);
  EXPECT_EQ(kept.tables[kept.rows[0].table].destination, "o");
  EXPECT_EQ(kept.text(kept.cells[kept.rows[0].first_cell]), "9");
  EXPECT_EQ(kept.text(kept.cells[kept.rows[0].first_cell + 1]), "new");
  ASSERT_NE(kept.rows[0].old_key_cell, RowChange::kNoOldKey);
  EXPECT_EQ(kept.text(kept.cells[kept.rows[0].old_key_cell]), "8");
  EXPECT_EQ(kept.cells[kept.rows[0].old_key_cell + 1].state, CellState::Absent);
  EXPECT_EQ(kept.rows[1].op, RowOp::Truncate);
  EXPECT_EQ(kept.tables[kept.rows[1].table].destination, "o");
  EXPECT_EQ(kept.cells.size(), 4u);

  b.add(begin(8));
  b.add(row(t, RowOp::Upsert, 8, {val("3"), null(), null()}));
  b.add(row(o, RowOp::Upsert, 8, {val("10"), val("w")}));
  b.add(commit(8, 200));
  EXPECT_EQ(b.safe_position(), 200u);
  ASSERT_EQ(b.rows(), 3u);
  EXPECT_EQ(b.batch().text(b.batch().cells[b.batch().rows[2].first_cell]), "10");

  b.leave_out({"o"});
  EXPECT_EQ(b.rows(), 0u);
  EXPECT_TRUE(b.batch().cells.empty());
}

// A table left out before its first change (a table being loaded) never has rows.
TEST(ChangeBatcher, TableLeftOutFromTheStartHasNoRows) {
  PipeSpec spec = pipe_with();
  ChangeBatcher b(spec);
  b.leave_out({"t_dst"});
  StreamRelation rel = relation();
  b.add(begin(1));
  b.add(row(rel, RowOp::Upsert, 1, {val("1"), null(), null()}));
  ChangeEvent trunc;
  trunc.kind = ChangeEvent::Kind::Truncate;
  trunc.truncated = {&rel};
  b.add(trunc);
  b.add(commit(1, 50));
  EXPECT_EQ(b.rows(), 0u);
  EXPECT_TRUE(b.batch().arena.empty());
  EXPECT_EQ(b.safe_position(), 50u);
}

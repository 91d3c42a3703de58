// Pure pieces of the PostgreSQL destination: the batch plan (apply_plan.h), the type
// mapping (pg_dest_types.h) and the apply SQL (pg_apply_sql.h).
#include <gtest/gtest.h>

#include "connectors/api/apply_plan.h"
#include "connectors/postgres/pg_apply_sql.h"
#include "connectors/postgres/pg_dest_types.h"
#include "core/error.h"

namespace ferry {
namespace {

// Table 0: (id, v, big) keyed by id.
ChangeBatch batch() {
  ChangeBatch b;
  b.tables.push_back(ChangeTable{"public.t", "t", {"id", "v", "big"}, {0}});
  return b;
}

void add_row(ChangeBatch& b, RowOp op, std::vector<std::pair<CellState, std::string>> cells,
             std::vector<std::pair<CellState, std::string>> old_key = {}) {
  RowChange rc;
  rc.op = op;
  if (!old_key.empty()) {
    rc.old_key_cell = static_cast<uint32_t>(b.cells.size());
    for (auto& [s, v] : old_key) b.add_cell(s, v);
  }
  rc.first_cell = static_cast<uint32_t>(b.cells.size());
  for (auto& [s, v] : cells) b.add_cell(s, v);
  b.rows.push_back(rc);
}

constexpr auto V = CellState::Value;
constexpr auto U = CellState::Unchanged;
constexpr auto A = CellState::Absent;

std::string text(const ChangeBatch& b, const ApplyPlan& p, uint32_t first, int col) {
  const Cell& c = p.cells[first + col];
  if (c.state == CellState::Value) return std::string(b.text(c));
  return c.state == CellState::Unchanged ? "<U>" : c.state == CellState::Absent ? "<A>" : "<N>";
}

TEST(ApplyPlan, LastChangePerKeyWinsAndUnchangedCellsTakeEarlierValues) {
  ChangeBatch b = batch();
  add_row(b, RowOp::Upsert, {{V, "1"}, {V, "a"}, {V, "BIG"}});
  add_row(b, RowOp::Upsert, {{V, "1"}, {V, "b"}, {U, ""}});
  add_row(b, RowOp::Upsert, {{V, "2"}, {V, "x"}, {U, ""}});
  ApplyPlan p = plan_batch(b);
  ASSERT_EQ(p.segments.size(), 1u);
  ASSERT_EQ(p.segments[0].rows.size(), 2u);
  const PlannedRow& r1 = p.segments[0].rows[0];
  EXPECT_FALSE(r1.has_unchanged);
  EXPECT_EQ(text(b, p, r1.first_cell, 1), "b");
  EXPECT_EQ(text(b, p, r1.first_cell, 2), "BIG");
  const PlannedRow& r2 = p.segments[0].rows[1];
  EXPECT_TRUE(r2.has_unchanged);  // filled from the stored row of key 2
  EXPECT_EQ(text(b, p, r2.fill_key, 0), "2");
}

TEST(ApplyPlan, KeyUpdateDeletesTheOldKeyAndFillsFromItsStoredRow) {
  ChangeBatch b = batch();
  add_row(b, RowOp::Upsert, {{V, "9"}, {V, "moved"}, {U, ""}}, {{V, "5"}, {A, ""}, {A, ""}});
  ApplyPlan p = plan_batch(b);
  ASSERT_EQ(p.segments[0].rows.size(), 2u);
  EXPECT_TRUE(p.segments[0].rows[0].is_delete);
  EXPECT_EQ(text(b, p, p.segments[0].rows[0].first_cell, 0), "5");
  const PlannedRow& up = p.segments[0].rows[1];
  EXPECT_FALSE(up.is_delete);
  ASSERT_TRUE(up.has_unchanged);
  EXPECT_EQ(text(b, p, up.fill_key, 0), "5");  // the TOAST value lives under the old key
}

TEST(ApplyPlan, KeyMovedBackAndDeleteThenReinsert) {
  ChangeBatch b = batch();
  add_row(b, RowOp::Upsert, {{V, "1"}, {V, "a"}, {V, "B"}});
  add_row(b, RowOp::Upsert, {{V, "2"}, {V, "a2"}, {U, ""}}, {{V, "1"}, {A, ""}, {A, ""}});
  add_row(b, RowOp::Upsert, {{V, "1"}, {V, "again"}, {V, "C"}});
  add_row(b, RowOp::Delete, {{V, "3"}, {A, ""}, {A, ""}});
  add_row(b, RowOp::Upsert, {{V, "3"}, {V, "new3"}, {CellState::Null, ""}});
  ApplyPlan p = plan_batch(b);
  const auto& rows = p.segments[0].rows;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_FALSE(rows[0].is_delete);  // key 1: re-inserted
  EXPECT_EQ(text(b, p, rows[0].first_cell, 1), "again");
  EXPECT_FALSE(rows[1].has_unchanged);  // key 2: big taken from key 1's row in the batch
  EXPECT_EQ(text(b, p, rows[1].first_cell, 2), "B");
  EXPECT_FALSE(rows[2].is_delete);
  EXPECT_EQ(text(b, p, rows[2].first_cell, 1), "new3");
}

// A delete after an upsert of the same key keeps the upsert's values in the cells the
// delete lacks (a soft-deleting destination stores the row's last values).
TEST(ApplyPlan, DeleteKeepsTheBatchsLastValues) {
  ChangeBatch b = batch();
  add_row(b, RowOp::Upsert, {{V, "1"}, {V, "last"}, {CellState::Null, ""}});
  add_row(b, RowOp::Delete, {{V, "1"}, {A, ""}, {A, ""}});
  add_row(b, RowOp::Delete, {{V, "2"}, {A, ""}, {A, ""}});
  ApplyPlan p = plan_batch(b);
  const auto& rows = p.segments[0].rows;
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].is_delete);
  EXPECT_EQ(text(b, p, rows[0].first_cell, 1), "last");
  EXPECT_EQ(p.cells[rows[0].first_cell + 2].state, CellState::Null);
  EXPECT_EQ(p.cells[rows[1].first_cell + 1].state, CellState::Absent);  // nothing known of key 2
}

TEST(ApplyPlan, TruncateStartsANewSegment) {
  ChangeBatch b = batch();
  add_row(b, RowOp::Upsert, {{V, "1"}, {V, "a"}, {V, "B"}});
  RowChange tr;
  tr.op = RowOp::Truncate;
  b.rows.push_back(tr);
  add_row(b, RowOp::Upsert, {{V, "1"}, {V, "after"}, {U, ""}});
  ApplyPlan p = plan_batch(b);
  ASSERT_EQ(p.segments.size(), 2u);
  EXPECT_FALSE(p.segments[0].truncate_before);
  EXPECT_TRUE(p.segments[1].truncate_before);
  ASSERT_EQ(p.segments[1].rows.size(), 1u);
  EXPECT_TRUE(p.segments[1].rows[0].has_unchanged);  // the row before the truncate is gone
}

TEST(ApplyPlan, KeylessTablesTakeInsertsOnly) {
  ChangeBatch b;
  b.tables.push_back(ChangeTable{"public.k", "k", {"a"}, {}});
  add_row(b, RowOp::Upsert, {{V, "1"}});
  add_row(b, RowOp::Upsert, {{V, "1"}});
  for (auto& r : b.rows) r.inserted = true;
  EXPECT_EQ(plan_batch(b).segments[0].rows.size(), 2u);
  ChangeBatch update = b;
  add_row(update, RowOp::Upsert, {{V, "2"}});  // an update: not an insert
  EXPECT_THROW(plan_batch(update), Error);
  add_row(b, RowOp::Delete, {{V, "1"}});
  EXPECT_THROW(plan_batch(b), Error);
}

Column col(LogicalType t, std::string source_type, int precision = -1, int scale = 0) {
  Column c;
  c.name = "c";
  c.type = t;
  c.source_type = std::move(source_type);
  c.precision = precision;
  c.scale = scale;
  return c;
}

TEST(PgDestinationTypes, MapsEveryLogicalTypeLosslessly) {
  using postgres::pg_column_type;
  EXPECT_EQ(pg_column_type(col(LogicalType::Int8, "tinyint"), "t"), "smallint");
  EXPECT_EQ(pg_column_type(col(LogicalType::UInt16, "smallint unsigned"), "t"), "integer");
  EXPECT_EQ(pg_column_type(col(LogicalType::UInt32, "int unsigned"), "t"), "bigint");
  EXPECT_EQ(pg_column_type(col(LogicalType::UInt64, "bigint unsigned"), "t"), "numeric(20,0)");
  EXPECT_EQ(pg_column_type(col(LogicalType::Decimal, "decimal(10,2)", 10, 2), "t"), "numeric(10,2)");
  EXPECT_EQ(pg_column_type(col(LogicalType::String, "character varying(10)"), "t"), "character varying(10)");
  EXPECT_EQ(pg_column_type(col(LogicalType::String, "varchar(10)"), "t"), "text");  // MariaDB: no padding rules
  EXPECT_EQ(pg_column_type(col(LogicalType::String, "int4range"), "t"), "int4range");
  EXPECT_EQ(pg_column_type(col(LogicalType::Timestamp, "datetime(3)", 3), "t"), "timestamp(3)");
  EXPECT_EQ(pg_column_type(col(LogicalType::TimestampTz, "timestamp with time zone", 6), "t"),
            "timestamp with time zone");
  EXPECT_EQ(pg_column_type(col(LogicalType::TimestampTz, "timestamp(6)", 6), "t"), "timestamp(6) with time zone");
  EXPECT_EQ(pg_column_type(col(LogicalType::Time, "time"), "t"), "interval");  // MariaDB TIME
  EXPECT_EQ(pg_column_type(col(LogicalType::Time, "time(6)", 6), "t"), "interval");
  EXPECT_EQ(pg_column_type(col(LogicalType::Time, "time without time zone"), "t"), "time without time zone");
  EXPECT_EQ(pg_column_type(col(LogicalType::Json, "jsonb"), "t"), "jsonb");
  EXPECT_EQ(pg_column_type(col(LogicalType::Json, "json"), "t"), "json");
  EXPECT_EQ(pg_column_type(col(LogicalType::Enum, "enum('a','b')"), "t"), "text");
  EXPECT_EQ(pg_column_type(col(LogicalType::Bit, "bit(4)", 4), "t"), "bit(4)");
  EXPECT_EQ(pg_column_type(col(LogicalType::Geometry, "point"), "t"), "bytea");
  EXPECT_EQ(pg_column_type(col(LogicalType::Array, "integer[]"), "t"), "integer[]");
  EXPECT_EQ(pg_column_type(col(LogicalType::Year, "year"), "t"), "smallint");
  EXPECT_EQ(pg_column_type(col(LogicalType::Int32, "int"), "t", {{"c", "bigint"}}), "bigint");  // column_types
}

TEST(PgDestinationTypes, RefusesUnsupportedNamingTableColumnAndType) {
  try {
    postgres::pg_column_type(col(LogicalType::Unsupported, "weird_type"), "public.t");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent);
    std::string m = e.what();
    EXPECT_NE(m.find("public.t"), std::string::npos) << m;
    EXPECT_NE(m.find("\"c\""), std::string::npos) << m;
    EXPECT_NE(m.find("weird_type"), std::string::npos) << m;
  }
}

TEST(PgApplySql, StagingFillDeleteAndUpsertStatements) {
  postgres::PgApplyTable t;
  t.target = "\"public\".\"T\"";
  t.staging = "ferry_stg_0";
  t.columns = {"id", "v"};
  t.types = {"integer", "text"};
  t.key = {0};
  EXPECT_EQ(postgres::staging_ddl(t), "CREATE TEMP TABLE ferry_stg_0 (ferry_op text, ferry_unchanged text, \"id\" "
                                      "integer, \"v\" text, ferry_fill_key0 integer) ON COMMIT DELETE ROWS");
  EXPECT_EQ(postgres::copy_staging_sql(t),
            "COPY ferry_stg_0 (ferry_op, ferry_unchanged, \"id\", \"v\", ferry_fill_key0) FROM STDIN");
  EXPECT_EQ(postgres::fill_sql(t),
            "UPDATE ferry_stg_0 s SET \"v\" = CASE WHEN substr(s.ferry_unchanged, 2, 1) = '1' THEN d.\"v\" ELSE s.\"v\" "
            "END, ferry_unchanged = '' FROM \"public\".\"T\" d WHERE s.ferry_op = 'U' AND s.ferry_unchanged <> '' "
            "AND d.\"id\" = s.ferry_fill_key0");
  EXPECT_EQ(postgres::delete_sql(t),
            "DELETE FROM \"public\".\"T\" d USING ferry_stg_0 s WHERE s.ferry_op = 'D' AND d.\"id\" = s.\"id\"");
  EXPECT_EQ(postgres::upsert_sql(t),
            "INSERT INTO \"public\".\"T\" (\"id\", \"v\") SELECT s.\"id\", s.\"v\" FROM ferry_stg_0 s WHERE s.ferry_op "
            "= 'U' AND s.ferry_unchanged = '' ON CONFLICT (\"id\") DO UPDATE SET \"v\" = EXCLUDED.\"v\"");
  t.columns = {"id"};
  t.types = {"integer"};
  EXPECT_EQ(postgres::fill_sql(t), "");
  EXPECT_NE(postgres::upsert_sql(t).find("ON CONFLICT (\"id\") DO NOTHING"), std::string::npos);
}

TEST(PgApplySql, CopyEscapes) {
  std::string out;
  append_copy_escaped(out, "a\tb\nc\\d\re");
  EXPECT_EQ(out, "a\\tb\\nc\\\\d\\re");
}

}  // namespace
}  // namespace ferry

// The set-based plan of one ChangeBatch for a transactional destination without row
// versions (PostgreSQL now, MariaDB next): per destination table, segments separated
// by TRUNCATEs; within a segment, one final operation per key (the last change wins).
// The dialect then writes each segment as staging rows + DELETE ... USING + upsert.
//
// Rules (why: a batch replayed from a consistent point in commit order must end where
// the source is, and set-based statements cannot express "in order"):
//  - an Upsert replaces the key's earlier entry; its Unchanged/Absent cells take the
//    earlier entry's values when that entry was an Upsert; otherwise they stay
//    Unchanged: the destination keeps its stored value (read from the row at
//    `fill_key`, which is the row's key before a key update inside this batch);
//  - a key update (old_key_cell) makes the old key's entry a Delete first;
//  - a Delete replaces the key's entry, keeping the earlier Upsert's values in the cells
//    the delete lacks (soft-deleting destinations store them);
//  - a Truncate ends the table's segment: the next segment starts with TRUNCATE.
// Pure and single-threaded; the plan refers to the batch's arena (batch must outlive it).
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/api/change.h"

namespace ferry {

struct PlannedRow {
  bool is_delete = false;
  uint32_t first_cell = 0;  // columns.size() cells in ApplyPlan::cells
  // The key whose stored row fills Unchanged cells (cells in ApplyPlan::cells, key
  // columns meaningful); kNoFill when the row has no Unchanged cell.
  static constexpr uint32_t kNoFill = UINT32_MAX;
  uint32_t fill_key = kNoFill;
  bool has_unchanged = false;
};

struct TableSegment {
  uint32_t table = 0;            // index into ChangeBatch::tables
  bool truncate_before = false;  // TRUNCATE the table, then write the rows
  std::vector<PlannedRow> rows;  // deletes and upserts, one per key, in first-seen order
};

struct ApplyPlan {
  std::vector<Cell> cells;  // refer to the batch's arena
  // Per table in order of first appearance; a table's segments in batch order.
  std::vector<TableSegment> segments;
};

// Whether every cell of `row` (n columns) is known: no Unchanged or Absent cell (a full
// row image, or a delete that kept a batch upsert's values).
bool row_complete(const ApplyPlan& plan, const PlannedRow& row, size_t n);

// Throws Permanent when a table without key gets an update (an Upsert not marked
// `inserted`) or a delete (keyless tables
// cannot be changed set-based; they need keyless staging).
ApplyPlan plan_batch(const ChangeBatch& batch);

}  // namespace ferry

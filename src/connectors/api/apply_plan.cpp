#include "connectors/api/apply_plan.h"

#include <map>

#include "core/error.h"

namespace ferry {

namespace {

// Length-prefixed key cells: distinct keys never collide, NULL differs from "".
std::string key_of(const ChangeBatch& batch, const ChangeTable& t, uint32_t first) {
  std::string k;
  for (uint32_t idx : t.key) {
    const Cell& c = batch.cells[first + idx];
    if (c.state != CellState::Value) {
      k += '\x01';
      continue;
    }
    k += std::to_string(c.size);
    k += ':';
    k.append(batch.text(c));
  }
  return k;
}

}  // namespace

bool row_complete(const ApplyPlan& plan, const PlannedRow& row, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    CellState s = plan.cells[row.first_cell + i].state;
    if (s == CellState::Unchanged || s == CellState::Absent) return false;
  }
  return true;
}

ApplyPlan plan_batch(const ChangeBatch& batch) {
  ApplyPlan plan;
  struct Open {
    size_t segment;
    std::unordered_map<std::string, size_t> rows;  // key -> index in segment rows
  };
  std::map<uint32_t, Open> open;  // table -> its current segment
  auto copy_cells = [&](uint32_t first, size_t n) {
    uint32_t at = static_cast<uint32_t>(plan.cells.size());
    plan.cells.insert(plan.cells.end(), batch.cells.begin() + first, batch.cells.begin() + first + n);
    return at;
  };
  for (const RowChange& rc : batch.rows) {
    const ChangeTable& t = batch.tables.at(rc.table);
    const size_t n = t.columns.size();
    auto it = open.find(rc.table);
    if (it == open.end() || rc.op == RowOp::Truncate) {
      TableSegment seg;
      seg.table = rc.table;
      seg.truncate_before = rc.op == RowOp::Truncate;
      plan.segments.push_back(std::move(seg));
      open[rc.table] = Open{plan.segments.size() - 1, {}};
      it = open.find(rc.table);
      if (rc.op == RowOp::Truncate) continue;
    }
    if (t.key.empty()) {
      // An update of a keyless row is not an insert: applied as one it would leave the old row.
      if (rc.op != RowOp::Upsert || !rc.inserted || rc.old_key_cell != RowChange::kNoOldKey)
        throw Error(ErrorKind::Permanent, "table " + t.destination +
                                              " has no primary key: its updates and deletes cannot be applied "
                                              "(give the source table a primary key)");
      PlannedRow row;
      row.first_cell = copy_cells(rc.first_cell, n);
      plan.segments[it->second.segment].rows.push_back(row);
      continue;
    }
    TableSegment& seg = plan.segments[it->second.segment];
    auto& index = it->second.rows;
    // The stored row a key update leaves (filled from the batch or the destination).
    PlannedRow previous;
    bool have_previous = false;
    uint32_t fill_from = PlannedRow::kNoFill;  // the old key, when its stored row holds the Unchanged values
    if (rc.old_key_cell != RowChange::kNoOldKey) {
      std::string old = key_of(batch, t, rc.old_key_cell);
      PlannedRow del;
      del.is_delete = true;
      del.first_cell = copy_cells(rc.old_key_cell, n);
      auto found = index.find(old);
      if (found != index.end()) {
        previous = seg.rows[found->second];
        have_previous = true;
        seg.rows[found->second] = del;
      } else {
        fill_from = del.first_cell;  // only its key is known: fill from the destination's row
        index.emplace(old, seg.rows.size());
        seg.rows.push_back(del);
      }
    }
    std::string key = key_of(batch, t, rc.first_cell);
    auto found = index.find(key);
    if (!have_previous && found != index.end()) {
      previous = seg.rows[found->second];
      have_previous = true;
    }
    PlannedRow row;
    row.first_cell = copy_cells(rc.first_cell, n);
    if (rc.op == RowOp::Delete) {
      row.is_delete = true;
      // The key's last values (an earlier upsert in this batch) stay with the delete: a
      // soft-deleting destination keeps them.
      if (have_previous && !previous.is_delete)
        for (size_t i = 0; i < n; ++i) {
          Cell& c = plan.cells[row.first_cell + i];
          const Cell& p = plan.cells[previous.first_cell + i];
          if ((c.state == CellState::Absent || c.state == CellState::Unchanged) &&
              (p.state == CellState::Value || p.state == CellState::Null))
            c = p;
        }
    } else {
      bool unchanged = false;
      for (size_t i = 0; i < n; ++i) {
        Cell& c = plan.cells[row.first_cell + i];
        if (c.state != CellState::Unchanged && c.state != CellState::Absent) continue;
        if (have_previous && !previous.is_delete && previous.fill_key == PlannedRow::kNoFill) {
          c = plan.cells[previous.first_cell + i];
        } else if (have_previous && !previous.is_delete) {
          const Cell& p = plan.cells[previous.first_cell + i];
          if (p.state == CellState::Unchanged || p.state == CellState::Absent) unchanged = true;
          else c = p;
        } else {
          unchanged = true;
        }
      }
      if (unchanged) {
        row.has_unchanged = true;
        // Fill from the row the key had before this batch: under the old key when the
        // key changed (and the old key's row is not known here), else under itself.
        if (have_previous && previous.fill_key != PlannedRow::kNoFill) row.fill_key = previous.fill_key;
        else row.fill_key = fill_from != PlannedRow::kNoFill ? fill_from : row.first_cell;
      }
    }
    if (found != index.end()) seg.rows[found->second] = row;
    else {
      index.emplace(key, seg.rows.size());
      seg.rows.push_back(row);
    }
  }
  return plan;
}

}  // namespace ferry

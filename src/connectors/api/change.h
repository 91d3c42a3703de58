// Row changes moving from a change stream to a destination.
//
// A ChangeBatch owns all its bytes in one arena: values are appended to
// `arena` and cells refer to them by offset, so building a batch costs no
// per-value heap allocation and a batch is freed at once.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

enum class CellState : uint8_t {
  Null,
  Value,      // text in the source's canonical rendering
  Unchanged,  // not sent by the source (PostgreSQL unchanged TOAST): keep the last known value
  Absent,     // not part of this tuple (a delete's non-key columns under REPLICA IDENTITY DEFAULT)
};

struct Cell {
  uint32_t offset = 0;
  uint32_t size = 0;
  CellState state = CellState::Null;
};

// One destination table's layout inside a batch: the source columns the pipe
// moves, in source order, and which of them form the key.
struct ChangeTable {
  std::string source;                  // as configured in the pipe ("public.orders")
  std::string destination;             // destination table name
  std::vector<std::string> columns;
  std::vector<uint32_t> key;           // indexes into columns
};

enum class RowOp : uint8_t {
  Upsert,    // insert or update: cells = new values
  Delete,    // cells = old values (key only unless the source sent the full row)
  Truncate,  // all rows of the table; no cells
};

struct RowChange {
  uint32_t table = 0;  // index into ChangeBatch::tables
  RowOp op = RowOp::Upsert;
  uint64_t version = 0;        // commit position of the transaction: monotonic in commit order
  bool inserted = false;       // Upsert known to be an insert (the source said so); else insert or update
  int64_t commit_time_ms = 0;  // the transaction's commit time (ms since the epoch), 0 when unknown
  uint32_t first_cell = 0;     // columns.size() cells from here
  // Updates that changed the key: the old key (cells for every column, non-key
  // ones Absent) so the destination removes the row under the old key.
  static constexpr uint32_t kNoOldKey = UINT32_MAX;
  uint32_t old_key_cell = kNoOldKey;
};

struct ChangeBatch {
  std::vector<ChangeTable> tables;
  std::string arena;
  std::vector<Cell> cells;
  std::vector<RowChange> rows;

  std::string_view text(const Cell& c) const { return std::string_view(arena).substr(c.offset, c.size); }
  void add_cell(CellState state, std::string_view value = {}) {
    Cell c;
    c.state = state;
    if (state == CellState::Value) {
      c.offset = static_cast<uint32_t>(arena.size());
      c.size = static_cast<uint32_t>(value.size());
      arena.append(value);
    }
    cells.push_back(c);
  }
  size_t row_count() const { return rows.size(); }
  size_t bytes() const { return arena.size() + cells.size() * sizeof(Cell) + rows.size() * sizeof(RowChange); }
  // Keeps the table layouts (they stay valid across batches).
  void clear_rows() {
    arena.clear();
    cells.clear();
    rows.clear();
  }
};

}  // namespace ferry

// Building ChangeBatches by hand in tests (unit and integration): cells as values or
// special states, tables, upserts, deletes, key moves and truncates.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/api/change.h"

namespace ferry::test {

// A cell as a test writes it: a value, or one of the special states.
struct C {
  CellState state = CellState::Value;
  std::string text;
  C(const char* t) : text(t) {}  // NOLINT: implicit on purpose
  C(std::string t) : text(std::move(t)) {}
  C(CellState s) : state(s) {}
};
inline const C kNull(CellState::Null);
inline const C kUnchanged(CellState::Unchanged);
inline const C kAbsent(CellState::Absent);

struct BatchBuilder {
  ChangeBatch batch;

  // A table "public.<dest>" written to `dest`; returns its index.
  uint32_t table(std::string dest, std::vector<std::string> columns, std::vector<uint32_t> key) {
    ChangeTable t;
    t.source = "public." + dest;
    t.destination = std::move(dest);
    t.columns = std::move(columns);
    t.key = std::move(key);
    batch.tables.push_back(std::move(t));
    return static_cast<uint32_t>(batch.tables.size() - 1);
  }
  void cells(const std::vector<C>& cs) {
    for (const auto& c : cs) batch.add_cell(c.state, c.text);
  }
  void row(uint32_t t, RowOp op, uint64_t version, const std::vector<C>& cs, std::optional<std::vector<C>> old = {}) {
    RowChange r;
    r.table = t;
    r.op = op;
    r.version = version;
    if (old) {
      r.old_key_cell = static_cast<uint32_t>(batch.cells.size());
      cells(*old);
    }
    r.first_cell = static_cast<uint32_t>(batch.cells.size());
    cells(cs);
    batch.rows.push_back(r);
  }
  void upsert(uint32_t t, uint64_t v, const std::vector<C>& cs) { row(t, RowOp::Upsert, v, cs); }
  void del(uint32_t t, uint64_t v, const std::vector<C>& cs) { row(t, RowOp::Delete, v, cs); }
  // An update that changed the key from `old` (key cells; the others Absent).
  void move(uint32_t t, uint64_t v, const std::vector<C>& cs, const std::vector<C>& old) {
    row(t, RowOp::Upsert, v, cs, old);
  }
  void truncate(uint32_t t, uint64_t v) {
    RowChange r;
    r.table = t;
    r.op = RowOp::Truncate;
    r.version = v;
    r.first_cell = static_cast<uint32_t>(batch.cells.size());
    batch.rows.push_back(r);
  }
};

}  // namespace ferry::test

#include "pipe/change_batcher.h"

#include <algorithm>

#include "core/error.h"
#include "core/ident.h"
#include "pipe/runner.h"

namespace ferry {

ChangeBatcher::ChangeBatcher(const PipeSpec& pipe, std::string default_schema)
    : pipe_(pipe), default_schema_(std::move(default_schema)) {}

const TableMapping* ChangeBatcher::mapping_for(const StreamRelation& relation) const {
  for (const auto& m : pipe_.tables) {
    QualifiedName q = split_qualified(m.source, default_schema_);
    if (q.schema == relation.schema && q.name == relation.name) return &m;
  }
  return nullptr;
}

void ChangeBatcher::layout_from(const StreamRelation& relation, const TableMapping& mapping, ChangeTable& table,
                                std::vector<int>& map) const {
  table.source = mapping.source;
  table.destination = destination_table_name(mapping);
  table.columns.clear();
  table.key.clear();
  map.assign(relation.columns.size(), -1);
  for (size_t i = 0; i < relation.columns.size(); ++i) {
    const std::string& name = relation.columns[i];
    if (std::find(mapping.exclude_columns.begin(), mapping.exclude_columns.end(), name) != mapping.exclude_columns.end())
      continue;
    map[i] = static_cast<int>(table.columns.size());
    if (relation.key[i]) table.key.push_back(static_cast<uint32_t>(table.columns.size()));
    table.columns.push_back(name);
  }
}

bool ChangeBatcher::layout_changes(const StreamRelation& relation) const {
  const TableMapping* m = mapping_for(relation);
  if (!m) return false;
  auto it = table_by_source_.find(m->source);
  if (it == table_by_source_.end()) return false;
  ChangeTable fresh;
  std::vector<int> map;
  layout_from(relation, *m, fresh, map);
  const ChangeTable& cur = batch_.tables[it->second];
  return !batch_.rows.empty() && (fresh.columns != cur.columns || fresh.key != cur.key || map != column_maps_[it->second]);
}

uint32_t ChangeBatcher::table_index(const StreamRelation& relation, const TableMapping& mapping) {
  auto it = table_by_source_.find(mapping.source);
  if (it != table_by_source_.end()) return it->second;
  uint32_t idx = static_cast<uint32_t>(batch_.tables.size());
  batch_.tables.emplace_back();
  column_maps_.emplace_back();
  layout_from(relation, mapping, batch_.tables.back(), column_maps_.back());
  table_left_out_.push_back(left_out_.count(batch_.tables.back().destination) ? 1 : 0);
  table_by_source_[mapping.source] = idx;
  return idx;
}

ChangeBatcher::Resolved& ChangeBatcher::resolve(const StreamRelation& relation) {
  if (&relation == last_relation_) return *last_resolved_;
  auto [it, inserted] = resolved_.try_emplace(&relation);
  if (inserted) it->second.mapping = mapping_for(relation);
  last_relation_ = &relation;
  last_resolved_ = &it->second;  // unordered_map nodes do not move
  return it->second;
}

uint32_t ChangeBatcher::table_of(const StreamRelation& relation, Resolved& resolved) {
  if (resolved.table == kNoTable) resolved.table = table_index(relation, *resolved.mapping);
  return resolved.table;
}

void ChangeBatcher::leave_out(const std::set<std::string>& destinations) {
  bool more = false;
  for (const auto& d : destinations) more |= left_out_.insert(d).second;
  if (!more) return;
  for (size_t t = 0; t < batch_.tables.size(); ++t) table_left_out_[t] = left_out_.count(batch_.tables[t].destination);
  drop_left_out_rows();
}

// Compacts rows and cells in place. Cells were appended in row order (a row's old
// key, then its values), so a kept row's cells only ever move towards the front.
void ChangeBatcher::drop_left_out_rows() {
  size_t kept_rows = 0;
  size_t kept_cells = 0;
  auto move_cells = [&](uint32_t from, size_t width) {
    auto to = static_cast<uint32_t>(kept_cells);
    std::copy(batch_.cells.begin() + from, batch_.cells.begin() + from + width, batch_.cells.begin() + to);
    kept_cells += width;
    return to;
  };
  for (const RowChange& row : batch_.rows) {
    if (table_left_out_[row.table]) continue;
    RowChange moved = row;
    size_t width = batch_.tables[row.table].columns.size();
    if (row.old_key_cell != RowChange::kNoOldKey) moved.old_key_cell = move_cells(row.old_key_cell, width);
    moved.first_cell = row.op == RowOp::Truncate ? static_cast<uint32_t>(kept_cells) : move_cells(row.first_cell, width);
    batch_.rows[kept_rows++] = moved;
  }
  batch_.rows.resize(kept_rows);
  batch_.cells.resize(kept_cells);
}

void ChangeBatcher::append_cells(const std::vector<StreamValue>& values, const std::vector<int>& map, size_t width) {
  size_t first = batch_.cells.size();
  batch_.cells.resize(first + width);  // default: Null
  for (size_t i = 0; i < values.size() && i < map.size(); ++i) {
    if (map[i] < 0) continue;
    Cell& c = batch_.cells[first + map[i]];
    c.state = values[i].state;
    if (c.state == CellState::Value) {
      c.offset = static_cast<uint32_t>(batch_.arena.size());
      c.size = static_cast<uint32_t>(values[i].text.size());
      batch_.arena.append(values[i].text);
    }
  }
}

void ChangeBatcher::add(const ChangeEvent& ev) {
  switch (ev.kind) {
    case ChangeEvent::Kind::Begin:
      in_transaction_ = true;
      last_version_ = ev.version;
      tx_commit_time_ms_ = ev.commit_time_ms;
      return;
    case ChangeEvent::Kind::Commit:
      in_transaction_ = false;
      safe_position_ = std::max(safe_position_, ev.position);
      last_commit_time_ms_ = ev.commit_time_ms;
      return;
    case ChangeEvent::Kind::Heartbeat:
      // Idle stream: everything before the server's position has been seen.
      if (!in_transaction_) safe_position_ = std::max(safe_position_, ev.position);
      return;
    case ChangeEvent::Kind::Relation: {
      // The relation may have changed (columns, key, even its name): resolve it afresh.
      resolved_.erase(ev.relation);
      last_relation_ = nullptr;
      const TableMapping* m = mapping_for(*ev.relation);
      if (!m) return;
      auto it = table_by_source_.find(m->source);
      if (it == table_by_source_.end()) return;
      if (!batch_.rows.empty() && layout_changes(*ev.relation))
        throw Error(ErrorKind::Permanent, "internal error: relation layout changed with rows in the batch");
      layout_from(*ev.relation, *m, batch_.tables[it->second], column_maps_[it->second]);
      return;
    }
    case ChangeEvent::Kind::Row: {
      Resolved& resolved = resolve(*ev.relation);
      if (!resolved.mapping) return;
      uint32_t t = table_of(*ev.relation, resolved);
      if (table_left_out_[t]) return;
      const ChangeTable& table = batch_.tables[t];
      RowChange row;
      row.table = t;
      row.op = ev.op;
      row.inserted = ev.inserted;
      row.version = ev.version;
      row.commit_time_ms = tx_commit_time_ms_;
      size_t width = table.columns.size();
      if (!ev.old_key.empty()) {
        row.old_key_cell = static_cast<uint32_t>(batch_.cells.size());
        append_cells(ev.old_key, column_maps_[t], width);
        // Non-key columns of an old key are unknown, not null.
        for (size_t i = 0; i < width; ++i) {
          bool is_key = std::find(table.key.begin(), table.key.end(), i) != table.key.end();
          if (!is_key) batch_.cells[row.old_key_cell + i].state = CellState::Absent;
        }
      }
      row.first_cell = static_cast<uint32_t>(batch_.cells.size());
      append_cells(ev.values, column_maps_[t], width);
      batch_.rows.push_back(row);
      return;
    }
    case ChangeEvent::Kind::Truncate:
      for (const StreamRelation* rel : ev.truncated) {
        Resolved& resolved = resolve(*rel);
        if (!resolved.mapping) continue;
        uint32_t t = table_of(*rel, resolved);
        if (table_left_out_[t]) continue;
        RowChange row;
        row.table = t;
        row.op = RowOp::Truncate;
        row.version = ev.version;
        row.commit_time_ms = tx_commit_time_ms_;
        row.first_cell = static_cast<uint32_t>(batch_.cells.size());
        batch_.rows.push_back(row);
      }
      return;
  }
}

}  // namespace ferry

#include "pipe/change_batcher.h"

#include <algorithm>

#include "core/error.h"
#include "core/ident.h"
#include "pipe/runner.h"

namespace ferry {

ChangeBatcher::ChangeBatcher(const PipeSpec& pipe) : pipe_(pipe) {}

const TableMapping* ChangeBatcher::mapping_for(const StreamRelation& relation) const {
  for (const auto& m : pipe_.tables) {
    QualifiedName q = split_qualified(m.source);
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
  table_by_source_[mapping.source] = idx;
  return idx;
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
      const TableMapping* m = mapping_for(*ev.relation);
      if (!m) return;
      uint32_t t = table_index(*ev.relation, *m);
      RowChange row;
      row.table = t;
      row.op = ev.op;
      row.version = ev.version;
      size_t width = batch_.tables[t].columns.size();
      if (!ev.old_key.empty()) {
        row.old_key_cell = static_cast<uint32_t>(batch_.cells.size());
        append_cells(ev.old_key, column_maps_[t], width);
        // Non-key columns of an old key are unknown, not null.
        for (size_t i = 0; i < width; ++i) {
          bool is_key = std::find(batch_.tables[t].key.begin(), batch_.tables[t].key.end(), i) != batch_.tables[t].key.end();
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
        const TableMapping* m = mapping_for(*rel);
        if (!m) continue;
        RowChange row;
        row.table = table_index(*rel, *m);
        row.op = RowOp::Truncate;
        row.version = ev.version;
        row.first_cell = static_cast<uint32_t>(batch_.cells.size());
        batch_.rows.push_back(row);
      }
      return;
  }
}

ChangeBatch batch_without_tables(const ChangeBatch& batch, const std::set<std::string>& drop) {
  ChangeBatch out;
  out.tables = batch.tables;
  out.arena = batch.arena;  // cells keep their offsets
  for (const RowChange& row : batch.rows) {
    const ChangeTable& table = batch.tables[row.table];
    if (drop.count(table.destination)) continue;
    RowChange copy = row;
    size_t width = table.columns.size();
    copy.first_cell = static_cast<uint32_t>(out.cells.size());
    if (row.op != RowOp::Truncate) {
      out.cells.insert(out.cells.end(), batch.cells.begin() + row.first_cell, batch.cells.begin() + row.first_cell + width);
    }
    if (row.old_key_cell != RowChange::kNoOldKey) {
      copy.old_key_cell = static_cast<uint32_t>(out.cells.size());
      out.cells.insert(out.cells.end(), batch.cells.begin() + row.old_key_cell,
                       batch.cells.begin() + row.old_key_cell + width);
    }
    out.rows.push_back(copy);
  }
  return out;
}

}  // namespace ferry

#include "connectors/clickhouse/clickhouse_apply.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>

#include "core/error.h"
#include "core/ident.h"

namespace ferry::clickhouse {

namespace {

constexpr size_t kMinIndex = 1024;

inline void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  return h;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// ChangeMerger

std::string_view ChangeMerger::key_text(uint32_t state, size_t k) const {
  const Slot& s = state_slots_[state * columns_ + key_[k]];
  return std::string_view(batch_->arena).substr(s.offset, s.size);
}

uint64_t ChangeMerger::hash_key(const Cell* cells) const {
  uint64_t h = 0;
  for (uint32_t k : key_) h = mix(h, std::hash<std::string_view>{}(batch_->text(cells[k])));
  return h;
}

void ChangeMerger::grow_index() {
  size_t size = std::max(kMinIndex, index_.size() * 2);
  index_.assign(size, 0);
  const size_t mask = size - 1;
  for (uint32_t s = 0; s < state_count_; ++s) {
    size_t i = state_hash_[s] & mask;
    while (index_[i]) i = (i + 1) & mask;
    index_[i] = s + 1;
  }
}

uint32_t ChangeMerger::find_or_create(const Cell* cells, bool& ok) {
  ok = true;
  if (key_.empty()) {
    // No key: every change is a row of its own.
  } else {
    for (uint32_t k : key_) {
      if (cells[k].state != CellState::Value) {
        ok = false;
        return 0;
      }
    }
  }
  uint64_t h = key_.empty() ? 0 : hash_key(cells);
  if (!key_.empty()) {
    if ((state_count_ + 1) * 2 > index_.size()) grow_index();
    const size_t mask = index_.size() - 1;
    size_t i = h & mask;
    while (uint32_t e = index_[i]) {
      uint32_t s = e - 1;
      if (state_hash_[s] == h) {
        bool same = true;
        for (size_t k = 0; k < key_.size() && same; ++k) same = key_text(s, k) == batch_->text(cells[key_[k]]);
        if (same) return s;
      }
      i = (i + 1) & mask;
    }
    index_[i] = static_cast<uint32_t>(state_count_ + 1);
  }
  uint32_t s = static_cast<uint32_t>(state_count_++);
  state_slots_.resize(state_count_ * columns_, Slot{s, 0, SlotKind::Unknown});  // from its own ClickHouse row
  state_hash_.push_back(h);
  state_version_.push_back(0);
  state_deleted_.push_back(0);
  state_segment_.push_back(0);
  // Key slots are known from the start (find_or_create compares them).
  for (uint32_t k : key_) {
    const Cell& c = cells[k];
    state_slots_[s * columns_ + k] = Slot{c.offset, c.size, SlotKind::Value};
  }
  return s;
}

void ChangeMerger::apply(uint32_t state, const Cell* cells, bool deleted, uint64_t version, int64_t inherit) {
  Slot* slots = state_slots_.data() + state * columns_;
  const Slot* from = inherit >= 0 ? state_slots_.data() + static_cast<size_t>(inherit) * columns_ : nullptr;
  for (size_t j = 0; j < columns_; ++j) {
    const Cell& c = cells[j];
    switch (c.state) {
      case CellState::Value:
        slots[j] = Slot{c.offset, c.size, SlotKind::Value};
        break;
      case CellState::Null:
        slots[j] = Slot{0, 0, SlotKind::Null};
        break;
      case CellState::Unchanged:
        if (from) slots[j] = from[j];
        break;  // else keep the last known value (or Unknown)
      case CellState::Absent:
        break;
    }
  }
  state_deleted_[state] = deleted ? 1 : 0;
  state_version_[state] = version;
  if (state_segment_[state] != segment_) {
    state_segment_[state] = segment_;
    touched_.push_back(state);
  }
}

void ChangeMerger::close_segment() {
  Step step;
  step.first = outputs_.size();
  for (uint32_t s : touched_) {
    Output o;
    o.state = s;
    o.slots = static_cast<uint32_t>(out_slots_.size());
    o.version = state_version_[s];
    o.deleted = state_deleted_[s] != 0;
    const Slot* from = state_slots_.data() + s * columns_;
    out_slots_.insert(out_slots_.end(), from, from + columns_);
    outputs_.push_back(o);
  }
  step.last = outputs_.size();
  steps_.push_back(step);
  touched_.clear();
  ++segment_;
}

void ChangeMerger::merge(const ChangeBatch& batch, uint32_t table, const std::vector<uint32_t>& key,
                        bool every_key) {
  batch_ = &batch;
  columns_ = batch.tables[table].columns.size();
  key_ = key;
  state_count_ = 0;
  state_slots_.clear();
  state_hash_.clear();
  state_version_.clear();
  state_deleted_.clear();
  state_segment_.clear();
  if (index_.size() < kMinIndex) index_.resize(kMinIndex);
  std::fill(index_.begin(), index_.end(), 0);
  touched_.clear();
  segment_ = 1;
  outputs_.clear();
  out_slots_.clear();
  steps_.clear();
  lookups_.clear();
  skipped_ = 0;

  for (const RowChange& row : batch.rows) {
    if (row.table != table) continue;
    if (row.op == RowOp::Truncate) {
      close_segment();
      steps_.back().truncate = true;
      steps_.back().version = row.version;
      continue;
    }
    const Cell* cells = batch.cells.data() + row.first_cell;
    bool ok = true;
    int64_t moved_from = -1;
    if (row.old_key_cell != RowChange::kNoOldKey && !key_.empty()) {
      // The key changed: the row under the old key is deleted first (keeping its last
      // known values). When old and new key are the same destination key (the replica
      // identity is not the primary key), the upsert below overrides it.
      const Cell* old = batch.cells.data() + row.old_key_cell;
      uint32_t s = find_or_create(old, ok);
      if (ok) {
        apply(s, old, true, row.version);
        moved_from = s;
      } else {
        ++skipped_;
      }
    }
    uint32_t s = find_or_create(cells, ok);
    if (!ok) {
      ++skipped_;
      continue;
    }
    apply(s, cells, row.op == RowOp::Delete, row.version, moved_from);
  }
  close_segment();

  if (!key_.empty()) {
    lookup_flag_.assign(state_count_, 0);
    for (const Output& o : outputs_) {
      if (every_key && !lookup_flag_[o.state]) {
        lookup_flag_[o.state] = 1;
        lookups_.push_back(o.state);
      }
      const Slot* sl = slots(o);
      for (size_t j = 0; j < columns_; ++j) {
        if (sl[j].kind == SlotKind::Unknown && !lookup_flag_[sl[j].offset]) {
          lookup_flag_[sl[j].offset] = 1;
          lookups_.push_back(sl[j].offset);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// LookupRows

void LookupRows::reset(size_t states, const RowBinaryEncoder& encoder) {
  columns_ = encoder.columns();
  layouts_.clear();
  for (size_t j = 0; j < columns_; ++j) layouts_.push_back(encoder.layout(j));
  buffer_.clear();
  fields_.clear();
  versions_.clear();
  deleted_.clear();
  next_.clear();
  row_of_state_.assign(states, -1);
  first_of_state_.assign(states, -1);
}

std::string_view LookupRows::row_field(int32_t row, size_t column) const {
  const Field& f = fields_[static_cast<size_t>(row) * columns_ + column];
  return std::string_view(buffer_).substr(f.offset, f.size);
}

std::string_view LookupRows::field(uint32_t state, size_t column) const {
  const Field& f = fields_[static_cast<size_t>(row_of_state_[state]) * columns_ + column];
  return std::string_view(buffer_).substr(f.offset, f.size);
}

void LookupRows::add_answer(std::string_view answer) {
  size_t pos = buffer_.size();
  buffer_.append(answer);
  std::string_view all(buffer_);
  auto malformed = [&](const char* what) {
    throw permanent_error(std::string("unexpected answer from ClickHouse to a key lookup: ") + what);
  };
  constexpr size_t npos = std::string_view::npos;
  while (pos < all.size()) {
    uint32_t state = 0;
    if (all.size() - pos < sizeof state) malformed("a row cut off");
    std::memcpy(&state, all.data() + pos, sizeof state);
    if (state >= row_of_state_.size()) malformed("a bad key index");
    pos += sizeof state;
    const size_t row = versions_.size();
    for (size_t j = 0; j < columns_; ++j) {
      const size_t end = RowBinaryEncoder::field_end(layouts_[j], all, pos);
      if (end == npos) malformed("a row cut off");
      fields_.push_back(Field{pos, end - pos});
      pos = end;
    }
    uint64_t version = 0;
    if (all.size() - pos < sizeof version + 1) malformed("a row cut off");
    std::memcpy(&version, all.data() + pos, sizeof version);
    pos += sizeof version;
    const char del = all[pos++];
    if (del != 0 && del != 1) malformed("a bad _ferry_is_deleted");
    versions_.push_back(version);
    deleted_.push_back(static_cast<uint8_t>(del));
    next_.push_back(first_of_state_[state]);
    first_of_state_[state] = static_cast<int32_t>(row);
    int32_t& cur = row_of_state_[state];
    if (cur < 0 || version > versions_[cur] || (version == versions_[cur] && deleted_[cur] && del == 0))
      cur = static_cast<int32_t>(row);
  }
}

// ---------------------------------------------------------------------------------------
// Encoding

namespace {

// Appends the RowBinary field of slot `sl` of column `j` as encode_output writes it;
// returns whether its value was unknown (written as NULL or the default).
bool append_output_field(const ChangeBatch& batch, const Slot& sl, size_t j, const LookupRows* lookup,
                         RowBinaryEncoder& encoder, std::string& out) {
  switch (sl.kind) {
    case SlotKind::Value:
      encoder.encode_value(j, std::string_view(batch.arena).substr(sl.offset, sl.size), out);
      return false;
    case SlotKind::Null:
      encoder.encode_null(j, out);
      return false;
    case SlotKind::Unknown:
      if (lookup && lookup->found(sl.offset)) {
        out.append(lookup->field(sl.offset, j));
        return false;
      }
      encoder.append_default(j, out);
      return true;
  }
  return false;
}

}  // namespace

size_t encode_output(const ChangeBatch& batch, const ChangeMerger& merger, const ChangeMerger::Output& o,
                     const LookupRows* lookup, RowBinaryEncoder& encoder, std::string& out) {
  const Slot* sl = merger.slots(o);
  const size_t n = merger.columns();
  size_t unknown = 0;
  for (size_t j = 0; j < n; ++j) unknown += append_output_field(batch, sl[j], j, lookup, encoder, out) ? 1 : 0;
  RowBinaryEncoder::append_trailer(out, o.version, o.deleted);
  return unknown;
}

void encode_output_ordered(const ChangeBatch& batch, const ChangeMerger& merger, const ChangeMerger::Output& o,
                           const LookupRows& lookup, const std::vector<uint32_t>& order,
                           std::optional<uint64_t> truncated, RowBinaryEncoder& encoder, std::string& scratch,
                           std::string& out, OrderedCounts& counts) {
  if (lookup.found(o.state)) {
    if (lookup.version(o.state) > o.version) {
      ++counts.stale;
      return;
    }
    const Slot* sl = merger.slots(o);
    const size_t n = merger.columns();
    for (int32_t r = lookup.first_row(o.state); r >= 0; r = lookup.next_row(r)) {
      if (lookup.row_deleted(r) || (truncated && lookup.row_version(r) <= *truncated)) continue;
      // A live row of the key (there is rarely more than one): under o's tuple?
      bool same = true;
      for (size_t k = 0; k < order.size() && same; ++k) {
        scratch.clear();
        append_output_field(batch, sl[order[k]], order[k], &lookup, encoder, scratch);
        same = scratch == lookup.row_field(r, order[k]);
      }
      if (same) continue;
      for (size_t j = 0; j < n; ++j) out.append(lookup.row_field(r, j));
      RowBinaryEncoder::append_trailer(out, o.version, true);
      ++counts.soft_deletes;
      ++counts.rows;
    }
  }
  counts.unknown += encode_output(batch, merger, o, &lookup, encoder, out);
  ++counts.rows;
}

void append_lookup_key(const ChangeMerger& merger, uint32_t state,
                       const std::vector<uint32_t>& key, TsvEncoder& encoder, std::string& scratch, std::string& out) {
  append_uint(out, state);
  for (size_t k = 0; k < key.size(); ++k) {
    out.push_back('\t');
    const uint32_t j = key[k];
    std::string_view text = merger.key_text(state, k);
    if (encoder.column(j).codec == Codec::Array) {
      // An array field of TSV is not TSV-escaped (its elements are quoted literals):
      // as a String for CAST it needs one more level.
      scratch.clear();
      encoder.encode_value(j, text, scratch);
      append_tsv_escaped(out, scratch);
    } else {
      encoder.encode_value(j, text, out);
    }
  }
  out.push_back('\n');
}

std::string lookup_structure(size_t key_columns) {
  std::string s = "_ferry_i UInt32";
  for (size_t k = 0; k < key_columns; ++k) s += ", _ferry_k" + std::to_string(k) + " String";
  return s;
}

std::string lookup_sql(std::string_view database, std::string_view table, const std::vector<std::string>& columns,
                       const std::vector<std::string>& types, const std::vector<uint32_t>& key) {
  const std::string version = quote_backtick_ident(kVersionColumn);
  const std::string deleted = quote_backtick_ident(kIsDeletedColumn);
  std::string cols;
  for (const auto& c : columns) cols += quote_backtick_ident(c) + ", ";
  cols += version + ", " + deleted;

  std::string casts, left, using_list;
  for (size_t k = 0; k < key.size(); ++k) {
    std::string cast = "CAST(_ferry_k" + std::to_string(k) + " AS " + types[key[k]] + ")";
    std::string name = quote_backtick_ident(columns[key[k]]);
    casts += (k ? ", " : "") + cast;
    left += ", " + cast + " AS " + name;
    using_list += (k ? ", " : "") + name;
  }
  std::string key_tuple = key.size() == 1 ? using_list : "(" + using_list + ")";
  std::string keys(kLookupTable);
  return "SELECT _ferry_i, " + cols + " FROM (SELECT _ferry_i" + left + " FROM " + keys +
         ") ALL INNER JOIN (SELECT " + cols + " FROM " + qualified_name(database, table) + " FINAL WHERE " +
         key_tuple + " IN (SELECT " + casts + " FROM " + keys + ")) USING (" + using_list + ") FORMAT RowBinary";
}

std::string apply_insert_sql(std::string_view database, std::string_view table,
                             const std::vector<std::string>& columns, std::string_view format) {
  std::string sql = "INSERT INTO " + qualified_name(database, table) + " (";
  for (const auto& c : columns) sql += quote_backtick_ident(c) + ", ";
  sql += quote_backtick_ident(kVersionColumn) + ", " + quote_backtick_ident(kIsDeletedColumn) + ") FORMAT " + std::string(format);
  return sql;
}

namespace {

// INSERT INTO t (cols..., version, is_deleted) SELECT cols..., `version`, 1 FROM t FINAL
// WHERE live AND _ferry_version <op> `version`.
std::string soft_delete_live_sql(std::string_view database, std::string_view table,
                                 const std::vector<std::string>& columns, uint64_t version, std::string_view op) {
  std::string cols;
  for (const auto& c : columns) cols += quote_backtick_ident(c) + ", ";
  std::string v = std::to_string(version);
  std::string t = qualified_name(database, table);
  return "INSERT INTO " + t + " (" + cols + quote_backtick_ident(kVersionColumn) + ", " +
         quote_backtick_ident(kIsDeletedColumn) + ") SELECT " + cols + "toUInt64(" + v + "), toUInt8(1) FROM " + t +
         " FINAL WHERE " + quote_backtick_ident(kIsDeletedColumn) + " = 0 AND " + quote_backtick_ident(kVersionColumn) +
         " " + std::string(op) + " " + v;
}

}  // namespace

std::string truncate_sql(std::string_view database, std::string_view table, const std::vector<std::string>& columns,
                         uint64_t version) {
  return soft_delete_live_sql(database, table, columns, version, "<=");
}

std::string stale_rows_sql(std::string_view database, std::string_view table, const std::vector<std::string>& columns,
                           uint64_t version) {
  return soft_delete_live_sql(database, table, columns, version, "<");
}

}  // namespace ferry::clickhouse

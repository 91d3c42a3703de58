// Turns a source's change events into destination batches (pure logic, no I/O).
//
// It maps stream relations to the pipe's tables (dropping excluded columns and
// tables the pipe does not move), copies values into the batch arena, and
// tracks the position that is safe to checkpoint: the end of the last
// transaction whose every change is in the batch. A batch may be flushed in
// the middle of a transaction (bounded memory for huge transactions): the
// checkpoint then stays at the previous commit, and a replay re-applies the
// same versions, which is idempotent.
//
// Per row it does no name lookup: a stream relation resolves to its batch table
// once, and stays resolved until the stream's next Relation event for it (the
// ChangeStream contract keeps a StreamRelation, and so its address, stable
// until then). Not thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/api/change.h"
#include "connectors/api/change_stream.h"
#include "core/spec.h"

namespace ferry {

class ChangeBatcher {
 public:
  // `default_schema`: the schema of pipe tables named without one (Source::default_schema).
  explicit ChangeBatcher(const PipeSpec& pipe, std::string default_schema = "public");

  // The pipe table a stream relation belongs to, or nullptr.
  const TableMapping* mapping_for(const StreamRelation& relation) const;

  // True when `relation` (a Relation event) changes the column layout of a
  // table that already has rows in the batch: flush before calling add().
  bool layout_changes(const StreamRelation& relation) const;

  // Adds one event. Begin/Commit/Heartbeat/Row/Truncate/Relation.
  void add(const ChangeEvent& event);

  // Leaves the rows of these destination tables out of the batch (tables being
  // loaded or rebuilt): those already in it are removed in place (no copy of the
  // arena; their bytes stay in it until clear()), later ones are not added.
  // Adds to what earlier calls left out. Positions still advance over them.
  void leave_out(const std::set<std::string>& destinations);

  bool in_transaction() const { return in_transaction_; }
  // Position safe to checkpoint once the current batch is applied (0 = none yet).
  uint64_t safe_position() const { return safe_position_; }
  uint64_t last_version() const { return last_version_; }
  int64_t last_commit_time_ms() const { return last_commit_time_ms_; }

  size_t rows() const { return batch_.rows.size(); }
  bool full(long long batch_size) const {
    return static_cast<long long>(batch_.rows.size()) >= batch_size || batch_.arena.size() >= kMaxArenaBytes;
  }
  const ChangeBatch& batch() const { return batch_; }
  // After the destination applied the batch.
  void clear() { batch_.clear_rows(); }

  static constexpr size_t kMaxArenaBytes = size_t(256) << 20;

 private:
  static constexpr uint32_t kNoTable = UINT32_MAX;
  // What a stream relation maps to: its pipe table (nullptr: not moved) and, once
  // it had a row, its batch table.
  struct Resolved {
    const TableMapping* mapping = nullptr;
    uint32_t table = kNoTable;
  };
  Resolved& resolve(const StreamRelation& relation);
  // The batch table of a relation the pipe moves (resolve().mapping != nullptr).
  uint32_t table_of(const StreamRelation& relation, Resolved& resolved);
  uint32_t table_index(const StreamRelation& relation, const TableMapping& mapping);
  void drop_left_out_rows();
  void layout_from(const StreamRelation& relation, const TableMapping& mapping, ChangeTable& table,
                   std::vector<int>& source_to_batch) const;
  void append_cells(const std::vector<StreamValue>& values, const std::vector<int>& map, size_t width);

  const PipeSpec& pipe_;
  std::string default_schema_;
  ChangeBatch batch_;
  // Per batch table: for each stream column, its index in the batch layout or -1 (excluded).
  std::vector<std::vector<int>> column_maps_;
  std::map<std::string, uint32_t> table_by_source_;
  std::vector<char> table_left_out_;  // per batch table
  std::set<std::string> left_out_;    // destination table names
  std::unordered_map<const StreamRelation*, Resolved> resolved_;
  const StreamRelation* last_relation_ = nullptr;  // the most recent resolve(), to skip the hash lookup
  Resolved* last_resolved_ = nullptr;
  bool in_transaction_ = false;
  uint64_t safe_position_ = 0;
  uint64_t last_version_ = 0;
  int64_t last_commit_time_ms_ = 0;
  int64_t tx_commit_time_ms_ = 0;  // of the open transaction (its Begin), 0 when unknown
};

}  // namespace ferry

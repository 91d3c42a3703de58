// Turns a source's change events into destination batches (pure logic, no I/O).
//
// It maps stream relations to the pipe's tables (dropping excluded columns and
// tables the pipe does not move), copies values into the batch arena, and
// tracks the position that is safe to checkpoint: the end of the last
// transaction whose every change is in the batch. A batch may be flushed in
// the middle of a transaction (bounded memory for huge transactions): the
// checkpoint then stays at the previous commit, and a replay re-applies the
// same versions, which is idempotent.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "connectors/api/change.h"
#include "connectors/api/change_stream.h"
#include "core/spec.h"

namespace ferry {

class ChangeBatcher {
 public:
  explicit ChangeBatcher(const PipeSpec& pipe);

  // The pipe table a stream relation belongs to, or nullptr.
  const TableMapping* mapping_for(const StreamRelation& relation) const;

  // True when `relation` (a Relation event) changes the column layout of a
  // table that already has rows in the batch: flush before calling add().
  bool layout_changes(const StreamRelation& relation) const;

  // Adds one event. Begin/Commit/Heartbeat/Row/Truncate/Relation.
  void add(const ChangeEvent& event);

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
  uint32_t table_index(const StreamRelation& relation, const TableMapping& mapping);
  void layout_from(const StreamRelation& relation, const TableMapping& mapping, ChangeTable& table,
                   std::vector<int>& source_to_batch) const;
  void append_cells(const std::vector<StreamValue>& values, const std::vector<int>& map, size_t width);

  const PipeSpec& pipe_;
  ChangeBatch batch_;
  // Per batch table: for each stream column, its index in the batch layout or -1 (excluded).
  std::vector<std::vector<int>> column_maps_;
  std::map<std::string, uint32_t> table_by_source_;
  bool in_transaction_ = false;
  uint64_t safe_position_ = 0;
  uint64_t last_version_ = 0;
  int64_t last_commit_time_ms_ = 0;
};

// A copy of `batch` without the rows of the destination tables named in `drop`
// (table layouts kept, so row table indexes stay valid).
ChangeBatch batch_without_tables(const ChangeBatch& batch, const std::set<std::string>& drop);

}  // namespace ferry

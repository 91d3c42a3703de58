// Applying a ChangeBatch to a ClickHouse ReplacingMergeTree table: the pure parts
// (no I/O), used by ClickHouseDestination::apply_changes. ChangeMerger keeps the latest
// row per key of a batch (the last change to a key wins, deletes are soft, Unchanged and
// Absent cells are filled from earlier rows or looked up), truncates split a batch into
// segments, and rows are written in RowBinary. The algorithm, with the ORDER BY subtleties,
// is described in docs/clickhouse-apply.md.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/api/change.h"
#include "connectors/clickhouse/rowbinary_encoder.h"
#include "connectors/clickhouse/tsv_encoder.h"
#include "connectors/clickhouse/type_map.h"

namespace ferry::clickhouse {

enum class SlotKind : uint8_t {
  Unknown,  // not known from the batch: from the ClickHouse row of state `offset` (the
            // key itself, or the old key of a row whose key changed), else NULL / default
  Null,
  Value,    // batch text at offset/size of the batch arena
};

struct Slot {
  uint32_t offset = 0;
  uint32_t size = 0;
  SlotKind kind = SlotKind::Unknown;
};

class ChangeMerger {
 public:
  // One row to write.
  struct Output {
    uint32_t state = 0;   // the key's state (index for LookupRows)
    uint32_t slots = 0;   // columns() slots from here in slots()
    uint64_t version = 0;
    bool deleted = false;
  };
  // Segments in order: write outputs [first, last), then (if truncate) soft-delete
  // every live row of the table with `version`.
  struct Step {
    size_t first = 0;
    size_t last = 0;
    bool truncate = false;
    uint64_t version = 0;
  };

  // Merges the rows of batch table `table`. `key`: indexes of the destination key
  // columns in the batch layout (empty: the table has no key, every change is appended).
  // Buffers are kept between calls (no allocation once they have grown).
  // `every_key`: look up every key that has a row to write, not only the ones with
  // unknown cells (tables whose ORDER BY has columns besides the key).
  void merge(const ChangeBatch& batch, uint32_t table, const std::vector<uint32_t>& key, bool every_key = false);

  size_t columns() const { return columns_; }
  const std::vector<Step>& steps() const { return steps_; }
  const std::vector<Output>& outputs() const { return outputs_; }
  const Slot* slots(const Output& o) const { return out_slots_.data() + o.slots; }
  size_t states() const { return state_count_; }
  // States whose ClickHouse rows written rows need (Unknown cells; with every_key, every
  // state that has a row to write): to be looked up.
  const std::vector<uint32_t>& lookups() const { return lookups_; }
  // Text of key column `k` (index into `key`) of a state.
  std::string_view key_text(uint32_t state, size_t k) const;
  // Rows that could not be applied by key: a key cell that was not a value.
  size_t skipped_rows() const { return skipped_; }

 private:
  uint32_t find_or_create(const Cell* cells, bool& ok);
  // `inherit`: where Unchanged cells come from (a moved row's old key), else kept.
  void apply(uint32_t state, const Cell* cells, bool deleted, uint64_t version, int64_t inherit = -1);
  void close_segment();
  uint64_t hash_key(const Cell* cells) const;
  void grow_index();

  const ChangeBatch* batch_ = nullptr;
  size_t columns_ = 0;
  std::vector<uint32_t> key_;
  size_t state_count_ = 0;
  std::vector<Slot> state_slots_;      // columns_ per state
  std::vector<uint64_t> state_hash_;
  std::vector<uint64_t> state_version_;
  std::vector<uint8_t> state_deleted_;
  std::vector<uint32_t> state_segment_;  // segment (+1) in which the state was last touched
  std::vector<uint32_t> index_;          // open addressing: state + 1, 0 = empty
  std::vector<uint32_t> touched_;        // states touched in the current segment, in order
  uint32_t segment_ = 0;
  std::vector<Output> outputs_;
  std::vector<Slot> out_slots_;
  std::vector<Step> steps_;
  std::vector<uint32_t> lookups_;
  std::vector<uint8_t> lookup_flag_;
  size_t skipped_ = 0;
};

// Rows looked up in ClickHouse, by state. An answer is RowBinary rows of
//   state (UInt32), column 0 ... column n-1, _ferry_version (UInt64), _ferry_is_deleted (UInt8)
// with the columns of the layouts of the encoder given to reset(); fields are kept as their
// RowBinary bytes (with the Nullable flag). A key may have several rows (a user order_by with
// non-key columns: one per ORDER BY tuple it was written under); the one with the highest
// version is the key's row (found/field/version), a live one on a tie. All of them can be
// walked with first_row/next_row.
class LookupRows {
 public:
  // `encoder`: the columns' types (only its layouts are read, and only during reset).
  void reset(size_t states, const RowBinaryEncoder& encoder);
  // Parses one answer (copied). Throws Permanent when malformed or cut off.
  void add_answer(std::string_view answer);
  bool found(uint32_t state) const { return row_of_state_[state] >= 0; }
  // RowBinary field of column `column` of the row found for `state`.
  std::string_view field(uint32_t state, size_t column) const;
  // Version of the row found for `state` (the highest version of the key's rows).
  uint64_t version(uint32_t state) const { return versions_[static_cast<size_t>(row_of_state_[state])]; }
  size_t rows() const { return versions_.size(); }

  // Every row of a state: for (int32_t r = first_row(s); r >= 0; r = next_row(r)).
  int32_t first_row(uint32_t state) const { return first_of_state_[state]; }
  int32_t next_row(int32_t row) const { return next_[static_cast<size_t>(row)]; }
  uint64_t row_version(int32_t row) const { return versions_[static_cast<size_t>(row)]; }
  bool row_deleted(int32_t row) const { return deleted_[static_cast<size_t>(row)] != 0; }
  std::string_view row_field(int32_t row, size_t column) const;

 private:
  struct Field {
    size_t offset = 0;
    size_t size = 0;
  };
  size_t columns_ = 0;
  std::vector<RowBinaryEncoder::Layout> layouts_;
  std::string buffer_;          // the answers
  std::vector<Field> fields_;   // columns_ per row, into buffer_
  std::vector<uint64_t> versions_;
  std::vector<uint8_t> deleted_;
  std::vector<int32_t> next_;            // per row: the state's previous row, -1 = none
  std::vector<int32_t> row_of_state_;    // the key's row (highest version, live on a tie)
  std::vector<int32_t> first_of_state_;  // the state's last row in the answers
};

// Appends one RowBinary row for `o`: its columns, then _ferry_version and _ferry_is_deleted.
// Unknown cells come from `lookup`, else are NULL (Nullable) or the type's default;
// returns how many were left unknown that way.
size_t encode_output(const ChangeBatch& batch, const ChangeMerger& merger, const ChangeMerger::Output& o,
                     const LookupRows* lookup, RowBinaryEncoder& encoder, std::string& out);

// What encode_output_ordered did, summed over calls.
struct OrderedCounts {
  size_t rows = 0;          // rows appended: written outputs and soft deletes
  size_t soft_deletes = 0;  // soft deletes of stored rows under another ORDER BY tuple
  size_t stale = 0;         // outputs not written: ClickHouse holds a newer row of the key
  size_t unknown = 0;       // cells left unknown (as encode_output counts them)
};

// For a table whose ORDER BY has columns besides the key (`order`: their batch column
// indexes) and a batch whose keys were all looked up (merge with every_key), appends for
// output `o`:
//  - nothing, when ClickHouse holds a row of the key newer than o (a replay of an older
//    batch, maybe cut differently): o would lose under a tuple the key had, but under one
//    it never had at that version it would become a second live row;
//  - for each live stored row of the key under another ORDER BY tuple than o's, unless a
//    truncate earlier in the batch already soft-deleted it (its version <= `truncated`):
//    that row with its stored values, _ferry_is_deleted = 1 and o's version;
//  - then o, as encode_output writes it.
// After it, the key has no live row under any tuple but o's: when o is live, exactly one.
// A soft delete goes before o in the same stream: ClickHouse commits blocks in order, so
// an interrupted INSERT leaves the key without its live row until the replay (never with
// two). Tuples are compared by their RowBinary bytes: never equal for different values;
// different for a few equal ones (0 and -0), where o, written later with the same version
// under what ClickHouse takes for the same tuple, wins over the soft delete.
void encode_output_ordered(const ChangeBatch& batch, const ChangeMerger& merger, const ChangeMerger::Output& o,
                           const LookupRows& lookup, const std::vector<uint32_t>& order,
                           std::optional<uint64_t> truncated, RowBinaryEncoder& encoder, std::string& scratch,
                           std::string& out, OrderedCounts& counts);

// Appends the external-table row for looking up `state`: "state \t key0 \t key1\n", each
// key as the TSV field of a String that CAST(... AS <column type>) parses (TsvEncoder).
void append_lookup_key(const ChangeMerger& merger, uint32_t state,
                       const std::vector<uint32_t>& key, TsvEncoder& encoder, std::string& scratch, std::string& out);

// Name and structure of the external table append_lookup_key rows are sent as.
inline constexpr std::string_view kLookupTable = "_ferry_keys";
std::string lookup_structure(size_t key_columns);

// SELECT state, columns..., _ferry_version, _ferry_is_deleted of the rows of `db`.`table`
// (FINAL) whose key is in the external table, FORMAT RowBinary. `types`: ClickHouse type of each column.
std::string lookup_sql(std::string_view database, std::string_view table, const std::vector<std::string>& columns,
                       const std::vector<std::string>& types, const std::vector<uint32_t>& key);

// INSERT INTO `db`.`t` (columns..., _ferry_version, _ferry_is_deleted) FORMAT <format>
std::string apply_insert_sql(std::string_view database, std::string_view table,
                             const std::vector<std::string>& columns, std::string_view format = "TabSeparated");

// Soft-deletes every live row (not newer than `version`) of the table with `version`:
// INSERT INTO t (cols..., _ferry_version, _ferry_is_deleted) SELECT cols..., version, 1
// FROM t FINAL WHERE _ferry_is_deleted = 0 AND _ferry_version <= version.
// `columns`: every non-_ferry_ column of the ClickHouse table.
std::string truncate_sql(std::string_view database, std::string_view table, const std::vector<std::string>& columns,
                         uint64_t version);

// After a full load whose rows all carry versions >= `version`: soft-deletes (with
// `version`) every live row older than it, i.e. keys the load did not have.
// INSERT ... SELECT ... FROM t FINAL WHERE _ferry_is_deleted = 0 AND _ferry_version < version.
std::string stale_rows_sql(std::string_view database, std::string_view table, const std::vector<std::string>& columns,
                           uint64_t version);

}  // namespace ferry::clickhouse

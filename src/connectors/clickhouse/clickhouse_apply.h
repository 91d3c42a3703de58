// Applying a ChangeBatch to a ClickHouse ReplacingMergeTree table: the pure parts
// (no I/O), used by ClickHouseDestination::apply_changes.
//
// For one table of a batch, ChangeMerger walks the rows in batch order and keeps the
// latest known row per key (the destination's key: the source's primary key):
//  - an upsert sets the cells it carries; a delete does the same and marks the row
//    deleted (soft delete: the row keeps its full last known values);
//  - Unchanged (unchanged TOAST) and Absent (a delete's or an old key's non-key columns)
//    cells keep what is known: from earlier rows of the batch, else "unknown", to be
//    looked up in ClickHouse (LookupRows) before anything is written;
//  - an update that changed the key first deletes the row under the old key (with its
//    last known values), then upserts the new key; the new row's Unchanged cells come
//    from the old key's row (PostgreSQL sends unchanged TOAST even when the key moved);
//  - a truncate ends a segment: the rows of the segment are written, then every live row
//    of the table is soft-deleted (truncate_sql), then the next segment follows.
// Within a segment each key is written once, with the last change's version and values
// (the last change to a key wins; versions only grow in a batch).
//
// Values of the batch are the source's canonical text (unescaped) and are converted with
// TsvEncoder::encode_value; values looked up in ClickHouse are its own TSV renderings and
// are written back unchanged (lossless round trip), except `nan` array elements, which
// 18.16 cannot read back (see append_clickhouse_field).
//
// Tables without a key (MergeTree, nothing to deduplicate by) get every change appended
// as a row of its own; their unknown cells stay unknown.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/change.h"
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
  void merge(const ChangeBatch& batch, uint32_t table, const std::vector<uint32_t>& key);

  size_t columns() const { return columns_; }
  const std::vector<Step>& steps() const { return steps_; }
  const std::vector<Output>& outputs() const { return outputs_; }
  const Slot* slots(const Output& o) const { return out_slots_.data() + o.slots; }
  size_t states() const { return state_count_; }
  // States whose ClickHouse rows written rows need (Unknown cells): to be looked up.
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

// Rows looked up in ClickHouse, by state. Each answer line is
//   state \t column 0 \t ... \t column n-1 \t _ferry_version \t _ferry_is_deleted
// with the columns as raw TSV fields. A key may have several rows (a user order_by with
// non-key columns); the one with the highest version wins, a live one on a tie.
class LookupRows {
 public:
  void reset(size_t states, size_t columns);
  // Parses one answer (copied). Throws Permanent when malformed.
  void add_answer(std::string_view answer);
  bool found(uint32_t state) const { return row_of_state_[state] >= 0; }
  // Raw TSV field of column `column` of the row found for `state`.
  std::string_view field(uint32_t state, size_t column) const;
  size_t rows() const { return versions_.size(); }

 private:
  struct Field {
    size_t offset = 0;
    size_t size = 0;
  };
  size_t columns_ = 0;
  std::string buffer_;          // the answers
  std::vector<Field> fields_;   // columns_ per row, into buffer_
  std::vector<uint64_t> versions_;
  std::vector<uint8_t> deleted_;
  std::vector<int32_t> row_of_state_;
};

// Appends a TSV field read from ClickHouse so that ClickHouse reads it back as the same
// value: unchanged, except that `nan` elements of a float array become `-nan` (18.16
// writes [nan] but reads "[n" as the start of NULL).
void append_clickhouse_field(const ClickHouseColumn& column, std::string_view field, std::string& out);

// Appends one TSV row for `o`: its columns, then _ferry_version and _ferry_is_deleted.
// Unknown cells come from `lookup`, else are NULL (Nullable) or the type's default;
// returns how many were left unknown that way.
size_t encode_output(const ChangeBatch& batch, const ChangeMerger& merger, const ChangeMerger::Output& o,
                     const LookupRows* lookup, TsvEncoder& encoder, std::string& out);

// Appends the external-table row for looking up `state`: "state \t key0 \t key1\n", each
// key as the TSV field of a String that CAST(... AS <column type>) parses.
void append_lookup_key(const ChangeMerger& merger, uint32_t state,
                       const std::vector<uint32_t>& key, TsvEncoder& encoder, std::string& scratch, std::string& out);

// Name and structure of the external table append_lookup_key rows are sent as.
inline constexpr std::string_view kLookupTable = "_ferry_keys";
std::string lookup_structure(size_t key_columns);

// SELECT state, columns..., _ferry_version, _ferry_is_deleted of the rows of `db`.`table`
// (FINAL) whose key is in the external table. `types`: ClickHouse type of each column.
std::string lookup_sql(std::string_view database, std::string_view table, const std::vector<std::string>& columns,
                       const std::vector<std::string>& types, const std::vector<uint32_t>& key);

// INSERT INTO `db`.`t` (columns..., _ferry_version, _ferry_is_deleted) FORMAT TabSeparated
std::string apply_insert_sql(std::string_view database, std::string_view table,
                             const std::vector<std::string>& columns);

// Soft-deletes every live row (not newer than `version`) of the table with `version`:
// INSERT INTO t (cols..., _ferry_version, _ferry_is_deleted) SELECT cols..., version, 1
// FROM t FINAL WHERE _ferry_is_deleted = 0 AND _ferry_version <= version.
// `columns`: every non-_ferry_ column of the ClickHouse table.
std::string truncate_sql(std::string_view database, std::string_view table, const std::vector<std::string>& columns,
                         uint64_t version);

}  // namespace ferry::clickhouse

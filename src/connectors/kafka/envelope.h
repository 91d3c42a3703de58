// The JSON of ferry's Kafka messages (README "Kafka destination" documents it; keep it stable).
//
//   key:   {"<key column>":"<value>", ...}           the row's primary key, in key order
//   value: {"before":{..}|null,"after":{..}|null,"op":"c|u|d|r|t",
//           "source":{"table":"<schema.table>","position":"<decimal>","commit_time_ms":<ms>|null,
//                     "snapshot":true|false},
//           "ts_ms":<ms>}
//
// Values are the source's canonical text as JSON strings (lossless: numbers, floats and
// dates keep their exact rendering), SQL NULL is null. A column missing from `after` was not
// sent by the source (PostgreSQL unchanged TOAST) and keeps its previous value; `before` holds
// what the source sent for a delete (the key, or the whole row under REPLICA IDENTITY FULL /
// binlog row images). `position` is the commit position (the row version) as a decimal string:
// replays after a crash carry the same position. Pure functions; no librdkafka.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/api/change.h"

namespace ferry::kafka {

// One row's cells: columns.size() cells at `cells`, their text in `arena`.
struct RowCells {
  const std::vector<std::string>* columns = nullptr;
  const Cell* cells = nullptr;
  std::string_view arena;
};

struct EnvelopeSource {
  std::string_view table;      // "schema.table" as the source names it
  uint64_t position = 0;
  int64_t commit_time_ms = 0;  // 0: unknown (null)
  bool snapshot = false;
};

// Appends `s` as a JSON string (quotes, escapes for " \ and control characters).
void append_json_string(std::string& out, std::string_view s);

// The message key: the key columns (indexes into columns) with their values.
void encode_key(std::string& out, const RowCells& row, const std::vector<uint32_t>& key);

// The message value. `op`: 'c' insert, 'u' update (or an upsert of unknown kind), 'd' delete,
// 'r' snapshot read, 't' truncate. `before`/`after` null when their cells are nullptr.
void encode_envelope(std::string& out, char op, const RowCells* before, const RowCells* after,
                     const EnvelopeSource& source, int64_t ts_ms);

// The source.position of an envelope this module encoded; nullopt when there is none.
// (The last "position" member: source comes after before/after, whose columns may have any name.)
std::optional<uint64_t> envelope_position(std::string_view value);

}  // namespace ferry::kafka

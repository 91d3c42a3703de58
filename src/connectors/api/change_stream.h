// ChangeStream: a source's committed changes (CDC) as events in commit order. The
// source translates its wire format (pgoutput, binlog) into these; the runner batches
// them for the destination and checkpoints commit positions.
//
// Thread safety: one thread at a time (the runner's stream thread).
// Lifetimes: an event's values (string_views) and relation pointers are valid until
// the next call to next(); a StreamRelation stays valid until a Relation event for the
// same table replaces it or the stream is destroyed. The stream must not outlive the
// Source that opened it.
// Delivery: a stream never reconnects; a Transient error ends it and the runner opens a
// new one from its checkpoint, so changes after the checkpoint can arrive twice (at
// least once; destinations apply idempotently). Within a stream versions never
// decrease and a transaction's rows lie between its Begin and its Commit.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/api/change.h"

namespace ferry {

struct StreamValue {
  CellState state = CellState::Null;
  std::string_view text;  // valid until the next call to ChangeStream::next
};

// A source table as the stream describes it. Stable until the stream
// reports a new Relation event for the same table.
struct StreamRelation {
  std::string schema;
  std::string name;
  std::vector<std::string> columns;
  std::vector<bool> key;  // per column: part of the replica identity
};

struct ChangeEvent {
  enum class Kind { Begin, Relation, Row, Truncate, Commit, Heartbeat };
  Kind kind = Kind::Heartbeat;
  uint64_t version = 0;         // Begin, Row, Truncate, Commit: the transaction's commit position
  uint64_t position = 0;        // Commit: position to checkpoint after it; Heartbeat: safe position when idle
  int64_t commit_time_ms = 0;   // Begin, Commit
  const StreamRelation* relation = nullptr;       // Relation, Row
  std::vector<const StreamRelation*> truncated;   // Truncate
  RowOp op = RowOp::Upsert;                       // Row
  bool inserted = false;                          // Row, Upsert: an insert (not an update)
  std::vector<StreamValue> values;                // Row: new values (upsert) or old values (delete)
  std::vector<StreamValue> old_key;               // Row: old key of an update that changed it (else empty)
};

class ChangeStream {
 public:
  virtual ~ChangeStream() = default;
  // Fills `event` with the next event; returns false when nothing arrived
  // within `timeout`. Throws ferry::Error (Transient when the connection
  // broke, SourceLost when the stream cannot be resumed).
  virtual bool next(ChangeEvent& event, std::chrono::milliseconds timeout) = 0;
  // Tells the source that everything up to `position` is durably applied. The
  // stream confirms nothing else: not even its start position until told.
  virtual void acknowledge(uint64_t position) = 0;
  // Asks the source to report its current position soon (a Heartbeat event),
  // for readers that must know when they have seen everything up to a point.
  virtual void request_heartbeat() {}
};

}  // namespace ferry

// A pipe's change stream from a MariaDB / MySQL binlog (ROW format), as ferry's
// source-neutral ChangeEvents (connectors/api/change_stream.h).
//
// Reads the binlog from a position over the replication protocol (BinlogClient) and
// keeps only the pipe's tables ("db.table", exact names):
//   GTID / BEGIN ... XID (or COMMIT for non-transactional engines)
//     -> Begin, [Relation], Row..., Commit   (only transactions touching a pipe table)
//   WRITE -> Upsert(after); UPDATE -> Upsert(after), plus old_key when the key changed;
//   DELETE -> Delete(before). Columns missing from a MINIMAL image are Unchanged
//   (after) or Absent (before); an update's key always comes from its before image.
//   A Relation precedes a table's first row, and again whenever its TABLE_MAP brings a
//   different layout (ALTER TABLE ADD COLUMN). Columns come from binlog_row_metadata=FULL
//   (else from information_schema), keys from its PRIMARY_KEY fields (else likewise).
//   TRUNCATE of a pipe table -> Begin, Truncate, Commit.
//   DDL after which the destination no longer matches (binlog_ddl.h) throws Permanent,
//   naming the statement; a resync rebuilds the pipe.
// Versions: rows of a transaction carry the position after its GTID event (the binlog
// holds transactions whole and in commit order, so this lies between the previous
// commit and this one's); Commit carries version = position = the position after its
// commit event, the point to resume from. Heartbeat (safe position) when idle.
//
// Lifetimes: a Row's values point into buffers the stream reuses: valid until the next
// call to next(). Relation pointers stay valid for the stream's life.
//
// acknowledge() tells the server nothing: MariaDB has no replication slots, a pipe's
// position lives in ferry's catalog only (and the server may purge binlogs meanwhile:
// then the stream is SourceLost, naming the missing position).
//
// Errors (from next()): Transient when the connection broke (server restart, killed
// connection; reopen from the checkpoint), SourceLost when the start's binlog file is
// gone, Permanent for breaking DDL or undecodable events. Not thread-safe.
#pragma once
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/api/change_stream.h"
#include "connectors/mysql/binlog_admin.h"
#include "connectors/mysql/binlog_client.h"
#include "connectors/mysql/binlog_rows.h"

namespace ferry::mysql {

struct MysqlStreamOptions {
  uint32_t server_id = 0;  // replica_server_id() of the pipe
  // The server sends a heartbeat after this long without events: next() waits at most
  // about this much longer than its timeout.
  std::chrono::milliseconds heartbeat{250};
  // Where acknowledge() records the position (the source's lag figure reads it); may be null.
  std::shared_ptr<std::atomic<uint64_t>> acknowledged;
};

class MysqlChangeStream final : public ChangeStream {
 public:
  // Streams the changes committed after `start` (a commit boundary: a checkpoint or a
  // current_position()) to `tables`. Throws like BinlogClient's constructor.
  MysqlChangeStream(const MysqlEndpoint& endpoint, const BinlogPosition& start, std::vector<std::string> tables,
                    const MysqlStreamOptions& options);
  ~MysqlChangeStream() override;

  bool next(ChangeEvent& event, std::chrono::milliseconds timeout) override;
  // Records the position for the lag figure; tells the server nothing (no slots there).
  void acknowledge(uint64_t position) override {
    if (acknowledged_) acknowledged_->store(position);
  }
  void request_heartbeat() override { heartbeat_requested_ = true; }

  // The position after the last binlog event read.
  const BinlogPosition& position() const { return client_.position(); }

 private:
  struct Table;
  void on_table_map(const TableMapEvent& e);
  void on_rows(const RowsEvent& e);
  void on_query(const Query& q, uint32_t timestamp);
  void start_transaction(uint32_t timestamp);
  void end_transaction(uint32_t timestamp);
  void queue_begin();
  bool emit_row(ChangeEvent& event);
  void describe_from_catalog(Table& t);
  void set_relation(Table& t);
  StreamRelation* new_relation(const std::string& table);

  BinlogClient client_;
  std::shared_ptr<std::atomic<uint64_t>> acknowledged_;
  BinlogAdmin admin_;  // information_schema, only when the binlog lacks names or keys
  std::set<std::string, std::less<>> tables_;
  std::vector<std::string> table_list_;
  std::unordered_map<uint64_t, std::unique_ptr<Table>> by_id_;
  // Every layout met, kept for the stream's life (few); per table the latest and the last sent.
  std::vector<std::unique_ptr<StreamRelation>> relations_;
  std::map<std::string, const StreamRelation*> latest_, sent_;

  std::vector<ChangeEvent> queued_;  // Begin / Relation / Truncate / Commit before the rows
  size_t queued_next_ = 0;
  std::vector<RowChange> rows_;      // the current ROWS event's rows (buffers reused)
  size_t row_count_ = 0, row_next_ = 0;
  Table* rows_table_ = nullptr;

  bool in_transaction_ = false;  // inside an event group (any table)
  bool begun_ = false;           // a Begin was sent for it
  uint64_t tx_version_ = 0;
  int64_t tx_time_ms_ = 0;
  uint64_t reported_ = 0;        // highest position sent (Commit or Heartbeat)
  bool heartbeat_requested_ = false;
  bool heartbeat_due_ = false;  // a next() timed out inside the current transaction
  std::string scratch_;
};

}  // namespace ferry::mysql
